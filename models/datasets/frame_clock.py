"""A frame clock from a recording's row timestamps: the frame rate, frame ids, and where frames were lost.

Kinect recorders such as MSRC-12's and Kinder-Gator's stamp each row when the
application received it, not when the sensor captured it, so the steps jitter
around the sensor's period: in some MSRC-12 recordings 20 and 45 ms steps
alternate (the median step reads as 22 fps), Kinder-Gator's steps are 16, 31,
47, 62 or 78 ms and some rows share a stamp. Neither one step nor the median
step is the frame period. The rate used here is the number of rows per second,
taken over the steps that are not pauses; rows get consecutive ids, and a
pause (a step longer than `GAP_FACTOR` typical steps) advances the id by the
frames it spans, so that resampling marks the pause missing instead of
squeezing it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAP_FACTOR = 3.0
"""A step longer than this many typical (median positive) steps is a pause: frames were lost."""


@dataclass(frozen=True)
class FrameClock:
    """Frame rate and ids of a recording's rows.

    Attributes:
        fps: rows per second over the steps that are not pauses.
        frame_ids: (T,) int64, 0 for the first row, +1 per row, + the frames a pause spans.
        gaps: (G,) int64 row positions ``i`` where the step from row ``i`` to ``i + 1`` is a pause.
    """

    fps: float
    frame_ids: np.ndarray
    gaps: np.ndarray


def frame_clock(stamps: np.ndarray, unit_s: float) -> FrameClock:
    """The clock of rows stamped ``stamps`` (non-decreasing, in units of ``unit_s`` seconds).

    Raises ValueError when there are fewer than two rows or the stamps never advance.
    """
    steps = np.diff(np.asarray(stamps, dtype=np.float64))
    if steps.size == 0 or not (steps > 0).any():
        raise ValueError("the timestamps never advance, so they give no frame rate")
    typical = float(np.median(steps[steps > 0]))
    pause = steps > GAP_FACTOR * typical
    period = float(steps[~pause].sum() / (~pause).sum())  # > 0: the median positive step is not a pause
    increments = np.ones(steps.size, dtype=np.int64)
    increments[pause] = np.maximum(1, np.round(steps[pause] / period)).astype(np.int64)
    frame_ids = np.concatenate([[0], np.cumsum(increments)]).astype(np.int64)
    return FrameClock(fps=1.0 / (period * unit_s), frame_ids=frame_ids, gaps=np.flatnonzero(pause).astype(np.int64))
