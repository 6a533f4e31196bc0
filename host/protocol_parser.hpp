#pragma once
// Protocol steps written as a documented subset of PyBaMM's experiment strings,
// e.g. "Charge at 3C until 3.6 V", "Hold at 2.3 V until 50% of initial current".
// See docs/protocols.md.
#include <string>

#include "kernels/protocol_step.hpp"

namespace strata {

// Parses one step string. Throws std::invalid_argument whose message quotes the
// text and says what forms are allowed.
ProtocolStep parse_protocol_step(const std::string& text);

}  // namespace strata
