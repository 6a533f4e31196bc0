#pragma once
// Reading a scenario file (TOML) into a validated Scenario with its materials
// resolved, its protocol parsed and expanded, and its batch expanded into
// variants. File format: docs/scenario-format.md.
#include <string>

#include "host/material_library.hpp"   // ScenarioError, material files
#include "host/scenario.hpp"
#include "kernels/dfn_layout.hpp"  // kMaxLayers
#include "host/variant_expansion.hpp"  // apply_variant, SweepAxis

namespace strata {

// Reads, validates, resolves the material library, parses and expands the
// protocol (repeat blocks flattened; step_texts and steps filled in the same
// order), expands the batch into Scenario::variants (at least one), then reads
// [[objectives]] (weighted sums' terms resolved), [output], [design] (its material choices'
// materials loaded into Scenario::materials) and [fit], checking their step indices against the
// expanded protocol, output.design_ids and fit target variants against the variants, and
// design variables and fit parameters against the base (and fit parameters against every
// explicit variant).
// Throws ScenarioError whose message names the file, the key, the value and
// what is allowed.
Scenario load_scenario(const std::string& path);

// The unit of a numeric override path from its key's unit suffix ("m", "S/m", ...;
// "-" for a dimensionless one such as porosity).
std::string override_path_units(const std::string& path);

// Same from text. path is used in messages and to resolve [library].path
// relative to the scenario file's directory.
Scenario load_scenario_text(const std::string& toml_text, const std::string& path);

// Range checks of everything in s (layers, separator, cell, electrolyte,
// materials, numerics, protocol). Each message starts with `where` (e.g. the
// file name, or `file: variant "label"`). Throws ScenarioError.
void validate_scenario(const Scenario& s, const std::string& where);

// Limits (documented in docs/scenario-format.md); kMaxLayers comes from the kernels.
inline constexpr int kMaxMaterialsPerLayer = 4;
inline constexpr size_t kMaxProtocolSteps = 100000;
inline constexpr size_t kMaxVariants = 1000000;

}  // namespace strata
