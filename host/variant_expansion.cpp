// Batch variants: sweeps, override paths, applying a variant to the base scenario.
#include "host/variant_expansion.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <stdexcept>

#include "host/scenario_loader.hpp"  // validate_scenario

namespace strata {

namespace {

struct OverrideTarget {
  enum Kind { Layer, LayerMaterial, Separator, Cell, Electrolyte, Material } kind;
  size_t i = 0, j = 0;
  std::string name;   // material name (Material)
  std::string field;  // last component
  std::string owner;  // path without the field, e.g. "layers[0]"
};

const char* const kLayerFields[] = {"thickness_m", "porosity", "tortuosity", "bruggeman_exponent",
                                    "conductivity_S_m", "contact_resistance_ohm_m2"};
const char* const kLayerMaterialFields[] = {"solid_volume_fraction", "particle_radius_m"};
const char* const kSeparatorFields[] = {"thickness_m", "porosity", "tortuosity",
                                        "bruggeman_exponent"};
const char* const kCellFields[] = {"temperature_K", "contact_resistance_ohm_m2", "electrode_tortuosity_scale",
                                   "reference_position_fraction", "initial_soc",
                                   "counter_exchange_current_density_A_m2"};
const char* const kElectrolyteFields[] = {"initial_concentration_mol_m3"};
const char* const kMaterialFields[] = {"diffusivity_m2_s",         "exchange_current_density_A_m2",
                                       "max_concentration_mol_m3", "stoichiometry_charged",
                                       "stoichiometry_discharged", "density_kg_m3",
                                       "accessible_fraction",      "initial_stoichiometry"};

template <size_t N>
bool in(const char* const (&list)[N], const std::string& f) {
  for (const char* s : list)
    if (f == s) return true;
  return false;
}

template <size_t N>
std::string join(const char* const (&list)[N]) {
  std::string out;
  for (const char* s : list) out += (out.empty() ? "" : "|") + std::string(s);
  return out;
}

// Reads "[<digits>]" at pos; advances pos. False on malformed input.
bool read_index(const std::string& p, size_t& pos, size_t& out) {
  if (pos >= p.size() || p[pos] != '[') return false;
  size_t k = pos + 1;
  if (k >= p.size() || !std::isdigit(static_cast<unsigned char>(p[k]))) return false;
  size_t v = 0;
  while (k < p.size() && std::isdigit(static_cast<unsigned char>(p[k]))) {
    v = v * 10 + static_cast<size_t>(p[k] - '0');
    if (v > 1000000) return false;
    ++k;
  }
  if (k >= p.size() || p[k] != ']') return false;
  pos = k + 1;
  out = v;
  return true;
}

// Parses and checks a path against s. Returns the reason when it is not allowed.
std::string parse_target(const Scenario& s, const std::string& p, OverrideTarget& t) {
  // Built only when the path is refused: overrides are parsed once per variant.
  const auto bad = [&] {
    return fmt::format("\"{}\" is not an allowed override path; allowed forms:\n{}", p, allowed_override_forms());
  };
  auto starts = [&](const char* pre) { return p.rfind(pre, 0) == 0; };
  if (starts("layers[")) {
    size_t pos = 6, i = 0;
    if (!read_index(p, pos, i)) return bad();
    if (i >= s.layers.size())
      return fmt::format("layer index {} in \"{}\" is out of range; the scenario has {} layer(s), "
                         "allowed layers[0] to layers[{}]",
                         i, p, s.layers.size(), s.layers.size() - 1);
    if (pos >= p.size() || p[pos] != '.') return bad();
    ++pos;
    const std::string rest = p.substr(pos);
    t.i = i;
    if (rest.rfind("materials[", 0) == 0) {
      size_t q = 9, j = 0;
      if (!read_index(rest, q, j)) return bad();
      if (j >= s.layers[i].materials.size())
        return fmt::format(
            "material index {} in \"{}\" is out of range; layers[{}] has {} material(s), allowed "
            "layers[{}].materials[0] to layers[{}].materials[{}]",
            j, p, i, s.layers[i].materials.size(), i, i, s.layers[i].materials.size() - 1);
      if (q >= rest.size() || rest[q] != '.') return bad();
      t.kind = OverrideTarget::LayerMaterial;
      t.j = j;
      t.field = rest.substr(q + 1);
      t.owner = p.substr(0, pos + q);
      if (!in(kLayerMaterialFields, t.field)) return bad();
      return "";
    }
    t.kind = OverrideTarget::Layer;
    t.field = rest;
    t.owner = p.substr(0, pos - 1);
    if (!in(kLayerFields, t.field)) return bad();
    return "";
  }
  if (starts("separator.")) {
    t.kind = OverrideTarget::Separator;
    t.field = p.substr(10);
    t.owner = "separator";
    return in(kSeparatorFields, t.field) ? "" : bad();
  }
  if (starts("cell.")) {
    t.kind = OverrideTarget::Cell;
    t.field = p.substr(5);
    t.owner = "cell";
    return in(kCellFields, t.field) ? "" : bad();
  }
  if (starts("electrolyte.")) {
    t.kind = OverrideTarget::Electrolyte;
    t.field = p.substr(12);
    t.owner = "electrolyte";
    return in(kElectrolyteFields, t.field) ? "" : bad();
  }
  if (starts("materials.")) {
    const size_t dot = p.find('.', 10);
    if (dot == std::string::npos) return bad();
    t.kind = OverrideTarget::Material;
    t.name = p.substr(10, dot - 10);
    t.field = p.substr(dot + 1);
    t.owner = p.substr(0, dot);
    if (!in(kMaterialFields, t.field)) return bad();
    if (!s.materials.count(t.name)) {
      std::string names;
      for (const auto& [n, m] : s.materials) names += (names.empty() ? "" : ", ") + n;
      return fmt::format("material \"{}\" in \"{}\" is not used by this scenario; allowed "
                         "materials: {}",
                         t.name, p, names);
    }
    return "";
  }
  return bad();
}

// Parses "layers[i].materials[j].name" against s (i, j in range). Returns the reason
// when it is not such a path.
std::string parse_material_path(const Scenario& s, const std::string& p, size_t& i, size_t& j) {
  const auto bad = [&] {
    return fmt::format(
        "\"{}\" is not an allowed material override path; allowed layers[i].materials[j].name "
        "(layer indices count from the current collector after layer_order is applied)",
        p);
  };
  size_t pos = 6;
  if (p.rfind("layers[", 0) != 0 || !read_index(p, pos, i)) return bad();
  if (p.compare(pos, 10, ".materials") != 0) return bad();
  pos += 10;
  if (!read_index(p, pos, j) || p.substr(pos) != ".name") return bad();
  if (i >= s.layers.size())
    return fmt::format("layer index {} in \"{}\" is out of range; the scenario has {} layer(s), "
                       "allowed layers[0] to layers[{}]",
                       i, p, s.layers.size(), s.layers.size() - 1);
  if (j >= s.layers[i].materials.size())
    return fmt::format(
        "material index {} in \"{}\" is out of range; layers[{}] has {} material(s), allowed "
        "layers[{}].materials[0] to layers[{}].materials[{}]",
        j, p, i, s.layers[i].materials.size(), i, i, s.layers[i].materials.size() - 1);
  return "";
}

}  // namespace

std::string check_material_override(const Scenario& s, const std::string& path,
                                    const std::string& name) {
  size_t i = 0, j = 0;
  std::string why = parse_material_path(s, path, i, j);
  if (!why.empty()) return why;
  if (!s.materials.count(name)) {
    std::string names;
    for (const auto& [n, m] : s.materials) names += (names.empty() ? "" : ", ") + n;
    return fmt::format("material \"{}\" is not loaded; allowed a loaded material: {}", name,
                       names);
  }
  return "";
}

void apply_material_override(Scenario& s, const std::string& path, const std::string& name) {
  const std::string why = check_material_override(s, path, name);
  if (!why.empty()) throw std::invalid_argument(why);
  size_t i = 0, j = 0;
  (void)parse_material_path(s, path, i, j);
  s.layers[i].materials[j].material = name;
}

std::vector<double> sweep_values(double from, double to, long long count, bool log) {
  if (count < 1)
    throw std::invalid_argument(fmt::format("count = {} is out of range; allowed count >= 1", count));
  if (count > 1000000)
    throw std::invalid_argument(
        fmt::format("count = {} is out of range; allowed count <= 1000000", count));
  if (!std::isfinite(from) || !std::isfinite(to))
    throw std::invalid_argument("from and to must be finite numbers");
  if (log && !(from > 0.0 && to > 0.0))
    throw std::invalid_argument(fmt::format(
        "a log sweep needs from > 0 and to > 0; got from = {}, to = {}", format_number(from),
        format_number(to)));
  std::vector<double> v(static_cast<size_t>(count));
  if (count == 1) {
    v[0] = from;
    return v;
  }
  const double n1 = static_cast<double>(count - 1);
  for (long long k = 0; k < count; ++k) {
    const double f = static_cast<double>(k) / n1;
    v[static_cast<size_t>(k)] =
        log ? std::exp(std::log(from) + f * (std::log(to) - std::log(from)))
            : from + f * (to - from);
  }
  v.front() = from;
  v.back() = to;
  return v;
}

std::vector<VariantSpec> expand_variants(const std::vector<VariantSpec>& explicit_variants,
                                         const std::vector<SweepAxis>& sweep,
                                         const std::string& base_label, size_t max_variants) {
  std::vector<VariantSpec> bases = explicit_variants;
  if (bases.empty()) {
    VariantSpec b;
    b.label = base_label;
    bases.push_back(b);
  }
  if (sweep.empty()) return bases;
  size_t grid = 1;
  for (const auto& a : sweep) {
    if (a.values.empty())
      throw std::invalid_argument(fmt::format("sweep axis {} has no values", a.path));
    if (grid > max_variants / a.values.size())
      throw std::invalid_argument(
          fmt::format("the sweep grid has more than {} points", max_variants));
    grid *= a.values.size();
  }
  if (grid > max_variants / bases.size())
    throw std::invalid_argument(fmt::format(
        "{} explicit variant(s) x {} sweep points exceeds the limit of {} variants", bases.size(),
        grid, max_variants));
  std::vector<VariantSpec> out;
  out.reserve(bases.size() * grid);
  std::vector<size_t> idx(sweep.size());
  for (const auto& b : bases) {
    for (size_t g = 0; g < grid; ++g) {
      size_t r = g;
      for (size_t a = sweep.size(); a-- > 0;) {
        idx[a] = r % sweep[a].values.size();
        r /= sweep[a].values.size();
      }
      VariantSpec v = b;
      std::string label = b.label;
      for (size_t a = 0; a < sweep.size(); ++a) {
        const double val = sweep[a].values[idx[a]];
        v.overrides[sweep[a].path] = val;
        label += fmt::format("{}{}={:.6g}", label.empty() ? "" : " ", sweep[a].path, val);
      }
      v.label = label;
      out.push_back(std::move(v));
    }
  }
  return out;
}

std::string allowed_override_forms() {
  return fmt::format(
      "  layers[i].<{}>\n  layers[i].materials[j].<{}>\n  separator.<{}>\n  cell.<{}>\n"
      "  electrolyte.<{}>\n  materials.<name>.<{}>\n"
      "(layer indices count from the current collector after layer_order is applied)",
      join(kLayerFields), join(kLayerMaterialFields), join(kSeparatorFields), join(kCellFields),
      join(kElectrolyteFields), join(kMaterialFields));
}

DesignPath parse_design_path(const std::string& path) {
  DesignPath d;
  size_t pos = 6, layer = 0;  // at the '[' after "layers"
  if (path.rfind("layers", 0) != 0 || !read_index(path, pos, layer)) return d;
  const std::string rest = path.substr(pos);
  if (rest == ".thickness_fraction" || rest == ".thickness_share") {
    // The thickness splits are matched with the index written plainly ("layers[7]",
    // not "layers[07]"), as the loader always has.
    if (path != fmt::format("layers[{}]{}", layer, rest)) return d;
    d.kind = rest == ".thickness_fraction" ? DesignPath::Kind::ThicknessFraction : DesignPath::Kind::ThicknessShare;
    d.layer = static_cast<int>(layer);
    return d;
  }
  size_t slot = 0;
  if (rest.rfind(".materials[", 0) != 0) return d;
  pos += 10;  // at the '[' after ".materials"
  if (!read_index(path, pos, slot) || path.compare(pos, std::string::npos, ".active_share") != 0) return d;
  d.kind = DesignPath::Kind::ActiveShare;
  d.layer = static_cast<int>(layer);
  d.slot = static_cast<int>(slot);
  return d;
}

std::string solid_fraction_path(int layer, int slot) {
  return fmt::format("layers[{}].materials[{}].solid_volume_fraction", layer, slot);
}

std::string check_override_path(const Scenario& s, const std::string& path) {
  OverrideTarget t;
  return parse_target(s, path, t);
}

void apply_override(Scenario& s, const std::string& path, double value) {
  OverrideTarget t;
  const std::string why = parse_target(s, path, t);
  if (!why.empty()) throw std::invalid_argument(why);
  const std::string& f = t.field;
  switch (t.kind) {
    case OverrideTarget::Layer: {
      Layer& L = s.layers[t.i];
      if (f == "thickness_m") L.thickness_m = value;
      else if (f == "porosity") L.porosity = value;
      else if (f == "tortuosity") { L.tortuosity = value; L.use_bruggeman = false; }
      else if (f == "bruggeman_exponent") { L.bruggeman_exponent = value; L.use_bruggeman = true; }
      else if (f == "conductivity_S_m") L.conductivity_S_m = value;
      else if (f == "contact_resistance_ohm_m2") L.contact_resistance_ohm_m2 = value;
      break;
    }
    case OverrideTarget::LayerMaterial: {
      LayerMaterial& m = s.layers[t.i].materials[t.j];
      if (f == "solid_volume_fraction") m.solid_volume_fraction = value;
      else if (f == "particle_radius_m") m.particle_radius_m = value;
      break;
    }
    case OverrideTarget::Separator: {
      Separator& S = s.separator;
      if (f == "thickness_m") S.thickness_m = value;
      else if (f == "porosity") S.porosity = value;
      else if (f == "tortuosity") { S.tortuosity = value; S.use_bruggeman = false; }
      else if (f == "bruggeman_exponent") { S.bruggeman_exponent = value; S.use_bruggeman = true; }
      break;
    }
    case OverrideTarget::Cell: {
      Cell& c = s.cell;
      if (f == "temperature_K") c.temperature_K = value;
      else if (f == "contact_resistance_ohm_m2") c.contact_resistance_ohm_m2 = value;
      else if (f == "electrode_tortuosity_scale") c.electrode_tortuosity_scale = value;
      else if (f == "reference_position_fraction") {
        if (c.measured_against_counter)
          throw std::invalid_argument(
              "the scenario's cell.measured_against = \"counter\" (two electrodes) has no reference electrode to place");
        c.reference_position_fraction = value;
      }
      else if (f == "initial_soc") c.initial_soc = value;
      else if (f == "counter_exchange_current_density_A_m2")
        c.counter_exchange_current_density_A_m2 = value;
      break;
    }
    case OverrideTarget::Electrolyte:
      s.electrolyte.initial_concentration_mol_m3 = value;
      break;
    case OverrideTarget::Material: {
      ActiveMaterial& m = s.materials.at(t.name);
      if (f == "diffusivity_m2_s") m.diffusivity_m2_s = value;
      else if (f == "exchange_current_density_A_m2") m.exchange_current_density_A_m2 = value;
      else if (f == "max_concentration_mol_m3") m.max_concentration_mol_m3 = value;
      else if (f == "stoichiometry_charged") m.stoichiometry_charged = value;
      else if (f == "stoichiometry_discharged") m.stoichiometry_discharged = value;
      else if (f == "density_kg_m3") m.density_kg_m3 = value;
      else if (f == "accessible_fraction") m.accessible_fraction = value;
      else if (f == "initial_stoichiometry") {
        if (std::isnan(value)) throw std::invalid_argument("allowed 0 < initial_stoichiometry < 1");  // NaN: unset
        m.initial_stoichiometry = value;
      }
      break;
    }
  }
}

void apply_layer_order(Scenario& s, const std::vector<int>& order) {
  const size_t K = s.layers.size();
  auto show = [&] {
    std::string o = "[";
    for (size_t i = 0; i < order.size(); ++i) o += (i ? ", " : "") + std::to_string(order[i]);
    return o + "]";
  };
  if (order.size() != K)
    throw std::invalid_argument(fmt::format(
        "layer_order = {} has {} entries but the scenario has {} layers; allowed a permutation "
        "of 0..{}",
        show(), order.size(), K, K - 1));
  std::vector<bool> seen(K, false);
  for (int o : order) {
    if (o < 0 || static_cast<size_t>(o) >= K || seen[static_cast<size_t>(o)])
      throw std::invalid_argument(fmt::format(
          "layer_order = {} is not a permutation of 0..{} (each layer index exactly once)", show(),
          K - 1));
    seen[static_cast<size_t>(o)] = true;
  }
  std::vector<Layer> layers(K);
  for (size_t i = 0; i < K; ++i) layers[i] = s.layers[static_cast<size_t>(order[i])];
  s.layers = std::move(layers);
}

Scenario light_base(const Scenario& s) {
  Scenario light = s;
  light.variants.clear();
  light.text.clear();
  return light;
}

Scenario apply_variant(const Scenario& base, const VariantSpec& v) {
  Scenario out = base;
  out.variants.clear();
  const std::string where = fmt::format("{}: variant \"{}\"", base.file, v.label);
  if (!v.layer_order.empty()) {
    try {
      apply_layer_order(out, v.layer_order);
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(fmt::format("{}: {}", where, e.what()));
    }
  }
  // Materials after the layer order, before the numeric overrides.
  for (const auto& [path, name] : v.material_overrides) {
    try {
      apply_material_override(out, path, name);
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(
          fmt::format("{}: bad material override {} = \"{}\": {}", where, path, name, e.what()));
    }
  }
  // A layer (or the separator) cannot get both transport descriptions at once.
  for (const auto& [path, value] : v.overrides) {
    const std::string suffix = ".tortuosity";
    if (path.size() > suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      const std::string other = path.substr(0, path.size() - suffix.size()) + ".bruggeman_exponent";
      if (v.overrides.count(other))
        throw ScenarioError(fmt::format(
            "{}: sets both {} = {} and {} = {}; allowed only one of tortuosity and "
            "bruggeman_exponent per layer",
            where, path, format_number(value), other, format_number(v.overrides.at(other))));
    }
  }
  for (const auto& [path, value] : v.overrides) {
    try {
      apply_override(out, path, value);
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(
          fmt::format("{}: bad override {} = {}: {}", where, path, format_number(value), e.what()));
    }
  }
  validate_scenario(out, where);
  return out;
}

}  // namespace strata
