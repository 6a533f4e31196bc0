"""scripts/brown2026_sensitivity.py: each case changes what it says and nothing else."""

import os
import subprocess

import h5py
import pytest

import brown2026_sensitivity as sens

BINARY = os.environ.get("STRATA_BINARY", os.path.join(sens.ROOT, "build", "strata"))
pytestmark = pytest.mark.skipif(not os.path.exists(BINARY), reason=f"no strata binary at {BINARY}")


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return {name: r for name, _, r in sens.sensitivity(BINARY, str(tmp_path_factory.mktemp("sens")))}


def test_the_calibrated_case_is_the_rate_test_itself(rows, tmp_path):
    out = tmp_path / "rt.h5"
    subprocess.run([BINARY, "simulate", sens.RATE_TEST, "--out", str(out), "--quiet"], check=True)
    with h5py.File(out, "r") as f:
        labels = [x.decode() if isinstance(x, bytes) else str(x) for x in f["population/label"][:]]
        direct = dict(zip(labels, f["population/objective/retention_3C"][:]))
    assert rows["calibrated"] == pytest.approx(direct, rel=0, abs=0)


def test_each_case_moves_what_it_changes(rows):
    base = rows["calibrated"]
    assert set(base) == {"NMO", "NVP", "NMO+NVP", "CC/NMO/NVP", "CC/NVP/NMO"}
    for e in base:  # less series resistance, more of the charge before the cut-off
        assert rows["contact x0"][e] > rows["contact x0.5"][e] > base[e] > rows["contact x1.5"][e]
        # a reference nearer the working electrode sees less of the separator's drop
        assert rows["reference at 0.02"][e] > base[e] > rows["reference at 0.98"][e]
    # The NMO cases touch NMO only: the NVP electrode (its NMO slot empty) charges the
    # same, to the last bits (the empty slot's start differs, and with it a rounding).
    assert rows["NMO narrower window"]["NVP"] == pytest.approx(rows["NMO inactive share"]["NVP"], rel=1e-12)
    assert rows["NMO narrower window"]["NMO"] != rows["NMO inactive share"]["NMO"]
    # One charge from the start reproduces the rate test's retention closely (no
    # history beyond formation matters to the calibrated model), so the pair compares
    # the two readings of NMO's missing capacity on the same footing.
    for e in base:
        assert rows["NMO inactive share"][e] == pytest.approx(base[e], abs=0.01)
