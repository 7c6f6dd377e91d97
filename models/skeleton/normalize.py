"""Window normalisation: centring, view alignment and body-size scaling, with recorded parameters.

A checkpoint records its `NormalizationConfig`; training, evaluation and the
streaming runtime all call `normalize_window` with it, so a model never sees
data prepared differently from what it was trained on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from models.skeleton.layouts import Layout, get_layout
from models.skeleton.unified import fill_missing

CENTER_MODES = ("none", "first", "mean", "frame")
ALIGN_MODES = ("none", "hips")
SCALE_MODES = ("none", "torso")


@dataclass(frozen=True)
class NormalizationConfig:
    """How a window is normalised before it reaches the model.

    Attributes:
        center_joint: joint whose position becomes the origin.
        center: "first" (body 0's centre joint at the first frame it is present),
            "mean" (its mean over the window's present frames), "frame" (every
            frame and body centred on itself) or "none".
        align: "hips" rotates about the vertical (y) axis so body 0's
            right-to-left hip vector points along -x (the person faces the
            camera), or "none". 3D layouts only.
        scale: "torso" divides by body 0's median centre-joint-to-spine_shoulder
            length (unit torso), or "none".
        joints: the joints the model uses, or None for all. Every other joint is
            treated as missing and placed on its nearest used ancestor, whatever
            the source provides, so a model trained on Kinect v1 skeletons (no
            hand tips, no face) sees the same kind of input from MediaPipe.
        mark_missing: joints a present body lacks in a frame (mask 0, or not in
            ``joints``) are NaN in the output instead of sitting on their
            ancestor, for a model with missing-joint prompts
            (``DSTEConfig.missing_prompts``) to place them itself.
    """

    center_joint: str = "spine_base"
    center: str = "mean"
    align: str = "hips"
    scale: str = "torso"
    joints: tuple[str, ...] | None = None
    mark_missing: bool = False

    def __post_init__(self) -> None:
        if self.joints is not None:
            object.__setattr__(self, "joints", tuple(self.joints))  # JSON gives a list
            if self.center_joint not in self.joints:
                raise ValueError(f"NormalizationConfig.joints must include center_joint {self.center_joint!r}")
        for field_name, allowed in (("center", CENTER_MODES), ("align", ALIGN_MODES), ("scale", SCALE_MODES)):
            value = getattr(self, field_name)
            if value not in allowed:
                raise ValueError(f"NormalizationConfig.{field_name} must be one of {allowed}, got {value!r}")

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["joints"] = list(self.joints) if self.joints is not None else None
        if not self.mark_missing:
            del data["mark_missing"]  # written only when set, so older checkpoints' configs stay as they were
        return data


@dataclass(frozen=True)
class NormalizationParams:
    """What `normalize_window` did: ``normalized = (joints - origin) @ rotation.T / scale``."""

    origin: np.ndarray
    rotation: np.ndarray
    scale: float


def _present_frames(mask: np.ndarray, joint: int) -> np.ndarray:
    return np.flatnonzero(mask[:, 0, joint] > 0)


def _vertical_rotation(direction: np.ndarray) -> np.ndarray:
    """Rotation about y taking the horizontal part of ``direction`` onto -x."""
    yaw = np.arctan2(direction[2], -direction[0])  # how far the vector is turned from -x, in the x-z plane
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]], dtype=np.float32)  # turns it back by -yaw


def normalize_window(
    joints: np.ndarray, mask: np.ndarray, layout: Layout | str, config: NormalizationConfig
) -> tuple[np.ndarray, NormalizationParams]:
    """Normalise a window ``joints`` (T, M, V, C) with confidences ``mask`` (T, M, V).

    Body 0 defines origin, rotation and scale for every body, so relative
    positions between people are kept. Absent bodies (mask 0 everywhere in a
    frame) stay zero; the joints a present body lacks sit on their nearest
    present ancestor, or are NaN with ``config.mark_missing``. Returns float32 joints of the same shape and the params.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if joints.ndim != 4 or mask.shape != joints.shape[:3]:
        raise ValueError(f"expected joints (T, M, V, C) and mask (T, M, V); got {joints.shape} and {mask.shape}")
    dims = joints.shape[-1]
    out = np.asarray(joints, dtype=np.float32).copy()
    if config.joints is not None:
        unused = np.array([name not in config.joints for name in layout.joint_names])
        mask = np.where(unused, 0.0, mask).astype(np.float32)
        out = fill_missing(out, mask, layout)
    body_present = (mask > 0).any(axis=2)  # (T, M)
    center_index = layout.index(config.center_joint)
    present = _present_frames(mask, center_index)

    origin = np.zeros(dims, dtype=np.float32)
    if config.center == "frame":
        frame_origin = out[:, :, center_index : center_index + 1, :]
        out = out - frame_origin
    elif config.center != "none" and present.size:
        centers = out[present, 0, center_index, :]
        origin = centers[0] if config.center == "first" else centers.mean(axis=0)
        out = out - origin

    rotation = np.eye(dims, dtype=np.float32)
    if config.align == "hips" and dims == 3:
        left, right = layout.index("hip_left"), layout.index("hip_right")
        both = np.flatnonzero((mask[:, 0, left] > 0) & (mask[:, 0, right] > 0))
        if both.size:
            hip_vector = (out[both, 0, left, :] - out[both, 0, right, :]).mean(axis=0)
            if np.hypot(hip_vector[0], hip_vector[2]) > 1e-6:
                rotation = _vertical_rotation(hip_vector)
                out = out @ rotation.T

    scale = 1.0
    if config.scale == "torso":
        top = layout.index("spine_shoulder")
        both = np.flatnonzero((mask[:, 0, center_index] > 0) & (mask[:, 0, top] > 0))
        if both.size:
            lengths = np.linalg.norm(joints[both, 0, top, :] - joints[both, 0, center_index, :], axis=-1)
            torso = float(np.median(lengths))
            if torso > 1e-6:
                scale = torso
                out = out / scale

    out[~body_present] = 0.0
    if config.mark_missing:
        out[body_present[:, :, None] & (mask <= 0)] = np.nan
    return out, NormalizationParams(origin=origin, rotation=rotation, scale=scale)
