"""Command line: python3 -m strata_mining <command> FILE ... (see docs/mining.md)."""

import argparse
import os
import sys

import numpy as np

from . import plots
from .io import (MiningError, load_population, load_profiles, objective_sense,
                 optimizer_runs, read_meta, trajectory_ids, writer)


def default_out(path, name):
    stem = os.path.splitext(os.path.abspath(path))[0]
    return f"{stem}_{name}.png"


def bounds_text(lo, hi):
    """'>= lo', '<= hi' or 'in [lo, hi]' (a bound beyond 1e299 is none: the engine's
    default)."""
    if hi >= 1e299:
        return f">= {lo:g}"
    if lo <= -1e299:
        return f"<= {hi:g}"
    return f"in [{lo:g}, {hi:g}]"


def info(path, columns=False, file=sys.stdout):
    """Print a short summary of a results file."""
    meta = read_meta(path)
    df = load_population(path)
    p = lambda *a: print(*a, file=file)  # noqa: E731
    p(f"file:        {path}")
    now = writer(path)
    status = f"running now ({now}), as of its last commit" if now else meta.get('status', '?')
    if not now and status == "running":  # no writer holds it: as strata info says
        status = "running when last written: killed, or still going on another machine"
    p(f"scenario:    {meta.get('scenario_name', '?')}   status: {status}")
    p(f"program:     {meta.get('program', '?')} {meta.get('version', '')} "
      f"({meta.get('git_revision', '')}, {meta.get('build_type', '')}) on {meta.get('device', '?')}")
    p(f"started:     {meta.get('start_time', '?')}   ended: {meta.get('end_time', '') or '-'}")
    shard = ""
    if "shard_index" in meta and "shard_count" in meta:
        i, n, total = int(meta["shard_index"]), int(meta["shard_count"]), meta.get("n_designs")
        span = f": designs {total * i // n} to {total * (i + 1) // n - 1}" if isinstance(total, int) else ""
        shard = f" (shard {i}/{n}{span})"
    p(f"rows:        {len(df)} of {meta.get('n_designs', '?')} designs{shard}")
    if "status" in df and len(df):
        counts = []
        for code, group in df.groupby("status"):
            reasons = group["reason"].unique() if "reason" in group else []
            reason = reasons[0] if len(reasons) else ""
            more = f" and {len(reasons) - 1} other reason(s)" if len(reasons) > 1 else ""
            counts.append(f"{code} ({reason}{more}): {len(group)}")
        p("status:      " + "; ".join(counts))
    for k, text in enumerate(meta.get("step_texts", [])):
        p(f"step {k:<3}    {text}")
    p(f"materials:   {', '.join(meta.get('material_names', [])) or '-'}")
    feasible = df["feasible"].to_numpy() if "feasible" in df else np.ones(len(df), dtype=bool)
    if df.attrs.get("constraints"):
        p(f"constraints: {int(feasible.sum())} of {len(df)} designs meet "
          + ", ".join(f"{c.split(':', 1)[1]} {bounds_text(lo, hi)} {df.attrs['units'].get(c, '')}".rstrip()
                      for c, (lo, hi) in df.attrs["constraints"].items())
          + "; the objectives' best are of those")
    for col in df.attrs["objectives"]:
        # A design search's best: among the designs that meet its constraints.
        values = np.where(feasible, df[col].to_numpy(dtype=float), np.nan)
        if not np.isfinite(values).any():
            p(f"objective:   {col}: no finite value" + (" that meets the constraints" if not feasible.all() else ""))
            continue
        sense = objective_sense(path, col)
        parts = []
        for s, pick in (("max", np.nanargmax), ("min", np.nanargmin)):
            if sense in (None, s):
                i = pick(values)
                parts.append(f"{s} {values[i]:.6g} at design {int(df['design_id'].iloc[i])} "
                             f"({df['label'].iloc[i] if 'label' in df else ''})")
        unit = df.attrs["units"].get(col, "")
        p(f"objective:   {col} [{unit}]: " + "; ".join(parts))
    ids = trajectory_ids(path)
    if ids:
        shown = ", ".join(str(i) for i in ids[:20]) + (" ..." if len(ids) > 20 else "")
        n_prof = len(load_profiles(path, ids[0]))
        p(f"trajectories: {len(ids)} designs ({shown}); design {ids[0]} has {n_prof} profile(s)")
    else:
        p("trajectories: none")
    n_opt = optimizer_runs(path)
    if n_opt:
        p(f"optimizer:   {n_opt} instance(s)")
    if columns:
        p("columns:")
        for col in df.columns:
            p(f"  {col}  [{df.attrs['units'].get(col, '')}]")


def build_parser():
    parser = argparse.ArgumentParser(prog="python3 -m strata_mining",
                                     description="Explore strata HDF5 results files (docs/hdf5-schema.md).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("file", metavar="FILE", help="results file (.h5)")
        if name != "info":
            p.add_argument("--out", metavar="PNG", help=f"output image (default: FILE's stem + _{name[5:]}.png)")
        return p

    ints = dict(type=int, nargs="+", action="extend")
    p = command("info", "print a summary: scenario, status, rows, objectives, trajectories")
    p.add_argument("--columns", action="store_true", help="also list the population columns and units")

    p = command("plot-voltage", "potential vs capacity within a step, from trajectories")
    p.add_argument("--designs", required=True, metavar="ID", help="design ids", **ints)
    p.add_argument("--steps", required=True, metavar="K", help="protocol step indices (repeatable)", **ints)

    p = command("plot-rate", "capacity retention (step / reference step) vs C-rate")
    p.add_argument("--steps", required=True, metavar="K", help="protocol step indices", **ints)
    p.add_argument("--reference-step", type=int, default=0, metavar="K",
                   help="step whose capacity is 100%% (default 0)")
    p.add_argument("--designs", metavar="ID", help="design ids (default: the first 20 ok designs)", **ints)

    p = command("plot-soc", "per-material state of charge over time")
    p.add_argument("--design", type=int, required=True, metavar="ID")
    p.add_argument("--step", type=int, metavar="K", help="only this protocol step")

    p = command("plot-profiles", "through-thickness profiles (c_e, j, eta, surface x) vs x")
    p.add_argument("--design", type=int, required=True, metavar="ID")
    p.add_argument("--profile", metavar="K", help="profile snapshots (default: all)", **ints)

    p = command("plot-scatter", "population scatter of two columns coloured by a third")
    p.add_argument("--x", required=True, metavar="COLUMN")
    p.add_argument("--y", required=True, metavar="COLUMN")
    p.add_argument("--color", metavar="COLUMN", help="default: the first objective, if any")

    p = command("plot-pareto", "non-dominated front of two columns over the population")
    p.add_argument("--x", required=True, metavar="COLUMN")
    p.add_argument("--y", required=True, metavar="COLUMN")
    for axis in ("x", "y"):
        g = p.add_mutually_exclusive_group()
        g.add_argument(f"--maximize-{axis}", dest=f"maximize_{axis}", action="store_true", default=True,
                       help=f"larger {axis} is better (default)")
        g.add_argument(f"--minimize-{axis}", dest=f"maximize_{axis}", action="store_false",
                       help=f"smaller {axis} is better")
    return parser


def run(args):
    if args.command == "info":
        return info(args.file, args.columns)
    out = args.out or default_out(args.file, args.command[5:])
    if args.command == "plot-voltage":
        plots.plot_voltage(args.file, args.designs, args.steps, out)
    elif args.command == "plot-rate":
        plots.plot_rate(args.file, args.steps, args.reference_step, out, args.designs)
    elif args.command == "plot-soc":
        plots.plot_soc(args.file, args.design, out, args.step)
    elif args.command == "plot-profiles":
        plots.plot_profiles(args.file, args.design, out, args.profile)
    elif args.command == "plot-scatter":
        plots.plot_scatter(args.file, args.x, args.y, out, args.color)
    elif args.command == "plot-pareto":
        plots.plot_pareto(args.file, args.x, args.y, out, args.maximize_x, args.maximize_y)
    print(out)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except BrokenPipeError:  # `info FILE | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except (MiningError, OSError, KeyError) as exc:
        print(f"strata_mining: error: {exc}", file=sys.stderr)
        return 1
    return 0
