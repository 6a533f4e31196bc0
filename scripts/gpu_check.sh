#!/usr/bin/env bash
# One call on a lent GPU machine: configure and build with CUDA, run the `gpu` tests
# and the default tests, run the benchmark, and print a short table last.
# (The CUDA backend itself is issue 7; until it lands this checks that the CUDA
# targets build on the machine and records the CPU figures of the same box.)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/strata_gpu_check}
mkdir -p "$out"
{
  echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "no nvidia-smi"
  nproc; lscpu | grep "Model name"
  echo "== build"
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release > "$out/configure.log" 2>&1
  grep "CUDA backend" "$out/configure.log"
  cmake --build build-gpu -j"$(nproc)" > "$out/build.log" 2>&1 && echo "build ok" || { echo "build FAILED"; tail -30 "$out/build.log"; }
  echo "== gpu tests"
  (cd build-gpu && ctest -L gpu --output-on-failure) 2>&1 | tail -5
  echo "== default tests"
  (cd build-gpu && ctest -LE "slow|gpu" -j"$(nproc)") 2>&1 | tail -3
  echo "== benchmark"
  ./build-gpu/strata_bench 2>&1 | tail -4
} 2>&1 | tee "$out/gpu_check.txt"
