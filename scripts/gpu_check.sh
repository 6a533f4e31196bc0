#!/usr/bin/env bash
# One command on a GPU machine: configure and build with CUDA (or use the bundle that
# scripts/gpu_bundle.sh made, see below), run the `gpu` tests
# (CPU vs GPU on 1,000 mixed designs in both mappings, chunked vs unchunked, failure isolation,
# CUB/Thrust, warp PCR vs thread Thomas) and the default tests, run the benchmark
# (CPU, GPU at 1k/10k/100k variants in both mappings, the linear-solve mappings), one
# design campaign with its batches on the GPU, split by size, and on the CPU (with the
# warp mapping's time for small batches), a sweep of
# the integrator's pass units, launch shapes (block size x register cap x batch size),
# Nsight Compute profiles of one
# launch per mapping where ncu is present, and print a short table last. Every stage has a time limit
# (STRATA_GPU_CHECK_LIMIT_S, default 150 s each) and writes line by line, so a short lease
# still returns what finished. Everything is also written to $OUT (default
# /tmp/strata_gpu_check). Figures go to docs/performance.md ("GPU backend").
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/strata_gpu_check}
mkdir -p "$out"
jobs=$(nproc)
limit=${STRATA_GPU_CHECK_LIMIT_S:-150}
# A stage: at most $limit seconds, its output line-buffered (a killed stage keeps its lines).
stage() { timeout -k 5 "$limit" stdbuf -oL -eL "$@"; }
# Stages to run (STRATA_GPU_CHECK_STAGES, default all): tests bench campaign sweep profile.
stages=" ${STRATA_GPU_CHECK_STAGES:-tests bench campaign sweep profile} "
want() { [[ "$stages" == *" $1 "* ]]; }
# Bundle mode (no build here): a lent GPU machine cannot install HDF5, NLopt and the
# rest, so scripts/gpu_bundle.sh packs the CUDA build made elsewhere into .gpu_bundle/ (a tar.xz;
# (carry it). STRATA_GPU_CHECK_BUILD=1 builds here instead (needs the dependencies).
bundle=/tmp/strata_bundle
if [ -f .gpu_bundle/strata_bundle.tar.xz ] && [ "${STRATA_GPU_CHECK_BUILD:-0}" != 1 ]; then
  mode=bundle
  rm -rf "$bundle"; mkdir -p "$bundle"
  tar -C "$bundle" -xJf .gpu_bundle/strata_bundle.tar.xz || { echo "bundle does not unpack"; exit 2; }
else
  mode=build
fi
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
      missing=$(LD_LIBRARY_PATH=$libdir ldd "$bundle"/bin/* 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
      [ -z "$missing" ] && break
      for m in $missing; do [ -e "$bundle/lib/$m" ] && ln -sf "$bundle/lib/$m" "$libdir/"; done
    done
    export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export STRATA_MATERIALS_DIR=$PWD/materials
    echo "bundle of commit $(cat "$bundle/commit" 2>/dev/null), $(ls "$libdir" | wc -l) of its libraries used: $(ls "$libdir" | tr '\n' ' ')"
    if [ -z "$missing" ]; then build=ok; else build="FAILED (not found: $missing)"; fi
    bindir=$bundle/bin; testbin=$bundle/bin/strata_gpu_tests
  else
    cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release > "$out/configure.log" 2>&1
    grep "CUDA backend" "$out/configure.log"
    if cmake --build build-gpu -j"$jobs" > "$out/build.log" 2>&1; then build=ok; else build=FAILED; tail -30 "$out/build.log"; fi
    bindir=build-gpu; testbin=build-gpu/tests/strata_gpu_tests
  fi
  echo "build $build"
  echo "== gpu tests"
  skipped=0
  if ! want tests; then
    gpu_tests="not run (STRATA_GPU_CHECK_STAGES)"; : > "$out/gpu_tests.log"
  elif [ "$mode" = bundle ]; then
    stage "$testbin" > "$out/gpu_tests.log" 2>&1
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
  if [ "$mode" = bundle ] || ! want tests; then
    default_tests="not run (bundle mode or STRATA_GPU_CHECK_STAGES: CI runs them)"
  else
    (cd build-gpu && ctest -LE "slow|gpu" -j"$jobs") > "$out/default_tests.log" 2>&1
    default_tests=$(grep -E "tests passed|tests failed" "$out/default_tests.log" | tail -1)
    grep -E "^[[:space:]]+[0-9]+ - .*\(Failed\)" "$out/default_tests.log"
  fi
  echo "$default_tests"
  bench=("$bindir/strata_bench" --scenario scenarios/bench_bilayer_3C.toml)
  if want bench; then
    echo "== benchmark (defaults: one warp per block, register cap by the rule)"
    stage "${bench[@]}" --threads "$jobs" > "$out/bench.txt" 2>&1
    cat "$out/bench.txt"
  fi
  if want campaign && ! [ -x "$bindir/strata" ]; then
    echo "== campaign: skipped ($bindir/strata missing: a bundle from before 2026-12-08)"
  elif want campaign; then
    # A design campaign's optimiser batches hold a few designs: host/gpu_plan.hpp predicts
    # them faster on the CPU (gpu_min_batch). Wall time of one campaign with every batch
    # on the GPU (STRATA_CUDA_MIN_BATCH=0), its first population (32) on the GPU and the
    # optimiser batches on the CPU (32), with the rule (auto), and on the CPU alone; then
    # the warp mapping's wall time for batches of 32 to 1,056 (the rule's fixed cost).
    echo "== campaign: brown2026_optimise_3c at a quarter budget, wall seconds"
    camp=(optimize scenarios/brown2026_optimise_3c.toml --scale 0.25 --threads "$jobs" --overwrite)
    for run in "cuda 0" "cuda 32" "cuda auto" "cpu auto"; do
      set -- $run
      start=$(date +%s.%N)
      STRATA_CUDA_MIN_BATCH=$2 stage "$bindir/strata" "${camp[@]}" --device "$1" --out "$out/campaign_$1_$2.h5" \
        > "$out/campaign_$1_$2.txt" 2>&1
      rc=$?
      printf "campaign %-5s min_batch=%-5s rc=%s %s s  %s\n" "$1" "$2" "$rc" \
        "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" \
        "$(grep -E '^[0-9]+ evaluations' "$out/campaign_$1_$2.txt" | cut -c1-60)"
      grep -E "^time:|^CUDA:" "$out/campaign_$1_$2.txt" | cut -c1-200
    done | tee "$out/campaign.txt"
    stage "${bench[@]}" --device cuda --no-solve-bench --gpu-mappings warp --gpu-variants 32 128 384 1056 \
      > "$out/campaign_small_batches.txt" 2>&1
    sed -n '/^GPU /,$p' "$out/campaign_small_batches.txt" | tail -n +3
    # A sweep's writes run behind the next batch (host/background_writer.hpp): on a GPU
    # the cores are free, so all but the last batch's should be hidden (docs/performance.md,
    # "Writes behind the next batch").
    echo "== sweep writes: bench_sweep_100k (98 batches of 1,024) on the GPU"
    stage "$bindir/strata" simulate scenarios/bench_sweep_100k.toml --device cuda --threads "$jobs" \
      --overwrite --out "$out/sweep100k.h5" > "$out/sweep_writes.txt" 2>&1
    grep -E "variants in|^CUDA:" "$out/sweep_writes.txt" | cut -c1-300
    # MPI mode with a GPU per rank (docs/cluster.md), where this machine has mpirun: two
    # ranks sharing the GPU(s) on the benchmark's 1,000 designs.
    if command -v mpirun > /dev/null; then
      echo "== MPI: 2 ranks, --device cuda"
      OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 stage mpirun --oversubscribe -n 2 "$bindir/strata" \
        simulate scenarios/bench_bilayer_3C.toml --device cuda --threads "$((jobs / 2))" --overwrite \
        --out "$out/mpi_cuda.h5" > "$out/mpi_cuda.txt" 2>&1
      echo "rc=$?"; grep -E "^device|variants in|^MPI:|^CUDA:|error" "$out/mpi_cuda.txt" | cut -c1-300
    else
      echo "== MPI: skipped (no mpirun on this machine)"
    fi
  fi
  if want sweep; then
    # The integrator's pass unit with a thread per variant (whole attempt or one Newton
    # iteration per pass; docs/performance.md, divergence): on the 3C charge and on the
    # six-step protocol of the design checks, where the model predicts different gains.
    echo "== sweep: pass unit (thread per variant)"
    stage "${bench[@]}" --device cuda --no-solve-bench --gpu-mappings thread --gpu-variants 4224 33792 135168 \
      --gpu-passes attempt iteration > "$out/sweep_pass.txt" 2>&1
    sed -n '/^GPU /,$p' "$out/sweep_pass.txt"
    # (--device all: the CPU section prints the warp model of this protocol too)
    stage "$bindir/strata_bench" --scenario scenarios/brown2026_design_checks.toml --variants 320 --threads "$jobs" \
      --device all --no-solve-bench --gpu-mappings thread --gpu-variants 4224 33792 --gpu-passes attempt iteration \
      > "$out/sweep_pass_six_steps.txt" 2>&1
    grep -E "nested loops|attempt per pass|iteration per pass" "$out/sweep_pass_six_steps.txt"
    sed -n '/^GPU /,$p' "$out/sweep_pass_six_steps.txt" | tail -n +3
    # Launch shapes: threads per block (32 spreads a batch over every SM) and the register
    # caps (128 and 64 registers: two and four times the resident threads, more spills),
    # at batch sizes of one warp per SM (4,224), and of the resident threads at 255 and 64
    # registers (33,792 and 135,168 on 132 SMs); the warp mapping where it is picked.
    echo "== sweep: block size x register cap"
    stage "${bench[@]}" --device cuda --no-solve-bench --gpu-mappings thread --gpu-variants 4224 33792 135168 \
      --gpu-registers 255 128 64 --gpu-block-sizes 32 128 > "$out/sweep_thread.txt" 2>&1
    sed -n '/^GPU /,$p' "$out/sweep_thread.txt"
    stage "${bench[@]}" --device cuda --no-solve-bench --gpu-mappings warp --gpu-variants 1056 4224 16896 \
      --gpu-registers 255 128 --gpu-block-sizes 32 128 > "$out/sweep_warp.txt" 2>&1
    sed -n '/^GPU /,$p' "$out/sweep_warp.txt" | tail -n +3
  fi
  if want profile; then
    ncu_bin=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
    for k in "thread 4224 run_protocol_interleaved" "warp 1056 run_protocol_warps"; do
      set -- $k
      echo "== profile: ncu, one $1-mapping launch of $2 variants (defaults)"
      [ -n "$ncu_bin" ] || { echo "ncu not found"; break; }
      stage "$ncu_bin" --clock-control none --kernel-name "regex:$3" --launch-count 1 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
        --section SchedulerStats --section WarpStateStats \
        "${bench[@]}" --device cuda --no-solve-bench --gpu-variants "$2" --gpu-mappings "$1" > "$out/ncu_$1.txt" 2>&1
      grep -E "DRAM Throughput|L1/TEX Hit|L2 Hit|Achieved Occupancy|Theoretical Occupancy|Registers Per|Spilling Requests |Duration|Compute \(SM\)|Grid Size|Issued Warp Per|No Eligible|Warp Cycles Per Issued" "$out/ncu_$1.txt" | head -20
      # The executed instruction mix by opcode (the static SASS mix is in
      # docs/performance.md, "What limits it"): a separate run, so that a metric or an
      # option this ncu lacks costs only these lines.
      echo "== profile: executed instructions by opcode, the same $1-mapping launch"
      mix=(--clock-control none --kernel-name "regex:$3" --launch-count 1
           --metrics smsp__inst_executed.sum,smsp__thread_inst_executed.sum,sass__inst_executed_per_opcode)
      stage "$ncu_bin" "${mix[@]}" --print-metric-instances values \
        "${bench[@]}" --device cuda --no-solve-bench --gpu-variants "$2" --gpu-mappings "$1" > "$out/ncu_mix_$1.txt" 2>&1
      if grep -q "ERROR" "$out/ncu_mix_$1.txt"; then  # an ncu without --print-metric-instances
        stage "$ncu_bin" "${mix[@]}" \
          "${bench[@]}" --device cuda --no-solve-bench --gpu-variants "$2" --gpu-mappings "$1" > "$out/ncu_mix_$1.txt" 2>&1
      fi
      grep -E "inst_executed|ERROR" "$out/ncu_mix_$1.txt" | cut -c1-2000 | head -8
    done
  fi
  echo
  echo "== summary"
  printf "%-14s %s\n" "device" "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | grep . || echo none)"
  printf "%-14s %s\n" "build" "$build"
  printf "%-14s %s (%s skipped)\n" "gpu tests" "${gpu_tests:-none run}" "$skipped"
  grep -o "CPU vs GPU (.*" "$out/gpu_tests.log" | sort -u | grep . || printf "%-14s %s\n" "CPU vs GPU" "not compared"
  printf "%-14s %s\n" "default tests" "${default_tests:-none run}"
  [ -f "$out/campaign.txt" ] && grep "^campaign" "$out/campaign.txt"
  [ -f "$out/sweep_writes.txt" ] && printf "%-14s %s\n" "sweep writes" \
    "$(grep -o "[0-9]* variants in .*" "$out/sweep_writes.txt" | sed 's/ on [0-9]* CPU threads.*HDF5 writing/, HDF5 writing/' | cut -c1-160)"
  [ -f "$out/mpi_cuda.txt" ] && printf "%-14s %s\n" "MPI + CUDA" \
    "$(grep -E "^MPI:|error" "$out/mpi_cuda.txt" | head -1 | cut -c1-160)"
  printf "%-14s %s\n" "columns" "variants mapping(*: rule's pick) pass regs block chunks wall_s kernel_s variants/s steps/var newton/step GB/s %peak GFLOP/s %peak failed"
  for f in "$out/bench.txt" "$out/sweep_pass.txt" "$out/sweep_pass_six_steps.txt" "$out/sweep_thread.txt" "$out/sweep_warp.txt"; do
    [ -f "$f" ] || continue
    awk '/^GPU /{g=1; next} /^$/{if(g) exit} g && $1 ~ /^[0-9]+$/ {print "GPU row        " $0}' "$f" | grep . ||
      printf "%-14s %s\n" "GPU rows" "none (see $(basename "$f"))"
  done
} 2>&1 | tee "$out/gpu_check.txt"
