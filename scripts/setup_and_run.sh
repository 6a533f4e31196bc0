#!/usr/bin/env bash
# Fresh machine to first results: install dependencies, build (Release), and run the
# main job: the reference experiment (scripts/brown2026_report.sh): the rate test of
# the five electrodes with the calibrated parameters, the 3C design campaign (about a
# minute on 2 cores at its default size; `--scale F` multiplies its budget) and the
# plots, into results/brown2026/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
./scripts/build.sh
./scripts/brown2026_report.sh results/brown2026 "$@"
