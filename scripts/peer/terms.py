"""Term study: which modelling difference makes the remaining strata-PyBaMM gap.

strata's metal counter electrode has a constant exchange current density; PyBaMM's
Xu2019 Li-metal j0 = F 3.5e-8 c_Li^0.7 c_e^0.3 follows the electrolyte concentration at
the metal. The study runs PyBaMM with the published j0 and with j0 held at its c_e0 value
(what strata represents) and compares both with strata. A second row per case compares
the Chayambuka2022 NVPF electrode with its published rate constant k_p(c_s) against the
constant k both tools use (a PyBaMM-only difference: what strata cannot represent).

    build/peer-venv/bin/python scripts/peer/terms.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as cases_mod  # noqa: E402
import compare  # noqa: E402
import convert_pybamm as conv  # noqa: E402
import param_sets  # noqa: E402
import run_pybamm  # noqa: E402
import run_strata  # noqa: E402

WORK = os.path.join(run_strata.ROOT, "build", "peer", "terms")


def mid_offset_mV(d):
    """Mean difference over the middle 80 % of the common capacity range (mV)."""
    n = len(d["q"])
    return float(np.mean(d["dV"][n // 10: n - n // 10]) * 1e3)


def li_metal_study():
    set_name = "xu2019"
    mesh = cases_mod.MESHES[set_name][0]
    pv, _ = param_sets.xu2019()
    i0_const = conv.counter_i0(pv)
    built = {"published c_e-dependent": run_pybamm.Built(set_name, mesh),
             "held at c_e0 (as strata)": run_pybamm.Built(
                 set_name, mesh, overrides={
                     "Exchange-current density for lithium metal electrode [A.m-2]": i0_const})}
    print(f"Li-metal exchange current in PyBaMM (strata: constant {i0_const:.3f} A/m2), "
          f"set {set_name}, mesh {mesh}")
    print("| case | PyBaMM Li-metal j0 | RMS (mV) | mean offset, middle 80 % (mV) | capacity (%) |")
    print("|---|---|---|---|---|")
    for rate in cases_mod.RATES:
        for direction in cases_mod.DIRECTIONS:
            case = cases_mod.case(set_name, rate, direction)
            meta = conv.write_case(case, WORK, mesh, 1e-6)
            h5 = os.path.join(WORK, case["name"] + ".h5")
            run_strata.simulate(meta["scenario"], h5)
            qs, vs, _ = run_strata.curve(h5, meta)
            for label, b in built.items():
                qp, vp = compare.clean(*b.curve(b.solve(rate, direction)))
                d = compare.difference(*compare.clean(qs, vs), qp, vp)
                print(f"| {case['name']} | {label} | {d['rms_mV']:.2f} | {mid_offset_mV(d):+.2f} | "
                      f"{d['dcap_pct']:+.3f} |", flush=True)


def nvpf_rate_constant_study():
    mesh = cases_mod.MESHES["chayambuka2022_nvpf"][0]
    a = run_pybamm.Built("chayambuka2022_nvpf", mesh)
    b = run_pybamm.Built("chayambuka2022_nvpf_published", mesh)
    print()
    print(f"Chayambuka2022 NVPF rate constant in PyBaMM: published k_p(c_s) table against the "
          f"constant k of the comparison (PyBaMM only), mesh {mesh}")
    print("| case | RMS (mV) | mean offset, middle 80 % (mV) | capacity (%) |")
    print("|---|---|---|---|")
    for rate in cases_mod.RATES:
        for direction in cases_mod.DIRECTIONS:
            ca = compare.clean(*a.curve(a.solve(rate, direction)))
            cb = compare.clean(*b.curve(b.solve(rate, direction)))
            d = compare.difference(*cb, *ca)
            name = cases_mod.case("chayambuka2022_nvpf", rate, direction)["name"]
            print(f"| {name} | {d['rms_mV']:.2f} | {mid_offset_mV(d):+.2f} | "
                  f"{d['dcap_pct']:+.3f} |", flush=True)


if __name__ == "__main__":
    li_metal_study()
    nvpf_rate_constant_study()
