"""The node as ``ros2 run`` starts it, in the ROS 2 Jazzy environment (`make ros-env`), heard by rclpy in another process.

Real processes, real rclpy, Fast DDS kept on loopback (tests/ros2/ros_env.py): the node's
entry script on a synthetic scene and on a published ``sensor_msgs/Image`` stream; a listener
process checks types, stamps, frame ids, body ids, ``/diagnostics`` at about 1 Hz, the static
transform on ``/tf_static``, the parameter file's values, and that SIGINT ends the node with
every pending label published.
"""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from calibration.transforms import Transform, write_transform
from models.checkpoint import read_config
from models.pretrained import DEFAULT_CHECKPOINT
from tests.conftest import shared_dataset
from tests.ros2.ros_env import (
    REPO,
    SCRIPTS,
    assert_fastdds_on_loopback,
    require_ros_env,
    ros_environment,
    ros_python,
    skelstream_node,
)
from tests.stream.ros2.conftest import fresh_domain_id

PARAMETER_FILE = REPO / "ros2_ws" / "src" / "skelstream_ros" / "config" / "skelstream.yaml"
STOPPED = re.compile(r"stopped \((?P<reason>[^)]*)\): (?P<frames>\d+) frames, (?P<labels>\d+) labels, "
                     r"(?P<events>\d+) events")  # fmt: skip


def topics(namespace: str) -> list[tuple[str, str, str]]:
    """What the listener subscribes to: the node's topics, with the QoS a robot would use."""
    return [
        (f"{namespace}/skelstream/actions", "skelstream_msgs/msg/ActionLabel", "reliable"),
        (f"{namespace}/skelstream/events", "skelstream_msgs/msg/ActionEvent", "reliable"),
        (f"{namespace}/skelstream/skeletons", "skelstream_msgs/msg/SkeletonArray", "best_effort"),
        (f"{namespace}/humans/bodies/tracked", "hri_msgs/msg/IdsList", "reliable"),
        ("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", "reliable"),
    ]


class Ros:
    """Processes of one test in the ROS 2 environment, on one domain id; all stopped at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.env = ros_environment(fresh_domain_id(), tmp_path / "ros_home")
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")
        process = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True)
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def listen(self, name: str, subscriptions: list[tuple[str, str, str]]) -> tuple[subprocess.Popen, Path]:
        out = self.tmp / f"{name}.jsonl"
        args = [ros_python(), str(SCRIPTS / "listener.py"), "--out", str(out)]
        for subscription in subscriptions:
            args += ["--topic", *subscription]
        process = self.start(name, args)
        wait_for(lambda: "ready" in self.log(name) or process.poll() is not None, 60, f"{name} to subscribe")
        assert process.poll() is None, self.log(name)
        return process, out

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def ros(tmp_path):
    require_ros_env()
    session = Ros(tmp_path)
    yield session
    session.stop()


def wait_for(condition, timeout_s: float, what: str, alive: subprocess.Popen | None = None) -> None:
    """Wait for ``condition``; fail after ``timeout_s`` or as soon as the ``alive`` process ends."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        assert alive is None or alive.poll() is None, f"{alive.args[0]} ended (exit code {alive.returncode})"
        time.sleep(0.1)


def received(path: Path) -> dict[str, list[dict]]:
    """The listener's messages by topic, in arrival order."""
    by_topic = defaultdict(list)
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        by_topic[entry["topic"]].append({**entry["msg"], "_received_ns": entry["received_ns"]})
    return by_topic


def stamp_ns(msg: dict) -> int:
    return msg["header"]["stamp"]["sec"] * 1_000_000_000 + msg["header"]["stamp"]["nanosec"]


def parameter_file(tmp_path: Path, **values) -> Path:
    """config/skelstream.yaml with ``values`` changed, as a robot's own parameter file would be."""
    document = yaml.safe_load(PARAMETER_FILE.read_text())
    document["/**"]["ros__parameters"].update(values)
    path = tmp_path / "my_robot.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_node_process_publishes_a_synthetic_scene_and_ends_on_sigint_with_every_label(ros, tmp_path):
    extrinsics = write_transform(Transform("base_link", "kitchen_camera_optical_frame",
                                           Rotation.from_euler("x", -90, degrees=True), [0.1, 0.0, 1.2]),
                                 tmp_path / "extrinsics.yaml")  # fmt: skip
    params = parameter_file(tmp_path, input="synthetic", people=2, seconds=0.0, stream_name="kitchen",
                            camera_frame="kitchen_camera_optical_frame", extrinsics=str(extrinsics),
                            wait_for_subscribers=1)  # fmt: skip
    listener, out = ros.listen("listener", topics("/lab"))
    started_ns = time.time_ns()
    node = ros.start("node", [skelstream_node(), "--ros-args", "--params-file", str(params), "-r", "__ns:=/lab"])
    wait_for(lambda: len(received(out)["/diagnostics"]) >= 6 and received(out)["/lab/skelstream/events"], 120,
             "labels, events and three reports of each diagnostic status", alive=node)  # fmt: skip
    assert_fastdds_on_loopback(node.pid)
    assert_fastdds_on_loopback(listener.pid)
    late, late_out = ros.listen("late_listener", [("/tf_static", "tf2_msgs/msg/TFMessage", "static")])
    wait_for(lambda: late_out.read_text(), 30, "the static transform at a late subscriber")

    node.send_signal(signal.SIGINT)  # as Ctrl-C in `ros2 run` does
    assert node.wait(timeout=60) == 0, ros.log("node")
    time.sleep(1.0)  # what was in flight
    log = ros.log("node")
    assert "1 subscriber(s) of /lab/skelstream/actions matched" in log
    assert "interfaces: vision_msgs built by skelstream from its upstream definitions, hri_msgs built by skelstream" \
           in log and "tf2_msgs built by skelstream" in log and "tf2_ros absent" in log  # fmt: skip
    stopped = STOPPED.search(log)
    assert stopped and stopped["reason"] == "shutdown", log
    got = received(out)
    actions, events = got["/lab/skelstream/actions"], got["/lab/skelstream/events"]
    assert len(actions) == int(stopped["labels"]) > 50  # every label, the pending ones flushed at SIGINT included
    assert len(events) == int(stopped["events"])

    min_score = read_config(DEFAULT_CHECKPOINT).min_score
    by_body = defaultdict(list)
    for label in actions:
        by_body[label["body_id"]].append(label["frame"])
        assert label["header"]["frame_id"] == "kitchen_camera_optical_frame"  # the parameter file's camera_frame
        assert started_ns < stamp_ns(label) < time.time_ns()  # ROS (epoch) time: the capture of the frame
        assert 0.0 <= label["score"] <= 1.0
        if label["top_k_labels"][0] != label["label"]:  # an action below the checkpoint's min_score: background
            assert label["label"] == "background" and label["top_k_scores"][0] < min_score, label
        assert label["latency"]["sec"] * 1e9 + label["latency"]["nanosec"] > 0
    assert set(by_body) == {"body_1", "body_2"}  # people: 2
    assert all(frames == sorted(set(frames)) for frames in by_body.values())  # in order, each frame once
    open_actions = set()
    for event in events:  # START before END, per body and action; SIGINT ended the open ones
        key = (event["body_id"], event["label"])
        assert event["kind"] == (1 if key in open_actions else 0)
        (open_actions.remove if event["kind"] == 1 else open_actions.add)(key)
    assert not open_actions

    skeletons = got["/lab/skelstream/skeletons"]
    assert len(skeletons) >= 0.9 * int(stopped["frames"])  # best effort, yet nearly all on this machine
    tracked = {stamp_ns(ids): set(ids["ids"]) for ids in got["/lab/humans/bodies/tracked"]}
    skeleton_stamps = {}
    for skeleton in skeletons:
        assert skeleton["header"]["frame_id"] == "base_link"  # placed by the extrinsics
        assert skeleton["layout"] == "unified_30" and len(skeleton["joint_names"]) == 30
        bodies = {body["body_id"] for body in skeleton["bodies"]}
        assert bodies <= {"body_1", "body_2"} and bodies == tracked.get(stamp_ns(skeleton), bodies)
        skeleton_stamps[skeleton["frame"]] = stamp_ns(skeleton)
    labelled = [label for label in actions if label["frame"] in skeleton_stamps]
    assert len(labelled) > len(actions) // 2
    assert all(stamp_ns(label) == skeleton_stamps[label["frame"]] for label in labelled)  # one clock for both

    reports = defaultdict(list)  # the pipeline's status and the node's input, each on its own 1 s timer
    for array in got["/diagnostics"]:
        for status in array["status"]:
            reports[status["name"]].append(array["_received_ns"])
    assert set(reports) == {"skelstream: kitchen", "skelstream: kitchen input"}  # stream_name from the file
    for name, times in reports.items():
        gaps = np.diff(times) / 1e9
        assert len(gaps) >= 2 and 0.8 < statistics.median(gaps) < 1.25, (name, gaps)  # ~1 Hz

    (transforms,) = [json.loads(line)["msg"]["transforms"] for line in late_out.read_text().splitlines()]
    (transform,) = transforms
    assert (transform["header"]["frame_id"], transform["child_frame_id"]) == \
           ("base_link", "kitchen_camera_optical_frame")  # fmt: skip
    assert transform["transform"]["translation"] == {"x": 0.1, "y": 0.0, "z": 1.2}


@pytest.mark.slow
def test_the_node_labels_a_published_image_stream(ros, tmp_path):
    video = shared_dataset("videos") / "exercise.avi"
    pytest.importorskip("mediapipe", reason="the pose extra is not installed (pip install -e '.[pose]')")
    from stream.pose.provision import resolve_pose_model

    pose_model = resolve_pose_model()
    params = parameter_file(tmp_path, input="image_topic", pose_model=str(pose_model), num_poses=1,
                            camera_frame="camera_color_optical_frame", stride=4, wait_for_subscribers=1)  # fmt: skip
    listener, out = ros.listen("listener", topics(""))
    node = ros.start("node", [skelstream_node(), "--ros-args", "--params-file", str(params),
                              "-r", "image_raw:=/camera/color/image_raw"])  # fmt: skip
    sent = tmp_path / "sent.jsonl"
    camera = ros.start("camera", [ros_python(), str(SCRIPTS / "image_publisher.py"), str(video), "--topic",
                                  "/camera/color/image_raw", "--frame-id", "camera_color_optical_frame",
                                  "--fps", "15", "--frames", "180", "--out", str(sent)])  # fmt: skip
    assert camera.wait(timeout=180) == 0, ros.log("camera")
    wait_for(lambda: received(out)["/skelstream/actions"], 30, "labels", alive=node)
    time.sleep(1.0)
    node.send_signal(signal.SIGINT)
    assert node.wait(timeout=60) == 0, ros.log("node")
    time.sleep(1.0)

    published = {entry["stamp_ns"] for entry in map(json.loads, sent.read_text().splitlines())}
    got = received(out)
    skeletons, actions = got["/skelstream/skeletons"], got["/skelstream/actions"]
    assert len(published) == 180 and len(skeletons) > 60
    for skeleton in skeletons:  # each skeleton carries its image's stamp and frame
        assert stamp_ns(skeleton) in published
        assert skeleton["header"]["frame_id"] == "camera_color_optical_frame"
        # pose_3d auto: MediaPipe's image landmarks lifted to 3D, in unified_30 (30 joints, 30 image points)
        assert skeleton["layout"] == "unified_30" and len(skeleton["bodies"][0]["image_points"]) == 30
    stopped = STOPPED.search(ros.log("node"))
    assert stopped and int(stopped["frames"]) >= 0.95 * len(published)  # best effort, yet nearly every image
    assert len(actions) == int(stopped["labels"]) > 0
    assert all(stamp_ns(label) in published and label["body_id"].startswith("body_") for label in actions)
    assert "message refused" not in ros.log("node")
