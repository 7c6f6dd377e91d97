"""Schema-v1 messages (`stream.messages.schema`) built from the runtime's types: one builder per topic.

    msg = action_message("lab-cam", frame_label)     # {"v": 1, "stream": "lab-cam", "frame": ..., "label": ...}

`stream.publishers.base.Publisher` builds every message it sends with these,
once, whatever carries it (ZeroMQ, DDS, a bag).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from foundation.errors import MessageError
from stream.messages.schema import SCHEMA_VERSION, validate
from stream.types import ActionEvent, FrameLabel, TrackedPerson


def _header(stream_name: str, frame: int, stamp_ns: int) -> dict:
    return {"v": SCHEMA_VERSION, "stream": str(stream_name), "frame": int(frame), "stamp_ns": int(stamp_ns)}


def action_message(stream_name: str, label: FrameLabel) -> dict:
    """The ``actions`` message of one frame of one track."""
    return {
        **_header(stream_name, label.frame, label.stamp_ns),
        "track": int(label.track_id),
        "label": str(label.label),
        "score": float(label.score),
        "top_k": [[str(name), float(p)] for name, p in label.top_k],
        "latency_ms": label.latency_ns / 1e6,
        "truth": None if label.truth is None else str(label.truth),
    }


def event_message(stream_name: str, event: ActionEvent) -> dict:
    """The ``events`` message of an action start or end (``frame``: its first or last frame), or of a recognised
    gesture (``frame``: where it was recognised; ``delay_ms``: since its evidence began)."""
    message = {
        **_header(stream_name, event.frame, event.stamp_ns),
        "track": int(event.track_id),
        "kind": event.kind,
        "label": str(event.label),
        "score": float(event.score),
    }
    if event.delay_ms is not None:
        message["delay_ms"] = float(event.delay_ms)
    return message


def _rows(array: np.ndarray) -> list[list[float]]:
    return np.asarray(array, dtype=np.float64).tolist()


def skeleton_message(
    stream_name: str,
    frame: int,
    stamp_ns: int,
    tracked: list[TrackedPerson],
    frame_id: str = "camera",
    layout: str | None = None,
    positions: Mapping[int, np.ndarray] | None = None,
) -> dict:
    """The ``skeletons`` message: every tracked person of one frame, in one layout and coordinate frame.

    ``positions`` (track id → (3,) metres in ``frame_id``) adds each person's
    position where calibration recovered it.

    ``frame_id`` names the coordinate frame the joints are in ("camera", or a
    robot frame such as "base_link" once calibration transformed them).
    Joint names are sent once per message; ``units`` is "m" for 3D layouts,
    "px" for 2D ones (whose joints get z = 0). A joint that is not finite is sent
    as 0 with confidence 0 (confidence 0 marks a missing joint). ``layout``
    names the layout when there is nobody to take it from; people in
    different layouts raise ValueError (one message, one layout).
    """
    from models.skeleton.layouts import get_layout

    layouts = {t.person.layout for t in tracked} | ({layout} if layout else set())
    if len(layouts) > 1:
        raise ValueError(f"skeleton_message: one layout per message, got {sorted(layouts)}")
    name = layouts.pop() if layouts else None
    spec = get_layout(name) if name else None
    count = spec.num_joints if spec else 0
    people = []
    for t in tracked:
        joints = np.asarray(t.person.joints, dtype=np.float64)
        confidence = np.asarray(t.person.confidence, dtype=np.float64).copy()
        if joints.ndim == 2 and joints.shape[1] == 2:  # image keypoints of a 2D layout: z = 0
            joints = np.concatenate([joints, np.zeros((len(joints), 1))], axis=1)
        if joints.shape != (count, 3) or confidence.shape != (count,):
            raise ValueError(f"skeleton_message: track {t.track_id} has joints {joints.shape} and confidence "
                             f"{confidence.shape}; layout {name} needs ({count}, 3) and ({count},)")  # fmt: skip
        bad = ~np.isfinite(joints).all(axis=1) | ~np.isfinite(confidence)
        joints = np.where(bad[:, None], 0.0, joints)
        confidence[bad] = 0.0
        points = None
        if t.person.image_points is not None:
            image_points = np.asarray(t.person.image_points, dtype=np.float64)
            points = _rows(np.where(np.isfinite(image_points), image_points, 0.0))
        entry = {"track": int(t.track_id), "joints": _rows(joints), "confidence": confidence.tolist(),
                 "image_points": points}  # fmt: skip
        if positions is not None and t.track_id in positions:
            entry["position"] = [float(v) for v in positions[t.track_id]]
        people.append(entry)
    return {
        **_header(stream_name, frame, stamp_ns),
        "frame_id": str(frame_id),
        "layout": name,
        "units": None if spec is None else ("m" if spec.dims == 3 else "px"),
        "joint_names": list(spec.joint_names) if spec else [],
        "people": people,
    }


def status_message(stream_name: str, stats: Mapping[str, Any], frame: int = -1, stamp_ns: int | None = None) -> dict:
    """The ``status`` message: rates, drop counts and stage latencies of the running stream.

    ``stats`` may hold ``rates`` (name -> Hz), ``drops`` (name -> count since
    start), ``latency_ms`` (stage -> {"p50", "p95", "p99", ...} in ms, e.g.
    `stream.run.stats.StageStats.summary()`; stages without percentiles are left out),
    ``tracks`` (active tracks) and ``queues`` (name -> items waiting now); any
    other key is a ValueError (the schema lives in docs/messages.md). ``frame``: the latest source frame seen (-1 before
    any); ``stamp_ns``: when the report was made (default: now, monotonic).
    """
    unknown = set(stats) - {"rates", "drops", "latency_ms", "tracks", "queues"}
    if unknown:
        raise ValueError(f"status_message: unknown stats {sorted(unknown)}; "
                         "known: rates, drops, latency_ms, tracks, queues")  # fmt: skip
    latency = {
        str(stage): {str(k): int(v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else float(v)
                     for k, v in pct.items()}
        for stage, pct in stats.get("latency_ms", {}).items()
        if all(key in pct for key in ("p50", "p95", "p99"))  # a stage that never ran has no percentiles yet
    }
    msg = {
        **_header(stream_name, frame, time.monotonic_ns() if stamp_ns is None else stamp_ns),
        "rates": {str(k): float(v) for k, v in stats.get("rates", {}).items()},
        "drops": {str(k): int(v) for k, v in stats.get("drops", {}).items()},
        "latency_ms": latency,
    }
    if "tracks" in stats:
        msg["tracks"] = int(stats["tracks"])
    if "queues" in stats:
        msg["queues"] = {str(k): int(v) for k, v in stats["queues"].items()}
    try:
        return validate(msg, "status")
    except MessageError as error:
        raise ValueError(f"status_message: {error}") from None
