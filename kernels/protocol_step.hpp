#pragma once
// One step of a cycling protocol, as the device state machine runs it.
// Sign convention: current density > 0 charges the working electrode (oxidation,
// de-intercalation of the cathode); < 0 discharges it.
namespace strata {

enum class StepKind : int {
  Rest = 0,          // zero current for a duration
  ConstantCurrent,   // fixed current until a limit or a duration
  ConstantVoltage,   // fixed measured potential until a current limit or a duration
};

enum class LimitKind : int {
  None = 0,               // only the duration ends the step
  VoltageAbove,           // ends when the measured potential rises to limit_value (V)
  VoltageBelow,           // ends when it falls to limit_value (V)
  CurrentBelowAbsolute,   // CV: ends when |I| falls to limit_value (A/m2)
  CurrentBelowFraction,   // CV: ends when |I| falls to limit_value * |I at step start|
};

struct ProtocolStep {
  StepKind kind = StepKind::Rest;
  // ConstantCurrent: the current is c_rate * (1C current of the variant) when
  // use_c_rate, else current_density_A_m2. Both carry the sign (charge > 0).
  bool use_c_rate = true;
  double c_rate = 0.0;
  double current_density_A_m2 = 0.0;
  // ConstantVoltage: the measured potential held (V vs reference).
  double voltage_V = 0.0;
  // Every step may end by time; +infinity when only the limit ends it.
  double duration_s = 0.0;
  LimitKind limit = LimitKind::None;
  double limit_value = 0.0;
};

}  // namespace strata
