"""The node's /diagnostics status: OK while frames flow, WARN on silence or refused messages, ERROR when stopped."""

import pytest

from skelstream_ros.health import ERROR, OK, WARN, InputHealth

S = 1_000_000_000


def values(status):
    return {item["key"]: item["value"] for item in status["values"]}


def test_levels_follow_the_input_and_the_pipeline():
    health = InputHealth("skelstream: lab input", "/camera/image_raw", started_ns=0, stale_after_s=2.0)
    status = health.status(1 * S, {"captured": 0, "dropped": 0}, None)
    assert status["level"] == OK and status["message"] == "running"  # just started: not silent for long yet
    assert health.status(3 * S, {"captured": 0}, None)["level"] == WARN  # nothing for 3 s
    assert "no frame from /camera/image_raw for 3 s" == health.status(3 * S, {"captured": 0}, None)["message"]
    status = health.status(4 * S, {"captured": 30, "dropped": 2}, None)
    assert status["level"] == OK and values(status)["frames"] == "30" and values(status)["dropped"] == "2"

    health.on_refused("image", "unsupported image encoding 'yuv422'; supported: rgb8, ...")
    status = health.status(5 * S, {"captured": 60}, None)
    assert status["level"] == WARN
    assert "1 input messages refused; last: unsupported image encoding 'yuv422'" in status["message"]
    assert values(status)["refused image"] == "1" and values(status)["last refusal"].startswith("unsupported")
    assert health.status(6 * S, {"captured": 90}, None)["level"] == OK  # nothing new refused since the last report

    status = health.status(7 * S, {"captured": 120, "out_of_order": 2}, None)  # the source refuses old stamps too
    assert status["level"] == WARN and values(status)["refused out_of_order"] == "2"

    status = health.status(8 * S, {"captured": 150}, "camera 0 stopped delivering frames after 150 frames")
    assert status["level"] == ERROR and status["message"].startswith("pipeline stopped: camera 0 stopped")


def test_the_status_is_a_valid_diagnostic_message():
    interfaces = pytest.importorskip("stream.ros2.interfaces")
    pytest.importorskip("rosbags")
    health = InputHealth("skelstream: lab input", "camera 0", started_ns=0)
    health.on_refused("markers", "body marker id 145: joint 45 is not an Azure Kinect body tracking joint")
    array = {"header": {"stamp": {"sec": 1, "nanosec": 2}, "frame_id": ""},
             "status": [health.status(1 * S, {"captured": 3, "dropped": 0}, None)]}  # fmt: skip
    store = interfaces.typestore()
    message = interfaces.build_message("diagnostic_msgs/msg/DiagnosticArray", array, store.types.__getitem__,
                                       interfaces.numpy_array)  # fmt: skip
    back = store.deserialize_cdr(store.serialize_cdr(message, "diagnostic_msgs/msg/DiagnosticArray"),
                                 "diagnostic_msgs/msg/DiagnosticArray")  # fmt: skip
    assert back.status[0].level == WARN and back.status[0].hardware_id == "camera 0"
