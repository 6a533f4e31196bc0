#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh needs on a lent GPU machine that cannot install
# packages (docs/performance.md, "Running on a lent GPU machine"): the CUDA-built
# strata_gpu_tests, strata_bench and strata (for the campaign stage) from build/ (./scripts/build.sh builds them
# when nvcc is present; sm_80 and sm_90), and every shared library they load except
# the C library's own, into .gpu_bundle/strata_bundle.tar.xz (the folder is ignored by
# git; name it in the device call's carry). Compressed because a device call carries
# 64 MiB in all and the unpacked bundle is about 91 MB (three binaries of about 21 MB,
# each with the protocol kernels for three register caps and two architectures);
# packed, about 22 MB. On the GPU machine gpu_check.sh unpacks it and uses the bundle's libraries only
# for those the machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
bins=(build/tests/strata_gpu_tests build/strata_bench build/strata)
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "error: $b missing; run ./scripts/build.sh first" >&2; exit 2; }
done
# The CUDA objects (an object library folded into libstrata_host.a) exist only when
# nvcc was found at configure time.
compgen -G "build/CMakeFiles/strata_cuda.dir/kernels/cuda/*.cu.o" > /dev/null ||
  { echo "error: build/ has no CUDA backend (nvcc was not found at configure time)" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp "${bins[@]}" "$stage/bin/"
strip "$stage"/bin/*
# Libraries: everything ldd resolves, minus glibc's own (the machine's must be used).
ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
(git describe --always --dirty 2>/dev/null || echo unknown) > "$stage/commit"
rm -rf .gpu_bundle
mkdir -p .gpu_bundle
tar -C "$stage" -cf - bin lib commit | xz -T0 -6 > .gpu_bundle/strata_bundle.tar.xz
cp "$stage/commit" .gpu_bundle/commit
echo "bundle .gpu_bundle/strata_bundle.tar.xz (commit $(cat .gpu_bundle/commit)):" \
     "$(du -sh .gpu_bundle/strata_bundle.tar.xz | cut -f1) packed, $(du -sh "$stage" | cut -f1) unpacked," \
     "$(ls "$stage/lib" | wc -l) libraries"
