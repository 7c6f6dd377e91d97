"""What the subcommands that write a transform share: their arguments and their run (read, solve, write, report).

    def solve(args, board, K, D) -> Transform: ...          # the subcommand's own part
    add_transform_arguments(parser, output="base <- camera")
    parser.set_defaults(run=lambda args: run_transform_command(args, solve))
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from calibration.boards import Board
from calibration.camera_info import read_camera_info
from calibration.cli.board_args import add_board_arguments, board_from_args
from calibration.transforms import Transform, write_transform
from foundation.errors import CalibrationError

logger = logging.getLogger(__name__)

Solve = Callable[[argparse.Namespace, Board, np.ndarray, np.ndarray], Transform]
"""A subcommand's solver: (its arguments, the board, camera matrix K, distortion D) → the transform to write."""


def add_transform_arguments(parser: argparse.ArgumentParser, output: str) -> None:
    """``--intrinsics``, the board spec, ``--camera-frame`` and ``--output`` (the transform ``output`` names)."""
    parser.add_argument("--intrinsics", type=Path, required=True, help="camera_info YAML")
    add_board_arguments(parser)
    parser.add_argument("--camera-frame", default="camera_optical_frame")
    parser.add_argument("--output", type=Path, required=True, help=f"transform YAML to write ({output})")


def run_transform_command(args: argparse.Namespace, solve: Solve) -> int:
    """Read the intrinsics and the board spec, ``solve``, write the transform: exit 0, or 2 with one error line."""
    try:
        K, D = read_camera_info(args.intrinsics).to_cv()
        result = solve(args, board_from_args(args), K, D)
        write_transform(result, args.output)
    except CalibrationError as exc:
        print(f"stream-calibrate: error: {exc}", file=sys.stderr)
        return 2
    logger.info("wrote %s: %r", args.output, result)
    return 0
