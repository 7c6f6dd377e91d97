"""Train a lifter on real 3D skeletons seen through virtual cameras, and check it (``python -m models.lifting.train``).

Training frames: the 3D datasets of the foundation encoder's corpus with
every split a shipped figure is measured on left out (the same list as
``models/configs/pretrain_multitask.yaml``). Held-out check: UTD-MHAD
subjects 2,4,6,8, UTKinect 5,6 and MSR Action3D 2,4,6 (people it never saw),
and Penn Action's real 2D joints (`models.lifting.evaluation`). The figures
are written into the lifter's ``config.json`` (``training``)::

    python -m models.lifting.train --output models/lifters/unified-2d --steps 6000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from models.lifting.lifter import LifterConfig
from models.lifting.virtual_cameras import CameraRanges

if TYPE_CHECKING:
    import torch

TRAIN_REFS = ("msrc12:!5,9,13,18,23,29", "kinder-gator", "utd-mhad:1,3,5,7", "nw-ucla:view=1",
              "msr-action3d:1,3,5,7", "utkinect:1,2,3,4")  # fmt: skip
HELDOUT_REFS = ("utd-mhad:2,4,6,8", "utkinect:5,6", "msr-action3d:2,4,6")
MIN_JOINTS = 10


def frames_of(refs, data_root: str, fps: float, every: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 30, 3) unified joints of the first body and their (N, 30) presence, every ``every``-th frame with at
    least `MIN_JOINTS` joints, from the prepared datasets ``refs``."""
    from models.corpus import load_prepared

    joints, present = [], []
    for sequence in load_prepared(refs, data_root, fps):
        body = sequence.joints[::every, 0].astype(np.float32)
        seen = (sequence.mask[::every, 0] > 0) & np.isfinite(body).all(-1)
        keep = seen.sum(1) >= MIN_JOINTS
        joints.append(body[keep])
        present.append(seen[keep])
    return np.concatenate(joints), np.concatenate(present)


def fit_lifter(joints: np.ndarray, present: np.ndarray, config: LifterConfig, steps: int, batch_size: int = 512,
               lr: float = 1e-3, seed: int = 0, ranges: CameraRanges | None = None) -> torch.nn.Module:  # fmt: skip
    """Train a torch lifter of ``config`` on (N, 30, 3) metric joints with their (N, 30) presence, each batch
    seen through fresh virtual cameras (`virtual_cameras.project_views`); sets ``config.unit_m`` (the median
    output unit in metres). Returns the module in eval mode."""
    import torch
    from tqdm import tqdm

    from models.lifting.lifter import build_torch_lifter, lifter_input, normalize_2d
    from models.lifting.virtual_cameras import project_views, source_masks, target_unit
    from models.skeleton.layouts import UNIFIED_30

    ranges = ranges or CameraRanges()
    shown = present.any(axis=0) & source_masks().any(axis=0)  # what a 2D view of this data can show
    config.input_joints = [name for name, on in zip(UNIFIED_30.joint_names, shown) if on]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_torch_lifter(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    model.train()
    bar = tqdm(range(steps), desc="lifter", mininterval=2.0)
    for _ in bar:
        pick = rng.integers(0, len(joints), batch_size)
        pixels, seen, turned = project_views(joints[pick], present[pick], rng, ranges)
        normalized, mask = normalize_2d(pixels, seen)
        target = turned / np.maximum(target_unit(turned, mask), 1e-6)[:, None, None]
        weight = torch.from_numpy((present[pick] & (mask.sum(1) >= 2)[:, None]).astype(np.float32))
        predicted = model(torch.from_numpy(lifter_input(normalized, mask)))
        squared = ((predicted - torch.from_numpy(target.astype(np.float32))) ** 2).sum(-1)
        loss = (squared * weight).sum() / weight.sum().clamp_min(1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
    model.eval()
    pick = rng.integers(0, len(joints), min(20_000, 4 * len(joints)))
    pixels, seen, turned = project_views(joints[pick], present[pick], rng, ranges)
    config.unit_m = round(float(np.median(target_unit(turned, normalize_2d(pixels, seen)[1]))), 4)
    return model


def penn_clips(root: Path, limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Up to ``limit`` Penn Action clips (spread over the set) as unified (T, 30, 2) pixels and (T, 30)
    confidences."""
    from models.datasets.penn_action import read_penn_action_folder
    from models.skeleton.unified import to_unified

    sequences = read_penn_action_folder(root)
    step = max(1, len(sequences) // limit)
    clips = []
    for sequence in sequences[::step][:limit]:
        points, confidence = to_unified(sequence.joints[:, 0], sequence.mask[:, 0], sequence.layout)
        clips.append((points, confidence))
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the lifter directory to write")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--every", type=int, default=2, help="use every N-th training frame (default 2)")
    parser.add_argument("--penn-clips", type=int, default=300, help="Penn Action clips in the 2D check")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from models.lifting.evaluation import bone_plausibility, heldout_error
    from models.lifting.lifter import NumpyLifter, save_lifter

    started = time.monotonic()
    joints, present = frames_of(TRAIN_REFS, args.data_root, 15.0, args.every)
    print(f"training frames: {len(joints)} from {', '.join(TRAIN_REFS)}", flush=True)
    ranges = CameraRanges()
    config = LifterConfig(width=args.width, blocks=args.blocks)
    model = fit_lifter(joints, present, config, args.steps, args.batch_size, args.lr, args.seed, ranges)
    lifter = NumpyLifter(config, {k: v.detach().numpy() for k, v in model.state_dict().items()})
    held_joints, held_present = frames_of(HELDOUT_REFS, args.data_root, 15.0, 4)
    heldout = heldout_error(lifter, held_joints, held_present, seed=args.seed + 1, ranges=ranges)
    penn = bone_plausibility(penn_clips(Path(args.data_root) / "penn_action", args.penn_clips), lifter)
    config.training = {
        "data": list(TRAIN_REFS), "frames": int(len(joints)), "cameras": ranges.to_dict(), "steps": args.steps,
        "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "command": "python -m models.lifting.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "heldout_3d": {"data": list(HELDOUT_REFS), **heldout}, "penn_action_2d": penn,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }  # fmt: skip
    save_lifter(args.output, model, config)
    print(f"held-out 3D ({', '.join(HELDOUT_REFS)}, {heldout['frames']} frames): mean joint error "
          f"{heldout['lifted_m'] * 100:.1f} cm lifted vs {heldout['flat_m'] * 100:.1f} cm flat (depth "
          f"{heldout['lifted_depth_m'] * 100:.1f} vs {heldout['flat_depth_m'] * 100:.1f} cm)")  # fmt: skip
    for name, figures in penn.items():
        print(f"Penn Action 2D, {name}: limb-share CV {figures['limb_share_cv']:.3f}, left/right difference "
              f"{figures['left_right_difference']:.3f} ({figures['clips']} clips)")  # fmt: skip
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
