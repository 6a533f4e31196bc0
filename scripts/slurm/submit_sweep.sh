#!/usr/bin/env bash
# Submits a sharded sweep: the job array (scripts/slurm/sweep_array.sbatch), then the
# merge (scripts/slurm/merge_shards.sbatch) as a job that waits for every array task
# to succeed (afterok). Run from the repository root on the login node:
#   scripts/slurm/submit_sweep.sh scenarios/bench_sweep_100k.toml [SHARDS]
# SHARDS (default 16) is the number of array tasks and of shard files.
set -euo pipefail
SCENARIO=${1:?usage: $0 SCENARIO.toml [SHARDS]}
SHARDS=${2:-16}
mkdir -p results/slurm
# --parsable prints only the job id; --export passes the scenario and the shard count
# to every task; --array on the command line overrides the script's #SBATCH line.
ARRAY_JOB=$(sbatch --parsable --array=0-$((SHARDS - 1)) --export=ALL,SCENARIO="$SCENARIO",SHARDS="$SHARDS" \
  scripts/slurm/sweep_array.sbatch)
# afterok: start only when all array tasks exited 0.
MERGE_JOB=$(sbatch --parsable --dependency=afterok:"$ARRAY_JOB" --export=ALL,SHARDS="$SHARDS" \
  scripts/slurm/merge_shards.sbatch)
echo "array job $ARRAY_JOB ($SHARDS tasks) queued; merge job $MERGE_JOB waits for it"
cat <<EOT
If a task fails, its merge can never start (squeue: DependencyNeverSatisfied). Fix the
cause, then resubmit that task (it resumes its shard file) and queue the merge again:
  scancel $MERGE_JOB
  J=\$(sbatch --parsable --array=I --export=ALL,SCENARIO=$SCENARIO,SHARDS=$SHARDS scripts/slurm/sweep_array.sbatch)
  sbatch --dependency=afterok:\$J --export=ALL,SHARDS=$SHARDS scripts/slurm/merge_shards.sbatch
EOT
