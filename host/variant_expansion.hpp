#pragma once
// Batch variants: explicit variants, sweeps (cartesian grids) on top of them, and
// applying one variant (layer order + parameter overrides) to the base scenario.
// See docs/scenario-format.md, section [batch].
#include <string>
#include <vector>

#include "host/material_library.hpp"  // ScenarioError
#include "host/scenario.hpp"

namespace strata {

// One axis of a sweep: an override path and its values.
struct SweepAxis {
  std::string path;
  std::vector<double> values;
};

// count values from `from` to `to` (both included; count == 1 gives {from}),
// linearly or, with log, geometrically (from, to > 0). Throws std::invalid_argument.
std::vector<double> sweep_values(double from, double to, long long count, bool log);

// The batch: each explicit variant (or one base variant labelled base_label when
// there are none) times the cartesian product of the sweep axes (the last axis
// varies fastest). Sweep overrides win over an explicit variant's own ones.
// Labels: explicit label, then " path=value" per axis (values with 6 significant
// digits). Throws std::invalid_argument when the product exceeds max_variants.
std::vector<VariantSpec> expand_variants(const std::vector<VariantSpec>& explicit_variants,
                                         const std::vector<SweepAxis>& sweep,
                                         const std::string& base_label,
                                         size_t max_variants = 1000000);

// The override paths, one form per line (for messages and docs).
std::string allowed_override_forms();

// Checks that path is an allowed override path for scenario s (indices in range,
// material present). Returns an empty string when it is, else the reason.
std::string check_override_path(const Scenario& s, const std::string& path);

// The [design] variables that are not override paths (docs/scenario-format.md,
// [[design.variables]]): a split of design.total_thickness_m between the layer
// positions, or the blend of a layer at its listed active content. Read here once for
// the loader (which checks them) and the design space (which applies them).
struct DesignPath {
  enum class Kind {
    Other,              // an override path, or not a path at all
    ThicknessFraction,  // layers[i].thickness_fraction
    ThicknessShare,     // layers[i].thickness_share
    ActiveShare,        // layers[i].materials[j].active_share
  };
  Kind kind = Kind::Other;
  int layer = -1;  // the position i
  int slot = -1;   // the material slot j of an active share
};
DesignPath parse_design_path(const std::string& path);
// "layers[i].materials[j].solid_volume_fraction": what an active share sets.
std::string solid_fraction_path(int layer, int slot);

// Sets one override on s. Throws std::invalid_argument with the reason when the
// path is not allowed. Setting layers[i].tortuosity switches that layer to an
// explicit tortuosity; bruggeman_exponent switches it to Bruggeman (same for the
// separator). No range check here (see validate_scenario).
void apply_override(Scenario& s, const std::string& path, double value);

// Material overrides: path "layers[i].materials[j].name" (indices after the layer order)
// -> the name of a material in s.materials. check_material_override returns an empty
// string when the path and the name are allowed for s, else the reason;
// apply_material_override sets that LayerMaterial's material (throws
// std::invalid_argument with the reason otherwise).
std::string check_material_override(const Scenario& s, const std::string& path,
                                    const std::string& name);
void apply_material_override(Scenario& s, const std::string& path, const std::string& name);

// Reorders s.layers: new layer i = old layer order[i]. Throws std::invalid_argument
// unless order is a permutation of 0..K-1.
void apply_layer_order(Scenario& s, const std::vector<int>& order);

// The base scenario with the variant's layer order applied first, then its material
// overrides, then its numeric overrides (layer indices refer to positions after the
// reordering), re-validated
// (ranges) and with variants cleared. Throws ScenarioError naming the file, the
// variant label, the key and the value.
Scenario apply_variant(const Scenario& base, const VariantSpec& v);

// The base to apply variants to: the scenario without its variant list and text, so
// that applying N variants does not copy them N times (O(N^2)).
Scenario light_base(const Scenario& s);

}  // namespace strata
