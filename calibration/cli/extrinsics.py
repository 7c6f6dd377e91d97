"""`stream-calibrate extrinsics`: the camera's pose in the robot base frame from one view of a board at a known pose.

Example::

    stream-calibrate extrinsics --intrinsics camera.yaml --image board_on_table.png \\
        --pattern chessboard --cols 9 --rows 6 --square 0.025 \\
        --board-pose 0.6,0,0.02,0,0,0,1 --base-frame base_link --camera-frame camera_optical_frame \\
        --output camera_in_base.yaml

``--board-pose x,y,z,qx,qy,qz,qw`` is the board frame in the base frame (the
board frame as `calibration.boards` defines it: origin at the first inner
corner for a chessboard, X along a row of ``--cols`` corners, Y along the rows,
Z into the board's back). The output is the transform ``base <- camera``
(optical frame: x right, y down, z forward), written by
`calibration.transforms.write_transform`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from calibration.boards import Board, detect_oriented
from calibration.cli.board_args import read_image
from calibration.cli.transform_command import add_transform_arguments, run_transform_command
from calibration.extrinsics import camera_pose_from_board
from calibration.transforms import Transform
from foundation.errors import CalibrationError

def parse_pose(text: str, parent_frame: str, child_frame: str) -> Transform:
    """``x,y,z,qx,qy,qz,qw`` (metres, ROS quaternion order) -> ``parent <- child``."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 7 or not np.all(np.isfinite(values)):
        raise CalibrationError(f"--board-pose must be 7 numbers x,y,z,qx,qy,qz,qw, got {text!r}")
    quat = np.array(values[3:])
    if abs(np.linalg.norm(quat) - 1.0) > 1e-3:
        raise CalibrationError(f"--board-pose quaternion {values[3:]} is not unit length")
    return Transform(parent_frame, child_frame, Rotation.from_quat(quat), values[:3])


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("extrinsics", help="camera pose in the base frame from a board at a known pose",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_transform_arguments(parser, output="base <- camera")
    parser.add_argument("--image", type=Path, required=True, help="image of the board")
    parser.add_argument("--board-pose", required=True, help="board pose in the base frame: x,y,z,qx,qy,qz,qw")
    parser.add_argument("--base-frame", default="base_link")
    parser.add_argument("--board-frame", default="board")
    parser.set_defaults(run=lambda args: run_transform_command(args, solve))


def solve(args: argparse.Namespace, board: Board, K: np.ndarray, D: np.ndarray) -> Transform:
    """``base <- camera`` from the board's view in ``--image`` and its ``--board-pose``."""
    board_in_base = parse_pose(args.board_pose, args.base_frame, args.board_frame)
    found = detect_oriented(board, read_image(args.image))
    if found is None:
        raise CalibrationError(f"{args.image}: board not found ({args.pattern} {args.cols}x{args.rows})")
    return camera_pose_from_board(found[0], found[1], K, D, board_in_base, args.camera_frame)
