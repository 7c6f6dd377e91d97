"""`stream-calibrate`: camera intrinsics, camera-to-robot extrinsics, hand-eye calibration.

Examples::

    stream-calibrate intrinsics --images boards/ --pattern chessboard --cols 9 --rows 6 --square 0.025 \\
        --output camera.yaml
    stream-calibrate extrinsics --intrinsics camera.yaml --image board_on_table.png --pattern chessboard \\
        --cols 9 --rows 6 --square 0.025 --board-pose 0.6,0,0.02,0,0,0,1 --output camera_to_base.yaml
    stream-calibrate handeye --intrinsics camera.yaml --poses head_poses.yaml --images views/ \\
        --pattern charuco --cols 7 --rows 5 --square 0.04 --output head_to_camera.yaml

intrinsics: print a board, photograph it from 10 or more angles, get the
camera matrix and distortion as ROS camera_info YAML. extrinsics: one photo of
the board lying at a known pose in the robot's base frame gives where the
camera sits on the robot. handeye: a camera on a moving head, from the head's
poses and one board photo per pose. `stream-calibrate SUBCOMMAND --help` says
more; `stream-run --intrinsics camera.yaml --extrinsics camera_to_base.yaml`
then places people in the robot's frame. Outputs are written whole or not at
all (a temporary file renamed into place; missing folders created). Exit
codes: 0 on success, 2 with one line saying what is wrong.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

SUBCOMMANDS = ("intrinsics", "extrinsics", "handeye")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"calibration.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
