"""strata side: run `strata simulate` on a converted scenario and read the curve back."""
import os
import subprocess
import time

import h5py
import numpy as np


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def strata_binary():
    return os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "strata"))


def simulate(scenario, out_h5, threads=1):
    """Run strata on `scenario`; return the wall time of the whole command (s)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [strata_binary(), "simulate", scenario, "--out", out_h5, "--overwrite", "--quiet",
           "--threads", str(threads)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return wall


def curve(out_h5, meta, design_id=0):
    """Capacity (mAh/cm2), the two-electrode voltage and the run status of one design
    (a failed design keeps its curve up to the failure). The converted scenarios measure
    against the counter metal (`measured_against = "counter"`), as PyBaMM's "Voltage [V]"
    does (docs/physics.md 1)."""
    with h5py.File(out_h5, "r") as f:
        status = int(f["population/status"][0])
        reason = f["population/reason"][0]
        mass_mg_cm2 = float(f["population/active_mass_mg_cm2"][0])
        g = f[f"trajectories/{design_id}"]
        I = g["current_A_m2"][:]
        V = g["potential_V"][:]
        q = g["capacity_mAh_g"][:]
        steps = int(f["population/step/time_steps"][0][0])
    reason = reason.decode() if isinstance(reason, bytes) else str(reason)
    q_cm2 = q * mass_mg_cm2 * 1e-3  # mAh/g * g/cm2
    # the first sample is the initial state at zero current (before the step); PyBaMM's
    # first point is already under current, so the comparison starts at strata's first step
    on = I != 0.0
    q_cm2, v2 = q_cm2[on], V[on]
    q_cm2, v2 = truncate_at_cut_off(q_cm2, v2, meta["v_cut"], meta["current_A_m2"])
    return q_cm2, v2, {"time_steps": steps, "status": status, "reason": reason}


def truncate_at_cut_off(q, v, v_cut, current_A_m2):
    """End the curve where it crosses the cut-off (linear between the two samples).

    When the potential falls past the cut-off within one double-precision step of the
    surface stoichiometry (a particle filling or emptying: docs/physics.md, known
    limits), strata ends the step beyond the cut-off ("limit (not located to
    tolerance)"); PyBaMM's curve ends on it. Both are compared up to the crossing."""
    sign = 1.0 if current_A_m2 > 0 else -1.0  # charge ends above, discharge below
    beyond = np.nonzero(sign * (v - v_cut) > 0)[0]
    if len(beyond) == 0 or beyond[0] == 0:
        return q, v
    k = beyond[0]
    w = (v_cut - v[k - 1]) / (v[k] - v[k - 1])
    q_cross = q[k - 1] + w * (q[k] - q[k - 1])
    return np.append(q[:k], q_cross), np.append(v[:k], v_cut)
