"""The schema of the published topics (DESIGN §5): the fields every message of each topic has, and `validate`.

Each message is a flat dict that every topic starts the same way::

    {"v": 1, "stream": "lab-cam", "frame": 120, "stamp_ns": 81234567890123, ...}

The fields of every topic, their types and units are documented in
``docs/messages.md``; the tables below (`FIELDS`) are what `validate` (and so
`stream.messages.codec.decode`) checks, and a test keeps the two in step. The
messages are built by `stream.messages.builders` and turned into bytes and back
by `stream.messages.codec`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from foundation.errors import MessageError
from stream.types import EVENT_KINDS


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
    raise MessageError(f"field {path!r}: expected {expected}, got {type(value).__name__} {short(value)}")


def short(value: Any) -> str:
    """A value's repr cut to a readable length, for error messages."""
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
