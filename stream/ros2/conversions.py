"""Schema-v1 messages (`stream.messages`) → the ROS 2 messages they map to, as plain dicts.

    converter = RosConverter()
    for ros in converter.convert("actions", action_message("lab-cam", label)):
        publish(ros.topic, build_message(ros.typename, ros.fields, resolve))   # stream.ros2.interfaces

What each schema-v1 topic maps to (topic names of `stream.ros2.topics`):

- ``actions`` → ``skelstream_msgs/ActionLabel`` on skelstream/actions, and the top-k as a
  ``vision_msgs/Classification`` on humans/bodies/<body_id>/action;
- ``events`` → ``skelstream_msgs/ActionEvent`` on skelstream/events (start, end and gesture: ``delay_ms``
  becomes ``delay``, zero for start and end);
- ``skeletons`` → ``skelstream_msgs/SkeletonArray`` on skelstream/skeletons, and its body ids
  as an ``hri_msgs/IdsList`` on humans/bodies/tracked;
- ``status`` → ``diagnostic_msgs/DiagnosticArray`` on /diagnostics (and an empty IdsList
  once nobody is tracked any more: skeletons, which carry the list, stop then).

Frames: schema-v1 skeletons in ``frame_id`` "camera" are in skelstream's own camera
convention (x left, y up, z forward; `stream.types`), which is no ROS frame. The converter
turns metric ones into the camera's optical frame (x right, y down, z forward: REP-103's
``*_optical_frame``, the frame camera_info and stream-calibrate use) by negating x and y, and
names that frame ``camera_frame``. Pixel skeletons (2D layouts) and skeletons already in a
robot frame (``--extrinsics``) pass through unchanged.

Stamps: schema-v1 ``stamp_ns`` is the publishing machine's monotonic clock; a ROS header
stamp is epoch time. The converter takes ``time.time_ns() - time.monotonic_ns()`` once and
adds it to every stamp, so stamps keep the monotonic clock's spacing. The ``truth`` field
of ``actions`` (ground truth for evaluation) has no ROS counterpart.

Pure Python: no rclpy, no DDS, no rosbags. The fields are complete (every field of the
type), as `stream.ros2.interfaces.build_message` needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from foundation.errors import MessageError
from stream.ros2.topics import ACTIONS, BODY_ACTION, DIAGNOSTICS, EVENTS, SKELETONS, TRACKED_BODIES, body_id


DEFAULT_CAMERA_FRAME = "camera_optical_frame"
"""The camera's ROS frame when nothing names it (stream-calibrate's default camera frame)."""

EVENT_KINDS = {"start": 0, "end": 1, "gesture": 2}
"""``ActionEvent.START``, ``END`` and ``GESTURE`` (a test checks them against the .msg file)."""
DIAGNOSTIC_OK, DIAGNOSTIC_WARN = 0, 1
"""``diagnostic_msgs/DiagnosticStatus`` levels OK and WARN."""
UNITS = {"m": "m", "px": "px", None: ""}
"""Schema-v1 ``units`` → ``SkeletonArray.units`` (``UNITS_METERS``, ``UNITS_PIXELS``, empty)."""


@dataclass(frozen=True)
class RosMessage:
    """One ROS message to publish: its topic (a ROS name of `stream.ros2.topics`), type and complete fields."""

    topic: str
    typename: str
    fields: dict


def _point(xyz: list) -> dict:
    x, y, z = xyz
    return {"x": x, "y": y, "z": z}


def _optical_point(xyz: list) -> dict:
    """skelstream's camera convention (x left, y up, z forward) → the optical frame (x right, y down)."""
    x, y, z = xyz
    return {"x": -x, "y": -y, "z": z}


def _image_point(uv: list) -> dict:
    u, v = uv
    return {"x": u, "y": v, "z": 0.0}


class RosConverter:
    """Turns the schema-v1 dicts of one stream into ROS messages (see the module docstring).

    Args:
        stamp_offset_ns: epoch − monotonic clock, in ns (default: measured now, once);
            tests inject a fixed value.
        camera_frame: the camera's optical frame in ROS: header.frame_id of actions and
            events, and of skeletons whose schema-v1 ``frame_id`` is ``"camera"`` (converted
            into it, see the module docstring; a robot frame such as ``base_link`` passes
            through unchanged).
    """

    def __init__(self, stamp_offset_ns: int | None = None, camera_frame: str = DEFAULT_CAMERA_FRAME) -> None:
        self.stamp_offset_ns = time.time_ns() - time.monotonic_ns() if stamp_offset_ns is None else int(stamp_offset_ns)
        self.camera_frame = camera_frame
        self._tracked: list[str] = []
        self._drops: dict[str, int] = {}
        self._handlers: dict[str, Callable[[Mapping[str, Any]], list[RosMessage]]] = {
            "actions": self._actions, "events": self._events, "skeletons": self._skeletons, "status": self._status,
        }  # fmt: skip

    def convert(self, topic: str, msg: Mapping[str, Any]) -> list[RosMessage]:
        """Every ROS message ``msg`` (a schema-v1 message of ``topic``) maps to, in publishing order.

        Raises:
            ValueError: ``topic`` is not one of actions, events, skeletons, status.
            MessageError: ``msg`` lacks a field or holds a value of the wrong kind.
        """
        handler = self._handlers.get(topic)
        if handler is None:
            raise ValueError(f"no ROS mapping for topic {topic!r}; known: {', '.join(self._handlers)}")
        try:
            return handler(msg)
        except KeyError as error:
            raise MessageError(f"{topic} message: missing field {error}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise MessageError(f"{topic} message: {error}") from None

    # --- per topic ------------------------------------------------------------------------
    def header(self, stamp_ns: int, frame_id: str) -> dict:
        """A ``std_msgs/Header``: the monotonic ``stamp_ns`` as ROS (epoch) time, and ``frame_id``."""
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, int):
            raise TypeError(f"stamp_ns must be an integer, got {stamp_ns!r}")
        sec, nanosec = divmod(stamp_ns + self.stamp_offset_ns, 1_000_000_000)
        return {"stamp": {"sec": sec, "nanosec": nanosec}, "frame_id": frame_id}

    def _actions(self, msg: Mapping[str, Any]) -> list[RosMessage]:
        body = body_id(msg["track"])
        header = self.header(msg["stamp_ns"], self.camera_frame)
        top_k = [(name, score) for name, score in msg["top_k"]]
        sec, nanosec = divmod(round(msg["latency_ms"] * 1e6), 1_000_000_000)
        label = {
            "header": header, "body_id": body, "frame": msg["frame"], "label": msg["label"], "score": msg["score"],
            "top_k_labels": [name for name, _ in top_k], "top_k_scores": [score for _, score in top_k],
            "latency": {"sec": sec, "nanosec": nanosec},
        }  # fmt: skip
        classification = {"header": header, "results": [{"class_id": name, "score": score} for name, score in top_k]}
        return [RosMessage(ACTIONS.name, ACTIONS.typename, label),
                RosMessage(BODY_ACTION.for_body(body), BODY_ACTION.typename, classification)]  # fmt: skip

    def _events(self, msg: Mapping[str, Any]) -> list[RosMessage]:
        if msg["kind"] not in EVENT_KINDS:
            raise ValueError(f"field 'kind': expected one of {', '.join(map(repr, EVENT_KINDS))}, got {msg['kind']!r}")
        sec, nanosec = divmod(round(msg.get("delay_ms", 0.0) * 1e6), 1_000_000_000)
        event = {
            "header": self.header(msg["stamp_ns"], self.camera_frame), "kind": EVENT_KINDS[msg["kind"]],
            "body_id": body_id(msg["track"]), "label": msg["label"], "score": msg["score"], "frame": msg["frame"],
            "delay": {"sec": sec, "nanosec": nanosec},
        }  # fmt: skip
        return [RosMessage(EVENTS.name, EVENTS.typename, event)]

    def _skeletons(self, msg: Mapping[str, Any]) -> list[RosMessage]:
        in_camera = msg["frame_id"] == "camera"
        frame_id = self.camera_frame if in_camera else msg["frame_id"]
        to_optical = in_camera and msg["units"] == "m"
        point = _optical_point if to_optical else _point
        header = self.header(msg["stamp_ns"], frame_id)
        bodies = []
        for person in msg["people"]:
            position = person.get("position")
            bodies.append({
                "body_id": body_id(person["track"]),
                "joints": [point(xyz) for xyz in person["joints"]],
                "confidences": list(person["confidence"]),
                "image_points": [_image_point(uv) for uv in person["image_points"] or ()],
                "has_position": position is not None,
                "position": point(position) if position is not None else _point([0.0, 0.0, 0.0]),
            })  # fmt: skip
        if msg["units"] not in UNITS:
            raise ValueError(f"field 'units': expected 'm', 'px' or None, got {msg['units']!r}")
        skeletons = {
            "header": header, "frame": msg["frame"], "layout": msg["layout"] or "", "units": UNITS[msg["units"]],
            "joint_names": list(msg["joint_names"]), "bodies": bodies,
        }  # fmt: skip
        self._tracked = [body["body_id"] for body in bodies]
        tracked = {"header": header, "ids": list(self._tracked)}
        return [RosMessage(SKELETONS.name, SKELETONS.typename, skeletons),
                RosMessage(TRACKED_BODIES.name, TRACKED_BODIES.typename, tracked)]  # fmt: skip

    def _status(self, msg: Mapping[str, Any]) -> list[RosMessage]:
        header = self.header(msg["stamp_ns"], "")
        drops = {str(name): count for name, count in msg["drops"].items()}
        rising = {name: count - self._drops.get(name, 0) for name, count in drops.items()
                  if count > self._drops.get(name, 0)}  # fmt: skip
        self._drops = drops
        values = [("frame", msg["frame"])]
        if "tracks" in msg:
            values.append(("tracks", msg["tracks"]))
        values += [(f"rate {name} (Hz)", f"{rate:.2f}") for name, rate in msg["rates"].items()]
        values += [(f"drops {name}", count) for name, count in drops.items()]
        values += [(f"queue {name}", count) for name, count in msg.get("queues", {}).items()]
        for stage, percentiles in msg["latency_ms"].items():  # p50/p95/p99 in ms; counts and fractions as they are
            values += [(f"latency {stage} {key}" + (" (ms)" if key.startswith("p") else ""), f"{value:.3f}")
                       for key, value in percentiles.items()]  # fmt: skip
        summary = "dropping: " + ", ".join(f"{name} +{count}" for name, count in rising.items())
        status = {
            "level": DIAGNOSTIC_WARN if rising else DIAGNOSTIC_OK, "name": f"skelstream: {msg['stream']}",
            "message": summary if rising else "running", "hardware_id": msg["stream"],
            "values": [{"key": key, "value": str(value)} for key, value in values],
        }  # fmt: skip
        messages = [RosMessage(DIAGNOSTICS.name, DIAGNOSTICS.typename, {"header": header, "status": [status]})]
        if msg.get("tracks") == 0 and self._tracked:  # the last person left: skeletons stop, so say it here
            self._tracked = []
            tracked = {"header": self.header(msg["stamp_ns"], self.camera_frame), "ids": []}
            messages.append(RosMessage(TRACKED_BODIES.name, TRACKED_BODIES.typename, tracked))
        return messages
