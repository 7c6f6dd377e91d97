"""Schema-v1 messages of a real run → ROS 2 messages: stamps, body ids, top-k, frames, diagnostics, bad input."""

import pytest

from foundation.errors import MessageError
from stream.messages.builders import status_message
from stream.ros2.conversions import DIAGNOSTIC_OK, DIAGNOSTIC_WARN, RosConverter
from stream.ros2.topics import ACTIONS, BODY_ACTION, DIAGNOSTICS, EVENTS, SKELETONS, TRACKED_BODIES


OFFSET = 1_700_000_000_123_456_789  # epoch - monotonic, fixed for the test


def stamp_ns(header: dict) -> int:
    return header["stamp"]["sec"] * 1_000_000_000 + header["stamp"]["nanosec"]


def of_topic(run_messages, topic):
    return [msg for name, msg in run_messages if name == topic]


def test_actions_become_labels_and_per_body_classifications(run_messages):
    converter = RosConverter(stamp_offset_ns=OFFSET, camera_frame="head_camera")
    actions = of_topic(run_messages, "actions")
    assert len(actions) > 100
    for msg in actions:
        label, classification = converter.convert("actions", msg)
        assert (label.topic, label.typename) == (ACTIONS.name, ACTIONS.typename)
        fields = label.fields
        assert stamp_ns(fields["header"]) == msg["stamp_ns"] + OFFSET
        assert fields["header"]["frame_id"] == "head_camera"
        assert fields["body_id"] == f"body_{msg['track']}"
        assert (fields["frame"], fields["label"]) == (msg["frame"], msg["label"])
        assert list(zip(fields["top_k_labels"], fields["top_k_scores"])) == [tuple(pair) for pair in msg["top_k"]]
        latency = fields["latency"]["sec"] * 1e9 + fields["latency"]["nanosec"]
        assert latency == pytest.approx(msg["latency_ms"] * 1e6, abs=1)
        assert classification.topic == f"humans/bodies/body_{msg['track']}/action"
        assert classification.typename == BODY_ACTION.typename
        assert classification.fields["header"] == fields["header"]
        assert [(r["class_id"], r["score"]) for r in classification.fields["results"]] == \
               [tuple(pair) for pair in msg["top_k"]]  # fmt: skip


def test_events_keep_kind_body_and_frame(run_messages):
    converter = RosConverter(stamp_offset_ns=OFFSET)
    events = of_topic(run_messages, "events")
    assert events, "the synthetic run has action starts and ends; gestures are added"
    converted = [converter.convert("events", msg) for msg in events]
    assert all(len(out) == 1 and out[0].topic == EVENTS.name for out in converted)
    assert {msg["kind"] for msg in events} == {"start", "end", "gesture"}
    for msg, (event,) in zip(events, converted):
        assert event.fields["kind"] == {"start": 0, "end": 1, "gesture": 2}[msg["kind"]]
        assert (event.fields["body_id"], event.fields["frame"]) == (f"body_{msg['track']}", msg["frame"])
        assert stamp_ns(event.fields["header"]) == msg["stamp_ns"] + OFFSET
        delay_ns = event.fields["delay"]["sec"] * 1_000_000_000 + event.fields["delay"]["nanosec"]
        assert delay_ns == round(msg.get("delay_ms", 0.0) * 1e6)


def test_skeletons_keep_frames_joints_positions_and_list_the_tracked_bodies(run_messages):
    """Metric camera-frame joints go into the optical frame (x, y negated); robot-frame and pixel ones pass."""
    converter = RosConverter(stamp_offset_ns=OFFSET, camera_frame="head_camera")
    skeletons = of_topic(run_messages, "skeletons")
    for msg in skeletons:
        array, tracked = converter.convert("skeletons", msg)
        assert (array.topic, tracked.topic) == (SKELETONS.name, TRACKED_BODIES.name)
        fields = array.fields
        expected_frame = "head_camera" if msg["frame_id"] == "camera" else msg["frame_id"]
        assert fields["header"]["frame_id"] == expected_frame and stamp_ns(fields["header"]) == msg["stamp_ns"] + OFFSET
        assert (fields["layout"], fields["units"], fields["joint_names"]) == (msg["layout"], msg["units"],
                                                                             msg["joint_names"])  # fmt: skip
        assert tracked.fields["ids"] == [body["body_id"] for body in fields["bodies"]]
        sign = [-1.0, -1.0, 1.0] if msg["frame_id"] == "camera" and msg["units"] == "m" else [1.0, 1.0, 1.0]
        for person, body in zip(msg["people"], fields["bodies"], strict=True):
            assert [[p["x"], p["y"], p["z"]] for p in body["joints"]] == [[s * v for s, v in zip(sign, xyz)]
                                                                           for xyz in person["joints"]]
            assert body["confidences"] == person["confidence"]
            assert [[p["x"], p["y"]] for p in body["image_points"]] == (person["image_points"] or [])
            assert all(p["z"] == 0.0 for p in body["image_points"])
            assert body["has_position"] == ("position" in person)
            if body["has_position"]:
                assert [body["position"][k] for k in "xyz"] == [s * v for s, v in zip(sign, person["position"])]
    assert any(msg["frame_id"] == "camera" and msg["units"] == "m" for msg in skeletons)
    placed = [msg for msg in skeletons if msg["frame_id"] == "base_link"]
    assert placed and placed[0]["people"][0]["image_points"] and "position" in placed[0]["people"][0]
    assert any(msg["units"] == "px" for msg in skeletons)


def test_status_becomes_diagnostics_that_warn_while_drops_rise():
    converter = RosConverter(stamp_offset_ns=OFFSET)
    latency = {"model": {"p50": 1.0, "p95": 2.0, "p99": 3.0}}
    levels, messages = [], []
    for capture in (0, 3, 3):
        stats = {"rates": {"frames": 30.0}, "drops": {"capture": capture, "publish": 0}, "latency_ms": latency,
                 "tracks": 2, "queues": {"capture": 1}}  # fmt: skip
        (diagnostics,) = converter.convert("status", status_message("lab-cam", stats, frame=7))
        assert diagnostics.topic == DIAGNOSTICS.name
        (status,) = diagnostics.fields["status"]
        levels.append(status["level"])
        messages.append(status["message"])
    assert levels == [DIAGNOSTIC_OK, DIAGNOSTIC_WARN, DIAGNOSTIC_OK]
    assert messages == ["running", "dropping: capture +3", "running"]
    values = dict((v["key"], v["value"]) for v in status["values"])
    assert values["drops capture"] == "3" and values["latency model p95 (ms)"] == "2.000"
    assert values["tracks"] == "2" and values["queue capture"] == "1" and values["frame"] == "7"
    assert status["name"] == "skelstream: lab-cam" and status["hardware_id"] == "lab-cam"


def test_the_tracked_list_empties_when_the_last_person_leaves(run_messages):
    converter = RosConverter(stamp_offset_ns=OFFSET)
    skeleton = next(msg for name, msg in run_messages if name == "skeletons" and msg["people"])
    converter.convert("skeletons", skeleton)
    empty = {"rates": {}, "drops": {}, "latency_ms": {}, "tracks": 0}
    first = converter.convert("status", status_message("cam", empty))
    assert [m.topic for m in first] == [DIAGNOSTICS.name, TRACKED_BODIES.name] and first[1].fields["ids"] == []
    assert [m.topic for m in converter.convert("status", status_message("cam", empty))] == [DIAGNOSTICS.name]


def test_bad_input_is_a_clear_error(run_messages):
    converter = RosConverter()
    action = next(msg for name, msg in run_messages if name == "actions")
    skeleton = next(msg for name, msg in run_messages if name == "skeletons" and msg["people"])
    with pytest.raises(ValueError, match="no ROS mapping for topic 'pose'"):
        converter.convert("pose", action)
    with pytest.raises(MessageError, match="actions message: missing field 'track'"):
        converter.convert("actions", {k: v for k, v in action.items() if k != "track"})
    with pytest.raises(MessageError, match="track id must be an integer"):
        converter.convert("actions", {**action, "track": -2})
    with pytest.raises(MessageError, match="events message: field 'kind'"):
        converter.convert("events", {**action, "kind": "pause"})
    person = {**skeleton["people"][0], "joints": [[1.0, 2.0]] * len(skeleton["joint_names"])}
    with pytest.raises(MessageError, match="skeletons message"):
        converter.convert("skeletons", {**skeleton, "people": [person]})
