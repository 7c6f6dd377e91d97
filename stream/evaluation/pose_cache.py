"""MediaPipe's people of each clip, cached, so re-evaluating a checkpoint skips the pose step.

    cache = PoseCache(default_cache_folder(), run_config)           # key parts computed once
    cached = cache.load(clip)                                       # {frame index: [Person]} or None
    with CachingPose(cached, lambda: make_pose_estimator(run_config)) as pose:
        ... Pipeline(..., pose=pose).run() ...                      # replays, or runs MediaPipe and records
    if cached is None:
        cache.save(clip, source_fps, pose.recorded)

A cache entry is a skelstream recording (`stream.recordings.skrec`, layout
``mediapipe_33``: joints, confidences and image points as float32, exactly
what the estimator returned) named ``{clip stem}-{key}.skrec``; it can be
replayed with ``stream-run --skeleton-file F --format recording``. The key
is a SHA-256 over everything that decides the people: the pose model file's
content, the clip file's content, the estimator's settings (``num_poses``,
smoothing and its One-Euro parameters, the detection/presence/tracking
thresholds), the mediapipe and OpenCV versions, and `CACHE_VERSION`. An entry
with another key, a torn last record or a corrupt file is ignored (and
overwritten by the next save): the cache can only be missing, never stale.
MediaPipe in VIDEO mode is deterministic for a given frame sequence and
timestamps (the frames come from the file's own clock), so a replay gives
the pipeline the same people as a live run (tested).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foundation.errors import DataFormatError
from foundation.errors import SourceError
from foundation.optional import require
from stream.recordings.skrec import RecordingHeader, RecordingWriter, read_recording
from stream.run.config import RunConfig
from stream.types import Frame, Person

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
"""Bump when what a cache entry holds changes meaning."""
LAYOUT = "mediapipe_33"


def default_cache_folder() -> Path:
    """``pose/`` inside the skelstream cache (``$SKELSTREAM_CACHE``, else ``~/.cache/skelstream``)."""
    from stream.pose.provision import default_cache_dir

    return default_cache_dir() / "pose"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pose_settings(config: RunConfig, model_path: str | Path) -> dict[str, Any]:
    """Everything besides the clip that decides MediaPipe's people in a ``config`` run (the key's other parts)."""
    cv2 = require("cv2", extra="pose", what="the video evaluation", pip_name="opencv-contrib-python")

    from stream.pose.mediapipe_pose import MediaPipePoseEstimator
    from stream.pose.one_euro import OneEuroConfig

    defaults = inspect.signature(MediaPipePoseEstimator.__init__).parameters
    thresholds = {name: defaults[name].default for name in
                  ("min_detection_confidence", "min_presence_confidence", "min_tracking_confidence")}  # fmt: skip
    return {
        "cache_version": CACHE_VERSION,
        "pose_model_sha256": file_digest(model_path),
        "num_poses": config.num_poses,
        "smoothing": dataclasses.asdict(OneEuroConfig()) if config.smoothing else None,
        **thresholds,
        "mediapipe": importlib.metadata.version("mediapipe"),
        "opencv": cv2.__version__,
    }


class PoseCache:
    """A folder of per-clip pose recordings for one set of `pose_settings`.

    Args:
        folder: where the entries live (created on the first save).
        config: the run whose pose step is cached (``pose_model``, ``num_poses``, ``smoothing``).

    Raises:
        PoseModelError: the pose model cannot be found or prepared.
    """

    def __init__(self, folder: str | Path, config: RunConfig) -> None:
        from stream.pose.provision import resolve_pose_model

        self.folder = Path(folder)
        self.model_path = resolve_pose_model(config.pose_model)
        self.settings = pose_settings(config, self.model_path)
        self.hits = 0
        self.misses = 0

    def key(self, clip: str | Path) -> str:
        """The entry key of ``clip`` under these settings (hex SHA-256)."""
        parts = {**self.settings, "clip_sha256": file_digest(clip)}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def entry(self, clip: str | Path, key: str | None = None) -> Path:
        """The file that holds (or would hold) ``clip``'s people."""
        return self.folder / f"{Path(clip).stem}-{(key or self.key(clip))[:24]}.skrec"

    def load(self, clip: str | Path) -> dict[int, list[Person]] | None:
        """``clip``'s people by source frame index, or None when there is no valid entry (counted as a miss)."""
        key = self.key(clip)
        path = self.entry(clip, key)
        people = _read_entry(path, key) if path.is_file() else None
        if people is None:
            self.misses += 1
        else:
            self.hits += 1
        return people

    def save(self, clip: str | Path, fps: float, frames: list[tuple[int, int, list[Person]]]) -> Path:
        """Store ``frames`` ((index, media time ns, people) in order) as ``clip``'s entry, atomically."""
        key = self.key(clip)
        path = self.entry(clip, key)
        self.folder.mkdir(parents=True, exist_ok=True)
        header = RecordingHeader(layout=LAYOUT, fps=fps, source=f"video {Path(clip).name}",
                                 meta={"pose_cache": key, **self.settings, "clip": Path(clip).name})  # fmt: skip
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            with RecordingWriter(partial, header) as writer:
                for index, media_ns, people in frames:
                    writer.write_frame(index, media_ns, people)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path


def _read_entry(path: Path, key: str) -> dict[int, list[Person]] | None:
    try:
        header, reader = read_recording(path)
        with reader:
            if header.meta.get("pose_cache") != key or header.layout != LAYOUT:
                logger.warning("pose cache %s: written for other settings; the clip is estimated again", path)
                return None
            people = {record.index: [p.to_person(header.layout) for p in record.people] for record in reader}
            if reader.skipped:
                logger.warning("pose cache %s: torn last record; the clip is estimated again", path)
                return None
    except (DataFormatError, OSError) as error:
        logger.warning("pose cache %s is unreadable (%s); the clip is estimated again", path, error)
        return None
    return people


class CachingPose:
    """The pose step of one clip: replays cached people, or runs a real estimator and records what it returns.

    Args:
        cached: the clip's people by frame index (`PoseCache.load`), or None to estimate.
        make_estimator: builds the real estimator (e.g. ``lambda: make_pose_estimator(config)``),
            called only when ``cached`` is None.

    ``recorded`` holds (index, media time ns, people) of every clip frame estimated live, for
    `PoseCache.save`. Frames with a negative index (``stream.run.assembly.warm_up``'s blank frame,
    which no stage sees) are passed to the estimator but neither recorded nor looked up.
    """

    def __init__(self, cached: dict[int, list[Person]] | None, make_estimator: Callable[[], Any]) -> None:
        self.cached = cached
        self.recorded: list[tuple[int, int, list[Person]]] = []
        self.frames_with_people = 0
        self._estimator = make_estimator() if cached is None else None

    @property
    def replaying(self) -> bool:
        return self.cached is not None

    def estimate(self, frame: Frame) -> list[Person]:
        """The people of ``frame``: from the cache when replaying, else from the estimator (recorded)."""
        if self.cached is not None:
            if frame.index < 0:
                return []
            if frame.index not in self.cached:
                raise SourceError(f"the pose cache has no frame {frame.index} of this clip (it holds "
                                  f"{len(self.cached)} frames): delete the entry or use --no-cache")  # fmt: skip
            people = self.cached[frame.index]
        else:
            people = self._estimator.estimate(frame)
            if frame.index >= 0:
                media_ns = frame.stamp_ns if frame.media_ns is None else frame.media_ns
                self.recorded.append((frame.index, media_ns, people))
        if frame.index >= 0 and people:
            self.frames_with_people += 1
        return people

    def close(self) -> None:
        if self._estimator is not None:
            self._estimator.close()

    def __enter__(self) -> CachingPose:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
