"""The automatic stride: the smallest stride the measured model cost and the number of tracks sustain.

With ``N`` tracks at the model's rate ``f`` (15 fps for the default checkpoint),
stride ``s`` runs ``N·f/s`` windows a second. Each window costs ``w`` seconds of
the loop (the model's measured seconds per window over the last
``window_calls`` calls, batching and call overhead included), so the model
keeps the loop busy for

    load(s) = N · f / s · w

of every second. Everything else the loop does (pose, tracking, windowing,
publishing) is measured per frame too: ``other`` seconds a frame at the source's
``frame_rate``. The model's budget is what is left of ``target_load`` (0.75 of
the loop's time: the rest is headroom for jitter):

    budget = target_load - other · frame_rate

and the stride is the smallest ``s`` in ``1..max_stride`` with ``load(s) <=
budget`` (``max_stride`` when none is). It **grows** as soon as the current
stride is over the budget, and **shrinks** only when a smaller stride would
stay under ``shrink_margin · budget`` (0.7), so a cost near the limit does not
make it flap; either only after ``min_calls`` calls measured since the last
change and ``hold_s`` seconds of stream time after it. It starts at 1. Every
change is logged (INFO, logger ``stream.run.stride_control``) with the figures
behind it and kept in `StrideController.changes`.

Nothing here reads a clock: the caller feeds measured costs (`observe_call`,
`observe_frame`) and the stream time (`update`), so the logic is tested
deterministically with injected costs. A pinned stride (``stream-run --stride
N``) never changes.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StrideSettings:
    """How the automatic stride decides (see the module docstring)."""

    target_load: float = 0.75
    shrink_margin: float = 0.7
    max_stride: int = 16
    min_calls: int = 8
    hold_s: float = 2.0
    window_calls: int = 32
    other_memory: float = 0.05  # weight of the newest frame in the running mean of the other stages' cost

    def __post_init__(self) -> None:
        if not 0 < self.target_load <= 1:
            raise ValueError(f"target_load must be in (0, 1], got {self.target_load!r}")
        if not 0 < self.shrink_margin <= 1:
            raise ValueError(f"shrink_margin must be in (0, 1], got {self.shrink_margin!r}")
        if not 0 < self.other_memory <= 1:
            raise ValueError(f"other_memory must be in (0, 1], got {self.other_memory!r}")
        for name in ("max_stride", "min_calls", "window_calls"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if not (math.isfinite(self.hold_s) and self.hold_s >= 0):
            raise ValueError(f"hold_s must be a finite number >= 0, got {self.hold_s!r}")


@dataclass(frozen=True)
class StrideChange:
    """One decision: at stream time ``at_s`` the stride went from ``old`` to ``new``, and why."""

    at_s: float
    old: int
    new: int
    tracks: int
    load: float  # the model's projected share of the loop at the old stride
    budget: float

    def to_dict(self) -> dict:
        return {"at_s": round(self.at_s, 3), "old": self.old, "new": self.new, "tracks": self.tracks,
                "load": round(self.load, 4), "budget": round(self.budget, 4)}  # fmt: skip


class StrideController:
    """Picks the stride from measured costs (module docstring).

    Args:
        fps: the model's frame rate (samples per second per track).
        window: the model's window length T; strides stay <= T.
        pinned: a fixed stride (never changed), or None for the automatic one.
        settings: the thresholds.
    """

    def __init__(self, fps: float, window: int, pinned: int | None = None,
                 settings: StrideSettings | None = None) -> None:  # fmt: skip
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"StrideController fps must be a positive number, got {fps!r}")
        self.settings = settings or StrideSettings()
        self.fps = float(fps)
        self.max_stride = min(self.settings.max_stride, int(window))
        if pinned is not None and not 1 <= pinned <= window:
            raise ValueError(f"a pinned stride must be in 1..{window} (the window length), got {pinned!r}")
        self.pinned = pinned
        self.stride = pinned if pinned is not None else 1
        self.changes: deque[StrideChange] = deque(maxlen=100)
        self._calls: deque[tuple[int, float]] = deque(maxlen=self.settings.window_calls)
        self._calls_since_change = 0
        self._other: float | None = None  # running mean of the other stages' seconds per frame
        self._changed_at: float | None = None

    @property
    def automatic(self) -> bool:
        return self.pinned is None

    def observe_call(self, windows: int, seconds: float) -> None:
        """One model call of ``windows`` windows took ``seconds`` (the loop waited that long)."""
        if windows > 0 and seconds >= 0:
            self._calls.append((int(windows), float(seconds)))
            self._calls_since_change += 1

    def observe_frame(self, other_seconds: float) -> None:
        """One source frame cost ``other_seconds`` of the loop besides the model (pose, tracking, publishing)."""
        if other_seconds >= 0:
            a = self.settings.other_memory
            self._other = other_seconds if self._other is None else (1 - a) * self._other + a * other_seconds

    def seconds_per_window(self) -> float | None:
        """The model's measured seconds per window over the recent calls (None before any)."""
        windows = sum(n for n, _ in self._calls)
        return sum(s for _, s in self._calls) / windows if windows else None

    def load(self, stride: int, tracks: int) -> float | None:
        """The model's projected share of the loop's time at ``stride`` with ``tracks`` tracks."""
        per_window = self.seconds_per_window()
        return None if per_window is None else tracks * self.fps / stride * per_window

    def budget(self, frame_rate: float) -> float:
        """The model's share of the loop left after the other stages at ``frame_rate`` source frames a second."""
        return self.settings.target_load - (self._other or 0.0) * max(0.0, frame_rate)

    def update(self, now_s: float, tracks: int, frame_rate: float) -> int | None:
        """Decide at stream time ``now_s``; the new stride if it changed, else None."""
        if self.pinned is not None or len(self._calls) == 0:
            return None
        if self._calls_since_change < self.settings.min_calls:
            return None
        if self._changed_at is not None and now_s - self._changed_at < self.settings.hold_s:
            return None
        budget = self.budget(frame_rate)
        load = self.load(self.stride, tracks)
        assert load is not None
        if load > budget:
            new = self._smallest_within(budget, tracks)
        else:
            new = min(self._smallest_within(budget * self.settings.shrink_margin, tracks), self.stride)
        if new == self.stride:
            return None
        change = StrideChange(now_s, self.stride, new, tracks, load, budget)
        self.changes.append(change)
        logger.info("stride %d → %d at %.1f s: %d tracks, the model %.1f ms a window, %.0f %% of the loop at "
                    "stride %d against a budget of %.0f %% (others %.1f ms a frame at %.1f fps)", change.old,
                    change.new, now_s, tracks, 1e3 * (self.seconds_per_window() or 0.0), 100 * load, change.old,
                    100 * budget, 1e3 * (self._other or 0.0), frame_rate)  # fmt: skip
        self.stride = new
        self._changed_at = now_s
        self._calls_since_change = 0
        return new

    def _smallest_within(self, budget: float, tracks: int) -> int:
        for stride in range(1, self.max_stride + 1):
            load = self.load(stride, tracks)
            if load is not None and load <= budget:
                return stride
        return self.max_stride
