#!/usr/bin/env bash
# Submits a sharded sweep: the job array (scripts/slurm/sweep_array.sbatch), then the
# merge (scripts/slurm/merge_shards.sbatch) as a job that waits for every array task
# to succeed (afterok). Run from the repository root on the login node:
#   scripts/slurm/submit_sweep.sh scenarios/bench_sweep_100k.toml
set -euo pipefail
SCENARIO=${1:?usage: $0 SCENARIO.toml}
mkdir -p results/slurm
# --parsable prints only the job id; --export passes the scenario to every task.
ARRAY_JOB=$(sbatch --parsable --export=ALL,SCENARIO="$SCENARIO" scripts/slurm/sweep_array.sbatch)
# afterok: start only when all array tasks exited 0 (a failed task leaves the merge pending; fix and resubmit that task).
sbatch --dependency=afterok:"$ARRAY_JOB" scripts/slurm/merge_shards.sbatch
echo "array job $ARRAY_JOB queued; the merge waits for it"
