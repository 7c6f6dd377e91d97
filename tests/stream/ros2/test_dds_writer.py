"""DDS-direct publishing for real: another process on loopback, ROS 2 names and types, never blocking."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np
import pytest

from foundation.errors import PublisherError
from models.pretrained import DEFAULT_CHECKPOINT
from stream.messages.builders import action_message
from stream.ros2.dds_writer import DdsWriter
from stream.ros2.dds_types import dds_class, dds_typename
from stream.ros2.interfaces import typestore
from stream.ros2.publisher import RosPublisher
from stream.ros2.topics import TOPICS
from stream.types import FrameLabel
from tests.stream.conftest import free_endpoint


cyclonedds = pytest.importorskip("cyclonedds", reason="DDS-direct needs pip install skelstream[ros]")
from cyclonedds.core import Policy, Qos  # noqa: E402 - after the skip
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402

KEEP_EVERYTHING = Qos(Policy.Reliability.Reliable(0), Policy.History.KeepAll, Policy.Durability.Volatile)


def reader(participant, topic: str, typename: str) -> DataReader:
    """A reliable reader of a ROS 2 topic, by its DDS name, as rmw_cyclonedds would create it."""
    return DataReader(participant, Topic(participant, topic, dds_class(typename)), qos=KEEP_EVERYTHING)


def stream_run(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stream.cli.run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def stamp_ns(header) -> int:
    return header.stamp.sec * 1_000_000_000 + header.stamp.nanosec


def test_a_ros2_subscriber_in_another_process_receives_every_action_and_event(loopback_domain, tmp_path):
    participant = DomainParticipant(loopback_domain)
    readers = {
        "actions": reader(participant, "rt/lab/skelstream/actions", "skelstream_msgs/msg/ActionLabel"),
        "events": reader(participant, "rt/lab/skelstream/events", "skelstream_msgs/msg/ActionEvent"),
        "tracked": reader(participant, "rt/lab/humans/bodies/tracked", "hri_msgs/msg/IdsList"),
        **{f"body_{n}": reader(participant, f"rt/lab/humans/bodies/body_{n}/action", "vision_msgs/msg/Classification")
           for n in range(1, 9)},
    }  # fmt: skip
    received = defaultdict(list)
    stats = tmp_path / "stats.json"
    run = stream_run("--source", "synthetic", "--people", "2", "--seconds", "12", "--fast", "--checkpoint",
                     str(DEFAULT_CHECKPOINT), "--zmq", free_endpoint(), "--ros2", "dds", "--allow-remote",
                     "--ros-domain-id", str(loopback_domain), "--ros-namespace", "lab", "--ros-wait-subscribers", "1",
                     "--stats-json", str(stats))  # fmt: skip
    started = time.time_ns()
    deadline = time.monotonic() + 120
    quiet_until = None
    while time.monotonic() < deadline and (quiet_until is None or time.monotonic() < quiet_until):
        for name, r in readers.items():  # data only: the writer's end arrives as an invalid (data-less) sample
            received[name] += [sample for sample in r.take(N=1000) if isinstance(sample, r.topic.data_type)]
        if quiet_until is None and run.poll() is not None:
            quiet_until = time.monotonic() + 1.0  # what was still in flight when it exited
        time.sleep(0.02)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    summary = json.loads(stats.read_text())

    actions, events = received["actions"], received["events"]
    assert summary["labels"] > 200 and len(actions) == summary["labels"]
    assert summary["events"] > 0 and len(events) == summary["events"]
    assert summary["publisher"]["dds_dropped"] == 0
    frames = defaultdict(list)
    for label in actions:
        frames[label.body_id].append(label.frame)
        assert started - 60e9 < stamp_ns(label.header) < time.time_ns()  # ROS (epoch) time, not monotonic
        assert label.header.frame_id == "camera_optical_frame"
        # the label heads its top-k, unless the action fell short of the checkpoint's min_score (then background)
        assert label.top_k_labels[:1] in ([label.label], []) or label.label == "background"
    assert set(frames) == {"body_1", "body_2"}
    assert all(f == sorted(set(f)) for f in frames.values())  # in order, each frame once
    open_actions = {}
    for event in events:  # every START of a (body, action) is followed by its END
        key = (event.body_id, event.label)
        assert event.kind == (1 if key in open_actions else 0), event
        if event.kind == 0:
            open_actions[key] = event.frame
        else:
            assert event.frame >= open_actions.pop(key)
    assert not open_actions
    for body, body_frames in frames.items():  # the per-body topic got every label, from the first one
        classifications = received[body]
        assert len(classifications) == len(body_frames)
        first = next(label for label in actions if label.body_id == body)
        assert [r.class_id for r in classifications[0].results] == first.top_k_labels
        assert stamp_ns(classifications[0].header) == stamp_ns(first.header)
    assert {body for ids in received["tracked"] for body in ids.ids} == set(frames)


def test_endpoints_are_announced_as_rmw_cyclonedds_announces_them(loopback_domain):
    """What a ROS 2 node discovers: rt/ topic, dds_ type, XCDR1 only, the table's QoS, the RIHS01 type hash."""
    # rosbags hashes as ROS does: std_msgs/msg/String's hash as Jazzy reports it (ros2 topic info -v)
    assert typestore().hash_rihs01("std_msgs/msg/String") == \
           "RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18"  # fmt: skip
    participant = DomainParticipant(loopback_domain)
    with RosPublisher({"dds": DdsWriter(domain_id=loopback_domain, namespace="lab")}) as publisher:
        for spec in TOPICS:
            if spec.per_body:
                continue
            topic = "rt" + (spec.name if spec.name.startswith("/") else f"/lab/{spec.name}")
            subscription = DataReader(participant, Topic(participant, topic, dds_class(spec.typename)),
                                      qos=Qos(Policy.Reliability.BestEffort))  # matches any writer
            assert publisher.writers["dds"].wait_for_subscribers(1, topic=spec.name, timeout_s=10)
            (handle,) = subscription.get_matched_publications()
            endpoint = subscription.get_matched_publication_data(handle)
            assert (endpoint.topic_name, endpoint.type_name) == (topic, dds_typename(spec.typename))
            qos = endpoint.qos
            assert qos[Policy.DataRepresentation] == Policy.DataRepresentation(use_cdrv0_representation=True)
            reliable = qos[Policy.Reliability] == Policy.Reliability.Reliable(max_blocking_time=0)
            assert reliable == (spec.qos.reliability == "reliable")
            assert qos[Policy.Durability] == Policy.Durability.Volatile
            assert qos[Policy.Userdata].data == f"typehash={typestore().hash_rihs01(spec.typename)};".encode()


STALLED_READER = """
import sys, time
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from stream.ros2.dds_types import dds_class
participant = DomainParticipant(int(sys.argv[1]))
topic = Topic(participant, "rt/skelstream/actions", dds_class("skelstream_msgs/msg/ActionLabel"))
reader = DataReader(participant, topic, qos=Qos(Policy.Reliability.Reliable(0), Policy.History.KeepAll))
print("ready", flush=True)
time.sleep(120)
"""


def test_a_stalled_subscriber_costs_counted_drops_never_time(loopback_domain):
    stalled = subprocess.Popen([sys.executable, "-c", STALLED_READER, str(loopback_domain)], stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        assert stalled.stdout.readline().strip() == "ready"
        with RosPublisher({"dds": DdsWriter(domain_id=loopback_domain)}) as publisher:
            assert publisher.writers["dds"].wait_for_subscribers(1, timeout_s=10)
            os.kill(stalled.pid, signal.SIGSTOP)  # alive, matched, and never acknowledging again
            top_k = [(f"action_{i:02d}", 1 / 64) for i in range(64)]  # ~1.3 kB per label
            durations = []
            for frame in range(2000):
                label = FrameLabel(track_id=1, frame=frame, stamp_ns=time.monotonic_ns(), label="action_00",
                                   score=1 / 64, top_k=top_k, latency_ns=1_000_000)  # fmt: skip
                started = time.perf_counter()
                publisher.publish("actions", action_message("lab", label))
                durations.append(time.perf_counter() - started)
            stats = publisher.stats()
    finally:
        os.kill(stalled.pid, signal.SIGCONT)
        stalled.kill()
        stalled.wait(timeout=10)
    assert stats["dropped"] > 0  # the writer's cache filled up: those labels were dropped and counted
    assert stats["sent"] + stats["dropped"] == 2 * 2000  # ActionLabel + Classification per label
    assert float(np.percentile(durations, 99)) < 0.02  # a blocking write would wait its max_blocking_time


def test_publisher_refuses_bad_settings(monkeypatch):
    with pytest.raises(PublisherError, match="domain id must be an integer 0-232"):
        DdsWriter(domain_id=300)
    with pytest.raises(PublisherError, match="namespace '9lives'"):
        DdsWriter(domain_id=5, namespace="9lives")
    monkeypatch.setenv("ROS_DOMAIN_ID", "kitchen")
    with pytest.raises(PublisherError, match="ROS_DOMAIN_ID='kitchen'"):
        DdsWriter()


def test_dds_that_cannot_start_exits_2(monkeypatch, tmp_path):
    missing = "<CycloneDDS><Domain id='any'><General><Interfaces><NetworkInterface name='nosuch0'/></Interfaces>" \
              "</General></Domain></CycloneDDS>"  # fmt: skip
    monkeypatch.setenv("CYCLONEDDS_URI", missing)
    run = stream_run("--source", "synthetic", "--seconds", "2", "--fast", "--zmq", free_endpoint(), "--ros2", "dds",
                     "--allow-remote", "--ros-domain-id", "7", "--stats-json", str(tmp_path / "s.json"))  # fmt: skip
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2
    assert err.strip().splitlines()[-1].startswith("stream-run: error: cannot start DDS on domain 7")


def test_without_cyclonedds_the_error_names_the_extra():
    code = ("import sys; sys.modules['cyclonedds'] = None  # the import system's way to make a module missing\n"
            "from stream.cli.run import main\n"
            f"sys.exit(main(['--source', 'synthetic', '--seconds', '1', '--fast', '--zmq', '{free_endpoint()}', "
            "'--ros2', 'dds', '--allow-remote']))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "DDS-direct publishing (--ros2 dds) needs cyclonedds" in result.stderr
    assert "pip install skelstream[ros]" in result.stderr


def test_the_ros_mapping_needs_neither_dds_nor_rosbags():
    code = ("import sys, stream.ros2.conversions, stream.ros2.topics, stream.run.config, stream.cli.run; "
            "loaded = [m for m in ('cyclonedds', 'rosbags', 'rclpy') if m in sys.modules]; assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args, message",
    [(["--ros2", "rclpy"], "invalid choice: 'rclpy'"), (["--ros-wait-subscribers", "1"], "needs ros2: dds"),
     (["--ros2", "dds"], "pass --allow-remote"),
     (["--ros2", "dds", "--allow-remote", "--ros-namespace", "a-b"], "not a valid ROS name token"),
     (["--ros2", "dds", "--allow-remote", "--ros-domain-id", "999"], "domain id must be an integer 0-232")],
)  # fmt: skip
def test_bad_ros_flags_exit_2(args, message):
    run = stream_run("--source", "synthetic", "--seconds", "1", "--fast", "--zmq", free_endpoint(), *args)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2 and message in err
