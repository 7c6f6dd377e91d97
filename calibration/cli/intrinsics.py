"""`stream-calibrate intrinsics`: camera matrix and distortion from views of a board.

Examples::

    stream-calibrate intrinsics --images boards/ --pattern chessboard --cols 9 --rows 6 --square 0.025 \\
        --output camera.yaml
    stream-calibrate intrinsics --video sweep.mp4 --every 10 --pattern charuco --cols 8 --rows 6 \\
        --square 0.035 --marker 0.026 --output camera.yaml
    stream-calibrate intrinsics --camera 0 --frames 40 --every 15 --pattern chessboard --cols 9 --rows 6 \\
        --square 0.025 --output camera.yaml

``--cols``/``--rows`` count inner corners for a chessboard and squares for a
ChArUco board. Blurred, duplicate and board-less views are dropped and
counted; the report lists each view's RMS reprojection error, the total, and
how much of the image the corners covered (aim for most of it). The output is
ROS ``camera_info`` YAML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from calibration.camera_info import write_camera_info
from calibration.cli.board_args import add_board_arguments, board_from_args
from calibration.intrinsics import (
    calibrate_intrinsics,
    format_report,
    frames_from_camera,
    frames_from_video,
    images_from_folder,
)
from foundation.errors import CalibrationError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("intrinsics", help="camera intrinsics from views of a chessboard or ChArUco board",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, help="folder of board images")
    source.add_argument("--video", type=Path, help="video file of the board moving")
    source.add_argument("--camera", type=int, help="camera index (cv2.VideoCapture)")
    parser.add_argument("--every", type=int, default=15, help="video/camera: keep every k-th frame (default 15)")
    parser.add_argument("--frames", type=int, default=40, help="camera: frames to keep (default 40)")
    add_board_arguments(parser)
    parser.add_argument("--min-views", type=int, default=5, help="fewest usable views (default 5)")
    parser.add_argument("--blur-threshold", type=float, default=100.0,
                        help="reject views whose board area's Laplacian variance is below this (default 100)")
    parser.add_argument("--duplicate-threshold", type=float, default=3.0,
                        help="reject views whose corners lie within this many px of an earlier view's (default 3)")
    parser.add_argument("--camera-name", default="camera", help="camera_name written to the YAML")
    parser.add_argument("--output", type=Path, required=True, help="camera_info YAML to write")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        board = board_from_args(args)
        if args.every < 1 or args.frames < 1:
            raise CalibrationError(f"--every and --frames must be at least 1, got {args.every}, {args.frames}")
        if args.images is not None:
            views = images_from_folder(args.images)
        elif args.video is not None:
            views = frames_from_video(args.video, every=args.every)
        else:
            views = frames_from_camera(args.camera, frames=args.frames, every=args.every)
        result = calibrate_intrinsics(views, board, min_views=max(args.min_views, 3),
                                      blur_threshold=args.blur_threshold,
                                      duplicate_threshold=args.duplicate_threshold,
                                      camera_name=args.camera_name)  # fmt: skip
        print(format_report(result))
        write_camera_info(result.camera_info, args.output)
    except (CalibrationError, OSError) as exc:
        print(f"stream-calibrate: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0
