"""Cross-validation of strata against PyBaMM's half-cell DFN (issue 8).

For every case (cases.py): convert the PyBaMM set to strata files (convert_pybamm.py),
run strata and PyBaMM on the same mesh, compare the voltage against capacity over the
common capacity range (RMS, max) and the capacity at cut-off; repeat both on a mesh
twice as fine to show that each tool is converged to better than the difference.

    build/peer-venv/bin/python scripts/peer/compare.py [--check] [--plots docs/img]
                                   [--sets xu2019 xu2019_blend ...] [--json FILE]

--check exits 1 when a case exceeds the limits of cases.py (the `peer` ctest).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as cases_mod  # noqa: E402
import convert_pybamm as conv  # noqa: E402
import run_pybamm  # noqa: E402
import run_strata  # noqa: E402

N_COMMON = 2000


def difference(qa, va, qb, vb):
    """RMS and max |va - vb| (mV) over the common capacity range, and the capacity
    difference of a relative to b at the end (%)."""
    lo = max(qa[0], qb[0])
    hi = min(qa[-1], qb[-1])
    q = np.linspace(lo, hi, N_COMMON)
    d = np.interp(q, qa, va) - np.interp(q, qb, vb)
    return {"rms_mV": float(np.sqrt(np.mean(d * d)) * 1e3),
            "max_mV": float(np.max(np.abs(d)) * 1e3),
            "dcap_pct": float((qa[-1] - qb[-1]) / qb[-1] * 100.0),
            "q": q, "dV": d}


def clean(q, v):
    """Drop points where the capacity does not increase (t = 0 duplicates)."""
    keep = np.concatenate([[True], np.diff(q) > 0])
    return q[keep], v[keep]


def run_set(set_name, work, rtol):
    rows = []
    built = {}
    print(f"{set_name}: meshes {cases_mod.MESHES[set_name]}", flush=True)
    meshes = dict(zip(("base", "fine"), cases_mod.MESHES[set_name]))
    for mesh_name, mesh in meshes.items():
        t0 = time.perf_counter()
        built[mesh_name] = run_pybamm.Built(set_name, mesh)
        print(f"  PyBaMM {set_name} {mesh_name} mesh built in {time.perf_counter() - t0:.1f} s",
              flush=True)
    for case in cases_mod.all_cases((set_name,)):
        curves = {}
        for mesh_name, mesh in meshes.items():
            out = os.path.join(work, mesh_name)
            meta = conv.write_case(case, out, mesh, rtol)
            h5 = os.path.join(out, case["name"] + ".h5")
            run_strata.simulate(meta["scenario"], h5)
            qs, vs, st = run_strata.curve(h5, meta)
            curves[("strata", mesh_name)] = clean(qs, vs)
            if mesh_name == "base":
                strata_reason = st["reason"]
            sol = built[mesh_name].solve(case["c_rate"], case["direction"])
            if not sol.termination.startswith("event"):
                raise RuntimeError(f"PyBaMM {case['name']} {mesh_name}: {sol.termination}")
            curves[("pybamm", mesh_name)] = clean(*built[mesh_name].curve(sol))
        main = difference(*curves[("strata", "base")], *curves[("pybamm", "base")])
        fine = difference(*curves[("strata", "fine")], *curves[("pybamm", "fine")])
        pyb = difference(*curves[("pybamm", "base")], *curves[("pybamm", "fine")])
        stra = difference(*curves[("strata", "base")], *curves[("strata", "fine")])
        row = {"case": case["name"], "set": set_name, "c_rate": case["c_rate"],
               "direction": case["direction"], "strata_reason": strata_reason,
               "rms_mV": main["rms_mV"], "max_mV": main["max_mV"], "dcap_pct": main["dcap_pct"],
               "fine_rms_mV": fine["rms_mV"], "fine_dcap_pct": fine["dcap_pct"],
               "pybamm_refine_rms_mV": pyb["rms_mV"], "pybamm_refine_dcap_pct": pyb["dcap_pct"],
               "strata_refine_rms_mV": stra["rms_mV"], "strata_refine_dcap_pct": stra["dcap_pct"],
               "q_pybamm_mAh_cm2": float(curves[("pybamm", "base")][0][-1]),
               "q_strata_mAh_cm2": float(curves[("strata", "base")][0][-1])}
        row["_curves"] = curves
        row["_diff"] = main
        rows.append(row)
        print(f"  {case['name']:32s} RMS {row['rms_mV']:6.2f} mV  max {row['max_mV']:6.2f} mV  "
              f"dQ {row['dcap_pct']:+6.3f} %   | fine mesh: RMS {row['fine_rms_mV']:6.2f} mV "
              f"dQ {row['fine_dcap_pct']:+6.3f} %  | PyBaMM refine: RMS "
              f"{row['pybamm_refine_rms_mV']:5.2f} mV dQ {row['pybamm_refine_dcap_pct']:+6.3f} % "
              f"| strata refine: RMS {row['strata_refine_rms_mV']:5.2f} mV "
              f"dQ {row['strata_refine_dcap_pct']:+6.3f} %"
              + ("" if strata_reason == "ok" else f"  strata: {strata_reason}"), flush=True)
    return rows


def plot_set(rows, set_name, img_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex="col",
                             gridspec_kw={"height_ratios": [2.2, 1]})
    colors = {0.5: "tab:blue", 1.0: "tab:green", 3.0: "tab:red"}
    for col, direction in enumerate(("discharge", "charge")):
        for r in rows:
            if r["direction"] != direction:
                continue
            c = colors[r["c_rate"]]
            qs, vs = r["_curves"][("strata", "base")]
            qp, vp = r["_curves"][("pybamm", "base")]
            axes[0, col].plot(qp, vp, "-", color=c, lw=2.2, alpha=0.45,
                              label=f"PyBaMM {r['c_rate']:g}C")
            axes[0, col].plot(qs, vs, "--", color=c, lw=1.0, label=f"strata {r['c_rate']:g}C")
            axes[1, col].plot(r["_diff"]["q"], r["_diff"]["dV"] * 1e3, color=c,
                              label=f"{r['c_rate']:g}C RMS {r['rms_mV']:.2f} mV")
        axes[0, col].set_title(f"{set_name}: {direction}")
        axes[0, col].set_ylabel("voltage vs metal (V)")
        axes[1, col].set_yscale("symlog", linthresh=1.0)  # the first 0.1 s is off the mV scale
        axes[1, col].set_ylabel("strata - PyBaMM (mV, symlog)")
        axes[1, col].set_xlabel("capacity (mAh/cm2)")
        axes[0, col].legend(fontsize=7)
        axes[1, col].legend(fontsize=7)
        axes[1, col].grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(img_dir, exist_ok=True)
    path = os.path.join(img_dir, f"peer_{set_name}.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def check(rows):
    bad = []
    for r in rows:
        if r["strata_reason"] != "ok":
            bad.append(f"{r['case']}: strata failed: {r['strata_reason']}")
        if r["rms_mV"] > cases_mod.RMS_LIMIT_MV[r["c_rate"]]:
            bad.append(f"{r['case']}: RMS {r['rms_mV']:.2f} mV > "
                       f"{cases_mod.RMS_LIMIT_MV[r['c_rate']]} mV")
        if abs(r["dcap_pct"]) > cases_mod.CAPACITY_LIMIT_PCT[r["c_rate"]]:
            bad.append(f"{r['case']}: capacity {r['dcap_pct']:+.3f} % beyond "
                       f"{cases_mod.CAPACITY_LIMIT_PCT[r['c_rate']]} %")
    return bad


def markdown(rows):
    out = ["| case | RMS (mV) | max (mV) | capacity (%) | PyBaMM Q (mAh/cm2) | fine mesh RMS (mV) / capacity (%) "
           "| PyBaMM refined: RMS (mV) / capacity (%) | strata refined: RMS (mV) / capacity (%) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        flag = "" if r["strata_reason"] == "ok" else " (strata: " + r["strata_reason"] + ")"
        out.append(f"| {r['case']}{flag} | {r['rms_mV']:.2f} | {r['max_mV']:.2f} | {r['dcap_pct']:+.3f} | "
                   f"{r['q_pybamm_mAh_cm2']:.4f} | {r['fine_rms_mV']:.2f} / {r['fine_dcap_pct']:+.3f} | "
                   f"{r['pybamm_refine_rms_mV']:.2f} / {r['pybamm_refine_dcap_pct']:+.3f} | "
                   f"{r['strata_refine_rms_mV']:.2f} / {r['strata_refine_dcap_pct']:+.3f} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(cases_mod.SETS))
    ap.add_argument("--checked-sets", action="store_true",
                    help="only the sets the ctest asserts (cases.CHECKED_SETS)")
    ap.add_argument("--work", default=os.path.join(run_strata.ROOT, "build", "peer", "compare"))
    ap.add_argument("--rtol", type=float, default=1e-6, help="strata relative_tolerance")
    ap.add_argument("--plots", default=None, help="write peer_<set>.png into this directory")
    ap.add_argument("--json", default=None)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    import pybamm
    print(f"PyBaMM {pybamm.__version__}, strata {run_strata.strata_binary()}; "
          f"strata rtol {args.rtol:g}", flush=True)
    rows = []
    if args.checked_sets:
        args.sets = list(cases_mod.CHECKED_SETS)
    for s in args.sets:
        set_rows = run_set(s, os.path.join(args.work, s), args.rtol)
        if args.plots:
            print("  plot:", plot_set(set_rows, s, args.plots))
        rows += set_rows
    print(markdown(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
                      f, indent=1)
    if args.check:
        bad = check(rows)
        if bad:
            print("FAIL:\n  " + "\n  ".join(bad))
            return 1
        print(f"PASS: {len(rows)} cases within the limits of scripts/peer/cases.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
