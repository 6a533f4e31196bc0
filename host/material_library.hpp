#pragma once
// The material library: one TOML file per active material or electrolyte in a
// directory (default <source>/materials). See docs/scenario-format.md and
// materials/README.md for the file format.
#include <stdexcept>
#include <string>
#include <vector>

#include "host/scenario.hpp"

namespace strata {

// Every input error (scenario or library file) is a ScenarioError whose message
// names the file, the key (full dotted path), the value and what is allowed.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// <STRATA_SOURCE_DIR>/materials, or $STRATA_MATERIALS_DIR when that is set.
std::string default_library_dir();

// Names (file stems) of the library entries of one kind ("active" or
// "electrolyte"; empty: all) in dir, sorted. Files that do not parse are listed
// under every kind. Missing directory: empty list.
std::vector<std::string> list_library(const std::string& dir, const std::string& kind = "");

// True when name is usable as a library entry (letters, digits, '_', '-').
bool valid_material_name(const std::string& name);

// Reads <dir>/<name>.toml. Throws ScenarioError naming the file, key and value;
// a missing file names the material, the directory and what is available there.
ActiveMaterial load_active_material(const std::string& dir, const std::string& name);
Electrolyte load_electrolyte(const std::string& dir, const std::string& name);

// Same from text; path is used in messages and stored in ::file; name is the
// expected `name` (the file stem).
ActiveMaterial parse_active_material(const std::string& toml_text, const std::string& path,
                                     const std::string& name);
Electrolyte parse_electrolyte(const std::string& toml_text, const std::string& path,
                              const std::string& name);

// Range checks of the numbers (also after overrides). `where` starts each message
// (e.g. "scenarios/x.toml: variant \"A\""), key_prefix prefixes every key (e.g.
// "materials.NVP." or "" for the library file itself).
void validate_active_material(const ActiveMaterial& m, const std::string& where,
                              const std::string& key_prefix);
void validate_electrolyte(const Electrolyte& e, const std::string& where,
                          const std::string& key_prefix);

// Number formatting used in every message: shortest round-trip form.
std::string format_number(double v);

}  // namespace strata

// ---------------------------------------------------------------------------
// Internal: the strict TOML reader shared by the loaders. Only visible to the
// translation units that define STRATA_TOML_READER before including this header
// (so that users of the library do not pay for <toml++/toml.h>).
#ifdef STRATA_TOML_READER
#include <initializer_list>
#include <optional>
#include <toml++/toml.h>

namespace strata::detail {

// Unit of a number key: the suffix the key name carries and the unit in words.
struct Unit {
  const char* suffix;   // e.g. "_m" ("" for dimensionless)
  const char* display;  // e.g. "m" ("" for dimensionless)
};

// The units keys carry (one table for the material library and the scenario loader).
inline constexpr Unit kNone{"", ""};
inline constexpr Unit kM{"_m", "m"};
inline constexpr Unit kM2{"_m2", "m2"};
inline constexpr Unit kK{"_K", "K"};
inline constexpr Unit kS{"_s", "s"};
inline constexpr Unit kV{"_V", "V"};
inline constexpr Unit kOhmM2{"_ohm_m2", "ohm m2"};
inline constexpr Unit kAM2{"_A_m2", "A/m2"};
inline constexpr Unit kSM{"_S_m", "S/m"};
inline constexpr Unit kMolM3{"_mol_m3", "mol/m3"};
inline constexpr Unit kKgM3{"_kg_m3", "kg/m3"};
inline constexpr Unit kM2S{"_m2_s", "m2/s"};
inline constexpr Unit kMAhG{"_mAh_g", "mAh/g"};

std::string show_node(const toml::node& n);

// Parses TOML text; a syntax error becomes a ScenarioError naming file:line:column.
toml::table parse_toml(const std::string& text, const std::string& path);

// Reads the keys of one table strictly. Every accessor declares the key allowed;
// finish() rejects the keys that no accessor asked for (listing the allowed ones
// and hinting at unit variants such as thickness_um for thickness_m).
class TableReader {
 public:
  TableReader(const toml::table& t, std::string file, std::string prefix);

  std::string key_path(const std::string& key) const;  // prefix + "." + key
  const std::string& file() const { return file_; }
  const toml::table& table() const { return t_; }

  const toml::node* node(const std::string& key);  // declares allowed; null if absent
  bool has(const std::string& key);

  std::optional<double> number(const std::string& key, Unit unit);
  double number(const std::string& key, Unit unit, double fallback);
  double required_number(const std::string& key, Unit unit);
  std::optional<long long> integer(const std::string& key);
  std::optional<std::string> string(const std::string& key);
  std::string required_string(const std::string& key);
  // A string that must be one of a fixed set of words: the word given (nullopt if
  // the key is absent); any other string fails, naming each allowed word with what
  // it means, for example
  //   allowed "predictive" (Gustafsson's controller) or "standard"
  struct Choice {
    const char* word;
    const char* meaning = nullptr;  // shown in parentheses after the word
  };
  std::optional<std::string> one_of(const std::string& key, std::initializer_list<Choice> choices);
  const toml::table* subtable(const std::string& key);
  const toml::table& required_subtable(const std::string& key);
  const toml::array* array(const std::string& key);
  // Array of numbers (integers accepted).
  std::optional<std::vector<double>> number_array(const std::string& key, Unit unit);

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  [[noreturn]] void missing(const std::string& key, const std::string& what) const;
  // Throws if a key of the table not read so far is a misspelling of `key` (which is
  // absent), naming both.
  void reject_typo_of(const std::string& key, const std::string& what) const;
  void finish() const;

 private:
  struct Allowed {
    std::string key;
    std::string unit_suffix;
  };
  const toml::table& t_;
  std::string file_, prefix_;
  std::vector<Allowed> allowed_;
  void allow(const std::string& key, const char* unit_suffix = "");
  bool is_allowed(const std::string& key) const;  // read so far
  std::string unit_variant_of(const std::string& key) const;
  std::string unit_hint(const std::string& key) const;  // "" or "units are SI ...: use X; "
};

// Reads a number node (integer or float) at key path `path`; throws otherwise.
double node_number(const toml::node& n, const std::string& file, const std::string& path,
                   Unit unit);

}  // namespace strata::detail
#endif
