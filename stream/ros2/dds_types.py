"""Cyclone DDS sample classes generated from the ROS 2 message definitions (`stream.ros2.interfaces`).

rmw_cyclonedds puts a ROS 2 message ``pkg/msg/Name`` on DDS as the struct
``pkg::msg::dds_::Name_`` (nested types likewise), final extensibility, no keys, in XCDR1
(plain little-endian CDR, encapsulation 0x0001). `dds_class` builds that struct from the
parsed fields, so the Python classes are never written by hand and cannot drift from the
``.msg`` files; the golden-bytes tests compare every type's serialization with rosbags'.

    from stream.ros2.dds_types import dds_class
    from stream.ros2.interfaces import build_message

    sample = build_message("skelstream_msgs/msg/ActionEvent", fields, dds_class)
    sample.serialize()   # the bytes a ROS 2 subscriber receives

Needs cyclonedds (``pip install skelstream[ros]``), imported on first use.
"""

from __future__ import annotations

import functools
from typing import Any

from foundation.optional import require
from stream.ros2.interfaces import FieldSpec, message_fields


PRIMITIVE_TYPE_NAMES = {
    "bool": None, "byte": "byte", "char": "uint8", "int8": "int8", "uint8": "uint8", "int16": "int16",
    "uint16": "uint16", "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64",
    "float32": "float32", "float64": "float64", "string": None,
}  # fmt: skip
"""ROS 2 primitive → `cyclonedds.idl.types` name (rosidl maps ``char`` to uint8; bool and string are Python's)."""


def dds_typename(typename: str) -> str:
    """``pkg/msg/Name`` → ``pkg::msg::dds_::Name_``, the DDS type name rmw_cyclonedds uses."""
    package, kind, name = typename.split("/")
    return f"{package}::{kind}::dds_::{name}_"


def _annotation(spec: FieldSpec) -> Any:
    types = require("cyclonedds.idl.types", extra="ros", what="DDS-direct publishing", pip_name="cyclonedds")
    if spec.is_message:
        element: Any = dds_class(spec.type)
    elif spec.type == "string":
        element = types.bounded_str[spec.string_bound] if spec.string_bound else str
    elif spec.type == "bool":
        element = bool
    else:
        element = getattr(types, PRIMITIVE_TYPE_NAMES[spec.type])
    if spec.container == "array":
        return types.array[element, spec.bound]
    if spec.container == "sequence":
        return types.sequence[element, spec.bound] if spec.bound else types.sequence[element]
    return element


@functools.cache
def dds_class(typename: str) -> type:
    """The Cyclone DDS ``IdlStruct`` of a ROS 2 message type (final, XCDR1 only), built once per process."""
    idl = require("cyclonedds.idl", extra="ros", what="DDS-direct publishing", pip_name="cyclonedds")
    from cyclonedds.idl.annotations import cdrv0, final

    fields = {spec.name: _annotation(spec) for spec in message_fields(typename)}
    struct = idl.make_idl_struct(typename.rsplit("/", 1)[1] + "_", dds_typename(typename), fields)
    return cdrv0(final(struct))  # the annotation decorators, applied as a class statement would
