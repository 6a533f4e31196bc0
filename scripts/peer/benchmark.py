"""Side-by-side speed of strata and PyBaMM on one machine, at equal accuracy (issue 8).

Case: the Xu2019 NMC532 half cell, 1C discharge to 3.5 V (cases.py, convert_pybamm.py).

1. Equal accuracy. Each tool's error is measured against its own converged reference
   (finest mesh, tight tolerances): RMS of the voltage over capacity and the capacity at
   cut-off. Every candidate setting (mesh, tolerance; strata also its shell ratio)
   within ACCURACY_RMS_MV and ACCURACY_DCAP_PCT is timed and the fastest is used, so
   both run at the same accuracy, each with its best settings.
2. Per simulation, one core: PyBaMM IDAKLU, model built once, warm (median of repeated
   solves; output variables limited to what the comparison reads); strata with
   OMP_NUM_THREADS=1 (`--threads 1`), the solver time strata reports for a batch of
   identical variants divided by their number (process start, scenario loading and the
   HDF5 file are listed separately).
3. Batch: 1,000 variants (D_s x separator porosity x exchange current, 10 x 10 x 10) on
   all cores: PyBaMM `solver.solve(model, t_eval, inputs=[...])` with IDAKLU
   num_threads = cores; strata one scenario with a 1,000-variant sweep, --threads cores.
   PyBaMM runs --pybamm-variants of them (default all 1,000; fewer are scaled to 1,000).

    build/peer-venv/bin/python scripts/peer/benchmark.py [--pybamm-variants 1000]
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as cases_mod  # noqa: E402
import compare  # noqa: E402
import convert_pybamm as conv  # noqa: E402
import run_pybamm  # noqa: E402
import run_strata  # noqa: E402

CASE = cases_mod.case("xu2019", 1.0, "discharge")
ACCURACY_RMS_MV = 1.0
ACCURACY_DCAP_PCT = 0.1
REFERENCE_MESH = {"x_p": 60, "x_s": 20, "r_p": 60}
# candidates, cheapest first: (mesh, PyBaMM rtol / strata (rtol, shell ratio, max step)).
# strata writes a curve point per accepted step (no dense output), so its curve is as
# fine as its steps: with BDF2 (2026-12-06) the steps at rtol 1e-3 are too far apart
# for 1 mV RMS between the points, and a smaller max step is a setting to try.
MESHES = [{"x_p": 6, "x_s": 4, "r_p": 6}, {"x_p": 8, "x_s": 5, "r_p": 8},
          {"x_p": 10, "x_s": 5, "r_p": 10}, {"x_p": 12, "x_s": 6, "r_p": 12},
          {"x_p": 15, "x_s": 8, "r_p": 15}, {"x_p": 20, "x_s": 10, "r_p": 20}]
PYBAMM_RTOLS = (1e-4, 1e-6)
STRATA_SETTINGS = [(rtol, ratio, max_step) for max_step in (200.0, 60.0, 20.0)
                   for rtol in (3e-3, 1e-3, 1e-4) for ratio in (0.8, 1.0)]
SWEEP = {  # strata override path: (PyBaMM input, values)
    "materials.xu2019_pos0.diffusivity_m2_s": ("Positive particle diffusivity [m2.s-1]",
                                               np.geomspace(3e-15, 3e-14, 10)),
    "separator.porosity": ("Separator porosity", np.linspace(0.30, 0.50, 10)),
    "materials.xu2019_pos0.exchange_current_density_A_m2": ("i0_ref [A.m-2]",
                                                            np.linspace(2.0, 8.0, 10)),
}
WORK = os.path.join(run_strata.ROOT, "build", "peer", "bench")


def j0_with_input(c_e, c_s_surf, c_s_max, T):
    """Xu2019's NMC j0 with its reference value as an input (the same law, strata's form)."""
    import pybamm
    i0 = pybamm.InputParameter("i0_ref [A.m-2]")
    return i0 * (c_e / 1000.0) ** 0.5 * c_s_surf ** 0.5 * (c_s_max - c_s_surf) ** 0.5 \
        / (0.5 * c_s_max)


def pybamm_built(mesh, rtol, threads=1, batch=False):
    extra = ()
    overrides = None
    if batch:
        extra = ("Positive particle diffusivity [m2.s-1]", "Separator porosity")
        overrides = {"Positive electrode exchange-current density [A.m-2]": j0_with_input}
    return run_pybamm.Built("xu2019", mesh, rtol=rtol, atol=rtol * 1e-2 if rtol >= 1e-6 else 1e-8, extra_inputs=extra,
                            overrides=overrides, num_threads=threads,
                            output_variables=["Voltage [V]", "Discharge capacity [A.h]"])


def pybamm_curve(b, inputs=None):
    sol = b.solve(CASE["c_rate"], CASE["direction"], n_points=300, inputs=inputs)
    return compare.clean(*b.curve(sol))


def time_pybamm(b, repeats=15):
    b.solve(CASE["c_rate"], CASE["direction"])  # warm-up (first call compiles/initialises)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        b.solve(CASE["c_rate"], CASE["direction"], n_points=300)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def pybamm_stats(mesh, rtol):
    """IDA's own counters for one solve (print_stats, captured from the C stdout)."""
    import tempfile
    import pybamm
    b = pybamm_built(mesh, rtol)
    b.solver = pybamm.IDAKLUSolver(rtol=rtol, atol=rtol * 1e-2, options={
        "print_stats": True, "num_threads": 1},
        output_variables=["Voltage [V]", "Discharge capacity [A.h]"])
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            b.solve(CASE["c_rate"], CASE["direction"], n_points=300)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read()

    def grab(label):
        m = re.search(label + r" = (\d+)", text)
        return int(m.group(1)) if m else -1
    return {"steps": grab("Number of steps"),
            "newton": grab("Number of nonlinear iterations performed"),
            "jacobians": grab("Number of linear solver setup calls")}


def strata_scenario(mesh, rtol, ratio, tag, sweep=None, copies=1, max_step=200.0):
    meta = conv.write_case(CASE, os.path.join(WORK, tag), mesh, rtol)
    path = meta["scenario"]
    with open(path) as f:
        text = f.read()
    text = text.replace("particle_shell_ratio = 1.0", f"particle_shell_ratio = {ratio}")
    assert "max_step_s = 200.0" in text
    text = text.replace("max_step_s = 200.0", f"max_step_s = {max_step!r}")
    if sweep is None and copies > 1:  # identical variants: one axis, one value repeated
        sweep = {"cell.temperature_K": [meta["T"]] * copies}
    if sweep:
        text = text.replace('trajectories = "all"', 'trajectories = "list"\ndesign_ids = [0]')
        text += "[batch.sweep]\n" + "".join(
            f'"{k}" = [{", ".join(repr(float(x)) for x in v)}]\n' for k, v in sweep.items())
    with open(path, "w") as f:
        f.write(text)
    return path, meta


def run_strata_timed(path, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    h5 = path.replace(".toml", ".h5")
    t0 = time.perf_counter()
    res = subprocess.run([run_strata.strata_binary(), "simulate", path, "--out", h5,
                          "--overwrite", "--threads", str(threads)], env=env,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(res.stdout + res.stderr)
    m = re.search(r"(\d+) variants in \d+ batch\(es\) \((\d+) ok, (\d+) failed\) in ([\d.]+) s "
                  r"on (\d+) CPU threads: [\d.]+ variants/s, [\d.]+ time steps/s, ([\d.]+) Newton "
                  r"iterations per step; HDF5 writing ([\d.]+) s", res.stdout)
    n, ok, failed, solve_s, thr, newton, h5_s = m.groups()
    import h5py
    with h5py.File(h5, "r") as f:
        steps_per_variant = f["population/step/time_steps"][:, 0].astype(float).mean()
        newton_per_variant = f["population/step/newton_iterations"][:, 0].astype(float).mean()
    return {"steps": float(steps_per_variant), "newton": float(newton_per_variant),
            "n": int(n), "ok": int(ok), "failed": int(failed), "solve_s": float(solve_s),
            "threads": int(thr), "newton_per_step": float(newton), "hdf5_s": float(h5_s),
            "wall_s": wall, "h5": h5}


def within(d):
    return d["rms_mV"] <= ACCURACY_RMS_MV and abs(d["dcap_pct"]) <= ACCURACY_DCAP_PCT


def choose_pybamm(ref):
    """The fastest PyBaMM setting within the accuracy target (each candidate timed)."""
    best = None
    for mesh in MESHES:
        for rtol in PYBAMM_RTOLS:
            b = pybamm_built(mesh, rtol)
            d = compare.difference(*pybamm_curve(b), *ref)
            t = time_pybamm(b, repeats=5) if within(d) else float("nan")
            print(f"  PyBaMM {mesh} rtol {rtol:g}: RMS {d['rms_mV']:.3f} mV, dQ "
                  f"{d['dcap_pct']:+.4f} %" + (f", {t * 1e3:.1f} ms" if within(d) else ""),
                  flush=True)
            if within(d) and (best is None or t < best[-1]):
                best = (b, mesh, rtol, d, t)
    if best is None:
        raise RuntimeError("no PyBaMM setting reaches the accuracy target")
    return best[:4]


def choose_strata(ref):
    """The fastest strata setting within the accuracy target (each candidate timed)."""
    best = None
    for mesh in MESHES:
        for rtol, ratio, max_step in STRATA_SETTINGS:
            path, meta = strata_scenario(mesh, rtol, ratio, "choose", max_step=max_step)
            run_strata.simulate(path, path.replace(".toml", ".h5"))
            q, v, _ = run_strata.curve(path.replace(".toml", ".h5"), meta)
            d = compare.difference(*compare.clean(q, v), *ref)
            t = float("nan")
            if within(d):
                path, _ = strata_scenario(mesh, rtol, ratio, "choose_timed", copies=20, max_step=max_step)
                r = run_strata_timed(path, 1)
                t = r["solve_s"] / r["n"]
            print(f"  strata {mesh} rtol {rtol:g} shell ratio {ratio} max step {max_step:g} s: "
                  f"RMS {d['rms_mV']:.3f} mV, "
                  f"dQ {d['dcap_pct']:+.4f} %" + (f", {t * 1e3:.2f} ms" if within(d) else ""),
                  flush=True)
            if within(d) and (best is None or t < best[-1]):
                best = (mesh, (rtol, ratio, max_step), d, t)
    if best is None:
        raise RuntimeError("no strata setting reaches the accuracy target")
    return best[:3]


def batch_inputs(b, n):
    grid = np.array(np.meshgrid(*[v for _, v in SWEEP.values()], indexing="ij")).reshape(3, -1).T
    names = [name for name, _ in SWEEP.values()]
    base = b.inputs(CASE["c_rate"], CASE["direction"])
    return [dict(base, **dict(zip(names, row))) for row in grid[:n]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pybamm-variants", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)
    import pybamm
    import pybammsolvers
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    git = subprocess.run(["git", "-C", run_strata.ROOT, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    print(f"machine: {cpu}, {os.cpu_count()} cores; PyBaMM {pybamm.__version__} "
          f"(pybammsolvers {pybammsolvers.__version__}, IDAKLU), Python "
          f"{platform.python_version()}; strata {git}; case {CASE['name']}", flush=True)

    print("references (own finest mesh, tight tolerances):", flush=True)
    ref_p = pybamm_curve(pybamm_built(REFERENCE_MESH, 1e-7))
    path, meta = strata_scenario(REFERENCE_MESH, 1e-7, 1.0, "reference")
    run_strata.simulate(path, path.replace(".toml", ".h5"))
    q, v, _ = run_strata.curve(path.replace(".toml", ".h5"), meta)
    ref_s = compare.clean(q, v)
    d = compare.difference(*ref_s, *ref_p)
    print(f"  strata reference - PyBaMM reference: RMS {d['rms_mV']:.3f} mV, dQ "
          f"{d['dcap_pct']:+.4f} %", flush=True)

    print(f"cheapest settings within RMS {ACCURACY_RMS_MV} mV and capacity "
          f"{ACCURACY_DCAP_PCT} % of the tool's own reference:", flush=True)
    b1, p_mesh, p_rtol, p_err = choose_pybamm(ref_p)
    s_mesh, (s_rtol, s_ratio, s_max_step), s_err = choose_strata(ref_s)

    # per simulation, one core
    t_p = time_pybamm(b1)
    copies = 50
    path, _ = strata_scenario(s_mesh, s_rtol, s_ratio, "single", copies=copies, max_step=s_max_step)
    r1 = run_strata_timed(path, 1)
    t_s = r1["solve_s"] / r1["n"]

    # batch of 1,000 on all cores
    n_p = args.pybamm_variants
    bb = pybamm_built(p_mesh, p_rtol, threads=args.threads, batch=True)
    inputs = batch_inputs(bb, n_p)
    bb.solver.solve(bb.model, [0.0, bb.t_end_s(1.0)], inputs=inputs[:2],
                    t_interp=np.linspace(0, bb.t_end_s(1.0), 300))  # warm-up
    t0 = time.perf_counter()
    sols = bb.solver.solve(bb.model, [0.0, bb.t_end_s(1.0)], inputs=inputs,
                           t_interp=np.linspace(0, bb.t_end_s(1.0), 300))
    t_pb = time.perf_counter() - t0
    p_fail = sum(1 for s in sols if not s.termination.startswith("event"))
    sweep = {k: v for k, (_, v) in SWEEP.items()}
    path, _ = strata_scenario(s_mesh, s_rtol, s_ratio, "batch", sweep=sweep, max_step=s_max_step)
    rb = run_strata_timed(path, args.threads)

    p_rate = n_p / t_pb
    s_rate = rb["n"] / rb["solve_s"]
    print()
    print(f"equal accuracy: PyBaMM mesh {p_mesh} rtol {p_rtol:g} (error {p_err['rms_mV']:.2f} mV, "
          f"{p_err['dcap_pct']:+.3f} %); strata mesh {s_mesh} rtol {s_rtol:g} shell ratio "
          f"{s_ratio} max step {s_max_step:g} s (error {s_err['rms_mV']:.2f} mV, {s_err['dcap_pct']:+.3f} %)")
    print()
    print("| measure | PyBaMM (IDAKLU) | strata CPU | strata speed-up |")
    print("|---|---|---|---|")
    print(f"| one simulation, 1 core (ms) | {t_p * 1e3:.1f} | {t_s * 1e3:.2f} | {t_p / t_s:.0f}x |")
    print(f"| batch, {args.threads} cores (variants/s) | {p_rate:.1f} ({n_p} run, "
          f"{p_fail} failed) | {s_rate:.0f} ({rb['n']} run, {rb['failed']} failed) | "
          f"{s_rate / p_rate:.0f}x |")
    print(f"| 1,000 variants, {args.threads} cores (s) | {1000 / p_rate:.1f}"
          f"{' (scaled from ' + str(n_p) + ')' if n_p != 1000 else ''} | "
          f"{rb['solve_s'] * 1000 / rb['n']:.2f} | |")
    print()
    print(f"strata, where the time goes: one variant {t_s * 1e3:.2f} ms of solver time = "
          f"{r1['steps']:.0f} time steps x {r1['newton_per_step']:.2f} Newton "
          f"iterations ({r1['newton']:.0f} in all, {t_s / r1['newton'] * 1e6:.1f} us each, "
          f"{(s_mesh['x_p'] + s_mesh['x_s'])} cells and {s_mesh['x_p']} particles of "
          f"{s_mesh['r_p']} shells). Process start, "
          f"scenario loading and HDF5 writing add {r1['wall_s'] - r1['solve_s']:.2f} s per "
          f"command (HDF5 {r1['hdf5_s']:.3f} s), not counted per simulation. Batch command "
          f"wall {rb['wall_s']:.2f} s (solver {rb['solve_s']:.2f} s, HDF5 {rb['hdf5_s']:.3f} s).")
    st = pybamm_stats(p_mesh, p_rtol)
    print(f"PyBaMM, where the time goes: model build and discretisation are excluded (done "
          f"once); one solve is IDA (variable-order BDF, KLU) with {st['steps']} steps, "
          f"{st['newton']} Newton iterations and {st['jacobians']} Jacobian factorisations "
          f"(modified Newton), {t_p / max(st['steps'], 1) * 1e6:.0f} us per step including "
          f"its Python set-up; strata: {t_s / r1['steps'] * 1e6:.0f} us per step.")
    ok = t_p / t_s >= 30 and s_rate / p_rate >= 100
    print(f"targets (>= 30x per simulation, >= 100x batch): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
