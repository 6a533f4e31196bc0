#!/usr/bin/env bash
# The test suite: install dependencies, build, run the default tests (everything but
# the `slow` label; `gpu` tests skip themselves without a device), then the `slow`
# physics validations. Exit status non-zero if any test fails. The default run includes
# the `peer` test (PyBaMM cross-validation, scripts/peer/), which skips with a message
# when PyPI is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" -LE slow --timeout 900
if ctest -N -L slow | grep -q "Total Tests: [1-9]"; then
  ctest --output-on-failure -j"$(nproc)" -L slow --timeout 2400
fi
