#!/usr/bin/env bash
# The reference experiment end to end (docs/results-brown2026.md): the rate test on the
# five electrodes with the calibrated parameters, the 3C design campaign (retention and
# areal capacity objectives), the three-layer campaign, and every plot of the report.
#
#   ./scripts/brown2026_report.sh [OUT_DIR] [--scale F]     (default OUT_DIR: results/brown2026)
#
# --scale multiplies the campaign budgets (strata optimize --scale). The calibration
# itself is `./build/strata fit scenarios/brown2026_calibration.toml` (docs/calibration.md);
# it is not rerun here. Needs the build (./scripts/build.sh) and Debian's python3 with
# h5py, pandas and matplotlib (./scripts/install_deps.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/results/brown2026}"
shift || true
STRATA="${STRATA_BINARY:-$ROOT/build/strata}"
PY="${STRATA_PYTHON:-/usr/bin/python3}"
mkdir -p "$OUT/plots"
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg
mine() { "$PY" -m strata_mining "$@"; }

# 1. Prediction: the rate test on the five electrodes (design ids 0..4 in the order of
#    the scenario: NMO, NVP, NMO+NVP, CC/NMO/NVP, CC/NVP/NMO).
"$STRATA" simulate "$ROOT/scenarios/brown2026_rate_test.toml" --out "$OUT" --overwrite
RT="$OUT/brown2026_rate_test.h5"
# Last charge of each rate block: 0.1C formation s20, 0.5C s45, 1C s70, 2C s95, 3C s120.
mine plot-rate "$RT" --steps 45 70 95 120 --reference-step 20 --out "$OUT/plots/retention_vs_rate.png"
names=(NMO NVP blend CC_NMO_NVP CC_NVP_NMO)
for id in 0 1 2 3 4; do
  mine plot-voltage "$RT" --designs "$id" --steps 20 45 70 95 120 --out "$OUT/plots/potential_${names[$id]}.png"
  mine plot-soc "$RT" --design "$id" --step 120 --out "$OUT/plots/soc_3C_${names[$id]}.png"
done
# Profiles 0 and 1: end of the 3C charge and 100 s into it ([output] profiles).
for id in 3 4; do
  mine plot-profiles "$RT" --design "$id" --profile 0 1 --out "$OUT/plots/profiles_3C_${names[$id]}.png"
done

# Designs compared with the campaign's in docs/results-brown2026.md (same protocol).
"$STRATA" simulate "$ROOT/scenarios/brown2026_design_checks.toml" --out "$OUT" --overwrite

# 2. Design campaign: maximise 3C retention, then 3C areal capacity; the Pareto front of
#    low-rate areal capacity against 3C retention over both populations' designs.
"$STRATA" optimize "$ROOT/scenarios/brown2026_optimise_3c.toml" --out "$OUT" --overwrite "$@"
"$STRATA" optimize "$ROOT/scenarios/brown2026_optimise_3c.toml" --objective capacity_3C_mAh_cm2 \
  --out "$OUT" --overwrite "$@"
for f in brown2026_optimise_3c brown2026_optimise_3c_capacity_3C_mAh_cm2; do
  mine plot-pareto "$OUT/$f.h5" --x objective:low_rate_mAh_cm2 --y objective:retention_3C --maximize-x --maximize-y \
    --out "$OUT/plots/pareto_${f}.png"
  mine plot-scatter "$OUT/$f.h5" --x "layers[0].thickness_fraction" --y objective:retention_3C --color layer_order \
    --out "$OUT/plots/scatter_${f}.png"
done

# 3. Three layers (NMO, blend, NVP), every order, the split by thickness shares.
"$STRATA" optimize "$ROOT/scenarios/brown2026_trilayer_3c.toml" --out "$OUT" --overwrite "$@"
mine plot-scatter "$OUT/brown2026_trilayer_3c.h5" --x "layers[0].thickness_share" --y objective:retention_3C \
  --color layer_order --out "$OUT/plots/scatter_brown2026_trilayer_3c.png"
echo "plots: $OUT/plots"
