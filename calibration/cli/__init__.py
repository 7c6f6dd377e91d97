"""`stream-calibrate`: camera intrinsics, camera-to-robot extrinsics, hand-eye calibration.

Examples::

    stream-calibrate intrinsics --images boards/ --pattern chessboard --cols 9 --rows 6 --square 0.025 \\
        --output camera.yaml
    stream-calibrate extrinsics --intrinsics camera.yaml --image board_on_table.png --pattern chessboard \\
        --cols 9 --rows 6 --square 0.025 --board-pose 0.6,0,0.02,0,0,0,1 --output camera_to_base.yaml
    stream-calibrate handeye --intrinsics camera.yaml --poses robot_poses.yaml --images views/ ... --output head.yaml

Each subcommand lives in its own module exposing ``add_parser(subparsers)``
and ``run(args) -> int`` (registered with ``set_defaults(run=run)``); errors
print one line and exit 2.
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
