#pragma once
// Helper threads (the results file's writes and updates) started from a thread that
// OpenMP bound to one core (OMP_PROC_BIND, as the SLURM scripts set it) inherit that
// binding and would share OpenMP thread 0's core. unpin_this_thread() lets the
// calling thread run on any core the process was started with (Linux; elsewhere a no-op).
namespace strata {

void unpin_this_thread();

}  // namespace strata
