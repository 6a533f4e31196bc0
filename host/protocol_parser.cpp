// Parser for protocol step strings (a subset of PyBaMM's experiment strings).
// Grammar and examples: docs/protocols.md.
#include "host/protocol_parser.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>

namespace strata {
namespace {

const char* const kAcceptedForms =
    "accepted forms: 'Rest for <duration>'; "
    "'Charge|Discharge at <current> [for <duration>] [or] [until <voltage>]'; "
    "'Hold at <voltage> [for <duration>] [or] [until <current limit>]'; "
    "<current>: 3C, C/20, 5 A/m2, 0.5 mA/cm2; <voltage>: 3.6 V, 3600 mV; "
    "<duration>: 30 s|sec|seconds, 5 min|minutes, 1 h|hours; "
    "<current limit>: 50% of initial current, C/50, 0.02C, 1 A/m2, 0.1 mA/cm2 "
    "(see docs/protocols.md)";

// A current as written: either a C-rate or a current density (A/m2), magnitude only.
struct Current {
  bool is_c_rate = true;
  double value = 0.0;
};

// Cursor over the lower-cased text. Every accept_* skips leading whitespace and
// consumes nothing when it does not match.
class Parser {
 public:
  explicit Parser(const std::string& text) : original_(text), s_(text) {
    for (char& c : s_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }

  ProtocolStep parse() {
    ProtocolStep step;
    if (accept("rest")) {
      parse_rest(step);
    } else if (accept("charge")) {
      parse_cc(step, +1.0);
    } else if (accept("discharge")) {
      parse_cc(step, -1.0);
    } else if (accept("hold")) {
      parse_cv(step);
    } else {
      fail(at_end() ? "the step is empty" : "unknown verb (expected Rest, Charge, Discharge or Hold)");
    }
    skip_ws();
    if (!at_end()) fail("unexpected trailing text");
    return step;
  }

 private:
  void parse_rest(ProtocolStep& step) {
    if (peek("until")) fail("a Rest step ends only after a duration ('Rest for <duration>'), not 'until'");
    expect("for");
    step.kind = StepKind::Rest;
    step.duration_s = duration();
    if (peek("or") || peek("until")) fail("a Rest step takes no 'until' limit");
  }

  void parse_cc(ProtocolStep& step, double sign) {
    expect("at");
    const Current current = current_value("current");
    step.kind = StepKind::ConstantCurrent;
    step.use_c_rate = current.is_c_rate;
    if (current.is_c_rate) {
      step.c_rate = sign * current.value;
    } else {
      step.current_density_A_m2 = sign * current.value;
    }
    const bool has_until = end_conditions(step);
    if (has_until) {
      const std::size_t start = pos_;
      double volts = 0.0;
      if (!voltage(volts)) {
        const bool is_current = looks_like_current_limit();
        pos_ = start;
        if (is_current) fail("a Charge/Discharge step ends at a voltage ('until 3.6 V'), not at a current");
        fail("expected a voltage limit such as '3.6 V' or '3600 mV' after 'until'");
      }
      step.limit = sign > 0 ? LimitKind::VoltageAbove : LimitKind::VoltageBelow;
      step.limit_value = volts;
    }
  }

  void parse_cv(ProtocolStep& step) {
    expect("at");
    step.kind = StepKind::ConstantVoltage;
    // On a hold, use_c_rate says whether a CurrentBelowAbsolute limit is a C-rate
    // (c_rate) or a density (limit_value); clear it unless the limit is a C-rate.
    step.use_c_rate = false;
    if (!voltage(step.voltage_V)) fail("expected the held voltage such as '2.3 V' after 'Hold at'");
    if (!end_conditions(step)) return;

    double number = 0.0;
    const std::size_t start = pos_;
    if (accept_number(number) && accept("%")) {
      expect("of");
      expect("initial");
      expect("current");
      if (!(number > 0.0 && number < 100.0)) fail_at(start, "the percentage must lie strictly between 0 and 100");
      step.limit = LimitKind::CurrentBelowFraction;
      step.limit_value = number / 100.0;
      return;
    }
    pos_ = start;
    double volts = 0.0;
    if (voltage(volts)) {
      pos_ = start;
      fail("a Hold step ends at a current ('until 50% of initial current', 'until C/50'), not at a voltage");
    }
    const Current limit = current_value("current limit");
    step.limit = LimitKind::CurrentBelowAbsolute;
    if (limit.is_c_rate) {
      // No 1C value exists at parse time: the runner multiplies c_rate by the 1C density.
      step.use_c_rate = true;
      step.c_rate = limit.value;
    } else {
      step.limit_value = limit.value;
    }
  }

  // Parses "[for <duration>] [or] [until" and sets duration_s. Returns true when
  // 'until' was read (its limit follows); throws when neither is present.
  bool end_conditions(ProtocolStep& step) {
    bool has_for = false;
    step.duration_s = std::numeric_limits<double>::infinity();
    if (accept("for")) {
      has_for = true;
      step.duration_s = duration();
      if (accept("or")) {
        expect("until");
        return true;
      }
    }
    if (accept("until")) return true;
    if (!has_for) fail("the step needs an end condition: 'for <duration>' and/or 'until <limit>'");
    return false;
  }

  double duration() {
    const std::size_t start = pos_;
    double value = 0.0;
    if (!accept_number(value)) fail("expected a duration such as '30 seconds', '5 minutes' or '1 hour'");
    double scale = 0.0;
    if (accept("seconds") || accept("second") || accept("sec") || accept("s")) {
      scale = 1.0;
    } else if (accept("minutes") || accept("minute") || accept("min")) {
      scale = 60.0;
    } else if (accept("hours") || accept("hour") || accept("h")) {
      scale = 3600.0;
    } else {
      fail("expected a time unit (seconds/second/sec/s, minutes/minute/min, hours/hour/h)");
    }
    if (!(value > 0.0)) fail_at(start, "the duration must be positive");
    return value * scale;
  }

  // "<number> V" or "<number> mV", in volts. Returns false (consuming nothing)
  // when the text is not a voltage. Any finite potential is allowed: the
  // reference electrode decides what is meaningful.
  bool voltage(double& volts) {
    const std::size_t start = pos_;
    double value = 0.0;
    if (accept_number(value)) {
      if (accept("v")) {
        volts = value;
        return true;
      }
      if (accept("mv")) {
        volts = value * 1e-3;
        return true;
      }
    }
    pos_ = start;
    return false;
  }

  // "3C", "C/20", "<number> A/m2", "<number> mA/cm2"; magnitude must be > 0.
  Current current_value(const char* what) {
    const std::size_t start = pos_;
    Current current;
    double value = 0.0;
    if (accept("c")) {
      if (!accept("/") || !accept_number(value)) fail("expected 'C/<number>' such as 'C/20'");
      if (!(value > 0.0)) fail_at(start, std::string("the ") + what + " must be positive");
      current.value = 1.0 / value;
      return current;
    }
    if (!accept_number(value)) {
      fail(std::string("expected a ") + what + " such as '3C', 'C/20', '5 A/m2' or '0.5 mA/cm2'");
    }
    if (accept("c")) {
      current.value = value;
    } else if (accept("a/m2")) {
      current.is_c_rate = false;
      current.value = value;
    } else if (accept("ma/cm2")) {
      current.is_c_rate = false;
      current.value = value * 10.0;  // 1 mA/cm2 = 10 A/m2
    } else {
      fail(std::string("expected a ") + what + " unit: C, A/m2 or mA/cm2");
    }
    if (!(value > 0.0)) fail_at(start, std::string("the ") + what + " must be positive");
    return current;
  }

  bool looks_like_current_limit() {
    double number = 0.0;
    if (accept("c")) return true;
    return accept_number(number) &&
           (accept("%") || accept("c") || accept("a/m2") || accept("ma/cm2"));
  }

  // --- lexical helpers ---

  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool at_end() const { return pos_ >= s_.size(); }

  static bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

  // Matches the literal (lower case). A literal ending in a letter or digit must
  // not run into another one, so "s" does not match the start of "sec".
  bool peek(const std::string& literal) {
    skip_ws();
    if (s_.compare(pos_, literal.size(), literal) != 0) return false;
    const std::size_t end = pos_ + literal.size();
    return !(is_alnum(literal.back()) && end < s_.size() && is_alnum(s_[end]));
  }
  bool accept(const std::string& literal) {
    if (!peek(literal)) return false;
    pos_ += literal.size();
    return true;
  }
  void expect(const std::string& word) {
    if (!accept(word)) fail("expected '" + word + "'");
  }

  // Decimal number with optional sign, fraction and exponent ("-1.5", ".5", "2e-3").
  bool accept_number(double& value) {
    skip_ws();
    std::size_t i = pos_;
    auto digits = [&] {
      const std::size_t from = i;
      while (i < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i]))) ++i;
      return i - from;
    };
    if (i < s_.size() && (s_[i] == '+' || s_[i] == '-')) ++i;
    std::size_t n = digits();
    if (i < s_.size() && s_[i] == '.') {
      ++i;
      n += digits();
    }
    if (n == 0) return false;
    if (i < s_.size() && s_[i] == 'e') {
      std::size_t j = i + 1;
      if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) ++j;
      const std::size_t k = j;
      while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) ++j;
      if (j > k) i = j;
    }
    // from_chars ignores the global locale (a decimal comma elsewhere must not break
    // parsing) and reports overflow instead of throwing. It takes no leading '+'.
    const char* first = s_.data() + pos_ + (s_[pos_] == '+' ? 1 : 0);
    const auto result = std::from_chars(first, s_.data() + i, value);
    if (result.ec != std::errc() || !std::isfinite(value)) fail("number out of range");
    pos_ = i;
    return true;
  }

  [[noreturn]] void fail(const std::string& why) {
    skip_ws();
    const std::string where = at_end() ? "at the end" : "at '" + original_.substr(pos_) + "'";
    throw std::invalid_argument("invalid protocol step \"" + original_ + "\": " + why + " (" +
                                where + "); " + kAcceptedForms);
  }
  [[noreturn]] void fail_at(std::size_t pos, const std::string& why) {
    pos_ = pos;
    fail(why);
  }

  const std::string& original_;
  std::string s_;
  std::size_t pos_ = 0;
};

}  // namespace

ProtocolStep parse_protocol_step(const std::string& text) { return Parser(text).parse(); }

}  // namespace strata
