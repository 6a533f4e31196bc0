#!/usr/bin/env bash
# One command on a GPU machine: configure and build with CUDA (or use the bundle that
# scripts/gpu_bundle.sh made, see below), run the `gpu` tests
# (CPU vs GPU on 1,000 mixed designs in both mappings, chunked vs unchunked, failure isolation,
# CUB/Thrust, warp PCR vs thread Thomas) and the default tests, run the benchmark
# (CPU, GPU at 1k/10k/100k variants in both mappings, the linear-solve mappings), and print a short
# table last. Everything is also written to $OUT (default /tmp/strata_gpu_check).
# Figures go to docs/performance.md ("GPU backend").
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/strata_gpu_check}
mkdir -p "$out"
jobs=$(nproc)
# Bundle mode (no build here): a lent GPU machine cannot install HDF5, NLopt and the
# rest, so scripts/gpu_bundle.sh packs the CUDA build made elsewhere into .gpu_bundle/
# (carry it). STRATA_GPU_CHECK_BUILD=1 builds here instead (needs the dependencies).
if [ -x .gpu_bundle/bin/strata_gpu_tests ] && [ "${STRATA_GPU_CHECK_BUILD:-0}" != 1 ]; then mode=bundle; else mode=build; fi
{
  echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || echo "no nvidia-smi"
  echo "$jobs cores, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"
  echo "== build"
  if [ "$mode" = bundle ]; then
    # Built elsewhere (scripts/gpu_bundle.sh); the bundle's libraries stand in only for
    # those this machine lacks (its own C library, libstdc++ and CUDA driver are used).
    libdir=/tmp/strata_bundle_libs
    rm -rf "$libdir"; mkdir -p "$libdir"
    for pass in 1 2 3 4 5 6; do
      missing=$(LD_LIBRARY_PATH=$libdir ldd .gpu_bundle/bin/* 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
      [ -z "$missing" ] && break
      for m in $missing; do [ -e ".gpu_bundle/lib/$m" ] && ln -sf "$PWD/.gpu_bundle/lib/$m" "$libdir/"; done
    done
    export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export STRATA_MATERIALS_DIR=$PWD/materials
    echo "bundle of commit $(cat .gpu_bundle/commit 2>/dev/null), $(ls "$libdir" | wc -l) of its libraries used: $(ls "$libdir" | tr '\n' ' ')"
    if [ -z "$missing" ]; then build=ok; else build="FAILED (not found: $missing)"; fi
    bindir=.gpu_bundle/bin; testbin=.gpu_bundle/bin/strata_gpu_tests
  else
    cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release > "$out/configure.log" 2>&1
    grep "CUDA backend" "$out/configure.log"
    if cmake --build build-gpu -j"$jobs" > "$out/build.log" 2>&1; then build=ok; else build=FAILED; tail -30 "$out/build.log"; fi
    bindir=build-gpu; testbin=build-gpu/tests/strata_gpu_tests
  fi
  echo "build $build"
  echo "== gpu tests"
  if [ "$mode" = bundle ]; then
    "$testbin" > "$out/gpu_tests.log" 2>&1
    gpu_tests=$(grep -E "^\[  (PASSED|FAILED)  \]" "$out/gpu_tests.log" | head -2 | tr '\n' ' ')
    skipped=$(grep -cE "^\[  SKIPPED \] [A-Za-z].* \([0-9]+ ms\)$" "$out/gpu_tests.log")
    grep -E "^\[ +(OK|FAILED|SKIPPED) +\] [A-Za-z]" "$out/gpu_tests.log" | head -20
  else
    (cd build-gpu && ctest -L gpu -V) > "$out/gpu_tests.log" 2>&1
    gpu_tests=$(grep -E "tests passed|tests failed" "$out/gpu_tests.log" | tail -1)
    skipped=$(grep -cE "^[[:space:]]+[0-9]+ - .*\(Skipped\)" "$out/gpu_tests.log")
    grep -E "Test +#.*(Passed|Failed|Skipped)" "$out/gpu_tests.log" | head -20
  fi
  # A skipped gpu test says why in its own output (no device, no CUDA build).
  [ "$skipped" -gt 0 ] && "$testbin" --gtest_filter='CudaBackend.ThrustRanking*' 2>&1 | grep -A1 "Skipped" | tail -1
  echo "== default tests"
  if [ "$mode" = bundle ]; then
    default_tests="not run (bundle mode: CI runs them)"
  else
    (cd build-gpu && ctest -LE "slow|gpu" -j"$jobs") > "$out/default_tests.log" 2>&1
    default_tests=$(grep -E "tests passed|tests failed" "$out/default_tests.log" | tail -1)
    grep -E "^[[:space:]]+[0-9]+ - .*\(Failed\)" "$out/default_tests.log"
  fi
  echo "$default_tests"
  echo "== benchmark"
  "$bindir/strata_bench" --threads "$jobs" --scenario scenarios/bench_bilayer_3C.toml > "$out/bench.txt" 2>&1
  cat "$out/bench.txt"
  echo
  echo "== summary"
  printf "%-14s %s\n" "device" "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | grep . || echo none)"
  printf "%-14s %s\n" "build" "$build"
  printf "%-14s %s (%s skipped)\n" "gpu tests" "${gpu_tests:-none run}" "$skipped"
  grep -o "CPU vs GPU (.*" "$out/gpu_tests.log" | sort -u | grep . || printf "%-14s %s\n" "CPU vs GPU" "not compared"
  printf "%-14s %s\n" "default tests" "${default_tests:-none run}"
  printf "%-14s %s\n" "columns" "variants mapping(*: rule's pick) chunks wall_s kernel_s variants/s steps/var newton/step GB/s %peak GFLOP/s %peak failed"
  awk '/^GPU /{g=1; next} /^$/{if(g) exit} g && $1 ~ /^[0-9]+$/ {print "GPU row        " $0}' "$out/bench.txt" | grep . ||
    printf "%-14s %s\n" "GPU rows" "none (see bench.txt)"
} 2>&1 | tee "$out/gpu_check.txt"
