"""Recording an MCAP rosbag2: everything published is in it, byte for byte, typed, stamped, with its QoS."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest
import yaml

from foundation.errors import PublisherError
from models.pretrained import DEFAULT_CHECKPOINT
from stream.publishers.fan_out import FanOut
from stream.ros2.conversions import RosConverter
from stream.ros2.interfaces import build_message, numpy_array, typestore
from stream.ros2.topics import resolve_topic, topic_spec
from tests.stream.conftest import free_endpoint
from tests.stream.ros2.conftest import Tap, run_pipeline


rosbag2 = pytest.importorskip("rosbags.rosbag2", reason="recording needs pip install skelstream[ros]")
from rosbags.interfaces import QosDurability, QosHistory, QosReliability  # noqa: E402 - after the skip
from stream.ros2.bag_writer import BagWriter  # noqa: E402
from stream.ros2.publisher import RosPublisher  # noqa: E402


def read_bag(path):
    """{topic: [(timestamp, bytes)]}, connection of each topic, and the storage of a bag read back with rosbags."""
    messages, connections = defaultdict(list), {}
    with rosbag2.Reader(path) as reader:
        for connection in reader.connections:
            connections[connection.topic] = connection
        for connection, timestamp, data in reader.messages():
            messages[connection.topic].append((timestamp, bytes(data)))
    storage = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]["storage_identifier"]
    return messages, connections, storage


def test_a_run_is_recorded_completely_and_exactly(tmp_path):
    tap = Tap()
    with RosPublisher({"bag": BagWriter(tmp_path / "bag", namespace="lab", stream_name="lab-cam")}, "lab-cam") as bag:
        run_pipeline(FanOut({"bag": bag, "tap": tap}, stream_name="lab-cam"))
        offset = bag.converter.stamp_offset_ns
        assert bag.stats()["dropped"] == 0
    messages, connections, storage = read_bag(tmp_path / "bag")
    assert storage == "mcap" and (tmp_path / "bag" / "bag.mcap").is_file()

    # what the recorder was given, converted and serialized independently of it
    store, converter, expected = typestore(), RosConverter(stamp_offset_ns=offset), defaultdict(list)
    for topic, msg in tap.messages:
        for ros in converter.convert(topic, msg):
            stamp = ros.fields["header"]["stamp"]
            data = store.serialize_cdr(build_message(ros.typename, ros.fields, store.types.__getitem__, numpy_array),
                                       ros.typename)  # fmt: skip
            expected[resolve_topic(ros.topic, "lab")].append((stamp["sec"] * 10**9 + stamp["nanosec"], bytes(data)))
    counts = Counter(topic for topic, _ in tap.messages)
    assert counts["actions"] > 200 and counts["events"] > 0 and counts["status"] >= 1
    for topic, recorded in expected.items():
        assert sorted(messages[topic]) == sorted(recorded), topic  # every message, bytes and timestamp
    assert len(messages["/diagnostics"]) == counts["status"]
    assert set(messages) == set(expected)
    assert len(messages["/lab/skelstream/actions"]) == counts["actions"]
    assert len(messages["/lab/skelstream/events"]) == counts["events"]

    for topic, connection in connections.items():  # types, and the QoS ros2 bag play will offer
        name = topic if topic == "/diagnostics" else topic.removeprefix("/lab/")
        spec = topic_spec(name)
        assert connection.msgtype == spec.typename
        (qos,) = connection.ext.offered_qos_profiles
        assert (qos.history, qos.depth) == (QosHistory.KEEP_LAST, spec.qos.depth)
        assert qos.reliability == {"reliable": QosReliability.RELIABLE,
                                   "best_effort": QosReliability.BEST_EFFORT}[spec.qos.reliability]  # fmt: skip
        assert qos.durability == QosDurability.VOLATILE
        for timestamp, data in messages[topic]:
            message = store.deserialize_cdr(data, connection.msgtype)
            assert timestamp == message.header.stamp.sec * 10**9 + message.header.stamp.nanosec
    assert connections["/lab/skelstream/skeletons"].ext.offered_qos_profiles[0].reliability == \
           QosReliability.BEST_EFFORT  # fmt: skip


def test_stream_run_records_a_bag_it_closes_on_sigterm(tmp_path):
    bag, stats = tmp_path / "session", tmp_path / "stats.json"
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--seconds", "60",
                            "--checkpoint", str(DEFAULT_CHECKPOINT), "--zmq", free_endpoint(), "--record-bag",
                            str(bag), "--stats-json", str(stats)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)  # fmt: skip
    deadline = time.monotonic() + 60  # until a second of chunks is on disk: the run is streaming (handlers set)
    while time.monotonic() < deadline and not any(p.stat().st_size > 20_000 for p in bag.glob("*.mcap")):
        time.sleep(0.2)
    time.sleep(2)  # real time: labels flow
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    summary = json.loads(stats.read_text())
    messages, connections, _ = read_bag(bag)
    assert summary["labels"] > 20 and len(messages["/skelstream/actions"]) == summary["labels"]
    assert len(messages.get("/skelstream/events", [])) == summary["events"]
    assert sum(len(m) for t, m in messages.items() if t.startswith("/humans/bodies/body_")) == summary["labels"]
    assert summary["publisher"]["bag_dropped"] == 0
    assert connections["/skelstream/actions"].msgtype == "skelstream_msgs/msg/ActionLabel"


def test_a_bag_is_never_overwritten_nor_started_where_it_cannot_be(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(PublisherError, match="exists already"):
        BagWriter(tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    (tmp_path / "a_file").write_text("")
    with pytest.raises(PublisherError, match="cannot record a bag at .*a_file/bag: .*Not a directory"):
        BagWriter(tmp_path / "a_file" / "bag")
    with pytest.raises(PublisherError, match="namespace 'x y'"):
        BagWriter(tmp_path / "ns", namespace="x y")
    assert not (tmp_path / "ns").exists()
    bag = RosPublisher({"bag": BagWriter(tmp_path / "closed")})
    bag.close()
    bag.close()
    assert not bag.publish("status", {"v": 1, "stream": "s", "frame": -1, "stamp_ns": 1, "rates": {}, "drops": {},
                                      "latency_ms": {}})  # fmt: skip
    assert bag.stats()["bag_dropped"] == 1  # after the end: counted, never a failure of the stream


def test_stream_run_with_an_existing_bag_path_exits_2_before_starting(tmp_path):
    (tmp_path / "taken").mkdir()
    result = subprocess.run([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--seconds", "1",
                             "--fast", "--zmq", free_endpoint(), "--record-bag", str(tmp_path / "taken")],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == f"stream-run: error: --record-bag {tmp_path / 'taken'} exists; a bag folder is " \
                                    "never replaced, not even with --overwrite: remove it or choose another path"
    assert list((tmp_path / "taken").iterdir()) == []
