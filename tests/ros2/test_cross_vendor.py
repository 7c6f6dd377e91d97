"""Cross-vendor wire proof: ``stream-run --ros2 dds`` (Cyclone DDS from pip) → rclpy on Fast DDS, another process.

The run also records a bag (``--record-bag``) of every message it published, with the same
header stamps; the rclpy subscriber (the ROS 2 Jazzy environment of `make ros-env`, Fast DDS,
loopback only) must receive every message of every reliable topic, in order, field for field
equal to the bag's, and the best-effort skeletons as an in-order subset of them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np
import pytest

from models.pretrained import DEFAULT_CHECKPOINT
from tests.ros2.ros_env import (
    DDS_VARIABLES,
    SCRIPTS,
    assert_cyclone_on_loopback,
    assert_fastdds_on_loopback,
    cyclone_uri,
    require_ros_env,
    ros_environment,
    ros_python,
)
from tests.stream.conftest import free_endpoint
from tests.stream.ros2.conftest import fresh_domain_id

pytest.importorskip("cyclonedds", reason="DDS-direct needs pip install skelstream[ros]")

RELIABLE = {
    "/lab/skelstream/actions": "skelstream_msgs/msg/ActionLabel",
    "/lab/skelstream/events": "skelstream_msgs/msg/ActionEvent",
    "/lab/humans/bodies/tracked": "hri_msgs/msg/IdsList",
    "/diagnostics": "diagnostic_msgs/msg/DiagnosticArray",
    **{f"/lab/humans/bodies/body_{n}/action": "vision_msgs/msg/Classification" for n in range(1, 5)},
}
SKELETONS = "/lab/skelstream/skeletons"


def plain(value):
    """A rosbags message as the listener writes an rclpy one: plain JSON data."""
    if dataclasses.is_dataclass(value):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)
                if not field.name.startswith("__") and not field.name.isupper()}  # no type name, no constants
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def published(bag) -> dict[str, list[dict]]:
    """Every message of the bag by topic, in order, as plain data."""
    from rosbags.rosbag2 import Reader

    from stream.ros2.interfaces import typestore

    store = typestore()
    by_topic = defaultdict(list)
    with Reader(bag) as reader:
        for connection, _, data in reader.messages():
            by_topic[connection.topic].append(plain(store.deserialize_cdr(data, connection.msgtype)))
    return by_topic


def test_every_message_of_a_dds_direct_run_reaches_rclpy_on_fast_dds_field_for_field(tmp_path):
    require_ros_env()
    domain = fresh_domain_id()
    out, listener_log = tmp_path / "received.jsonl", tmp_path / "listener.log"
    args = [ros_python(), str(SCRIPTS / "listener.py"), "--out", str(out), "--topic", SKELETONS,
            "skelstream_msgs/msg/SkeletonArray", "best_effort"]  # fmt: skip
    for topic, typename in RELIABLE.items():
        args += ["--topic", topic, typename, "reliable"]
    with open(listener_log, "w") as log:
        listener = subprocess.Popen(args, env=ros_environment(domain, tmp_path / "ros_home"), stdout=log,
                                    stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready" not in listener_log.read_text():
            assert listener.poll() is None and time.monotonic() < deadline, listener_log.read_text()
            time.sleep(0.1)
        trace, bag, stats = tmp_path / "cyclonedds.log", tmp_path / "bag", tmp_path / "stats.json"
        env = {name: value for name, value in os.environ.items() if not name.startswith(DDS_VARIABLES)}
        env["CYCLONEDDS_URI"] = cyclone_uri(trace)
        run = subprocess.run([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--people", "2",
                              "--seconds", "8", "--checkpoint", str(DEFAULT_CHECKPOINT), "--zmq", free_endpoint(),
                              "--ros2", "dds", "--allow-remote", "--ros-domain-id", str(domain), "--ros-namespace",
                              "lab", "--ros-wait-subscribers", "1", "--record-bag", str(bag), "--stats-json",
                              str(stats)], env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert_fastdds_on_loopback(listener.pid)
        time.sleep(1.5)  # what was still in flight
    finally:
        listener.terminate()
        listener.wait(timeout=30)
    assert_cyclone_on_loopback(trace)
    summary = json.loads(stats.read_text())
    assert summary["publisher"]["dds_dropped"] == 0

    sent = published(bag)
    got = defaultdict(list)
    for line in out.read_text().splitlines():
        entry = json.loads(line)
        got[entry["topic"]].append(entry["msg"])
    assert len(sent["/lab/skelstream/actions"]) == summary["labels"] > 100
    assert len(sent["/lab/skelstream/events"]) == summary["events"] > 0
    assert {"/lab/humans/bodies/body_1/action", "/lab/humans/bodies/body_2/action", "/diagnostics"} <= set(sent)
    for topic in RELIABLE:  # every message, every field equal (the bag is in stamp order, the wire in publish order)
        assert len(got[topic]) == len(sent[topic]), topic
        assert sorted(map(canonical, got[topic])) == sorted(map(canonical, sent[topic])), topic
        assert_in_publish_order(topic, got[topic])
    sent_skeletons = {canonical(skeleton) for skeleton in sent[SKELETONS]}  # best effort: nearly all on loopback
    assert all(canonical(skeleton) in sent_skeletons for skeleton in got[SKELETONS])
    assert len(got[SKELETONS]) >= 0.9 * len(sent[SKELETONS]) > 100
    assert_in_publish_order(SKELETONS, got[SKELETONS])


def canonical(msg: dict) -> str:
    return json.dumps(msg, sort_keys=True)


def stamp_ns(msg: dict) -> int:
    return msg["header"]["stamp"]["sec"] * 1_000_000_000 + msg["header"]["stamp"]["nanosec"]


def assert_in_publish_order(topic: str, messages: list[dict]) -> None:
    """Arrival order is publish order: each body's labels frame after frame, START before END of each
    action, skeletons, tracked lists and reports in capture order."""
    if topic.endswith("/events"):
        open_actions = set()
        for event in messages:
            key = (event["body_id"], event["label"])
            assert event["kind"] == (1 if key in open_actions else 0), (topic, event)
            (open_actions.remove if event["kind"] == 1 else open_actions.add)(key)
        return
    streams = defaultdict(list)
    for msg in messages:
        streams[msg.get("body_id")].append(stamp_ns(msg))
    for body, stamps in streams.items():
        assert stamps == sorted(stamps), (topic, body)
