#!/usr/bin/env bash
# Fresh machine to first results: install dependencies, build (Release), and run the
# main job on the default scenario. Results go to results/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
./scripts/build.sh
./build/strata simulate scenarios/default.toml --out results --overwrite "$@"
