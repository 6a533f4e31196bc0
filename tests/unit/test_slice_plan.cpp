// MPI mode's slices: sizes follow the measured throughput, always sum to the batch,
// and unknown rates count as the mean of the known ones. Shards: i/N parsing and the
// contiguous parts of a sweep.
#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>

#include "host/simulate.hpp"
#include "host/slice_plan.hpp"

using namespace strata;

TEST(SlicePlan, SizesFollowThroughputAndSumToTheBatch) {
  EXPECT_EQ(slice_sizes(10, {0, 0}), (std::vector<int>{5, 5}));       // nothing measured: even
  EXPECT_EQ(slice_sizes(11, {0, 0, 0}), (std::vector<int>{4, 4, 3}));  // remainders to the lower ranks
  EXPECT_EQ(slice_sizes(30, {100, 50}), (std::vector<int>{20, 10}));   // a rank half as fast gets half
  EXPECT_EQ(slice_sizes(12, {100, 0, 100}), (std::vector<int>{4, 4, 4}));  // unknown: the mean of the others
  EXPECT_EQ(slice_sizes(1, {1, 1, 1}), (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(slice_sizes(0, {1, 2}), (std::vector<int>{0, 0}));
  for (int n : {1, 7, 100, 1023})
    for (const std::vector<double>& r : {std::vector<double>{3.3, 1.1, 0.7}, std::vector<double>{1e-9, 1e9}}) {
      const std::vector<int> s = slice_sizes(n, r);
      EXPECT_EQ(std::accumulate(s.begin(), s.end(), 0), n);
      for (int x : s) EXPECT_GE(x, 0);
    }
}

// A rate measured on one batch mostly says which designs the rank drew: a share stays
// within twice (or half) the median rank's, so no rank is starved for good and none
// takes most of a batch.
TEST(SlicePlan, SharesStayWithinTwiceTheMedianRanks) {
  // A rank that drew slow designs (10x) still gets designs to be measured on again.
  const std::vector<int> s = slice_sizes(8, {10.0, 10.0, 10.0, 1.0});
  EXPECT_EQ(s, (std::vector<int>{3, 2, 2, 1}));
  // A rank whose designs failed at once (100x "faster") gets twice an even share, not most.
  const std::vector<int> f = slice_sizes(256, {100.0, 1.0, 1.0, 1.0});
  EXPECT_EQ(f[0], 103);  // 256 * 2/5 = 102.4, and the largest remainder
  // Ranks within the bound keep their proportion.
  EXPECT_EQ(slice_sizes(30, {100, 60}), (std::vector<int>{19, 11}));
}

TEST(SlicePlan, TheWaitAfterAStopSignalOutlastsTheLongestBatch) {
  EXPECT_EQ(grace_after_signal_s(0.0), 30.0);  // before any batch has finished
  EXPECT_EQ(grace_after_signal_s(8.0), 30.0);
  EXPECT_EQ(grace_after_signal_s(120.0), 240.0);
}

TEST(SlicePlan, TrackerKeepsTheLastMeasuredRate) {
  ThroughputTracker t(2);
  t.record(0, 100, 2.0);
  t.record(1, 0, 0.0);  // ran nothing: still unknown
  EXPECT_EQ(t.rates()[0], 50.0);
  EXPECT_EQ(t.rates()[1], 0.0);
  t.record(1, 30, 1.0);
  t.record(1, 0, 0.0);
  EXPECT_EQ(t.rates()[1], 30.0);
}

TEST(Shards, RangesAreContiguousDisjointAndComplete) {
  int64_t next = 0;
  for (int i = 0; i < 4; ++i) {
    const ShardRange r = shard_range(std::to_string(i) + "/4", 10);
    EXPECT_EQ(r.index, i);
    EXPECT_EQ(r.count, 4);
    EXPECT_EQ(r.first, next);
    EXPECT_GE(r.end - r.first, 2);
    EXPECT_LE(r.end - r.first, 3);
    next = r.end;
  }
  EXPECT_EQ(next, 10);
  EXPECT_EQ(shard_range("", 10).count, 0);
  for (const char* bad : {"4/4", "-1/4", "1", "a/4", "1/0", "1/4x", "/4"}) EXPECT_THROW(shard_range(bad, 10), std::invalid_argument) << bad;
}
