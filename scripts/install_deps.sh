#!/usr/bin/env bash
# Installs every build and test dependency of strata on a fresh Debian machine.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  libhdf5-dev libnlopt-cxx-dev libtomlplusplus-dev libcli11-dev libfmt-dev \
  googletest libgtest-dev \
  openmpi-bin libopenmpi-dev \
  python3 python3-h5py python3-numpy python3-pandas python3-matplotlib python3-pytest \
  python3-venv >/dev/null  # python3-venv: the `peer` test's PyBaMM venv (scripts/peer)
