#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

#include "host/background_writer.hpp"

namespace strata {
namespace {

TEST(BackgroundWriter, WritesRunInOrderOneAtATime) {
  std::vector<int> written;
  std::atomic<int> in_flight{0};
  int most_in_flight = 0;
  {
    BackgroundWriter w;
    for (int b = 0; b < 20; ++b)
      w.submit([&, b]() {
        most_in_flight = std::max(most_in_flight, ++in_flight);
        std::this_thread::sleep_for(std::chrono::milliseconds(b % 3));
        written.push_back(b);
        --in_flight;
      });
    w.drain();
    ASSERT_EQ(written.size(), 20u);  // drain waited for the last batch
  }
  for (int b = 0; b < 20; ++b) EXPECT_EQ(written[b], b);
  EXPECT_EQ(most_in_flight, 1);
}

TEST(BackgroundWriter, SubmitReturnsWhileTheWritesRun) {
  // The writes wait for a signal that is given only after submit() returned: had
  // submit() waited for them, they would time out instead.
  std::promise<void> next_batch_started;
  std::future<void> started = next_batch_started.get_future();
  bool overlapped = false;
  BackgroundWriter w;
  w.submit([&]() { overlapped = started.wait_for(std::chrono::seconds(30)) == std::future_status::ready; });
  next_batch_started.set_value();
  w.drain();
  EXPECT_TRUE(overlapped);
}

TEST(BackgroundWriter, AnErrorIsReportedOnceAndStopsLaterWrites) {
  BackgroundWriter w;
  w.submit([]() { throw std::runtime_error("disk full"); });
  bool later_ran = false;
  try {
    w.submit([&]() { later_ran = true; });
    FAIL() << "submit() did not report the earlier writes' error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");
  }
  w.drain();  // nothing in flight: the error was reported once
  EXPECT_FALSE(later_ran);
  w.submit([]() { throw std::runtime_error("again"); });
  EXPECT_THROW(w.drain(), std::runtime_error);
}

TEST(BackgroundWriter, DestructorWaitsAndSwallowsAnError) {
  std::atomic<bool> done{false};
  {
    BackgroundWriter w;
    w.submit([&]() {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      done = true;
      throw std::runtime_error("ignored: the run already ends on another error");
    });
  }
  EXPECT_TRUE(done);
}

TEST(BackgroundWriter, CountsTheWritingAndTheWaitForIt) {
  BackgroundWriter w;
  w.submit([]() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the next batch computing
  w.drain();
  EXPECT_GE(w.write_s(), 0.05);
  EXPECT_LT(w.waited_s(), w.write_s());  // hidden behind the computation, but for thread start-up
  const double before = w.write_s();
  w.drain();  // nothing in flight
  EXPECT_EQ(w.write_s(), before);
}

#ifdef __linux__
// OpenMP with OMP_PROC_BIND pins the main thread to one core; the writes, started from
// it, must not inherit that and share OpenMP thread 0's core.
TEST(BackgroundWriter, WritesMayUseEveryCoreOfTheProcess) {
  cpu_set_t all;
  CPU_ZERO(&all);
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  if (CPU_COUNT(&all) < 2) GTEST_SKIP() << "one core: nothing to unpin";
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &all)) {
      CPU_SET(c, &one);
      break;
    }
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);  // as OpenMP binds the main thread
  int writer_cores = 0;
  BackgroundWriter w;
  w.submit([&]() {
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) == 0) writer_cores = CPU_COUNT(&mine);
  });
  w.drain();
  sched_setaffinity(0, sizeof all, &all);
  EXPECT_EQ(writer_cores, CPU_COUNT(&all));
}
#endif

}  // namespace
}  // namespace strata
