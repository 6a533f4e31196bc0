#pragma once
// Byte encoding of RunRequest and RunOutcome, so that the MPI runner can broadcast a
// batch and gather its results as plain bytes (MPI_Bcast of MPI_BYTE; each rank's results sent to rank 0).
// Every value round-trips bit for bit (doubles are copied, not printed). The format is
// private to one build: all ranks run the same binary.
#include <string>

#include "host/variant_runner.hpp"

namespace strata {

struct CodecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string encode_request(const RunRequest& r);
RunRequest decode_request(const std::string& bytes);  // throws CodecError when truncated

// A rank's outcome of its slice, with the error that stopped it ("" when none).
struct SliceOutcome {
  RunOutcome outcome;
  std::string error;
};
std::string encode_outcome(const SliceOutcome& s);
SliceOutcome decode_outcome(const std::string& bytes);  // throws CodecError when truncated
// A rank's slice as it is sent: its encoding, or, when that exceeds max_bytes (an MPI
// message's int count), the encoding of an error that says so, so that every rank
// still takes part in the exchange and the batch fails with that message.
std::string encode_outcome_within(const SliceOutcome& s, int rank, size_t max_bytes);

}  // namespace strata
