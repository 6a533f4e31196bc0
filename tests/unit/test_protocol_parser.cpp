#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "host/protocol_parser.hpp"

namespace {

using strata::LimitKind;
using strata::parse_protocol_step;
using strata::ProtocolStep;
using strata::StepKind;

constexpr double kInf = std::numeric_limits<double>::infinity();

// --- Rest ---

TEST(ProtocolRest, Seconds) {
  const ProtocolStep s = parse_protocol_step("Rest for 30 seconds");
  EXPECT_EQ(s.kind, StepKind::Rest);
  EXPECT_DOUBLE_EQ(s.duration_s, 30.0);
  EXPECT_EQ(s.limit, LimitKind::None);
  // Unused fields keep the struct defaults.
  const ProtocolStep d;
  EXPECT_EQ(s.use_c_rate, d.use_c_rate);
  EXPECT_EQ(s.c_rate, d.c_rate);
  EXPECT_EQ(s.current_density_A_m2, d.current_density_A_m2);
  EXPECT_EQ(s.voltage_V, d.voltage_V);
  EXPECT_EQ(s.limit_value, d.limit_value);
}

TEST(ProtocolRest, EveryDurationUnit) {
  struct Case {
    const char* text;
    double seconds;
  };
  const Case cases[] = {
      {"Rest for 30 seconds", 30.0}, {"Rest for 1 second", 1.0},   {"Rest for 30 s", 30.0},
      {"Rest for 30s", 30.0},        {"Rest for 30 sec", 30.0},    {"Rest for 5 minutes", 300.0},
      {"Rest for 1 minute", 60.0},   {"Rest for 2 min", 120.0},    {"Rest for 1.5 hours", 5400.0},
      {"Rest for 1 hour", 3600.0},   {"Rest for 2 h", 7200.0},     {"Rest for 2h", 7200.0},
      {"Rest for .5 h", 1800.0},     {"Rest for 1e2 s", 100.0},
  };
  for (const Case& c : cases) {
    const ProtocolStep s = parse_protocol_step(c.text);
    EXPECT_EQ(s.kind, StepKind::Rest) << c.text;
    EXPECT_DOUBLE_EQ(s.duration_s, c.seconds) << c.text;
    EXPECT_EQ(s.limit, LimitKind::None) << c.text;
  }
}

TEST(ProtocolRest, CaseAndSpacesTolerated) {
  const ProtocolStep s = parse_protocol_step("  rEsT   FOR\t10   MINUTES  ");
  EXPECT_EQ(s.kind, StepKind::Rest);
  EXPECT_DOUBLE_EQ(s.duration_s, 600.0);
}

// --- Constant current ---

TEST(ProtocolConstantCurrent, ChargeCRateUntilVoltage) {
  const ProtocolStep s = parse_protocol_step("Charge at 3C until 3.6 V");
  EXPECT_EQ(s.kind, StepKind::ConstantCurrent);
  EXPECT_TRUE(s.use_c_rate);
  EXPECT_DOUBLE_EQ(s.c_rate, 3.0);
  EXPECT_EQ(s.current_density_A_m2, 0.0);
  EXPECT_EQ(s.duration_s, kInf);
  EXPECT_EQ(s.limit, LimitKind::VoltageAbove);
  EXPECT_DOUBLE_EQ(s.limit_value, 3.6);
  EXPECT_EQ(s.voltage_V, 0.0);
}

TEST(ProtocolConstantCurrent, DischargeIsNegativeAndEndsBelow) {
  const ProtocolStep s = parse_protocol_step("Discharge at 0.1C until 2.3 V");
  EXPECT_EQ(s.kind, StepKind::ConstantCurrent);
  EXPECT_TRUE(s.use_c_rate);
  EXPECT_DOUBLE_EQ(s.c_rate, -0.1);
  EXPECT_EQ(s.duration_s, kInf);
  EXPECT_EQ(s.limit, LimitKind::VoltageBelow);
  EXPECT_DOUBLE_EQ(s.limit_value, 2.3);
}

TEST(ProtocolConstantCurrent, CRateForms) {
  EXPECT_DOUBLE_EQ(parse_protocol_step("Charge at 0.05C until 3.6 V").c_rate, 0.05);
  EXPECT_DOUBLE_EQ(parse_protocol_step("Charge at C/20 until 3.6 V").c_rate, 0.05);
  EXPECT_DOUBLE_EQ(parse_protocol_step("Charge at C/2 until 3.6 V").c_rate, 0.5);
  EXPECT_DOUBLE_EQ(parse_protocol_step("Discharge at C/2 until 2 V").c_rate, -0.5);
  EXPECT_DOUBLE_EQ(parse_protocol_step("charge at 3 c until 3.6 v").c_rate, 3.0);
  EXPECT_DOUBLE_EQ(parse_protocol_step("Charge at c / 4 until 3.6 V").c_rate, 0.25);
}

TEST(ProtocolConstantCurrent, CurrentDensityForms) {
  ProtocolStep s = parse_protocol_step("Charge at 5 A/m2 until 3.6 V");
  EXPECT_FALSE(s.use_c_rate);
  EXPECT_DOUBLE_EQ(s.current_density_A_m2, 5.0);
  EXPECT_EQ(s.c_rate, 0.0);

  s = parse_protocol_step("Discharge at 12.5 A/m2 until 2.0 V");
  EXPECT_FALSE(s.use_c_rate);
  EXPECT_DOUBLE_EQ(s.current_density_A_m2, -12.5);
  EXPECT_EQ(s.limit, LimitKind::VoltageBelow);

  s = parse_protocol_step("Charge at 0.5 mA/cm2 until 3.6 V");
  EXPECT_FALSE(s.use_c_rate);
  EXPECT_DOUBLE_EQ(s.current_density_A_m2, 5.0);  // 1 mA/cm2 = 10 A/m2

  s = parse_protocol_step("Discharge at 2 MA/CM2 for 1 hour");
  EXPECT_DOUBLE_EQ(s.current_density_A_m2, -20.0);
}

TEST(ProtocolConstantCurrent, DurationOnly) {
  const ProtocolStep s = parse_protocol_step("Charge at 1C for 1 hour");
  EXPECT_EQ(s.kind, StepKind::ConstantCurrent);
  EXPECT_DOUBLE_EQ(s.c_rate, 1.0);
  EXPECT_DOUBLE_EQ(s.duration_s, 3600.0);
  EXPECT_EQ(s.limit, LimitKind::None);
  EXPECT_EQ(s.limit_value, 0.0);
}

TEST(ProtocolConstantCurrent, DurationOrUntil) {
  // PyBaMM's own form, and the same without "or".
  for (const char* text : {"Discharge at 1C for 1 hour or until 2.5 V",
                           "Discharge at 1C for 1 hour until 2.5 V"}) {
    const ProtocolStep s = parse_protocol_step(text);
    EXPECT_EQ(s.kind, StepKind::ConstantCurrent) << text;
    EXPECT_DOUBLE_EQ(s.c_rate, -1.0) << text;
    EXPECT_DOUBLE_EQ(s.duration_s, 3600.0) << text;
    EXPECT_EQ(s.limit, LimitKind::VoltageBelow) << text;
    EXPECT_DOUBLE_EQ(s.limit_value, 2.5) << text;
  }
}

TEST(ProtocolConstantCurrent, MillivoltLimit) {
  const ProtocolStep s = parse_protocol_step("Charge at 1C until 3600 mV");
  EXPECT_EQ(s.limit, LimitKind::VoltageAbove);
  EXPECT_DOUBLE_EQ(s.limit_value, 3.6);
}

TEST(ProtocolConstantCurrent, NegativeVoltageLimitAllowed) {
  // A potential vs the reference electrode may be below zero.
  const ProtocolStep s = parse_protocol_step("Discharge at 0.1C until -0.05 V");
  EXPECT_EQ(s.limit, LimitKind::VoltageBelow);
  EXPECT_DOUBLE_EQ(s.limit_value, -0.05);
}

// --- Constant voltage ---

TEST(ProtocolHold, FractionOfInitialCurrent) {
  const ProtocolStep s = parse_protocol_step("Hold at 2.3 V until 50% of initial current");
  EXPECT_EQ(s.kind, StepKind::ConstantVoltage);
  EXPECT_DOUBLE_EQ(s.voltage_V, 2.3);
  EXPECT_EQ(s.duration_s, kInf);
  EXPECT_EQ(s.limit, LimitKind::CurrentBelowFraction);
  EXPECT_DOUBLE_EQ(s.limit_value, 0.5);
  EXPECT_FALSE(s.use_c_rate);
  EXPECT_EQ(s.c_rate, 0.0);
  EXPECT_EQ(s.current_density_A_m2, 0.0);
}

TEST(ProtocolHold, FractionSpacing) {
  const ProtocolStep s = parse_protocol_step("hold at 4.2v until 2.5 %  of  initial  current");
  EXPECT_DOUBLE_EQ(s.voltage_V, 4.2);
  EXPECT_EQ(s.limit, LimitKind::CurrentBelowFraction);
  EXPECT_DOUBLE_EQ(s.limit_value, 0.025);
}

TEST(ProtocolHold, AbsoluteDensityLimit) {
  ProtocolStep s = parse_protocol_step("Hold at 3.6 V until 1 A/m2");
  EXPECT_EQ(s.kind, StepKind::ConstantVoltage);
  EXPECT_EQ(s.limit, LimitKind::CurrentBelowAbsolute);
  EXPECT_DOUBLE_EQ(s.limit_value, 1.0);
  EXPECT_FALSE(s.use_c_rate);

  s = parse_protocol_step("Hold at 3.6 V until 0.1 mA/cm2");
  EXPECT_EQ(s.limit, LimitKind::CurrentBelowAbsolute);
  EXPECT_DOUBLE_EQ(s.limit_value, 1.0);
  EXPECT_FALSE(s.use_c_rate);
}

TEST(ProtocolHold, CRateLimit) {
  for (const char* text : {"Hold at 3.6 V until C/50", "Hold at 3.6 V until 0.02C"}) {
    const ProtocolStep s = parse_protocol_step(text);
    EXPECT_EQ(s.kind, StepKind::ConstantVoltage) << text;
    EXPECT_EQ(s.limit, LimitKind::CurrentBelowAbsolute) << text;
    EXPECT_TRUE(s.use_c_rate) << text;
    EXPECT_DOUBLE_EQ(s.c_rate, 0.02) << text;  // magnitude; the runner scales by 1C
    EXPECT_EQ(s.limit_value, 0.0) << text;
  }
}

TEST(ProtocolHold, DurationForms) {
  ProtocolStep s = parse_protocol_step("Hold at 3.6 V for 10 minutes");
  EXPECT_EQ(s.kind, StepKind::ConstantVoltage);
  EXPECT_DOUBLE_EQ(s.duration_s, 600.0);
  EXPECT_EQ(s.limit, LimitKind::None);

  s = parse_protocol_step("Hold at 3600 mV for 1 h or until 10% of initial current");
  EXPECT_DOUBLE_EQ(s.voltage_V, 3.6);
  EXPECT_DOUBLE_EQ(s.duration_s, 3600.0);
  EXPECT_EQ(s.limit, LimitKind::CurrentBelowFraction);
  EXPECT_DOUBLE_EQ(s.limit_value, 0.1);
}

// --- Rejections ---

void expect_rejected(const std::string& text) {
  try {
    parse_protocol_step(text);
    ADD_FAILURE() << "accepted: \"" << text << "\"";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("\"" + text + "\""), std::string::npos)
        << "message does not quote the text: " << message;
    EXPECT_NE(message.find("accepted forms"), std::string::npos) << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "\"" << text << "\" threw a non-invalid_argument: " << e.what();
  }
}

TEST(ProtocolReject, UnknownVerbOrEmpty) {
  for (const char* text : {"", "   ", "Relax for 30 seconds", "Cycle at 1C until 3 V",
                           "Charging at 1C until 3.6 V", "Restfor 30 s", "30 seconds"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, MissingNumbersOrUnits) {
  for (const char* text :
       {"Rest for seconds", "Rest for 30", "Rest for 30 days", "Rest for", "Rest 30 s",
        "Charge at C until 3.6 V", "Charge at C/ until 3.6 V", "Charge at until 3.6 V",
        "Charge at 3 until 3.6 V", "Charge at 3C until V", "Charge at 3C until 3.6",
        "Charge 3C until 3.6 V", "Hold at V until 50% of initial current",
        "Hold at 3.6 until 50% of initial current", "Hold at 3.6 V until % of initial current",
        "Hold at 3.6 V until 50%", "Hold at 3.6 V until 50% of current",
        "Charge at 3C for until 3.6 V", "Charge at 3C for 1 hour or", "Charge at 3C or until 3.6 V",
        "Charge at 3C until 3.6 volts", "Charge at 1e999C until 3 V"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, NonPositiveRatesAndDurations) {
  for (const char* text :
       {"Rest for 0 seconds", "Rest for -5 s", "Charge at 0C until 3.6 V", "Charge at -1C until 3.6 V",
        "Discharge at C/0 until 2 V", "Discharge at C/-2 until 2 V", "Charge at 0 A/m2 until 3.6 V",
        "Discharge at -3 mA/cm2 until 2 V", "Charge at 1C for 0 h", "Charge at 1C for -1 h until 3 V",
        "Hold at 3.6 V for 0 s", "Hold at 3.6 V until 0 A/m2", "Hold at 3.6 V until C/0",
        "Hold at 3.6 V until -0.02C"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, PercentOutsideOpenInterval) {
  for (const char* text : {"Hold at 2.3 V until 0% of initial current",
                           "Hold at 2.3 V until 100% of initial current",
                           "Hold at 2.3 V until 150% of initial current",
                           "Hold at 2.3 V until -5% of initial current"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, WrongLimitForStepKind) {
  for (const char* text :
       {"Rest until 3 V", "Rest for 30 s until 3 V", "Rest for 30 s or until 3 V",
        "Hold at 3.6 V until 3.0 V", "Hold at 3.6 V for 1 h or until 3000 mV",
        "Charge at 1C until 50% of initial current", "Charge at 1C until C/50",
        "Discharge at 1C until 1 A/m2", "Charge at 1C until 0.02C"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, NoEndCondition) {
  for (const char* text : {"Charge at 3C", "Discharge at 5 A/m2", "Hold at 3.6 V", "Rest"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, TrailingGarbage) {
  for (const char* text :
       {"Rest for 30 seconds please", "Rest for 30 seconds.", "Charge at 3C until 3.6 V now",
        "Charge at 3C/2 until 3.6 V", "Charge at 3C until 3.6 V for 1 hour",
        "Hold at 2.3 V until 50% of initial current x", "Discharge at 1C for 1 hour or until 2.5 V 2",
        "Charge at 3.6.2C until 3 V", "Rest for 30 s 30 s"}) {
    expect_rejected(text);
  }
}

TEST(ProtocolReject, MessageNamesTheProblem) {
  try {
    parse_protocol_step("Charge at 3C");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("end condition"), std::string::npos) << e.what();
  }
  try {
    parse_protocol_step("Rest for 30 seconds please");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'please'"), std::string::npos) << e.what();
  }
}

}  // namespace
