#!/usr/bin/env bash
# Create (once) the virtual environment of the PyBaMM cross-validation under the build
# tree and install the pinned requirements. Prints the venv's python on success.
# Exit 77 (the ctest skip code of the `peer` test) when PyPI or a wheel is unavailable.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${STRATA_PEER_VENV:-$root/build/peer-venv}"
req="$here/requirements.txt"
stamp="$venv/.requirements.stamp"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
  echo "$venv/bin/python"; exit 0
fi
py="$(command -v python3.11 || command -v /usr/bin/python3 || command -v python3)"
{
  "$py" -m venv "$venv" &&
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --timeout 30 --retries 1 \
      --only-binary=:all: -r "$req"
} >&2 || { echo "SKIP peer: could not create $venv or install $(grep -v '^#' "$req" | tr '\n' ' ') from PyPI (offline?)" >&2; exit 77; }
"$venv/bin/python" -c "import pybamm; pybamm.IDAKLUSolver()" >&2 ||
  { echo "SKIP peer: pybamm installed but its IDAKLU solver does not load" >&2; exit 77; }
cp "$req" "$stamp"
echo "$venv/bin/python"
