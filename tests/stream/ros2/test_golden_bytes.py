"""The wire format: Cyclone DDS samples serialize to exactly rosbags' CDR of the .msg files, for every type.

The messages are the conversions of a real run (plus placed and 2D skeletons), so every
field is exercised with real values. One message is also checked against bytes written
out by hand from the CDR rules, so that both implementations cannot be wrong together.
"""

import struct
import typing

import numpy as np
import pytest

from stream.ros2.conversions import RosConverter
from stream.ros2.dds_types import dds_class
from stream.ros2.interfaces import build_message, defined_types, message_fields, numpy_array, typestore
from stream.ros2.topics import TOPICS

OFFSET = 1_763_700_000_000_000_000


@pytest.fixture(scope="module")
def ros_messages(run_messages):
    converter = RosConverter(stamp_offset_ns=OFFSET)
    return [ros for topic, msg in run_messages for ros in converter.convert(topic, msg)]


def rosbags_bytes(typename: str, fields: dict) -> bytes:
    store = typestore()
    return bytes(store.serialize_cdr(build_message(typename, fields, store.types.__getitem__, numpy_array), typename))


def plain(typename: str, message) -> dict:
    """A message of either implementation as nested dicts and lists of Python values."""
    out = {}
    for spec in message_fields(typename):
        value = getattr(message, spec.name)
        if spec.is_message:
            value = [plain(spec.type, v) for v in value] if spec.container else plain(spec.type, value)
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif spec.container:
            value = list(value)
        out[spec.name] = value
    return out


def as_sent(typename: str, fields: dict) -> dict:
    """``fields`` as they read back: float32 values rounded to float32."""
    out = {}
    for spec in message_fields(typename):
        value = fields[spec.name]
        if spec.is_message:
            value = [as_sent(spec.type, v) for v in value] if spec.container else as_sent(spec.type, value)
        elif spec.type == "float32":
            value = [float(np.float32(v)) for v in value] if spec.container else float(np.float32(value))
        out[spec.name] = value
    return out


def test_the_run_covers_every_published_type(ros_messages):
    assert {ros.typename for ros in ros_messages} == {spec.typename for spec in TOPICS}


@pytest.mark.parametrize("typename", sorted({spec.typename for spec in TOPICS}))
def test_cyclone_dds_bytes_equal_rosbags_cdr(ros_messages, typename):
    store = typestore()
    samples = [ros.fields for ros in ros_messages if ros.typename == typename]
    assert samples
    for fields in samples:
        sample = build_message(typename, fields, dds_class)
        wire = sample.serialize()
        assert wire[:4] == b"\x00\x01\x00\x00"  # XCDR1, little endian: what rmw_cyclonedds writes
        assert wire == rosbags_bytes(typename, fields)
        expected = as_sent(typename, fields)
        assert plain(typename, store.deserialize_cdr(wire, typename)) == expected  # rosbags reads DDS bytes
        assert plain(typename, dds_class(typename).deserialize(wire)) == expected  # and DDS reads them back


def cdr(*parts: tuple[str, object]) -> bytes:
    """Little-endian CDR written by hand: each primitive aligned to its size, strings length-prefixed with a NUL."""
    body = bytearray()
    for kind, value in parts:
        if kind == "string":
            data = value.encode() + b"\0"
            kind, value = "I", len(data)
        else:
            data = b""
        size = struct.calcsize("<" + kind)
        body += b"\0" * (-len(body) % size)
        body += struct.pack("<" + kind, value) + data
    return b"\x00\x01\x00\x00" + bytes(body)


def test_an_event_matches_bytes_written_from_the_cdr_rules():
    fields = {"header": {"stamp": {"sec": 1_763_700_000, "nanosec": 5}, "frame_id": "cam"}, "kind": 2,
              "body_id": "body_1", "label": "duck", "score": 0.5, "frame": 2**40 + 3,
              "delay": {"sec": 1, "nanosec": 466_700_000}}  # fmt: skip
    expected = cdr(("i", 1_763_700_000), ("I", 5), ("string", "cam"), ("B", 2), ("string", "body_1"),
                   ("string", "duck"), ("f", 0.5), ("Q", 2**40 + 3), ("i", 1), ("I", 466_700_000))  # fmt: skip
    assert build_message("skelstream_msgs/msg/ActionEvent", fields, dds_class).serialize() == expected
    assert rosbags_bytes("skelstream_msgs/msg/ActionEvent", fields) == expected


def reachable_types() -> set[str]:
    found, todo = set(), [spec.typename for spec in TOPICS]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += [spec.type for spec in message_fields(name) if spec.is_message]
    return found


@pytest.mark.parametrize("typename", sorted(reachable_types()))
def test_generated_idl_types_follow_the_msg_files_and_ros_naming(typename):
    """What byte equality cannot show: the DDS type names ROS matches on, member names, final + XCDR1 only."""
    package, _, name = typename.split("/")
    cls = dds_class(typename)
    assert cls.__idl_typename__ == f"{package}::msg::dds_::{name}_"
    assert cls.__idl_annotations__ == {"extensibility": "final", "xcdrv2": False}
    cls.__idl__.populate()
    assert cls.__idl__.supported_versions == 1 and cls.__idl__.keyless  # XCDR1 only, no key (as ROS 2 messages)
    hints = typing.get_type_hints(cls, include_extras=True)
    assert list(hints) == [spec.name for spec in message_fields(typename)]
    for spec in message_fields(typename):
        if spec.is_message:
            hint = hints[spec.name]
            element = typing.get_args(hint)[1].subtype if spec.container else hint  # sequence[T] → T
            nested_package, _, nested_name = spec.type.split("/")
            assert element.__idl_typename__ == f"{nested_package}::msg::dds_::{nested_name}_"
    assert typename in defined_types() or package in ("std_msgs", "geometry_msgs", "builtin_interfaces",
                                                       "diagnostic_msgs")  # fmt: skip
