"""A source fed from outside: an integration pushes images or skeletons as they arrive (ROS 2 callbacks).

    with make_source(PushSourceConfig(name="image topic", fps=30)) as source:
        source.push_image(bgr, stamp_ns=capture_ns)     # from a callback thread; returns False if not taken
        frame = source.read(timeout=0.5)                # from the pipeline's thread
        source.end()                                    # no more frames: the pipeline finishes what is queued

The callbacks only enqueue. The queue is the one of every source (`stream.sources.base`):
when the consumer falls behind, the OLDEST frame is dropped and counted
(``frames_dropped``), so a callback never blocks and the consumer always gets
the newest frames.

Stamps. ``stamp_ns`` is the capture time on the `time.monotonic_ns` clock
(default: the moment of the push); an integration whose frames carry their own
clock (a ROS header) maps it onto that clock first. Frames must arrive in
capture order: one stamped earlier than the last accepted frame is refused and
counted (``out_of_order``). Pushes before `start`, after `end` or `stop` are
refused and counted (``refused``). ``end(error)`` finishes the stream; with an
error the source reports it as every source does (``error``), and the pipeline
stops with that reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from foundation.errors import SourceError
from stream.sources.base import END_OF_STREAM, Capture, Source, SourceConfig, check_positive, config_error
from stream.types import Person


@dataclass
class PushSourceConfig(SourceConfig):
    """A stream whose frames an integration pushes.

    Attributes:
        name: what the frames come from, for messages ("image topic /camera/image_raw").
        fps: the nominal frame rate when known (status messages, recording headers), else None.
        layout: the layout of pushed skeletons when known (recording headers), else None.
    """

    source_type: ClassVar[str] = "push"

    name: str = "pushed frames"
    fps: float | None = None
    layout: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.name, str) or not self.name.strip():
            raise config_error(self, "name", "must be a non-empty string")
        check_positive(self, "fps", optional=True)
        if self.layout is not None:
            from models.skeleton.layouts import LAYOUTS

            if self.layout not in LAYOUTS:
                raise config_error(self, "layout", f"must be None or one of {', '.join(sorted(LAYOUTS))}")


class PushSource(Source):
    """Frames pushed by `push_image` / `push_people` from any thread, delivered by `read` in push order."""

    def __init__(self, config: PushSourceConfig) -> None:
        if not isinstance(config, PushSourceConfig):
            raise TypeError(f"PushSource needs a PushSourceConfig, got {type(config).__name__}")
        super().__init__(config, name=config.name, paced=False, lossless=False)
        self.config: PushSourceConfig = config
        self.fps = config.fps
        self.layout = config.layout
        self._push_lock = threading.Lock()  # pushes from several callback threads keep their order checks atomic
        self._finished = threading.Event()  # set by end() and stop(): the capture thread returns
        self._end_error: str | None = None
        self._last_stamp_ns: int | None = None
        self._refused = 0
        self._out_of_order = 0

    # --- the producer side ------------------------------------------------------------------------

    def push_image(self, image: np.ndarray, stamp_ns: int | None = None) -> bool:
        """Queue a BGR uint8 (H, W, 3) image; False when it was refused (see the module docstring)."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
            raise ValueError(f"{self.name}: push_image takes a BGR uint8 (H, W, 3) image, "
                             f"got {image.dtype} {image.shape}")  # fmt: skip
        return self._accept(Capture(image=image), stamp_ns)

    def push_people(self, people: Sequence[Person], stamp_ns: int | None = None) -> bool:
        """Queue the skeletons of one frame (an empty list: nobody seen); False when refused."""
        people = list(people)
        for person in people:
            if not isinstance(person, Person):
                raise TypeError(f"{self.name}: push_people takes Person objects, got {type(person).__name__}")
        return self._accept(Capture(people=people), stamp_ns)

    def end(self, error: str | None = None) -> None:
        """No more frames: queued ones stay readable, then `read` reports the end (with ``error`` if given)."""
        with self._push_lock:
            if self._end_error is None and error is not None:
                self._end_error = str(error)
            self._finished.set()

    # --- Source hooks -------------------------------------------------------------------------------

    def _open(self) -> None:
        """Nothing to acquire: frames arrive by push."""

    def _next(self) -> Capture | None:
        # The capture thread has nothing to read: it waits for the end, then reports it.
        self._finished.wait()
        if self._end_error is not None:
            raise SourceError(self._end_error)
        return END_OF_STREAM

    def stop(self) -> None:
        """Stop accepting pushes and finish the stream (queued frames stay readable)."""
        self._finished.set()
        super().stop()

    def stats(self) -> dict[str, Any]:
        """The counters of every source plus ``refused`` and ``out_of_order`` pushes."""
        with self._push_lock:
            return {**super().stats(), "refused": self._refused, "out_of_order": self._out_of_order}

    # --- internals ----------------------------------------------------------------------------------

    def _accept(self, capture: Capture, stamp_ns: int | None) -> bool:
        with self._push_lock:
            if not self._started or self._finished.is_set() or self.ended:
                self._refused += 1
                return False
            stamp = time.monotonic_ns() if stamp_ns is None else int(stamp_ns)
            if self._last_stamp_ns is not None and stamp < self._last_stamp_ns:
                self._out_of_order += 1
                return False
            self._last_stamp_ns = stamp
            self._push(capture._replace(stamp_ns=stamp))
            return True
