#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh needs on a lent GPU machine that cannot install
# packages (docs/performance.md, "Running on a lent GPU machine"): the CUDA-built
# strata_gpu_tests and strata_bench from build/ (./scripts/build.sh builds them
# when nvcc is present; sm_80 and sm_90), and every shared library they load except
# the C library's own, into .gpu_bundle/ (ignored by git; name it in the device
# call's carry). On the GPU machine gpu_check.sh uses the bundle's libraries only for
# those the machine lacks. Prints the bundle's size (a device call carries 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
bins=(build/tests/strata_gpu_tests build/strata_bench)
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "error: $b missing; run ./scripts/build.sh first" >&2; exit 2; }
done
[ -f build/libstrata_cuda.a ] ||
  { echo "error: build/ has no CUDA backend (nvcc was not found at configure time)" >&2; exit 2; }
rm -rf .gpu_bundle
mkdir -p .gpu_bundle/bin .gpu_bundle/lib
cp "${bins[@]}" .gpu_bundle/bin/
strip .gpu_bundle/bin/*
# Libraries: everything ldd resolves, minus glibc's own (the machine's must be used).
ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" .gpu_bundle/lib/; done
git rev-parse --short HEAD > .gpu_bundle/commit 2>/dev/null || true
echo "bundle .gpu_bundle/ (commit $(cat .gpu_bundle/commit 2>/dev/null)): $(du -sh .gpu_bundle | cut -f1)," \
     "$(ls .gpu_bundle/lib | wc -l) libraries"
