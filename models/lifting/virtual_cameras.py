"""Training pairs for the lifter: real 3D skeletons seen through random virtual cameras.

Each frame's unified_30 joints (metres, camera frame of the sensor that
recorded them) are turned about the vertical through the spine base (yaw),
seen from a camera pitched up or down, placed 2 to 5.5 m away and projected
with a random focal length and principal point. The 2D keypoints then get
what a 2D detector adds: Gaussian jitter relative to the body's size, joints
it drops, and the joint set of a real 2D source (`SOURCE_LAYOUTS`: MediaPipe's
33 image landmarks, COCO-17, Penn Action's 13) mapped into unified_30. The
target is the turned skeleton, root-relative, in the unit of the lifter's
output (`models.lifting.lifter`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from models.lifting.lifter import ROOT
from models.skeleton.unified import unified_weights

SOURCE_LAYOUTS = ("mediapipe_33", "coco_17", "penn_action_13")


@dataclass(frozen=True)
class CameraRanges:
    """The ranges virtual cameras are drawn from (uniform)."""

    yaw_deg: float = 120.0  # the body turned by ±this about the vertical
    pitch_deg: tuple[float, float] = (-10.0, 30.0)  # camera looking down (+) or up (−)
    distance_m: tuple[float, float] = (2.0, 5.5)
    off_axis: tuple[float, float] = (0.25, 0.1)  # the body up to this share of the distance off the optical axis (x, y)
    focal_px: tuple[float, float] = (500.0, 1500.0)
    principal_px: tuple[float, float] = (320.0, 960.0)
    jitter: tuple[float, float] = (0.005, 0.03)  # 2D noise σ as a share of the body's 2D spread
    drop: float = 0.05  # chance that a keypoint is missed

    def to_dict(self) -> dict:
        return asdict(self)


def source_masks() -> np.ndarray:
    """(S, 30) which unified joints each of `SOURCE_LAYOUTS` provides."""
    return np.stack([unified_weights(name)[1].any(axis=1) for name in SOURCE_LAYOUTS]).astype(bool)


def _rotation_y(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, zero, s], -1), np.stack([zero, one, zero], -1), np.stack([-s, zero, c], -1)], -2)


def _rotation_x(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)], -2)


def project_views(joints: np.ndarray, present: np.ndarray, rng: np.random.Generator,
                  ranges: CameraRanges = CameraRanges(), one_camera: bool = False,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(N, 30, 3) metric joints with their (N, 30) presence → (N, 30, 2) pixel keypoints, their (N, 30)
    confidences (0 where the joint is absent, dropped or not in the drawn source's joint set) and the (N, 30, 3)
    root-relative turned skeletons (the target, in metres; `target_unit` scales them). Each frame gets its own
    camera, or with ``one_camera`` all share one (the frames of one clip)."""
    n = len(joints)
    draw = _shared(rng, n) if one_camera else rng
    body = np.where(present[..., None], joints - joints[:, ROOT : ROOT + 1], 0.0)
    yaw = np.deg2rad(draw.uniform(-ranges.yaw_deg, ranges.yaw_deg, n))
    pitch = np.deg2rad(draw.uniform(*ranges.pitch_deg, n))
    turned = np.einsum("nij,nvj->nvi", _rotation_x(pitch) @ _rotation_y(yaw), body)
    distance = draw.uniform(*ranges.distance_m, n)
    side, up = ranges.off_axis
    offset = np.stack([draw.uniform(-side, side, n) * distance, draw.uniform(-up, up, n) * distance, distance], -1)
    placed = turned + offset[:, None]
    focal = draw.uniform(*ranges.focal_px, n)[:, None]
    principal = draw.uniform(*ranges.principal_px, (n, 2))
    depth = np.maximum(placed[..., 2], 0.3)
    pixels = np.stack([principal[:, :1] - focal * placed[..., 0] / depth,
                       principal[:, 1:] - focal * placed[..., 1] / depth], -1)  # fmt: skip
    spread = np.sqrt((np.where(present[..., None], pixels - pixels.mean(1, keepdims=True), 0) ** 2).sum((1, 2))
                     / np.maximum(present.sum(1), 1))  # fmt: skip
    pixels = pixels + rng.normal(size=pixels.shape) * (draw.uniform(*ranges.jitter, n) * spread)[:, None, None]
    sources = source_masks()[draw.integers(0, len(SOURCE_LAYOUTS), n)]
    seen = present & sources & (rng.uniform(size=present.shape) >= ranges.drop)
    return pixels.astype(np.float32), seen.astype(np.float32), turned.astype(np.float32)


class _shared:
    """Draws like a numpy Generator's, but one value (per trailing shape) repeated for all ``n`` frames."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng, self.n = rng, n

    def uniform(self, low, high, size) -> np.ndarray:
        shape = (size,) if isinstance(size, int) else tuple(size)
        return np.broadcast_to(self.rng.uniform(low, high, (1, *shape[1:])), (self.n, *shape[1:])).copy()

    def integers(self, low, high, size) -> np.ndarray:
        return np.full(size, self.rng.integers(low, high))


def target_unit(turned: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(N,) the lifter's output unit of each turned skeleton: the RMS x-y distance from the root of the joints
    its 2D view shows (``seen``), as the input is normalised (`models.lifting.lifter`)."""
    planar = np.where(seen[..., None] > 0, turned[..., :2], 0.0)
    return np.sqrt((planar**2).sum(axis=(1, 2)) / np.maximum((seen > 0).sum(axis=1), 1))
