"""Messages to bytes and back: msgpack (or JSON with a flag), and `decode`, which treats its input as hostile.

    payload = encode(msg)                    # msgpack bytes; encode(msg, json=True) for JSON
    assert decode(payload, "actions") == msg

A message is sent as a two-frame ZeroMQ message ``[topic, payload]``; a JSON
payload starts with ``{``, which no msgpack map does. `decode` caps the size
before parsing, limits msgpack containers and strings so a payload cannot make
it allocate much more than its own size, allows no ext types, and raises a
`MessageError` naming the field for anything that does not follow the schema
(`stream.messages.schema.validate`).
"""

from __future__ import annotations

import json as _json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgpack

from foundation.errors import MessageError
from stream.messages.schema import MAX_ARRAY_LEN, MAX_MAP_LEN, MAX_PAYLOAD_BYTES, MAX_STR_LEN, TOPICS, short, validate


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
                    raise MessageError(f"a map key is {type(key).__name__} {short(key)}; keys must be strings")
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
