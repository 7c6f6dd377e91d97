"""Per-stage and end-to-end latency of `stream-run`, in real time, on real video and synthetic scenes.

Each scenario runs the real command (real-time pacing: frames arrive at the
source's own rate, so drops show when the loop cannot keep up) and reads its
``--stats-json``. Scenarios: ``exercise.avi`` (384x288, 10 fps, one person,
MediaPipe pose with the default ``--num-poses 2`` and with 1: MediaPipe runs
its person detector on every frame while it tracks fewer people than
``num_poses``), and the synthetic scene with 1 and 4 tracked people (30 fps,
skeletons: no pose step).

    .venv/bin/python -m benchmarks.streaming
    .venv/bin/python -m benchmarks.streaming --seconds 10 --backend torch --json /tmp/streaming.json  # default before
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.pretrained import DEFAULT_CHECKPOINT


RESULTS = Path(__file__).resolve().parent / "results"
VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos" / "exercise.avi"
STAGES = ("pose", "track", "window", "model", "decode", "publish")


def scenarios(seconds: float, video: Path) -> dict[str, list[str]]:
    runs = {
        "synthetic, 1 track": ["--source", "synthetic", "--people", "1", "--seconds", str(seconds)],
        "synthetic, 4 tracks": ["--source", "synthetic", "--people", "4", "--seconds", str(seconds)],
    }
    if video.is_file():
        runs = {"exercise.avi, MediaPipe": ["--video", str(video)],
                "exercise.avi, --num-poses 1": ["--video", str(video), "--num-poses", "1"], **runs}  # fmt: skip
    else:
        print(f"skipping the video scenario: {video} is absent", file=sys.stderr)
    return runs


def run_scenario(args: list[str], backend: str, checkpoint: str, endpoint: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "stats.json"
        command = [sys.executable, "-m", "stream.cli.run", *args, "--backend", backend, "--checkpoint", checkpoint,
                   "--zmq", endpoint, "--stats-json", str(stats)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
        return json.loads(stats.read_text())


def table(results: dict[str, dict]) -> str:
    head = f"{'scenario':<30}{'frames':>7}{'drops':>6}{'pose p50':>9}{'other p50':>10}{'other p95':>10}" \
           f"{'model/call':>11}{'e2e p50':>9}{'e2e p95':>9}{'e2e p99':>9}{'label p50':>10}"  # fmt: skip
    rows = [head, "-" * len(head)]
    for name, stats in results.items():
        lat = stats["latency_ms"]

        def p(stage: str, q: str) -> str:
            return f"{lat[stage][q]:.2f}" if stage in lat else "-"

        rows.append(f"{name:<30}{stats['frames']:>7}{stats['source']['dropped']:>6}{p('pose', 'p50'):>9}"
                    f"{p('after_pose', 'p50'):>10}{p('after_pose', 'p95'):>10}{p('model_call', 'p50'):>11}"
                    f"{p('end_to_end', 'p50'):>9}{p('end_to_end', 'p95'):>9}{p('end_to_end', 'p99'):>9}"
                    f"{p('label', 'p50'):>10}")  # fmt: skip
    return "\n".join(rows)


def plot(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    names = list(results)
    left = [0.0] * len(names)
    for stage in STAGES:
        values = [results[n]["latency_ms"].get(stage, {}).get("p50", 0.0) for n in names]
        ax.barh(names, values, left=left, label=stage)
        left = [a + b for a, b in zip(left, values)]
    ax.set_xlabel("p50 per frame (ms)")
    ax.set_title("stream-run: per-stage latency per frame, medians stacked (the model runs every 8th frame)", fontsize=10)
    ax.legend(ncol=len(STAGES), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each synthetic scenario (default 20)")
    parser.add_argument("--backend", default="auto", help="as stream-run --backend (default auto, its default)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--zmq", default="tcp://127.0.0.1:5571", help="endpoint the runs publish on")
    parser.add_argument("--json", type=Path, default=RESULTS / "streaming.json")
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)

    results = {name: run_scenario(flags, args.backend, args.checkpoint, args.zmq)
               for name, flags in scenarios(args.seconds, args.video).items()}  # fmt: skip
    machine = machine_info()
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs | backend {args.backend}")
    print(table(results))
    print("other = every stage but pose, per frame; e2e = capture → the frame's outputs published; "
          "label = capture → final label (waits for the next window: about stride/2 model frames)")  # fmt: skip
    write_results(args.json, {"machine": machine, "backend": args.backend, "checkpoint": args.checkpoint,
                              "scenarios": results}, lambda path: plot(results, path), args.plot)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
