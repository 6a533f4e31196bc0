"""Figures from a results file. Each function writes one PNG and returns its path."""

import difflib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pandas as pd  # noqa: E402

from . import analysis  # noqa: E402
from .io import (MiningError, load_population, load_profiles, load_trajectory,  # noqa: E402
                 read_meta)


def _save(fig, out):
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _label(df, col):
    unit = df.attrs.get("units", {}).get(col, "")
    return f"{col} [{unit}]" if unit not in ("", "-") else col


def check_column(df, col):
    if col not in df.columns:
        near = difflib.get_close_matches(col, list(df.columns), n=5, cutoff=0.4)
        hint = f"; did you mean: {', '.join(near)}" if near else ""
        raise MiningError(f"no column {col!r}{hint} (`info FILE --columns` lists them)")
    return col


def _step_text(texts, step):
    return texts[step] if 0 <= step < len(texts) else f"step {step}"


def _check_step(texts, step):
    """A step index outside the file's protocol is an error that says the range."""
    if texts and not 0 <= step < len(texts):
        raise MiningError(f"step {step} is out of range: the protocol has steps 0 to {len(texts) - 1}")


def _short(label, limit=40):
    """A design label cut to `limit` characters: a campaign's labels list every design
    variable (hundreds of characters), too long for a legend."""
    label = str(label or "")
    return label if len(label) <= limit else label[:limit - 3] + "..."


def _design_label(traj):
    label = traj.attrs.get("label", "")
    return f"design {traj.attrs['design_id']}" + (f" ({_short(label)})" if label else "")


def plot_voltage(path, designs, steps, out):
    """Potential vs capacity passed within the step, one line per (design, step)."""
    texts = read_meta(path).get("step_texts", [])
    for s in steps:
        _check_step(texts, s)
    fig, ax = plt.subplots(figsize=(7, 5))
    for d in designs:
        tr = load_trajectory(path, d)
        for s in steps:
            part = tr[tr["step"] == s]
            if part.empty:
                raise MiningError(f"design {d}: no trajectory samples in step {s}")
            ax.plot(part["capacity_mAh_g"], part["potential_V"],
                    label=f"{_design_label(tr)}: s{s} {_step_text(texts, s)}")
    ax.set_xlabel("capacity in step [mAh/g]")
    ax.set_ylabel("potential [V]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out)


def default_designs(df, limit=20):
    ok = df[df["status"] == 0] if "status" in df else df
    return sorted(int(d) for d in ok["design_id"])[:limit]


def plot_rate(path, steps, reference_step, out, designs=None):
    """Capacity retention (step capacity / reference step capacity) vs C-rate."""
    df = load_population(path)
    designs = designs if designs else default_designs(df)
    if not designs:
        raise MiningError("no design ran (status 0) to plot; name designs with --designs")
    rows = df.set_index("design_id", drop=False)
    missing = [d for d in designs if d not in rows.index]
    if missing:
        raise MiningError(f"designs not in /population: {missing}")
    sub = rows.loc[designs]
    sub.attrs = df.attrs
    x, xlabel, ret = analysis.rate_table(sub, steps, reference_step)
    order = np.argsort(x, kind="stable")
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, (_, row) in enumerate(sub.iterrows()):
        label = f"design {int(row['design_id'])}" + (f" ({_short(row['label'])})" if "label" in row and row["label"] else "")
        ax.plot(x[order], ret[i, order], marker="o", label=label)
    ax.set_xlabel(xlabel)
    if xlabel.startswith("C-rate") and x.min() > 0 and x.max() / x.min() >= 10:
        ax.set_xscale("log")
    texts = df.attrs.get("step_texts", [])
    ax.set_ylabel(f"capacity retention vs step {reference_step} ({_step_text(texts, reference_step)})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out)


def plot_soc(path, design, out, step=None):
    """Per-material state of charge over time."""
    tr = load_trajectory(path, design)
    title = _design_label(tr)
    texts = read_meta(path).get("step_texts", [])
    if step is not None:
        _check_step(texts, step)
        tr = tr[tr["step"] == step]
        if tr.empty:
            raise MiningError(f"design {design}: no trajectory samples in step {step}")
    t = tr["time_s"].to_numpy()
    hours = t.size and (t.max() - t.min()) > 7200
    t = t / 3600 if hours else t
    fig, ax = plt.subplots(figsize=(7, 5))
    soc_cols = [c for c in tr.columns if c.startswith("material_soc[")]
    if not soc_cols:
        raise MiningError(f"design {design}: the trajectory has no material_soc")
    for c in soc_cols:
        ax.plot(t, tr[c], label=c[len("material_soc["):-1])
    if step is None:  # mark step starts
        steps = tr["step"].to_numpy()
        for i in np.flatnonzero(steps[1:] != steps[:-1]) + 1:
            ax.axvline(t[i], color="grey", lw=0.5, ls=":")
    ax.set_xlabel("time [h]" if hours else "time [s]")
    ax.set_ylabel("state of charge [-]")
    ax.set_title(title + (f", step {step}: {_step_text(texts, step)}" if step is not None else ""), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out)


PROFILE_PANELS = [("electrolyte_concentration_mol_m3", "electrolyte concentration"),
                  ("reaction_current_A_m2", "reaction current"),
                  ("overpotential_V", "overpotential"),
                  ("surface_stoichiometry", "surface stoichiometry")]


def plot_profiles(path, design, out, profiles=None):
    """Through-thickness profiles: c_e, and j / eta / surface x per material vs x."""
    meta = read_meta(path)
    materials = meta.get("material_names", [])
    snaps = load_profiles(path, design)
    if profiles:
        wanted = {str(p) for p in profiles}
        missing = wanted - {s["name"] for s in snaps}
        if missing:
            raise MiningError(f"design {design}: no profiles {sorted(missing)}; "
                              f"have {[s['name'] for s in snaps]}")
        snaps = [s for s in snaps if s["name"] in wanted]
    if not snaps:
        raise MiningError(f"design {design}: no profile snapshots")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    styles = ["-", "--", ":", "-."]
    for i, snap in enumerate(snaps):
        color = f"C{i % 10}"
        a = snap["attrs"]
        name = f"#{snap['name']}: step {a.get('step', '?')}, {a.get('at', '')}, t={float(a.get('time_s', np.nan)):.4g} s"
        x_um = snap["arrays"]["x_m"] * 1e6
        for ax, (key, title) in zip(axes.flat, PROFILE_PANELS):
            data = snap["arrays"].get(key)
            if data is None:
                continue
            if data.ndim == 1:
                ax.plot(x_um[:data.size], data, color=color, label=name)
            else:  # [electrode cells x materials]: the first cells of x_m
                for j in range(data.shape[1]):
                    mat = materials[j] if j < len(materials) else f"material {j}"
                    ax.plot(x_um[:data.shape[0]], data[:, j], color=color, ls=styles[j % 4],
                            label=f"{name} {mat}")
            unit = snap["units"].get(key, "")
            ax.set_title(title + (f" [{unit}]" if unit else ""), fontsize=9)
    _mark_interfaces(path, design, snaps, axes)
    for ax in axes[1]:
        ax.set_xlabel("x from the current collector [um]")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=6)
    axes[0, 1].legend(fontsize=6)
    fig.suptitle(f"design {design} profiles", fontsize=10)
    return _save(fig, out)


def profile_interfaces(path, design, snaps=None):
    """Positions (m) of the sub-layer interfaces and the electrode/separator boundary of
    a design: the ``interfaces_m`` its profiles carry (the engine's own cells), else, for
    files written before it, from the scenario text, the layer order and the design's
    thickness overrides (None when neither is there)."""
    for snap in snaps if snaps is not None else load_profiles(path, design):
        if "interfaces_m" in snap["attrs"]:
            return [float(x) for x in np.atleast_1d(np.asarray(snap["attrs"]["interfaces_m"], dtype=float))]
    text = read_meta(path).get("scenario_text")
    if not text:
        return None
    df = load_population(path)
    row = df[df["design_id"] == design]
    if row.empty:
        return None
    row = row.iloc[0]
    overrides = {c: row[c] for c in df.columns if c.startswith("layers[") and c.endswith(".thickness_m")}
    return analysis.layer_interfaces(text, row.get("layer_order", ""), overrides)


def _mark_interfaces(path, design, snaps, axes):
    """Dashed grey lines at the layer interfaces."""
    for x in profile_interfaces(path, design, snaps) or []:
        for ax in axes.flat:
            ax.axvline(x * 1e6, color="grey", lw=0.8, ls="--")


def plot_scatter(path, x, y, out, color=None):
    """Population scatter of column y vs column x, coloured by a third column."""
    df = load_population(path)
    for c in (x, y, color):
        if c:
            check_column(df, c)
    if color is None and df.attrs["objectives"]:
        # The objective the campaign optimised, else the first by name.
        searched = f"objective:{read_meta(path).get('design_objective', '')}"
        color = searched if searched in df.attrs["objectives"] else df.attrs["objectives"][0]
    fig, ax = plt.subplots(figsize=(7, 5))
    if color and not pd.api.types.is_numeric_dtype(df[color]):
        # A categorical column (layer order, label): one colour per value.
        for k, (value, group) in enumerate(df.groupby(color, sort=True)):
            ax.scatter(group[x], group[y], s=18, color=f"C{k % 10}", label=f"{color} {value}")
        ax.legend(fontsize=7)
    elif color:
        c = df[color].to_numpy(dtype=float)
        bad = ~np.isfinite(c)
        sc = ax.scatter(df[x][~bad], df[y][~bad], c=c[~bad], cmap="viridis", s=18)
        fig.colorbar(sc, ax=ax, label=_label(df, color))
        if bad.any():
            ax.scatter(df[x][bad], df[y][bad], marker="x", color="0.5", s=18, label=f"{color} not finite")
            ax.legend(fontsize=7)
    else:
        ax.scatter(df[x], df[y], s=18)
    failed = _failed(df)
    if failed.any():  # their step values are partial (or 0 for steps never run)
        ax.scatter(df[x][failed], df[y][failed], marker="x", color="C3", s=22, label=f"failed ({int(failed.sum())})")
        ax.legend(fontsize=7)
    ax.set_xlabel(_label(df, x))
    ax.set_ylabel(_label(df, y))
    ax.grid(alpha=0.3)
    return _save(fig, out)


def _failed(df):
    """Rows of designs that failed (status != 0)."""
    return (df["status"].to_numpy() != 0) if "status" in df else np.zeros(len(df), dtype=bool)


def _numeric(df, col):
    try:
        return df[col].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise MiningError(f"column {col!r} is not numeric") from None


def pareto_groups(df, x, y, maximize_x=True, maximize_y=True):
    """Boolean row masks (front, failed, breaks): the non-dominated designs among those
    that ran and meet every constraint, the failed designs (their step values are partial
    or 0, never a result), and those that ran but break a constraint (``feasible``)."""
    check_column(df, x)
    check_column(df, y)
    xv, yv = _numeric(df, x), _numeric(df, y)
    failed = _failed(df)
    breaks = ~df["feasible"].to_numpy(dtype=bool) & ~failed if "feasible" in df else np.zeros(len(df), dtype=bool)
    eligible = ~failed & ~breaks
    front = analysis.pareto_front(np.where(eligible, xv, np.nan), np.where(eligible, yv, np.nan),
                                  maximize_x, maximize_y)
    return front, failed, breaks


def plot_pareto(path, x, y, out, maximize_x=True, maximize_y=True):
    """The population in grey and its non-dominated front in colour (pareto_groups)."""
    df = load_population(path)
    front, failed, breaks = pareto_groups(df, x, y, maximize_x, maximize_y)
    xv, yv = _numeric(df, x), _numeric(df, y)
    eligible = ~failed & ~breaks
    fig, ax = plt.subplots(figsize=(7, 5))
    rest = eligible & ~front
    ax.scatter(xv[rest], yv[rest], s=12, color="0.7", label="population")
    if breaks.any():
        ax.scatter(xv[breaks], yv[breaks], s=12, facecolors="none", edgecolors="0.5",
                   label=f"breaks a constraint ({int(breaks.sum())})")
    if failed.any():
        ax.scatter(xv[failed], yv[failed], s=16, marker="x", color="C0", label=f"failed ({int(failed.sum())})")
    order = np.argsort(xv[front])
    ax.plot(xv[front][order], yv[front][order], "o-", color="C3", ms=5,
            label=f"non-dominated ({front.sum()})")
    ax.set_xlabel(_label(df, x) + (" (max)" if maximize_x else " (min)"))
    ax.set_ylabel(_label(df, y) + (" (max)" if maximize_y else " (min)"))
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out)
