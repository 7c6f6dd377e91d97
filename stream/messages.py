"""The wire schema of the published topics: builders, encoding and validating decoding (DESIGN §5).

Each message is a flat dict that every topic starts the same way::

    {"v": 1, "stream": "lab-cam", "frame": 120, "stamp_ns": 81234567890123, ...}

and is sent as a two-frame ZeroMQ message ``[topic, payload]``, the payload
msgpack (or JSON with a flag; a JSON payload starts with ``{``, which no
msgpack map does). The fields of every topic, their types and units are
documented in ``docs/messages.md``; the tables below (`FIELDS`) are what
`decode` checks, and a test keeps the two in step.

    msg = action_message("lab-cam", frame_label)
    payload = encode(msg)                    # msgpack bytes; encode(msg, json=True) for JSON
    assert decode(payload, "actions") == msg

`decode` treats its input as hostile: a size cap before parsing, msgpack
container and string limits so a payload cannot make it allocate much more
than its own size, no ext types, and a `MessageError` naming the field for
anything that does not follow the schema.
"""

from __future__ import annotations

import json as _json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

import msgpack
import numpy as np

from foundation.errors import MessageError
from stream.types import EVENT_KINDS, ActionEvent, FrameLabel, TrackedPerson


SCHEMA_VERSION = 1
"""Bumped only by a breaking change (a field removed, renamed, or changing type or meaning).
Adding an optional field, or a new value of an enumerated field (an event ``kind``), keeps the version;
readers ignore fields they do not know and skip event kinds they do not know."""

TOPICS = ("actions", "events", "skeletons", "status")

MAX_PAYLOAD_BYTES = 1 << 20  # 1 MiB: a 64-person MediaPipe skeleton message is ~60 kB
MAX_STR_LEN = 4096
MAX_ARRAY_LEN = 4096
MAX_MAP_LEN = 256

# --- field tables: what decode checks ------------------------------------------------
# A checker takes the value and the field path and raises MessageError.
Checker = Callable[[Any, str], None]


def _fail(path: str, expected: str, value: Any) -> NoReturn:
    raise MessageError(f"field {path!r}: expected {expected}, got {type(value).__name__} {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _int(value: Any, path: str) -> None:
    if not _is_int(value):
        _fail(path, "an integer", value)


def _number(value: Any, path: str) -> None:
    if not _is_number(value):
        _fail(path, "a finite number", value)


def _str(value: Any, path: str) -> None:
    if not isinstance(value, str):
        _fail(path, "a string", value)


def _optional(check: Checker) -> Checker:
    def checker(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return checker


def _one_of(*choices: str) -> Checker:
    def checker(value: Any, path: str) -> None:
        if value not in choices:
            _fail(path, " or ".join(repr(c) for c in choices), value)

    return checker


def _list_of(check: Checker, length: int | None = None) -> Checker:
    def checker(value: Any, path: str) -> None:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        if length is not None and len(value) != length:
            raise MessageError(f"field {path!r}: expected {length} items, got {len(value)}")
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")

    return checker


def _map_of(check: Checker) -> Checker:
    def checker(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "a map", value)
        for key, item in value.items():
            _str(key, f"{path} key")
            check(item, f"{path}.{key}")

    return checker


def _record(fields: Mapping[str, Checker], optional: frozenset[str] = frozenset()) -> Checker:
    def checker(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "a map", value)
        _check_fields(value, fields, prefix=f"{path}.", optional=optional)

    return checker


def _top_k_entry(value: Any, path: str) -> None:
    if not (isinstance(value, list) and len(value) == 2):
        _fail(path, "a [label, score] pair", value)
    _str(value[0], f"{path}[0]")
    _number(value[1], f"{path}[1]")


def _percentiles(value: Any, path: str) -> None:
    _map_of(_number)(value, path)
    for key in ("p50", "p95", "p99"):
        if key not in value:
            raise MessageError(f"missing field '{path}.{key}'")


_PERSON_FIELDS: dict[str, Checker] = {
    "track": _int,
    "joints": _list_of(_list_of(_number, 3)),
    "confidence": _list_of(_number),
    "image_points": _optional(_list_of(_list_of(_number, 2))),
    "position": _optional(_list_of(_number, 3)),
}
_PERSON_OPTIONAL = frozenset({"position"})

COMMON_FIELDS: dict[str, Checker] = {"v": _int, "stream": _str, "frame": _int, "stamp_ns": _int}
FIELDS: dict[str, dict[str, Checker]] = {
    "actions": {
        "track": _int,
        "label": _str,
        "score": _number,
        "top_k": _list_of(_top_k_entry),
        "latency_ms": _number,
        "truth": _optional(_str),
    },
    "events": {"track": _int, "kind": _one_of(*EVENT_KINDS), "label": _str, "score": _number, "delay_ms": _number},
    "skeletons": {
        "frame_id": _str,
        "layout": _optional(_str),
        "units": _optional(_one_of("m", "px")),
        "joint_names": _list_of(_str),
        "people": _list_of(_record(_PERSON_FIELDS, _PERSON_OPTIONAL)),
    },
    "status": {
        "rates": _map_of(_number),
        "drops": _map_of(_int),
        "latency_ms": _map_of(_percentiles),
        "tracks": _int,
        "queues": _map_of(_int),
    },
}
OPTIONAL_FIELDS: dict[str, frozenset[str]] = {"actions": frozenset({"truth"}), "events": frozenset({"delay_ms"}),
                                              "status": frozenset({"tracks", "queues"})}  # fmt: skip


def _check_fields(
    msg: dict, fields: Mapping[str, Checker], prefix: str = "", optional: frozenset[str] = frozenset()
) -> None:
    for name, check in fields.items():
        if name not in msg:
            if name in optional:
                continue
            raise MessageError(f"missing field '{prefix}{name}'")
        check(msg[name], f"{prefix}{name}")


def validate(msg: Any, topic: str | None = None) -> dict:
    """Check ``msg`` against the common fields and, for a known ``topic``, the topic's fields.

    Unknown fields are allowed (a newer writer may add optional ones); a schema
    version other than `SCHEMA_VERSION` is not. Returns ``msg``.
    """
    if not isinstance(msg, dict):
        raise MessageError(f"payload must be a map, got {type(msg).__name__}")
    _check_fields(msg, COMMON_FIELDS)
    if msg["v"] != SCHEMA_VERSION:
        raise MessageError(f"field 'v': unsupported schema version {msg['v']} (this reader knows {SCHEMA_VERSION})")
    if topic in FIELDS:
        _check_fields(msg, FIELDS[topic], optional=OPTIONAL_FIELDS.get(topic, frozenset()))
        if topic == "events" and msg["kind"] == "gesture" and "delay_ms" not in msg:
            raise MessageError("missing field 'delay_ms' (every gesture event carries it)")
        if topic == "skeletons":
            count = len(msg["joint_names"])
            for i, person in enumerate(msg["people"]):
                for key in ("joints", "confidence", "image_points"):
                    if person.get(key) is not None and len(person[key]) != count:
                        raise MessageError(f"field 'people[{i}].{key}': {len(person[key])} joints, "
                                           f"joint_names has {count}")  # fmt: skip
    return msg


# --- builders ----------------------------------------------------------------------------
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
    `stream.stats.StageStats.summary()`; stages without percentiles are left out),
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


# --- bytes ----------------------------------------------------------------------------------
def encode(msg: Mapping[str, Any], json: bool = False) -> bytes:
    """Serialise a message: msgpack by default, compact UTF-8 JSON with ``json=True``.

    Raises ValueError for values neither format can carry (NaN in JSON, objects).
    """
    if json:
        return _json.dumps(msg, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode("utf-8")
    try:
        return msgpack.packb(msg, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"cannot encode message as msgpack: {error}") from error


def _reject_constant(name: str) -> None:
    raise MessageError(f"JSON payload holds {name}, which the schema does not allow")


def is_json(payload: bytes) -> bool:
    """True for a JSON payload (starts with '{'); msgpack maps start with 0x80-0x8f, 0xde or 0xdf."""
    return payload[:1] == b"{"


def decode(payload: bytes, topic: str | bytes | None = None) -> dict:
    """Parse and validate one payload (msgpack or JSON, detected); MessageError names what is wrong.

    ``topic`` (the first frame of the ZeroMQ message) selects the topic's
    field checks; without it only the common fields are checked.
    """
    if isinstance(topic, bytes):
        topic = topic.decode("ascii", errors="replace")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise MessageError(f"payload must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if not payload:
        raise MessageError("empty payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit")
    if is_json(payload):
        try:
            msg = _json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
        except MessageError:
            raise
        except (ValueError, RecursionError) as error:
            raise MessageError(f"payload is not valid JSON: {error}") from None
    else:
        try:
            msg = msgpack.unpackb(
                payload, raw=False, strict_map_key=True, use_list=True,
                max_str_len=MAX_STR_LEN, max_bin_len=0, max_ext_len=0,
                max_array_len=MAX_ARRAY_LEN, max_map_len=MAX_MAP_LEN,
            )  # fmt: skip
        except Exception as error:  # hostile bytes: every unpack failure is a schema error
            raise MessageError(f"payload is not valid msgpack: {type(error).__name__}: {error}") from None
    _check_plain(msg)
    return validate(msg, topic)


def _check_plain(value: Any) -> None:
    """MessageError unless ``value`` holds only what both formats carry: nil, bool, 64-bit int, finite float,
    UTF-8 str, list, str-keyed map.

    msgpack could also carry bin and ext values (an empty one passes the size limits)
    and NaN; JSON integers beyond 64 bits and lone surrogates ("\\ud800", no UTF-8
    text): the schema never uses them, even in fields a reader does not know.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise MessageError(f"a map key is {type(key).__name__} {_short(key)}; keys must be strings")
                stack.extend((key, inner))
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise MessageError(f"payload holds {item}, which the schema does not allow")
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -(2**63) <= item < 2**64:
                raise MessageError(f"payload holds an integer of {item.bit_length()} bits; the schema's are 64-bit")
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise MessageError("payload holds a string that is not UTF-8 text (a lone surrogate)") from None
        elif item is not None and not isinstance(item, bool):
            raise MessageError(f"payload holds a {type(item).__name__} value; the schema has no bin or ext values")


def topic_of(name: str | bytes) -> bytes:
    """The topic frame for ``name``; ValueError for a name that is not one of `TOPICS`."""
    text = name.decode("ascii") if isinstance(name, bytes) else name
    if text not in TOPICS:
        raise ValueError(f"unknown topic {text!r}; topics: {', '.join(TOPICS)}")
    return text.encode("ascii")


def parse_topics(text: str | Iterable[str]) -> list[str]:
    """Topic names from ``"actions,events"`` (or ``"all"``); ValueError names an unknown one."""
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if names == ["all"]:
        return list(TOPICS)
    for name in names:
        topic_of(name)
    if not names:
        raise ValueError(f"no topics given; topics: {', '.join(TOPICS)}")
    return names
