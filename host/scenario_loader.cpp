// Scenario files: strict TOML reading, material resolution and protocol expansion,
// then the parts read by the scenario_read_*.cpp files (host/scenario_reading.hpp) and
// validation (scenario_validate.cpp). Format: docs/scenario-format.md.
#define STRATA_TOML_READER 1
#include "host/scenario_loader.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "host/protocol_parser.hpp"
#include "host/scenario_reading.hpp"

namespace strata {

namespace fs = std::filesystem;
using detail::TableReader;
using detail::Unit;
using namespace detail;  // the unit constants (kM, kV, ...)

namespace scenario_reading {

Unit unit_of_path(const std::string& path) {
  static const Unit units[] = {{"_ohm_m2", "ohm m2"}, {"_mol_m3", "mol/m3"}, {"_kg_m3", "kg/m3"},
                               {"_m2_s", "m2/s"},     {"_A_m2", "A/m2"},     {"_S_m", "S/m"},
                               {"_K", "K"},           {"_m", "m"}};
  for (const Unit& u : units) {
    const std::string s = u.suffix;
    if (path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0) return u;
  }
  return kNone;
}

int read_int(TableReader& r, const std::string& key, long long lo, long long hi, int fallback) {
  auto v = r.integer(key);
  if (!v) return fallback;
  if (*v < lo || *v > hi) r.fail(key, fmt::format("is out of range; allowed {} <= {} <= {}", lo, key, hi));
  return static_cast<int>(*v);
}

void load_material(Scenario& s, Scenario* also, const std::string& libdir,
                   const std::string& name, const std::string& key) {
  if (!s.materials.count(name)) {
    ActiveMaterial m;
    try {
      m = load_active_material(libdir, name);
      validate_active_material(m, s.file, fmt::format("materials.{}.", name));
    } catch (const ScenarioError& e) {
      throw ScenarioError(fmt::format("{}: {} = \"{}\": {}", s.file, key, name, e.what()));
    }
    s.materials.emplace(name, std::move(m));
  }
  if (also && !also->materials.count(name)) also->materials.emplace(name, s.materials.at(name));
}

}  // namespace scenario_reading

using namespace scenario_reading;  // the readers of the file's parts (host/scenario_reading.hpp)

std::string override_path_units(const std::string& path) {
  const Unit u = unit_of_path(path);
  return *u.display ? std::string(u.display) : std::string("-");
}

namespace {

// Exactly one of tortuosity / bruggeman_exponent.
void read_transport(TableReader& r, bool& use_bruggeman, double& tortuosity, double& bruggeman) {
  auto tau = r.number("tortuosity", kNone);
  auto b = r.number("bruggeman_exponent", kNone);
  if (tau && b)
    throw ScenarioError(fmt::format(
        "{}: {} and {} are both given ({} and {}); allowed exactly one of the two", r.file(),
        r.key_path("tortuosity"), r.key_path("bruggeman_exponent"), format_number(*tau),
        format_number(*b)));
  if (!tau && !b) {
    r.reject_typo_of("tortuosity", "or bruggeman_exponent instead");
    r.reject_typo_of("bruggeman_exponent", "or tortuosity instead");
    throw ScenarioError(fmt::format(
        "{}: missing required key {} or {} (exactly one of the two: tortuosity tau with "
        "eps_eff = eps/tau, or a Bruggeman exponent b with eps_eff = eps^b)",
        r.file(), r.key_path("tortuosity"), r.key_path("bruggeman_exponent")));
  }
  use_bruggeman = b.has_value();
  if (tau) tortuosity = *tau;
  if (b) bruggeman = *b;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(fmt::format("{}: cannot open the scenario file for reading", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------
// Protocol

struct ProtocolExpander {
  std::string file;
  ProtocolSpec& out;
  std::unordered_map<std::string, ProtocolStep> cache;

  void add(const std::string& text, const std::string& key) {
    auto it = cache.find(text);
    if (it == cache.end()) {
      ProtocolStep st;
      try {
        st = parse_protocol_step(text);
      } catch (const std::exception& e) {
        throw ScenarioError(fmt::format("{}: {} = \"{}\" is not a valid protocol step: {}", file,
                                        key, text, e.what()));
      }
      it = cache.emplace(text, st).first;
    }
    if (out.steps.size() >= kMaxProtocolSteps) too_many(key);
    out.step_texts.push_back(text);
    out.steps.push_back(it->second);
  }

  [[noreturn]] void too_many(const std::string& key) const {
    throw ScenarioError(fmt::format(
        "{}: {}: the protocol expands to more than {} steps; allowed at most {} steps after "
        "repeat blocks are flattened",
        file, key, kMaxProtocolSteps, kMaxProtocolSteps));
  }

  void expand(const toml::array& a, const std::string& key, int depth) {
    if (a.empty())
      throw ScenarioError(fmt::format(
          "{}: {} = [] is empty; allowed a non-empty array of step strings and repeat blocks", file,
          key));
    for (size_t i = 0; i < a.size(); ++i) {
      const toml::node& n = *a.get(i);
      const std::string k = fmt::format("{}[{}]", key, i);
      if (auto s = n.as_string()) {
        add(s->get(), k);
      } else if (auto t = n.as_table()) {
        if (depth >= 16)
          throw ScenarioError(fmt::format("{}: {}: repeat blocks nest deeper than 16 levels", file, k));
        TableReader tr(*t, file, k);
        auto rep = tr.integer("repeat");
        const toml::array* steps = tr.array("steps");
        tr.finish();
        if (!rep) tr.missing("repeat", "a whole number >= 1");
        if (*rep < 1 || *rep > 1000000)
          tr.fail("repeat", "is out of range; allowed 1 <= repeat <= 1000000");
        if (!steps) tr.missing("steps", "an array of step strings and repeat blocks");
        const size_t start = out.steps.size();
        expand(*steps, tr.key_path("steps"), depth + 1);
        const size_t len = out.steps.size() - start;
        if (static_cast<unsigned long long>(len) * static_cast<unsigned long long>(*rep) + start >
            kMaxProtocolSteps)
          too_many(k);
        for (long long r = 1; r < *rep; ++r)
          for (size_t j = 0; j < len; ++j) {
            out.step_texts.push_back(out.step_texts[start + j]);
            out.steps.push_back(out.steps[start + j]);
          }
      } else {
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a protocol step; allowed a step string such as \"Charge at 1C "
            "until 3.6 V\" or a repeat block {{ repeat = N, steps = [...] }}",
            file, k, detail::show_node(n)));
      }
    }
  }
};

// ---------------------------------------------------------------------------

std::string library_dir_for(const std::string& scenario_path, const std::optional<std::string>& lib) {
  if (!lib) return default_library_dir();
  fs::path p(*lib);
  if (p.is_absolute()) return p.lexically_normal().string();
  fs::path base = fs::path(scenario_path).parent_path();
  fs::path full = base.empty() ? p : base / p;
  return full.lexically_normal().string();
}

}  // namespace

Scenario load_scenario(const std::string& path) {
  return load_scenario_text(read_text_file(path), path);
}

Scenario load_scenario_text(const std::string& toml_text, const std::string& path) {
  const std::string& file = path;
  toml::table root = detail::parse_toml(toml_text, path);
  TableReader r(root, file, "");
  Scenario s;
  s.file = path;
  s.text = toml_text;

  // [scenario]
  {
    const toml::table& t = r.required_subtable("scenario");
    TableReader tr(t, file, "scenario");
    s.name = tr.required_string("name");
    if (s.name.empty()) tr.fail("name", "is empty; allowed a non-empty name");
    s.description = tr.string("description").value_or("");
    tr.finish();
  }

  // [library]
  std::optional<std::string> lib;
  if (const toml::table* t = r.subtable("library")) {
    TableReader tr(*t, file, "library");
    lib = tr.string("path");
    tr.finish();
  }
  const std::string libdir = library_dir_for(path, lib);
  if (std::error_code ec; !fs::is_directory(libdir, ec)) {
    const std::string where = fs::absolute(libdir, ec).lexically_normal().string();
    const char* env = std::getenv("STRATA_MATERIALS_DIR");
    if (lib)
      throw ScenarioError(fmt::format("{}: library.path = \"{}\" names no directory ({}{}); allowed the directory "
                                      "of the material and electrolyte files",
                                      file, *lib, where,
                                      fs::path(*lib).is_absolute() ? "" : ", relative to the scenario file's directory"));
    throw ScenarioError(fmt::format("{}: the material library directory {} does not exist ({}); set [library] path "
                                    "in the scenario or STRATA_MATERIALS_DIR to the directory of the material files",
                                    file, where,
                                    env && *env ? "from the environment variable STRATA_MATERIALS_DIR"
                                                : "the default: the source tree's materials/"));
  }

  // [electrolyte]
  std::string electrolyte_name;
  double c0 = 1000.0;
  {
    const toml::table& t = r.required_subtable("electrolyte");
    TableReader tr(t, file, "electrolyte");
    electrolyte_name = tr.required_string("material");
    c0 = tr.number("initial_concentration_mol_m3", kMolM3, c0);
    tr.finish();
  }

  // [cell]
  if (const toml::table* t = r.subtable("cell")) {
    TableReader tr(*t, file, "cell");
    Cell& c = s.cell;
    c.temperature_K = tr.number("temperature_K", kK, c.temperature_K);
    c.area_m2 = tr.number("area_m2", kM2, c.area_m2);
    c.contact_resistance_ohm_m2 =
        tr.number("contact_resistance_ohm_m2", kOhmM2, c.contact_resistance_ohm_m2);
    c.electrode_tortuosity_scale =
        tr.number("electrode_tortuosity_scale", kNone, c.electrode_tortuosity_scale);
    c.reference_position_fraction =
        tr.number("reference_position_fraction", kNone, c.reference_position_fraction);
    c.initial_soc = tr.number("initial_soc", kNone, c.initial_soc);
    if (auto m = tr.one_of("measured_against", {{"reference"}, {"counter"}})) {
      c.measured_against_counter = *m == "counter";
      if (c.measured_against_counter && t->contains("reference_position_fraction"))
        throw ScenarioError(fmt::format(
            "{}: cell.measured_against = \"counter\" and cell.reference_position_fraction = {} are both given; "
            "allowed one of the two: a two-electrode potential has no reference electrode",
            file, format_number(c.reference_position_fraction)));
    }
    if (auto ce = tr.one_of("counter_electrode", {{"metal"}, {"ideal"}, {"porous"}})) {
      c.counter_ideal = *ce == "ideal";
      c.counter_porous = *ce == "porous";
    }
    c.counter_exchange_current_density_A_m2 = tr.number(
        "counter_exchange_current_density_A_m2", kAM2, c.counter_exchange_current_density_A_m2);
    tr.finish();
  }

  // [separator]
  {
    const toml::table& t = r.required_subtable("separator");
    TableReader tr(t, file, "separator");
    Separator& S = s.separator;
    S.thickness_m = tr.required_number("thickness_m", kM);
    S.porosity = tr.required_number("porosity", kNone);
    read_transport(tr, S.use_bruggeman, S.tortuosity, S.bruggeman_exponent);
    S.nodes = read_int(tr, "nodes", 2, 1000, 0);
    tr.finish();
  }

  // [counter_electrode]: required by, and only allowed with, cell.counter_electrode = "porous"
  if (const toml::table* t = r.subtable("counter_electrode")) {
    TableReader tr(*t, file, "counter_electrode");
    if (!s.cell.counter_porous)
      throw ScenarioError(fmt::format("{}: [counter_electrode] is given but cell.counter_electrode is not \"porous\"; "
                                      "set cell.counter_electrode = \"porous\" or remove the table",
                                      file));
    PorousCounter& C = s.counter;
    C.material = tr.required_string("material");
    C.thickness_m = tr.required_number("thickness_m", kM);
    C.porosity = tr.required_number("porosity", kNone);
    C.solid_volume_fraction = tr.number("solid_volume_fraction", kNone, C.solid_volume_fraction);
    C.particle_radius_m = tr.required_number("particle_radius_m", kM);
    read_transport(tr, C.use_bruggeman, C.tortuosity, C.bruggeman_exponent);
    C.nodes = read_int(tr, "nodes", 2, 1000, 0);
    tr.finish();
    load_material(s, nullptr, libdir, C.material, "counter_electrode.material");
  } else if (s.cell.counter_porous) {
    throw ScenarioError(fmt::format("{}: cell.counter_electrode = \"porous\" needs a [counter_electrode] table "
                                    "(material, thickness_m, porosity, particle_radius_m; docs/scenario-format.md)",
                                    file));
  }

  // [[layers]]
  {
    const toml::node* ln = r.node("layers");
    if (!ln) r.missing("layers", "one [[layers]] table per sub-layer, the first at the current collector");
    const toml::array* la = ln->as_array();
    if (!la || !la->is_array_of_tables())
      r.fail("layers", "is not an array of tables; write one [[layers]] table per sub-layer");
    if (la->empty() || la->size() > static_cast<size_t>(kMaxLayers))
      throw ScenarioError(fmt::format("{}: layers has {} entries; allowed 1 to {} layers (at most {})",
                                      file, la->size(), kMaxLayers, kMaxLayers));
    for (size_t i = 0; i < la->size(); ++i) {
      const toml::table& t = *la->get(i)->as_table();
      TableReader tr(t, file, fmt::format("layers[{}]", i));
      Layer L;
      L.thickness_m = tr.required_number("thickness_m", kM);
      L.porosity = tr.required_number("porosity", kNone);
      read_transport(tr, L.use_bruggeman, L.tortuosity, L.bruggeman_exponent);
      L.conductivity_S_m = tr.required_number("conductivity_S_m", kSM);
      L.contact_resistance_ohm_m2 = tr.number("contact_resistance_ohm_m2", kOhmM2, L.contact_resistance_ohm_m2);
      L.nodes = read_int(tr, "nodes", 2, 1000, 0);
      const toml::node* mn = tr.node("materials");
      if (!mn) tr.missing("materials", "one or more [[layers.materials]] tables");
      const toml::array* ma = mn->as_array();
      if (!ma || !ma->is_array_of_tables())
        tr.fail("materials", "is not an array of tables; write [[layers.materials]] tables");
      if (ma->empty() || ma->size() > static_cast<size_t>(kMaxMaterialsPerLayer))
        throw ScenarioError(fmt::format("{}: {} has {} entries; allowed 1 to {} materials per layer",
                                        file, tr.key_path("materials"), ma->size(),
                                        kMaxMaterialsPerLayer));
      for (size_t j = 0; j < ma->size(); ++j) {
        TableReader mr(*ma->get(j)->as_table(), file,
                       fmt::format("layers[{}].materials[{}]", i, j));
        LayerMaterial m;
        m.material = mr.required_string("name");
        m.solid_volume_fraction = mr.required_number("solid_volume_fraction", kNone);
        m.particle_radius_m = mr.required_number("particle_radius_m", kM);
        mr.finish();
        if (!s.materials.count(m.material)) {
          try {
            s.materials.emplace(m.material, load_active_material(libdir, m.material));
          } catch (const ScenarioError& e) {
            throw ScenarioError(fmt::format("{}: {} = \"{}\": {}", file, mr.key_path("name"),
                                            m.material, e.what()));
          }
        }
        L.materials.push_back(std::move(m));
      }
      tr.finish();
      s.layers.push_back(std::move(L));
    }
  }

  // Electrolyte from the library.
  try {
    s.electrolyte = load_electrolyte(libdir, electrolyte_name);
  } catch (const ScenarioError& e) {
    throw ScenarioError(
        fmt::format("{}: electrolyte.material = \"{}\": {}", file, electrolyte_name, e.what()));
  }
  s.electrolyte.initial_concentration_mol_m3 = c0;

  // [numerics]
  if (const toml::table* t = r.subtable("numerics")) {
    TableReader tr(*t, file, "numerics");
    Numerics& n = s.numerics;
    n.nodes_per_layer = read_int(tr, "nodes_per_layer", 2, 1000, n.nodes_per_layer);
    n.cell_size_m = tr.number("cell_size_m", kM, n.cell_size_m);
    n.min_nodes_per_layer = read_int(tr, "min_nodes_per_layer", 2, 1000, n.min_nodes_per_layer);
    n.separator_nodes = read_int(tr, "separator_nodes", 2, 1000, n.separator_nodes);
    n.particle_shells = read_int(tr, "particle_shells", 3, 1000, n.particle_shells);
    n.particle_shell_ratio = tr.number("particle_shell_ratio", kNone, n.particle_shell_ratio);
    if (auto mesh = tr.one_of("particle_mesh",
                              {{"geometric", "shell thicknesses in the ratio particle_shell_ratio toward the surface"},
                               {"equal_volume"}})) {
      n.particle_equal_volume = *mesh == "equal_volume";
      if (n.particle_equal_volume && t->contains("particle_shell_ratio"))
        tr.fail("particle_shell_ratio", "is not used with numerics.particle_mesh = \"equal_volume\" (shells of "
                                        "equal volume); remove it, or use particle_mesh = \"geometric\"");
    }
    if (t->contains("nodes_per_layer") && n.cell_size_m > 0.0)
      tr.fail("nodes_per_layer", "is not used with numerics.cell_size_m (each layer then gets cells in proportion "
                                 "to its thickness, at least min_nodes_per_layer); remove one of the two");
    if (t->contains("min_nodes_per_layer") && !(n.cell_size_m > 0.0))
      tr.fail("min_nodes_per_layer", "is not used without numerics.cell_size_m (it is the floor of the cells in "
                                     "proportion to thickness); give cell_size_m, or remove it");
    if (auto scheme = tr.one_of("time_integrator",
                                {{"backward_euler", "first order"}, {"bdf2", "second order, variable step"}}))
      n.time_order = *scheme == "bdf2" ? 2 : 1;
    n.relative_tolerance = tr.number("relative_tolerance", kNone, n.relative_tolerance);
    n.max_step_s = tr.number("max_step_s", kS, n.max_step_s);
    n.voltage_event_tolerance_V =
        tr.number("voltage_event_tolerance_V", kV, n.voltage_event_tolerance_V);
    n.max_steps_per_protocol_step =
        read_int(tr, "max_steps_per_protocol_step", 1, 1000000000, n.max_steps_per_protocol_step);
    n.newton_max_contraction = tr.number("newton_max_contraction", kNone, n.newton_max_contraction);
    if (auto controller = tr.one_of(
            "step_controller",
            {{"predictive", "Gustafsson's controller, from the trend of the error over the last two steps"},
             {"standard", "from the last step's error alone"}}))
      n.predictive_step_control = *controller == "predictive";
    tr.finish();
  }

  // [protocol]
  {
    const toml::table& t = r.required_subtable("protocol");
    TableReader tr(t, file, "protocol");
    s.protocol.nominal_capacity_mAh_g =
        tr.number("nominal_capacity_mAh_g", kMAhG, s.protocol.nominal_capacity_mAh_g);
    const toml::node* sn = tr.node("steps");
    if (!sn) tr.missing("steps", "an array of step strings and repeat blocks");
    const toml::array* sa = sn->as_array();
    if (!sa)
      tr.fail("steps", "is not an array; allowed [\"Charge at 1C until 3.6 V\", { repeat = 2, "
                       "steps = [...] }, ...]");
    tr.finish();
    ProtocolExpander ex{file, s.protocol, {}};
    ex.expand(*sa, "protocol.steps", 0);
  }

  // [batch] is read after validation of the base (paths are checked against it).
  const toml::table* batch = r.subtable("batch");
  // [[objectives]] and [output] are read last: they refer to protocol steps and variants.
  const toml::node* objectives = r.node("objectives");
  const toml::table* output = r.subtable("output");
  // [design] after [[objectives]]: design.objective names one.
  const toml::table* design = r.subtable("design");
  // [fit]: its targets name variants, its parameters are checked on the explicit ones.
  const toml::table* fit = r.subtable("fit");
  r.finish();

  validate_scenario(s, file);

  std::vector<VariantSpec> explicit_v;
  std::vector<SweepAxis> axes;
  if (batch) read_batch(*batch, s, libdir, explicit_v, axes);
  try {
    s.variants = expand_variants(explicit_v, axes, s.name, kMaxVariants);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(fmt::format("{}: batch: {}", file, e.what()));
  }

  // Every variant must be valid: apply each to a light copy of the base.
  Scenario light = s;
  light.text.clear();
  light.variants.clear();
  light.protocol.steps.clear();
  light.protocol.step_texts.clear();
  light.protocol.steps.push_back(ProtocolStep{});  // keep validate_scenario's step check happy
  light.protocol.step_texts.push_back("");
  for (const VariantSpec& v : s.variants) (void)apply_variant(light, v);

  s.objectives = read_objectives(objectives, s);
  s.output = read_output(output, s);
  s.design = read_design(design, s, light, libdir);
  if (s.numerics.cell_size_m > 0.0 && s.design.total_thickness_m > 0.0) {
    // The thickness fractions move the cells between layers: every design of the search
    // has at least this many, which the base scenario's total-cells check does not see.
    const long cells = static_cast<long>(cells_covering(s.design.total_thickness_m, s.numerics.cell_size_m)) +
                       static_cast<long>(s.layers.size()) - 1 + separator_nodes(s) + counter_nodes(s);
    if (cells > kMaxCells)
      throw ScenarioError(fmt::format(
          "{}: numerics.cell_size_m = {} with design.total_thickness_m = {} gives at least {} cells per design; "
          "allowed at most {} in the layers, the separator and a porous counter: raise numerics.cell_size_m",
          file, format_number(s.numerics.cell_size_m), format_number(s.design.total_thickness_m), cells, kMaxCells));
  }
  s.fit = read_fit(fit, s, light, explicit_v);
  return s;
}

}  // namespace strata
