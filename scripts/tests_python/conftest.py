"""A synthetic results file written with h5py to docs/hdf5-schema.md."""

import os
import sys

import h5py
import numpy as np
import pytest

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

STEPS = ["Charge at 0.5C until 3.6 V", "Charge at 3C until 3.6 V", "Discharge at 0.1C until 2.3 V"]
MATERIALS = ["NMO", "NVP"]
SCENARIO_TEXT = """[scenario]
name = "synthetic"
[[layers]]
thickness_m = 50e-6
porosity = 0.4
[[layers.materials]]
name = "NMO"
[[layers]]
thickness_m = 40e-6
porosity = 0.4
[[layers.materials]]
name = "NVP"
"""
# Rows in batch-completion order, not design order: readers must join by design_id.
DESIGN_IDS = [0, 2, 1, 3]
LABELS = ["CC/NMO/NVP", "CC/NVP/NMO", "CC/NMO/NVP thick", "CC/NVP/NMO thick"]  # by design_id
STATUS = [0, 0, 0, 3]
TRAJECTORY_DESIGNS = [0, 1]
N_ELECTRODE, N_SEPARATOR = 18, 6
INTERFACES_DESIGN_1 = [30e-6, 90e-6]  # not what the scenario text gives: the profiles' attribute wins


def _strings(kind):
    if kind == "vlen":
        return h5py.string_dtype("utf-8")
    return h5py.string_dtype("ascii", 40)  # fixed length: h5py reads bytes


def _attr(obj, name, value, kind="vlen"):
    if isinstance(value, str):
        obj.attrs.create(name, value, dtype=_strings(kind))
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        dtype = _strings(kind) if kind == "vlen" else h5py.string_dtype("ascii", max(len(v) for v in value) + 1)
        obj.attrs.create(name, np.array(value, dtype=object if kind == "vlen" else "S"), dtype=dtype)
    else:
        obj.attrs[name] = value


def _dataset(group, name, data, units, description, kind="vlen"):
    data = np.asarray(data) if not isinstance(data, list) else data
    if isinstance(data, list):  # strings
        dtype = _strings(kind) if kind == "vlen" else h5py.string_dtype("ascii", 40)
        arr = np.array(data, dtype=object if kind == "vlen" else "S40")
        ds = group.create_dataset(name, data=arr, dtype=dtype, maxshape=(None,), chunks=True,
                                  compression="gzip", compression_opts=4, shuffle=True)
    else:
        ds = group.create_dataset(name, data=data, maxshape=(None,) + data.shape[1:], chunks=True,
                                  compression="gzip", compression_opts=4, shuffle=True)
    _attr(ds, "units", units, kind)
    _attr(ds, "description", description, kind)
    return ds


def _group(parent, name, description, kind="vlen"):
    g = parent.create_group(name)
    _attr(g, "description", description, kind)
    return g


def write_synthetic(path, kind="vlen"):
    """Write the synthetic file; kind 'vlen' (UTF-8 variable length) or 'fixed' strings."""
    rng = np.random.default_rng(1)
    n, n_steps, n_mat = len(DESIGN_IDS), len(STEPS), len(MATERIALS)
    with h5py.File(path, "w") as f:
        meta = _group(f, "meta", "provenance", kind)
        for key, value in dict(program="strata", version="0.1.0", git_revision="abc1234",
                               build_type="Release", device="CPU: synthetic, 2 threads",
                               command="strata simulate synthetic.toml --out x.h5",
                               start_time="2026-01-01T00:00:00Z", end_time="2026-01-01T00:01:00Z",
                               status="complete", scenario_name="synthetic",
                               scenario_file="synthetic.toml", scenario_text=SCENARIO_TEXT,
                               scenario_sha256="0" * 64, material_files=["materials/NMO.toml", "materials/NVP.toml"],
                               material_texts=["name = 'NMO'", "name = 'NVP'"], step_texts=STEPS,
                               material_names=MATERIALS).items():
            _attr(meta, key, value, kind)
        meta.attrs["seed"] = np.int64(0)
        meta.attrs["n_designs"] = np.int64(n)

        pop = _group(f, "population", "one row per design", kind)
        _dataset(pop, "design_id", np.array(DESIGN_IDS, dtype=np.int64), "", "design index", kind)
        _dataset(pop, "label", [LABELS[d] for d in DESIGN_IDS], "", "variant label", kind)
        status = np.array([STATUS[d] for d in DESIGN_IDS], dtype=np.int32)
        _dataset(pop, "status", status, "", "status code", kind)
        _dataset(pop, "reason", ["ok" if s == 0 else "time-step limit of a protocol step reached"
                                 for s in status], "", "status text", kind)
        _dataset(pop, "batch", np.array([0, 0, 1, 1], dtype=np.int32), "", "batch index", kind)
        _dataset(pop, "producer", ["sweep"] * n, "", "who asked for the design", kind)
        _dataset(pop, "active_mass_mg_cm2", np.array([12.0, 13.0, 12.0, 13.0]), "mg/cm2", "active mass", kind)
        _dataset(pop, "layer_order", ["" if d in (0, 2) else "1,0" for d in DESIGN_IDS], "", "layer order", kind)
        _dataset(pop, "layer_thickness_m", np.array([[50e-6, 40e-6], [40e-6, 50e-6], [60e-6, 40e-6], [40e-6, 60e-6]]),
                 "m", "thickness of each sub-layer by position", kind)
        var = _group(pop, "var", "design variables", kind)
        _dataset(var, "layers[1].thickness_m", np.array([np.nan if d in (0, 1) else 60e-6 for d in DESIGN_IDS]),
                 "m", "override", kind)
        step = _group(pop, "step", "per-step metrics", kind)
        cap = np.array([[70.0, 70.0 - 10 * d, 69.0] for d in DESIGN_IDS])
        cap[status != 0, 2] = 0.0
        metrics = dict(capacity_mAh_g=("mAh/g", cap), capacity_mAh_cm2=("mAh/cm2", cap * 0.0012),
                       charge_mAh_g=("mAh/g", cap * [1, 1, -1]), energy_Wh_kg=("Wh/kg", cap * 3.4),
                       end_potential_V=("V", np.tile([3.6, 3.6, 2.3], (n, 1))),
                       end_current_A_m2=("A/m2", np.tile([1.0, 6.0, -0.2], (n, 1))),
                       duration_s=("s", cap * 50.0))
        for name, (unit, data) in metrics.items():
            _dataset(step, name, data, unit, name, kind)
        _dataset(step, "end_reason", np.ones((n, n_steps), dtype=np.int32), "", "why the step ended", kind)
        _dataset(step, "time_steps", np.full((n, n_steps), 40, dtype=np.int32), "", "time steps", kind)
        _dataset(step, "newton_iterations", np.full((n, n_steps), 120, dtype=np.int32), "", "Newton", kind)
        mc = np.stack([cap * 0.6, cap * 0.4], axis=2) * np.array([1, 1, -1])[None, :, None]
        _dataset(step, "material_charge_mAh_g", mc, "mAh/g", "per material", kind)
        _dataset(step, "layer_charge_mAh_g", mc[:, :, ::-1], "mAh/g", "per layer", kind)
        obj = _group(pop, "objective", "objectives", kind)
        retention = np.where(status == 0, cap[:, 1] / cap[:, 0], np.nan)
        ds = _dataset(obj, "retention_3C", retention, "-", "3C retention", kind)
        _attr(ds, "sense", "maximize", kind)  # not in the schema yet; the C++ writer sets it

        tr = _group(f, "trajectories", "selected designs", kind)
        for d in TRAJECTORY_DESIGNS:
            g = _group(tr, str(d), f"design {d}", kind)
            _attr(g, "label", LABELS[d], kind)
            g.attrs["status"] = np.int32(STATUS[d])
            steps = np.repeat(np.arange(n_steps, dtype=np.int32), 20)
            q = np.tile(np.linspace(0, 1, 20), n_steps) * np.repeat(cap[DESIGN_IDS.index(d)], 20)
            t = np.cumsum(np.full(steps.size, 30.0))
            v = np.where(steps < 2, 3.0 + 0.6 * q / 70, 3.6 - 1.3 * q / 70)
            soc = np.clip(np.stack([q / 70, q / 80], axis=1), 0, 1)
            for name, unit, data in [("time_s", "s", t), ("step", "", steps),
                                     ("current_A_m2", "A/m2", np.where(steps < 2, 1.0, -0.2)),
                                     ("potential_V", "V", v), ("capacity_mAh_g", "mAh/g", q),
                                     ("material_soc", "-", soc)]:
                _dataset(g, name, data, unit, name, kind)
            profiles = _group(g, "profiles", "snapshots", kind)
            x = np.r_[np.linspace(2.5e-6, 87.5e-6, N_ELECTRODE), np.linspace(110e-6, 340e-6, N_SEPARATOR)]
            for k, (s, at) in enumerate([(1, "time"), (1, "end")]):
                p = _group(profiles, str(k), f"snapshot {k}", kind)
                p.attrs["step"] = np.int32(s)
                _attr(p, "at", at, kind)
                p.attrs["requested"] = 60.0 if at == "time" else np.nan
                p.attrs["time_s"] = 660.0 + 400 * k
                if d == 1:  # the engine's own interfaces (design 0 stands for a file written before them)
                    p.attrs["interfaces_m"] = np.array(INTERFACES_DESIGN_1)
                per_mat = rng.random((N_ELECTRODE, n_mat))
                per_mat[N_ELECTRODE // 2:, 0] = np.nan  # NMO only in the first layer
                per_mat[:N_ELECTRODE // 2, 1] = np.nan
                for name, unit, data in [("x_m", "m", x),
                                         ("electrolyte_concentration_mol_m3", "mol/m3", 1000 - 300 * k * x / x[-1]),
                                         ("electrolyte_potential_V", "V", -0.01 * x / x[-1]),
                                         ("overpotential_V", "V", 0.05 * per_mat),
                                         ("reaction_current_A_m2", "A/m2", 2.0 * per_mat),
                                         ("surface_stoichiometry", "-", per_mat)]:
                    _dataset(p, name, data, unit, name, kind)
    return path


def write_constrained(path):
    """The synthetic file as a design search with a loading constraint >= 12.5 mg/cm2:
    design 0, the best retention, breaks it; design 3 failed (NaN metric); design 2 is
    the best that meets it."""
    write_synthetic(path)
    with h5py.File(path, "a") as f:
        con = _group(f["population"], "constraint", "constraint metrics")
        ds = _dataset(con, "loading", f["population/active_mass_mg_cm2"][:] * [1, 1, 1, np.nan], "mg/cm2",
                      "active_mass_mg_cm2")
        ds.attrs["min"] = 12.5
        ds.attrs["max"] = 1e300
    return path


@pytest.fixture(scope="session")
def constrained_file(tmp_path_factory):
    return str(write_constrained(tmp_path_factory.mktemp("h5con") / "constrained.h5"))


@pytest.fixture(scope="session")
def results_file(tmp_path_factory):
    return str(write_synthetic(tmp_path_factory.mktemp("h5") / "synthetic.h5"))


@pytest.fixture(scope="session")
def fixed_string_file(tmp_path_factory):
    return str(write_synthetic(tmp_path_factory.mktemp("h5fixed") / "fixed.h5", kind="fixed"))
