#pragma once
// Byte encoding of RunRequest and RunOutcome, so that the MPI runner can broadcast a
// batch and gather its results as plain bytes (MPI_Bcast / MPI_Gatherv of MPI_BYTE).
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

}  // namespace strata
