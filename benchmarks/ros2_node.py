"""The ROS 2 node for real (the Jazzy environment of `make ros-env`): lost messages, and latency beside `stream-run`.

Two scenarios, each with real processes and an rclpy subscriber in its own process
(Fast DDS on loopback, tests/ros2/ros_env.py):

- ``loss``: ``skelstream_node`` on a synthetic scene (2 people, 30 fps, real time) for
  ``--seconds``; every label and event the node reports in its last log line must reach
  the subscriber (reliable QoS): lost = reported − received.
- ``latency``: the same frames of ``videos/exercise.avi`` (shared data) go (a) as
  ``sensor_msgs/Image`` messages from a publisher process through the node to the
  subscriber and (b) through ``stream-run --video`` in real time. Reported per label:
  capture → label ready (the node: ``ActionLabel.latency``, from the image's header stamp;
  stream-run: its ``label`` latency), and for the node image published → label received
  at the subscriber. Added latency of the node = its p50/p95 minus stream-run's.

    .venv/bin/python -m benchmarks.ros2_node                      # both, 60 s loss run (quiet machine)
    .venv/bin/python -m benchmarks.ros2_node --scenario loss --seconds 10

Writes ``benchmarks/results/ros2_node.json`` (machine info from `benchmarks.machine`).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results
from tests.ros2.ros_env import REPO, SCRIPTS, ros_env_problem, ros_environment, ros_python, skelstream_node
from tests.stream.conftest import free_endpoint
from tests.stream.ros2.conftest import fresh_domain_id


RESULTS = Path(__file__).resolve().parent / "results"
PARAMETER_FILE = REPO / "ros2_ws" / "src" / "skelstream_ros" / "config" / "skelstream.yaml"
VIDEO = REPO.parent / "shared" / "data" / "videos" / "exercise.avi"
# latency: both runs pinned to the stride the automatic one keeps on a quiet machine: no label waits for a window,
# and both runs' windows fall on the same frames
STRIDE = 1
STOPPED = re.compile(r"stopped \((?P<reason>[^)]*)\): (?P<frames>\d+) frames, (?P<labels>\d+) labels, "
                     r"(?P<events>\d+) events")  # fmt: skip
LABELS = ("/skelstream/actions", "skelstream_msgs/msg/ActionLabel", "reliable")
EVENTS = ("/skelstream/events", "skelstream_msgs/msg/ActionEvent", "reliable")


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)), "count": len(values)}


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, text=True)


def listen(env: dict, work: Path, *topics: tuple[str, str, str]) -> tuple[subprocess.Popen, Path]:
    out = work / "received.jsonl"
    args = [ros_python(), str(SCRIPTS / "listener.py"), "--out", str(out)]
    for topic in topics:
        args += ["--topic", *topic]
    process = start(args, env, work / "listener.log")
    while "ready" not in (work / "listener.log").read_text():
        if process.poll() is not None:
            sys.exit(f"the listener failed: {(work / 'listener.log').read_text()}")
        time.sleep(0.1)
    return process, out


def received(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def parameter_file(work: Path, **values) -> Path:
    document = yaml.safe_load(PARAMETER_FILE.read_text())
    document["/**"]["ros__parameters"].update(values)
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def finish(node: subprocess.Popen, listener: subprocess.Popen, work: Path, interrupt: bool) -> re.Match:
    if interrupt:
        node.send_signal(signal.SIGINT)
    node.wait(timeout=120)
    time.sleep(1.0)  # what was in flight
    listener.send_signal(signal.SIGINT)
    listener.wait(timeout=30)
    stopped = STOPPED.search((work / "node.log").read_text())
    if node.returncode != 0 or stopped is None:
        sys.exit(f"the node failed ({node.returncode}): {(work / 'node.log').read_text()[-3000:]}")
    return stopped


def loss(seconds: float, work: Path) -> dict:
    """The node on a synthetic two-person scene at 30 fps: labels and events reported vs received."""
    env = ros_environment(fresh_domain_id(), work / "ros_home")
    listener, out = listen(env, work, LABELS, EVENTS)
    params = parameter_file(work, input="synthetic", people=2, seconds=seconds, wait_for_subscribers=1)
    node = start([skelstream_node(), "--ros-args", "--params-file", str(params)], env, work / "node.log")
    stopped = finish(node, listener, work, interrupt=False)
    messages = received(out)
    labels = [m for m in messages if m["topic"] == LABELS[0]]
    events = [m for m in messages if m["topic"] == EVENTS[0]]
    return {"seconds": seconds, "people": 2, "frames": int(stopped["frames"]),
            "labels_reported": int(stopped["labels"]), "labels_received": len(labels),
            "labels_lost": int(stopped["labels"]) - len(labels), "events_reported": int(stopped["events"]),
            "events_received": len(events), "events_lost": int(stopped["events"]) - len(events)}  # fmt: skip


def node_latency(frames: int, fps: float, pose_model: str, work: Path) -> dict:
    env = ros_environment(fresh_domain_id(), work / "ros_home")
    listener, out = listen(env, work, LABELS)
    params = parameter_file(work, input="image_topic", pose_model=pose_model, num_poses=1, stride=STRIDE,
                            wait_for_subscribers=1)
    node = start([skelstream_node(), "--ros-args", "--params-file", str(params)], env, work / "node.log")
    camera = start([ros_python(), str(SCRIPTS / "image_publisher.py"), str(VIDEO), "--fps", str(fps), "--frames",
                    str(frames), "--out", str(work / "sent.jsonl")], env, work / "camera.log")  # fmt: skip
    if camera.wait(timeout=frames / fps + 120) != 0:
        sys.exit(f"the image publisher failed: {(work / 'camera.log').read_text()}")
    time.sleep(2.0)  # the last windows
    finish(node, listener, work, interrupt=True)
    ready, delivered = [], []
    for entry in received(out):
        msg = entry["msg"]
        stamp = msg["header"]["stamp"]["sec"] * 1_000_000_000 + msg["header"]["stamp"]["nanosec"]
        ready.append((msg["latency"]["sec"] * 1e9 + msg["latency"]["nanosec"]) / 1e6)
        delivered.append((entry["received_ns"] - stamp) / 1e6)
    return {"label_ms": percentiles(ready), "image_published_to_label_received_ms": percentiles(delivered)}


def stream_run_latency(frames: int, pose_model: str, work: Path) -> dict:
    stats = work / "stream_run.json"
    video = work / "clip.avi"
    import cv2

    capture, writer = cv2.VideoCapture(str(VIDEO)), None
    for _ in range(frames):  # the same frames the publisher sends
        ok, image = capture.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), capture.get(cv2.CAP_PROP_FPS),
                                     (image.shape[1], image.shape[0]))  # fmt: skip
        writer.write(image)
    writer.release()
    run = subprocess.run([sys.executable, "-m", "stream.cli.run", "--video", str(video), "--pose-model", pose_model,
                          "--num-poses", "1", "--stride", str(STRIDE), "--zmq", free_endpoint(),
                          "--stats-json", str(stats)],
                         capture_output=True, text=True, timeout=frames + 300)  # fmt: skip
    if run.returncode != 0:
        sys.exit(f"stream-run failed: {run.stderr[-3000:]}")
    label = json.loads(stats.read_text())["latency_ms"]["label"]
    return {"label_ms": {"p50": label["p50"], "p95": label["p95"], "count": label["count"]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["loss", "latency", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60.0, help="loss: length of the synthetic run")
    parser.add_argument("--frames", type=int, default=393, help="latency: frames of exercise.avi (393: all)")
    parser.add_argument("--output", type=Path, default=RESULTS / "ros2_node.json")
    args = parser.parse_args(argv)
    problem = ros_env_problem()
    if problem:
        sys.exit(problem)
    result = {"machine": machine_info()}
    with tempfile.TemporaryDirectory(prefix="ros2_node_") as tmp:
        if args.scenario in ("loss", "both"):
            (Path(tmp) / "loss").mkdir()
            result["loss"] = loss(args.seconds, Path(tmp) / "loss")
            print("loss: {labels_received}/{labels_reported} labels, {events_received}/{events_reported} events "
                  "received over {seconds:.0f} s ({frames} frames): {labels_lost} labels and {events_lost} events "
                  "lost".format(**result["loss"]))  # fmt: skip
        if args.scenario in ("latency", "both"):
            from stream.pose.provision import resolve_pose_model

            pose_model = str(resolve_pose_model())
            fps = 10.0  # exercise.avi's own rate
            (Path(tmp) / "node").mkdir()
            (Path(tmp) / "run").mkdir()
            node = node_latency(args.frames, fps, pose_model, Path(tmp) / "node")
            run = stream_run_latency(args.frames, pose_model, Path(tmp) / "run")
            added = {p: node["label_ms"][p] - run["label_ms"][p] for p in ("p50", "p95")}
            result["latency"] = {"frames": args.frames, "fps": fps, "node": node, "stream_run": run,
                                 "node_added_ms": added}  # fmt: skip
            print(f"{'latency (ms)':<42}{'p50':>9}{'p95':>9}{'labels':>8}")
            rows = [("node: capture → label ready", node["label_ms"]),
                    ("node: image published → label received", node["image_published_to_label_received_ms"]),
                    ("stream-run: capture → label ready", run["label_ms"])]  # fmt: skip
            for name, value in rows:
                print(f"{name:<42}{value['p50']:>9.1f}{value['p95']:>9.1f}{value['count']:>8}")
            print(f"{'node added (label ready)':<42}{added['p50']:>9.1f}{added['p95']:>9.1f}")
    write_results(args.output, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
