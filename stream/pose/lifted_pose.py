"""3D joints from image landmarks: a pose estimator's people with their 3D lifted from their 2D keypoints.

`LiftedPose` wraps any `PoseEstimator` whose people carry image points (the
MediaPipe estimator, its cached replay): each person's keypoints are mapped
into unified_30 (`models.skeleton.unified.to_unified`, MediaPipe's 33 or any
other 2D layout), lifted by a `models.lifting.lifter.NumpyLifter`, and the
person leaves as a ``unified_30`` skeleton — lifted joints scaled to metres
by the lifter's typical body size (``unit_m``: the scale is nominal, the
action model normalises it away), the unified confidences, and the unified
image points. ``stream-run`` uses it (``--pose-3d auto``, the default, or
``lifted``) instead of MediaPipe's world landmarks (``--pose-3d world``, and
auto with ``--intrinsics``: placing people by PnP needs metric joints): on the
Florence clips the action model reads lifted skeletons better
(models/MODEL_CARD.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models.lifting.lifter import DEFAULT_LIFTER, NumpyLifter, load_lifter
from models.skeleton.unified import to_unified
from stream.pose.estimator import PoseEstimator
from stream.types import Frame, Person

class LiftedPose:
    """``inner``'s people with 3D joints lifted from their image points (module docstring)."""

    def __init__(self, inner: PoseEstimator, lifter: NumpyLifter) -> None:
        self.inner = inner
        self.lifter = lifter

    @classmethod
    def from_path(cls, inner: PoseEstimator, lifter: str | Path | None = None) -> LiftedPose:
        """``inner`` lifted by the lifter directory ``lifter`` (default `DEFAULT_LIFTER`)."""
        return cls(inner, load_lifter(lifter or DEFAULT_LIFTER))

    def estimate(self, frame: Frame) -> list[Person]:
        return self.lift(self.inner.estimate(frame))

    def lift(self, people: list[Person]) -> list[Person]:
        """The same people, each with lifted unified_30 joints (people without image points pass unchanged)."""
        rows = [i for i, person in enumerate(people) if person.image_points is not None]
        if not rows:
            return people
        unified = [to_unified(people[i].image_points, people[i].confidence, people[i].layout) for i in rows]
        points = np.stack([u[0] for u in unified])
        confidence = np.stack([u[1] for u in unified])
        joints, _ = self.lifter(points, confidence)
        joints = joints * self.lifter.config.unit_m
        out = list(people)
        for k, i in enumerate(rows):
            person = people[i]
            out[i] = Person(joints=joints[k].astype(np.float32), confidence=confidence[k], layout="unified_30",
                            image_points=points[k], source_id=person.source_id, truth=person.truth,
                            action_point=person.action_point)  # fmt: skip
        return out

    def __enter__(self) -> LiftedPose:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.inner.__exit__(*exc_info)

    def __getattr__(self, name: str) -> Any:  # the inner estimator's counters (skipped_frames, recorded, ...)
        return getattr(self.inner, name)
