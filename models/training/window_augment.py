"""Training windows that look like what the stream gives the model.

Three things a Kinect recording rarely shows but a camera stream always does,
and one that a few dozen recorded people show too little of:

- **Lifted skeletons** (`models.lifting`): what the stream gives the model
  by default for a camera (``--pose-3d auto``). With probability
  ``lifted_view`` the window's bodies are seen through one random virtual
  camera (`models.lifting.virtual_cameras.project_views`, one camera for the
  window), their 2D keypoints lifted back by the shipped lifter (root-relative,
  in metres of its nominal size), before the normalisation; such a window
  gets no MediaPipe-like view on top.
- **MediaPipe's skeletons** (`models.augment.mediapipe_like`): no root motion
  (world landmarks are hip-centred), per-joint bias, slow error, size
  fluctuation. With probability ``camera_view`` a window is replaced by such a
  view (its bias scaled by a factor drawn in [0, 1], since it was measured on
  one person).
- **Young tracks**: a person who just appeared, whose window the stream pads by
  repeating their first pose (`models.windows`). With probability
  ``young_track`` the window's first frames, up to a cut drawn so that 8 to 40
  real frames remain, repeat the frame at the cut, and their targets are
  ignored.
- **Their own pace**: people perform the same gesture faster or slower. With
  ``speed_range`` = (low, high) other than (1, 1), each window plays its
  recording at a speed drawn log-uniformly in [low, high] (2: twice as fast):
  its frames are read at fractional positions ``end - speed * k`` and
  interpolated linearly (a joint is present when both neighbours are), its
  targets taken from the nearest frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from models.augment.mediapipe_like import MediaPipeLikeConfig, mediapipe_like
from models.lifting.virtual_cameras import project_views
from models.skeleton.layouts import UNIFIED_30
from models.skeleton.unified import fill_missing

YOUNG_TRACK_FRAMES = (8, 40)


@dataclass(frozen=True)
class WindowAugment:
    """Probabilities of the camera view, the young-track cut and the lifted view, and the range of playback
    speeds (module docstring)."""

    camera_view: float = 0.0
    young_track: float = 0.0
    lifted_view: float = 0.0
    speed_range: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        for name in ("camera_view", "young_track", "lifted_view"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")
        if len(self.speed_range) != 2 or not 0.0 < self.speed_range[0] <= self.speed_range[1]:
            raise ValueError(f"speed_range must be two speeds 0 < low <= high, got {tuple(self.speed_range)}")

    @property
    def active(self) -> bool:
        return self.camera_view > 0 or self.young_track > 0 or self.lifted_view > 0 or self.varies_speed

    @property
    def varies_speed(self) -> bool:
        """Whether windows play at another speed than recorded."""
        return tuple(self.speed_range) != (1.0, 1.0)

    def speed(self, rng: np.random.Generator) -> float:
        """The window's playback speed: log-uniform in ``speed_range`` (1 without drawing when it is (1, 1))."""
        if not self.varies_speed:
            return 1.0
        low, high = self.speed_range
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))

    def lifted(self, joints: np.ndarray, mask: np.ndarray, rng: np.random.Generator,
               ) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
        """With probability ``lifted_view``, the (T, M, 30, 3) metric unified joints and their (T, M, 30) mask as
        the stream's lifted camera skeletons (module docstring); else None."""
        if rng.uniform() >= self.lifted_view:
            return None
        lifter = _shipped_lifter()
        joints, mask = joints.copy(), mask.copy()
        for body in range(joints.shape[1]):
            present = mask[:, body] > 0
            if present.any(axis=1).sum() < 2:
                continue
            pixels, seen, _ = project_views(joints[:, body], present, rng, one_camera=True)
            lifted, shown = lifter(pixels, seen)
            joints[:, body] = np.where(shown[..., None] > 0, lifted * lifter.config.unit_m, 0.0)
            mask[:, body] = shown
        return joints, mask

    def young_cut(self, frames: int, rng: np.random.Generator) -> int:
        """How many leading frames of a ``frames``-frame window repeat the next one (0: none)."""
        if rng.uniform() >= self.young_track:
            return 0
        low, high = YOUNG_TRACK_FRAMES
        return max(0, frames - int(rng.integers(low, min(high, frames) + 1)))

    def camera(self, window: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The normalised (C, T, V, M) window, or with probability ``camera_view`` a MediaPipe-like view of it.

        NaN-marked missing joints (``NormalizationConfig.mark_missing``) stay NaN: the view is taken with them on
        their ancestors, as `mediapipe_like` expects.
        """
        if rng.uniform() >= self.camera_view:
            return window
        missing = np.isnan(window).any(axis=0)  # (T, V, M)
        if not missing.any():
            return mediapipe_like(window, rng, _CAMERA)
        joints = np.nan_to_num(window).transpose(1, 3, 2, 0)  # (T, M, V, C)
        placed = fill_missing(joints, (~missing).transpose(0, 2, 1).astype(np.float32), UNIFIED_30)
        view = mediapipe_like(placed.transpose(3, 0, 2, 1), rng, _CAMERA)
        view[:, missing] = np.nan
        return view


def read_frames(joints: np.ndarray, mask: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, M, V, 3) joints and (T, M, V) mask at fractional frame ``positions`` (within the sequence), linearly
    interpolated; a joint is present where every frame that contributes to it has it."""
    lower = np.floor(positions).astype(np.int64)
    upper = np.minimum(lower + 1, len(joints) - 1)
    weight = positions - lower
    mixed = joints[lower] * (1.0 - weight[:, None, None, None]) + joints[upper] * weight[:, None, None, None]
    present = np.where(weight[:, None, None] > 0, np.minimum(mask[lower], mask[upper]), mask[lower])
    return mixed.astype(joints.dtype, copy=False), present


_CAMERA = MediaPipeLikeConfig(bias_scale=(0.0, 1.0))


@lru_cache(maxsize=1)
def _shipped_lifter():
    from models.lifting.lifter import DEFAULT_LIFTER, load_lifter

    return load_lifter(DEFAULT_LIFTER)
