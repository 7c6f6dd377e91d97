"""MSRC-12 Kinect gesture reader: continuous Kinect v1 recordings, unlabelled here.

Format (Fothergill et al., "Instructing people for training gestural interactive
systems", CHI 2012): one ``.csv`` per recording, named like ``P1_1_1_p06.csv``
(``pNN`` is the participant). One frame a line, space separated, 81 numbers:
a timestamp, then 20 joints x ``x y z w``. Joints are in the Kinect SDK v1 order
(layout ``kinect_v1_20``); positions are metres in the sensor's camera frame
(x to the sensor's left, i.e. the person's right, y up, z away from the sensor).
The file has no header; the order was checked against the data
(``tests/models/test_dataset_msrc12.py``): head above shoulder_center above
spine above hip_center, constant bone lengths, equal left and right limbs, the
person's right joints at larger x.

Timestamps are microseconds: consecutive rows differ by ~33,150 (median), the
30 Hz the dataset documents. ``fps`` is derived from them as 1e6 / median step
(30.1-30.3 in the recordings seen); the timestamps themselves are not kept.
``frame_ids`` are the row positions 0..T-1, so a gap in the timestamps (one
recording pauses for 2 s) is not reflected in them: such gaps are logged and
counted.

``w`` is 1 for every tracked joint and 0 in untracked rows; a joint is present
(mask 1) where ``w > 0`` and its four values are finite. Quirks handled, each
counted in ``SkeletonSequence.skipped`` under the key shown and logged:

- ``all_zero_frame``: rows whose 80 joint values are all 0 (no one tracked,
  typically the first ~20 rows of a recording): kept, mask 0.
- ``nan_joint``: joints with a non-finite value in an otherwise valid row:
  position set to 0, mask 0.
- ``zero_weight_joint``: joints with ``w <= 0`` in a row that is not all zero:
  mask 0.
- ``time_gap``: timestamp steps longer than 3 median steps (frames lost).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from models.datasets.text import read_float_table, sorted_files
from models.errors import DataFormatError
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

MSRC12_TIMESTAMP_UNIT_S = 1e-6
"""Seconds per timestamp unit (microseconds)."""
_NUM_JOINTS = KINECT_V1_20.num_joints
_COLUMNS = 1 + 4 * _NUM_JOINTS
_GAP_FACTOR = 3.0
_PARTICIPANT = re.compile(r"_p(\d+)$")
_COUNT_ERROR = "expected {columns} numbers (a timestamp, then 20 x 'x y z w'), got {found}"
_VALUE_ERROR = "column {column}: {field!r} is not a number"


def read_msrc12(path: str | Path) -> SkeletonSequence:
    """Read one MSRC-12 recording (``*.csv``) as a one-body ``kinect_v1_20`` sequence."""
    path = Path(path)
    table, lines = read_float_table(path, _COLUMNS, count_error=_COUNT_ERROR, value_error=_VALUE_ERROR)
    if len(table) < 2:
        raise DataFormatError(path, "need at least two frames to derive the frame rate from the timestamps")
    stamps = table[:, 0]
    if not np.isfinite(stamps).all():
        raise DataFormatError(path, "timestamp is not a finite number", line=int(lines[~np.isfinite(stamps)][0]))
    steps = np.diff(stamps)
    if (steps <= 0).any():
        bad = int(np.flatnonzero(steps <= 0)[0]) + 1
        message = f"timestamp does not increase ({stamps[bad - 1]:.0f} -> {stamps[bad]:.0f})"
        raise DataFormatError(path, message, line=int(lines[bad]))
    period = float(np.median(steps))

    skipped: dict[str, int] = {}
    values = table[:, 1:].reshape(-1, 1, _NUM_JOINTS, 4)
    finite = np.isfinite(values).all(axis=3)
    zero_row = ~(values != 0).any(axis=(1, 2, 3))  # NaN != 0, so a row with NaN is never "all zero"
    present = finite & (values[..., 3] > 0)
    _count(path, skipped, "all_zero_frame", int(zero_row.sum()), "all-zero rows (no one tracked), masked", logging.INFO)
    _count(path, skipped, "nan_joint", int((~finite).sum()), "joints with a non-finite value, masked")
    weightless = int((finite & ~present & ~zero_row[:, None, None]).sum())
    _count(path, skipped, "zero_weight_joint", weightless, "joints with w <= 0 in a tracked row, masked")
    gaps = np.flatnonzero(steps > _GAP_FACTOR * period)
    for i in gaps:
        seconds, frame = steps[i] * MSRC12_TIMESTAMP_UNIT_S, period * MSRC12_TIMESTAMP_UNIT_S
        logger.warning("%s:%d: %.3f s since the previous row (frame period %.4f s): frames lost",
                       path, lines[i + 1], seconds, frame)
    if len(gaps):
        skipped["time_gap"] = len(gaps)

    joints = np.where(finite[..., None], values[..., :3], 0.0).astype(np.float32)
    match = _PARTICIPANT.search(path.stem)
    return SkeletonSequence(
        joints=joints,
        mask=present.astype(np.float32),
        layout=KINECT_V1_20.name,
        fps=1.0 / (period * MSRC12_TIMESTAMP_UNIT_S),
        frame_ids=np.arange(len(table), dtype=np.int64),
        name=path.stem,
        subject=int(match.group(1)) if match else None,
        skipped=skipped,
    )


def read_msrc12_folder(root: str | Path) -> list[SkeletonSequence]:
    """Read every ``*.csv`` recording in ``root``, sorted by file name."""
    paths = sorted_files(root, "*.csv", "no MSRC-12 *.csv recordings in this folder")
    return [read_msrc12(path) for path in paths]


def _count(path: Path, skipped: dict[str, int], kind: str, n: int, what: str, level: int = logging.WARNING) -> None:
    if n:
        skipped[kind] = n
        logger.log(level, "%s: %d %s", path, n, what)
