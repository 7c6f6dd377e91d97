"""UTKinect-Action3D reader: continuous Kinect v1 sequences with dense action segments.

Format (one folder, as distributed):

- ``joints_sXX_eYY.txt``: one row per recorded frame, whitespace separated:
  ``frame_id x1 y1 z1 ... x20 y20 z20`` (61 numbers), joints in the Kinect SDK v1
  order (layout ``kinect_v1_20``), metres in the sensor's camera frame.
- ``actionLabel.txt``: blocks, each a ``sXX_eYY`` header line followed by
  ``action: start end`` lines whose boundaries are frame ids (inclusive).
- ``action_names.txt``: the ten action names (snake_case there; the label file,
  and this reader, use the camelCase spellings in `UTKINECT_ACTIONS`).

Frame ids count the frames of the nominal 30 fps Kinect v1 stream, but only
some were saved: ids go up in steps of 2-16 (usually 4 or 6; an effective 5-10
fps per sequence) with gaps of up to ~240. The reader keeps the ids as given and
sets ``fps`` to the 30 fps of that id clock, so ``frame_ids / fps`` is the
capture time in seconds and a resampler can place every frame exactly. (The
files cannot confirm the 30: with it, walking comes out at ~0.4 m/s and
clapping at ~0.7 Hz -- slow, but plausible for scripted actions.)

Quirks handled, each counted in ``SkeletonSequence.skipped`` under the key shown
and logged:

- ``duplicate_frame_id``: rows repeating the previous row's id (273 in s01-s06).
  The first row is kept: the repeated row is a later capture whose id failed to
  advance (it lies nearer the next frame than the first row does in 98 % of the
  pairs), so only the first row's pose belongs to that id.
- ``segment_boundary_between_ids``: a boundary that is not a recorded id; the
  segment is mapped to the recorded frames inside it (``searchsorted``).
- ``segment_without_frames``: a segment holding no recorded frame (dropped).
- ``nan_segment_boundary``: a ``NaN`` boundary (segment dropped).
- ``segments_out_of_order``: segments that start before a segment listed above
  them (push/pull in s01_e01 and s05_e02); segments are returned sorted by start.
- ``overlapping_segments``: pairs of returned segments sharing frames (all kept;
  `SkeletonSequence.frame_labels` lets the later-starting one win).
- ``segment_contains_other``: a segment that wholly contains another segment of
  the same sequence (s03_e01 ``push: 2556 3622`` swallows ``throw``; its scripted
  place is after throw, so 3556 was probably meant). The containing segment is
  dropped, not kept and not clipped: kept, it labels ~1000 ids around throw as
  push; clipped to end where throw starts, it still labels ~670 ids before throw
  as push, against the scripted action order. Dropping it costs only the true
  push frames, which then read as background. The data is never rewritten.
- ``all_zero_frame``: rows whose 60 coordinates are all 0 get mask 0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import read_float_table, read_lines
from models.skeleton.sequence import Segment, SkeletonSequence

logger = logging.getLogger(__name__)

UTKINECT_ACTIONS = (
    "walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands",
)  # fmt: skip
UTKINECT_FPS = 30.0
"""Rate of the frame-id clock (frames actually saved: ~5-10 fps, irregular)."""

LABEL_FILE = "actionLabel.txt"
_NUM_JOINTS = 20
_COLUMNS = 1 + 3 * _NUM_JOINTS
_JOINTS_NAME = re.compile(r"joints_(s(\d+)_e\d+)\.txt")
_BLOCK_HEADER = re.compile(r"s\d+_e\d+")


class RawSegment(NamedTuple):
    """One ``action: start end`` line of the label file; boundaries are frame ids (NaN allowed)."""

    label: str
    start: float
    end: float
    line: int


def read_utkinect_labels(labels_path: str | Path) -> dict[str, list[RawSegment]]:
    """Parse ``actionLabel.txt`` into ``{"sXX_eYY": [RawSegment, ...]}``, in file order."""
    path = Path(labels_path)
    blocks: dict[str, list[RawSegment]] = {}
    current: list[RawSegment] | None = None
    for number, raw in enumerate(read_lines(path, allow_empty=True), start=1):
        text = raw.strip()
        if not text:
            continue
        if _BLOCK_HEADER.fullmatch(text):
            if text in blocks:
                raise DataFormatError(path, f"sequence {text} appears twice", line=number)
            current = blocks[text] = []
            continue
        label, colon, bounds = text.partition(":")
        label, fields = label.strip(), bounds.split()
        if not colon or len(fields) != 2:
            raise DataFormatError(path, f"expected 'sXX_eYY' or 'action: start end', got {text!r}", line=number)
        if current is None:
            raise DataFormatError(path, "segment before any 'sXX_eYY' header", line=number)
        if label not in UTKINECT_ACTIONS:
            raise DataFormatError(path, f"unknown action {label!r}; known: {', '.join(UTKINECT_ACTIONS)}", line=number)
        start, end = (_parse_boundary(path, number, field) for field in fields)
        if start > end:
            raise DataFormatError(path, f"segment {label} ends before it starts ({start:g} > {end:g})", line=number)
        current.append(RawSegment(label, start, end, number))
    if not blocks:
        raise DataFormatError(path, "no 'sXX_eYY' block found (empty label file?)")
    return blocks


def read_utkinect(joints_path: str | Path, labels_path: str | Path | None = None) -> SkeletonSequence:
    """Read one ``joints_sXX_eYY.txt``; with ``labels_path``, attach its segments from that label file."""
    path = Path(joints_path)
    blocks = read_utkinect_labels(labels_path) if labels_path is not None else None
    return _read_sequence(path, blocks, labels_path)


def read_utkinect_folder(root: str | Path, subjects: Iterable[int] | None = None) -> list[SkeletonSequence]:
    """Read every ``joints_sXX_eYY.txt`` under ``root`` (only ``subjects`` if given), sorted by name.

    Segments come from ``root/actionLabel.txt`` when it exists. Subjects without
    files are simply absent from the result.
    """
    root = Path(root)
    wanted = None if subjects is None else {int(s) for s in subjects}
    labels_path = root / LABEL_FILE
    if labels_path.is_file():
        blocks: dict[str, list[RawSegment]] | None = read_utkinect_labels(labels_path)
    else:
        blocks = None
        logger.warning("%s: no %s, sequences are returned without segments", root, LABEL_FILE)
    sequences = []
    for path in sorted(root.glob("joints_s*_e*.txt")):
        match = _JOINTS_NAME.fullmatch(path.name)
        if match is None or (wanted is not None and int(match.group(2)) not in wanted):
            continue
        sequences.append(_read_sequence(path, blocks, labels_path))
    return sequences


def _read_sequence(
    path: Path, blocks: dict[str, list[RawSegment]] | None, labels_path: str | Path | None
) -> SkeletonSequence:
    match = _JOINTS_NAME.fullmatch(path.name)
    if match is None:
        raise DataFormatError(path, "file name must be joints_sXX_eYY.txt (it names the sequence)")
    name, subject = match.group(1), int(match.group(2))
    table, lines = read_float_table(path, _COLUMNS, finite=True, count_error="expected {columns} numbers, got {found}")
    ids_raw = table[:, 0]
    if not np.array_equal(ids_raw, np.round(ids_raw)):
        bad = int(np.flatnonzero(ids_raw != np.round(ids_raw))[0])
        raise DataFormatError(path, f"frame id {ids_raw[bad]:g} is not an integer", line=int(lines[bad]))
    ids_all = ids_raw.astype(np.int64)
    steps = np.diff(ids_all)
    if (steps < 0).any():
        bad = int(np.flatnonzero(steps < 0)[0]) + 1
        message = f"frame id goes backwards ({ids_all[bad - 1]} -> {ids_all[bad]})"
        raise DataFormatError(path, message, line=int(lines[bad]))

    skipped: dict[str, int] = {}
    keep = np.concatenate([[True], steps != 0])  # first row of each id; see the module docstring
    if not keep.all():
        _count(skipped, "duplicate_frame_id", int((~keep).sum()))
        logger.info("%s: dropped %d rows repeating a frame id (kept the first of each)", path, int((~keep).sum()))
    frame_ids = ids_all[keep]
    joints = table[keep, 1:].reshape(-1, 1, _NUM_JOINTS, 3).astype(np.float32)
    present = (joints != 0).any(axis=(1, 2, 3))
    if not present.all():
        _count(skipped, "all_zero_frame", int((~present).sum()))
        logger.warning("%s: %d all-zero rows, masked", path, int((~present).sum()))
    mask = np.repeat(present[:, None, None], _NUM_JOINTS, axis=2).astype(np.float32)

    segments: list[Segment] = []
    if blocks is not None:
        if name not in blocks:
            raise DataFormatError(str(labels_path), f"no block for sequence {name}")
        segments = _map_segments(path, blocks[name], frame_ids, skipped)
    return SkeletonSequence(
        joints=joints,
        mask=mask,
        layout="kinect_v1_20",
        fps=UTKINECT_FPS,
        frame_ids=frame_ids,
        name=name,
        segments=segments,
        subject=subject,
        skipped=skipped,
    )


def _map_segments(
    path: Path, raw: list[RawSegment], frame_ids: np.ndarray, skipped: dict[str, int]
) -> list[Segment]:
    """Frame-id segments -> array-position segments, handling the quirks listed in the module docstring."""
    valid = []
    for seg in raw:
        if np.isnan(seg.start) or np.isnan(seg.end):
            _count(skipped, "nan_segment_boundary")
            logger.warning("%s: segment %s (label line %d) has a NaN boundary, dropped", path, seg.label, seg.line)
        else:
            valid.append(seg)
    def contains(outer: RawSegment, inner: RawSegment) -> bool:
        same = (outer.start, outer.end) == (inner.start, inner.end)
        return outer.start <= inner.start and inner.end <= outer.end and not same

    containers = [a for a in valid if any(contains(a, b) for b in valid)]
    for seg in containers:
        _count(skipped, "segment_contains_other")
        inner = ", ".join(b.label for b in valid if contains(seg, b))
        logger.warning(
            "%s: segment %s [%d, %d] (label line %d) contains %s, dropped",
            path, seg.label, seg.start, seg.end, seg.line, inner,
        )  # fmt: skip
    valid = [seg for seg in valid if seg not in containers]
    starts = [seg.start for seg in valid]
    _count(skipped, "segments_out_of_order", sum(s < max(starts[:i]) for i, s in enumerate(starts) if i))

    recorded = set(frame_ids.tolist())
    segments = []
    for seg in valid:
        _count(skipped, "segment_boundary_between_ids", (seg.start not in recorded) + (seg.end not in recorded))
        start = int(np.searchsorted(frame_ids, seg.start, side="left"))
        end = int(np.searchsorted(frame_ids, seg.end, side="right"))
        if end <= start:
            _count(skipped, "segment_without_frames")
            logger.warning("%s: segment %s (label line %d) holds no recorded frame, dropped", path, seg.label, seg.line)
            continue
        segments.append(Segment(seg.label, start, end))
    segments.sort(key=lambda s: (s.start, s.end))
    overlaps = sum(b.start < a.end for i, a in enumerate(segments) for b in segments[i + 1 :])
    _count(skipped, "overlapping_segments", overlaps)
    return segments


def _parse_boundary(path: Path, line: int, field: str) -> float:
    if field.lower() == "nan":
        return float("nan")
    try:
        return float(int(field))
    except ValueError:
        message = f"segment boundary {field!r} is not an integer frame id or NaN"
        raise DataFormatError(path, message, line=line) from None


def _count(skipped: dict[str, int], kind: str, n: int = 1) -> None:
    if n:
        skipped[kind] = skipped.get(kind, 0) + n
