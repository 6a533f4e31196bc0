#!/usr/bin/env python3
"""How much the calibrated Brown 2026 model's 3C retention rests on what was fixed,
not fitted (docs/calibration.md, "Sensitivity to the fixed assumptions").

Runs scenarios/brown2026_rate_test.toml (the five electrodes through the whole rate
test) once per case, each case changing one assumption in the scenario's text:
the contact resistances scaled, the reference electrode moved within the separator,
and, over one charge from the start, NMO's missing capacity as inactive material
(the calibration's choice) or as a narrower window (all of it active, starting part
charged). Prints a table of 3C retention per electrode and case.

    python3 scripts/brown2026_sensitivity.py [--strata build/strata] [--out DIR]
"""

import argparse
import os
import re
import subprocess
import sys

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATE_TEST = os.path.join(ROOT, "scenarios", "brown2026_rate_test.toml")
ONE_CHARGE_3C, ONE_CHARGE_LOW = '"Charge at 3C until 3.6 V"', '"Charge at 0.1C until 3.6 V"'
# NMO at the calibrated accessible fraction (0.457) holds 0.457 x (0.70 - 0.40) of its
# window; all of it active and the same charge: a start at 0.70 - 0.137 = 0.563 would
# match by stoichiometry, 0.537 matches the low-rate capacity (34.5 against 34.8 mAh/g).
NARROW_WINDOW = {"materials.NMO.accessible_fraction": 1.0, "materials.NMO.initial_stoichiometry": 0.537}


def with_contact_resistance_scaled(text, factor):
    """Every contact resistance in the scenario (the [cell] default and each variant's) times factor."""
    pattern = re.compile(r'^(\s*"?(?:cell\.)?contact_resistance_ohm_m2"?\s*=\s*)([0-9.eE+-]+)', re.M)
    out, n = pattern.subn(lambda m: f"{m.group(1)}{float(m.group(2)) * factor:.6g}", text)
    if n < 2:
        raise SystemExit(f"{RATE_TEST}: expected contact resistances in [cell] and the variants, found {n}")
    return out


def with_variant_overrides(text, overrides):
    """The overrides added to every variant's [batch.variants.set] table."""
    lines = "".join(f'"{k}" = {v}\n' for k, v in overrides.items())
    out, n = re.subn(r"^\[batch\.variants\.set\]\n", lambda m: m.group(0) + lines, text, flags=re.M)
    if n == 0:
        raise SystemExit(f"{RATE_TEST}: no [batch.variants.set] table")
    return out


def with_one_charge(text, step):
    """The protocol replaced by one charge from the start; the objectives by its capacity."""
    text = re.sub(r"^steps = \[\n(?:.*\n)*?\]\n", f"steps = [{step}]\n", text, count=1, flags=re.M)
    text = re.sub(r"^\[\[objectives\]\]\n(?:[^\[\n].*\n|\n)*", "", text, flags=re.M)
    return text.replace("[output]\n", '[[objectives]]\nname = "capacity"\nkind = "capacity_mAh_g"\nstep = 0\n\n[output]\n', 1)


def without_trajectories(text):
    text = re.sub(r'^trajectories = .*\n', 'trajectories = "none"\n', text, count=1, flags=re.M)
    return re.sub(r"^profiles = .*\n", "", text, count=1, flags=re.M)


def run(strata, text, out_dir, name):
    scenario = os.path.join(out_dir, name + ".toml")
    h5 = os.path.join(out_dir, name + ".h5")
    with open(scenario, "w") as f:
        f.write(f'[library]\npath = "{os.path.join(ROOT, "materials")}"\n' + without_trajectories(text))
    subprocess.run([strata, "simulate", scenario, "--out", h5, "--overwrite", "--quiet"], check=True)
    with h5py.File(h5, "r") as f:
        labels = [x.decode() if isinstance(x, bytes) else str(x) for x in f["population/label"][:]]
        objectives = {k: f["population/objective"][k][:] for k in f["population/objective"]}
        status = f["population/status"][:]
    return labels, objectives, status


def cases():
    """(name, what it changes, scenario text -> text, 'rate test' or 'one charge')."""
    yield "calibrated", "as scenarios/brown2026_rate_test.toml", lambda t: t, "rate test"
    for f in (0.0, 0.5, 1.5):
        yield (f"contact x{f:g}", f"every contact resistance times {f:g}",
               lambda t, f=f: with_contact_resistance_scaled(t, f), "rate test")
    for r in (0.02, 0.98):
        yield (f"reference at {r:g}", f"reference electrode at {r:g} of the separator (0.5 calibrated; 0: electrode face)",
               lambda t, r=r: with_variant_overrides(t, {"cell.reference_position_fraction": r}), "rate test")
    yield "NMO inactive share", "one charge from the start, calibrated NMO", lambda t: t, "one charge"
    yield ("NMO narrower window", "one charge, all NMO active, starting at x = 0.537",
           lambda t: with_variant_overrides(t, NARROW_WINDOW), "one charge")


def sensitivity(strata, out_dir):
    """Rows (case, what, {electrode: 3C retention})."""
    os.makedirs(out_dir, exist_ok=True)
    with open(RATE_TEST) as f:
        base = f.read()
    rows = []
    for k, (name, what, change, mode) in enumerate(cases()):
        text = change(base)
        stem = f"case{k}"
        if mode == "rate test":
            labels, obj, status = run(strata, text, out_dir, stem)
            values = obj["retention_3C"]
        else:
            labels, hi, status = run(strata, with_one_charge(text, ONE_CHARGE_3C), out_dir, stem + "_3C")
            _, lo, status_lo = run(strata, with_one_charge(text, ONE_CHARGE_LOW), out_dir, stem + "_low")
            values = hi["capacity"] / lo["capacity"]
            status = [max(a, b) for a, b in zip(status, status_lo)]
        rows.append((name, what, {l: (v if s == 0 else float("nan")) for l, v, s in zip(labels, values, status)}))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", default=os.path.join(ROOT, "build", "strata"), help="the strata binary")
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "brown2026_sensitivity"),
                    help="directory for the generated scenarios and results files")
    a = ap.parse_args(argv)
    rows = sensitivity(a.strata, a.out)
    electrodes = list(rows[0][2])
    print("3C charge retention (3C charge capacity over the 0.1C reference charge's; '-': the design failed)\n")
    print("| case | " + " | ".join(electrodes) + " | what changes |")
    print("|---|" + "---|" * (len(electrodes) + 1))
    for name, what, r in rows:
        print(f"| {name} | " + " | ".join("-" if v != v else f"{v:.3f}" for v in r.values()) + f" | {what} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
