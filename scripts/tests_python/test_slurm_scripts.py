"""The Slurm examples (scripts/slurm/) run as a job array would run them: each task
with its SLURM_* variables, a failed task resubmitted alone, the merge run again,
and submit_sweep.sh against a stand-in sbatch that records what it was asked."""

import os
import stat
import subprocess

import h5py
import pytest

SOURCE = os.environ.get("STRATA_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY = os.environ.get("STRATA_BINARY", os.path.join(SOURCE, "build", "strata"))
SLURM = os.path.join(SOURCE, "scripts", "slurm")

pytestmark = pytest.mark.skipif(not os.path.exists(BINARY), reason=f"no strata binary at {BINARY}")


def _sweep(tmp_path, designs=9):
    with open(os.path.join(SOURCE, "tests", "data", "cli_good.toml")) as f:
        text = f.read()
    text = text.replace('path = "../../materials"', f'path = "{os.path.join(SOURCE, "materials")}"')
    text = text[: text.index("[[batch.variants]]")]
    text += (
        "[batch.sweep]\n"
        f'"layers[0].porosity" = {{ from = 0.30, to = 0.45, count = {designs} }}\n'
        "[output]\nbatch_size = 2\n"
    )
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def _task(tmp_path, scenario, task_id, shards, array_count):
    env = dict(os.environ, SCENARIO=str(scenario), SHARDS=str(shards), SLURM_ARRAY_TASK_ID=str(task_id),
               SLURM_ARRAY_TASK_COUNT=str(array_count), SLURM_CPUS_PER_TASK="1", STRATA=BINARY,
               OUT_DIR=str(tmp_path / "shards"))
    return subprocess.run(["bash", os.path.join(SLURM, "sweep_array.sbatch")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def _merge(tmp_path, shards):
    env = dict(os.environ, SHARDS=str(shards), STRATA=BINARY, OUT_DIR=str(tmp_path / "shards"),
               MERGED=str(tmp_path / "merged.h5"))
    return subprocess.run(["bash", os.path.join(SLURM, "merge_shards.sbatch")], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_a_failed_task_resubmitted_alone_completes_the_sweep(tmp_path):
    scenario = _sweep(tmp_path)
    for task in (0, 2):  # task 1 "failed"
        r = _task(tmp_path, scenario, task, shards=3, array_count=3)
        assert r.returncode == 0, r.stderr
    r = _merge(tmp_path, 3)
    assert r.returncode == 2 and "missing shard(s) 1/3" in r.stderr, r.stderr
    # Resubmitted as `sbatch --array=1`: an array of one task, still shard 1 of 3.
    r = _task(tmp_path, scenario, 1, shards=3, array_count=1)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "shards")) == ["shard_0of3.h5", "shard_1of3.h5", "shard_2of3.h5"]
    for attempt in range(2):  # the merge queued again finds the first merge's file and replaces it
        r = _merge(tmp_path, 3)
        assert r.returncode == 0, r.stderr
        with h5py.File(tmp_path / "merged.h5", "r") as f:
            assert sorted(f["population/design_id"][:].tolist()) == list(range(9))
    # A task index beyond the shard count is refused before anything runs.
    r = _task(tmp_path, scenario, 3, shards=3, array_count=4)
    assert r.returncode == 2 and "SHARDS=3" in r.stderr, r.stderr
    assert not (tmp_path / "shards" / "shard_3of3.h5").exists()


def test_submit_sweep_passes_the_shard_count_to_both_jobs(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "sbatch.log"
    sbatch = fake / "sbatch"
    # Stand-in for sbatch: records its arguments and the exported SHARDS, prints a job id.
    sbatch.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\necho $((1000 + $(wc -l < {log})))\n')
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    r = subprocess.run(["bash", os.path.join(SLURM, "submit_sweep.sh"), "scenarios/x.toml", "5"], cwd=tmp_path,
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    array_call, merge_call = log.read_text().splitlines()
    assert "--array=0-4" in array_call and "SHARDS=5" in array_call and "SCENARIO=scenarios/x.toml" in array_call
    assert "--dependency=afterok:1001" in merge_call and "SHARDS=5" in merge_call
    assert "scancel 1002" in r.stdout and "--array=I" in r.stdout
