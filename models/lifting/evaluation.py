"""How good a lifter is: error on held-out people's real 3D, and plausibility on real 2D joints.

- **Held-out 3D** (`heldout_error`): people the lifter never saw, projected
  through fixed-seed virtual cameras (`virtual_cameras`); the error of each
  joint the 3D data has, in metres, after root alignment with the true scale
  (the action model normalises scale away), for the lifter and for the flat
  reading of the same 2D view (depth 0: what using the 2D keypoints as they
  are would give).
- **Real 2D** (`bone_plausibility`): Penn Action's hand-annotated joints have
  no 3D truth, but a body's limbs keep their length: across a clip, the
  coefficient of variation of each limb's length (upper arms, forearms,
  thighs, shins) and the left/right difference, for the lifted 3D and for the
  flat 2D. Foreshortening makes the flat limbs vary; a lifter that restores
  depth makes them steadier.
"""

from __future__ import annotations

import numpy as np

from models.lifting.lifter import ROOT, NumpyLifter, normalize_2d
from models.lifting.virtual_cameras import CameraRanges, project_views, target_unit
from models.skeleton.layouts import UNIFIED_30

LIMBS = {"upper arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"), "thigh": ("hip", "knee"),
         "shin": ("knee", "ankle")}  # fmt: skip


def heldout_error(lifter: NumpyLifter, joints: np.ndarray, present: np.ndarray, seed: int = 0,
                  ranges: CameraRanges = CameraRanges()) -> dict[str, float]:  # fmt: skip
    """Mean per-joint error (m) of the lifter and of the flat 2D on (N, 30, 3) held-out joints (module
    docstring), with the share of the error in depth."""
    pixels, seen, turned = project_views(joints, present, np.random.default_rng(seed), ranges)
    unit = target_unit(turned, seen)[:, None, None]
    lifted, _ = lifter(pixels, seen)
    flat, _ = normalize_2d(pixels, seen)
    flat = np.concatenate([flat, np.zeros_like(flat[..., :1])], axis=-1)
    truth = turned - turned[:, ROOT : ROOT + 1]
    scored = present & (seen[:, ROOT] > 0)[:, None]

    def error(estimate: np.ndarray) -> tuple[float, float]:
        estimate = (estimate - estimate[:, ROOT : ROOT + 1]) * unit
        diff = np.linalg.norm(estimate - truth, axis=-1)[scored]
        depth = np.abs(estimate[..., 2] - truth[..., 2])[scored]
        return float(diff.mean()), float(depth.mean())

    (lifted_m, lifted_z), (flat_m, flat_z) = error(lifted), error(flat)
    return {"lifted_m": lifted_m, "lifted_depth_m": lifted_z, "flat_m": flat_m, "flat_depth_m": flat_z,
            "frames": int(len(joints)), "joints_scored": int(scored.sum())}  # fmt: skip


def bone_plausibility(clips: list[tuple[np.ndarray, np.ndarray]], lifter: NumpyLifter) -> dict[str, dict]:
    """Limb-length steadiness and symmetry of real 2D clips (each (T, 30, 2) pixel keypoints and (T, 30)
    confidences), lifted and flat, over the frames where all eight limbs are seen: per reading, the mean
    within-clip coefficient of variation of each limb's share of the eight limbs' total length (scale-free),
    and the mean left/right relative difference."""
    ends = [(UNIFIED_30.index(f"{a}_{side}"), UNIFIED_30.index(f"{b}_{side}"))
            for a, b in LIMBS.values() for side in ("left", "right")]  # fmt: skip
    readings: dict[str, dict[str, list]] = {"lifted": {"cv": [], "asymmetry": []}, "flat": {"cv": [], "asymmetry": []}}
    for points, confidence in clips:
        lifted, present = lifter(points, confidence)
        flat, _ = normalize_2d(points, confidence)
        flat = np.concatenate([flat, np.zeros_like(flat[..., :1])], axis=-1)
        frames = np.all([(present[:, i] > 0) & (present[:, j] > 0) for i, j in ends], axis=0)
        if frames.sum() < 5:
            continue
        for name, skeleton in (("lifted", lifted[frames]), ("flat", flat[frames])):
            lengths = np.stack([np.linalg.norm(skeleton[:, i] - skeleton[:, j], axis=-1) for i, j in ends], 1)
            shares = lengths / np.maximum(lengths.sum(axis=1, keepdims=True), 1e-9)
            readings[name]["cv"] += list(shares.std(axis=0) / np.maximum(shares.mean(axis=0), 1e-9))
            left, right = lengths[:, 0::2], lengths[:, 1::2]
            readings[name]["asymmetry"].append(float(np.mean(np.abs(left - right) / np.maximum((left + right) / 2,
                                                                                               1e-9))))  # fmt: skip
    return {name: {"limb_share_cv": float(np.mean(values["cv"])), "left_right_difference":
                   float(np.mean(values["asymmetry"])), "clips": len(values["asymmetry"])}
            for name, values in readings.items()}  # fmt: skip
