#pragma once
// MPI mode's process setup (built only with MPI: STRATA_HAVE_MPI): MPI_Init_thread
// and MPI_Finalize, and this rank's place in the job and on its node (its local rank
// chooses its GPU: decide_rank_device, host/gpu_plan.hpp).
#include <mpi.h>

#include <string>

namespace strata {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);  // MPI_Init_thread (FUNNELED: only the main thread calls MPI)
  ~MpiSession();                        // MPI_Finalize, unless the job was aborted
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes of this node
  int local_size() const { return local_size_; }
  // Ends the whole job (every rank) with this exit code, after printing why.
  [[noreturn]] void abort(int code, const std::string& why);

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

}  // namespace strata
