"""`stream-run`: detect actions live and publish per-frame labels, events and skeletons over ZeroMQ.

Examples::

    stream-run --camera 0                                   # a webcam; MediaPipe pose; labels on tcp://127.0.0.1:5560
    stream-run --video clip.mp4 --output annotated.mp4      # a video file, annotated copy written
    stream-run --skeleton-file joints_s05_e01.txt --format utkinect --fast   # Kinect data, as fast as possible
    stream-run --source synthetic --people 3 --max-frames 900               # the embedded synthetic scene
    stream-run --config run.yaml --lookahead 8 --stats-json stats.json      # YAML config, flags override it
    stream-listen --zmq tcp://127.0.0.1:5560 --topics actions,events        # watch what it publishes

Exit codes: 0 after a clean run (end of stream, --max-frames, SIGINT/SIGTERM);
1 when the source failed mid-run (a camera that stopped delivering: reported,
and everything up to then still published); 2 when something cannot start (no
camera, unreadable video, bad checkpoint, address in use), with one line saying
what. In every case pending labels are published and files closed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
from contextlib import ExitStack
from pathlib import Path

from models.errors import SkelstreamError
from stream.run_config import FORMATS, RunConfig, load_run_config

logger = logging.getLogger("stream-run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--config", help="YAML file of RunConfig keys; flags override it")
    source = parser.add_argument_group("source (one of)")
    source.add_argument("--camera", help="camera index, device path or stream URL")
    source.add_argument("--video", help="a video file")
    source.add_argument("--skeleton-file", help="a skeleton recording to replay at its own fps")
    source.add_argument("--format", choices=FORMATS, help="format of --skeleton-file")
    source.add_argument("--source", choices=("camera", "video", "skeleton-file", "synthetic"),
                        help="source type (implied by --camera/--video/--skeleton-file; default synthetic)")
    source.add_argument("--fast", action=argparse.BooleanOptionalAction, default=None,
                        help="files: run as fast as possible instead of in real time")
    source.add_argument("--people", type=int, help="synthetic source: people in the scene (default 2)")
    source.add_argument("--seed", type=int, help="synthetic source: scene seed (default 0)")
    source.add_argument("--seconds", type=float, help="synthetic source: length in seconds (default endless)")
    source.add_argument("--max-frames", type=int, help="stop after this many frames")
    model = parser.add_argument_group("model")
    model.add_argument("--checkpoint", help="detection checkpoint directory (default: the shipped one)")
    model.add_argument("--backend", choices=("torch", "onnxruntime", "tensorrt", "auto"), help="(default torch)")
    model.add_argument("--threads", type=int,
                       help="CPU threads for the model (default 1: as fast as 2 here, and immune to the collapse of "
                            "spinning OpenMP threads when pose estimation shares the cores; see benchmarks/README.md)")
    model.add_argument("--stride", type=int, help="model-rate frames between model calls (default 8)")
    model.add_argument("--lookahead", type=int, help="frames of delay traded for accuracy (default 0: causal)")
    pose = parser.add_argument_group("pose (camera and video)")
    pose.add_argument("--pose-model", help="a MediaPipe pose_landmarker_*.task (default: prepared offline)")
    pose.add_argument("--num-poses", type=int, help="people MediaPipe looks for (default 2)")
    pose.add_argument("--smoothing", action=argparse.BooleanOptionalAction, default=None,
                      help="One-Euro landmark smoothing (default on)")
    place = parser.add_argument_group("calibration (skeletons and positions in the robot frame)")
    place.add_argument("--intrinsics", help="camera_info YAML from stream-calibrate intrinsics")
    place.add_argument("--extrinsics", help="base ← camera transform YAML from stream-calibrate extrinsics")
    out = parser.add_argument_group("outputs")
    out.add_argument("--zmq", help="ZeroMQ PUB endpoint (default tcp://127.0.0.1:5560)")
    out.add_argument("--wait-subscribers", type=int,
                     help="wait up to 10 s for this many subscribers before starting (default 0)")
    out.add_argument("--zmq-json", action=argparse.BooleanOptionalAction, default=None,
                     help="JSON payloads instead of msgpack")
    out.add_argument("--allow-remote", action=argparse.BooleanOptionalAction, default=None,
                     help="allow binding ZeroMQ to a non-loopback address")
    out.add_argument("--show", action=argparse.BooleanOptionalAction, default=None, help="show an overlay window")
    out.add_argument("--output", help="write an annotated video here (e.g. annotated.mp4)")
    out.add_argument("--record", help="record skeletons and labels here (replay: --skeleton-file F --format recording)")
    out.add_argument("--print-events", action=argparse.BooleanOptionalAction, default=None,
                     help="print each action start/end as it is detected")
    out.add_argument("--stats-json", help="write the run summary (stage latencies, drops, accuracy) here")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run config: defaults ← ``--config`` ← flags; a source flag implies its source type."""
    flags = {k: v for k, v in vars(args).items() if k != "config"}
    if flags.get("source") is None:
        for flag, source in (("camera", "camera"), ("video", "video"), ("skeleton_file", "skeleton-file")):
            if flags.get(flag) is not None:
                flags["source"] = source
    return load_run_config(args.config, **flags)


def _source_config(config: RunConfig):
    from models.synthetic.generator import SyntheticConfig
    from stream.sources.camera import CameraConfig
    from stream.sources.skeleton_file import SkeletonFileConfig
    from stream.sources.synthetic import SyntheticSourceConfig
    from stream.sources.video import VideoConfig

    common = {"queue_size": config.queue_size}
    if config.source == "camera":
        device: int | str = int(config.camera) if config.camera.isdigit() else config.camera
        return CameraConfig(device=device, **common)
    if config.source == "video":
        return VideoConfig(path=config.video, fast=config.fast, **common)
    if config.source == "skeleton-file":
        return SkeletonFileConfig(path=config.skeleton_file, format=config.format, fast=config.fast, **common)
    scene = SyntheticConfig(num_people=config.people, seed=config.seed, duration=config.seconds, noise_std=0.01,
                            missing_prob=0.02)  # fmt: skip
    return SyntheticSourceConfig(scene=scene, fast=config.fast, **common)


def _layout_of(config: RunConfig, source) -> str:
    if config.has_images:
        return "mediapipe_33"
    return getattr(source, "layout", None) or "unified_30"


def warm_up(backend, pose) -> None:
    """Run the model (and the pose estimator) once so their lazy initialisation happens before capture starts."""
    import numpy as np

    from stream.types import Frame

    backend.run(np.zeros((1, *backend.config.model.input_shape), np.float32))
    if pose is not None:
        pose.estimate(Frame(index=-1, stamp_ns=0, image=np.zeros((256, 256, 3), np.uint8), media_ns=0))


def _summary_table(summary, stats_table: str) -> str:
    lines = ["", stats_table, ""]
    data = summary.to_dict()
    lines.append(f"frames {data['frames']} in {data['seconds']:.1f} s ({data['fps']:.1f} fps), "
                 f"labels {data['labels']}, events {data['events']}, model calls {data['model_calls']} "
                 f"({data['windows']} windows)")  # fmt: skip
    lines.append(f"drops: capture {data['source'].get('dropped', 0)}, "
                 f"publish {data['publisher'].get('dropped', 0)}; stopped: {data['stop_reason']}")  # fmt: skip
    if data["frame_accuracy"] is not None:
        lines.append(f"frame accuracy against the source's ground truth: {data['frame_accuracy']:.3f} "
                     f"({data['scored_labels']} labels)")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from stream.backends import make_backend
    from stream.label_recorder import LabelledRecorder
    from stream.pipeline import Pipeline
    from stream.publishers.zmq_publisher import ZmqPublisher
    from stream.recording import RecordingHeader, RecordingWriter
    from stream.sources import make_source

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with ExitStack() as stack:
        try:
            config = config_from_args(args)
            backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
            checkpoint = backend.config
            source = make_source(_source_config(config)).open()  # no camera: fail before anything else
            stack.callback(source.stop)
            pose = None
            if config.has_images:
                from stream.pose.mediapipe_pose import MediaPipePoseEstimator
                from stream.pose.one_euro import OneEuroConfig
                from stream.pose.provision import resolve_pose_model

                pose = stack.enter_context(MediaPipePoseEstimator(
                    resolve_pose_model(config.pose_model), num_poses=config.num_poses,
                    smoothing=OneEuroConfig() if config.smoothing else None))  # fmt: skip
            localizer = None
            if config.intrinsics or config.extrinsics:
                from calibration.camera_info import read_camera_info
                from calibration.transforms import read_transform
                from stream.localization import Localizer

                localizer = Localizer(read_camera_info(config.intrinsics) if config.intrinsics else None,
                                      read_transform(config.extrinsics) if config.extrinsics else None)  # fmt: skip
            publisher = stack.enter_context(ZmqPublisher(config.zmq, stream_name=config.stream_name,
                                                         json=config.zmq_json, allow_remote=config.allow_remote))  # fmt: skip
            if config.wait_subscribers and not publisher.wait_for_subscribers(config.wait_subscribers, timeout_s=10):
                logger.warning("fewer than %d subscribers after 10 s; starting anyway", config.wait_subscribers)
            overlay = None
            if config.show or config.output:
                from stream.overlay import Overlay

                overlay = stack.enter_context(Overlay(show=config.show, output=config.output))
            recorder = None
            if config.record:
                header = RecordingHeader(layout=_layout_of(config, source), fps=source.fps or checkpoint.fps,
                                         labels=tuple(checkpoint.labels), source=config.source)  # fmt: skip
                recorder = LabelledRecorder(RecordingWriter(config.record, header))
                stack.callback(recorder.close)
            if config.stats_json:
                Path(config.stats_json).parent.mkdir(parents=True, exist_ok=True)
                Path(config.stats_json).touch()  # unwritable path: fail now, not at exit
            warm_up(backend, pose)  # lazy initialisation must not cost the first captured frames
            source.start()
        except (SkelstreamError, OSError, ValueError) as error:
            print(f"stream-run: error: {error}", file=sys.stderr)
            return 2
        pipeline = Pipeline(config, source, backend, publisher, pose=pose, overlay=overlay, recorder=recorder,
                            localizer=localizer)  # fmt: skip
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: pipeline.stop(signal.Signals(number).name))
        print(f"stream-run: {config.source} → {Path(config.checkpoint).name} ({backend.name}) → {publisher.endpoint}",
              file=sys.stderr)  # fmt: skip
        summary = pipeline.run()
    print(_summary_table(summary, pipeline.stats.table()))
    if config.stats_json:
        stats = {"config": dataclasses.asdict(config), **summary.to_dict()}
        Path(config.stats_json).write_text(json.dumps(stats, indent=2) + "\n")
    if source.error:
        print(f"stream-run: the source failed: {source.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
