"""Bad input from outside, property-based and fuzzed: every decoder and reader of the stream package raises only
its own exception type with a message, never hangs and never allocates beyond a bound; the pipeline survives
hostile recordings; `stream-listen` survives hostile payloads.

Run longer: ``SKELSTREAM_FUZZ_EXAMPLES=5000 pytest tests/stream/test_bad_input.py`` (docs/reliability.md lists
what was run)."""

import json
import logging
import struct
import tracemalloc
import zlib

import msgpack
import numpy as np
import pytest
import yaml
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.config_files import ConfigError
from foundation.errors import DataFormatError
from foundation.errors import MessageError
from models.skeleton.layouts import LAYOUTS
from stream.cli.listen import handle
from stream.messages.codec import decode, encode
from stream.messages.schema import MAX_PAYLOAD_BYTES, TOPICS
from stream.publishers.zmq_publisher import ZmqPublisher
from stream.recordings.skrec import MAGIC, RecordedPerson, RecordingHeader, RecordingWriter, read_recording
from stream.run.config import RunConfig, load_run_config
from tests.fuzzing import EXAMPLES, FUZZ, PLAIN, WITH_BYTES, mutated, replace_somewhere
from tests.stream.test_listen import finish, listen
from tests.stream.test_messages import sample
from tests.stream.test_zmq import LOCAL


# --- messages: stream.messages.decode and stream-listen's decode path -------------------------------------------


def hostile_payload(data, topic):
    how = data.draw(st.sampled_from(["bytes", "mutated", "msgpack", "json"]), label="how")
    if how == "bytes":
        return data.draw(st.binary(max_size=300), label="payload")
    if how == "mutated":
        return mutated(data, encode(sample(topic), json=data.draw(st.booleans(), label="json")))
    message = replace_somewhere(data, sample(topic), WITH_BYTES if how == "msgpack" else PLAIN)
    try:
        return msgpack.packb(message, use_bin_type=True) if how == "msgpack" else json.dumps(message).encode()
    except (TypeError, ValueError, OverflowError):
        return b"\xc1"  # a value neither format can carry: the reserved msgpack byte instead


@FUZZ
@given(data=st.data())
def test_decoders_raise_only_message_error_and_listen_prints_one_safe_line(data):
    topic = data.draw(st.sampled_from([*TOPICS, "actionsX", ""]), label="topic")
    payload = hostile_payload(data, topic if topic in TOPICS else "actions")
    try:
        msg = decode(payload, topic)
    except MessageError as error:
        assert str(error)
    else:
        assert encode(msg) and encode(msg, json=True)  # what passed is plain data again: both formats carry it
    json_out = data.draw(st.booleans(), label="json_out")
    line, warning = handle([topic.encode(), payload], json_out)
    assert (line is None) != (warning is None)
    text = line or warning
    assert text.isprintable() and text.encode("utf-8")  # no control character reaches the terminal
    if line is not None and json_out:
        assert json.loads(line)["topic"] == topic


def test_decoding_allocates_in_proportion_to_the_payload():
    empty_maps = b"\xdc" + (4000).to_bytes(2, "big") + b"\x80" * 4000  # an array of 4000 {}: 1 byte each
    count = MAX_PAYLOAD_BYTES // len(empty_maps) - 1
    worst = b"\x81\xa1x\xdc" + count.to_bytes(2, "big") + empty_maps * count  # {"x": [[{}, ...], ...]}, ~1 MiB
    for payload, bound in ((worst, 100 * len(worst)), (b"\x80" * (MAX_PAYLOAD_BYTES + 1), 4 * MAX_PAYLOAD_BYTES)):
        tracemalloc.start()
        try:
            with pytest.raises(MessageError):
                decode(payload, "actions")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= bound, (len(payload), peak)


def test_stream_listen_survives_hostile_payloads_and_escapes_control_characters():
    hostile = [
        b'{"v":1,"stream":"\\ud800","frame":1,"stamp_ns":1}',  # a lone surrogate: no UTF-8 text
        msgpack.packb({**sample("actions"), "extra": b""}),  # a zero-length bin passes size limits
        msgpack.packb({**sample("actions"), "extra": msgpack.ExtType(1, b"")}),
        msgpack.packb({**sample("actions"), "score": float("nan")}),
        b"[" * 100_000 + b"]" * 100_000,
        b"{" + b'"a":[' * 50_000 + b"]" * 50_000 + b"}",
        b"\x80" * (MAX_PAYLOAD_BYTES + 1),
        np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
    ]
    with ZmqPublisher(LOCAL, stream_name="cam") as pub:
        proc = listen("--zmq", pub.endpoint, "--count", "1")
        try:
            assert pub.wait_for_subscribers(count=2, timeout_s=20)
            for payload in hostile:
                pub.publish_payload("actions", payload)
            pub.publish("actions", {**sample("actions"), "label": "wave\x1b[2J\x07"})  # terminal escapes
            code, out, err = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0, err
    assert out.splitlines() == ["actions    track 1  frame 120  wave\\x1b[2J\\x07 0.91  (lat 12.3 ms)"]
    assert len(err.splitlines()) == len(hostile) and "Traceback" not in err  # one warning each


def test_a_subscriber_sending_more_than_subscriptions_is_disconnected():
    context = zmq.Context()
    rogue = context.socket(zmq.XSUB)  # a subscriber that can send anything upstream
    try:
        with ZmqPublisher(LOCAL) as pub:
            rogue.connect(pub.endpoint)
            rogue.send(b"\x01" + b"a" * 100_000)  # a "subscription" of 100 kB
            assert not pub.wait_for_subscribers(timeout_s=1.0)  # never parsed, never counted
            assert pub.publish("actions", sample("actions")) and pub.stats()["dropped"] == 0
    finally:
        rogue.close(linger=0)
        context.term()


# --- recordings ---------------------------------------------------------------------------------------------------

HEADER = RecordingHeader(layout="unified_30", fps=30.0, labels=("background", "wave"))


@pytest.fixture(scope="module")
def valid_recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "valid.skrec"
    rng = np.random.default_rng(0)
    with RecordingWriter(path, HEADER) as writer:
        for k in range(3):
            writer.write_frame(k, k * 33_000_000, [RecordedPerson(
                id=1, joints=rng.normal(size=(30, 3)), confidence=np.ones(30), label="wave", score=0.5,
                image_points=rng.random((30, 2)))])  # fmt: skip
    return path.read_bytes()


def record(value):
    payload = msgpack.packb(value, use_bin_type=True)
    return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload


def read_all(path):
    try:
        _, reader = read_recording(path)
        with reader:
            return list(reader)
    except DataFormatError as error:
        assert str(path) in str(error)
        return None


@FUZZ
@given(data=st.data())
def test_the_recording_reader_raises_only_data_format_error(data, valid_recording, tmp_path):
    how = data.draw(st.sampled_from(["bytes", "mutated", "records"]), label="how")
    if how == "bytes":
        content = MAGIC + data.draw(st.binary(max_size=300), label="rest")
    elif how == "mutated":
        content = mutated(data, valid_recording)
    else:  # well-framed records (right length and CRC) holding hostile values
        header, frame = HEADER.to_dict(), {"frame": 1, "stamp_ns": 5, "people": [
            {"id": 1, "shape": [30, 3], "joints": bytes(360), "confidence": bytes(120), "layout": "unified_30"}]}
        which = data.draw(st.sampled_from(["header", "frame", "whole"]), label="which")
        if which == "whole":
            frame = data.draw(WITH_BYTES, label="frame")
        else:
            replace_somewhere(data, header if which == "header" else frame, WITH_BYTES)
        content = MAGIC + record(header) + record(frame)
    path = tmp_path / "fuzz.skrec"
    path.write_bytes(content)
    frames = read_all(path)
    for frame in frames or []:
        for person in frame.people:
            layout = LAYOUTS[person.layout or HEADER.layout]
            assert person.joints.shape[0] == layout.num_joints and person.confidence.shape == (layout.num_joints,)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 5))  # a pipeline run per example
@given(data=st.data())
def test_hostile_recordings_never_crash_the_pipeline(data, checkpoint, tmp_path):
    """Format-valid recordings holding any numbers, any layout, any shape the format allows, in any order."""
    from stream.backends.torch_backend import TorchBackend
    from stream.run.pipeline import Pipeline
    from stream.sources import make_source
    from stream.sources.skeleton_file import SkeletonFileConfig

    numbers = st.floats(width=32) | st.sampled_from([0.0, 1e30, -1e30])
    header_layout = data.draw(st.sampled_from(sorted(LAYOUTS)), label="layout")
    path, frames = tmp_path / "hostile.skrec", data.draw(st.integers(1, 40), label="frames")
    with RecordingWriter(path, RecordingHeader(layout=header_layout, fps=30.0)) as writer:
        stamp = 0
        for k in range(frames):
            stamp += data.draw(st.sampled_from([0, -(10**9), 33_333_333, 10**12, 10**15]), label="step")
            people = []
            for _ in range(data.draw(st.integers(0, 3), label="people")):
                layout = data.draw(st.sampled_from([None, *sorted(LAYOUTS)]), label="person layout")
                v, c = LAYOUTS[layout or header_layout].num_joints, data.draw(st.sampled_from([2, 3]), label="C")
                fill = data.draw(numbers, label="fill")
                joints = np.random.default_rng(k).normal(size=(v, c)) if fill == 0 else \
                    np.full((v, c), fill)  # fmt: skip
                confidence = np.full(v, data.draw(st.sampled_from([0.0, 0.5, 1.0, -1.0, 2.0, np.nan]), label="conf"))
                people.append(RecordedPerson(id=data.draw(st.none() | st.integers(-3, 3), label="id"), joints=joints,
                                             confidence=confidence, layout=layout))  # fmt: skip
            writer.write_frame(k, stamp, people)
    config = RunConfig(source="skeleton-file", skeleton_file=str(path), format="recording", fast=True,
                       checkpoint=checkpoint, stride=2)  # fmt: skip
    logging.disable(logging.ERROR)  # model failures and dropped skeletons are logged; expected here
    try:
        with make_source(SkeletonFileConfig(path, "recording", fast=True)) as source, \
                ZmqPublisher("inproc://hostile") as publisher:  # fmt: skip
            summary = Pipeline(config, source, BACKENDS.setdefault(checkpoint, TorchBackend(checkpoint, threads=1)),
                               publisher, status_line=False).run()  # fmt: skip
    finally:
        logging.disable(logging.NOTSET)
    assert summary.stop_reason == "end of stream" and summary.frames == frames


BACKENDS: dict = {}  # one backend for every example of the pipeline test


# --- stream-run's config file ------------------------------------------------------------------------------------

RUN_KEYS = sorted(RunConfig.__dataclass_fields__)


@FUZZ
@given(data=st.data())
def test_run_config_files_fail_with_config_error_naming_the_key(data, tmp_path):
    path = tmp_path / "run.yaml"
    how = data.draw(st.sampled_from(["bytes", "text", "keys"]), label="how")
    document = {}
    if how == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200), label="bytes"))
    elif how == "text":
        path.write_text(data.draw(st.text(max_size=200), label="text"), encoding="utf-8")
    else:
        document = data.draw(st.dictionaries(st.sampled_from([*RUN_KEYS, "strid"]), PLAIN, min_size=1, max_size=3),
                             label="document")  # fmt: skip
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_run_config(path)
    except ConfigError as error:
        assert str(path) in str(error)
        if document:
            assert any(repr(key) in str(error) or key in str(error) for key in document), (str(error), document)


def test_a_yaml_alias_bomb_gives_a_short_error(tmp_path):
    levels = ["&a [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"&{k} [{', '.join(['*' + p] * 9)}]" for p, k in zip("abcdefgh", "bcdefghi")]  # 9**9 leaves under *i
    path = tmp_path / "bomb.yaml"
    path.write_text(f"people: [{', '.join(levels)}]\nstride: *i\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'people' must be int") as raised:
        load_run_config(path)
    assert len(str(raised.value)) < 1000


# --- ROS 2 conversions -------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_ros_conversions_raise_only_message_error(data):
    pytest.importorskip("rosbags", reason="the ROS 2 types need pip install skelstream[ros]")
    from stream.ros2.conversions import RosConverter
    from stream.ros2.interfaces import build_message, numpy_array, typestore

    topic = data.draw(st.sampled_from(TOPICS), label="topic")
    message = replace_somewhere(data, sample(topic))
    if data.draw(st.booleans(), label="decoded first"):
        try:
            message = decode(encode(message), topic)  # what a subscriber would let through
        except (MessageError, ValueError):
            return
    store = STORE.setdefault("types", typestore())
    try:
        for ros in RosConverter(stamp_offset_ns=0).convert(topic, message):
            store.serialize_cdr(build_message(ros.typename, ros.fields, store.types.__getitem__, numpy_array),
                                ros.typename)  # fmt: skip
    except MessageError as error:
        assert str(error)


STORE: dict = {}
