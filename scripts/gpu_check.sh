#!/usr/bin/env bash
# One command on a GPU machine: configure and build with CUDA, run the `gpu` tests
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
{
  echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || echo "no nvidia-smi"
  echo "$jobs cores, $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"
  echo "== build"
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release > "$out/configure.log" 2>&1
  grep "CUDA backend" "$out/configure.log"
  if cmake --build build-gpu -j"$jobs" > "$out/build.log" 2>&1; then build=ok; else build=FAILED; tail -30 "$out/build.log"; fi
  echo "build $build"
  echo "== gpu tests"
  (cd build-gpu && ctest -L gpu -V) > "$out/gpu_tests.log" 2>&1
  gpu_tests=$(grep -E "tests passed|tests failed" "$out/gpu_tests.log" | tail -1)
  skipped=$(grep -cE "^[[:space:]]+[0-9]+ - .*\(Skipped\)" "$out/gpu_tests.log")
  grep -E "Test +#.*(Passed|Failed|Skipped)" "$out/gpu_tests.log" | head -20
  # A skipped gpu test says why in its own output (no device, no CUDA build).
  [ "$skipped" -gt 0 ] && ./build-gpu/tests/strata_gpu_tests --gtest_filter='CudaBackend.ThrustRanking*' 2>&1 | grep -A1 "Skipped" | tail -1
  echo "== default tests"
  (cd build-gpu && ctest -LE "slow|gpu" -j"$jobs") > "$out/default_tests.log" 2>&1
  default_tests=$(grep -E "tests passed|tests failed" "$out/default_tests.log" | tail -1)
  echo "$default_tests"
  grep -E "^[[:space:]]+[0-9]+ - .*\(Failed\)" "$out/default_tests.log"
  echo "== benchmark"
  ./build-gpu/strata_bench --threads "$jobs" > "$out/bench.txt" 2>&1
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
