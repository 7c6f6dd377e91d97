"""ROS 2 message definitions, parsed once from the ``.msg`` files, and messages built from plain dicts.

Each definition has one source, never written twice:

- ``skelstream_msgs``: the package's own files, ``ros2_ws/src/skelstream_msgs/msg/*.msg``
  (reached as ``stream/ros2/msg``: a link in a checkout, copied into a wheel);
- ``vision_msgs/Classification``, ``vision_msgs/ObjectHypothesis`` and ``hri_msgs/IdsList``:
  upstream text in ``stream/ros2/upstream_msgs/`` (provenance at the top of each file);
- ``std_msgs``, ``geometry_msgs``, ``builtin_interfaces``, ``diagnostic_msgs``: rosbags'
  ROS 2 Humble type store.

rosbags parses them (`typestore` also serialises CDR and writes bags); `message_fields`
exposes the parsed fields as plain data, from which `stream.ros2.dds_types` generates the
Cyclone DDS classes and `build_message` builds a message for any target::

    from stream.ros2.interfaces import build_message, numpy_array, typestore

    store = typestore()
    msg = build_message("geometry_msgs/msg/Point", {"x": 1.0, "y": 0.0, "z": 2.0}, store.types.__getitem__, numpy_array)
    data = store.serialize_cdr(msg, "geometry_msgs/msg/Point")

Needs rosbags (``pip install skelstream[ros]``), imported on first use; cyclonedds is not needed here.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from foundation.errors import MessageError
from foundation.optional import require

if TYPE_CHECKING:
    from rosbags.typesys.store import Typestore

OWN_PACKAGE = "skelstream_msgs"
OWN_MSG_DIR = Path(__file__).resolve().parent / "msg"
UPSTREAM_MSG_DIR = Path(__file__).resolve().parent / "upstream_msgs"

INTEGER_RANGES = {
    "byte": (0, 2**8 - 1), "char": (0, 2**8 - 1), "uint8": (0, 2**8 - 1), "int8": (-(2**7), 2**7 - 1),
    "uint16": (0, 2**16 - 1), "int16": (-(2**15), 2**15 - 1), "uint32": (0, 2**32 - 1), "int32": (-(2**31), 2**31 - 1),
    "uint64": (0, 2**64 - 1), "int64": (-(2**63), 2**63 - 1),
}  # fmt: skip
FLOAT32_MAX = 3.4028234663852886e38
PRIMITIVES = frozenset({*INTEGER_RANGES, "bool", "float32", "float64", "string"})


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message definition.

    ``type`` is a primitive (``"float32"``, ``"string"``, ...; see `PRIMITIVES`) or a
    message type (``"geometry_msgs/msg/Point"``). ``container`` is ``""`` for one value,
    ``"array"`` for a fixed-length ``T[N]`` (``bound`` = N) or ``"sequence"`` for ``T[]``
    and ``T[<=N]`` (``bound`` = N, 0 when unbounded). ``string_bound`` limits a
    ``string<=N`` (0: unbounded).
    """

    name: str
    type: str
    container: str = ""
    bound: int = 0
    string_bound: int = 0

    @property
    def is_message(self) -> bool:
        return self.type not in PRIMITIVES


def defined_types() -> dict[str, Path]:
    """Every type defined by a ``.msg`` file here (ours and the vendored upstream ones) → its file."""
    files = {f"{OWN_PACKAGE}/msg/{path.stem}": path for path in sorted(OWN_MSG_DIR.glob("*.msg"))}
    for path in sorted(UPSTREAM_MSG_DIR.glob("*/msg/*.msg")):
        files[f"{path.parent.parent.name}/msg/{path.stem}"] = path
    if not any(name.startswith(f"{OWN_PACKAGE}/") for name in files):
        raise FileNotFoundError(f"no .msg files in {OWN_MSG_DIR}: the skelstream_msgs definitions are missing "
                                "from this installation")  # fmt: skip
    return files


@functools.cache
def typestore() -> Typestore:
    """rosbags' ROS 2 Humble type store with every type of `defined_types` registered (built once)."""
    typesys = require("rosbags.typesys", extra="ros", what="ROS 2 messages", pip_name="rosbags")
    store = typesys.get_typestore(typesys.Stores.ROS2_HUMBLE)
    parsed: dict = {}
    for typename, path in defined_types().items():
        try:
            parsed.update(typesys.get_types_from_msg(path.read_text(encoding="utf-8"), typename))
        except typesys.TypesysError as error:
            raise MessageError(f"{path}: not a valid ROS 2 message definition: {error}") from None
    store.register(parsed)
    missing = sorted({spec.type for name in parsed for spec in _fields(store, name)
                      if spec.is_message and spec.type not in store.fielddefs})  # fmt: skip
    if missing:
        raise MessageError(f"the message definitions use unknown types {missing}")
    return store


def _fields(store: Typestore, typename: str) -> tuple[FieldSpec, ...]:
    from rosbags.interfaces import Nodetype

    specs = []
    for name, (kind, detail) in store.fielddefs[typename][1]:
        if kind == Nodetype.BASE:
            specs.append(FieldSpec(name, detail[0], string_bound=detail[1]))
        elif kind == Nodetype.NAME:
            specs.append(FieldSpec(name, detail))
        else:
            (element_kind, element), bound = detail
            container = "array" if kind == Nodetype.ARRAY else "sequence"
            if element_kind == Nodetype.BASE:
                specs.append(FieldSpec(name, element[0], container, bound, string_bound=element[1]))
            else:
                specs.append(FieldSpec(name, element, container, bound))
    return tuple(specs)


@functools.cache
def message_fields(typename: str) -> tuple[FieldSpec, ...]:
    """The fields of ``typename`` (e.g. ``"skelstream_msgs/msg/ActionLabel"``), in wire order."""
    store = typestore()
    if typename not in store.fielddefs:
        raise MessageError(f"unknown ROS 2 message type {typename!r}")
    return _fields(store, typename)


def constants(typename: str) -> dict[str, Any]:
    """The constants a definition declares (e.g. ``ActionEvent``: ``{"START": 0, "END": 1}``)."""
    message_fields(typename)  # a clear error for an unknown type
    return {name: value for name, _, value in typestore().fielddefs[typename][0]}


# --- building messages -------------------------------------------------------------------------
def _as_list(values: list, element_type: str) -> list:
    return values


def _as_is(value: Any, element_type: str) -> Any:
    return value


def numpy_array(values: list, element_type: str) -> Any:
    """The `build_message` array adapter for rosbags classes: numpy arrays of numbers, lists of strings."""
    import numpy as np

    if element_type == "string":
        return values
    dtype = {"bool": np.bool_, "byte": np.uint8, "char": np.uint8}.get(element_type, element_type)
    return np.asarray(values, dtype=dtype)


class _Invalid(Exception):
    """A value that does not fit its field; the field path is added while the error unwinds (only then)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []


def _fail(expected: str, value: Any) -> NoReturn:
    raise _Invalid(f"expected {expected}, got {type(value).__name__} {value!r:.40}")


def _primitive(value: Any, spec: FieldSpec) -> Any:
    """``value`` checked against a primitive field (exact types first: this runs for every joint coordinate)."""
    kind, cls = spec.type, type(value)
    if kind == "float64" or kind == "float32":
        if cls is not float:
            if cls is bool or not isinstance(value, numbers.Real):
                _fail(f"a number ({kind})", value)
            value = float(value)
        if kind == "float32" and abs(value) > FLOAT32_MAX and math.isfinite(value):
            raise _Invalid(f"{value} does not fit a float32")
        return value
    if kind == "string":
        if cls is not str:
            _fail("a string", value)
        if spec.string_bound and len(value) > spec.string_bound:
            raise _Invalid(f"longer than its bound of {spec.string_bound} characters")
        return value
    if kind == "bool":
        if cls is not bool:
            _fail("a bool", value)
        return value
    if cls is not int:
        if cls is bool or not isinstance(value, numbers.Integral):
            _fail(f"an integer ({kind})", value)
        value = int(value)
    low, high = INTEGER_RANGES[kind]
    if not low <= value <= high:
        raise _Invalid(f"{value} is out of the {kind} range [{low}, {high}]")
    return value


@functools.cache
def _field_names(typename: str) -> frozenset[str]:
    return frozenset(spec.name for spec in message_fields(typename))


def build_message(
    typename: str,
    fields: Mapping[str, Any],
    resolve: Callable[[str], type],
    primitive_array: Callable[[list, str], Any] = _as_list,
    primitive_value: Callable[[Any, str], Any] = _as_is,
) -> Any:
    """Build a ``typename`` message, nested messages included, from plain dicts, lists and scalars.

    ``fields`` must hold every field of the definition and nothing else (so that every
    target works: rosbags and Cyclone DDS classes have no defaults). Nested messages are
    dicts, sequences of them lists of dicts. Each value is checked against its field's
    type (strings, bools, numbers in the integer type's range); a `MessageError` names the
    field path of the first that is not right.

    Args:
        resolve: message type name → the class to instantiate by keyword arguments
            (rosbags: ``typestore().types.__getitem__``; `stream.ros2.dds_types.dds_class`; rclpy classes).
        primitive_array: adapts a checked list of primitives, given the element type
            (rosbags: `numpy_array`; Cyclone DDS and rclpy: lists, the default).
        primitive_value: adapts one checked primitive, given its type (rclpy wants
            ``bytes([v])`` for a ``byte``; the default keeps the value).
    """
    try:
        return _build(typename, fields, resolve, primitive_array, primitive_value)
    except _Invalid as error:
        raise MessageError(f"{typename}{''.join(reversed(error.path))}: {error.problem}") from None


def _build(
    typename: str,
    fields: Any,
    resolve: Callable[[str], type],
    primitive_array: Callable[[list, str], Any],
    primitive_value: Callable[[Any, str], Any],
) -> Any:
    if type(fields) is not dict and not isinstance(fields, Mapping):
        raise _Invalid(f"expected a mapping of the fields of {typename}, got {type(fields).__name__}")
    specs = message_fields(typename)
    if fields.keys() != _field_names(typename):
        missing = [spec.name for spec in specs if spec.name not in fields]
        unknown = sorted(set(fields) - _field_names(typename))
        problems = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
        raise _Invalid(f"fields of {typename}: {', '.join(problems)}")
    values = {}
    for spec in specs:
        try:
            values[spec.name] = _value(spec, fields[spec.name], resolve, primitive_array, primitive_value)
        except _Invalid as error:
            error.path.append(f".{spec.name}")
            raise
    return resolve(typename)(**values)


def _value(
    spec: FieldSpec,
    value: Any,
    resolve: Callable[[str], type],
    primitive_array: Callable[[list, str], Any],
    primitive_value: Callable[[Any, str], Any],
) -> Any:
    if not spec.container:
        if spec.is_message:
            return _build(spec.type, value, resolve, primitive_array, primitive_value)
        return primitive_value(_primitive(value, spec), spec.type)
    if type(value) is not list and not isinstance(value, (list, tuple)):
        _fail("a list", value)
    if spec.container == "array" and len(value) != spec.bound:
        raise _Invalid(f"expected exactly {spec.bound} items, got {len(value)}")
    if spec.container == "sequence" and spec.bound and len(value) > spec.bound:
        raise _Invalid(f"at most {spec.bound} items, got {len(value)}")
    items, index = [], 0
    try:
        if spec.is_message:
            for index, item in enumerate(value):
                items.append(_build(spec.type, item, resolve, primitive_array, primitive_value))
            return items
        for index, item in enumerate(value):
            items.append(primitive_value(_primitive(item, spec), spec.type))
    except _Invalid as error:
        error.path.append(f"[{index}]")
        raise
    return primitive_array(items, spec.type)
