"""`stream-run`: detect actions live and publish per-frame labels, events and skeletons over ZeroMQ (and ROS 2).

Examples::

    stream-run --camera 0                                   # a webcam; MediaPipe pose; labels on tcp://127.0.0.1:5560
    stream-run --video clip.mp4 --output annotated.mp4      # a video file, annotated copy written
    stream-run --skeleton-file joints_s05_e01.txt --format utkinect --fast   # Kinect data, as fast as possible
    stream-run --source synthetic --people 3 --max-frames 900               # the embedded synthetic scene
    stream-run --checkpoint gestures --skeleton-file P1_1_1_p06.csv.xz --format msrc12 --print-events  # gestures
    stream-run --list-checkpoints                                           # the shipped checkpoints, by name
    stream-run --config run.yaml --lookahead 8 --stats-json stats.json      # YAML config, flags override it
    stream-listen --zmq tcp://127.0.0.1:5560 --topics actions,events        # watch what it publishes
    stream-run --camera 0 --ros2 dds --allow-remote --ros-namespace lab   # also as ROS 2 topics (/lab/skelstream/...)
    stream-run --source synthetic --seconds 30 --record-bag runs/demo_bag   # MCAP rosbag2: ros2 bag play runs/demo_bag
    stream-run --repair-bag runs/demo_bag                                   # a bag whose run was killed: readable again

Outputs (--record, --output, --stats-json, --record-bag): missing folders are
created; an existing file is refused unless --overwrite (a bag folder is never
replaced); an output that is the same file as an input, or as another output,
is refused. Files are written under a temporary name beside the target
(NAME.partial-XXXXXX.EXT) and renamed into place when the run ends, so a killed
run never leaves a half-written file under the name you gave, nor touches an
existing one: its recording is in the .partial file (replaying it says
"incomplete: cut after frame N"), its bag is made readable with --repair-bag.

Exit codes: 0 after a clean run (end of stream, --max-frames, SIGINT/SIGTERM);
1 when something failed mid-run, one line each (a camera that stopped
delivering, a model that failed 10 calls in a row, a recording that could not
be written: reported, and everything up to then still published); 2 when
something cannot start (a bad flag or value, no camera, unreadable video, bad
checkpoint, address in use, an unwritable or existing output, a full disk),
with one line saying what. In every case pending labels are published and
files closed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from foundation.errors import PublisherError
from foundation.errors import SkelstreamError
from foundation.output_files import OutputError, check_output, probe_writable, write_atomically
from models.fusion import FUSIONS
from stream.run.config import (BACKENDS, FORMATS, MAX_PEOPLE, MAX_THREADS, MAX_WAITED_SUBSCRIBERS, POSE_3D, ROS2_MODES,
                               WAIT_S, RunConfig, flag, load_run_config)  # fmt: skip

if TYPE_CHECKING:
    from stream.publishers.base import Publisher
    from stream.ros2.publisher import RosPublisher

logger = logging.getLogger("stream-run")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage of a command this size would bury them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="stream-run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file of RunConfig keys; flags override it")
    parser.add_argument("--verbose", action="store_true",
                        help="log progress (INFO) and let MediaPipe/TFLite print their own log lines")
    parser.add_argument("--repair-bag", metavar="PATH",
                        help="make the MCAP bag of a killed run readable (its complete chunks; metadata.yaml "
                             "rebuilt), then exit")
    source = parser.add_argument_group("source (one of)")
    source.add_argument("--camera", help="camera index, device path or stream URL")
    source.add_argument("--video", help="a video file")
    source.add_argument("--skeleton-file", help="a skeleton recording to replay at its own fps")
    source.add_argument("--format", choices=FORMATS,
                        help="format of --skeleton-file: ntu (*.skeleton), pku (a PKU-MMD skeleton .txt, replayed "
                             "without its label file), utkinect (the dataset's own joints_sXX_eYY.txt, labels from "
                             "actionLabel.txt beside it), msr (the dataset's own aXX_sYY_eZZ_skeleton3D.txt: the name "
                             "gives the action), msrc12 (an MSRC-12 recording P*_p*.csv or .csv.xz, its action points "
                             "from the .tagstream beside it), recording (a --record file)")  # fmt: skip
    source.add_argument("--source", choices=("camera", "video", "skeleton-file", "synthetic"),
                        help="source type (implied by --camera/--video/--skeleton-file; default synthetic)")
    source.add_argument("--fast", action=argparse.BooleanOptionalAction, default=None,
                        help="files: run as fast as possible instead of in real time")
    source.add_argument("--people", type=int, help=f"synthetic source: people in the scene, 1-{MAX_PEOPLE} (default 2)")
    source.add_argument("--seed", type=int, help="synthetic source: scene seed, 0-2^32-1 (default 0)")
    source.add_argument("--seconds", type=float, help="synthetic source: length in seconds, > 0 (default endless)")
    source.add_argument("--max-frames", type=int, help="stop after this many frames (>= 1)")
    model = parser.add_argument_group("model")
    model.add_argument("--checkpoint",
                       help="a shipped checkpoint's name (actions: UTKinect actions, the default; gestures: MSRC-12 "
                            "gestures, with gesture events) or a checkpoint directory; --list-checkpoints shows them")
    model.add_argument("--list-checkpoints", action="store_true",
                       help="print each shipped checkpoint's labels, training data, gesture events and validation "
                            "figures, then exit")  # fmt: skip
    model.add_argument("--backend", choices=BACKENDS,
                       help="(default auto: TensorRT on an NVIDIA GPU, else ONNX Runtime when installed, else torch; "
                            "the choice and why is printed)")
    model.add_argument("--threads", type=int,
                       help=f"CPU threads for the model, 1-{MAX_THREADS} (default: torch 1, immune to the collapse of "
                            "spinning OpenMP threads when pose estimation shares the cores; onnxruntime 2, its two "
                            "encoder streams in parallel, nothing spinning; see benchmarks/README.md)")  # fmt: skip
    model.add_argument("--precision", choices=("fp32", "fp16", "int8"),
                       help="model precision (default the backend's: fp32; tensorrt fp16). int8: static INT8 "
                            "(onnxruntime, tensorrt), quantised once, calibrated on the checkpoint's training data; "
                            "onnxruntime: 8-16%% faster for 2-8 people, the same for 1, 0.06 points of frame "
                            "accuracy lost (benchmarks/README.md, int8_quantization.py)")
    model.add_argument("--stride", type=stride_flag,
                       help="model-rate frames between model calls, auto or 1 to the checkpoint's window length (64 "
                            "for the shipped one) (default auto: 1 while the measured model cost and the number of "
                            "tracks fit, growing only under load, each change printed; N pins it)")  # fmt: skip
    model.add_argument("--lookahead", type=int,
                       help="model-rate frames of delay traded for accuracy, 0 to the window length - 1 (63 for the "
                            "shipped one: 4.2 s at 15 fps) (default 0: causal)")  # fmt: skip
    model.add_argument("--fusion", choices=FUSIONS,
                       help="how the windows covering a frame combine when --lookahead lets several count "
                            "(default recent: weighted by how much each saw after the frame)")
    model.add_argument("--min-score", type=float,
                       help="a frame whose most likely action scores below this probability is published as "
                            "background, 0 to below 1 (default: the checkpoint's min_score; 0 publishes the most "
                            "likely class always)")  # fmt: skip
    pose = parser.add_argument_group("pose (camera and video)")
    pose.add_argument("--pose-model", help="a MediaPipe pose_landmarker_*.task (default: prepared offline)")
    pose.add_argument("--num-poses", type=int, help=f"people MediaPipe looks for, 1-{MAX_PEOPLE} (default 2)")
    pose.add_argument("--smoothing", action=argparse.BooleanOptionalAction, default=None,
                      help="One-Euro landmark smoothing (default on)")
    pose.add_argument("--pose-3d", choices=POSE_3D,
                      help="where the 3D joints come from: lifted, MediaPipe's image landmarks lifted by a "
                           "2D-to-3D network (models/lifting); world, its world landmarks (metric); auto "
                           "(default): lifted, but world with --intrinsics, which places people by PnP")
    pose.add_argument("--lifter", help="--pose-3d lifted: a lifter directory (default: the shipped one, "
                                       "models/lifters/unified-2d)")
    pose.add_argument("--root-motion", action=argparse.BooleanOptionalAction, default=None,
                      help="the model sees each person's root move as it moves in the image (default on; camera "
                           "skeletons are root-relative: stream/stages/image_root_motion.py)")
    place = parser.add_argument_group("calibration (skeletons and positions in the robot frame)")
    place.add_argument("--intrinsics", help="camera_info YAML from stream-calibrate intrinsics")
    place.add_argument("--extrinsics", help="base ← camera transform YAML from stream-calibrate extrinsics")
    out = parser.add_argument_group("outputs")
    out.add_argument("--zmq", help="ZeroMQ PUB endpoint (default tcp://127.0.0.1:5560)")
    out.add_argument("--wait-subscribers", type=int,
                     help=f"wait up to {WAIT_S:g} s for this many subscribers, 0-{MAX_WAITED_SUBSCRIBERS}, before "
                          "starting (default 0)")  # fmt: skip
    out.add_argument("--zmq-json", action=argparse.BooleanOptionalAction, default=None,
                     help="JSON payloads instead of msgpack")
    out.add_argument("--allow-remote", action=argparse.BooleanOptionalAction, default=None,
                     help="allow what the network can reach: ZeroMQ on a non-loopback address, --ros2 dds")
    out.add_argument("--zmq-curve-secret", dest="zmq_curve_secret_key", metavar="FILE",
                     help="CURVE-encrypt ZeroMQ with this server secret key file (server.key_secret; "
                          "docs/reliability.md)")
    out.add_argument("--zmq-curve-clients", metavar="DIR",
                     help="with --zmq-curve-secret: only clients whose public .key file is in DIR may subscribe")
    out.add_argument("--show", action=argparse.BooleanOptionalAction, default=None, help="show an overlay window")
    out.add_argument("--output", help="write an annotated video here, at the source's frame rate (.mp4/.m4v/.mov: "
                                      "mp4v; .avi: MJPG)")
    out.add_argument("--record", help="record skeletons and labels here (replay: --skeleton-file F --format recording)")
    out.add_argument("--print-events", action=argparse.BooleanOptionalAction, default=None,
                     help="print each action start/end and each gesture (checkpoints with gesture events) as it "
                          "is detected")
    out.add_argument("--stats-json", help="write the run summary (stage latencies, drops, accuracy) here at the end")
    out.add_argument("--overwrite", action="store_true",
                     help="replace existing --record, --output and --stats-json files (only once the new one is "
                          "complete)")
    ros = parser.add_argument_group("ROS 2 (docs/ros2.md)")
    ros.add_argument("--ros2", choices=ROS2_MODES,
                     help="also publish the ROS 2 topics: dds = DDS-direct through pip cyclonedds, received by ROS 2 "
                          "nodes using rmw_cyclonedds_cpp (no ROS install needed here)")
    ros.add_argument("--ros-namespace", help="ROS namespace of the topics (default: none, /skelstream/actions)")
    ros.add_argument("--ros-domain-id", type=int, help="DDS domain (default: $ROS_DOMAIN_ID, else 0)")
    ros.add_argument("--ros-camera-frame", help="the camera's optical frame in ROS headers; camera-frame skeletons are converted into it "
                          "(default camera_optical_frame)")
    ros.add_argument("--ros-wait-subscribers", type=int,
                     help=f"--ros2 dds: wait up to {WAIT_S:g} s for this many subscribers of skelstream/actions, "
                          f"0-{MAX_WAITED_SUBSCRIBERS} (default 0)")  # fmt: skip
    ros.add_argument("--record-bag", metavar="PATH",
                     help="record every ROS 2 message as an MCAP rosbag2 in this new directory (ros2 bag play PATH); "
                          "killed runs: --repair-bag PATH")
    return parser


NOT_CONFIG_KEYS = ("config", "verbose", "repair_bag", "overwrite", "list_checkpoints")
"""Flags that steer the command itself, not the run: no `RunConfig` key."""


def stride_flag(text: str) -> int | str:
    """``--stride``: "auto" or a number of model frames."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number of model frames, got {text!r}") from None


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run config: defaults ← ``--config`` ← flags; a source flag implies its source type."""
    flags = {k: v for k, v in vars(args).items() if k not in NOT_CONFIG_KEYS}
    if flags.get("source") is None:
        for flag, source in (("camera", "camera"), ("video", "video"), ("skeleton_file", "skeleton-file")):
            if flags.get(flag) is not None:
                flags["source"] = source
    return load_run_config(args.config, **flags)


def publishers(config: RunConfig, stack: ExitStack, started: Callable[[], bool]) -> Publisher:
    """The run's message publishers, entered into ``stack``: ZeroMQ, and the ROS 2 outputs ``config`` asks for
    (one `FanOut` when there are both)."""
    from stream.publishers.fan_out import FanOut
    from stream.publishers.zmq_publisher import ZmqPublisher

    zmq = stack.enter_context(ZmqPublisher(config.zmq, stream_name=config.stream_name, json=config.zmq_json,
                                           allow_remote=config.allow_remote,
                                           curve_secret_key=config.zmq_curve_secret_key,
                                           curve_clients=config.zmq_curve_clients))  # fmt: skip
    if config.wait_subscribers and not zmq.wait_for_subscribers(config.wait_subscribers, timeout_s=WAIT_S):
        logger.warning("fewer than %d subscribers after %g s; starting anyway", config.wait_subscribers, WAIT_S)
    ros = ros_publisher(config, stack, started)
    return zmq if ros is None else FanOut({"zmq": zmq, "ros2": ros}, stream_name=config.stream_name)


def ros_publisher(config: RunConfig, stack: ExitStack, started: Callable[[], bool] = lambda: True
                  ) -> RosPublisher | None:  # fmt: skip
    """The ROS 2 outputs ``config`` asks for (``dds``, ``bag``) on one `RosPublisher`, entered into ``stack``,
    else None; they fail at start. A bag is finalised when ``stack`` closes, or removed if ``started()`` says the
    run never started."""
    if config.ros2 != "dds" and not config.record_bag:
        return None
    from stream.ros2.conversions import RosConverter
    from stream.ros2.publisher import RosPublisher

    writers = {}
    with ExitStack() as opened:  # a writer that opened is closed again if the next cannot start
        if config.ros2 == "dds":
            from stream.ros2.dds_writer import DdsWriter

            dds = writers["dds"] = DdsWriter(config.ros_domain_id, config.ros_namespace)
            opened.callback(dds.close)
            if config.ros_wait_subscribers and not dds.wait_for_subscribers(config.ros_wait_subscribers,
                                                                            timeout_s=WAIT_S):  # fmt: skip
                logger.warning("fewer than %d ROS 2 subscribers after %g s; starting anyway",
                               config.ros_wait_subscribers, WAIT_S)  # fmt: skip
        if config.record_bag:
            from stream.ros2.bag_writer import BagWriter

            writers["bag"] = BagWriter(config.record_bag, config.ros_namespace, config.stream_name)
        opened.pop_all()
    ros = RosPublisher(writers, config.stream_name, RosConverter(camera_frame=config.ros_camera_frame))
    stack.callback(lambda: ros.close() if started() else ros.discard())
    return ros


class _Closing:
    """Exit callback of the run's outputs: once the run is over, one that cannot be finalised (a bag on a full
    disk) becomes an error line (`errors`) instead of a traceback."""

    def __init__(self) -> None:
        self.run_over = False
        self.errors: list[str] = []

    def __call__(self, kind: type | None, error: BaseException | None, trace: object) -> bool:
        if self.run_over and isinstance(error, (PublisherError, OutputError)):
            self.errors.append(str(error))
            return True  # handled: the stack goes on closing the others
        return False


def run_inputs(config: RunConfig, config_file: str | None) -> list[tuple[str, str]]:
    """(flag, path) of every file the run reads, which no output may be."""
    inputs = [("--config", config_file), ("--skeleton-file", config.skeleton_file), ("--video", config.video),
              ("--pose-model", config.pose_model), ("--intrinsics", config.intrinsics),
              ("--extrinsics", config.extrinsics), ("--zmq-curve-secret", config.zmq_curve_secret_key),
              ("--checkpoint", config.checkpoint)]  # fmt: skip
    if config.source == "camera" and Path(config.camera).exists():  # a device path, or a file opened as a camera
        inputs.append(("--camera", config.camera))
    checkpoint = Path(config.checkpoint)
    inputs += [("--checkpoint", str(checkpoint / name))
               for name in ("config.json", "model.safetensors", "model.onnx")]  # fmt: skip
    return [(name, path) for name, path in inputs if path]


def check_outputs(config: RunConfig, overwrite: bool, config_file: str | None = None) -> None:
    """Refuse, before anything starts, outputs that would destroy a file: an input, another output, an existing
    file without ``overwrite``, an existing bag; `OutputError` naming the flag (foundation.output_files)."""
    taken = run_inputs(config, config_file)
    for key in ("record", "output", "stats_json"):
        path = getattr(config, key)
        if path:
            check_output(path, flag(key), overwrite, taken)
            taken.append((flag(key), path))
    if config.record_bag:
        bag = Path(config.record_bag)
        for name, other in taken:
            if bag.resolve() == Path(other).resolve() or bag.resolve() in Path(other).resolve().parents:
                raise OutputError(f"--record-bag {bag} would hold {name} {other}; choose another folder")
        if bag.exists():
            raise OutputError(f"--record-bag {bag} exists; a bag folder is never replaced, not even with "
                              "--overwrite: remove it or choose another path")  # fmt: skip


def write_stats(path: str, stats: dict) -> None:
    """Write the run summary JSON safely (temporary file, renamed); `OutputError` naming the file."""
    try:
        write_atomically(path, json.dumps(stats, indent=2) + "\n")
    except OutputError as error:
        raise OutputError(f"--stats-json: {error}") from None


def repair(path: str) -> int:
    """``--repair-bag``: one line saying what was recovered (exit 0) or why it cannot be (exit 2)."""
    from stream.ros2.bag_repair import repair_bag

    try:
        report = repair_bag(path)
    except SkelstreamError as error:
        print(f"stream-run: error: {error}", file=sys.stderr)
        return 2
    print(f"stream-run: {report}")
    return 0


def list_checkpoints() -> int:
    """``--list-checkpoints``: what each shipped checkpoint's config says (exit 1 if one cannot be read)."""
    from models.checkpoint import read_config
    from models.pretrained import CHECKPOINTS, describe_checkpoint, shipped_checkpoints

    shipped = shipped_checkpoints()
    if not shipped:
        print(f"stream-run: no checkpoints in {CHECKPOINTS}", file=sys.stderr)
        return 1
    failed = False
    for name, path in shipped.items():
        try:
            print(describe_checkpoint(name, read_config(path)))
        except SkelstreamError as error:
            print(f"{name}: unreadable: {error}")
            failed = True
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_checkpoints:
        return list_checkpoints()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    logging.getLogger("stream.run.stride_control").setLevel(logging.INFO)  # each change of the automatic stride
    if args.repair_bag:
        return repair(args.repair_bag)
    try:
        config = config_from_args(args)
        check_outputs(config, args.overwrite, args.config)
    except SkelstreamError as error:
        print(f"stream-run: error: {error}", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        if config.has_images and not args.verbose:
            from stream.pose.native_log import NativeLogFilter

            stack.enter_context(NativeLogFilter())
        return _run(config, stack)


def _run(config: RunConfig, stack: ExitStack) -> int:
    """Build every stage (anything that cannot start: exit 2, outputs left as they were), stream, report."""
    from stream.run.assembly import open_run
    from stream.run.report import summary_table

    closing = _Closing()
    started = False  # outputs of a run that never started are discarded, not completed
    with ExitStack() as outputs:
        outputs.push(closing)
        try:
            run = open_run(config, outputs, lambda: publishers(config, outputs, lambda: started),
                           started=lambda: started)  # fmt: skip
            if config.stats_json:
                probe_writable(config.stats_json)  # an unwritable folder or a full disk: fail now, not at exit
            run.source.start()
            started = True
        except (SkelstreamError, OSError, ValueError) as error:
            print(f"stream-run: error: {error}", file=sys.stderr)
            return 2
        pipeline, source = run.pipeline, run.source
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda number, _frame: pipeline.stop(signal.Signals(number).name))
        backend = run.backend
        stride = ("auto, starting at 1: the smallest the machine sustains" if config.pinned_stride is None
                  else f"{config.pinned_stride}, pinned")  # fmt: skip
        print(f"stream-run: {config.source} → {Path(config.checkpoint).name} ({backend.name}) → "
              f"{pipeline.publisher}\n"
              f"stream-run: backend {backend.name} {getattr(backend, 'precision', 'fp32')} ({run.backend_reason}); "
              f"stride {stride}", file=sys.stderr)  # fmt: skip
        summary = pipeline.run()
        closing.run_over = True
    print(summary_table(summary, pipeline.stats.table()))
    failures = [f"the source failed: {source.error}"] if source.error else []
    failures += summary.errors + closing.errors  # a model that kept failing, a recording or a bag that failed
    if config.stats_json:
        try:
            write_stats(config.stats_json, {"config": dataclasses.asdict(config), **summary.to_dict()})
        except OutputError as error:
            failures.append(str(error))
    for failure in failures:
        print(f"stream-run: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
