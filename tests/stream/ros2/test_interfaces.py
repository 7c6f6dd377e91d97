"""The message definitions: one source each, parsed as ROS does, packaged, and `build_message`'s checks."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import MessageError
from stream.ros2.conversions import DIAGNOSTIC_OK, DIAGNOSTIC_WARN, EVENT_KINDS, UNITS
from stream.ros2.interfaces import (
    OWN_MSG_DIR,
    build_message,
    constants,
    defined_types,
    message_fields,
    numpy_array,
    typestore,
)
from stream.ros2.topics import TOPICS


REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "ros2_ws" / "src" / "skelstream_msgs"
OWN = ["skelstream_msgs/msg/ActionEvent", "skelstream_msgs/msg/ActionLabel", "skelstream_msgs/msg/Skeleton",
       "skelstream_msgs/msg/SkeletonArray"]  # fmt: skip
UPSTREAM = ["hri_msgs/msg/IdsList", "tf2_msgs/msg/TFMessage", "vision_msgs/msg/Classification",
            "vision_msgs/msg/ObjectHypothesis"]


def test_the_package_files_are_the_ones_stream_reads():
    assert OWN_MSG_DIR.resolve() == (PACKAGE / "msg").resolve()  # a link, not a copy, in a checkout
    assert sorted(defined_types()) == sorted(OWN + UPSTREAM)
    listed = re.findall(r'"msg/(\w+)\.msg"', (PACKAGE / "CMakeLists.txt").read_text())
    assert sorted(listed) == sorted(path.stem for path in (PACKAGE / "msg").glob("*.msg"))


def test_package_xml_declares_every_package_the_messages_use():
    root = ET.parse(PACKAGE / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "skelstream_msgs"
    depends = {element.text for element in root.iter("depend")}
    used = {spec.type.split("/")[0] for name in OWN for spec in message_fields(name) if spec.is_message}
    assert used - {"skelstream_msgs"} <= depends
    assert root.findtext("member_of_group") == "rosidl_interface_packages"
    cmake = (PACKAGE / "CMakeLists.txt").read_text()
    assert all(package in cmake.split("DEPENDENCIES")[1] for package in depends)


def test_every_published_type_is_known_with_its_fields():
    store = typestore()
    for spec in TOPICS:
        assert spec.typename in store.fielddefs, spec
    assert [f.name for f in message_fields("skelstream_msgs/msg/ActionLabel")] == [
        "header", "body_id", "frame", "label", "score", "top_k_labels", "top_k_scores", "latency"]  # fmt: skip
    points = {f.name: f for f in message_fields("skelstream_msgs/msg/Skeleton")}["joints"]
    assert (points.type, points.container, points.bound) == ("geometry_msgs/msg/Point", "sequence", 0)
    assert [f.name for f in message_fields("vision_msgs/msg/ObjectHypothesis")] == ["class_id", "score"]


def test_the_converter_constants_are_the_msg_constants():
    assert constants("skelstream_msgs/msg/ActionEvent") == {"START": EVENT_KINDS["start"], "END": EVENT_KINDS["end"],
                                                           "GESTURE": EVENT_KINDS["gesture"]}  # fmt: skip
    assert set(constants("skelstream_msgs/msg/SkeletonArray").values()) == {v for v in UNITS.values() if v}
    levels = constants("diagnostic_msgs/msg/DiagnosticStatus")
    assert (levels["OK"], levels["WARN"]) == (DIAGNOSTIC_OK, DIAGNOSTIC_WARN)


def test_definitions_load_from_another_directory():
    code = "from stream.ros2.interfaces import defined_types, typestore; typestore(); print(len(defined_types()))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(OWN + UPSTREAM))


POINT = {"x": 1.0, "y": 2, "z": -0.5}
HEADER = {"stamp": {"sec": 1, "nanosec": 2}, "frame_id": "camera"}
DELAY = {"sec": 0, "nanosec": 466_700_000}


def test_build_message_makes_rosbags_messages_with_numpy_arrays():
    store = typestore()
    fields = {"header": HEADER, "kind": 2, "body_id": "body_1", "label": "duck", "score": 0.5, "frame": 2**40,
              "delay": DELAY}  # fmt: skip
    event = build_message("skelstream_msgs/msg/ActionEvent", fields, store.types.__getitem__, numpy_array)
    assert (event.kind, event.frame, event.header.stamp.nanosec, event.delay.nanosec) == (2, 2**40, 2, 466_700_000)
    label = build_message("skelstream_msgs/msg/ActionLabel", {
        "header": HEADER, "body_id": "body_1", "frame": 3, "label": "walk", "score": 0.9,
        "top_k_labels": ["walk", "sit"], "top_k_scores": [0.9, 0.1], "latency": {"sec": 0, "nanosec": 5}},
        store.types.__getitem__, numpy_array)  # fmt: skip
    assert label.top_k_scores.dtype == np.float32 and label.top_k_labels == ["walk", "sit"]


@pytest.mark.parametrize(
    "typename, fields, message",
    [
        ("geometry_msgs/msg/Point", {"x": 1.0, "y": 2.0}, r"Point: fields of geometry_msgs/msg/Point: missing \['z'\]"),
        ("geometry_msgs/msg/Point", {**POINT, "w": 1.0}, r"unknown \['w'\]"),
        ("geometry_msgs/msg/Point", {**POINT, "z": "far"}, r"Point\.z: expected a number \(float64\), got str"),
        ("geometry_msgs/msg/Point", {**POINT, "z": True}, r"Point\.z: expected a number"),
        ("skelstream_msgs/msg/Skeleton", {"body_id": "b", "joints": [POINT, {**POINT, "y": None}], "confidences": [],
                                          "image_points": [], "has_position": False, "position": POINT},
         r"Skeleton\.joints\[1\]\.y: expected a number"),
        ("skelstream_msgs/msg/Skeleton", {"body_id": "b", "joints": [], "confidences": [1.0, 1e39], "image_points": [],
                                          "has_position": 0, "position": POINT}, r"confidences\[1\]: .* float32"),
        ("skelstream_msgs/msg/Skeleton", {"body_id": "b", "joints": POINT, "confidences": [], "image_points": [],
                                          "has_position": False, "position": POINT}, r"joints: expected a list"),
        ("skelstream_msgs/msg/Skeleton", {"body_id": "b", "joints": [], "confidences": [], "image_points": [],
                                          "has_position": 1, "position": POINT}, r"has_position: expected a bool"),
        ("skelstream_msgs/msg/ActionEvent", {"header": HEADER, "kind": 256, "body_id": "b", "label": "l", "score": 1,
                                             "frame": 0, "delay": DELAY}, r"kind: 256 is out of the uint8 range"),
        ("skelstream_msgs/msg/ActionEvent", {"header": HEADER, "kind": 0, "body_id": "b", "label": "l", "score": 1,
                                             "frame": -1, "delay": DELAY},
         r"ActionEvent\.frame: -1 is out of the uint64 range"),
        ("skelstream_msgs/msg/ActionEvent", {"header": {**HEADER, "stamp": {"sec": 1, "nanosec": 2.5}}, "kind": 0,
                                             "body_id": "b", "label": "l", "score": 1, "frame": 0, "delay": DELAY},
         r"header\.stamp\.nanosec: expected an integer"),
        ("skelstream_msgs/msg/Nope", {}, r"unknown ROS 2 message type"),
    ],
)  # fmt: skip
def test_build_message_names_the_field_that_is_wrong(typename, fields, message):
    with pytest.raises(MessageError, match=message):
        build_message(typename, fields, typestore().types.__getitem__, numpy_array)
