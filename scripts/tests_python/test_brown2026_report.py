"""Smoke run of the reference-experiment report (scripts/brown2026_report.sh): the rate
test, the design campaigns (two objectives, and the three-layer one) at a tenth of
their budget, and every plot, each a non-empty PNG."""

import os
import subprocess

import pytest

EXPECTED = (
    ["retention_vs_rate.png"]
    + [f"potential_{n}.png" for n in ("NMO", "NVP", "blend", "CC_NMO_NVP", "CC_NVP_NMO")]
    + [f"soc_3C_{n}.png" for n in ("NMO", "NVP", "blend", "CC_NMO_NVP", "CC_NVP_NMO")]
    + [f"profiles_3C_{n}.png" for n in ("CC_NMO_NVP", "CC_NVP_NMO")]
    + [f"{kind}_brown2026_optimise_3c{suffix}.png" for kind in ("pareto", "scatter")
       for suffix in ("", "_capacity_3C_mAh_cm2")]
    + ["scatter_brown2026_trilayer_3c.png"]
)


def test_report_draws_every_plot(tmp_path):
    binary, source = os.environ.get("STRATA_BINARY"), os.environ.get("STRATA_SOURCE_DIR")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("STRATA_BINARY is not set to an executable strata binary")
    if not source or not os.path.isdir(source):
        pytest.skip("STRATA_SOURCE_DIR is not set to the strata repository")
    out = tmp_path / "brown2026"
    proc = subprocess.run([os.path.join(source, "scripts", "brown2026_report.sh"), str(out), "--scale", "0.1"],
                          capture_output=True, text=True, env=dict(os.environ, STRATA_BINARY=binary))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    drawn = sorted(p.name for p in (out / "plots").iterdir())
    assert sorted(EXPECTED) == drawn
    for name in EXPECTED:
        assert (out / "plots" / name).stat().st_size > 10_000, name
