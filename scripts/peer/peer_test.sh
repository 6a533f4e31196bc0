#!/usr/bin/env bash
# The `peer` ctest: strata against PyBaMM's half-cell DFN on the cases of
# scripts/peer/cases.py (CHECKED_SETS), asserting the limits there. Creates the pinned
# venv under build/ on first use (cached afterwards); exits 77 (ctest: skipped) with a
# message when PyPI or pybamm is not available.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="$("$here/setup_venv.sh")"
rc=$?
if [[ $rc -ne 0 ]]; then
  [[ $rc -eq 77 ]] && echo "peer test skipped: PyBaMM could not be installed (no PyPI?)"
  exit $rc
fi
export MPLBACKEND=Agg
exec "$py" "$here/compare.py" --checked-sets --check --work "${STRATA_PEER_WORK:-$root/build/peer/ctest}"
