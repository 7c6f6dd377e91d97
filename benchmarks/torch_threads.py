"""torch eager latency of dste-small by thread count and OpenMP wait policy (one process per setting).

The wait policy is read once, when torch starts its OpenMP pool, so every
setting runs in its own process. Background: spinning threads (the default)
are fastest on a quiet machine and collapse when another process competes for
the cores; this is why `stream-run` runs the model on one thread by default.

    .venv/bin/python -m benchmarks.torch_threads
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results


RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = [(1, None), (1, "PASSIVE"), (2, None), (2, "PASSIVE")]


def measure(threads: int, batches: list[int], runs: int) -> dict[int, float]:
    """Median ms per call of dste-small at each batch size, in this process."""
    import torch

    from models.dste import create_model

    torch.set_num_threads(threads)
    model = create_model("dste-small", num_classes=11).eval()
    medians = {}
    with torch.inference_mode():
        for batch in batches:
            x = torch.randn(batch, 3, 64, 30, 2)
            for _ in range(20):
                model(x)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - start) * 1e3)
            medians[batch] = statistics.median(times)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", type=Path, default=RESULTS / "torch_threads.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # runs one setting, prints JSON
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, args.batch, args.runs)))
        return 0
    rows = []
    for threads, policy in SETTINGS:
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if policy:
            env["OMP_WAIT_POLICY"] = policy
        command = [sys.executable, "-m", "benchmarks.torch_threads", "--child", str(threads), "--runs", str(args.runs),
                   "--batch", *map(str, args.batch)]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
        rows.append({"threads": threads, "policy": policy or "default", "median_ms": json.loads(out)})
    machine = machine_info()
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs | torch {machine['torch']}")
    print(f"{'threads':>7}  {'OMP_WAIT_POLICY':<16}" + "".join(f"{'batch ' + str(b):>10}" for b in args.batch))
    for row in rows:
        values = "".join(f"{row['median_ms'][str(b)]:>10.2f}" for b in args.batch)
        print(f"{row['threads']:>7}  {row['policy']:<16}{values}")
    write_results(args.json, {"machine": machine, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
