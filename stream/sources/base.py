"""The contract every source follows: a capture thread feeding a bounded queue (DESIGN §1).

A concrete source implements three hooks and the base does the rest:

- ``_open()``: acquire the device or file, in the caller's thread, so that
  `Source.start` raises `SourceError` with one clear line (no camera, missing
  file, unreadable video);
- ``_next()``: called in the capture thread; returns a `Capture`, `END_OF_STREAM`
  (``None``) or `READ_FAILED` (a retryable failure: after
  ``max_consecutive_failures`` of them in a row the source ends with the
  error ``_failure_message()``, rather than spinning);
- ``_close()``: release it (called by the capture thread when it exits).

Queue policy. Live and real-time sources never wait for the consumer: when the
queue is full the OLDEST frame is dropped and counted (``frames_dropped``), so
the camera is never blocked by inference and the consumer always gets the
newest frames. A lossless source (a file replayed with ``fast=True``) blocks
its producer instead while the queue is full: nothing is lost, frames come as
fast as the consumer takes them.

Pacing. A `Capture` with ``media_ns`` (its time since the start of the
recording) is released at that time after the first frame's release when the
source is paced (real-time replay); frames running late are released at once.
Unpaced captures are released as soon as they are read.

Time stamps: ``Frame.stamp_ns`` is the `time.monotonic_ns` of the capture when
the source measured it (cameras: right after the grab), else of the release
into the queue. ``Frame.index`` counts captured frames from 0, so dropped frames
leave gaps in the indices a consumer sees.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

from foundation.errors import SourceError
from stream.types import Frame, Person

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 4
DEFAULT_MAX_CONSECUTIVE_FAILURES = 10


class Capture(NamedTuple):
    """What ``_next()`` hands to the base: the payload of one frame and its timing.

    Attributes:
        image: BGR uint8 (H, W, 3), or None.
        people: skeletons, or None.
        media_ns: time of this frame since the start of the recording (paced
            sources release it then); None for live sources.
        stamp_ns: capture time measured by the source (`time.monotonic_ns`), or
            None to stamp the frame when it is released into the queue.
    """

    image: np.ndarray | None = None
    people: list[Person] | None = None
    media_ns: int | None = None
    stamp_ns: int | None = None


END_OF_STREAM = None


class _ReadFailed:
    def __repr__(self) -> str:
        return "READ_FAILED"


READ_FAILED: Any = _ReadFailed()
"""Returned by ``_next()`` for a failed read that may succeed on a retry."""


# --- configuration ------------------------------------------------------------------------------


def config_error(config: object, name: str, message: str) -> ValueError:
    """A ValueError naming the config class, the field, the rule and the bad value."""
    return ValueError(f"{type(config).__name__}.{name} {message}, got {getattr(config, name)!r}")


def check_int(config: object, name: str, minimum: int, optional: bool = False) -> None:
    value = getattr(config, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        rule = f"an integer >= {minimum}"
        raise config_error(config, name, f"must be {'None or ' if optional else ''}{rule}")


def check_positive(config: object, name: str, optional: bool = False) -> None:
    value = getattr(config, name)
    if optional and value is None:
        return
    number = not isinstance(value, bool) and isinstance(value, (int, float, np.number))
    if not number or not math.isfinite(value) or value <= 0:
        raise config_error(config, name, f"must be {'None or ' if optional else ''}a positive finite number")


def check_bool(config: object, name: str) -> None:
    if not isinstance(getattr(config, name), bool):
        raise config_error(config, name, "must be True or False")


@dataclass(kw_only=True)
class SourceConfig:
    """Settings every source shares (keyword-only, after each source's own fields).

    Attributes:
        queue_size: frames the queue holds between the capture thread and the consumer.
        max_consecutive_failures: failed reads in a row after which the source
            ends with an error.
    """

    source_type: ClassVar[str] = ""

    queue_size: int = DEFAULT_QUEUE_SIZE
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES

    def __post_init__(self) -> None:
        check_int(self, "queue_size", 1)
        check_int(self, "max_consecutive_failures", 1)


# --- the source ---------------------------------------------------------------------------------


class Source(ABC):
    """A stream of `Frame`s produced by a capture thread into a bounded queue.

    Usage::

        with make_source(VideoConfig("clip.avi")) as source:
            for frame in source:           # read() until the end of the stream
                ...
        if source.error:
            print(source.error)

    Subclasses set ``name`` (for messages), ``fps`` (nominal, or None), and
    whether the source is ``paced`` (release at ``Capture.media_ns``) and
    ``lossless`` (block the producer instead of dropping); ``has_truth`` when
    its people carry ground-truth labels (``Person.truth`` None then means
    background), ``has_points`` when they mark action points instead
    (``Person.action_point``, MSRC-12), and ``end_note`` when its end deserves
    a remark (a recording that was cut).
    """

    retry_delay_s: float = 0.02  # pause after a failed read before the next try
    join_timeout_s: float = 2.0  # how long stop() waits for the capture thread

    def __init__(self, config: SourceConfig, *, name: str, paced: bool, lossless: bool) -> None:
        self.config = config
        self.name = name
        self.paced = paced
        self.lossless = lossless
        self.fps: float | None = None
        self.has_truth = False
        self.has_points = False
        self.end_note: str | None = None
        self._queue: deque[Frame] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._opened = False
        self._ended = False
        self._error: str | None = None
        self._captured = 0
        self._dropped = 0
        self._delivered = 0
        self._latest: Frame | None = None

    # --- hooks ---------------------------------------------------------------------------------

    @abstractmethod
    def _open(self) -> None:
        """Acquire the device or file; raise `SourceError` with a one-line reason."""

    @abstractmethod
    def _next(self) -> Capture | None | _ReadFailed:
        """The next capture, `END_OF_STREAM` (None) or `READ_FAILED`."""

    def _close(self) -> None:
        """Release what ``_open`` acquired (default: nothing)."""

    def _failure_message(self) -> str:
        """The error after ``max_consecutive_failures`` failed reads in a row."""
        return (f"{self.name} stopped delivering frames after {self._captured} frames "
                f"({self.config.max_consecutive_failures} failed reads in a row)")  # fmt: skip

    # --- lifecycle -----------------------------------------------------------------------------

    def open(self) -> Source:
        """Open the source without capturing yet (raises `SourceError` if it cannot open).

        Lets a caller fail fast on a missing camera, then warm up its own stages
        before `start` begins the capture clock.
        """
        if not self._opened:
            self._open()
            self._opened = True
        return self

    def start(self) -> Source:
        """Open the source if needed and start the capture thread; raises `SourceError` if it cannot open."""
        if self._started:
            raise RuntimeError(f"{self.name}: already started (a source runs once)")
        self.open()
        self._started = True
        self._thread = threading.Thread(target=self._run, name=f"source:{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the capture thread and release the source; frames still queued stay readable."""
        self._stop_event.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is None and self._opened and not self._started:  # opened, never captured: release it here
            self._opened = False
            self._close()
            with self._cond:
                self._ended = True
            return
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.join_timeout_s)
            if thread.is_alive():
                logger.warning("%s: capture thread did not stop within %.1f s", self.name, self.join_timeout_s)
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def __enter__(self) -> Source:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- consumers -----------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> Frame | None:
        """The oldest queued frame, waiting up to ``timeout`` seconds (None: until one comes).

        Returns None at the end of the stream, once every queued frame was
        delivered (then ``ended`` is True and ``error`` says why if it failed),
        or when ``timeout`` passed without a frame (then ``ended`` is False).
        """
        self._check_started()
        with self._cond:
            if not self._wait_for_frame(timeout):
                return None
            frame = self._queue.popleft()
            self._delivered += 1
            self._cond.notify_all()  # a lossless producer may be waiting for room
            return frame

    def async_read(self, timeout: float | None = None) -> Frame | None:
        """The newest unconsumed frame, waiting up to ``timeout`` seconds; older queued frames
        are discarded and counted as dropped. None as for `read`."""
        self._check_started()
        with self._cond:
            if not self._wait_for_frame(timeout):
                return None
            frame = self._queue.pop()
            self._dropped += len(self._queue)
            self._queue.clear()
            self._delivered += 1
            self._cond.notify_all()
            return frame

    def read_latest(self, max_age_s: float | None = None) -> Frame | None:
        """Peek at the most recently captured frame without consuming it or waiting.

        None if nothing was captured yet, or if the frame is older than ``max_age_s``.
        """
        with self._cond:
            frame = self._latest
        if frame is None or (max_age_s is not None and time.monotonic_ns() - frame.stamp_ns > max_age_s * 1e9):
            return None
        return frame

    def __iter__(self) -> Iterator[Frame]:
        """Every frame until the end of the stream (`read` without a timeout)."""
        while (frame := self.read()) is not None:
            yield frame

    # --- state ---------------------------------------------------------------------------------

    @property
    def frames_captured(self) -> int:
        return self._captured

    @property
    def frames_dropped(self) -> int:
        """Frames captured but never delivered because the queue was full (or skipped by `async_read`)."""
        return self._dropped

    @property
    def frames_delivered(self) -> int:
        return self._delivered

    @property
    def queue_depth(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def running(self) -> bool:
        return self._started and not self._ended

    @property
    def ended(self) -> bool:
        """True once the source produces no more frames (end of file, failure or `stop`)."""
        return self._ended

    @property
    def error(self) -> str | None:
        """Why the source failed while running (e.g. a camera that stopped delivering), else None."""
        return self._error

    def stats(self) -> dict[str, Any]:
        """Counters for status messages."""
        with self._cond:
            return {
                "source": self.name,
                "fps": self.fps,
                "captured": self._captured,
                "delivered": self._delivered,
                "dropped": self._dropped,
                "queue_depth": len(self._queue),
                "ended": self._ended,
                "error": self._error,
                **({"end_note": self.end_note} if self.end_note else {}),
            }

    # --- capture thread ------------------------------------------------------------------------

    def _wait_for_frame(self, timeout: float | None) -> bool:
        """With the lock held: wait until a frame is queued (True), or the end or the timeout (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._queue:
            if self._ended:
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._cond.wait(remaining)
        return True

    def _check_started(self) -> None:
        if not self._started:
            raise RuntimeError(f"{self.name}: not started; call start() or use `with source:`")

    def _run(self) -> None:
        failures = 0
        origin_ns: int | None = None  # monotonic time at which media time 0 is released
        try:
            while not self._stop_event.is_set():
                try:
                    item = self._next()
                except SourceError as error:
                    self._fail(str(error))
                    return
                except Exception as error:  # a bug or an unexpected library error: end, say why
                    logger.exception("%s: capture failed", self.name)
                    self._fail(f"{self.name} failed: {type(error).__name__}: {error}")
                    return
                if item is END_OF_STREAM:
                    logger.info("%s: end of stream after %d frames", self.name, self._captured)
                    return
                if item is READ_FAILED:
                    failures += 1
                    if failures >= self.config.max_consecutive_failures:
                        self._fail(self._failure_message())
                        return
                    self._stop_event.wait(self.retry_delay_s)
                    continue
                failures = 0
                assert isinstance(item, Capture)
                if self.paced and item.media_ns is not None:
                    now = time.monotonic_ns()
                    if origin_ns is None:
                        origin_ns = now - item.media_ns
                    wait_ns = origin_ns + item.media_ns - now
                    if wait_ns > 0 and self._stop_event.wait(wait_ns / 1e9):
                        return
                self._push(item)
        finally:
            try:
                self._close()
            except Exception:
                logger.exception("%s: error while closing", self.name)
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _fail(self, message: str) -> None:
        logger.error("%s", message)
        with self._cond:
            self._error = message

    def _push(self, item: Capture) -> None:
        with self._cond:
            if self.lossless:
                while len(self._queue) >= self.config.queue_size and not self._stop_event.is_set():
                    self._cond.wait(0.1)
                if self._stop_event.is_set():
                    return
            stamp = item.stamp_ns if item.stamp_ns is not None else time.monotonic_ns()
            frame = Frame(index=self._captured, stamp_ns=stamp, image=item.image, people=item.people,
                          media_ns=item.media_ns)  # fmt: skip
            self._captured += 1
            while len(self._queue) >= self.config.queue_size:
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(frame)
            self._latest = frame
            self._cond.notify_all()

