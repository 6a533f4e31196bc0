// [batch]: explicit variants ([[batch.variants]]: label, layer_order, set, set_material) and
// sweep axes ([batch.sweep]), each override path checked against the base scenario (in the
// layer order of each explicit variant). expand_variants (host/variant_expansion) combines them.
#define STRATA_TOML_READER 1
#include "host/scenario_reading.hpp"

#include <fmt/format.h>

#include <cctype>
#include <climits>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace strata::scenario_reading {

using detail::TableReader;
using detail::Unit;

namespace {

// A TOML key as written in a file: bare when possible, else quoted.
std::string toml_key(const std::string& k) {
  bool bare = !k.empty();
  for (char c : k)
    bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  return bare ? k : fmt::format("\"{}\"", k);
}

// Flattens nested tables of overrides: { materials = { NVP = { x = 1 } } } ->
// "materials.NVP.x". Leaves are collected with their display key.
void flatten(const toml::table& t, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out, bool stop_at_range) {
  for (const auto& [k, n] : t) {
    const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    const toml::table* sub = n.as_table();
    const bool is_range = sub && (sub->contains("from") || sub->contains("to") ||
                                  sub->contains("count") || sub->contains("log"));
    if (sub && !(stop_at_range && is_range))
      flatten(*sub, path, out, stop_at_range);
    else
      out.emplace_back(path, &n);
  }
}

std::vector<int> read_layer_order(TableReader& r) {
  std::vector<int> order;
  const toml::array* a = r.array("layer_order");
  if (!a) return order;
  for (size_t i = 0; i < a->size(); ++i) {
    auto v = a->get(i)->as_integer();
    if (!v || v->get() < 0 || v->get() > INT_MAX)
      r.fail("layer_order", "is not an array of layer indices (whole numbers >= 0)");
    order.push_back(static_cast<int>(v->get()));
  }
  return order;
}

}  // namespace

void read_batch(const toml::table& batch, Scenario& base, const std::string& libdir,
                std::vector<VariantSpec>& explicit_v, std::vector<SweepAxis>& axes) {
  const std::string& file = base.file;
  TableReader br(batch, file, "batch");
  const toml::array* vars = br.array("variants");
  const toml::table* sweep = br.subtable("sweep");
  br.finish();

  // The reordered scenario each explicit variant starts from (path checks).
  std::vector<Scenario> shapes;
  std::set<std::string> labels;
  if (vars) {
    for (size_t i = 0; i < vars->size(); ++i) {
      const std::string vk = fmt::format("batch.variants[{}]", i);
      const toml::table* t = vars->get(i)->as_table();
      if (!t)
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a table; write [[batch.variants]] with label, layer_order, set",
            file, vk, detail::show_node(*vars->get(i))));
      TableReader vr(*t, file, vk);
      VariantSpec v;
      v.label = vr.string("label").value_or(fmt::format("variant {}", i));
      if (v.label.empty()) vr.fail("label", "is empty; allowed a non-empty label");
      if (!labels.insert(v.label).second)
        vr.fail("label", "is used by an earlier variant; labels must be unique");
      v.layer_order = read_layer_order(vr);
      Scenario shape;
      shape.file = base.file;
      shape.layers = base.layers;
      shape.materials = base.materials;
      if (!v.layer_order.empty()) {
        try {
          apply_layer_order(shape, v.layer_order);
        } catch (const std::invalid_argument& e) {
          throw ScenarioError(fmt::format("{}: {}.{}", file, vk, e.what()));
        }
      }
      if (const toml::table* set = vr.subtable("set")) {
        std::vector<std::pair<std::string, const toml::node*>> leaves;
        flatten(*set, "", leaves, false);
        for (const auto& [path, node] : leaves) {
          const std::string key = fmt::format("{}.set.{}", vk, toml_key(path));
          const double value = detail::node_number(*node, file, key, unit_of_path(path));
          const std::string why = check_override_path(shape, path);
          if (!why.empty())
            throw ScenarioError(fmt::format("{}: {} = {}: bad override path: {}", file, key,
                                            format_number(value), why));
          v.overrides[path] = value;
        }
      }
      // Material overrides: "layers[i].materials[j].name" = "library name".
      if (const toml::table* setm = vr.subtable("set_material")) {
        std::vector<std::pair<std::string, const toml::node*>> leaves;
        flatten(*setm, "", leaves, false);
        for (const auto& [path, node] : leaves) {
          const std::string key = fmt::format("{}.set_material.{}", vk, toml_key(path));
          auto name = node->as_string();
          if (!name)
            throw ScenarioError(fmt::format("{}: {} = {} is not a string; allowed a library "
                                            "material name such as \"NVP\"",
                                            file, key, detail::show_node(*node)));
          load_material(base, &shape, libdir, name->get(), key);
          const std::string why = check_material_override(shape, path, name->get());
          if (!why.empty())
            throw ScenarioError(fmt::format("{}: {} = \"{}\": bad material override: {}", file,
                                            key, name->get(), why));
          v.material_overrides[path] = name->get();
        }
      }
      vr.finish();
      explicit_v.push_back(std::move(v));
      shapes.push_back(std::move(shape));
    }
  }
  if (shapes.empty()) {
    Scenario shape;
    shape.file = base.file;
    shape.layers = base.layers;
    shape.materials = base.materials;
    shapes.push_back(std::move(shape));
  }

  if (sweep) {
    std::vector<std::pair<std::string, const toml::node*>> leaves;
    flatten(*sweep, "", leaves, true);
    if (leaves.empty())
      throw ScenarioError(fmt::format("{}: batch.sweep is empty; give at least one path = values "
                                      "or remove the table",
                                      file));
    for (const auto& [path, node] : leaves) {
      const std::string key = fmt::format("batch.sweep.{}", toml_key(path));
      const Unit unit = unit_of_path(path);
      SweepAxis axis;
      axis.path = path;
      if (const toml::array* a = node->as_array()) {
        if (a->empty())
          throw ScenarioError(fmt::format(
              "{}: {} = [] is empty; allowed a non-empty array of numbers or {{ from, to, count, "
              "log }}",
              file, key));
        for (size_t i = 0; i < a->size(); ++i)
          axis.values.push_back(
              detail::node_number(*a->get(i), file, fmt::format("{}[{}]", key, i), unit));
      } else if (const toml::table* t = node->as_table()) {
        TableReader tr(*t, file, key);
        auto from = tr.number("from", unit);
        auto to = tr.number("to", unit);
        auto count = tr.integer("count");
        const toml::node* logn = tr.node("log");
        tr.finish();
        if (!from) tr.missing("from", "a number");
        if (!to) tr.missing("to", "a number");
        if (!count) tr.missing("count", "a whole number >= 1");
        bool log = false;
        if (logn) {
          if (!logn->is_boolean()) tr.fail("log", "is not true or false");
          log = logn->as_boolean()->get();
        }
        if (*count < 1) tr.fail("count", "is out of range; allowed count >= 1");
        try {
          axis.values = sweep_values(*from, *to, *count, log);
        } catch (const std::invalid_argument& e) {
          throw ScenarioError(fmt::format("{}: {} = {}: {}", file, key, detail::show_node(*node),
                                          e.what()));
        }
      } else {
        throw ScenarioError(fmt::format(
            "{}: {} = {} is not a sweep; allowed an array of numbers [a, b, ...] or "
            "{{ from = a, to = b, count = n, log = false }}",
            file, key, detail::show_node(*node)));
      }
      for (size_t i = 0; i < shapes.size(); ++i) {
        const std::string why = check_override_path(shapes[i], path);
        if (!why.empty())
          throw ScenarioError(fmt::format(
              "{}: {} = {}: bad override path{}: {}", file, key, detail::show_node(*node),
              explicit_v.empty() ? ""
                                 : fmt::format(" for variant \"{}\"", explicit_v[i].label),
              why));
      }
      axes.push_back(std::move(axis));
    }
  }
}

}  // namespace strata::scenario_reading
