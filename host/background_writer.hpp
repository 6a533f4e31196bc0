#pragma once
// Double buffering of a run's results file: the writes of one batch run on a thread
// of their own while the next batch computes. At most one batch's writes are in
// flight, batches are written in the order given, and whoever submits touches the
// file only after drain(), so the file is the same as with writes in line. The writes
// may run on any core of the process, whatever core OpenMP bound the caller to.
#include <functional>
#include <future>

namespace strata {

class BackgroundWriter {
 public:
  BackgroundWriter() = default;
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;
  // Waits for the writes in flight; an error they raised is dropped here (drain() is
  // where it is reported).
  ~BackgroundWriter();

  // Waits for the previous writes (rethrowing what they threw), then starts these.
  void submit(std::function<void()> writes);
  // Waits for the writes in flight; rethrows what they threw.
  void drain();

  // Seconds the writes took on their thread, and seconds submit() and drain() waited
  // for them: the writing that the computation did not hide.
  double write_s() const { return write_s_; }
  double waited_s() const { return waited_s_; }

 private:
  std::future<double> in_flight_;  // the seconds the writes took
  double write_s_ = 0.0;
  double waited_s_ = 0.0;
};

}  // namespace strata
