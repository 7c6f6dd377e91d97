"""The message schema: builders round-trip through msgpack and JSON; decode rejects everything else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgpack
import numpy as np
import pytest

from foundation.errors import MessageError
from stream.messages.builders import action_message, event_message, skeleton_message, status_message
from stream.messages.codec import decode, encode, is_json, parse_topics
from stream.messages.schema import COMMON_FIELDS, FIELDS, MAX_ARRAY_LEN, MAX_PAYLOAD_BYTES, MAX_STR_LEN, OPTIONAL_FIELDS, SCHEMA_VERSION, TOPICS
from stream.types import ActionEvent, FrameLabel, Person, TrackedPerson


DOCS = Path(__file__).resolve().parents[2] / "docs" / "messages.md"


def tracked_people(layout: str = "kinect_v2_25", count: int = 2, joints: int = 25) -> list[TrackedPerson]:
    rng = np.random.default_rng(0)
    return [
        TrackedPerson(track_id=7 + i, person=Person(joints=rng.normal(size=(joints, 3)), confidence=np.ones(joints),
                                                    layout=layout, image_points=rng.uniform(0, 640, (joints, 2))))
        for i in range(count)
    ]  # fmt: skip


def sample(topic: str) -> dict:
    """One realistic message of ``topic``, built the way the runtime builds it."""
    if topic == "actions":
        label = FrameLabel(track_id=1, frame=120, stamp_ns=81_234_567_890_123, label="walk", score=0.91,
                           top_k=[("walk", 0.91), ("wave", 0.05)], latency_ns=12_300_000, truth="walk")  # fmt: skip
        return action_message("lab-cam", label)
    if topic == "events":
        return event_message("lab-cam", ActionEvent(1, "start", "walk", 112, 81_234_300_000_000, 0.88))
    if topic == "skeletons":
        return skeleton_message("lab-cam", 120, 81_234_567_890_123, tracked_people(), frame_id="base_link")
    stats = {"rates": {"capture": 30.0}, "drops": {"capture": 2, "publish": 0}, "tracks": 2,
             "queues": {"capture": 0, "decoder": 9},
             "latency_ms": {"pose": {"p50": 18.9, "p95": 23.4, "p99": 27.0, "count": 300}}}  # fmt: skip
    return status_message("lab-cam", stats, frame=120, stamp_ns=81_234_600_000_000)


@pytest.mark.parametrize("as_json", [False, True], ids=["msgpack", "json"])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_round_trips(topic, as_json):
    msg = sample(topic)
    payload = encode(msg, json=as_json)
    assert is_json(payload) == as_json
    assert decode(payload, topic) == msg
    assert decode(payload) == msg  # common fields only
    assert msg["v"] == SCHEMA_VERSION and msg["stream"] == "lab-cam" and msg["frame"] in (112, 120)


def test_msgpack_payload_is_a_map_with_utf8_strings_and_no_bin():
    payload = encode(sample("actions"))
    assert payload[0] in range(0x80, 0x90) or payload[0] in (0xDE, 0xDF)
    assert msgpack.unpackb(payload, raw=False) == sample("actions")


def test_action_message_fields_and_units():
    msg = sample("actions")
    assert msg["latency_ms"] == pytest.approx(12.3)
    assert msg["top_k"] == [["walk", 0.91], ["wave", 0.05]]
    assert msg["track"] == 1 and msg["label"] == "walk" and msg["truth"] == "walk"


def test_skeleton_message_sends_joint_names_once_and_marks_bad_joints_missing():
    people = tracked_people(count=1)
    people[0].person.joints[3] = np.nan
    msg = skeleton_message("s", 5, 10, people)
    assert msg["layout"] == "kinect_v2_25" and msg["units"] == "m" and msg["frame_id"] == "camera"
    assert len(msg["joint_names"]) == 25 and msg["joint_names"][3] == "head"
    person = msg["people"][0]
    assert person["joints"][3] == [0.0, 0.0, 0.0] and person["confidence"][3] == 0.0
    assert len(person["image_points"]) == 25
    decode(encode(msg, json=True), "skeletons")  # NaN never reaches the wire, so JSON stays valid


def test_skeleton_message_for_2d_layouts_nobody_and_mixed_layouts():
    coco = [TrackedPerson(1, Person(np.full((17, 2), 100.0), np.ones(17), "coco_17"))]
    msg = skeleton_message("s", 0, 0, coco)
    assert msg["units"] == "px" and msg["people"][0]["joints"][0] == [100.0, 100.0, 0.0]
    empty = skeleton_message("s", 0, 0, [])
    assert empty["layout"] is None and empty["people"] == [] and decode(encode(empty), "skeletons") == empty
    assert skeleton_message("s", 0, 0, [], layout="unified_30")["joint_names"][25] == "nose"
    with pytest.raises(ValueError, match="one layout per message"):
        skeleton_message("s", 0, 0, coco + tracked_people(count=1))
    with pytest.raises(ValueError, match="needs"):
        skeleton_message("s", 0, 0, tracked_people(count=1, joints=20))


def test_status_message_takes_stage_stats_summaries_and_rejects_unknown_keys():
    summary = {"pose": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "count": np.int64(40)}, "model": {"count": 0}}
    msg = status_message("s", {"latency_ms": summary})
    assert msg["latency_ms"] == {"pose": {"p50": 1.0, "p95": 2.0, "p99": 3.0, "count": 40}}  # never-run stage left out
    assert msg["frame"] == -1 and msg["stamp_ns"] > 0 and msg["rates"] == {} and "tracks" not in msg
    with pytest.raises(ValueError, match="unknown stats"):
        status_message("s", {"fps": 30})
    with pytest.raises(ValueError, match="finite"):
        status_message("s", {"rates": {"capture": float("nan")}})


def _without(msg: dict, field: str) -> dict:
    return {k: v for k, v in msg.items() if k != field}


REQUIRED = [(topic, name) for topic in TOPICS for name in [*COMMON_FIELDS, *FIELDS[topic]]
            if name not in OPTIONAL_FIELDS.get(topic, ())]  # fmt: skip


@pytest.mark.parametrize("topic,field", REQUIRED, ids=[f"{t}.{f}" for t, f in REQUIRED])
def test_decode_names_a_missing_field(topic, field):
    with pytest.raises(MessageError, match=rf"missing field '{field}'"):
        decode(encode(_without(sample(topic), field)), topic)


WRONG_TYPES = [
    ("actions", "frame", 1.5, "frame"),
    ("actions", "frame", True, "frame"),
    ("actions", "stamp_ns", "now", "stamp_ns"),
    ("actions", "stream", 3, "stream"),
    ("actions", "score", "high", "score"),
    ("actions", "score", None, "score"),
    ("actions", "top_k", [["walk"]], r"top_k\[0\]"),
    ("actions", "top_k", [["walk", "x"]], r"top_k\[0\]\[1\]"),
    ("actions", "truth", 5, "truth"),
    ("events", "kind", "begin", "kind"),
    ("events", "delay_ms", "soon", "delay_ms"),
    ("skeletons", "people", [{"track": 1}], r"people\[0\]\.joints"),
    ("skeletons", "joint_names", "head", "joint_names"),
    ("status", "drops", {"capture": 1.5}, r"drops\.capture"),
    ("status", "latency_ms", {"pose": {"p50": 1.0}}, r"latency_ms\.pose\.p95"),
]


@pytest.mark.parametrize("topic,field,value,named", WRONG_TYPES, ids=[f"{t}.{f}" for t, f, _, _ in WRONG_TYPES])
@pytest.mark.parametrize("as_json", [False, True], ids=["msgpack", "json"])
def test_decode_names_a_field_of_the_wrong_type(topic, field, value, named, as_json):
    msg = {**sample(topic), field: value}
    with pytest.raises(MessageError, match=named):
        decode(encode(msg, json=as_json), topic)


def test_decode_checks_joint_counts_against_joint_names():
    msg = sample("skeletons")
    msg["people"][1]["confidence"] = msg["people"][1]["confidence"][:-1]
    with pytest.raises(MessageError, match=r"people\[1\]\.confidence.*24 joints"):
        decode(encode(msg), "skeletons")
    msg = sample("skeletons")
    msg["people"][0]["joints"][2] = [1.0, 2.0]
    with pytest.raises(MessageError, match=r"people\[0\]\.joints\[2\]"):
        decode(encode(msg), "skeletons")


def test_decode_rejects_unknown_schema_versions_and_non_maps():
    with pytest.raises(MessageError, match="unsupported schema version 2"):
        decode(encode({**sample("events"), "v": 2}), "events")
    with pytest.raises(MessageError, match="must be a map"):
        decode(msgpack.packb([1, 2, 3]))
    with pytest.raises(MessageError, match="must be bytes"):
        decode("{}")


def gesture_sample() -> dict:
    return event_message("lab-cam", ActionEvent(1, "gesture", "duck", 130, 81_234_900_000_000, 0.93, delay_ms=466.7))


@pytest.mark.parametrize("as_json", [False, True], ids=["msgpack", "json"])
def test_a_gesture_event_carries_its_delay_and_round_trips(as_json):
    msg = gesture_sample()
    assert (msg["kind"], msg["label"], msg["frame"], msg["delay_ms"]) == ("gesture", "duck", 130, 466.7)
    assert decode(encode(msg, json=as_json), "events") == msg
    assert "delay_ms" not in sample("events")  # start and end events are as they were: an additive change
    with pytest.raises(MessageError, match="missing field 'delay_ms'"):
        decode(encode(_without(msg, "delay_ms")), "events")


def test_event_kinds_and_delays_go_together():
    with pytest.raises(ValueError, match="gesture event needs delay_ms"):
        ActionEvent(1, "gesture", "duck", 1, 0, 0.9)
    with pytest.raises(ValueError, match="start event has no delay_ms"):
        ActionEvent(1, "start", "walk", 1, 0, 0.9, delay_ms=5.0)
    with pytest.raises(ValueError, match="event kind must be one of 'start', 'end', 'gesture'"):
        ActionEvent(1, "begin", "walk", 1, 0, 0.9)


def test_decode_ignores_unknown_fields_and_unknown_topics():
    msg = {**sample("actions"), "added_in_a_later_minor": [1, 2]}
    assert decode(encode(msg), "actions") == msg
    assert decode(encode(sample("events")), "a-future-topic")["kind"] == "start"


GARBAGE = [
    b"",
    b"\xc1",  # never-used msgpack byte
    b"\xff\xfe\xfd",
    b"{not json",
    b'{"v": 1, "stream": "s", "frame": NaN, "stamp_ns": 0}',
    b'{"v": 1, "stream": "s", "frame": 1, "stamp_ns": 1e999}',
    b"\x84\xa1v\x01",  # a map of 4 announced, 1 key present
    encode(sample("events")) + b"\x00",  # trailing bytes
    msgpack.packb({1: 2}),  # non-string keys
    b"{" + b'"a":' * 50_000 + b"1" + b"}" * 50_000,  # deep nesting, JSON
    b"\x91" * 100_000 + b"\x01",  # deep nesting, msgpack
]


@pytest.mark.parametrize("payload", GARBAGE, ids=range(len(GARBAGE)))
def test_decode_rejects_garbage_with_message_error(payload):
    with pytest.raises(MessageError):
        decode(payload, "events")


@pytest.mark.parametrize(
    "payload,match",
    [
        (b"\xdd\xff\xff\xff\xff", "max_array_len"),  # announces 4 G array items in 5 bytes
        (b"\xdf\xff\xff\xff\xff", "max_map_len"),  # 4 G map entries
        (b"\xdb\xff\xff\xff\xff", "not valid msgpack"),  # 4 GB string: more than the payload holds
        (msgpack.packb({"v": 1, "people": list(range(MAX_ARRAY_LEN + 1))}), "max_array_len"),
        (msgpack.packb({"v": 1, "stream": "x" * (MAX_STR_LEN + 1)}), "max_str_len"),
        (msgpack.packb({f"k{i}": i for i in range(300)}), "max_map_len"),
        (msgpack.packb({"v": 1, "blob": b"\x00" * 8}, use_bin_type=True), "max_bin_len"),
        (msgpack.packb({"v": 1, "ext": msgpack.ExtType(5, b"abc")}), "max_ext_len"),
        (b"\x80" + b"\x00" * MAX_PAYLOAD_BYTES, "exceeds"),
    ],
    ids=["array-header", "map-header", "str-header", "array", "str", "map", "bin", "ext", "payload-size"],
)
def test_decode_limits_container_sizes(payload, match):
    with pytest.raises(MessageError, match=match):
        decode(payload)


def test_parse_topics():
    assert parse_topics("actions, events") == ["actions", "events"]
    assert parse_topics("all") == list(TOPICS)
    with pytest.raises(ValueError, match="unknown topic 'action'"):
        parse_topics("action")


def test_docs_document_every_field_of_every_topic():
    text = DOCS.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `(\w+)`[^\n]*\n(.*?)(?=^## )", text, flags=re.S | re.M))
    assert set(sections) == set(TOPICS)
    for name in COMMON_FIELDS:
        assert f"| `{name}` |" in text
    for topic, fields in FIELDS.items():
        for name in fields:
            assert f"| `{name}` |" in sections[topic], f"docs/messages.md: {topic}.{name} undocumented"
        example = re.search(r"```json\n(.*?)```", sections[topic], flags=re.S).group(1)
        if topic != "skeletons":  # the skeletons example is abridged
            assert decode(json.dumps(json.loads(example)).encode(), topic)
    assert f"Schema version: **{SCHEMA_VERSION}**" in text


def test_skeleton_positions_are_optional_and_checked():
    import numpy as np

    from stream.messages.builders import skeleton_message
    from stream.messages.codec import decode, encode
    from stream.types import Person, TrackedPerson

    person = Person(joints=np.zeros((30, 3)), confidence=np.ones(30), layout="unified_30")
    tracked = [TrackedPerson(1, person), TrackedPerson(2, person)]
    msg = skeleton_message("s", 3, 10, tracked, frame_id="base_link", positions={1: np.array([1.0, 2.0, 0.5])})
    back = decode(encode(msg), "skeletons")
    assert back["frame_id"] == "base_link"
    assert back["people"][0]["position"] == [1.0, 2.0, 0.5] and "position" not in back["people"][1]
    msg["people"][0]["position"] = [1.0, 2.0]
    with pytest.raises(MessageError, match="position"):
        decode(encode(msg), "skeletons")
