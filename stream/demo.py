"""The embedded demo (`make demo`): synthetic people → unified windows → DSTE → per-frame labels.

No camera and no downloads: a seeded synthetic scene of people performing the
UTKinect actions is cut into the windows a stream would run (every ``stride``
frames, one batched model call for all people), labelled by the default
checkpoint, and scored against the synthetic ground truth. It prints a
timeline, per-person frame accuracy and the model call latency.

The live streaming runtime (`stream-run`: cameras, MediaPipe, tracking, online
decoding, ZeroMQ) is not built yet; this runs the pipeline that exists, offline.

    python -m stream.demo --people 2 --seconds 60 --seed 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from models.checkpoint import CheckpointError, load_checkpoint
from models.inference import FrameFusion
from models.pretrained import DEFAULT_CHECKPOINT
from models.synthetic.generator import SyntheticConfig, generate_people
from models.windows import cut_window, prepare_sequence, window_ends


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stream.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="detection checkpoint directory")
    parser.add_argument("--people", type=int, default=2, help="people in the synthetic scene (default 2)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the scene (default 60)")
    parser.add_argument("--seed", type=int, default=3, help="scene seed (default 3)")
    parser.add_argument("--stride", type=int, default=8, help="frames between model calls (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, config = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        print(f"demo: cannot load checkpoint {args.checkpoint}: {error}", file=sys.stderr)
        return 2
    if config.task != "detection":
        print(f"demo: {args.checkpoint} is a {config.task} checkpoint; the demo needs detection", file=sys.stderr)
        return 2
    scene = SyntheticConfig(num_people=args.people, duration=args.seconds, seed=args.seed, noise_std=0.01,
                            missing_prob=0.02)  # fmt: skip
    print(f"checkpoint  {args.checkpoint.name}: {config.variant}, {config.model.modality} modality, "
          f"T={config.num_frames} at {config.fps:g} fps, {len(config.labels) - 1} actions + background")  # fmt: skip
    print(f"scene       {args.people} synthetic people, {args.seconds:g} s at {scene.fps:g} fps (seed {args.seed}), "
          f"resampled to {config.fps:g} fps, a batched model call every {args.stride} frames")  # fmt: skip

    people = [prepare_sequence(person, config.fps, config.model.M) for person in generate_people(scene)]
    frames = people[0].num_frames
    fusions = [FrameFusion(frames, len(config.labels), config.num_frames, args.stride) for _ in people]
    latencies = []
    with torch.no_grad():
        for end in window_ends(frames, args.stride):
            windows = np.stack([cut_window(p, int(end), config.num_frames, config.normalization)[0] for p in people])
            started = time.perf_counter()
            logits = model(torch.from_numpy(windows))
            latencies.append((time.perf_counter() - started) * 1e3)
            for fusion, scores in zip(fusions, torch.softmax(logits, dim=-1).numpy()):
                fusion.add(int(end), scores)

    labels = np.array(config.labels)
    print("\ntimeline of person 0 (one row every 4 s): true → predicted")
    predicted = [fusion.probabilities().argmax(axis=1) for fusion in fusions]
    truth = [person.frame_labels(list(config.labels)) for person in people]
    for frame in range(0, frames, int(4 * config.fps)):
        mark = "  " if predicted[0][frame] == truth[0][frame] else "✗ "
        print(f"  {mark}{frame / config.fps:5.1f} s  {labels[truth[0][frame]]:>10} → {labels[predicted[0][frame]]}")
    print("\nframe accuracy against the synthetic ground truth")
    for index, (pred, true) in enumerate(zip(predicted, truth)):
        actions = true != 0
        print(f"  person {index}: {np.mean(pred == true):.3f} all frames, "
              f"{np.mean(pred[actions] == true[actions]):.3f} on action frames ({actions.sum()} of {true.size})")
    p50, p95 = np.percentile(latencies, [50, 95])
    print(f"\nmodel call ({len(people)} windows per call, {args.threads} threads): "
          f"p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(latencies)} calls")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
