"""The pipeline's messages as ROS messages, without rclpy: converted, built on the real definitions, per-body topics.

Every ROS message is built with `stream.ros2.interfaces.build_message` on rosbags' classes of
the real .msg definitions and CDR round-tripped, as the node builds them on rclpy's classes.
"""

import dataclasses

import numpy as np
import pytest

from skelstream_ros.parameters import settings_from_parameters
from skelstream_ros.placement import node_localizer
from skelstream_ros.rclpy_writer import RclpyWriter
from stream.ros2.conversions import RosConverter
from stream.ros2.publisher import RosPublisher
from stream.types import ActionEvent, FrameLabel, Person, TrackedPerson


interfaces = pytest.importorskip("stream.ros2.interfaces")
pytest.importorskip("rosbags")


class Sent(list):
    """The node's send, minus rclpy: builds each ROS message on the real definitions and keeps it."""

    def __call__(self, message):
        store = interfaces.typestore()
        built = interfaces.build_message(message.typename, message.fields, store.types.__getitem__,
                                         interfaces.numpy_array)  # fmt: skip
        store.deserialize_cdr(store.serialize_cdr(built, message.typename), message.typename)
        self.append(message)


def person(track: int) -> TrackedPerson:
    joints = np.random.default_rng(track).normal(size=(30, 3))
    return TrackedPerson(track, Person(joints=joints, confidence=np.ones(30), layout="unified_30"))


def test_each_stream_message_becomes_its_ros_messages_and_body_topics_close_with_their_body():
    sent, prepared, forgotten = Sent(), [], []
    publisher = RosPublisher({"ros": RclpyWriter(sent, prepared.append, forgotten.append)}, stream_name="lab",
                             converter=RosConverter(stamp_offset_ns=0, camera_frame="camera_optical_frame"))  # fmt: skip
    label = FrameLabel(track_id=3, frame=40, stamp_ns=5_000_000_123, label="wave", score=0.8,
                       top_k=[("wave", 0.8), ("walk", 0.1)], latency_ns=210_000_000)  # fmt: skip
    assert publisher.publish_label(label)
    assert publisher.publish_event(ActionEvent(3, "start", "wave", 38, 5_000_000_000, 0.7))
    assert publisher.publish_skeletons(41, 5_033_000_000, [person(3), person(4)], "base_link")
    assert [(m.topic, m.typename) for m in sent] == [
        ("skelstream/actions", "skelstream_msgs/msg/ActionLabel"),
        ("humans/bodies/body_3/action", "vision_msgs/msg/Classification"),
        ("skelstream/events", "skelstream_msgs/msg/ActionEvent"),
        ("skelstream/skeletons", "skelstream_msgs/msg/SkeletonArray"),
        ("humans/bodies/tracked", "hri_msgs/msg/IdsList"),
    ]
    assert sent[0].fields["header"] == {"stamp": {"sec": 5, "nanosec": 123}, "frame_id": "camera_optical_frame"}
    assert sent[3].fields["header"]["frame_id"] == "base_link" and sent[4].fields["ids"] == ["body_3", "body_4"]
    assert prepared == ["humans/bodies/body_4/action"]  # body 4 appeared: its topic opens before its first label
    assert publisher.stats() == {"sent": 5, "dropped": 0, "ros_sent": 5, "ros_dropped": 0, "body_topics": 2}

    publisher.publish_skeletons(42, 5_066_000_000, [person(4)])  # body 3 left: its topic closes
    assert forgotten == ["humans/bodies/body_3/action"] and publisher.stats()["body_topics"] == 1
    assert publisher.publish_status({"rates": {"frames": 30.0}, "drops": {"capture": 0}, "tracks": 1}, frame=42)
    assert sent[-1].topic == "/diagnostics"


def test_what_cannot_be_converted_or_sent_is_dropped_and_the_stream_goes_on(caplog):
    def failing_send(message):
        if message.topic.startswith("humans/bodies/body_"):
            raise RuntimeError("publisher gone")
        kept.append(message)

    kept = []
    publisher = RosPublisher({"ros": RclpyWriter(failing_send)}, converter=RosConverter(stamp_offset_ns=0))
    label = FrameLabel(track_id=1, frame=0, stamp_ns=0, label="walk", score=0.9, top_k=[("walk", 0.9)])
    assert not publisher.publish_label(label)  # its Classification could not be sent
    assert [m.topic for m in kept] == ["skelstream/actions"]
    assert not publisher.publish("actions", {"v": 1, "stream": "x", "frame": 0, "stamp_ns": 0})  # fields missing
    assert not publisher.publish("weather", {})
    assert publisher.stats()["dropped"] == 3 and publisher.stats()["sent"] == 1
    assert "ros cannot write vision_msgs/msg/Classification on humans/bodies/body_1/action: publisher gone" \
        in caplog.text
    assert "cannot convert a actions message to ROS" in caplog.text
    publisher.close()
    assert not publisher.publish_label(label) and publisher.stats()["sent"] == 1


def test_a_pipeline_publishes_through_it_as_the_node_runs_it(tmp_path):
    """The node's chain minus rclpy: synthetic people → Pipeline → RosPublisher → RclpyWriter → built ROS
    messages."""
    pytest.importorskip("torch")
    from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
    from models.datasets.utkinect import UTKINECT_ACTIONS
    from models.dste_config import DSTEConfig
    from stream.backends import make_backend
    from stream.run.pipeline import Pipeline
    from stream.sources import make_source
    from stream.run.assembly import make_source_config

    labels = ["background", *UTKINECT_ACTIONS]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    save_checkpoint(tmp_path, build_model(config), config)
    settings = settings_from_parameters({"input": "synthetic", "people": 2, "seconds": 3.0, "checkpoint": str(tmp_path),
                                         "stride": 2})  # fmt: skip
    localizer, frame = node_localizer(settings)
    sent = Sent()
    publisher = RosPublisher({"ros": RclpyWriter(sent)}, settings.run.stream_name, RosConverter(camera_frame=frame))
    run = dataclasses.replace(settings.run, fast=True)  # as fast as the pipeline takes frames: no 3 s wait
    with make_source(make_source_config(run)) as source:
        summary = Pipeline(run, source, make_backend("torch", str(tmp_path), threads=1), publisher,
                           localizer=localizer, status_line=False).run()  # fmt: skip
    assert summary.frames == 90 and summary.labels > 0
    by_type = {}
    for message in sent:
        by_type.setdefault(message.typename, []).append(message)
    assert {m.fields["header"]["frame_id"] for m in by_type["skelstream_msgs/msg/SkeletonArray"]} == {frame}
    assert frame == "camera_optical_frame"
    tracked = {body for m in by_type["hri_msgs/msg/IdsList"] for body in m.fields["ids"]}
    labelled = {m.fields["body_id"] for m in by_type["skelstream_msgs/msg/ActionLabel"]}
    assert len(tracked) == 2 and labelled == tracked
    assert len(by_type["vision_msgs/msg/Classification"]) == len(by_type["skelstream_msgs/msg/ActionLabel"])
    assert sent[-2].typename == "diagnostic_msgs/msg/DiagnosticArray"  # the final status, then: nobody tracked
    assert sent[-1].typename == "hri_msgs/msg/IdsList" and sent[-1].fields["ids"] == []
    assert publisher.stats()["dropped"] == 0
