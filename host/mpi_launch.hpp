#pragma once
// Whether this process was started by an MPI launcher, known without MPI itself (so
// that a strata built without MPI can refuse MPI mode instead of running P copies
// that write the same file).
namespace strata {

// True when mpirun or srun started this process as one of several: Open MPI's or
// PMI's world-size variables say so.
bool launched_as_mpi_job();

}  // namespace strata
