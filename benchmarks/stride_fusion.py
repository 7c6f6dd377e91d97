"""Accuracy and time to detect per stride, lookahead and fusion: UTKinect validation and the synthetic scene.

Not a timing benchmark: every figure is computed offline by `stream-eval`'s
evaluation (`models.evaluation.runner.evaluate_detection`), which fuses
windows and publishes labels exactly as the stream does for the same stride,
lookahead and fusion; time to detect is in stream time (the wait for the
window that makes a label final, model compute not included). The model
scores each distinct window once (windows are shared between settings), so
the whole table costs about one stride-1 pass per dataset.

Settings (stride, lookahead, fusion; lookahead "all" = every window covering
the frame, the model card's offline protocol): the stream's old default (8, 0),
its new one (1, 0), short lookaheads at stride 1 with each fusion, and the
offline protocol at strides 1 and 8 with each fusion.

    .venv/bin/python -m benchmarks.stride_fusion
    .venv/bin/python -m benchmarks.stride_fusion --checkpoint runs/detect/checkpoint --synthetic-seconds 30
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from models.pretrained import DEFAULT_CHECKPOINT


RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SETTINGS = [(8, 0, "recent"), (1, 0, "recent"), (1, 2, "recent"), (1, 4, "recent"), (1, 4, "mean"), (1, 4, "max"),
            (1, 8, "recent"), (1, None, "recent"), (1, None, "mean"), (1, None, "max"), (8, None, "recent"),
            (8, None, "mean"), (8, None, "max")]  # fmt: skip


def memoized(logits):
    """``logits`` that scores each distinct window once (keyed by its bytes)."""
    cache: dict[bytes, np.ndarray] = {}

    def score(windows: np.ndarray) -> np.ndarray:
        keys = [hashlib.blake2b(window.tobytes(), digest_size=16).digest() for window in windows]
        missing = [i for i, key in enumerate(keys) if key not in cache]
        if missing:
            for i, row in zip(missing, logits(np.ascontiguousarray(windows[missing]))):
                cache[keys[i]] = row
        return np.stack([cache[key] for key in keys])

    return score


def datasets(args: argparse.Namespace) -> dict[str, list]:
    from models.datasets.registry import load_dataset
    from models.synthetic.generator import SyntheticConfig, generate_people

    found = {}
    root = Path(args.data_root)
    if (root / "utkinect_action3d").is_dir():
        found[f"UTKinect s{args.subjects}"] = load_dataset("utkinect", root, [int(s) for s in args.subjects.split(",")])
    else:
        print(f"skipping UTKinect: {root / 'utkinect_action3d'} is absent", file=sys.stderr)
    scene = SyntheticConfig(num_people=args.synthetic_people, duration=args.synthetic_seconds, seed=args.seed,
                            noise_std=0.01, missing_prob=0.02)  # as stream-run's synthetic source  # fmt: skip
    found[f"synthetic {args.synthetic_people}×{args.synthetic_seconds:g} s"] = generate_people(scene)
    return found


def table(rows: list[dict]) -> str:
    head = (f"{'data':<24}{'stride':>7}{'look':>6}{'fusion':>8}{'frame acc':>10}{'frame mAP':>10}"
            f"{'label p50':>10}{'p95':>7}{'never':>7}{'start p50':>10}{'never':>7}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        label, start = r["time_to_detect"]["label"], r["time_to_detect"]["start"]
        lines.append(f"{r['data']:<24}{r['stride']:>7}{str(r['lookahead'] if r['lookahead'] is not None else 'all'):>6}"
                     f"{r['fusion']:>8}{r['frame_accuracy']:>10.4f}{r['frame_map']:>10.4f}"
                     f"{label.get('p50', float('nan')):>10.0f}{label.get('p95', float('nan')):>7.0f}"
                     f"{label['never_detected']:>7.2f}{start.get('p50', float('nan')):>10.0f}"
                     f"{start['never_detected']:>7.2f}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--data-root", default=str(DATA))
    parser.add_argument("--subjects", default="5,6", help="UTKinect validation subjects (default 5,6)")
    parser.add_argument("--synthetic-people", type=int, default=4)
    parser.add_argument("--synthetic-seconds", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS / "stride_fusion.json")
    args = parser.parse_args(argv)

    import torch

    from models.checkpoint import load_checkpoint
    from models.evaluation.runner import evaluate_detection
    from models.inference import torch_logits

    torch.set_num_threads(1)
    model, config = load_checkpoint(args.checkpoint)
    model.eval()
    rows = []
    for name, sequences in datasets(args).items():
        logits = memoized(torch_logits(model))
        for stride, lookahead, fusion in SETTINGS:
            metrics = evaluate_detection(logits, config, sequences, stride=stride, lookahead=lookahead, fusion=fusion)
            rows.append({"data": name, "stride": stride, "lookahead": lookahead, "fusion": fusion,
                         **{k: metrics[k] for k in ("frame_accuracy", "frame_map", "segment_map", "time_to_detect",
                                                    "num_frames")}})  # fmt: skip
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    print("time to detect in ms of stream time from the true start: label = the first frame label naming the action, "
          "start = its start event; never = the fraction never detected")  # fmt: skip
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    write_results(args.json, {"machine": machine_info(), "checkpoint": args.checkpoint, "settings": settings,
                              "rows": rows})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
