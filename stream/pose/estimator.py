"""`PoseEstimator`: what the pipeline asks of the pose step (MediaPipe's `stream.pose.mediapipe_pose` is one)."""

from __future__ import annotations

from typing import Protocol

from stream.types import Frame, Person


class PoseEstimator(Protocol):
    """Image frames → people (pixel image points, and metric joints where the estimator has them).

    Used as a context manager: entered before the run, exited (its model released) after it.
    """

    def estimate(self, frame: Frame) -> list[Person]:
        """The people in ``frame.image`` (BGR), in the estimator's layout; called once per image frame, in order."""
        ...

    def __enter__(self) -> PoseEstimator: ...

    def __exit__(self, *exc_info: object) -> None: ...
