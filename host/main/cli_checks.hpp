#pragma once
// Command-line checks with messages a user can act on (CLI11's numeric ranges print
// their limits as 1.79769e+308).
#include <CLI/CLI.hpp>

#include <sstream>
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

// A number in [min, max]; `meaning` ends the message.
inline CLI::Validator number_within(double min, double max, const std::string& meaning) {
  auto show = [](double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  };
  return CLI::Validator(
      [min, max, meaning, show](std::string& text) -> std::string {
        size_t used = 0;
        double value = 0.0;
        try {
          value = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || !(value == value))
          return "'" + text + "' is not a number; " + meaning;
        if (value < min || value > max)
          return text + " is outside " + show(min) + " .. " + show(max) + "; " + meaning;
        return std::string();
      },
      "NUMBER in [" + show(min) + ", " + show(max) + "]", "number_within");
}

}  // namespace strata
