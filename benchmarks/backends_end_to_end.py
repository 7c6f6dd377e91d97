"""End to end, per backend: the streaming benchmark (`benchmarks/streaming.py`) run once per backend, compared.

Every scenario of the streaming benchmark (exercise.avi through MediaPipe where
present, the synthetic scene with 1 and 4 tracks) runs the real ``stream-run``
in real time with ``--backend B`` for each backend B; the table puts the
model's share (per call, p50) next to the end-to-end latency (capture → the
frame's outputs published) and the drops, so a faster backend shows as lower
end-to-end latency and fewer drops, not only as a faster model call.

    .venv/bin/python -m benchmarks.backends_end_to_end                      # torch + onnxruntime (+ tensorrt on a GPU)
    .venv/bin/python -m benchmarks.backends_end_to_end --backends onnxruntime tensorrt --seconds 10 --skip-video
    .venv/bin/python -m benchmarks.backends_end_to_end --checkpoint runs/detect/checkpoint

The onnxruntime and tensorrt backends export (and build) the checkpoint on first
use into ``$SKELSTREAM_CACHE`` (default ``~/.cache/skelstream``); that happens
before the stream starts and is not in the numbers. Run it once beforehand on
a Jetson, where an engine build takes minutes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from benchmarks.streaming import RESULTS, VIDEO, run_scenario, scenarios, table
from models.pretrained import DEFAULT_CHECKPOINT


def default_backends() -> list[str]:
    from stream.backends import choose_backend

    names = ["torch"]
    if choose_backend()[0] in ("onnxruntime", "tensorrt"):
        names.append("onnxruntime")
    if choose_backend()[0] == "tensorrt":
        names.append("tensorrt")
    return names


def comparison(results: dict[str, dict[str, dict]]) -> str:
    scenario_names = list(dict.fromkeys(name for per in results.values() for name in per))
    width = max((len(name) for name in scenario_names), default=0) + 2
    head = f"{'scenario':<{width}}{'backend':<13}{'frames':>7}{'drops':>6}{'model/call p50':>15}{'e2e p50':>9}" \
           f"{'e2e p95':>9}{'e2e p99':>9}"  # fmt: skip
    rows = [head, "-" * len(head)]
    for scenario in scenario_names:
        for backend, per in results.items():
            if scenario not in per:
                continue
            stats = per[scenario]
            lat = stats["latency_ms"]

            def p(stage: str, q: str) -> str:
                return f"{lat[stage][q]:.2f}" if stage in lat else "-"

            rows.append(f"{scenario:<{width}}{backend:<13}{stats['frames']:>7}{stats['source']['dropped']:>6}"
                        f"{p('model_call', 'p50'):>15}{p('end_to_end', 'p50'):>9}{p('end_to_end', 'p95'):>9}"
                        f"{p('end_to_end', 'p99'):>9}")  # fmt: skip
    return "\n".join(rows)


def plot(results: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    scenario_names = list(dict.fromkeys(name for per in results.values() for name in per))
    backends = list(results)
    width = 0.8 / max(1, len(backends))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, (stage, title) in zip(axes, (("model_call", "model call p50 (ms)"), ("end_to_end", "end to end p50 (ms)"))):
        x = np.arange(len(scenario_names))
        for i, backend in enumerate(backends):
            values = [results[backend].get(s, {}).get("latency_ms", {}).get(stage, {}).get("p50", 0.0)
                      for s in scenario_names]  # fmt: skip
            ax.bar(x + i * width, values, width, label=backend)
        ax.set_xticks(x + width * (len(backends) - 1) / 2, scenario_names, fontsize=8)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", choices=["torch", "onnxruntime", "tensorrt"],
                        help="default: torch, and onnxruntime / tensorrt where they can run")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each synthetic scenario (default 20)")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--skip-video", action="store_true", help="only the synthetic scenarios (no MediaPipe)")
    parser.add_argument("--zmq", default="tcp://127.0.0.1:5572", help="endpoint the runs publish on")
    parser.add_argument("--json", type=Path, default=RESULTS / "backends_end_to_end.json")
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)
    if not (Path(args.checkpoint) / "config.json").is_file():
        print(f"backends_end_to_end: no checkpoint at {args.checkpoint}; pass --checkpoint DIR", file=sys.stderr)
        return 2
    video = Path("/nonexistent") if args.skip_video else args.video
    backends = args.backends or default_backends()
    results: dict[str, dict[str, dict]] = {}
    for backend in backends:
        results[backend] = {name: run_scenario(flags, backend, args.checkpoint, args.zmq)
                            for name, flags in scenarios(args.seconds, video).items()}  # fmt: skip
    machine = machine_info()
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs" + (f" | {machine['cuda']}" if machine.get("cuda")
                                                                       else ""))  # fmt: skip
    for backend, per in results.items():
        print(f"\nbackend {backend}\n{table(per)}")
    print(f"\n{comparison(results)}")
    write_results(args.json, {"machine": machine, "checkpoint": args.checkpoint, "seconds": args.seconds,
                              "results": results}, lambda path: plot(results, path), args.plot)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
