"""Convert a PyBaMM half-cell parameter set into strata material and scenario TOML files.

Nothing is retyped: every number is evaluated from the `pybamm.ParameterValues`
(functions included) at the cell temperature. docs/validation.md documents the mapping;
in short:

| PyBaMM | strata |
|---|---|
| OCP function U(sto) | `[ocp.table]` sampled on `OCP_POINTS` stoichiometries in [0, 1], PCHIP in strata |
| particle diffusivity D_s(sto, T) | `diffusivity_m2_s` = D_s(0.5), `diffusivity_factor` table D_s(x)/D_s(0.5) when not constant |
| exchange current j0(c_e, c_s, c_max, T) | `exchange_current_density_A_m2` = j0(c_e0, c_max/2), `reference_concentration_mol_m3` = c_e0, alpha 0.5/0.5; the converter checks j0 against strata's law i0_ref (c_e/c_e0)^0.5 x^0.5 (1-x)^0.5 / 0.5 and reports the largest relative deviation (strata cannot represent anything else: no i0 table) |
| symmetric Butler-Volmer (PyBaMM's default) | alpha_anodic = alpha_cathodic = 0.5 |
| electrolyte kappa(c, T), D_e(c, T), t+, TDF | tables against c on `ELECTROLYTE_GRID_MOL_M3` (constants stay numbers) |
| electrode conductivity sigma, Bruggeman (electrode) b_s | `conductivity_S_m` = sigma (1 - eps)^b_s (strata takes the effective value) |
| Bruggeman (electrolyte) b_e | `bruggeman_exponent` = b_e |
| active material volume fraction eps_act | `solid_volume_fraction` = eps_act / (1 - eps) |
| Li-metal exchange current j0_Li(c_e, 1/V_Li, T) | `counter_exchange_current_density_A_m2` = j0_Li(c_e0) (strata's counter i0 is constant) |
| "Voltage [V]" = phi_s(cc) - phi_metal | `measured_against = "counter"`: strata's two-electrode potential phi_s(0) + I R_contact against the grounded metal, the same quantity (until 2026-12-07 strata had only a reference electrode; the harness then shifted the cut-offs by the counter overpotential (2RT/F) asinh(I / (2 i0_ce)) and added it back) |

Usage (writes DIR/materials/*.toml and DIR/<case>.toml for every case):

    build/peer-venv/bin/python scripts/peer/convert_pybamm.py --out build/peer/convert
"""
import argparse
import os
import sys

import numpy as np
import pybamm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import param_sets  # noqa: E402

OCP_POINTS = 2001
FACTOR_POINTS = 401
ELECTROLYTE_GRID_MOL_M3 = np.concatenate([[1.0, 5.0, 10.0, 25.0], np.arange(50.0, 6001.0, 50.0)])
DENSITY_PLACEHOLDER_KG_M3 = 4700.0


def fn(pv, name, *args):
    """Evaluate the PyBaMM parameter `name` (a number or a function) at array arguments."""
    n = max(np.size(a) for a in args)
    syms = [pybamm.Vector(np.broadcast_to(np.asarray(a, float), (n,)).copy()) for a in args]
    sym = pybamm.FunctionParameter(name, {f"arg{i}": s for i, s in enumerate(syms)})
    val = pv.process_symbol(sym).evaluate()
    return np.broadcast_to(np.asarray(val, float).ravel(), (n,)).copy()


def value(pv, name):
    return float(pv.process_symbol(pybamm.Parameter(name)).evaluate())


def fmt(x):
    return repr(float(x))


def fmt_list(xs):
    return "[" + ", ".join(f"{float(x):.12g}" for x in xs) + "]"


def temperature(pv):
    return value(pv, "Ambient temperature [K]")


def ocp_root(pv, prefix, volts):
    """Stoichiometry at which the phase's OCP equals `volts` (None if not bracketed)."""
    x = np.linspace(1e-4, 1 - 1e-4, 20001)
    u = fn(pv, prefix + "Positive electrode OCP [V]", x)
    s = np.sign(u - volts)
    idx = np.nonzero(s[:-1] != s[1:])[0]
    if len(idx) == 0:
        return None
    i = idx[0]
    return float(x[i] + (volts - u[i]) * (x[i + 1] - x[i]) / (u[i + 1] - u[i]))


def i0_mapping(pv, prefix, T):
    """strata's i0_ref and the worst relative deviation of PyBaMM's j0 from strata's law."""
    name = prefix + "Positive electrode exchange-current density [A.m-2]"
    c_max = value(pv, prefix + "Maximum concentration in positive electrode [mol.m-3]")
    c_e0 = value(pv, "Initial concentration in electrolyte [mol.m-3]")
    x = np.linspace(0.02, 0.98, 97)
    ce = np.array([0.2, 0.5, 1.0, 1.5, 2.0]) * c_e0
    X, CE = np.meshgrid(x, ce)
    j0 = fn(pv, name, CE.ravel(), X.ravel() * c_max, c_max, T)
    shape = (CE.ravel() / c_e0) ** 0.5 * np.sqrt(X.ravel() * (1 - X.ravel())) / 0.5
    # the reference value is j0 at c_e0 and x = 0.5; when j0 is not of strata's form,
    # the geometric mean of j0/shape at c_e0 over the stoichiometry range is the nearest
    at_ce0 = np.isclose(CE.ravel(), c_e0)
    i0_ref = float(np.exp(np.mean(np.log(j0[at_ce0] / shape[at_ce0]))))
    dev = float(np.max(np.abs(j0 / (i0_ref * shape) - 1.0)))
    return i0_ref, c_e0, dev


def material_toml(pv, prefix, name, set_name, x_charged, x_discharged):
    T = temperature(pv)
    c_max = value(pv, prefix + "Maximum concentration in positive electrode [mol.m-3]")
    x = np.linspace(0.0, 1.0, OCP_POINTS)
    u = fn(pv, prefix + "Positive electrode OCP [V]", x)
    # a tabulated OCP extrapolated far outside its data (Chayambuka2022 NVPF below
    # x = 0.21) leaves strata's -10..10 V range: keep the points inside it
    inside = np.abs(u) < 10.0
    x, u = x[inside], u[inside]
    x_charged = max(x_charged, float(x[0]))
    xf = np.linspace(0.0, 1.0, FACTOR_POINTS)
    d = fn(pv, prefix + "Positive particle diffusivity [m2.s-1]", xf, T)
    d_ref = float(fn(pv, prefix + "Positive particle diffusivity [m2.s-1]", 0.5, T)[0])
    i0_ref, c_ref, dev = i0_mapping(pv, prefix, T)
    try:
        density = value(pv, prefix + "Positive electrode density [kg.m-3]")
        density_src = "from the set"
    except (KeyError, pybamm.ModelError):
        density, density_src = DENSITY_PLACEHOLDER_KG_M3, "placeholder (the set has none); " \
            "it only scales mAh/g, the comparison is in mAh/cm2"
    lines = [
        f"# Generated by scripts/peer/convert_pybamm.py from PyBaMM {pybamm.__version__} "
        f"ParameterValues '{set_name}' (phase '{prefix or 'single'}'); do not edit.",
        'kind = "active"', f'name = "{name}"',
        'source = """',
        f"PyBaMM {pybamm.__version__}, parameter set {set_name}, evaluated at T = {T} K.",
        f"ocp.table: U(sto) sampled at {OCP_POINTS} points on [0, 1].",
        f"diffusivity: D_s(0.5) and factor D_s(x)/D_s(0.5) at {FACTOR_POINTS} points "
        f"(omitted when constant).",
        f"exchange current: j0(c_e0 = {c_ref:g}, x = 0.5 or geometric mean) = {i0_ref:.6g} A/m2; "
        f"largest relative deviation of PyBaMM's j0 from strata's law over x in [0.02, 0.98], "
        f"c_e in [0.2, 2] c_e0: {dev:.3g}.",
        f"density_kg_m3: {density_src}.",
        'stoichiometry window: from the case (the initial state is set per variant)."""',
        f"density_kg_m3 = {fmt(density)}",
        f"max_concentration_mol_m3 = {fmt(c_max)}",
        f"stoichiometry_charged = {fmt(x_charged)}",
        f"stoichiometry_discharged = {fmt(x_discharged)}",
        f"diffusivity_m2_s = {fmt(d_ref)}",
    ]
    if np.max(np.abs(d / d_ref - 1.0)) > 1e-12:
        lines.append(f"diffusivity_factor = {{ sto = {fmt_list(xf)}, factor = "
                     f"{fmt_list(d / d_ref)} }}")
    lines += [
        f"exchange_current_density_A_m2 = {fmt(i0_ref)}",
        f"reference_concentration_mol_m3 = {fmt(c_ref)}",
        "alpha_anodic = 0.5", "alpha_cathodic = 0.5",
        "", "[ocp.table]", f"sto = {fmt_list(x)}", f"V = {fmt_list(u)}", "",
    ]
    return "\n".join(lines), {"i0_deviation": dev, "i0_ref": i0_ref}


def electrolyte_property(pv, name, T):
    c = ELECTROLYTE_GRID_MOL_M3
    try:
        v = fn(pv, name, c, T)
    except Exception:
        v = np.full_like(c, value(pv, name))
    # a table's linear extrapolation (Chayambuka2022 D_e) can turn negative at high c:
    # keep the grid where the property is positive (strata extends the end slope)
    pos = np.nonzero(v <= 0)[0]
    if len(pos):
        c, v = c[:pos[0]], v[:pos[0]]
    if np.max(np.abs(v / v[-1] - 1.0)) < 1e-12:
        return fmt(v[0])
    return f"{{ c_mol_m3 = {fmt_list(c)}, value = {fmt_list(v)} }}"


def electrolyte_toml(pv, name, set_name):
    T = temperature(pv)
    props = {
        "conductivity_S_m": "Electrolyte conductivity [S.m-1]",
        "diffusivity_m2_s": "Electrolyte diffusivity [m2.s-1]",
        "transference_number": "Cation transference number",
        "thermodynamic_factor": "Thermodynamic factor",
    }
    lines = [
        f"# Generated by scripts/peer/convert_pybamm.py from PyBaMM {pybamm.__version__} "
        f"ParameterValues '{set_name}'; do not edit.",
        'kind = "electrolyte"', f'name = "{name}"',
        f'source = "PyBaMM {pybamm.__version__}, parameter set {set_name}, at T = {T} K; '
        f'functions of c sampled on {len(ELECTROLYTE_GRID_MOL_M3)} points, 1..6000 mol/m3."',
    ]
    for key, pname in props.items():
        lines.append(f"{key} = {electrolyte_property(pv, pname, T)}")
    return "\n".join(lines) + "\n"


def counter_i0(pv):
    c_e0 = value(pv, "Initial concentration in electrolyte [mol.m-3]")
    c_li = 1.0 / value(pv, "Lithium metal partial molar volume [m3.mol-1]")
    return float(fn(pv, "Exchange-current density for lithium metal electrode [A.m-2]",
                    c_e0, c_li, temperature(pv))[0])


def current_density_1C(pv):
    area = value(pv, "Electrode height [m]") * value(pv, "Electrode width [m]")
    n_par = value(pv, "Number of electrodes connected in parallel to make a cell")
    return value(pv, "Nominal cell capacity [A.h]") / (area * n_par)


def initial_stoichiometry(pv, prefixes, direction):
    """Discharge starts at the set's initial concentration; charge at the OCP of the
    lower cut-off ("Open-circuit voltage at 0% SOC"), or at 0.99 when the OCP never
    reaches it. One value per phase."""
    out = []
    for p in prefixes:
        c_max = value(pv, p + "Maximum concentration in positive electrode [mol.m-3]")
        if direction == "discharge":
            out.append(value(pv, p + "Initial concentration in positive electrode [mol.m-3]") / c_max)
        else:
            x = ocp_root(pv, p, value(pv, "Open-circuit voltage at 0% SOC [V]"))
            out.append(min(x, 0.99) if x is not None else 0.99)
    return out


def scenario_toml(case, pv, prefixes, materials, electrolyte, mesh, rtol, library):
    """A strata scenario for one case: one variant, one CC step to the set's cut-off."""
    T = temperature(pv)
    eps = value(pv, "Positive electrode porosity")
    b_s = value(pv, "Positive electrode Bruggeman coefficient (electrode)")
    sigma = value(pv, "Positive electrode conductivity [S.m-1]")
    i1c = current_density_1C(pv)
    sign = 1.0 if case["direction"] == "charge" else -1.0
    current = sign * case["c_rate"] * i1c
    if case["direction"] == "charge":
        v_cut = value(pv, "Upper voltage cut-off [V]")
    else:
        v_cut = value(pv, "Lower voltage cut-off [V]")
    verb = "Charge" if sign > 0 else "Discharge"
    x0 = initial_stoichiometry(pv, prefixes, case["direction"])
    fractions, mass = [], 0.0
    L = value(pv, "Positive electrode thickness [m]")
    for p in prefixes:
        frac = value(pv, p + "Positive electrode active material volume fraction") / (1 - eps)
        fractions.append(frac)
    lines = [
        f"# Generated by scripts/peer/convert_pybamm.py: case {case['name']}; do not edit.",
        "[scenario]", f'name = "{case["name"]}"',
        f'description = "PyBaMM {pybamm.__version__} {case["set"]} half cell, '
        f'{case["c_rate"]}C {case["direction"]}"',
        "[library]", f'path = "{library}"',
        "[electrolyte]", f'material = "{electrolyte}"',
        f"initial_concentration_mol_m3 = "
        f"{fmt(value(pv, 'Initial concentration in electrolyte [mol.m-3]'))}",
        "[cell]", f"temperature_K = {fmt(T)}", "contact_resistance_ohm_m2 = 0.0",
        'measured_against = "counter"', 'counter_electrode = "metal"',
        f"counter_exchange_current_density_A_m2 = {fmt(counter_i0(pv))}",
        "[separator]", f"thickness_m = {fmt(value(pv, 'Separator thickness [m]'))}",
        f"porosity = {fmt(value(pv, 'Separator porosity'))}",
        f"bruggeman_exponent = "
        f"{fmt(value(pv, 'Separator Bruggeman coefficient (electrolyte)'))}",
        "[[layers]]", f"thickness_m = {fmt(L)}", f"porosity = {fmt(eps)}",
        f"bruggeman_exponent = "
        f"{fmt(value(pv, 'Positive electrode Bruggeman coefficient (electrolyte)'))}",
        f"conductivity_S_m = {fmt(sigma * (1 - eps) ** b_s)}",
    ]
    for p, m, frac in zip(prefixes, materials, fractions):
        lines += ["[[layers.materials]]", f'name = "{m}"', f"solid_volume_fraction = {fmt(frac)}",
                  f"particle_radius_m = {fmt(value(pv, p + 'Positive particle radius [m]'))}"]
    lines += [
        "[numerics]", f"nodes_per_layer = {mesh['x_p']}", f"separator_nodes = {mesh['x_s']}",
        f"particle_shells = {mesh['r_p']}", "particle_shell_ratio = 1.0",
        f"relative_tolerance = {rtol:g}", f"max_step_s = {fmt(case.get('max_step_s', 200.0))}",
        "voltage_event_tolerance_V = 1e-6",
        "[protocol]",
        f"steps = [\"{verb} at {abs(current):.10g} A/m2 until {v_cut:.10g} V\"]",
        # a sample at least every 1.5 s at 1C (ten per interval of run_pybamm.solve's
        # uniform grid, 600 points over 2.5 h / C-rate): accepted steps further apart
        # than that are filled in by interpolation (dense output), closer ones thinned
        "[output]", 'trajectories = "all"',
        f"trajectory_interval_s = {fmt(2.5 * 3600.0 / case['c_rate'] / 6000.0)}",
        "trajectory_max_points = 1000000",
    ]
    # 1C of strata (Newton scaling) equal to the set's 1C: q = I_1C / active mass
    lines.insert(lines.index("[protocol]") + 1, "nominal_capacity_mAh_g = NOMINAL")
    sets = {f"materials.{m}.initial_stoichiometry": x for m, x in zip(materials, x0)}
    if len(set(materials)) < len(materials):  # one material file per phase below
        raise ValueError("each phase needs its own material name")
    lines += ["[[batch.variants]]", f'label = "{case["name"]}"',
              "set = { " + ", ".join(f'"{k}" = {fmt(v)}' for k, v in sets.items()) + " }"]
    return "\n".join(lines) + "\n", {"current_A_m2": current, "v_cut": v_cut,
                                     "x0": x0,
                                     "fractions": fractions, "i1c": i1c}


def write_case(case, out_dir, mesh, rtol):
    """Write the material, electrolyte and scenario files of one case; return metadata."""
    pv, prefixes = param_sets.BUILDERS[case["set"]]()
    lib = os.path.join(out_dir, "materials")
    os.makedirs(lib, exist_ok=True)
    materials, info = [], {}
    x0_all = {d: initial_stoichiometry(pv, prefixes, d) for d in ("charge", "discharge")}
    for i, p in enumerate(prefixes):
        mname = f"{case['set']}_pos{i}"
        lo = min(x0_all["charge"][i], x0_all["discharge"][i])
        hi = max(x0_all["charge"][i], x0_all["discharge"][i])
        text, meta = material_toml(pv, p, mname, case["set"], max(0.0, lo * 0.5), hi)
        with open(os.path.join(lib, mname + ".toml"), "w") as f:
            f.write(text)
        materials.append(mname)
        info[mname] = meta
    ename = f"{case['set']}_electrolyte"
    with open(os.path.join(lib, ename + ".toml"), "w") as f:
        f.write(electrolyte_toml(pv, ename, case["set"]))
    text, meta = scenario_toml(case, pv, prefixes, materials, ename, mesh, rtol, "materials")
    # active mass for the nominal capacity: (1 - eps) L sum(frac rho); rho from the files
    eps = value(pv, "Positive electrode porosity")
    L = value(pv, "Positive electrode thickness [m]")
    rho = DENSITY_PLACEHOLDER_KG_M3
    for m in materials:
        with open(os.path.join(lib, m + ".toml")) as f:
            for line in f:
                if line.startswith("density_kg_m3 ="):
                    rho = float(line.split("=")[1])
    m_act = L * (1 - eps) * sum(meta["fractions"]) * rho
    text = text.replace("NOMINAL", fmt(meta["i1c"] / m_act))
    path = os.path.join(out_dir, case["name"] + ".toml")
    with open(path, "w") as f:
        f.write(text)
    meta.update({"scenario": path, "materials": info, "counter_i0": counter_i0(pv),
                 "T": temperature(pv)})
    return meta


def main(argv=None):
    import cases as cases_mod
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="build/peer/convert")
    ap.add_argument("--rtol", type=float, default=1e-5)
    args = ap.parse_args(argv)
    for case in cases_mod.all_cases():
        meta = write_case(case, args.out, cases_mod.MESHES[case["set"]][0], args.rtol)
        print(meta["scenario"], "i0 deviation:",
              {k: f"{v['i0_deviation']:.2g}" for k, v in meta["materials"].items()})


if __name__ == "__main__":
    main()
