"""PRECOG 2016 reader: 72 Kinect v1 sequences of aggressive actions, with per-frame action tags.

Source: DavidJardim/precog_dataset_16 (MIT): 12 subjects x 6 sequence types,
each sequence five of eight actions. File ``SeqX_Y.csv`` is sequence type X
(1-6) performed by subject Y (1-12).

Format: a header line naming the 20 joints with their Kinect SDK ``JointType``
names, ``;``-separated (``HipCenter; Spine; ...; FootRight``); then one frame a
line: 20 ``x y z`` fields separated by ``;`` in the header's order, then one
more field, an integer action id. Positions are metres in the Kinect camera
frame (x to the sensor's left, i.e. the person's right, y up, z away from the
sensor). Joints are mapped to ``kinect_v1_20`` by name, case-insensitively (as
the dataset's viewer does), so any header order is accepted.

Labels: the data README and the slides say only the action order per sequence
type is known, but the last field is the action "that was manually tagged"
(``SkeletonViewer/SkeletonDataFrame.cs``): 0 for none, else 1-8 in the order of
the viewer's ``Utils.Actions`` enum (`PRECOG_ACTIONS`). Each run of equal
non-zero ids becomes a `Segment`; runs are kept as tagged, so an action with a
one-frame gap in its tags (Seq6_3) gives two segments. `PRECOG_SEQUENCE_ORDER`
is the order shown on the slides of ``PRECOG_DATASET.pptx``; the tags of all 72
files follow it.

Frame rate: neither the README nor the slides state it. The Kinect v1 skeleton
stream runs at 30 fps, which `PRECOG_FPS` assumes; the dataset's viewer replays
at 25 fps (a 40 ms timer, ``SkeletonViewer/MainWindow.xaml.cs``), a playback
choice rather than a capture rate. ``frame_ids`` are the row positions 0..T-1.

No confidence is stored: a joint is present (mask 1) unless a value is
non-finite or the joint is (0, 0, 0). Quirks handled, each counted in
``SkeletonSequence.skipped`` under the key shown and logged:

- ``all_zero_frame``: rows whose 20 joints are all (0, 0, 0) (no one tracked;
  every row of Seq2_10 and Seq4_10): kept, mask 0, tags still read.
- ``nan_joint``: joints with a non-finite value: position set to 0, mask 0.
- ``zero_joint``: a (0, 0, 0) joint in a row that is not all zero: mask 0.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import TRUNCATED_HINT, beyond_float32_as_inf, is_float, read_lines, sorted_files
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import Segment, SkeletonSequence

logger = logging.getLogger(__name__)

PRECOG_ACTIONS = (
    "right_punch", "left_punch", "front_right_kick", "front_left_kick",
    "side_right_kick", "side_left_kick", "back_fist", "elbow_strike",
)  # fmt: skip
"""Action names; tag ``k`` (1-8) is ``PRECOG_ACTIONS[k - 1]``, tag 0 is no action."""

# Read from the slide layout of PRECOG_DATASET.pptx (slides 4-9, "Sequence 1".."Sequence 6"):
# the five action pictures left to right, with an arrow from the first to the last. The
# slides' text in XML order (PRECOG_DATASET_pptx_text.txt) lists them out of order for
# five of the six slides (it even makes sequences 1 and 2 identical).
PRECOG_SEQUENCE_ORDER: dict[int, tuple[str, ...]] = {
    1: ("right_punch", "left_punch", "side_right_kick", "side_left_kick", "front_right_kick"),
    2: ("right_punch", "side_left_kick", "left_punch", "side_right_kick", "front_right_kick"),
    3: ("right_punch", "front_left_kick", "side_left_kick", "back_fist", "front_right_kick"),
    4: ("back_fist", "left_punch", "side_right_kick", "side_left_kick", "front_left_kick"),
    5: ("back_fist", "side_right_kick", "right_punch", "front_left_kick", "side_left_kick"),
    6: ("back_fist", "side_right_kick", "front_right_kick", "elbow_strike", "side_left_kick"),
}
"""Scripted action order of each sequence type (the ``X`` of ``SeqX_Y.csv``)."""

PRECOG_FPS = 30.0
"""Assumed: the Kinect v1 skeleton stream rate; the dataset does not state one (see the module docstring)."""

_NUM_JOINTS = KINECT_V1_20.num_joints
_FILE_NAME = re.compile(r"Seq(\d+)_(\d+)")
_JOINT_BY_KEY = {name.replace("_", ""): name for name in KINECT_V1_20.joint_names}  # "hipcenter" -> "hip_center"


def parse_precog_name(name: str) -> tuple[int, int] | None:
    """``(sequence_type, subject)`` from a file name or stem like ``Seq3_12.csv``; None if it does not match."""
    match = _FILE_NAME.fullmatch(Path(name).name.removesuffix(".csv"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def read_precog(path: str | Path) -> SkeletonSequence:
    """Read one PRECOG ``SeqX_Y.csv`` as a one-body ``kinect_v1_20`` sequence with its tagged segments."""
    path = Path(path)
    lines = read_lines(path)
    if not lines[0].strip():
        raise DataFormatError(path, "blank first line: expected a header line of joint names", line=1)
    order = _joint_order(path, lines[0])
    coords, tags, numbers = _split_rows(path, lines)

    values = _to_float(path, coords, numbers)[:, order]
    finite = np.isfinite(values).all(axis=2)
    zero = ~(values != 0).any(axis=2)  # NaN != 0, so a joint with NaN is never "zero"
    zero_row = zero.all(axis=1)
    skipped: dict[str, int] = {}
    _count(path, skipped, "all_zero_frame", int(zero_row.sum()), "all-zero rows (no one tracked), masked")
    _count(path, skipped, "nan_joint", int((~finite).sum()), "joints with a non-finite value, masked")
    stray_zero = int((zero & ~zero_row[:, None]).sum())
    _count(path, skipped, "zero_joint", stray_zero, "(0, 0, 0) joints in a tracked row, masked")
    present = finite & ~zero
    joints = np.where(finite[..., None], values, 0.0).astype(np.float32)[:, None]

    parsed = parse_precog_name(path.name)
    return SkeletonSequence(
        joints=joints,
        mask=present.astype(np.float32)[:, None],
        layout=KINECT_V1_20.name,
        fps=PRECOG_FPS,
        frame_ids=np.arange(len(numbers), dtype=np.int64),
        name=path.stem,
        segments=_segments(_to_tags(path, tags, numbers)),
        subject=parsed[1] if parsed else None,
        skipped=skipped,
    )


def read_precog_folder(root: str | Path) -> list[SkeletonSequence]:
    """Read every ``Seq*_*.csv`` in ``root`` (the dataset's ``CSV`` folder), sorted by file name."""
    missing = "no PRECOG Seq*_*.csv files in this folder (pass the dataset's CSV folder)"
    return [read_precog(path) for path in sorted_files(root, "Seq*_*.csv", missing)]


def _joint_order(path: Path, header: str) -> np.ndarray:
    """Column of each ``kinect_v1_20`` joint, from the header's joint names."""
    columns: dict[str, int] = {}
    for column, raw in enumerate(header.split(";")):
        key = raw.strip().lower().replace("_", "")
        if key not in _JOINT_BY_KEY:
            raise DataFormatError(path, f"unknown joint name {raw.strip()!r} in the header", line=1)
        joint = _JOINT_BY_KEY[key]
        if joint in columns:
            raise DataFormatError(path, f"joint {raw.strip()!r} appears twice in the header", line=1)
        columns[joint] = column
    missing = [name for name in KINECT_V1_20.joint_names if name not in columns]
    if missing:
        raise DataFormatError(path, f"header lacks joint(s): {', '.join(missing)}", line=1)
    return np.array([columns[name] for name in KINECT_V1_20.joint_names])


def _split_rows(path: Path, lines: list[str]) -> tuple[list[list[list[str]]], list[str], list[int]]:
    """Data lines -> per-row joint fields (20 x 3 strings), tag strings, 1-based line numbers."""
    coords, tags, numbers = [], [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(";")
        hint = TRUNCATED_HINT if number == len(lines) else ""
        if len(fields) != _NUM_JOINTS + 1:
            message = f"expected {_NUM_JOINTS + 1} ';'-separated fields (20 joints, an action id), got {len(fields)}"
            raise DataFormatError(path, message + hint, line=number)
        row = [field.split() for field in fields[:_NUM_JOINTS]]
        for column, xyz in enumerate(row, start=1):
            if len(xyz) != 3:
                message = f"field {column}: expected 3 numbers 'x y z', got {fields[column - 1].strip()!r}"
                raise DataFormatError(path, message + hint, line=number)
        coords.append(row)
        tags.append(fields[_NUM_JOINTS].strip())
        numbers.append(number)
    if not coords:
        raise DataFormatError(path, "no frames after the header")
    return coords, tags, numbers


def _to_float(path: Path, coords: list[list[list[str]]], numbers: list[int]) -> np.ndarray:
    try:
        return beyond_float32_as_inf(np.array(coords, dtype=np.float64))
    except ValueError:  # some value is not a number (numpy parses with float()): report the first
        number, column, value = next(
            (number, column, value)
            for row, number in zip(coords, numbers)
            for column, xyz in enumerate(row, start=1)
            for value in xyz
            if not is_float(value)
        )
        raise DataFormatError(path, f"field {column}: {value!r} is not a number", line=number) from None


def _to_tags(path: Path, tags: list[str], numbers: list[int]) -> np.ndarray:
    valid = {str(k) for k in range(len(PRECOG_ACTIONS) + 1)}
    for tag, number in zip(tags, numbers):
        if tag not in valid:
            message = f"action id {tag!r} is not an integer in 0-{len(PRECOG_ACTIONS)}"
            raise DataFormatError(path, message, line=number)
    return np.array(tags, dtype=np.int64)


def _segments(tags: np.ndarray) -> list[Segment]:
    """One segment per run of equal non-zero tags."""
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(tags)) + 1, [len(tags)]])
    return [
        Segment(PRECOG_ACTIONS[tags[start] - 1], int(start), int(end))
        for start, end in zip(bounds[:-1], bounds[1:])
        if tags[start]
    ]


def _count(path: Path, skipped: dict[str, int], kind: str, n: int, what: str) -> None:
    if n:
        skipped[kind] = n
        logger.warning("%s: %d %s", path, n, what)
