#include "host/cuda_runner.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "host/gpu_plan.hpp"
#include "host/simulate.hpp"

namespace strata {

RunStats run_batch_cuda(Batch& batch, const CudaRunOptions& options, const std::function<void(int)>& progress,
                        const std::function<bool()>& cancelled, CudaRunReport* report) {
  if (batch.layout != Layout::Interleaved)
    throw std::invalid_argument("run_batch_cuda: the CUDA backend needs the interleaved layout");
  CudaBatchInput in;
  in.shape = batch.shape;
  in.tables = batch.tables;
  in.table_data = batch.table_data.data();
  in.table_doubles = batch.table_data.size();
  in.records = batch.records.data();
  in.outputs = batch.outputs.data();
  in.out_record_size = batch.out_record_size();
  in.steps = batch.steps.data();
  in.n_steps = static_cast<int>(batch.steps.size());
  in.n_variants = batch.n_variants;
  in.label = batch.labels.empty() ? std::string("?") : batch.labels.front() + (batch.n_variants > 1 ? ", ..." : "");
  const CudaRunReport rep = run_protocol_cuda(in, options, progress, cancelled);
  RunStats stats;
  stats.threads = 1;
  stats.wall_s = rep.wall_s;
  stats.ran.assign(batch.n_variants, 0);
  std::fill(stats.ran.begin(), stats.ran.begin() + rep.variants_run, 1);
  if (report) *report = rep;
  return stats;
}

namespace {
long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0) throw std::invalid_argument(fmt::format("{}={}: expected a non-negative integer", name, v));
  return x;
}
}  // namespace

CudaRunOptions cuda_options_from_env() {
  CudaRunOptions o;
  o.max_chunk = env_long("STRATA_CUDA_MAX_CHUNK", 0);
  if (const char* m = std::getenv("STRATA_CUDA_MIN_BATCH"); m && *m && std::string(m) != "auto")
    o.min_batch = env_long("STRATA_CUDA_MIN_BATCH", o.min_batch);
  o.block_size = static_cast<int>(env_long("STRATA_CUDA_BLOCK_SIZE", o.block_size));
  if (const char* r = std::getenv("STRATA_CUDA_MAX_REGISTERS"); r && *r && std::string(r) != "auto")
    o.max_registers = static_cast<int>(env_long("STRATA_CUDA_MAX_REGISTERS", o.max_registers));
  if (const char* m = std::getenv("STRATA_CUDA_MAPPING"); m && *m) {
    o.mapping = m;
    try {
      parse_mapping_request(o.mapping, 1, 1);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(fmt::format("STRATA_CUDA_MAPPING={}: expected auto, thread or warp", m));
    }
  }
  if (const char* p = std::getenv("STRATA_CUDA_PASS"); p && *p) {
    o.pass = p;
    try {
      parse_pass_request(o.pass, GpuMapping::ThreadPerVariant);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(fmt::format("STRATA_CUDA_PASS={}: expected auto, attempt or iteration", p));
    }
  }
  if (o.block_size < 32 || o.block_size > kMaxCudaBlockSize || o.block_size % 32)
    throw std::invalid_argument(fmt::format(
        "STRATA_CUDA_BLOCK_SIZE={}: expected a multiple of 32 in 32..{} (the protocol kernels use 255 registers "
        "per thread)",
        o.block_size, kMaxCudaBlockSize));
  if (o.max_registers != 0 && std::find(std::begin(kCudaRegisterCaps), std::end(kCudaRegisterCaps),
                                        o.max_registers) == std::end(kCudaRegisterCaps))
    throw std::invalid_argument(fmt::format(
        "STRATA_CUDA_MAX_REGISTERS={}: expected auto, 255, 128 or 64 (the register caps the protocol kernels are "
        "compiled for)",
        o.max_registers));
  return o;
}

std::string cuda_device_description(const CudaDeviceInfo& info) {
  if (info.count <= 0) return "CUDA: no device (" + info.error + ")";
  return fmt::format("CUDA: {}{}, {} SMs, {:.1f} GiB, compute capability {}.{}", info.name,
                     info.count > 1 ? fmt::format(" (device {} of {})", info.device, info.count) : std::string(),
                     info.sm_count, info.total_bytes / 1073741824.0, info.cc_major, info.cc_minor);
}

CudaVariantRunner::CudaVariantRunner(const Scenario& base, int threads, CudaRunOptions options)
    : LocalVariantRunner(base, threads, Layout::Interleaved),
      options_(options),
      info_(cuda_device_info()),
      min_batch_(gpu_min_batch(options.min_batch, LocalVariantRunner::threads())) {}

// Small batches and trajectory re-simulations (a few chosen designs) are faster on the
// CPU: same numerics, the same results to round-off (tests/gpu). Decided per batch of
// one shape, since each is a launch of its own: a request of many small shapes (an
// optimiser batch over several layer orders) is many small batches.
Layout CudaVariantRunner::layout_for(size_t batch_variants, bool record) const {
  return record || static_cast<long>(batch_variants) < min_batch_ ? Layout::Blocked : Layout::Interleaved;
}

std::string CudaVariantRunner::device_description() const {
  const std::string mapping =
      options_.mapping == "auto"
          ? fmt::format("warp per variant below {} variants per batch, else thread per variant",
                        kWarpMappingVariantsPerSm * std::max(1, info_.sm_count))
          : mapping_name(parse_mapping_request(options_.mapping, 1, 1));
  const std::string registers =
      options_.max_registers == 0
          ? fmt::format("64 registers per thread above {} variants per thread-mapped chunk, else 255",
                        kRegisterCapWaves * kThreadsPerSmAt255Registers * std::max(1, info_.sm_count))
          : fmt::format("{} registers per thread", options_.max_registers);
  // The integrator's pass unit (host/gpu_plan.hpp): the request applies to thread-mapped batches.
  const auto unit_words = [](PassUnit u) { return u == PassUnit::NewtonIteration ? "Newton iteration" : "attempt"; };
  const PassUnit thread_unit = parse_pass_request(options_.pass, GpuMapping::ThreadPerVariant);
  const std::string pass =
      options_.mapping == "warp"
          ? std::string("one attempt per integrator pass")
          : options_.mapping == "thread"
                ? fmt::format("one {} per integrator pass", unit_words(thread_unit))
                : fmt::format("one {} per integrator pass with a thread per variant, one attempt with a warp",
                              unit_words(thread_unit));
  return cuda_device_description(info_) + "; " + mapping + "; " + registers + "; " + pass +
         (min_batch_ > 0 ? fmt::format("; batches of fewer than {} variants, and ", min_batch_) : std::string("; ")) +
         "requests recording trajectories, on " + cpu_device_description(threads());
}

std::string CudaVariantRunner::batch_note(long batch_size) const {
  if (batch_size >= min_batch_) return "";
  return fmt::format("note: batches of {} variants are fewer than the {} below which a CUDA run uses the CPU, where they "
                     "finish sooner (docs/performance.md, \"Small batches on the CPU\"); a larger [output] batch_size "
                     "(the GPU's rate peaks at 100,000 variants and more), or STRATA_CUDA_MIN_BATCH=0, runs them on "
                     "the GPU",
                     batch_size, min_batch_);
}

std::string CudaVariantRunner::summary() const {
  const std::string on_cpu =
      cpu_batches_ ? fmt::format("{} batch(es) of fewer than {} variants or recording trajectories ({} variants) on "
                                 "the CPU",
                                 cpu_batches_, min_batch_, cpu_variants_)
                   : std::string();
  if (chunks_ == 0) return on_cpu.empty() ? "" : "CUDA: " + on_cpu;
  return fmt::format("CUDA: {} chunk(s) of up to {} variants ({} batch(es) warp per variant, {} thread per variant), "
                     "{:.3f} s in kernels of {:.3f} s on the device{}{}",
                     chunks_, max_chunk_variants_, warp_batches_, thread_batches_, kernel_s_, wall_s_,
                     oom_retries_ ? fmt::format(", {} out-of-memory retries (chunk halved)", oom_retries_) : "",
                     on_cpu.empty() ? "" : "; " + on_cpu);
}

// The CPU's batches (blocked: small or recording) run together on the cores, then the
// device's one by one; interleaved batches record nothing (layout_for).
RunStats CudaVariantRunner::run_batches(std::vector<Batch>& batches, const std::function<void(int)>& progress,
                                        const std::function<bool()>& cancelled) {
  RunStats all;
  all.threads = threads();
  std::vector<int> first(batches.size() + 1, 0);  // each batch's first variant in all.ran
  for (size_t b = 0; b < batches.size(); ++b) first[b + 1] = first[b] + batches[b].n_variants;
  all.ran.assign(first.back(), 0);
  int finished_before = 0;
  const auto offset_progress = [&progress, &finished_before]() -> std::function<void(int)> {
    if (!progress) return {};
    return [&progress, before = finished_before](int d) { progress(before + d); };
  };
  std::vector<Batch*> on_cpu;
  std::vector<size_t> cpu_index;
  for (size_t b = 0; b < batches.size(); ++b)
    if (batches[b].layout == Layout::Blocked) {
      on_cpu.push_back(&batches[b]);
      cpu_index.push_back(b);
    }
  if (!on_cpu.empty()) {
    const RunStats st = run_batches_cpu(on_cpu, threads(), offset_progress(), cancelled);
    int pool = 0;
    for (size_t c = 0; c < on_cpu.size(); ++c) {
      std::copy_n(st.ran.begin() + pool, on_cpu[c]->n_variants, all.ran.begin() + first[cpu_index[c]]);
      pool += on_cpu[c]->n_variants;
    }
    all.wall_s += st.wall_s;
    finished_before += pool;
    cpu_batches_ += static_cast<long>(on_cpu.size());
    cpu_variants_ += pool;
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    if (batches[b].layout == Layout::Blocked) continue;
    CudaRunReport rep;
    const RunStats st = run_batch_cuda(batches[b], options_, offset_progress(), cancelled, &rep);
    std::copy(st.ran.begin(), st.ran.end(), all.ran.begin() + first[b]);
    all.wall_s += st.wall_s;
    finished_before += batches[b].n_variants;
    chunks_ += rep.chunks;
    if (rep.chunks > 0) (rep.mapping == mapping_name(GpuMapping::WarpPerVariant) ? warp_batches_ : thread_batches_) += 1;
    max_chunk_variants_ = std::max(max_chunk_variants_, rep.chunk_variants);
    failed_on_device_ += rep.failed;
    oom_retries_ += rep.oom_retries;
    kernel_s_ += rep.kernel_s;
    wall_s_ += rep.wall_s;
  }
  return all;
}

}  // namespace strata
