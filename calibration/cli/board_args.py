"""Command-line pieces the calibration subcommands share: the board spec and image reading."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from calibration.boards import Board, make_board
from calibration.opencv import opencv
from foundation.errors import CalibrationError


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def add_board_arguments(parser: argparse.ArgumentParser) -> None:
    """The board spec every subcommand takes."""
    parser.add_argument("--pattern", choices=("chessboard", "charuco"), default="chessboard", help="board type")
    parser.add_argument("--cols", type=int, required=True, help="inner corners per row (chessboard) or squares (charuco)")
    parser.add_argument("--rows", type=int, required=True, help="inner corners per column (chessboard) or squares")
    parser.add_argument("--square", type=float, required=True, help="square size in metres")
    parser.add_argument("--marker", type=float, default=None, help="ChArUco marker size in metres (default 0.75 square)")
    parser.add_argument("--dictionary", default="DICT_5X5_100", help="ChArUco ArUco dictionary (default DICT_5X5_100)")
    parser.add_argument("--legacy-charuco", action="store_true", help="ChArUco board made with OpenCV < 4.6")


def board_from_args(args: argparse.Namespace) -> Board:
    """The board the arguments of `add_board_arguments` describe; a bad spec is a `CalibrationError`."""
    try:
        return make_board(args.pattern, args.cols, args.rows, args.square, marker=args.marker,
                          dictionary=args.dictionary, legacy=args.legacy_charuco)  # fmt: skip
    except ValueError as exc:
        raise CalibrationError(f"bad board spec: {exc}") from None


def read_image(path: Path) -> np.ndarray:
    """A BGR image; an unreadable file is a `CalibrationError` naming it."""
    cv2 = opencv()
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CalibrationError(f"{path}: cannot read the image")
    return image
