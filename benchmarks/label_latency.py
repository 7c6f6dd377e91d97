"""Label latency and time to detect, live: 1, 4 and 8 synthetic people at 30 fps, per backend and stride, one run.

Each cell runs the real ``stream-run`` in real time (the synthetic scene paces
itself at 30 fps: a loop that cannot keep up drops frames) while this process
subscribes to its ``actions`` over ZeroMQ and keeps every label's
``latency_ms`` (capture → label ready), so the CDFs are the subscriber's view,
every label included. From the run's ``--stats-json`` it takes the time to
detect (true start → first label naming the action, → its start event; the
first also per action, in a second table; a cell resting on fewer than
100 actions is named in a warning: run longer for a figure to quote), the
drops, the model call, the
stride the run ended on, and where a label's latency went (p50 of each part:
resampling wait, the wait for its window, the capture queue, the stages
before the model, the batched model call, decoding and publishing;
`stream.run.pipeline`). CPU load is recorded per cell: the load average
before and after, the share of the machine's CPU time busy during the run
(``/proc/stat``) and the CPU seconds of the run itself.

Cells: people × backend (× precision) × stride × min_score (the level under which
an action is published as background: ``checkpoint``, its own, or a value for
``stream-run --min-score``), all side by side in one table, one JSON and one PNG
of latency CDFs (a panel per number of people).

    .venv/bin/python -m benchmarks.label_latency                       # 1/4/8 people, torch + onnxruntime, auto/1/8
    .venv/bin/python -m benchmarks.label_latency --people 8 --backends onnxruntime --strides auto --seconds 60
    .venv/bin/python -m benchmarks.label_latency --backends onnxruntime --strides auto --min-scores checkpoint 0.35
    .venv/bin/python -m benchmarks.label_latency --backends onnxruntime onnxruntime:int8 tensorrt   # a GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.pretrained import DEFAULT_CHECKPOINT
from stream.run.config import RunConfig


RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("resample", "window", "queue", "stages", "model", "publish")
CHECKPOINT_LEVEL = "checkpoint"  # --min-scores: the checkpoint's own min_score
MIN_ACTIONS = 100  # fewer actions in a cell than this make its time to detect a scene's luck (benchmarks/README.md)


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat (zeros where it is absent)."""
    try:
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class LabelCollector(threading.Thread):
    """Subscribes to ``actions`` and keeps every label's ``latency_ms`` until stopped."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(daemon=True)
        import zmq

        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.RCVHWM, 0)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"actions")
        self.socket.connect(endpoint)
        self.latencies: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        from stream.messages.codec import decode

        poller_timeout_ms = 100
        while not self.done.is_set():
            if self.socket.poll(poller_timeout_ms):
                topic, payload = self.socket.recv_multipart()
                self.latencies.append(float(decode(payload, topic.decode())["latency_ms"]))
        self.socket.close(linger=0)
        self.context.term()


def run_cell(people: int, backend: str, stride: str, seconds: float, checkpoint: str, endpoint: str,
             min_score: str = CHECKPOINT_LEVEL) -> dict:
    """One real-time ``stream-run`` on the synthetic scene and what its subscriber and ``--stats-json`` saw."""
    name, _, precision = backend.partition(":")
    collector = LabelCollector(endpoint)
    collector.start()
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        command = [sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--people", str(people),
                   "--seconds", str(seconds), "--backend", name, "--stride", stride, "--checkpoint", checkpoint,
                   "--zmq", endpoint, "--wait-subscribers", "1", "--stats-json", str(stats),
                   *(["--precision", precision] if precision else []),
                   *(["--min-score", min_score] if min_score != CHECKPOINT_LEVEL else [])]  # fmt: skip
        load_before = os.getloadavg()
        busy0, total0 = cpu_times()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cpu_s = 0.0
        while process.poll() is None:
            cpu_s = max(cpu_s, process_cpu_s(process.pid))
            time.sleep(0.2)
        out, err = process.communicate()
        busy1, total1 = cpu_times()
        time.sleep(0.5)  # the last labels in flight
        collector.done.set()
        collector.join()
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{err}")
        summary = json.loads(stats.read_text())
    latency = summary["latency_ms"]
    return {
        "people": people, "backend": backend, "stride": stride, "min_score": min_score, "seconds": seconds,
        "frames": summary["frames"], "labels": summary["labels"], "received": len(collector.latencies),
        "drops": summary["source"].get("dropped", 0), "final_stride": summary["stride"].get("stride"),
        "stride_changes": summary["stride"].get("changes", []),
        "label_ms": {q: float(np.percentile(collector.latencies, p)) for q, p in (("p50", 50), ("p95", 95),
                                                                                  ("p99", 99))}
        if collector.latencies else {},
        "label_latencies_ms": [round(v, 2) for v in collector.latencies],
        "parts_p50_ms": {part: latency.get(f"label.{part}", {}).get("p50") for part in PARTS},
        "parts_p95_ms": {part: latency.get(f"label.{part}", {}).get("p95") for part in PARTS},
        "model_call_ms": latency.get("model_call", {}),
        "time_to_detect": latency.get("time_to_detect", {}), "time_to_start": latency.get("time_to_start", {}),
        "time_to_detect_by_action": summary.get("time_to_detect_by_action", {}),
        "frame_accuracy": summary.get("frame_accuracy"),
        "load_before": load_before, "load_after": os.getloadavg(),
        "machine_busy": (busy1 - busy0) / (total1 - total0) if total1 > total0 else None,
        "run_cpu_s": cpu_s, "backend_line": next((line for line in err.splitlines() if "backend" in line), ""),
    }  # fmt: skip


def table(cells: list[dict]) -> str:
    head = (f"{'people':>6} {'backend':<17}{'stride':>7}{'min':>6}{'drops':>6}{'label p50':>10}{'p95':>7}{'p99':>7}"
            f"{'model/call':>11}{'detect p50':>11}{'n':>5}{'never':>6}{'start p50':>10}"
            f"{'parts p50 (res/win/queue/stages/model/pub)':>44}"
            f"{'busy':>6}{'load':>11}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for c in cells:
        label, detect, start = c["label_ms"], c["time_to_detect"], c["time_to_start"]
        parts = "/".join("-" if v is None else f"{v:.1f}" for v in c["parts_p50_ms"].values())
        stride = f"{c['stride']}→{c['final_stride']}" if c["stride"] == "auto" else c["stride"]
        lines.append(f"{c['people']:>6} {c['backend']:<17}{stride:>7}{_level(c):>6}{c['drops']:>6}"
                     f"{label.get('p50', 0):>10.1f}{label.get('p95', 0):>7.1f}{label.get('p99', 0):>7.1f}"
                     f"{c['model_call_ms'].get('p50', 0):>11.2f}"
                     f"{detect.get('p50', float('nan')):>11.0f}{detect.get('instances', 0):>5}"
                     f"{detect.get('never_detected', float('nan')):>6.2f}"
                     f"{start.get('p50', float('nan')):>10.0f}{parts:>44}"
                     f"{(c['machine_busy'] or 0):>6.0%}{c['load_before'][0]:>5.1f}→{c['load_after'][0]:<5.1f}")  # fmt: skip
    return "\n".join(lines)


def _level(cell: dict) -> str:
    """A cell's min_score as its table shows it: ``ckpt`` for the checkpoint's own."""
    return "ckpt" if cell["min_score"] == CHECKPOINT_LEVEL else cell["min_score"]


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def few_actions_warning(cells: list[dict], minimum: int = MIN_ACTIONS) -> str:
    """A line naming the numbers of people whose cells rest their time to detect on fewer than ``minimum`` actions
    ("" if none)."""
    # every backend and stride of a number of people streams the same scene: name each number once
    few = {c["people"]: c["time_to_detect"]["instances"] for c in cells
           if 0 < c["time_to_detect"].get("instances", 0) < minimum}  # fmt: skip
    if not few:
        return ""
    named = ", ".join(f"{_people(people)} ({instances})" for people, instances in few.items())
    return (f"time to detect from fewer than {minimum} actions in {named}: a scene's luck moves such a "
            "median by 100 ms or more; run longer (--seconds) for a figure to quote")


def action_table(cells: list[dict]) -> str:
    """Time to detect per action (p50 ms, instances), a row per cell: which actions the median waits on."""
    actions = sorted({action for c in cells for action in c["time_to_detect_by_action"]})
    if not actions:
        return ""
    width = max(9, *(len(a) + 1 for a in actions))
    head = f"{'people':>6} {'backend':<17}{'stride':>7}{'min':>6}" + "".join(f"{a:>{width}}" for a in actions)
    lines = [head, "-" * len(head)]
    for c in cells:
        figures = []
        for action in actions:
            entry = c["time_to_detect_by_action"].get(action)
            text = "-" if entry is None else f"{entry['p50']:.0f} ({entry['instances']})" if "p50" in entry else "never"
            figures.append(f"{text:>{width}}")
        lines.append(f"{c['people']:>6} {c['backend']:<17}{c['stride']:>7}{_level(c):>6}" + "".join(figures))
    return "\n".join(lines)


def plot(cells: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    people = sorted({c["people"] for c in cells})
    fig, axes = plt.subplots(1, len(people), figsize=(5 * len(people), 4), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], people):
        for c in (c for c in cells if c["people"] == n and c["label_latencies_ms"]):
            values = np.sort(c["label_latencies_ms"])
            level = "" if c["min_score"] == CHECKPOINT_LEVEL else f", min_score {c['min_score']}"
            ax.plot(values, np.arange(1, len(values) + 1) / len(values),
                    label=f"{c['backend']}, stride {c['stride']}{level}")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([2, 5, 10, 20, 50, 100, 200, 500, 1000]))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("label latency, capture → label (ms)")
        ax.set_title(f"{_people(n)}, 30 fps, real time")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("fraction of labels")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _min_score(text: str) -> str:
    """``checkpoint`` or a level ``stream-run --min-score`` takes (its `RunConfig` checks it), kept as text."""
    if text == CHECKPOINT_LEVEL:
        return text
    try:
        RunConfig(min_score=float(text))
    except ValueError:
        message = f"'{CHECKPOINT_LEVEL}' or a probability from 0 to below 1, not {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--backends", nargs="+", default=["torch", "onnxruntime"],
                        help="backends, NAME or NAME:PRECISION (onnxruntime:int8; tensorrt on a GPU)")
    parser.add_argument("--strides", nargs="+", default=["auto", "1", "8"])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run (default 20)")
    parser.add_argument("--min-scores", nargs="+", type=_min_score, default=[CHECKPOINT_LEVEL],
                        help="levels under which an action is published as background, each a cell: "
                             f"'{CHECKPOINT_LEVEL}' (its own, the default) or a value from 0 to below 1")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--zmq", default="tcp://127.0.0.1:5573", help="endpoint the runs publish on")
    parser.add_argument("--json", type=Path, default=RESULTS / "label_latency.json")
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)

    started = os.getloadavg()
    cells = []
    for people in args.people:
        for backend in args.backends:
            for stride in args.strides:
                for level in args.min_scores:
                    cells.append(run_cell(people, backend, stride, args.seconds, args.checkpoint, args.zmq, level))
                    print(table(cells[-1:]).splitlines()[-1], flush=True)
    machine = machine_info()
    print(f"\n{machine['cpu_model']} | {machine['logical_cpus']} CPUs | load average {started[0]:.2f} at start")
    print(table(cells))
    print("ms; stride auto→N: where the automatic stride ended; min: min_score (ckpt: the checkpoint's); "
          "detect = true start → first label naming the action (n: actions in the scene, never: the fraction never "
          "named), start = → its start event; "
          "parts: where a label's latency goes; "
          "busy: the machine's CPU busy share during the run")  # fmt: skip
    if warning := few_actions_warning(cells):
        print(warning)
    if by_action := action_table(cells):
        print(f"\ntime to detect by action: true start → first label naming it, p50 ms (instances)\n{by_action}")
    write_results(args.json, {"machine": machine, "checkpoint": args.checkpoint, "load_at_start": started,
                              "cells": cells}, lambda path: plot(cells, path), args.plot)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
