"""`stream-calibrate handeye`: a head-mounted camera's pose on the head, from head poses and board views.

Example::

    stream-calibrate handeye --intrinsics camera.yaml --poses head_poses.yaml --images views/ \\
        --pattern chessboard --cols 9 --rows 6 --square 0.025 --output camera_on_head.yaml

The board stays fixed while the head moves to 8 or more poses, rotating about
at least two different axes (pan and tilt); one image per pose, matched to the
poses by sorted file name. ``head_poses.yaml`` lists the head pose in the base
frame at each view (ROS quaternion order)::

    parent_frame: base_link
    child_frame: head_link
    poses:
      - translation: {x: 0.0, y: 0.0, z: 1.2}
        rotation: {x: 0.0, y: 0.0, z: 0.0, w: 1.0}
      - ...

The output is ``head <- camera`` (optical frame); a view where the board is
not found is skipped with its pose.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from calibration.boards import Board, detect_oriented
from calibration.cli.board_args import IMAGE_SUFFIXES, read_image
from calibration.cli.transform_command import add_transform_arguments, run_transform_command
from calibration.extrinsics import HAND_EYE_METHODS, board_view, hand_eye
from calibration.transforms import Transform, transform_from_dict
from foundation.errors import CalibrationError
from foundation.yaml_files import read_yaml

logger = logging.getLogger(__name__)


def read_poses(path: Path) -> list[Transform]:
    """The head poses file (see the module docstring); errors name the file and the key."""
    doc = read_yaml(path, "poses", CalibrationError)
    if not isinstance(doc, dict) or not isinstance(doc.get("poses"), list):
        raise CalibrationError(f"{path}: expected a mapping with parent_frame, child_frame and a list 'poses'")
    poses = []
    for index, entry in enumerate(doc["poses"]):
        if not isinstance(entry, dict):
            raise CalibrationError(f"{path}: poses[{index}] must be a mapping with translation and rotation")
        merged = {"parent_frame": doc.get("parent_frame"), "child_frame": doc.get("child_frame"), **entry}
        try:
            poses.append(transform_from_dict(merged, path))
        except CalibrationError as exc:
            raise CalibrationError(f"{exc} (in poses[{index}])") from None
    return poses


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("handeye", help="camera pose on a moving head (hand-eye calibration)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_transform_arguments(parser, output="head <- camera")
    parser.add_argument("--poses", type=Path, required=True, help="YAML list of head poses in the base frame")
    parser.add_argument("--images", type=Path, required=True, help="folder with one board image per pose")
    parser.add_argument("--method", choices=sorted(HAND_EYE_METHODS), default="park")
    parser.set_defaults(run=lambda args: run_transform_command(args, solve))


def solve(args: argparse.Namespace, board: Board, K: np.ndarray, D: np.ndarray) -> Transform:
    """``head <- camera`` from the ``--poses`` and the board's view in each image of ``--images``."""
    poses = read_poses(args.poses)
    if not args.images.is_dir():
        raise CalibrationError(f"{args.images}: not a folder of images")
    images = sorted(p for p in args.images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(images) != len(poses):
        raise CalibrationError(f"{args.images} holds {len(images)} images but {args.poses} lists {len(poses)} poses")
    used_poses, views = [], []
    for pose, image_path in zip(poses, images):
        found = detect_oriented(board, read_image(image_path))
        if found is None:
            logger.warning("%s: board not found, skipping this view and its pose", image_path)
            continue
        view, rms = board_view(found[0], found[1], K, D, args.camera_frame, "board")
        logger.info("%s: board found, RMS reprojection %.3f px", image_path.name, rms)
        used_poses.append(pose)
        views.append(view)
    return hand_eye(used_poses, views, method=args.method)
