"""Small computations on loaded results: C-rates, retention, Pareto fronts, layer geometry."""

import re
import tomllib

import numpy as np

from .io import MiningError

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_C_RATE = re.compile(rf"^\s*(?:charge|discharge)\s+at\s+(?:(?P<n>{_NUMBER})\s*c|c\s*/\s*(?P<d>{_NUMBER}))(?![a-z/])",
                     re.IGNORECASE)


def parse_c_rate(text):
    """The C-rate of a Charge/Discharge step as a positive float, or None.

    "Charge at 3C until 3.6 V" -> 3.0, "Discharge at C/2 until 2.3 V" -> 0.5,
    "Rest for 30 seconds", "Hold at 2.3 V until C/50", "Charge at 10 A/m2 ..." -> None.
    """
    m = _C_RATE.match(text or "")
    if not m:
        return None
    return float(m["n"]) if m["n"] is not None else 1.0 / float(m["d"])


def pareto_front(x, y, maximize_x=True, maximize_y=True):
    """Boolean mask of the non-dominated points of (x, y).

    A point is dominated when another is at least as good in both coordinates and
    strictly better in one. Points with a NaN coordinate are never on the front;
    exact duplicates of a front point are all on it. O(n log n).
    """
    x = np.asarray(x, dtype=float) * (1.0 if maximize_x else -1.0)
    y = np.asarray(y, dtype=float) * (1.0 if maximize_y else -1.0)
    mask = np.zeros(x.shape, dtype=bool)
    idx = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if idx.size == 0:
        return mask
    order = idx[np.lexsort((-y[idx], -x[idx]))]  # x descending, then y descending
    xs, ys = x[order], y[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])  # groups of equal x
    group_best = ys[starts]  # best y of each group (y is descending inside a group)
    before = np.r_[-np.inf, np.maximum.accumulate(group_best)[:-1]]  # best y at larger x
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, xs.size]))
    on_front = (ys == group_best[group]) & (group_best[group] > before[group])
    mask[order[on_front]] = True
    return mask


def step_column(df, metric, step):
    col = f"{metric}[s{step}]"
    if col not in df.columns:
        n = len(df.attrs.get("step_texts", []))
        raise MiningError(f"no column {col!r} (the file has {n} protocol steps: 0..{n - 1})")
    return col


def rate_table(df, steps, reference_step, metric="capacity_mAh_g"):
    """Retention of each step relative to the reference step, per design row.

    Returns (x values, x label, retention array [rows x steps]).
    """
    texts = df.attrs.get("step_texts", [])
    ref = df[step_column(df, metric, reference_step)].to_numpy(dtype=float)
    ret = np.column_stack([df[step_column(df, metric, s)].to_numpy(dtype=float) for s in steps])
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = ret / ref[:, None]
    rates = [parse_c_rate(texts[s]) if s < len(texts) else None for s in steps]
    if all(r is not None for r in rates):
        return np.array(rates), "C-rate (from the step text)", ret
    return np.array(steps, dtype=float), "protocol step index (no C-rate in every step text)", ret


def layer_interfaces(scenario_text, layer_order="", overrides=None):
    """x positions (m) of the sub-layer interfaces and the electrode/separator boundary.

    From the scenario TOML (``/meta@scenario_text``), the design's ``layer_order``
    ("1,0" or "") and its ``layers[i].thickness_m`` overrides (dict path -> value,
    NaN = not set). Returns None when the text cannot be interpreted.
    """
    try:
        layers = tomllib.loads(scenario_text)["layers"]
        base = [float(layer["thickness_m"]) for layer in layers]
        order = [int(i) for i in str(layer_order).split(",")] if str(layer_order).strip() else range(len(base))
        thick = []
        for pos, listed in enumerate(order):
            value = (overrides or {}).get(f"layers[{pos}].thickness_m", np.nan)
            thick.append(float(value) if np.isfinite(value) else base[listed])
        return list(np.cumsum(thick))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, IndexError):
        return None
