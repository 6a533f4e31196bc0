// The CUDA backend: allocation, transfers, launch, progress; nothing else. The
// numerics are kernels/dfn_protocol.hpp, launched by kernels/cuda/protocol_kernels.cuh
// (compiled once per register cap).
// A batch too large for the device runs in chunks (host/gpu_plan.hpp); a chunk
// whose allocation fails with cudaErrorMemoryAllocation is halved and retried.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "host/cuda/cuda_api.hpp"
#include "host/cuda/cuda_check.cuh"
#include "host/cuda/cuda_reduce.cuh"
#include "host/gpu_plan.hpp"
#include "kernels/cuda/launch.cuh"

namespace strata {

namespace {

// Device buffers of one chunk; freed on scope exit (errors while unwinding are ignored
// there only: the error that caused the unwinding is the one reported).
struct DeviceBuffer {
  void* p = nullptr;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }
  void release() {
    if (p) cudaFree(p);
    p = nullptr;
  }
  template <class T>
  T* as() const { return static_cast<T*>(p); }
};

struct PinnedCounter {
  unsigned int* host = nullptr;
  unsigned int* device = nullptr;
  ~PinnedCounter() {
    if (host) cudaFreeHost(host);
  }
};

struct Stream {
  cudaStream_t s = nullptr;
  ~Stream() {
    if (s) cudaStreamDestroy(s);
  }
};

struct Event {
  cudaEvent_t e = nullptr;
  ~Event() {
    if (e) cudaEventDestroy(e);
  }
};

// cudaMalloc that reports an out-of-memory condition instead of throwing.
bool try_alloc(DeviceBuffer& b, size_t bytes, const std::string& context) {
  const cudaError_t e = cudaMalloc(&b.p, std::max<size_t>(bytes, 8));
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error state
    b.p = nullptr;
    return false;
  }
  STRATA_CUDA_CHECK_RESULT(e, "cudaMalloc", context);
  return true;
}

std::string chunk_context(const CudaBatchInput& in, long chunk_index, long first, long count) {
  return "batch '" + in.label + "' (" + std::to_string(in.n_variants) + " variants), chunk " +
         std::to_string(chunk_index) + " (variants " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
         ")";
}

}  // namespace

CudaRunReport run_protocol_cuda(const CudaBatchInput& in, const CudaRunOptions& opt,
                                const std::function<void(int)>& progress, const std::function<bool()>& cancelled) {
  CudaRunReport rep;
  const auto t0 = std::chrono::steady_clock::now();
  const long N = in.n_variants;
  if (N <= 0) return rep;
  const std::string batch_ctx = "batch '" + in.label + "' (" + std::to_string(N) + " variants)";
  const long rs = in.shape.record_size, os = std::max<long>(in.out_record_size, 1);
  const long status_offset = in.shape.o_misc + kMiscStatus;

  // Shared, read-only: tables and protocol steps.
  DeviceBuffer d_tables, d_steps;
  const size_t table_bytes = std::max<size_t>(in.table_doubles, 1) * sizeof(double);
  const size_t step_bytes = std::max(in.n_steps, 1) * sizeof(ProtocolStep);
  STRATA_CUDA_CHECK(cudaMalloc(&d_tables.p, table_bytes), batch_ctx + ", shared tables");
  STRATA_CUDA_CHECK(cudaMalloc(&d_steps.p, step_bytes), batch_ctx + ", protocol steps");
  STRATA_CUDA_CHECK(cudaMemcpy(d_tables.p, in.table_data, in.table_doubles * sizeof(double), cudaMemcpyHostToDevice),
                    batch_ctx + ", shared tables");
  STRATA_CUDA_CHECK(cudaMemcpy(d_steps.p, in.steps, in.n_steps * sizeof(ProtocolStep), cudaMemcpyHostToDevice),
                    batch_ctx + ", protocol steps");
  SharedTables tables = in.tables;
  tables.data = d_tables.as<double>();

  PinnedCounter counter;
  STRATA_CUDA_CHECK(cudaHostAlloc(&counter.host, sizeof(unsigned int), cudaHostAllocMapped), batch_ctx + ", progress counter");
  STRATA_CUDA_CHECK(cudaHostGetDevicePointer(&counter.device, counter.host, 0), batch_ctx + ", progress counter");
  Stream stream;
  STRATA_CUDA_CHECK(cudaStreamCreate(&stream.s), batch_ctx);
  Event ev0, ev1;
  STRATA_CUDA_CHECK(cudaEventCreate(&ev0.e), batch_ctx);
  STRATA_CUDA_CHECK(cudaEventCreate(&ev1.e), batch_ctx);

  // The mapping (host/gpu_plan.hpp). The warp mapping works on blocked records with
  // the PCR scratch (S_team), staged beside the interleaved ones.
  int device = 0, sm_count = 1;
  STRATA_CUDA_CHECK(cudaGetDevice(&device), batch_ctx);
  STRATA_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device), batch_ctx);
  const GpuMapping mapping = parse_mapping_request(opt.mapping, N, sm_count);
  const bool warps = mapping == GpuMapping::WarpPerVariant;
  rep.mapping = mapping_name(mapping);
  const PassUnit unit = parse_pass_request(opt.pass, mapping);
  rep.pass = pass_unit_name(unit);
  const DfnShape S_team = with_team_scratch(in.shape);
  const long rs_team = S_team.record_size;

  size_t free_b = 0, total_b = 0;
  STRATA_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b), batch_ctx);
  const size_t per_variant = (size_t)(rs + os + (warps ? rs_team + os : 0)) * sizeof(double);
  const ChunkPlan plan = plan_chunks(N, per_variant, 0, free_b, opt.max_chunk);
  long chunk = plan.chunk_variants;

  DeviceBuffer d_rec, d_out, d_rec_team, d_out_team;
  long capacity = 0;  // variants the buffers hold
  long first = 0, chunk_index = 0;
  while (first < N) {
    if (cancelled && cancelled()) break;
    const long m = std::min(chunk, N - first);
    std::string ctx = chunk_context(in, chunk_index, first, m);
    if (m > capacity) {
      for (DeviceBuffer* b : {&d_rec, &d_out, &d_rec_team, &d_out_team}) b->release();
      capacity = 0;
      if (!try_alloc(d_rec, (size_t)m * rs * sizeof(double), ctx + ", records") ||
          !try_alloc(d_out, (size_t)m * os * sizeof(double), ctx + ", outputs") ||
          (warps && (!try_alloc(d_rec_team, (size_t)m * rs_team * sizeof(double), ctx + ", blocked records") ||
                     !try_alloc(d_out_team, (size_t)m * os * sizeof(double), ctx + ", blocked outputs")))) {
        for (DeviceBuffer* b : {&d_rec, &d_out, &d_rec_team, &d_out_team}) b->release();
        chunk = halve_chunk(chunk);
        ++rep.oom_retries;
        if (chunk < 1)
          throw CudaError(cudaErrorMemoryAllocation, "CUDA out of memory for a single variant; " + ctx);
        continue;
      }
      capacity = m;
    }
    // Gather the chunk's columns of the interleaved batch (pitch N) into a chunk of pitch m.
    STRATA_CUDA_CHECK(cudaMemcpy2DAsync(d_rec.p, m * sizeof(double), in.records + first, N * sizeof(double),
                                        m * sizeof(double), rs, cudaMemcpyHostToDevice, stream.s),
                      ctx + ", records to device");
    // Outputs and the team scratch are not all written for every variant (a failed
    // variant stops early): start them from zeros, not from the last chunk's bytes, so
    // a variant's results do not depend on the chunking.
    STRATA_CUDA_CHECK(cudaMemsetAsync(d_out.p, 0, (size_t)m * os * sizeof(double), stream.s), ctx + ", outputs");
    if (warps) {
      STRATA_CUDA_CHECK(cudaMemsetAsync(d_rec_team.p, 0, (size_t)m * rs_team * sizeof(double), stream.s),
                        ctx + ", blocked records");
      STRATA_CUDA_CHECK(cudaMemsetAsync(d_out_team.p, 0, (size_t)m * os * sizeof(double), stream.s),
                        ctx + ", blocked outputs");
    }
    const int regs = opt.max_registers > 0 ? opt.max_registers : choose_register_cap(m, sm_count, mapping);
    rep.max_registers = regs;
    *counter.host = 0;
    STRATA_CUDA_CHECK(cudaEventRecord(ev0.e, stream.s), ctx);
    if (warps) {
      launch_transpose(d_rec.as<double>(), d_rec_team.as<double>(), (int)m, rs, rs_team, true, stream.s);
      STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of transpose_records (to blocked)");
      launch_run_protocol_warps(S_team, tables, d_rec_team.as<double>(), d_out_team.as<double>(), os, (int)m,
                                d_steps.as<ProtocolStep>(), in.n_steps, counter.device, opt.block_size, regs,
                                stream.s);
      STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of run_protocol_warps");
      launch_transpose(d_rec_team.as<double>(), d_rec.as<double>(), (int)m, rs, rs_team, false, stream.s);
      launch_transpose(d_out_team.as<double>(), d_out.as<double>(), (int)m, os, os, false, stream.s);
      STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of transpose_records (to interleaved)");
    } else {
      launch_run_protocol(in.shape, tables, d_rec.as<double>(), d_out.as<double>(), (int)m, d_steps.as<ProtocolStep>(),
                          in.n_steps, counter.device, opt.block_size, regs, unit, stream.s);
      STRATA_CUDA_CHECK(cudaGetLastError(), ctx + ", launch of run_protocol_interleaved");
    }
    STRATA_CUDA_CHECK(cudaEventRecord(ev1.e, stream.s), ctx);
    // Poll the mapped counter while the kernel runs.
    for (;;) {
      const cudaError_t q = cudaEventQuery(ev1.e);
      if (q == cudaSuccess) break;
      // A fault in a kernel (or, with warps, in the transposes around it) surfaces here.
      if (q != cudaErrorNotReady)
        STRATA_CUDA_CHECK_RESULT(q, "cudaEventQuery",
                                 ctx + (warps ? ", run_protocol_warps or its layout transposes" : ", run_protocol_interleaved"));
      if (progress) progress((int)(first + *static_cast<volatile unsigned int*>(counter.host)));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    float ms = 0.0f;
    STRATA_CUDA_CHECK(cudaEventElapsedTime(&ms, ev0.e, ev1.e), ctx);
    rep.kernel_s += ms * 1e-3;
    rep.failed += cuda_count_nonzero_device(d_rec.as<double>() + status_offset * m, m, stream.s, ctx);
    STRATA_CUDA_CHECK(cudaMemcpy2DAsync(in.records + first, N * sizeof(double), d_rec.p, m * sizeof(double),
                                        m * sizeof(double), rs, cudaMemcpyDeviceToHost, stream.s),
                      ctx + ", records to host");
    STRATA_CUDA_CHECK(cudaMemcpy2DAsync(in.outputs + first, N * sizeof(double), d_out.p, m * sizeof(double),
                                        m * sizeof(double), in.out_record_size, cudaMemcpyDeviceToHost, stream.s),
                      ctx + ", outputs to host");
    STRATA_CUDA_CHECK(cudaStreamSynchronize(stream.s), ctx);
    first += m;
    rep.variants_run = first;
    ++chunk_index;
    if (progress) progress((int)first);
  }
  rep.chunks = chunk_index;
  rep.chunk_variants = chunk;
  rep.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace strata
