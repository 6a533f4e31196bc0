"""Read strata HDF5 results files (docs/hdf5-schema.md) into numpy / pandas.

Column names of :func:`load_population` (see docs/mining.md):

* ``design_id``, ``label``, ``status``, ``reason``, ``batch``, ``producer``,
  ``active_mass_mg_cm2``, ``layer_order`` (and any other 1-D dataset of /population)
* ``<name>[layer<j>]`` for a rows x layers dataset of /population, e.g.
  ``layer_thickness_m[layer0]`` (the sub-layer at the current collector, in metres)
* ``<path>`` for ``/population/var/<path>``, e.g. ``layers[1].thickness_m``
* ``<metric>[s<k>]`` for ``/population/step/<metric>`` column k, e.g. ``capacity_mAh_g[s5]``
* ``material_charge_mAh_g[s<k>,<material>]`` and ``layer_charge_mAh_g[s<k>,layer<j>]``
* ``objective:<name>`` for ``/population/objective/<name>``
* ``constraint:<name>`` for ``/population/constraint/<name>`` (a design search's
  constraint metrics), and then ``feasible``: True where every constraint metric lies
  within its ``min`` and ``max`` (False for failed designs, whose metrics are NaN)

``df.attrs["units"]`` maps every column to its unit string.
"""

import os
import time

import h5py
import numpy as np
import pandas as pd

BASE_COLUMNS = ["design_id", "label", "status", "reason", "batch", "producer",
                "active_mass_mg_cm2", "layer_order"]
LIST_META = {"material_files", "material_texts", "step_texts", "material_names", "merged_from"}


class MiningError(Exception):
    """A results file lacks what was asked for (bad design id, step, column...)."""


# ---------------------------------------------------------------- decoding helpers

def decode(value):
    """Turn an h5py attribute or dataset value into plain Python / numpy values.

    bytes (fixed-length strings) become str; string arrays (fixed or variable
    length, bytes or str) become lists of str; numpy scalars become Python scalars.
    """
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SOU":
            return [decode(v) for v in value.ravel().tolist()]
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_dataset(ds):
    """The whole dataset as a numpy array; strings (fixed or vlen) as an object array of str."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.array(ds.asstr(errors="replace")[()], dtype=object)
    if ds.dtype.kind == "O":  # strings stored without string metadata
        return np.array(decode(ds[()]), dtype=object).reshape(ds.shape)
    return ds[()]


def units_of(obj, default=""):
    return str(decode(obj.attrs.get("units", default)))


def _scalar(value):
    """A scalar attribute possibly written as a 1-element array."""
    value = decode(value)
    if isinstance(value, (list, np.ndarray)) and len(value) == 1:
        return value[0] if isinstance(value, list) else value.item()
    return value


# ---------------------------------------------------------------- file level

def open_results(path):
    """Open a results file read-only. A file a strata run is writing opens too: the run
    never holds the file at the path open, and this reader's HDF5 lock keeps the run
    from writing into the copy it reads (docs/hdf5-schema.md). A file another program
    holds open for writing (HDF5's lock refuses it) is read without the lock."""
    if not os.path.exists(path):
        raise MiningError(f"{path}: no such file")
    for attempt in range(5):
        try:
            return h5py.File(path, "r")
        except OSError as e:
            if "unable to lock file" not in str(e):
                raise
            # Opened just as a run committed: the path names the new copy a moment later.
            time.sleep(0.02)
    try:
        return h5py.File(path, "r", locking=False)
    except (TypeError, ValueError):  # an HDF5 library without the locking switch
        return h5py.File(path, "r")


def writer(path):
    """The line naming the strata run that is writing the file at path now ("pid 4711
    on node07 since 2026-12-07T16:40:00Z"), or None: the run's advisory lock on
    <path>.lock (host/writer_lock.hpp)."""
    import fcntl
    try:
        fd = os.open(os.path.realpath(path) + ".lock", os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "a run"
        except OSError:  # a file system without flock: nothing known
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _as_file(path_or_file):
    """Context helper: accept an open h5py.File or a path."""
    if isinstance(path_or_file, h5py.File):
        return _Borrowed(path_or_file)
    return open_results(path_or_file)


class _Borrowed:
    def __init__(self, f):
        self.f = f

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        return False


def read_meta(path):
    """All /meta attributes, decoded; list-valued ones (step_texts...) always as lists."""
    with _as_file(path) as f:
        if "meta" not in f:
            return {}
        out = {}
        for key, value in f["meta"].attrs.items():
            if key in LIST_META:
                value = decode(value)
                out[key] = [value] if isinstance(value, str) else list(value)
            else:
                out[key] = _scalar(value)
        return out


def step_texts(path):
    """The expanded protocol, one string per step (``/meta@step_texts``)."""
    return read_meta(path).get("step_texts", [])


def material_names(path):
    """Names indexing the material axis (``/meta@material_names``)."""
    return read_meta(path).get("material_names", [])


# ---------------------------------------------------------------- population

def load_population(path):
    """/population as a DataFrame, one row per design in file order (see module doc).

    ``df.attrs``: ``units`` (column -> unit), ``step_texts``, ``material_names``,
    ``objectives`` (list of objective column names), ``constraints`` (constraint column
    -> (min, max)).
    """
    meta = read_meta(path)
    materials = meta.get("material_names", [])
    columns, units, objectives, constraints = {}, {}, [], {}
    with _as_file(path) as f:
        if "population" not in f:
            raise MiningError(f"{f.filename}: no /population group")
        pop = f["population"]
        names = [n for n in BASE_COLUMNS if n in pop]
        names += sorted(n for n, o in pop.items()
                        if isinstance(o, h5py.Dataset) and n not in names)
        for name in names:
            ds = pop[name]
            if ds.ndim == 1:
                columns[name] = read_dataset(ds)
                units[name] = units_of(ds)
            elif ds.ndim == 2:  # rows x layers (layer_thickness_m, layer_porosity)
                data = read_dataset(ds)
                for j in range(data.shape[1]):
                    columns[f"{name}[layer{j}]"] = data[:, j]
                    units[f"{name}[layer{j}]"] = units_of(ds)
        for sub in ("var", "objective"):
            for name, ds in sorted(pop.get(sub, {}).items()):
                col = name if sub == "var" else f"objective:{name}"
                columns[col] = read_dataset(ds)
                units[col] = units_of(ds)
                if sub == "objective":
                    objectives.append(col)
        for name, ds in sorted(pop.get("constraint", {}).items()):
            col = f"constraint:{name}"
            columns[col] = read_dataset(ds)
            units[col] = units_of(ds)
            constraints[col] = (float(_scalar(ds.attrs.get("min", -np.inf))),
                                float(_scalar(ds.attrs.get("max", np.inf))))
        for metric, ds in sorted(pop.get("step", {}).items()):
            data, unit = read_dataset(ds), units_of(ds)
            for k in range(data.shape[1] if data.ndim > 1 else 0):
                if data.ndim == 2:
                    columns[f"{metric}[s{k}]"] = data[:, k]
                    units[f"{metric}[s{k}]"] = unit
                    continue
                for j in range(data.shape[2]):
                    col = f"{metric}[s{k},{_third_axis_name(metric, j, data.shape[2], materials)}]"
                    columns[col] = data[:, k, j]
                    units[col] = unit
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:  # a file caught mid-append: keep the rows every dataset has
        n = min(lengths)
        columns = {k: v[:n] for k, v in columns.items()}
    if constraints:
        n = len(next(iter(columns.values())))
        ok = np.ones(n, dtype=bool)
        for col, (lo, hi) in constraints.items():
            v = np.asarray(columns[col], dtype=float)
            ok &= np.isfinite(v) & (v >= lo) & (v <= hi)
        columns["feasible"] = ok
        units["feasible"] = ""
    df = pd.DataFrame(columns)
    df.attrs.update(units=units, step_texts=meta.get("step_texts", []),
                    material_names=materials, objectives=objectives, constraints=constraints)
    return df


def _third_axis_name(metric, j, n, materials):
    if metric.startswith("layer"):
        return f"layer{j}"
    if len(materials) == n:
        return materials[j]
    return f"m{j}"


def objective_sense(path, name):
    """'max', 'min' or None: the optional ``sense`` attribute of an objective dataset
    (the schema does not say yet whether objectives are maximised or minimised)."""
    name = name.split(":", 1)[-1]
    with _as_file(path) as f:
        ds = f.get(f"population/objective/{name}")
        if ds is None:
            return None
        for key in ("sense", "goal", "direction"):
            if key in ds.attrs:
                value = str(_scalar(ds.attrs[key])).lower()
                if value.startswith("max"):
                    return "max"
                if value.startswith("min"):
                    return "min"
    return None


# ---------------------------------------------------------------- trajectories

def trajectory_ids(path):
    """design_ids that have a /trajectories subgroup, sorted."""
    with _as_file(path) as f:
        if "trajectories" not in f:
            return []
        return sorted(int(k) for k in f["trajectories"] if k.lstrip("-").isdigit())


def _trajectory_group(f, design_id):
    key = f"trajectories/{int(design_id)}"
    if key not in f:
        have = trajectory_ids(f)
        raise MiningError(f"{f.filename}: no trajectory for design {design_id}; "
                          f"designs with trajectories: {have if have else 'none'}")
    return f[key]


def load_trajectory(path, design_id):
    """Time series of one design as a DataFrame.

    Columns: ``time_s``, ``step``, ``current_A_m2``, ``potential_V``,
    ``capacity_mAh_g`` and ``material_soc[<material>]`` per material.
    ``df.attrs``: ``units``, ``label``, ``status``, ``design_id``.
    """
    materials = material_names(path)
    with _as_file(path) as f:
        grp = _trajectory_group(f, design_id)
        columns, units = {}, {}
        for name, ds in grp.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            data, unit = read_dataset(ds), units_of(ds)
            if data.ndim == 1:
                columns[name], units[name] = data, unit
            elif data.ndim == 2:
                for j in range(data.shape[1]):
                    label = materials[j] if len(materials) == data.shape[1] else str(j)
                    columns[f"{name}[{label}]"] = data[:, j]
                    units[f"{name}[{label}]"] = unit
        attrs = {k: _scalar(v) for k, v in grp.attrs.items()}
    order = ["time_s", "step", "current_A_m2", "potential_V", "capacity_mAh_g"]
    ordered = {k: columns[k] for k in order if k in columns}
    ordered.update((k, v) for k, v in columns.items() if k not in ordered)
    df = pd.DataFrame(ordered)
    df.attrs.update(units=units, design_id=int(design_id),
                    label=attrs.get("label", ""), status=attrs.get("status"))
    return df


def load_profiles(path, design_id):
    """Through-thickness snapshots of one design, in snapshot order.

    Each item is a dict: ``name`` (the group name k), ``attrs`` (step, at, requested,
    time_s), ``arrays`` (dataset name -> numpy array; per-material ones are
    [electrode cells x materials]) and ``units`` (dataset name -> unit).
    """
    with _as_file(path) as f:
        grp = _trajectory_group(f, design_id)
        if "profiles" not in grp:
            return []
        keys = sorted(grp["profiles"], key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else k))
        out = []
        for k in keys:
            g = grp["profiles"][k]
            out.append({
                "name": k,
                "attrs": {a: _scalar(v) for a, v in g.attrs.items() if a != "description"},
                "arrays": {n: read_dataset(d) for n, d in g.items() if isinstance(d, h5py.Dataset)},
                "units": {n: units_of(d) for n, d in g.items() if isinstance(d, h5py.Dataset)},
            })
        return out


def optimizer_runs(path):
    """Number of /optimizer subgroups."""
    with _as_file(path) as f:
        return len(f["optimizer"]) if "optimizer" in f else 0
