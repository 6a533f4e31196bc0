#include "host/mpi/mpi_variant_runner.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "host/interrupt.hpp"
#include "host/run_codec.hpp"

namespace strata {

namespace {

using Clock = std::chrono::steady_clock;

enum Command : int64_t { kStop = 0, kRun = 1, kDevices = 2 };

// Tags of a rank's results and of its device description, sent to rank 0.
constexpr int kResultsTag = 7;
constexpr int kDeviceTag = 8;
// How a worker without a runner answers kDevices, followed by why.
const std::string kNotRunning = "not running: ";

// How long a worker polls for the next batch without sleeping.
constexpr double kSpinForNextBatch_s = 0.002;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Completes a nonblocking MPI call by polling with short sleeps (a blocking call spins
// a core, which the OpenMP threads of the ranks on this node need). give_up is asked
// in between; when it returns true, returns false with the call still pending.
// The first spin_s are polled without sleeping (the next batch of a campaign usually
// follows within a millisecond, and a sleeping process on a busy node can take several
// to be woken).
bool wait_polling(MPI_Request& req, const std::function<bool()>& give_up = {}, double spin_s = 0.0) {
  int done = 0;
  const auto t0 = Clock::now();
  for (;;) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (give_up && give_up()) return false;
    if (seconds_since(t0) >= spin_s) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// Results are sent point to point, each within one int count (encode_outcome_within):
// a gather's int displacements overflowed once all slices together passed 2^31 bytes
// (a thousand designs with full trajectories).
constexpr size_t kMaxMessageBytes = static_cast<size_t>(INT_MAX);

int checked_count(size_t bytes) {
  if (bytes > static_cast<size_t>(INT_MAX))
    throw std::runtime_error(fmt::format("a batch message of {} bytes exceeds MPI's int count; use a smaller "
                                         "[output] batch_size", bytes));
  return static_cast<int>(bytes);
}

// The slice of a request for one rank.
RunRequest slice_of(const RunRequest& q, int first, int count) {
  RunRequest s;
  s.specs.assign(q.specs.begin() + first, q.specs.begin() + first + count);
  s.ids.assign(q.ids.begin() + first, q.ids.begin() + first + count);
  s.record = q.record;
  s.trajectory_spec = q.trajectory_spec;
  s.name_trajectories = q.name_trajectories;
  s.cancellable = q.cancellable;
  return s;
}

SliceOutcome run_slice(VariantRunner* runner, const std::string& load_error, const RunRequest& slice,
                       const std::function<void(int)>& progress, int rank) {
  SliceOutcome so;
  if (!runner) {
    so.error = fmt::format("rank {}: {}", rank, load_error);
    return so;
  }
  try {
    so.outcome = runner->run(slice, progress);
  } catch (const std::exception& e) {
    so.error = fmt::format("rank {}: {}", rank, e.what());
  }
  return so;
}

// Rank 0 and workers alike: the broadcast of a command header: command, request
// bytes, then the slice size of every rank.
void bcast_header(std::vector<int64_t>& header, bool root) {
  MPI_Request req;
  MPI_Ibcast(header.data(), static_cast<int>(header.size()), MPI_INT64_T, 0, MPI_COMM_WORLD, &req);
  if (root) {
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  } else {
    wait_polling(req, {}, kSpinForNextBatch_s);
  }
}

// One string from every worker to rank 0 (a slice's results, a device description):
// the lengths by a gather, then each worker's bytes point to point.
// A worker's half. Rank 0 is waiting for these: complete them at once (no polling sleeps).
void send_to_rank0(const std::string& mine, int tag) {
  int my_len = static_cast<int>(mine.size());
  MPI_Request req;
  MPI_Igather(&my_len, 1, MPI_INT, nullptr, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  MPI_Wait(&req, MPI_STATUS_IGNORE);
  MPI_Send(mine.data(), my_len, MPI_BYTE, 0, tag, MPI_COMM_WORLD);
}

// Rank 0's half; parts[0] is its own and parts[r] becomes rank r's. The gather of the
// lengths is polled (where a slower rank shows) and given up as wait_polling does:
// false, with the gather still pending. wait_s and receive_s (optional) get the two
// parts' seconds.
bool gather_at_rank0(std::vector<std::string>& parts, int tag, const std::function<bool()>& give_up,
                     double* wait_s = nullptr, double* receive_s = nullptr) {
  const int p = static_cast<int>(parts.size());
  auto t = Clock::now();
  int my_len = static_cast<int>(parts[0].size());
  std::vector<int> lens(p, 0);
  MPI_Request req;
  MPI_Igather(&my_len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  if (!wait_polling(req, give_up)) return false;
  if (wait_s) *wait_s += seconds_since(t);
  t = Clock::now();
  std::vector<MPI_Request> recvs(p - 1);
  for (int r = 1; r < p; ++r) {
    parts[r].assign(static_cast<size_t>(lens[r]), '\0');
    MPI_Irecv(parts[r].data(), lens[r], MPI_BYTE, r, tag, MPI_COMM_WORLD, &recvs[r - 1]);
  }
  MPI_Waitall(p - 1, recvs.data(), MPI_STATUSES_IGNORE);
  if (receive_s) *receive_s += seconds_since(t);
  return true;
}

bool g_workers_stopped = false;

// "0-3, 6": ranks as ranges.
std::string rank_ranges(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") +
           (j == i ? std::to_string(ranks[i]) : std::to_string(ranks[i]) + "-" + std::to_string(ranks[j]));
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string describe_rank_devices(const std::vector<std::string>& by_rank) {
  std::vector<std::string> kinds;  // in order of first rank
  std::vector<std::vector<int>> ranks;
  for (int r = 0; r < static_cast<int>(by_rank.size()); ++r) {
    const auto it = std::find(kinds.begin(), kinds.end(), by_rank[r]);
    if (it == kinds.end()) {
      kinds.push_back(by_rank[r]);
      ranks.push_back({r});
    } else {
      ranks[it - kinds.begin()].push_back(r);
    }
  }
  std::string out = fmt::format("MPI: {} ranks", by_rank.size());
  for (size_t k = 0; k < kinds.size(); ++k)
    out += fmt::format("; rank{} {}: {}", ranks[k].size() > 1 ? "s" : "", rank_ranges(ranks[k]), kinds[k]);
  return out;
}

MpiVariantRunner::MpiVariantRunner(MpiSession& session, std::unique_ptr<VariantRunner> local)
    : session_(session), local_(std::move(local)), throughput_(session.size()) {
  // Every rank's device, for the file's /meta@device and the run header: each worker
  // sends its runner's description (or why it has none) once, at the start.
  const int p = session_.size();
  std::vector<int64_t> header(2 + p, 0);
  header[0] = kDevices;
  bcast_header(header, true);
  rank_devices_.assign(p, std::string());
  rank_devices_[0] = local_->device_description();
  gather_at_rank0(rank_devices_, kDeviceTag, {});
  // A worker that cannot run (no scenario on its node, no device for --device cuda)
  // ends the job now, before a results file is made (main stops the workers).
  std::string cannot;
  for (int r = 1; r < p; ++r)
    if (rank_devices_[r].rfind(kNotRunning, 0) == 0)
      cannot += fmt::format("{}rank {}: {}", cannot.empty() ? "" : "; ", r, rank_devices_[r].substr(kNotRunning.size()));
  if (!cannot.empty()) throw std::runtime_error("MPI: not every rank can run: " + cannot);
}

MpiVariantRunner::~MpiVariantRunner() { stop_mpi_workers(session_); }

std::string MpiVariantRunner::device_description() const {
  return describe_rank_devices(rank_devices_);
}

std::string MpiVariantRunner::summary() const {
  const double b = std::max(batch_s_, 1e-12);
  std::string rates;
  for (size_t r = 0; r < throughput_.rates().size(); ++r)
    rates += fmt::format("{}{:.1f}", r ? " " : "", throughput_.rates()[r]);
  return fmt::format("MPI: {} ranks, {} batches in {:.3f} s; communication {:.2f}% of batch time ({:.4f} s: "
                     "broadcast {:.4f} s, gather {:.4f} s of {:.1f} MB), waiting for slower ranks {:.2f}%; last "
                     "throughput by rank (variants/s): {}",
                     session_.size(), batches_, batch_s_, 100.0 * comm_s_ / b, comm_s_, bcast_s_, comm_s_ - bcast_s_,
                     bytes_gathered_ / 1e6, 100.0 * wait_s_ / b, rates) +
         (local_->summary().empty() ? std::string() : "\nrank 0: " + local_->summary());
}

std::string MpiVariantRunner::batch_note(long batch_size) const {
  const long slice = (batch_size + session_.size() - 1) / session_.size();
  const std::string note = local_->batch_note(slice);
  if (note.empty()) return "";
  return fmt::format("MPI: {} ranks share each batch of {} (slices of about {}); {}", session_.size(), batch_size,
                     slice, note);
}

RunOutcome MpiVariantRunner::run(const RunRequest& q, const std::function<void(int)>& progress) {
  const auto t0 = Clock::now();
  const int p = session_.size();
  const int n = static_cast<int>(q.specs.size());
  std::vector<int> sizes = slice_sizes(n, throughput_.rates());
  const std::string bytes = encode_request(q);

  const auto tc = Clock::now();
  std::vector<int64_t> header = {kRun, checked_count(bytes.size())};
  header.insert(header.end(), sizes.begin(), sizes.end());
  bcast_header(header, true);
  MPI_Bcast(const_cast<char*>(bytes.data()), static_cast<int>(bytes.size()), MPI_BYTE, 0, MPI_COMM_WORLD);
  bcast_s_ += seconds_since(tc);
  comm_s_ += seconds_since(tc);

  // From here until every rank's results are in, the workers are inside this batch's
  // exchange: an exception on rank 0 would leave them there for good (the job would
  // hang until its time limit), so it ends the job instead.
  std::vector<std::string> parts(p);
  try {
    parts[0] = encode_outcome_within(run_slice(local_.get(), "", slice_of(q, 0, sizes[0]), progress, 0), 0,
                                     kMaxMessageBytes);
    // Fault injection for tests/mpi (MpiRuns.AnErrorOnRankZeroMidBatchEndsTheJob): rank
    // 0 fails here, as running out of memory would.
    if (const char* fault = std::getenv("STRATA_TEST_FAULT"); fault && std::string(fault) == "rank0_exchange")
      throw std::runtime_error("injected fault (STRATA_TEST_FAULT=rank0_exchange)");

    // Wait for the others' sizes (this is where a slower rank shows), then the bytes.
    Clock::time_point signalled{};
    const double grace_s = grace_after_signal_s(longest_batch_s_);
    const bool complete = gather_at_rank0(parts, kResultsTag, [&] {
      if (!interrupt_requested()) return false;
      if (signalled == Clock::time_point{}) {
        signalled = Clock::now();
        std::cerr << fmt::format("strata: signal {} while waiting for the other ranks' results (up to {:.0f} s more); "
                                 "if a rank died, every batch written before is in the results file: continue it "
                                 "with --resume FILE (any rank count)\n", interrupt_signal(), grace_s);
      }
      return seconds_since(signalled) > grace_s;
    }, &wait_s_, &comm_s_);
    if (!complete)
      session_.abort(4, fmt::format("error: MPI run stopped: signal {} arrived and the other ranks sent no results "
                                    "within {:.0f} s (a rank died or the job was cancelled); every batch written "
                                    "before is in the results file: continue it with --resume FILE (any rank count)\n",
                                    interrupt_signal(), grace_s));
    for (const std::string& part : parts) bytes_gathered_ += part.size();
  } catch (const std::exception& e) {
    session_.abort(5, fmt::format("error: MPI run stopped: rank 0 failed while the other ranks were sending their "
                                  "results ({}); every batch written before is in the results file: continue it "
                                  "with --resume FILE (any rank count)\n", e.what()));
  }

  RunOutcome out;
  if (q.record) out.trajectories.reserve(n);
  for (int r = 0; r < p; ++r) {
    SliceOutcome so = decode_outcome(parts[r]);
    if (!so.error.empty()) throw std::runtime_error(so.error);
    RunOutcome& o = so.outcome;
    if (static_cast<int>(o.results.size()) != sizes[r])
      throw std::runtime_error(fmt::format("rank {} returned {} results for a slice of {}", r, o.results.size(), sizes[r]));
    throughput_.record(r, sizes[r], o.wall_s);
    for (auto& v : o.results) out.results.push_back(std::move(v));
    out.ran.insert(out.ran.end(), o.ran.begin(), o.ran.end());
    for (auto& t : o.trajectories) out.trajectories.push_back(std::move(t));
    out.totals.time_steps += o.totals.time_steps;
    out.totals.newton_iterations += o.totals.newton_iterations;
    out.totals.ok += o.totals.ok;
    out.totals.failed += o.totals.failed;
  }
  out.wall_s = seconds_since(t0);  // the batch as the run sees it
  batch_s_ += out.wall_s;
  longest_batch_s_ = std::max(longest_batch_s_, out.wall_s);
  ++batches_;
  return out;
}

void stop_mpi_workers(MpiSession& session) {
  if (g_workers_stopped || session.rank() != 0) return;
  g_workers_stopped = true;
  std::vector<int64_t> header(2 + session.size(), 0);
  header[0] = kStop;
  bcast_header(header, true);
}

int run_mpi_worker(MpiSession& session, VariantRunner* runner, const std::string& load_error) {
  const int p = session.size(), rank = session.rank();
  for (;;) {
    std::vector<int64_t> header(2 + p, 0);
    bcast_header(header, false);
    if (header[0] == kStop) return 0;
    if (header[0] == kDevices) {
      send_to_rank0(runner ? runner->device_description() : kNotRunning + load_error, kDeviceTag);
      continue;
    }
    const std::vector<int> sizes(header.begin() + 2, header.end());
    std::string bytes(static_cast<size_t>(header[1]), '\0');
    MPI_Bcast(bytes.data(), static_cast<int>(header[1]), MPI_BYTE, 0, MPI_COMM_WORLD);
    SliceOutcome so;
    try {
      const RunRequest q = decode_request(bytes);
      int first = 0;
      for (int r = 0; r < rank; ++r) first += sizes[r];
      so = run_slice(runner, load_error, slice_of(q, first, sizes[rank]), {}, rank);
    } catch (const std::exception& e) {
      so.error = fmt::format("rank {}: {}", rank, e.what());
    }
    send_to_rank0(encode_outcome_within(so, rank, kMaxMessageBytes), kResultsTag);
  }
}

}  // namespace strata
