"""The skeletons a clip's people give the model through the camera path, kept to train on (``--save-skeletons``).

    tap = SkeletonTap()
    Pipeline(config, source, backend, publisher, pose=pose, model_input=tap)   # run_clip does this
    joints, mask, frames = tap.track(track_id)                                 # unified_30, as the windows take them

What the tap keeps is each tracked person exactly as `stream.run.pipeline.Pipeline`
hands them to the window batcher — after MediaPipe, the lifting (``--pose-3d``)
and the root's motion across the image — converted to ``unified_30`` by the
batcher's own `stream.stages.windowing.person_to_unified`, one row per source
frame. Training resamples them to the model's rate with the offline rules the
batcher follows online, so a model trained on them sees the windows
`stream-run --video` would cut. `save_florence_skeletons` writes the clip's
person (the track the evaluation reads, `ClipReading.subject_track`) as a
``florence-camera`` file (`models.datasets.florence_camera`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.datasets.florence_camera import write_clip_skeletons
from stream.evaluation.florence import FlorenceClip
from stream.stages.windowing import person_to_unified
from stream.types import TrackedPerson


class SkeletonTap:
    """Per track, every source frame's skeleton as the model's windows take it (``unified_30``)."""

    def __init__(self) -> None:
        self._tracks: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}

    def __call__(self, frame: int, people: list[TrackedPerson]) -> None:
        for tracked in people:
            joints, mask = person_to_unified(tracked.person)
            self._tracks.setdefault(tracked.track_id, []).append((frame, joints, mask))

    @property
    def track_ids(self) -> list[int]:
        return sorted(self._tracks)

    def track(self, track_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Track ``track_id``'s joints (T, 30, 3), mask (T, 30) and source frame indices (T,).

        Raises:
            KeyError: the track was never seen.
        """
        rows = self._tracks[track_id]
        return (np.stack([r[1] for r in rows]), np.stack([r[2] for r in rows]),
                np.array([r[0] for r in rows], dtype=np.int64))  # fmt: skip


def save_florence_skeletons(folder: str | Path, clip: FlorenceClip, tap: SkeletonTap, track_id: int | None,
                            fps: float) -> Path | None:  # fmt: skip
    """Write ``clip``'s person (track ``track_id``) into ``folder`` as ``<clip>.npz``; None when nobody was tracked."""
    if track_id is None or track_id not in tap.track_ids:
        return None
    joints, mask, frames = tap.track(track_id)
    path = Path(folder) / f"{clip.name}.npz"
    write_clip_skeletons(path, joints, mask, frames, fps, clip.action, clip.actor)
    return path
