#pragma once
// Command-line checks with messages a user can act on (CLI11's numeric ranges print
// their limits as 1.79769e+308).
#include <CLI/CLI.hpp>

#include <string>

namespace strata {

// A whole number >= min; `meaning` ends the message, e.g. "0 means all cores".
inline CLI::Validator whole_number_at_least(long min, const std::string& meaning) {
  return CLI::Validator(
      [min, meaning](std::string& text) -> std::string {
        size_t used = 0;
        long value = 0;
        try {
          value = std::stol(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size())
          return "'" + text + "' is not a whole number; " + meaning;
        if (value < min) return text + " is below " + std::to_string(min) + "; " + meaning;
        return std::string();
      },
      "INT>=" + std::to_string(min), "whole_number_at_least");
}

}  // namespace strata
