#include "host/mpi_launch.hpp"

#include <cstdlib>
#include <initializer_list>

namespace strata {

bool launched_as_mpi_job() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    const char* v = std::getenv(var);
    if (v && std::atoi(v) > 1) return true;
  }
  return false;
}

}  // namespace strata
