"""What a detector's wrong frames are: actions missed, background named, one action read as another — and how
many of them lie at the edges of the true segments.

Frame accuracy says how many frames are wrong, not which. Annotators place a segment's start and end a few
frames apart from one another, so an error next to a true boundary may be the annotation's; an error far from
every boundary is a stretch read wrong. For each tolerance ``k`` of `EDGE_FRAMES`, `frame_errors` gives the share
of the errors among the ``k`` frames either side of a true boundary of their sequence (``near_edges``) and the
frame accuracy with those errors forgiven (``accuracy_forgiving_edges``).

    >>> frame_errors([(np.array([0, 1, 1, 1, 0, 0]), np.array([0, 0, 1, 1, 1, 0]))])["near_edges"]["2"]
    1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

EDGE_FRAMES = (2, 4, 8)


def frame_errors(pairs: Iterable[tuple[np.ndarray, np.ndarray]], background: int = 0,
                 edge_frames: Sequence[int] = EDGE_FRAMES) -> dict[str, Any]:  # fmt: skip
    """Kinds of error and their distance to the true boundaries over ``(published, true)`` class-index pairs,
    one pair (T,) per sequence (module docstring)."""
    frames = errors = missed = named = confused = 0
    near = dict.fromkeys(edge_frames, 0)
    for published, true in pairs:
        published, true = np.asarray(published), np.asarray(true)
        if published.ndim != 1 or published.shape != true.shape:
            raise ValueError(f"published {published.shape} and true {true.shape} labels must be equal 1-D arrays")
        wrong = np.flatnonzero(published != true)
        frames, errors = frames + true.size, errors + wrong.size
        action, silent = true[wrong] != background, published[wrong] == background
        missed += int(np.sum(action & silent))
        named += int(np.sum(~action))
        confused += int(np.sum(action & ~silent))
        distance = _distance_to_edges(wrong, np.flatnonzero(np.diff(true) != 0) + 0.5)
        for k in edge_frames:
            near[k] += int(np.sum(distance <= k))
    return {
        "frames": frames,
        "errors": errors,
        "action_missed": missed,
        "background_named": named,
        "actions_confused": confused,
        "near_edges": {str(k): near[k] / errors if errors else 0.0 for k in edge_frames},
        "accuracy_forgiving_edges": {str(k): 1.0 - (errors - near[k]) / frames if frames else float("nan")
                                     for k in edge_frames},  # fmt: skip
    }


def _distance_to_edges(frames: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each frame's distance to the nearest edge (edges sit between two frames, at i + 0.5); inf without edges."""
    if edges.size == 0:
        return np.full(frames.size, np.inf)
    index = np.searchsorted(edges, frames)
    before = edges[np.clip(index - 1, 0, edges.size - 1)]
    after = edges[np.clip(index, 0, edges.size - 1)]
    return np.minimum(np.abs(frames - before), np.abs(frames - after))
