// Reading and validating the material library (materials/*.toml), and the strict
// TOML reader shared with the scenario loader.
#define STRATA_TOML_READER 1
#include "host/material_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace strata {

namespace fs = std::filesystem;

std::string format_number(double v) { return fmt::format("{}", v); }

namespace detail {

std::string show_node(const toml::node& n) {
  if (auto s = n.as_string()) return fmt::format("\"{}\"", s->get());
  if (auto i = n.as_integer()) return fmt::format("{}", i->get());
  if (auto f = n.as_floating_point()) return format_number(f->get());
  if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
  if (auto a = n.as_array()) {
    std::string out = "[";
    for (size_t k = 0; k < a->size(); ++k) {
      if (k) out += ", ";
      if (k >= 8) {
        out += "...";
        break;
      }
      out += show_node(*a->get(k));
    }
    return out + "]";
  }
  if (n.is_table()) return "{...} (a table)";
  return "(a date or time)";
}

toml::table parse_toml(const std::string& text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ScenarioError(fmt::format("{}:{}:{}: TOML syntax error: {}", path, b.line, b.column,
                                    e.description()));
  }
}

static std::string unit_words(Unit u) {
  return *u.display ? fmt::format("a number in {}", u.display) : std::string("a plain number");
}

double node_number(const toml::node& n, const std::string& file, const std::string& path,
                   Unit unit) {
  double v;
  if (auto i = n.as_integer()) {
    v = static_cast<double>(i->get());
  } else if (auto f = n.as_floating_point()) {
    v = f->get();
  } else if (n.is_string()) {
    throw ScenarioError(fmt::format(
        "{}: {} = {} is a string; the key expects {} (units are SI and stated in the key "
        "name; write the number without a unit)",
        file, path, show_node(n), unit_words(unit)));
  } else {
    throw ScenarioError(fmt::format("{}: {} = {} has the wrong type; the key expects {}", file,
                                    path, show_node(n), unit_words(unit)));
  }
  if (!std::isfinite(v))
    throw ScenarioError(fmt::format("{}: {} = {} is not finite; the key expects {}", file, path,
                                    show_node(n), unit_words(unit)));
  return v;
}

TableReader::TableReader(const toml::table& t, std::string file, std::string prefix)
    : t_(t), file_(std::move(file)), prefix_(std::move(prefix)) {}

std::string TableReader::key_path(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "." + key;
}

void TableReader::allow(const std::string& key, const char* unit_suffix) {
  if (!is_allowed(key)) allowed_.push_back({key, unit_suffix});
}

const toml::node* TableReader::node(const std::string& key) {
  allow(key);
  return t_.get(key);
}

bool TableReader::has(const std::string& key) { return node(key) != nullptr; }

std::optional<double> TableReader::number(const std::string& key, Unit unit) {
  allow(key, unit.suffix);
  const toml::node* n = t_.get(key);
  if (!n) return std::nullopt;
  return node_number(*n, file_, key_path(key), unit);
}

double TableReader::number(const std::string& key, Unit unit, double fallback) {
  auto v = number(key, unit);
  return v ? *v : fallback;
}

double TableReader::required_number(const std::string& key, Unit unit) {
  auto v = number(key, unit);
  if (!v) missing(key, unit_words(unit));
  return *v;
}

std::optional<long long> TableReader::integer(const std::string& key) {
  allow(key);
  const toml::node* n = t_.get(key);
  if (!n) return std::nullopt;
  if (auto i = n->as_integer()) return i->get();
  fail(key, "is not an integer; the key expects a whole number");
}

std::optional<std::string> TableReader::string(const std::string& key) {
  allow(key);
  const toml::node* n = t_.get(key);
  if (!n) return std::nullopt;
  if (auto s = n->as_string()) return s->get();
  fail(key, "is not a string; the key expects a quoted string");
}

std::optional<std::string> TableReader::one_of(const std::string& key, std::initializer_list<Choice> choices) {
  const auto value = string(key);
  if (!value) return std::nullopt;
  for (const Choice& c : choices)
    if (*value == c.word) return value;
  std::string allowed;
  int index = 0;
  for (const Choice& c : choices) {
    if (index > 0) allowed += index + 1 == (int)choices.size() ? " or " : ", ";
    allowed += fmt::format("\"{}\"", c.word);
    if (c.meaning) allowed += fmt::format(" ({})", c.meaning);
    ++index;
  }
  fail(key, "is not allowed; allowed " + allowed);
}

std::string TableReader::required_string(const std::string& key) {
  auto v = string(key);
  if (!v) missing(key, "a string");
  return *v;
}

const toml::table* TableReader::subtable(const std::string& key) {
  allow(key);
  const toml::node* n = t_.get(key);
  if (!n) return nullptr;
  if (auto t = n->as_table()) return t;
  fail(key, "is not a table");
}

const toml::table& TableReader::required_subtable(const std::string& key) {
  auto t = subtable(key);
  if (!t) missing(key, "a table");
  return *t;
}

const toml::array* TableReader::array(const std::string& key) {
  allow(key);
  const toml::node* n = t_.get(key);
  if (!n) return nullptr;
  if (auto a = n->as_array()) return a;
  fail(key, "is not an array");
}

std::optional<std::vector<double>> TableReader::number_array(const std::string& key, Unit unit) {
  allow(key, unit.suffix);
  const toml::node* n = t_.get(key);
  if (!n) return std::nullopt;
  const toml::array* a = n->as_array();
  if (!a)
    fail(key, fmt::format("is not an array; the key expects an array of numbers{}",
                          *unit.display ? fmt::format(" in {}", unit.display) : ""));
  std::vector<double> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i)
    out.push_back(node_number(*a->get(i), file_, fmt::format("{}[{}]", key_path(key), i), unit));
  return out;
}

void TableReader::fail(const std::string& key, const std::string& what) const {
  const toml::node* n = t_.get(key);
  if (n)
    throw ScenarioError(fmt::format("{}: {} = {} {}", file_, key_path(key), show_node(*n), what));
  throw ScenarioError(fmt::format("{}: {} {}", file_, key_path(key), what));
}

// Edit distance (insertions, deletions, substitutions) between two keys.
static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// A misspelling of `key` ("porisity" for "porosity"): one edit, or two in a key of
// six characters or more.
static bool looks_like_typo_of(const std::string& written, const std::string& key) {
  const size_t d = edit_distance(written, key);
  return d > 0 && d <= (key.size() >= 6 ? 2u : 1u);
}

bool TableReader::is_allowed(const std::string& key) const {
  for (const auto& a : allowed_)
    if (a.key == key) return true;
  return false;
}

void TableReader::reject_typo_of(const std::string& key, const std::string& what) const {
  for (const auto& [k, n] : t_) {
    const std::string written(k.str());
    if (!is_allowed(written) && looks_like_typo_of(written, key))
      throw ScenarioError(fmt::format("{}: unknown key {} = {}; did you mean {}? The key {} is required{}", file_,
                                      key_path(written), show_node(n), key, key_path(key),
                                      what.empty() ? "" : fmt::format(" ({})", what)));
  }
}

void TableReader::missing(const std::string& key, const std::string& what) const {
  // A key written with other units (thickness_um for thickness_m) reads as missing:
  // name the key that was written instead.
  for (const auto& [k, n] : t_) {
    const std::string written(k.str());
    if (is_allowed(written)) continue;
    if (unit_variant_of(written) == key)
      throw ScenarioError(fmt::format("{}: unknown key {} = {}; {}the key {} is required", file_,
                                      key_path(written), show_node(n), unit_hint(written),
                                      key_path(key)));
  }
  reject_typo_of(key, what);
  throw ScenarioError(fmt::format("{}: missing required key {}{}", file_, key_path(key),
                                  what.empty() ? "" : fmt::format(" ({})", what)));
}

// "um", "mS_cm", "mol_L", "degC", "percent": does the rest of a key look like a unit?
static bool looks_like_unit(const std::string& rest) {
  static const std::regex re(
      "^((([munckMG]|u)?(m|s|K|C|S|L|mol|M|V|A|ohm|Ohm|g|Ah|Wh|h|min|F|W|J)[0-9]?)|degC|percent|"
      "pct|per|frac|fraction|ppm)(_(([munckMG]|u)?(m|s|K|C|S|L|mol|M|V|A|ohm|Ohm|g|Ah|Wh|h|min|F|"
      "W|J)[0-9]?|per))*$");
  return std::regex_match(rest, re);
}

// The allowed key that `key` looks like a unit variant of ("" if none).
std::string TableReader::unit_variant_of(const std::string& key) const {
  for (const auto& a : allowed_) {
    const std::string& s = a.unit_suffix;
    if (a.key.size() < s.size()) continue;
    const std::string base = a.key.substr(0, a.key.size() - s.size());
    const bool same_base = !s.empty() && key == base;
    const bool unit_variant = key.size() > base.size() + 1 &&
                              key.compare(0, base.size() + 1, base + "_") == 0 &&
                              looks_like_unit(key.substr(base.size() + 1));
    if (same_base || unit_variant) return a.key;
  }
  return "";
}

std::string TableReader::unit_hint(const std::string& key) const {
  const std::string a = unit_variant_of(key);
  if (a.empty()) return "";
  bool dimensionless = false;
  for (const auto& x : allowed_) dimensionless = dimensionless || (x.key == a && x.unit_suffix.empty());
  return fmt::format("units are SI and stated in the key name: use {}{}; ", a,
                     dimensionless ? " (a plain number)" : "");
}

void TableReader::finish() const {
  for (const auto& [k, n] : t_) {
    const std::string key(k.str());
    if (is_allowed(key)) continue;
    const std::string hint = unit_hint(key);
    std::string list;
    for (const auto& a : allowed_) list += (list.empty() ? "" : ", ") + a.key;
    throw ScenarioError(fmt::format("{}: unknown key {} = {}; {}allowed keys{}: {}", file_,
                                    key_path(key), show_node(n), hint,
                                    prefix_.empty() ? " at the top level"
                                                    : fmt::format(" in {}", prefix_),
                                    list));
  }
}

}  // namespace detail

using detail::TableReader;
using detail::Unit;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace {


[[noreturn]] void range_fail(const std::string& where, const std::string& key, double v,
                             const std::string& allowed) {
  throw ScenarioError(fmt::format("{}: {} = {} is out of range; allowed {}", where, key,
                                  format_number(v), allowed));
}

std::string show_values(const std::vector<double>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    if (i >= 8) {
      out += "...";
      break;
    }
    out += format_number(v[i]);
  }
  return out + "]";
}

// Table checks: equal lengths, >= 2 points, strictly increasing x.
void check_table(const Table1D& t, const std::string& where, const std::string& xkey,
                 const std::string& ykey) {
  if (t.x.size() != t.y.size())
    throw ScenarioError(fmt::format(
        "{}: {} has {} points but {} has {}; the two arrays must have the same length", where,
        xkey, t.x.size(), ykey, t.y.size()));
  if (t.x.size() < 2)
    throw ScenarioError(fmt::format("{}: {} = {} has {} point(s); a table needs at least 2", where,
                                    xkey, show_values(t.x), t.x.size()));
  for (size_t i = 1; i < t.x.size(); ++i)
    if (!(t.x[i] > t.x[i - 1]))
      throw ScenarioError(fmt::format(
          "{}: {} = {} is not strictly increasing ({} after {} at index {}); allowed: strictly "
          "increasing values",
          where, xkey, show_values(t.x), format_number(t.x[i]), format_number(t.x[i - 1]), i));
}

Table1D read_table(TableReader& r, const std::string& key, const char* xname, Unit xunit,
                   const char* yname, Unit yunit) {
  const toml::table* t = r.subtable(key);
  if (!t) r.missing(key, fmt::format("a table {{ {} = [...], {} = [...] }}", xname, yname));
  TableReader tr(*t, r.file(), r.key_path(key));
  Table1D out;
  auto x = tr.number_array(xname, xunit);
  auto y = tr.number_array(yname, yunit);
  tr.finish();
  if (!x) tr.missing(xname, "an array of numbers");
  if (!y) tr.missing(yname, "an array of numbers");
  out.x = *x;
  out.y = *y;
  check_table(out, r.file(), tr.key_path(xname), tr.key_path(yname));
  return out;
}

ScalarOrTable read_property(TableReader& r, const std::string& key, Unit unit) {
  ScalarOrTable out;
  const toml::node* n = r.node(key);
  if (!n) r.missing(key, fmt::format("a number in {} or a table {{ c_mol_m3 = [...], value = [...] }}",
                                     *unit.display ? unit.display : "plain units"));
  if (n->is_table()) {
    out.tabulated = true;
    out.table = read_table(r, key, "c_mol_m3", kMolM3, "value", unit);
  } else {
    out.value = detail::node_number(*n, r.file(), r.key_path(key), unit);
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(fmt::format("{}: cannot open the file for reading", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string check_kind(TableReader& r, const std::string& expected) {
  const std::string kind = r.required_string("kind");
  if (kind != "active" && kind != "electrolyte")
    r.fail("kind", "is not a known kind; allowed \"active\" or \"electrolyte\"");
  if (kind != expected)
    r.fail("kind", fmt::format("but an {} was expected here (this library entry is an {})",
                               expected == "active" ? "active material" : "electrolyte",
                               kind == "active" ? "active material" : "electrolyte"));
  return kind;
}

std::string check_name(TableReader& r, const std::string& expected) {
  const std::string name = r.required_string("name");
  if (!expected.empty() && name != expected)
    r.fail("name", fmt::format("does not match the file name; allowed \"{}\" (the file stem)",
                               expected));
  if (!valid_material_name(name))
    r.fail("name", "is not a valid material name; allowed letters, digits, '_' and '-'");
  return name;
}

}  // namespace

std::string default_library_dir() {
  if (const char* env = std::getenv("STRATA_MATERIALS_DIR"); env && *env) return env;
#ifdef STRATA_SOURCE_DIR
  return std::string(STRATA_SOURCE_DIR) + "/materials";
#else
  return "materials";
#endif
}

bool valid_material_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

std::vector<std::string> list_library(const std::string& dir, const std::string& kind) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".toml") continue;
    const std::string stem = e.path().stem().string();
    if (!kind.empty()) {
      try {
        toml::table t = toml::parse_file(e.path().string());
        if (auto k = t["kind"].value<std::string>(); k && *k != kind) continue;
      } catch (const std::exception&) {
        // unreadable: list it anyway
      }
    }
    out.push_back(stem);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ActiveMaterial parse_active_material(const std::string& toml_text, const std::string& path,
                                     const std::string& name) {
  toml::table root = detail::parse_toml(toml_text, path);
  TableReader r(root, path, "");
  ActiveMaterial m;
  m.file = path;
  check_kind(r, "active");
  m.name = check_name(r, name);
  r.string("formula");
  r.string("notes");
  m.source = r.required_string("source");
  if (m.source.empty()) r.fail("source", "is empty; say where the numbers come from");
  m.density_kg_m3 = r.required_number("density_kg_m3", kKgM3);
  m.accessible_fraction = r.number("accessible_fraction", kNone, m.accessible_fraction);
  m.max_concentration_mol_m3 = r.required_number("max_concentration_mol_m3", kMolM3);
  m.stoichiometry_charged = r.required_number("stoichiometry_charged", kNone);
  m.stoichiometry_discharged = r.required_number("stoichiometry_discharged", kNone);
  m.diffusivity_m2_s = r.required_number("diffusivity_m2_s", kM2S);
  if (r.node("diffusivity_factor"))
    m.diffusivity_factor = read_table(r, "diffusivity_factor", "sto", kNone, "factor", kNone);
  m.exchange_current_density_A_m2 = r.required_number("exchange_current_density_A_m2", kAM2);
  m.reference_concentration_mol_m3 =
      r.number("reference_concentration_mol_m3", kMolM3, m.reference_concentration_mol_m3);
  m.alpha_anodic = r.number("alpha_anodic", kNone, m.alpha_anodic);
  m.alpha_cathodic = r.number("alpha_cathodic", kNone, m.alpha_cathodic);

  const toml::table& ocp = r.required_subtable("ocp");
  TableReader o(ocp, path, "ocp");
  const bool has_table = o.has("table");
  const bool has_closed = o.has("E0_V");
  const bool has_closed_extra = o.has("slope_V") || o.has("ideality") || o.has("tanh");
  if (has_table && (has_closed || has_closed_extra))
    throw ScenarioError(fmt::format(
        "{}: ocp has both a table and closed-form keys (E0_V, slope_V, ideality, tanh); allowed "
        "exactly one form: ocp.table = {{ sto = [...], V = [...] }} or ocp.E0_V (+ slope_V, "
        "ideality, tanh)",
        path));
  if (!has_table && !has_closed)
    throw ScenarioError(fmt::format(
        "{}: ocp needs either ocp.table = {{ sto = [...], V = [...] }} or the closed form "
        "ocp.E0_V (+ optional slope_V, ideality, tanh)",
        path));
  if (has_table) {
    m.ocp_tabulated = true;
    m.ocp_table_V = read_table(o, "table", "sto", kNone, "V", kV);
  } else {
    m.ocp_tabulated = false;
    m.ocp_closed.E0_V = o.required_number("E0_V", kV);
    m.ocp_closed.slope_V = o.number("slope_V", kV, 0.0);
    m.ocp_closed.ideality = o.number("ideality", kNone, 1.0);
    if (const toml::array* a = o.array("tanh")) {
      for (size_t i = 0; i < a->size(); ++i) {
        const std::string p = fmt::format("ocp.tanh[{}]", i);
        const toml::table* t = a->get(i)->as_table();
        if (!t)
          throw ScenarioError(fmt::format(
              "{}: {} = {} is not a table; allowed {{ amplitude_V = ..., center = ..., width = ... }}",
              path, p, detail::show_node(*a->get(i))));
        TableReader tr(*t, path, p);
        m.ocp_closed.tanh_amplitude_V.push_back(tr.required_number("amplitude_V", kV));
        m.ocp_closed.tanh_center.push_back(tr.required_number("center", kNone));
        m.ocp_closed.tanh_width.push_back(tr.required_number("width", kNone));
        tr.finish();
      }
    }
  }
  o.finish();
  r.finish();
  validate_active_material(m, path, "");
  return m;
}

Electrolyte parse_electrolyte(const std::string& toml_text, const std::string& path,
                              const std::string& name) {
  toml::table root = detail::parse_toml(toml_text, path);
  TableReader r(root, path, "");
  Electrolyte e;
  e.file = path;
  check_kind(r, "electrolyte");
  e.name = check_name(r, name);
  r.string("formula");
  r.string("notes");
  e.source = r.required_string("source");
  if (e.source.empty()) r.fail("source", "is empty; say where the numbers come from");
  e.conductivity_S_m = read_property(r, "conductivity_S_m", kSM);
  e.diffusivity_m2_s = read_property(r, "diffusivity_m2_s", kM2S);
  e.transference_number = read_property(r, "transference_number", kNone);
  e.thermodynamic_factor = read_property(r, "thermodynamic_factor", kNone);
  r.finish();
  validate_electrolyte(e, path, "");
  return e;
}

namespace {

std::string missing_material_message(const std::string& dir, const std::string& name,
                                     const std::string& kind) {
  const auto avail = list_library(dir, kind);
  std::string list;
  for (const auto& a : avail) list += (list.empty() ? "" : ", ") + a;
  return fmt::format("{} \"{}\" not found: no file {}.toml in the material library directory {}; "
                     "available {}: {}",
                     kind == "active" ? "material" : "electrolyte", name, name, dir,
                     kind == "active" ? "active materials" : "electrolytes",
                     list.empty() ? "(none: the directory is missing or empty)" : list);
}

std::string entry_path(const std::string& dir, const std::string& name, const std::string& kind) {
  if (!valid_material_name(name))
    throw ScenarioError(fmt::format(
        "\"{}\" is not a valid {} name; allowed letters, digits, '_' and '-' (the file stem in {})",
        name, kind == "active" ? "material" : "electrolyte", dir));
  const fs::path p = fs::path(dir) / (name + ".toml");
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) throw ScenarioError(missing_material_message(dir, name, kind));
  return p.string();
}

}  // namespace

ActiveMaterial load_active_material(const std::string& dir, const std::string& name) {
  const std::string p = entry_path(dir, name, "active");
  return parse_active_material(read_file(p), p, name);
}

Electrolyte load_electrolyte(const std::string& dir, const std::string& name) {
  const std::string p = entry_path(dir, name, "electrolyte");
  return parse_electrolyte(read_file(p), p, name);
}

void validate_active_material(const ActiveMaterial& m, const std::string& where,
                              const std::string& kp) {
  auto key = [&](const char* k) { return kp + k; };
  auto pos = [&](const char* k, double v, double hi, const char* hi_text) {
    if (!(v > 0.0 && v <= hi))
      range_fail(where, key(k), v, fmt::format("0 < {} <= {}", k, hi_text));
  };
  pos("density_kg_m3", m.density_kg_m3, 1e5, "1e5");
  pos("max_concentration_mol_m3", m.max_concentration_mol_m3, 1e6, "1e6");
  pos("accessible_fraction", m.accessible_fraction, 1.0, "1");
  pos("diffusivity_m2_s", m.diffusivity_m2_s, 1e-6, "1e-6");
  pos("exchange_current_density_A_m2", m.exchange_current_density_A_m2, 1e6, "1e6");
  pos("reference_concentration_mol_m3", m.reference_concentration_mol_m3, 1e5, "1e5");
  if (!(m.alpha_anodic > 0.0 && m.alpha_anodic <= 1.0))
    range_fail(where, key("alpha_anodic"), m.alpha_anodic, "0 < alpha_anodic <= 1");
  if (!(m.alpha_cathodic > 0.0 && m.alpha_cathodic <= 1.0))
    range_fail(where, key("alpha_cathodic"), m.alpha_cathodic, "0 < alpha_cathodic <= 1");
  const double xc = m.stoichiometry_charged, xd = m.stoichiometry_discharged;
  if (!(xc >= 0.0 && xc < 1.0))
    range_fail(where, key("stoichiometry_charged"), xc,
               "0 <= stoichiometry_charged < stoichiometry_discharged <= 1");
  if (!(xd > 0.0 && xd <= 1.0))
    range_fail(where, key("stoichiometry_discharged"), xd,
               "0 <= stoichiometry_charged < stoichiometry_discharged <= 1");
  if (!(xc < xd))
    throw ScenarioError(fmt::format(
        "{}: {} = {} is not below {} = {}; allowed 0 <= stoichiometry_charged < "
        "stoichiometry_discharged <= 1 (x = c/c_max falls as the cathode charges)",
        where, key("stoichiometry_charged"), format_number(xc), key("stoichiometry_discharged"),
        format_number(xd)));
  if (!m.diffusivity_factor.x.empty()) {
    check_table(m.diffusivity_factor, where, key("diffusivity_factor.sto"),
                key("diffusivity_factor.factor"));
    for (size_t i = 0; i < m.diffusivity_factor.y.size(); ++i)
      if (!(m.diffusivity_factor.y[i] > 0.0))
        range_fail(where, fmt::format("{}[{}]", key("diffusivity_factor.factor"), i),
                   m.diffusivity_factor.y[i], "factor > 0");
  }
  const double x0 = m.initial_stoichiometry;  // NaN: not given
  if (!std::isnan(x0) && !(x0 > 0.0 && x0 < 1.0))
    range_fail(where, key("initial_stoichiometry"), x0, "0 < initial_stoichiometry < 1");
  if (m.ocp_tabulated) {
    const Table1D& t = m.ocp_table_V;
    check_table(t, where, key("ocp.table.sto"), key("ocp.table.V"));
    if (!std::isnan(x0) && (x0 < t.x.front() || x0 > t.x.back()))
      throw ScenarioError(fmt::format(
          "{}: {} = {} lies outside {} = {}; allowed: a start inside the OCP table", where,
          key("initial_stoichiometry"), format_number(x0), key("ocp.table.sto"), show_values(t.x)));
    if (t.x.front() > xc || t.x.back() < xd)
      throw ScenarioError(fmt::format(
          "{}: {} = {} does not cover the stoichiometry window [{}, {}]; allowed: a table whose "
          "sto range contains stoichiometry_charged..stoichiometry_discharged",
          where, key("ocp.table.sto"), show_values(t.x), format_number(xc), format_number(xd)));
    for (size_t i = 0; i < t.y.size(); ++i)
      if (!(t.y[i] > -10.0 && t.y[i] < 10.0))
        range_fail(where, fmt::format("{}[{}]", key("ocp.table.V"), i), t.y[i], "-10 < V < 10");
  } else {
    const OcpClosedForm& c = m.ocp_closed;
    if (!(c.E0_V > -10.0 && c.E0_V < 10.0))
      range_fail(where, key("ocp.E0_V"), c.E0_V, "-10 < E0_V < 10");
    if (!(c.ideality >= 0.0 && c.ideality <= 100.0))
      range_fail(where, key("ocp.ideality"), c.ideality, "0 <= ideality <= 100");
    if (c.ideality > 0.0 && (xc <= 0.0 || xd >= 1.0))
      throw ScenarioError(fmt::format(
          "{}: the closed-form OCP has a logarithmic term ({} = {}), so the stoichiometry window "
          "must lie strictly inside (0, 1); got {} = {}, {} = {}",
          where, key("ocp.ideality"), format_number(c.ideality), key("stoichiometry_charged"),
          format_number(xc), key("stoichiometry_discharged"), format_number(xd)));
    for (size_t i = 0; i < c.tanh_width.size(); ++i)
      if (!(c.tanh_width[i] > 0.0))
        range_fail(where, fmt::format("{}ocp.tanh[{}].width", kp, i), c.tanh_width[i],
                   "width > 0");
  }
}

void validate_electrolyte(const Electrolyte& e, const std::string& where, const std::string& kp) {
  auto check = [&](const char* k, const ScalarOrTable& p, double lo, bool lo_open, double hi,
                   bool hi_open, const char* allowed) {
    auto ok = [&](double v) {
      return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    };
    if (p.tabulated) {
      check_table(p.table, where, kp + k + ".c_mol_m3", kp + k + ".value");
      for (size_t i = 0; i < p.table.x.size(); ++i)
        if (!(p.table.x[i] >= 0.0))
          range_fail(where, fmt::format("{}{}.c_mol_m3[{}]", kp, k, i), p.table.x[i],
                     "c_mol_m3 >= 0");
      for (size_t i = 0; i < p.table.y.size(); ++i)
        if (!ok(p.table.y[i]))
          range_fail(where, fmt::format("{}{}.value[{}]", kp, k, i), p.table.y[i], allowed);
    } else if (!ok(p.value)) {
      range_fail(where, kp + k, p.value, allowed);
    }
  };
  check("conductivity_S_m", e.conductivity_S_m, 0.0, true, 1e3, false,
        "0 < conductivity_S_m <= 1000");
  check("diffusivity_m2_s", e.diffusivity_m2_s, 0.0, true, 1e-6, false,
        "0 < diffusivity_m2_s <= 1e-6");
  check("transference_number", e.transference_number, 0.0, false, 1.0, true,
        "0 <= transference_number < 1");
  check("thermodynamic_factor", e.thermodynamic_factor, 0.0, true, 100.0, false,
        "0 < thermodynamic_factor <= 100");
}

}  // namespace strata
