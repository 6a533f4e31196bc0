import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import DESIGN_IDS, INTERFACES_DESIGN_1, MATERIALS, N_ELECTRODE, N_SEPARATOR, SCRIPTS, STEPS
from strata_mining import (load_population, load_profiles, load_trajectory, material_names,
                           open_results, pareto_front, parse_c_rate, read_meta, step_texts)
from strata_mining.analysis import layer_interfaces
from strata_mining.plots import _short, pareto_groups, profile_interfaces

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
COMMANDS = ["info", "plot-voltage", "plot-rate", "plot-soc", "plot-profiles", "plot-scatter", "plot-pareto"]


def mining(*args, check=True):
    env = dict(os.environ, PYTHONPATH=SCRIPTS, MPLBACKEND="Agg")
    proc = subprocess.run([PYTHON, "-m", "strata_mining", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, f"{args}: rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# ----------------------------------------------------------------- library

@pytest.mark.parametrize("which", ["results_file", "fixed_string_file"])
def test_population(request, which):
    df = load_population(request.getfixturevalue(which))
    assert len(df) == len(DESIGN_IDS)
    assert list(df["design_id"]) == DESIGN_IDS
    base = ["design_id", "label", "status", "reason", "batch", "producer", "active_mass_mg_cm2", "layer_order"]
    assert list(df.columns[:len(base)]) == base
    assert df["label"].iloc[0] == "CC/NMO/NVP" and isinstance(df["label"].iloc[0], str)
    assert df["layer_order"].iloc[2] == "1,0"
    for k in range(len(STEPS)):
        for metric in ["capacity_mAh_g", "capacity_mAh_cm2", "charge_mAh_g", "energy_Wh_kg", "end_potential_V",
                       "end_current_A_m2", "duration_s", "end_reason", "time_steps", "newton_iterations"]:
            assert f"{metric}[s{k}]" in df.columns
        for m in MATERIALS:
            assert f"material_charge_mAh_g[s{k},{m}]" in df.columns
        for j in range(2):
            assert f"layer_charge_mAh_g[s{k},layer{j}]" in df.columns
    assert "layers[1].thickness_m" in df.columns
    assert np.isnan(df["layers[1].thickness_m"].iloc[0])
    # a rows x layers dataset of /population: one column per layer position
    assert df["layer_thickness_m[layer1]"].iloc[1] == pytest.approx(50e-6)
    assert df.attrs["units"]["layer_thickness_m[layer0]"] == "m"
    assert df.attrs["objectives"] == ["objective:retention_3C"]
    units = df.attrs["units"]
    assert set(units) == set(df.columns)
    assert units["capacity_mAh_g[s1]"] == "mAh/g"
    assert units["material_charge_mAh_g[s0,NVP]"] == "mAh/g"
    assert units["active_mass_mg_cm2"] == "mg/cm2"
    assert units["layers[1].thickness_m"] == "m"
    assert units["objective:retention_3C"] == "-"
    assert units["design_id"] == ""
    assert df.loc[df["design_id"] == 2, "capacity_mAh_g[s1]"].item() == pytest.approx(50.0)


@pytest.mark.parametrize("which", ["results_file", "fixed_string_file"])
def test_meta_strings(request, which):
    path = request.getfixturevalue(which)
    assert step_texts(path) == STEPS
    assert material_names(path) == MATERIALS
    meta = read_meta(path)
    assert meta["status"] == "complete" and meta["n_designs"] == len(DESIGN_IDS)
    assert "[[layers]]" in meta["scenario_text"]


def test_trajectory(results_file):
    tr = load_trajectory(results_file, 1)
    assert list(tr.columns) == ["time_s", "step", "current_A_m2", "potential_V", "capacity_mAh_g",
                                "material_soc[NMO]", "material_soc[NVP]"]
    assert len(tr) == 20 * len(STEPS)
    assert tr.attrs["label"] == "CC/NVP/NMO" and tr.attrs["status"] == 0
    assert tr.attrs["units"]["potential_V"] == "V"
    with pytest.raises(Exception, match="designs with trajectories: \\[0, 1\\]"):
        load_trajectory(results_file, 3)


def test_profiles(results_file):
    profiles = load_profiles(results_file, 0)
    assert [p["name"] for p in profiles] == ["0", "1"]
    p = profiles[1]
    assert p["attrs"]["at"] == "end" and p["attrs"]["step"] == 1
    assert p["arrays"]["x_m"].shape == (N_ELECTRODE + N_SEPARATOR,)
    assert p["arrays"]["electrolyte_concentration_mol_m3"].shape == (N_ELECTRODE + N_SEPARATOR,)
    for name in ["overpotential_V", "reaction_current_A_m2", "surface_stoichiometry"]:
        assert p["arrays"][name].shape == (N_ELECTRODE, len(MATERIALS))
    assert p["units"]["x_m"] == "m"


def test_layer_interfaces(results_file):
    text = read_meta(results_file)["scenario_text"]
    assert layer_interfaces(text) == pytest.approx([50e-6, 90e-6])
    assert layer_interfaces(text, "1,0") == pytest.approx([40e-6, 90e-6])
    assert layer_interfaces(text, "1,0", {"layers[1].thickness_m": 60e-6}) == pytest.approx([40e-6, 100e-6])
    assert layer_interfaces("not toml [") is None


def test_profile_interfaces(results_file):
    # The profiles' interfaces_m where the file has it; else from the scenario text.
    assert profile_interfaces(results_file, 1) == pytest.approx(INTERFACES_DESIGN_1)
    assert profile_interfaces(results_file, 0) == pytest.approx([50e-6, 90e-6])


def test_constraints(constrained_file, results_file):
    df = load_population(constrained_file)
    assert df.attrs["constraints"] == {"constraint:loading": (12.5, 1e300)}
    assert df.attrs["units"]["constraint:loading"] == "mg/cm2"
    # design 0 (12 mg/cm2), 2 (13), 1 (12), 3 (failed: NaN)
    assert list(df["feasible"]) == [False, True, False, False]
    assert "feasible" not in load_population(results_file)
    out = mining("info", constrained_file).stdout
    assert "constraints: 1 of 4 designs meet loading >= 12.5 mg/cm2" in out
    # the best retention that meets the constraint, not design 0's 1.0, which breaks it
    assert "objective:retention_3C [-]: max 0.714286 at design 2" in out


@pytest.mark.parametrize("text, rate", [
    ("Charge at 3C until 3.6 V", 3.0), ("Charge at 0.5C until 3.6 V", 0.5),
    ("Discharge at C/2 until 2.3 V", 0.5), ("discharge at c / 20 for 1 hour", 0.05),
    ("Charge at 2e-1 C until 4 V", 0.2), ("Rest for 30 seconds", None),
    ("Hold at 2.3 V until C/50", None), ("Charge at 10 A/m2 until 3.6 V", None),
    ("Charge at 1 mA/cm2 until 3.6 V", None)])
def test_parse_c_rate(text, rate):
    assert parse_c_rate(text) == (pytest.approx(rate) if rate is not None else None)


def test_pareto_front():
    x = [1, 2, 3, 2, 3, 0, 1, np.nan, 4]
    y = [5, 4, 3, 2, 3, 0, 4, 9, np.nan]
    assert list(np.flatnonzero(pareto_front(x, y))) == [0, 1, 2, 4]
    # minimise both: (0, 0) dominates everything
    assert list(np.flatnonzero(pareto_front(x, y, False, False))) == [5]
    # maximise x, minimise y: (3, 3) twice and (0, 0)... (0,0) is beaten on x only, kept
    assert list(np.flatnonzero(pareto_front(x, y, True, False))) == [2, 3, 4, 5]
    assert not pareto_front([], []).any()


def test_pareto_groups_leave_failed_and_infeasible_designs_off_the_front(constrained_file, results_file):
    # A failed design's step values are partial (or 0): give it the best of both and it
    # still is not on the front.
    df = load_population(results_file)
    failed_row = int(np.flatnonzero(df["status"].to_numpy() != 0)[0])
    df.loc[failed_row, ["active_mass_mg_cm2", "capacity_mAh_g[s1]"]] = [1e9, 1e9]
    front, failed, breaks = pareto_groups(df, "active_mass_mg_cm2", "capacity_mAh_g[s1]")
    assert failed[failed_row] and not front[failed_row] and front.any()
    assert not breaks.any()  # no constraints in this file
    # With constraints: designs 0 and 1 break the loading floor, 3 failed; the front is design 2's.
    dc = load_population(constrained_file)
    front, failed, breaks = pareto_groups(dc, "active_mass_mg_cm2", "objective:retention_3C")
    assert list(dc["design_id"][front]) == [2]
    assert sorted(dc["design_id"][breaks]) == [0, 1] and list(dc["design_id"][failed]) == [3]
    proc = mining("plot-pareto", results_file, "--x", "label", "--y", "status", check=False)
    assert proc.returncode == 1 and "column 'label' is not numeric" in proc.stderr and "Traceback" not in proc.stderr


def test_short_labels():
    assert _short("order 0,1") == "order 0,1"
    long = "optimizer 3 order 1,0 " + " ".join(f"layers[{k}].porosity=0.4" for k in range(8))
    assert len(_short(long)) == 40 and _short(long).endswith("...")


def test_meta_lists_and_a_file_left_running(results_file, tmp_path):
    import shutil
    import h5py
    copy = tmp_path / "left.h5"
    shutil.copy(results_file, copy)
    with h5py.File(copy, "a") as f:
        f["meta"].attrs["status"] = "running"
        f["meta"].attrs["merged_from"] = "1/2 shard1.h5"  # a one-shard merge: one string
    assert read_meta(copy)["merged_from"] == ["1/2 shard1.h5"]
    out = mining("info", copy).stdout
    assert "status: running when last written: killed, or still going on another machine" in out


def test_a_shard_and_a_file_where_nothing_ran(results_file, tmp_path):
    import shutil
    import h5py
    copy = tmp_path / "shard.h5"
    shutil.copy(results_file, copy)
    with h5py.File(copy, "a") as f:
        f["meta"].attrs["shard_index"] = np.int64(1)
        f["meta"].attrs["shard_count"] = np.int64(2)
        f["population/status"][...] = 7
    assert "rows:        4 of 4 designs (shard 1/2: designs 2 to 3)" in mining("info", copy).stdout
    proc = mining("plot-rate", copy, "--steps", 1, "--out", tmp_path / "r.png", check=False)
    assert proc.returncode == 1 and "no design ran (status 0) to plot" in proc.stderr


def test_info_into_a_closed_pipe(results_file):
    env = dict(os.environ, PYTHONPATH=SCRIPTS, MPLBACKEND="Agg")
    # `true` exits without reading: the writes meet a closed pipe (EPIPE).
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {PYTHON} -m strata_mining info {results_file} --columns | true"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == ""


# ----------------------------------------------------------------- command line

@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    proc = mining(command, "--help")
    assert "usage:" in proc.stdout and "FILE" in proc.stdout


def test_info(results_file):
    out = mining("info", results_file, "--columns").stdout
    assert "synthetic" in out and "complete" in out
    assert "rows:        4 of 4" in out
    assert "objective:   objective:retention_3C [-]: max 1 at design 0 (CC/NMO/NVP)" in out
    assert "min 0.71" not in out  # the objective's `sense` attribute says maximize
    assert "trajectories: 2 designs (0, 1)" in out
    assert "capacity_mAh_g[s1]  [mAh/g]" in out


@pytest.mark.parametrize("args", [
    ["plot-voltage", "--designs", 0, 1, "--steps", 0, "--steps", 2],
    ["plot-rate", "--steps", 0, 1, 2, "--reference-step", 0],
    ["plot-rate", "--steps", 1, "--reference-step", 0, "--designs", 0, 2],
    ["plot-soc", "--design", 0],
    ["plot-soc", "--design", 1, "--step", 1],
    ["plot-profiles", "--design", 0],
    ["plot-profiles", "--design", 1, "--profile", 1],
    ["plot-scatter", "--x", "active_mass_mg_cm2", "--y", "capacity_mAh_g[s1]"],
    ["plot-scatter", "--x", "layers[1].thickness_m", "--y", "material_charge_mAh_g[s1,NVP]",
     "--color", "layer_charge_mAh_g[s1,layer0]"],
    ["plot-pareto", "--x", "capacity_mAh_g[s0]", "--y", "objective:retention_3C"],
    ["plot-pareto", "--x", "active_mass_mg_cm2", "--y", "capacity_mAh_g[s1]", "--minimize-x"],
], ids=lambda a: "_".join(map(str, a)))
def test_plot(results_file, tmp_path, args):
    out = tmp_path / "fig.png"
    mining(args[0], results_file, *args[1:], "--out", out)
    assert out.exists() and out.stat().st_size > 1000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_out(results_file):
    proc = mining("plot-soc", results_file, "--design", 0)
    out = proc.stdout.strip()
    assert out.endswith("synthetic_soc.png") and os.path.getsize(out) > 0


@pytest.mark.parametrize("args, message", [
    (["plot-voltage", "--designs", 3, "--steps", 0], "no trajectory for design 3"),
    (["plot-scatter", "--x", "capacity_mAh_g[s9]", "--y", "status"], "no column"),
    (["plot-rate", "--steps", 7], "no column 'capacity_mAh_g[s7]'"),
    (["plot-voltage", "--designs", 0, "--steps", 500], "step 500 is out of range: the protocol has steps 0 to 2"),
    (["plot-soc", "--design", 0, "--step", 3], "step 3 is out of range: the protocol has steps 0 to 2"),
])
def test_errors(results_file, tmp_path, args, message):
    proc = mining(args[0], results_file, *args[1:], "--out", tmp_path / "x.png", check=False)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------------- the real engine

def engine():
    """The strata binary and repository the tests run against (CTest sets both)."""
    binary, source = os.environ.get("STRATA_BINARY"), os.environ.get("STRATA_SOURCE_DIR")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("STRATA_BINARY is not set to an executable strata binary")
    if not source or not os.path.isfile(os.path.join(source, "scenarios", "default.toml")):
        pytest.skip("STRATA_SOURCE_DIR is not set to the strata repository")
    return binary, source


def test_engine_file(tmp_path):
    binary, source = engine()
    out = tmp_path / "run.h5"
    cmd = [binary, "simulate", os.path.join(source, "scenarios", "default.toml"), "--out", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    import h5py
    if proc.returncode != 0 or not out.is_file() or not h5py.is_hdf5(out):
        what = ("is a directory" if out.is_dir() else "is not an HDF5 file" if out.exists() else "was not written")
        pytest.skip(f"strata did not write an HDF5 file (HDF5 writer not there yet?): `{' '.join(cmd)}` "
                    f"exited {proc.returncode} and {out.name} {what}; "
                    f"stderr: {proc.stderr.strip()[-2000:] or '(empty)'}")
    df = load_population(str(out))
    assert len(df) == 2
    assert "capacity_mAh_g[s5]" in df.columns
    assert (df["capacity_mAh_g[s5]"] > 0).all()
    for args in (["plot-rate", "--steps", 0, 5, "--reference-step", 0],
                 ["plot-voltage", "--designs", 0, "--steps", 5]):
        png = tmp_path / f"{args[0]}.png"
        mining(args[0], out, *args[1:], "--out", png)
        assert png.stat().st_size > 1000


def test_reading_while_a_run_writes(tmp_path):
    """h5py opens a run's file while it is written (every commit of 40 batches of 20
    designs), sees whole batches that never go back, and a handle kept open across
    later commits keeps what it saw; strata info says the run is going on, and the
    mining library reads it too."""
    import time

    import h5py
    from kill_while_reading import sweep_scenario
    binary, source = engine()
    scenario, out = sweep_scenario(source, str(tmp_path), batch=20, thicknesses=40), tmp_path / "sweep.h5"
    run = subprocess.Popen([binary, "simulate", str(scenario), "--out", str(out), "--quiet", "--threads", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows_seen, info_said, held, held_ids = [], [], None, None
    try:
        while run.poll() is None:
            if not out.exists():
                time.sleep(0.002)
                continue
            # A reader opening at the instant of a commit is refused once ("unable to lock
            # file") and opens again (docs/hdf5-schema.md): open_results does that.
            with open_results(str(out)) as f:
                n = len(f["population/design_id"])
                assert all(len(f["population/" + d]) == n for d in ("label", "status", "batch", "reason"))
                assert (f["population/status"][:] == 0).all()
            rows_seen.append(n)
            if held is None and n > 0:
                held = open_results(str(out))
                held_ids = held["population/design_id"][:]
                assert len(load_population(str(out))) >= n
                said = mining("info", out).stdout  # about 0.5 s: once
                assert "status: running now (pid " in said or run.poll() is not None, said
            if len(rows_seen) % 10 == 1:
                info = subprocess.run([binary, "info", str(out)], capture_output=True, text=True, timeout=60)
                assert info.returncode == 0, info.stderr
                info_said.append(info.stdout)
            time.sleep(0.01)
        assert run.returncode == 0, run.stderr.read()
        assert held is not None, "no commit seen while the run went on"
        assert len(held["population/design_id"]) == len(held_ids)
        assert (held["population/design_id"][:] == held_ids).all()
    finally:
        if held is not None:
            held.close()
        if run.poll() is None:
            run.kill()
    assert rows_seen == sorted(rows_seen) and all(n % 20 == 0 for n in rows_seen)
    assert len(set(rows_seen)) >= 3, rows_seen
    assert any("running now (pid " in said for said in info_said), info_said
    with h5py.File(out, "r") as f:
        assert len(f["population/design_id"]) == 800
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.h5", "sweep.toml"]


def test_file_caught_mid_append(results_file, tmp_path):
    """A reader racing the writer may see one dataset already extended: keep the common rows."""
    import shutil

    import h5py
    path = tmp_path / "partial.h5"
    shutil.copy(results_file, path)
    with h5py.File(path, "a") as f:
        f["population/design_id"].resize((len(DESIGN_IDS) + 1,))
    assert len(load_population(str(path))) == len(DESIGN_IDS)
