"""A live camera through OpenCV: a device index, a device path (``/dev/video2``) or a stream URL.

    with make_source(CameraConfig(0, width=640, height=480, fps=30)) as camera:
        frame = camera.read(timeout=1.0)

`cv2.VideoCapture` raises nothing for a camera that is not there (DESIGN §6):
`start` checks ``isOpened()`` and the first frame and raises `SourceError`
("cannot open camera 0: ...") instead. Every read is checked; a camera that
stops delivering ends the stream with the error "camera 0 stopped delivering
frames after N frames". Frames are stamped right after the grab, before the
decode, and never wait for the consumer (the queue drops the oldest).
OpenCV is imported only when a camera is opened (extra ``pose``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from foundation.errors import SourceError
from foundation.optional import require
from stream.sources.base import (
    READ_FAILED,
    Capture,
    Source,
    SourceConfig,
    check_int,
    check_positive,
    config_error,
)

logger = logging.getLogger(__name__)


@dataclass
class CameraConfig(SourceConfig):
    """A camera to open.

    Attributes:
        device: an index (``0``; a string of digits counts as one), a device path or a URL.
        width, height: requested frame size in pixels (None: the camera's default).
        fps: requested frame rate (None: the camera's default).
    """

    source_type: ClassVar[str] = "camera"

    device: int | str = 0
    width: int | None = None
    height: int | None = None
    fps: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.device, str) and self.device.strip().isdecimal():
            self.device = int(self.device.strip())
        if isinstance(self.device, bool) or not isinstance(self.device, (int, str)):
            raise config_error(self, "device", "must be a camera index, a device path or a URL")
        if isinstance(self.device, int) and self.device < 0:
            raise config_error(self, "device", "must be a non-negative camera index")
        if isinstance(self.device, str) and not self.device.strip():
            raise config_error(self, "device", "must not be empty")
        check_int(self, "width", 1, optional=True)
        check_int(self, "height", 1, optional=True)
        check_positive(self, "fps", optional=True)


class CameraSource(Source):
    """Frames from a live camera: BGR images, stamped at the grab, drop-oldest queue."""

    def __init__(self, config: CameraConfig) -> None:
        if not isinstance(config, CameraConfig):
            raise TypeError(f"CameraSource needs a CameraConfig, got {type(config).__name__}")
        super().__init__(config, name=f"camera {config.device}", paced=False, lossless=False)
        self.config: CameraConfig = config
        self._capture: Any = None
        self._pending: Capture | None = None

    def _open(self) -> None:
        cv2 = require("cv2", extra="pose", what="the camera source", pip_name="opencv-contrib-python")
        device = self.config.device
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our error below says it in one line
        try:
            capture = cv2.VideoCapture(device)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not capture.isOpened():
            capture.release()
            what = "index" if isinstance(device, int) else "path or URL"
            raise SourceError(
                f"cannot open camera {device}: OpenCV found no camera at that {what} "
                "(not connected, no permission, or used by another program)"
            )
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.config.width),
                            (cv2.CAP_PROP_FRAME_HEIGHT, self.config.height),
                            (cv2.CAP_PROP_FPS, self.config.fps)):  # fmt: skip
            if value is not None:
                capture.set(prop, float(value))
        self._capture = capture
        # The first frame proves the camera delivers (some open fine and then never do).
        for _ in range(self.config.max_consecutive_failures):
            first = self._grab()
            if first is not READ_FAILED:
                self._pending = first
                break
            time.sleep(self.retry_delay_s)
        else:
            capture.release()
            self._capture = None
            raise SourceError(f"cannot open camera {device}: it opened but delivered no frame "
                              f"in {self.config.max_consecutive_failures} tries")  # fmt: skip
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and fps > 0 else self.config.fps
        height, width = self._pending.image.shape[:2]
        logger.info("camera %s: %dx%d at %s fps", device, width, height, self.fps)
        for name, wanted, got in (("width", self.config.width, width), ("height", self.config.height, height)):
            if wanted is not None and wanted != got:
                logger.warning("camera %s: asked for %s %d, it delivers %d", device, name, wanted, got)

    def _grab(self) -> Capture | Any:
        if not self._capture.grab():
            return READ_FAILED
        stamp = time.monotonic_ns()
        ok, image = self._capture.retrieve()
        if not ok or image is None:
            return READ_FAILED
        return Capture(image=image, stamp_ns=stamp)

    def _next(self) -> Capture | Any:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return pending
        return self._grab()

    def _failure_message(self) -> str:
        return f"camera {self.config.device} stopped delivering frames after {self.frames_captured} frames"

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
