"""A "MediaPipe-like" view of a Kinect training window, with the gap measured between the two on one take.

`benchmarks/pose_gap.py` compares the Kinect v2 skeleton of the NTU take
S001C001P001R001A001 with MediaPipe's skeleton of its colour video, both as
the model sees them (unified_30, the default checkpoint's normalisation, torso
units). What it found, and what this view therefore does to a normalised window
``(C=3, T, V=30, M)`` (`models.windows.cut_window`), body by body:

1. **No root motion.** MediaPipe's world landmarks are hip-centred in every
   frame, so the root (spine_base) never moves; the Kinect's moves (walking,
   sitting down). The root's path is removed (``remove_root_motion``).
2. **Per-joint bias**: different ideas of where a joint is (MediaPipe's hips
   lie 1.3-2 times as far from the spine base, its feet 0.3 torso lower, its
   shoulders and head 0.15-0.22 torso further from the camera relative to the
   hips). Added as
   measured, in the body-aligned frame the normalisation produces, times a
   factor drawn from ``bias_scale`` per window.
3. **Slow error**: per joint and axis, Gaussian noise correlated over about
   ``slow_frames`` model frames (0.3 s), with the measured standard deviation
   (up to 0.11 torso; largest on the arms; over all joints the error's depth
   (z) RMS is 1.26 × that of x and y).
4. **Scale**: the skeleton's size fluctuates about the root by a slow factor
   (torso ratio IQR 0.039 → standard deviation 0.029); the mean ratio (1.04)
   is divided out by the torso normalisation.
5. **Fast noise**: MediaPipe's white frame-to-frame noise beyond the Kinect's;
   measured 0 almost everywhere (One-Euro-smoothed MediaPipe is steadier than
   the Kinect), kept as a parameter.
6. **Dropout**: a landmark MediaPipe gives no value for (confidence 0) sits on
   its nearest present ancestor, as the stream places it; per joint and frame
   with probability ``dropout``. Measured 0 on the take (every landmark had a
   value; the elbow was below visibility 0.5 in 15 % of frames, which the
   stream does not drop).

Joints without their own numbers (hand tips, thumbs, face points) move with
their nearest ancestor that has them (the same bias and the same noise draw),
so a joint placed on its ancestor by the normalisation stays there. Frames
where a body is absent stay zero.

One take of one person from one view: the numbers are a starting point, not a
population. Regenerate them with ``python -m benchmarks.pose_gap`` and load them
with `MediaPipeLikeConfig.from_measurement` (the defaults here are that
file's ``augmentation`` section, rounded; a test keeps them in step).

    rng = np.random.default_rng(seed)
    view = mediapipe_like(window, rng)                 # (C, T, V, M) float32, the input untouched
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.skeleton.layouts import UNIFIED_30
from models.skeleton.unified import fill_missing

Triple = tuple[float, float, float]

# benchmarks/results/pose_gap.json, "augmentation" (2026-12-05): torso units, x y z of the normalised window.
MEASURED_BIAS: dict[str, Triple] = {
    "spine_base": (0.0, 0.0, 0.0), "spine_mid": (-0.076, -0.062, 0.09), "neck": (-0.153, 0.066, 0.146),
    "head": (-0.107, -0.003, 0.218), "shoulder_left": (-0.119, 0.115, 0.198), "elbow_left": (-0.101, 0.017, 0.072),
    "wrist_left": (-0.233, -0.058, 0.152), "hand_left": (-0.174, -0.033, 0.077),
    "shoulder_right": (-0.053, 0.101, 0.207), "elbow_right": (-0.057, 0.005, 0.151),
    "wrist_right": (0.081, -0.05, -0.017), "hand_right": (0.111, -0.034, 0.094), "hip_left": (-0.121, 0.013, 0.06),
    "knee_left": (-0.02, -0.123, 0.002), "ankle_left": (0.02, -0.199, -0.004), "foot_left": (-0.047, -0.3, -0.04),
    "hip_right": (0.061, -0.007, 0.06), "knee_right": (-0.027, -0.186, -0.077), "ankle_right": (0.065, -0.21, -0.147),
    "foot_right": (0.175, -0.306, -0.344), "spine_shoulder": (-0.127, 0.023, 0.162),
}  # fmt: skip
MEASURED_SLOW_STD: dict[str, Triple] = {
    "spine_base": (0.0, 0.0, 0.0), "spine_mid": (0.026, 0.012, 0.007), "neck": (0.052, 0.021, 0.022),
    "head": (0.031, 0.037, 0.041), "shoulder_left": (0.031, 0.021, 0.021), "elbow_left": (0.022, 0.007, 0.017),
    "wrist_left": (0.037, 0.061, 0.054), "hand_left": (0.01, 0.016, 0.019), "shoulder_right": (0.038, 0.02, 0.024),
    "elbow_right": (0.042, 0.04, 0.103), "wrist_right": (0.031, 0.036, 0.109), "hand_right": (0.019, 0.055, 0.068),
    "hip_left": (0.007, 0.002, 0.009), "knee_left": (0.021, 0.014, 0.029), "ankle_left": (0.034, 0.022, 0.034),
    "foot_left": (0.032, 0.023, 0.043), "hip_right": (0.007, 0.002, 0.009), "knee_right": (0.034, 0.033, 0.034),
    "ankle_right": (0.019, 0.018, 0.029), "foot_right": (0.032, 0.024, 0.05), "spine_shoulder": (0.048, 0.021, 0.013),
}  # fmt: skip
MEASURED_FAST_STD: dict[str, Triple] = {"wrist_left": (0.005, 0.0, 0.0), "ankle_left": (0.001, 0.0, 0.0)}
MEASURED_SCALE_STD = 0.029  # torso ratio IQR 0.0389 / 1.349


@dataclass(frozen=True)
class MediaPipeLikeConfig:
    """Parameters of `mediapipe_like` (module docstring); defaults are the measured ones.

    Attributes:
        joint_bias, slow_std, fast_std: per joint name, (x, y, z) in torso units; joints not named
            take their nearest named ancestor's values (0 when none is named).
        slow_frames: correlation length of the slow error and scale, in model frames.
        scale_std: standard deviation of the slow size factor about 1.
        bias_scale: (low, high) of the uniform factor the bias is multiplied by, per window.
        dropout: probability that a joint (never the root) has no value in a frame.
        remove_root_motion: put the root at the origin in every frame.
        root: the root joint.
    """

    joint_bias: dict[str, Triple] = field(default_factory=lambda: dict(MEASURED_BIAS))
    slow_std: dict[str, Triple] = field(default_factory=lambda: dict(MEASURED_SLOW_STD))
    fast_std: dict[str, Triple] = field(default_factory=lambda: dict(MEASURED_FAST_STD))
    slow_frames: int = 5
    scale_std: float = MEASURED_SCALE_STD
    bias_scale: tuple[float, float] = (1.0, 1.0)
    dropout: float = 0.0
    remove_root_motion: bool = True
    root: str = "spine_base"

    def __post_init__(self) -> None:
        for table in ("joint_bias", "slow_std", "fast_std"):
            for name, values in getattr(self, table).items():
                UNIFIED_30.index(name)  # KeyError naming an unknown joint
                if len(values) != 3 or not all(np.isfinite(values)):
                    raise ValueError(f"MediaPipeLikeConfig.{table}[{name!r}] must be 3 finite numbers, got {values!r}")
                if table != "joint_bias" and min(values) < 0:
                    raise ValueError(f"MediaPipeLikeConfig.{table}[{name!r}] must be >= 0, got {values!r}")
        if self.slow_frames < 1:
            raise ValueError(f"MediaPipeLikeConfig.slow_frames must be >= 1, got {self.slow_frames}")
        if not (self.scale_std >= 0 and 0.0 <= self.dropout < 1.0):
            raise ValueError(f"MediaPipeLikeConfig needs scale_std >= 0 and dropout in [0, 1), got "
                             f"{self.scale_std} and {self.dropout}")  # fmt: skip
        low, high = self.bias_scale
        if not 0.0 <= low <= high:
            raise ValueError(f"MediaPipeLikeConfig.bias_scale must be (low, high) with 0 <= low <= high, got "
                             f"{self.bias_scale}")  # fmt: skip
        UNIFIED_30.index(self.root)

    @classmethod
    def from_measurement(cls, path: str | Path, **overrides: Any) -> MediaPipeLikeConfig:
        """The config of a ``benchmarks/pose_gap.py`` result file (its ``augmentation`` section)."""
        found = json.loads(Path(path).read_text())["augmentation"]
        measured = {
            "joint_bias": {k: tuple(v) for k, v in found["joint_bias"].items()},
            "slow_std": {k: tuple(v) for k, v in found["joint_slow_std"].items()},
            "fast_std": {k: tuple(v) for k, v in found["joint_fast_std"].items() if any(v)},
            "scale_std": found["torso_ratio"]["iqr"] / 1.349,
        }
        return cls(**{**measured, **overrides})


def owners(named: set[str] | dict[str, Triple]) -> np.ndarray:
    """(30,) for each unified joint, itself if ``named``, else its nearest named ancestor (the root if none)."""
    parents = UNIFIED_30.parent_indices
    found = np.arange(UNIFIED_30.num_joints)
    for joint in range(UNIFIED_30.num_joints):
        node = joint
        while UNIFIED_30.joint_names[node] not in named and parents[node] != node:
            node = parents[node]
        found[joint] = node
    return found


def joint_table(values: dict[str, Triple], owner: np.ndarray) -> np.ndarray:
    """(30, 3) per unified joint: the values of its ``owner`` (see `owners`), 0 where the owner has none."""
    names = UNIFIED_30.joint_names
    return np.array([values.get(names[o], (0.0, 0.0, 0.0)) for o in owner], np.float32)


def slow_noise(rng: np.random.Generator, frames: int, shape: tuple[int, ...], correlation: int) -> np.ndarray:
    """(frames, *shape) standard Gaussian noise correlated over ``correlation`` frames (a moving sum, rescaled)."""
    white = rng.standard_normal((frames + correlation - 1, *shape))
    summed = np.cumsum(np.concatenate([np.zeros((1, *shape)), white]), axis=0)
    return (summed[correlation:] - summed[:-correlation]) / np.sqrt(correlation)


def mediapipe_like(
    window: np.ndarray, rng: np.random.Generator, config: MediaPipeLikeConfig | None = None
) -> np.ndarray:
    """A MediaPipe-like copy of a normalised unified_30 window (C=3, T, V=30, M); see the module docstring."""
    config = config if config is not None else MediaPipeLikeConfig()
    window = np.asarray(window)
    if window.ndim != 4 or window.shape[0] != 3 or window.shape[2] != UNIFIED_30.num_joints:
        raise ValueError(f"mediapipe_like needs a unified_30 window (3, T, 30, M), got {window.shape}")
    owner = owners(set(config.joint_bias) | set(config.slow_std) | set(config.fast_std))
    bias, slow, fast = (joint_table(t, owner) for t in (config.joint_bias, config.slow_std, config.fast_std))
    root = UNIFIED_30.index(config.root)
    frames = window.shape[1]
    out = np.array(window, dtype=np.float32, copy=True)
    for m in range(window.shape[3]):
        body = out[:, :, :, m].transpose(1, 2, 0).astype(np.float64)  # (T, V, 3)
        present = np.abs(body).sum(axis=(1, 2)) > 0
        if not present.any():
            continue
        origin = body[:, root : root + 1].copy()
        body = body - origin  # every change below is about the root of each frame
        scale = 1.0 + config.scale_std * slow_noise(rng, frames, (), config.slow_frames)
        body = body * scale[:, None, None]
        body = body + bias * rng.uniform(*config.bias_scale)
        body = body + slow * slow_noise(rng, frames, (UNIFIED_30.num_joints, 3), config.slow_frames)[:, owner]
        body = body + fast * rng.standard_normal(body.shape)[:, owner]
        body[:, root] = 0.0
        if config.dropout > 0:
            kept = rng.uniform(size=body.shape[:2]) >= config.dropout
            kept[:, root] = True
            body = fill_missing(body, kept.astype(np.float32), UNIFIED_30)
        if not config.remove_root_motion:
            body = body + origin
        body[~present] = 0.0
        out[:, :, :, m] = body.transpose(2, 0, 1)
    return out
