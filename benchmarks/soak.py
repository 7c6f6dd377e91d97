"""Soak and load: `stream-run` for minutes with 1, 4 and 8 tracked people, watched from outside.

Each scenario runs the real command on the synthetic source at 30 fps (real time,
or ``--fast``), recording its skeletons and labels (``--record``), while

- a second process, `stream-listen`, receives every ``actions`` and ``status``
  message over ZeroMQ (loopback) and writes them down;
- this process samples the run's resident memory (``VmRSS``) and open file
  descriptors from ``/proc/<pid>`` every ``--sample-s`` seconds;
- the run publishes its queue depths (capture queue, decoder, recorder) in
  each ``status`` message, every ``--status-s`` seconds.

Then it checks, and reports: every final label of every frame of every track
arrived exactly once and in order (nothing duplicated; the labels received are
the ones the run counted and the ones its recording holds; no track skips a
frame), memory grows no faster than ``--max-rss-mb-per-min`` after warm-up (a
least-squares slope), the descriptor count stays flat, the queues stay within
their bounds, and nothing was dropped. Latency percentiles of the labels over
time go to a PNG beside the JSON (machine info from `benchmarks.machine`).

    .venv/bin/python -m benchmarks.soak                          # 1, 4, 8 people, 3 minutes each, real time
    .venv/bin/python -m benchmarks.soak --people 8 --minutes 30  # one long run
    .venv/bin/python -m benchmarks.soak --people 8 --minutes 0.5 --fast --checkpoint CKPT   # what CI runs, shorter

`soak()` is the whole scenario as a function; `tests/stream/test_soak.py` runs a short one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.pretrained import DEFAULT_CHECKPOINT


RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
QUEUE_SIZE = 4  # stream-run's default capture queue
RECORDER_MAX_PENDING = 512  # stream.publishers.recorder.LabelledRecorder's default
WARM_UP = 0.2  # the first fifth of the labelled part of a run is warm-up for the memory slope


def proc_sample(pid: int) -> tuple[float, int] | None:
    """(resident MB, open descriptors) of a running process, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    rss_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return None if rss_kb is None else (rss_kb / 1024, fds)  # no VmRSS: exited, not yet reaped


def free_endpoint() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def soak(people: int, seconds: float, *, fast: bool = False, checkpoint: str = str(DEFAULT_CHECKPOINT),
         backend: str = "auto", sample_s: float = 0.5, status_s: float = 1.0, workdir: Path | None = None,
         max_rss_mb_per_min: float = 1.0) -> dict:  # fmt: skip
    """Run one scenario and check it; the result dict holds the samples, the figures and ``checks``."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        endpoint = free_endpoint()
        config = work / "run.yaml"
        config.write_text(f"status_interval_s: {status_s}\n")  # queue depths as often as asked
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(work / "messages.jsonl", "w") as received:
            listener = subprocess.Popen([sys.executable, "-m", "stream.cli.listen", "--zmq", endpoint, "--topics",
                                         "actions,status", "--json-out", "--timeout", "10"], stdout=received,
                                        stderr=subprocess.DEVNULL, env=env, cwd=REPO)  # fmt: skip
        command = [sys.executable, "-m", "stream.cli.run", "--config", str(config), "--source", "synthetic",
                   "--people", str(people), "--seconds", str(seconds), "--checkpoint", checkpoint, "--backend",
                   backend, "--zmq", endpoint, "--wait-subscribers", "2", "--record", str(work / "run.skrec"),
                   "--stats-json", str(work / "stats.json"), "--overwrite", *(["--fast"] if fast else [])]  # fmt: skip
        with open(work / "stderr.txt", "w") as err, open(work / "stdout.txt", "w") as out:
            run = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=REPO)
            samples = []  # (monotonic ns: the clock of the run's stamps on this machine, RSS MB, descriptors)
            while run.poll() is None:
                sample = proc_sample(run.pid)
                if sample is not None:
                    samples.append((time.monotonic_ns(), *sample))
                time.sleep(sample_s)
        listener.wait(timeout=60)
        stderr = (work / "stderr.txt").read_text()
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {run.returncode}:\n{stderr[-3000:]}")
        stats = json.loads((work / "stats.json").read_text())
        messages = [json.loads(line) for line in (work / "messages.jsonl").read_text().splitlines()]
        recorded = _recorded_labels(work / "run.skrec")
    return _evaluate(people, seconds, fast, stats, messages, recorded, samples, max_rss_mb_per_min)


def _recorded_labels(path: Path) -> set[tuple[int, int, str]]:
    from stream.recordings.skrec import read_recording

    _, reader = read_recording(path)
    with reader:
        return {(p.id, r.index, p.label) for r in reader for p in r.people if p.label}


def _slope_per_min(times: np.ndarray, values: np.ndarray) -> float:
    if len(times) < 3 or np.ptp(times) == 0:
        return 0.0
    return float(np.polyfit(times / 60.0, values, 1)[0])


def _evaluate(people, seconds, fast, stats, messages, recorded, samples, max_rss_mb_per_min) -> dict:
    actions = [m for m in messages if m["topic"] == "actions"]
    status = [m for m in messages if m["topic"] == "status"]
    frames = defaultdict(list)
    for m in actions:
        frames[m["track"]].append(m["frame"])
    keys = [(m["track"], m["frame"]) for m in actions]
    received = {(m["track"], m["frame"], m["label"]) for m in actions}
    gaps = [b - a for f in frames.values() for a, b in zip(f, f[1:])]

    # The labelled part of the run: first to last capture stamp of a label (same monotonic clock as the samples).
    t0 = min(m["stamp_ns"] for m in actions) if actions else 0
    t1 = max(m["stamp_ns"] for m in actions) if actions else 0
    run_samples = np.array(samples, dtype=np.float64).reshape(-1, 3)
    run_samples[:, 0] = (run_samples[:, 0] - t0) / 1e9  # seconds since the first labelled frame
    running = run_samples[(run_samples[:, 0] >= 0) & (run_samples[:, 0] <= (t1 - t0) / 1e9)]
    steady = running[running[:, 0] >= WARM_UP * (t1 - t0) / 1e9]
    rss_slope = _slope_per_min(steady[:, 0], steady[:, 1]) if len(steady) else 0.0
    rss_growth = float(steady[-1, 1] - steady[0, 1]) if len(steady) else 0.0
    queues = defaultdict(int)
    for m in status:
        for name, depth in m.get("queues", {}).items():
            queues[name] = max(queues[name], depth)
    ran = stats.get("stride", {})  # the automatic stride may have changed: bound by the largest it ran at
    window = max([int(ran.get("stride", 8)), *(c["old"] for c in ran.get("changes", []))])
    bounds = {"capture": QUEUE_SIZE, "decoder": people * (64 + window), "recorder": RECORDER_MAX_PENDING}
    final = status[-1]["drops"] if status else {}
    checks = {
        "exactly once": len(keys) == len(set(keys)),
        "in order": all(f == sorted(f) for f in frames.values()),
        "none lost (run count)": len(actions) == stats["labels"],
        "none lost (recording)": received == recorded,
        "no skipped frame": all(0 < g <= 3 for g in gaps),  # 30 fps source, 15 fps model: every 2nd frame
        "every person labelled": len(frames) >= people,
        "memory flat": len(steady) > 2 and rss_slope <= max_rss_mb_per_min,
        "descriptors flat": len(steady) > 0 and int(np.ptp(steady[:, 2])) == 0,
        "queues bounded": all(queues.get(k, 0) <= v for k, v in bounds.items()),
        "nothing dropped": stats["source"]["dropped"] == 0 and stats["publisher"]["dropped"] == 0
        and final.get("model", 0) == 0 and final.get("people", 0) == 0,
    }  # fmt: skip
    buckets = _latency_buckets(actions, t0)
    return {
        "people": people, "seconds": seconds, "fast": fast, "frames": stats["frames"], "labels": len(actions),
        "events": stats["events"], "tracks": len(frames), "status_messages": len(status),
        "rss_mb": {"first": float(steady[0, 1]) if len(steady) else None,
                   "last": float(steady[-1, 1]) if len(steady) else None,
                   "max": float(run_samples[:, 1].max()) if len(run_samples) else None,
                   "growth_mb": rss_growth, "slope_mb_per_min": rss_slope},
        "fds": {"min": int(steady[:, 2].min()) if len(steady) else None,
                "max": int(steady[:, 2].max()) if len(steady) else None},
        "queues_max": dict(queues), "queue_bounds": bounds, "drops": {**final, "capture": stats["source"]["dropped"]},
        "latency_ms": stats["latency_ms"].get("label", {}), "end_to_end_ms": stats["latency_ms"].get("end_to_end", {}),
        "latency_over_time": buckets, "samples": run_samples.tolist(),
        "queue_samples": [[(m["stamp_ns"] - t0) / 1e9, m.get("queues", {})] for m in status],
        "checks": checks, "passed": all(checks.values()),
    }  # fmt: skip


def _latency_buckets(actions: list[dict], t0: int) -> list[dict]:
    """Label latency p50/p95/p99 per tenth of the run (at least 1 s), by capture time."""
    if not actions:
        return []
    times = np.array([(m["stamp_ns"] - t0) / 1e9 for m in actions])
    latency = np.array([m["latency_ms"] for m in actions])
    width = max(1.0, float(times.max() - times.min()) / 10)
    out = []
    for start in np.arange(times.min(), times.max() + 1e-9, width):
        inside = latency[(times >= start) & (times < start + width)]
        if len(inside):
            p50, p95, p99 = np.percentile(inside, [50, 95, 99])
            out.append({"t_s": float(start + width / 2), "p50": float(p50), "p95": float(p95), "p99": float(p99),
                        "count": int(len(inside))})  # fmt: skip
    return out


def table(results: list[dict]) -> str:
    head = (f"{'people':>6}{'minutes':>8}{'frames':>8}{'labels':>8}{'RSS MB':>8}{'MB/min':>8}{'fds':>7}"
            f"{'queues max (cap/dec/rec)':>26}{'label p50/p95/p99 ms':>24}  checks")  # fmt: skip
    rows = [head, "-" * len(head)]
    for r in results:
        q, lat = r["queues_max"], r["latency_ms"]
        queues = f"{q.get('capture', 0)}/{q.get('decoder', 0)}/{q.get('recorder', 0)}"
        pct = f"{lat.get('p50', 0):.0f}/{lat.get('p95', 0):.0f}/{lat.get('p99', 0):.0f}" if lat else "-"
        fds = f"{r['fds']['min']}-{r['fds']['max']}"
        failed = [name for name, ok in r["checks"].items() if not ok]
        rows.append(f"{r['people']:>6}{r['seconds'] / 60:>8.1f}{r['frames']:>8}{r['labels']:>8}"
                    f"{r['rss_mb']['last'] or 0:>8.0f}{r['rss_mb']['slope_mb_per_min']:>8.2f}"
                    f"{fds:>7}{queues:>26}{pct:>24}  "
                    f"{'all passed' if not failed else 'FAILED: ' + ', '.join(failed)}")  # fmt: skip
    return "\n".join(rows)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    for color, r in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], results):  # one colour per scenario
        name = f"{r['people']} people"
        samples = np.array(r["samples"])
        if len(samples):
            axes[0, 0].plot(samples[:, 0] / 60, samples[:, 1], color=color, label=name)
            axes[0, 1].plot(samples[:, 0] / 60, samples[:, 2], color=color, label=name)
        times = [t / 60 for t, _ in r["queue_samples"]]
        for queue, style in (("capture", "-"), ("recorder", ":"), ("decoder", "--")):
            depths = [q.get(queue, 0) for _, q in r["queue_samples"]]
            if any(depths) or queue == "capture":
                axes[1, 0].plot(times, depths, linestyle=style, color=color, label=f"{name}: {queue}")
        buckets = r["latency_over_time"]
        if buckets:
            t = [b["t_s"] / 60 for b in buckets]
            axes[1, 1].plot(t, [b["p50"] for b in buckets], color=color, label=f"{name}: p50")
            axes[1, 1].plot(t, [b["p99"] for b in buckets], linestyle="--", color=color, label=f"{name}: p99")
    for ax, title, unit in ((axes[0, 0], "resident memory", "MB"), (axes[0, 1], "open file descriptors", "count"),
                            (axes[1, 0], "queue depths (status messages)", "items waiting"),
                            (axes[1, 1], "label latency (capture → final label)", "ms")):  # fmt: skip
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("minutes")
        ax.set_ylabel(unit)
        ax.legend(fontsize=7)
    fig.suptitle("stream-run soak: synthetic people at 30 fps, every label received by a second process", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[1, 4, 8], help="scenarios (default 1 4 8)")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each scenario (default 3)")
    parser.add_argument("--fast", action="store_true", help="as fast as possible instead of real time")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--backend", default="auto", help="as stream-run --backend (default auto, its default)")
    parser.add_argument("--sample-s", type=float, default=0.5, help="memory and descriptor sampling period")
    parser.add_argument("--status-s", type=float, default=1.0, help="status (queue depth) period of the run")
    parser.add_argument("--max-rss-mb-per-min", type=float, default=1.0, help="memory slope bound after warm-up")
    parser.add_argument("--json", type=Path, default=RESULTS / "soak.json")
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    results = []
    for people in args.people:
        print(f"soak: {people} people for {args.minutes:g} min{' (fast)' if args.fast else ''} ...", flush=True)
        results.append(soak(people, args.minutes * 60, fast=args.fast, checkpoint=args.checkpoint,
                            backend=args.backend, sample_s=args.sample_s, status_s=args.status_s,
                            max_rss_mb_per_min=args.max_rss_mb_per_min))  # fmt: skip
    machine = machine_info()
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs | backend {args.backend} | "
          f"load {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip
    print(table(results))
    write_results(args.json, {"machine": machine, "backend": args.backend, "checkpoint": args.checkpoint,
                              "load_average": {"before": load_before, "after": os.getloadavg()},
                              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                              "scenarios": results}, lambda path: plot(results, path), args.plot, indent=1)  # fmt: skip
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
