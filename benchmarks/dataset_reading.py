"""Time to read whole datasets through the registry, and how much of it is xz decompression.

Each dataset is read ``--runs`` times with `models.datasets.registry.load_dataset`
(the best run is reported: the least disturbed by other processes); the
decompression alone (every ``.xz`` file under the dataset folder through
`models.datasets.text.read_bytes`) is timed the same way.

    .venv/bin/python -m benchmarks.dataset_reading --data ../shared/data
    .venv/bin/python -m benchmarks.dataset_reading --datasets msrc12 --runs 1
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results


RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_seconds(work, runs: int):
    """(least wall-clock seconds over ``runs`` calls of ``work()``, the last result)."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(name: str, data: Path, runs: int) -> dict:
    """Read dataset ``name`` under ``data``: files, frames, seconds to read, seconds to decompress."""
    from models.datasets.registry import load_dataset, resolve_root
    from models.datasets.text import read_bytes

    root = resolve_root(name, data)
    packed = sorted(root.rglob("*.xz"))
    read_s, sequences = best_seconds(lambda: load_dataset(name, data), runs)
    unpack_s, _ = best_seconds(lambda: [read_bytes(path) for path in packed], runs) if packed else (0.0, None)
    frames = sum(sequence.num_frames for sequence in sequences)
    return {"dataset": name, "sequences": len(sequences), "frames": frames, "xz_files": len(packed),
            "read_s": read_s, "xz_s": unpack_s, "frames_per_s": frames / read_s}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (default: %(default)s)")
    parser.add_argument("--datasets", nargs="+", default=["msrc12", "kinder-gator"], help="registry names")
    parser.add_argument("--runs", type=int, default=3, help="reads per dataset; the fastest counts")
    parser.add_argument("--json", type=Path, default=RESULTS / "dataset_reading.json")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the readers report every quirk; not the point here
    load_before = os.getloadavg()
    rows = [measure(name, args.data, args.runs) for name in args.datasets]
    machine = machine_info()
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs | load {load_before[0]:.1f} | best of {args.runs}")
    print(f"{'dataset':<14}{'sequences':>10}{'frames':>10}{'read s':>9}{'xz s':>8}{'frames/s':>11}")
    for row in rows:
        print(f"{row['dataset']:<14}{row['sequences']:>10}{row['frames']:>10}{row['read_s']:>9.2f}{row['xz_s']:>8.2f}"
              f"{row['frames_per_s']:>11.0f}")  # fmt: skip
    report = {"machine": machine, "runs": args.runs, "rows": rows,
              "load_average": {"before": load_before, "after": os.getloadavg()}}  # fmt: skip
    write_results(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
