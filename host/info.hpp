#pragma once
// `strata info FILE`: a summary of a results file.
#include <string>

namespace strata {

// Prints scenario, run status, designs and their statuses, the best designs by each
// objective and the trajectories present. Returns the exit code (2: unreadable file).
int print_info(const std::string& path, int top);

}  // namespace strata
