"""A video file through OpenCV, replayed in real time (default) or as fast as it is consumed.

    with make_source(VideoConfig("exercise.avi")) as video:   # 10 fps file: a frame every 100 ms
        for frame in video:
            ...

`start` raises `SourceError` for a missing file, one OpenCV cannot open, and
one that opens but yields no frame (truncated or corrupt). The frame rate is
the file's ``CAP_PROP_FPS`` (30 with a logged warning when the file gives
none). Real time: frame n is released n / fps seconds after the first, and a
slow consumer makes the queue drop the oldest frames, as a camera would. Fast
(``fast=True``): the producer waits for room in the queue, so every frame is
delivered exactly once. The end of the file ends the stream (``loop=True``
starts it again, indices and times continuing).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from foundation.errors import SourceError
from foundation.optional import require
from stream.sources.base import END_OF_STREAM, Capture, Source, SourceConfig, check_bool, config_error

logger = logging.getLogger(__name__)

FALLBACK_FPS = 30.0


@dataclass
class VideoConfig(SourceConfig):
    """A video file to replay.

    Attributes:
        path: the video file.
        fast: release frames as fast as the consumer takes them (lossless) instead of in real time.
        loop: start again at the end of the file (an endless stream).
    """

    source_type: ClassVar[str] = "video"

    path: str | Path
    fast: bool = False
    loop: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.path, (str, Path)) or not str(self.path).strip():
            raise config_error(self, "path", "must be a file path")
        self.path = Path(self.path)
        check_bool(self, "fast")
        check_bool(self, "loop")


class VideoSource(Source):
    """Frames of a video file: BGR images, paced by the file's frame rate unless ``fast``."""

    def __init__(self, config: VideoConfig) -> None:
        if not isinstance(config, VideoConfig):
            raise TypeError(f"VideoSource needs a VideoConfig, got {type(config).__name__}")
        super().__init__(config, name=f"video {config.path.name}", paced=not config.fast, lossless=config.fast)
        self.config: VideoConfig = config
        self._cv2: Any = None
        self._capture: Any = None
        self._pending: Any = None  # the first image, read by _open
        self._frames_read = 0  # over every pass of a loop: the media clock
        self._pass_frames = 0
        self.frame_count: int | None = None  # as the file declares it

    def _open(self) -> None:
        self._cv2 = cv2 = require("cv2", extra="pose", what="the video source", pip_name="opencv-contrib-python")
        path = self.config.path
        if not path.exists():
            raise SourceError(f"cannot open video {path}: no such file")
        if not path.is_file():
            raise SourceError(f"cannot open video {path}: not a file")
        capture = self._open_capture()
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise SourceError(f"cannot read video {path}: it opened but holds no readable frame "
                              "(truncated or corrupt file?)")  # fmt: skip
        self._capture, self._pending = capture, image
        fps = capture.get(cv2.CAP_PROP_FPS)
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            logger.warning("video %s: the file gives no usable frame rate (%r); assuming %g fps",
                           path, fps, FALLBACK_FPS)  # fmt: skip
            fps = FALLBACK_FPS
        self.fps = float(fps)
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if math.isfinite(count) and count > 0 else None
        height, width = image.shape[:2]
        logger.info("video %s: %dx%d at %g fps, %s frames%s", path, width, height, self.fps,
                    self.frame_count or "unknown", "" if self.config.fast else " (real time)")  # fmt: skip

    def _open_capture(self) -> Any:
        capture = self._cv2.VideoCapture(str(self.config.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot open video {self.config.path}: OpenCV cannot decode it "
                              "(not a video, corrupt, or a codec this OpenCV build lacks)")  # fmt: skip
        return capture

    def _next(self) -> Capture | None:
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, image = self._capture.read()
            if not ok or image is None:
                self._end_of_pass()
                if not self.config.loop or self._pass_frames == 0:
                    return END_OF_STREAM
                self._capture.release()
                self._capture = self._open_capture()
                self._pass_frames = 0
                ok, image = self._capture.read()
                if not ok or image is None:
                    return END_OF_STREAM
        media_ns = round(self._frames_read * 1e9 / self.fps)
        self._frames_read += 1
        self._pass_frames += 1
        return Capture(image=image, media_ns=media_ns)

    def _end_of_pass(self) -> None:
        if self.frame_count is not None and self._pass_frames < self.frame_count:
            logger.warning("video %s: ended after %d of the %d frames it declares (truncated?)",
                           self.config.path, self._pass_frames, self.frame_count)  # fmt: skip

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
