"""Kill `strata simulate` at random moments while a reader polls its results file.

Every file a kill leaves must open with whole batches, and `--resume` must complete
it, leaving no .part, .prev or .lock; the reader's opens while the run goes on should
not be refused (docs/hdf5-schema.md). Prints one line of counts; exit status 1 when a
file was bad.

    /usr/bin/python3 scripts/kill_while_reading.py build/strata [KILLS] [SEED]
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import h5py

BATCH, DESIGNS = 10, 400


def sweep_scenario(source, directory, batch=BATCH, thicknesses=20):
    """tests/data/cli_good.toml as a sweep of 20 porosities x `thicknesses`, in
    batches of `batch` (also the Python test test_reading_while_a_run_writes)."""
    with open(os.path.join(source, "tests", "data", "cli_good.toml")) as f:
        text = f.read().replace('path = "../../materials"', f'path = "{source}/materials"')
    text = text[:text.index("[[batch.variants]]")] + (
        '[batch.sweep]\n"layers[0].porosity" = { from = 0.30, to = 0.45, count = 20 }\n'
        f'"layers[0].thickness_m" = {{ from = 20e-6, to = 60e-6, count = {thicknesses} }}\n'
        f'[output]\nbatch_size = {batch}\n')
    path = os.path.join(directory, "sweep.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def rows_of(path):
    with h5py.File(path, "r") as f:
        n = len(f["population/design_id"])
        assert all(len(f["population/" + d]) == n for d in ("label", "status", "batch")), "uneven rows"
        assert n % BATCH == 0, f"{n} rows: not whole batches"
        return n, f["meta"].attrs["status"]


def main():
    binary = sys.argv[1]
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = opened = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        scenario = sweep_scenario(source, tmp)
        for k in range(kills):
            out = os.path.join(tmp, f"k{k}.h5")
            run = subprocess.Popen([binary, "simulate", scenario, "--out", out, "--quiet", "--threads", "1"])
            kill_at = time.time() + random.uniform(0.05, 1.2)
            while time.time() < kill_at and run.poll() is None:
                if os.path.exists(out):
                    try:
                        rows_of(out)
                        opened += 1
                    except OSError:
                        refused += 1
                time.sleep(0.003)
            run.send_signal(signal.SIGKILL)
            run.wait()
            if not os.path.exists(out):
                continue
            try:
                rows_of(out)
            except Exception as e:  # noqa: BLE001 - any failure to read is the finding
                bad += 1
                print(f"kill {k}: the file does not read: {e}")
                continue
            rc = subprocess.run([binary, "simulate", scenario, "--resume", out, "--quiet", "--threads", "1"]).returncode
            n, status = rows_of(out)
            if rc != 0 or n != DESIGNS or status not in ("complete", b"complete"):
                bad += 1
                print(f"kill {k}: resume exited {rc} with {n} rows, status {status}")
            left = [s for s in (".part", ".prev", ".lock") if os.path.exists(out + s)]
            if left:
                bad += 1
                print(f"kill {k}: left {left}")
            os.remove(out)
    print(f"kills {kills}, bad files {bad}, reader opens {opened}, refused {refused}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
