"""MSRC-12 Kinect gesture reader: continuous Kinect v1 recordings with action points.

Dataset (Fothergill et al., "Instructing people for training gestural
interactive systems", CHI 2012; ``MSRC_12_gesture_dataset.pdf`` and the MATLAB
code in ``code/`` beside the data): each recording is one person repeating one
of 12 gestures about ten times. The folder holds ``P1_1_1_p06.csv`` recordings
(or ``.csv.xz``, xz-compressed) and a ``.tagstream`` beside each; a dataset
folder may keep them in a ``data/`` subfolder. `read_msrc12_folder` reads both
shapes: the full dataset (``msrc12/``, registry name ``msrc12``) and the old
four-recording sample without tagstreams (``msrc12_kinect_gesture/``, registry
name ``msrc12-sample``; its recordings are also in the full set).

File names ``P{a}_{b}_{gesture}[A]_p{person}`` (the PDF's ``P[#A]_[#B]_[#C]_P[#D]``):
``P{a}_{b}`` is the instruction group the person belonged to, which fixed the
instruction they were given for each gesture (the PDF's table, `MSRC12_INSTRUCTION_GROUPS`);
``A`` marks a recording made with written text added to that instruction;
``gesture`` is 1-12 (``Gk``); ``person`` is the participant (``subject``). The
instruction kind goes to ``attributes["instruction"]`` (one of
`MSRC12_INSTRUCTIONS`), the group to ``attributes["instruction_group"]``
(``"P1_1"``), the file name's gesture to ``attributes["gesture"]``.

Recording: one frame a line, space separated, 81 numbers: a timestamp, then 20
joints x ``x y z w``. Joints are in the Kinect SDK v1 order (layout
``kinect_v1_20``, as ``code/skel_model.m`` lists them); positions are metres in
the sensor's camera frame (x to the sensor's left, i.e. the person's right, y
up, z away from the sensor). The order was checked against the data
(``tests/models/test_dataset_msrc12.py``): head above shoulder_center above
spine above hip_center, constant bone lengths, equal left and right limbs, the
person's right joints at larger x.

Timestamps are microseconds, stamped on arrival (they jitter: see
`models.datasets.frame_clock`); ``fps`` is rows per second (27.7-30.0 in the
recordings here), ``frame_ids`` count rows and jump over pauses (one recording
pauses for 2 s). The timestamps themselves are not kept.

Action points (``.tagstream``): a header ``XQPCTick;Tag``, then one
``tick;tag`` row per gesture instance, the instant a system should recognise
it. As ``code/load_tagstream.m``: µs = (tick·1000 + 49875/2) / 49875 (QPC ticks
at 49.875 MHz, rounded to the nearest µs); as ``code/tagstream_to_y.m``: the
frame is the row with the nearest timestamp (the earlier one on a tie). Tags
``G1 lift outstretched arms`` .. ``G12 Kick`` become `MSRC12_GESTURES`.

``w`` is 1 for every tracked joint and 0 in untracked rows; a joint is present
(mask 1) where ``w > 0`` and its four values are finite. Quirks handled, each
counted in ``SkeletonSequence.skipped`` under the key shown and logged:

- ``leading_no_body``: all-zero rows (no one tracked yet) before the first
  tracked row, ~20 per recording; every row of ``P1_1_12A_p19``: kept, mask 0.
  (``code/load_file.m`` drops these rows; here they stay, so action points
  keep the row numbers the MATLAB code finds them at.)
- ``all_zero_frame``: all-zero rows after the first tracked row (body lost): kept, mask 0.
- ``nan_joint``: joints with a non-finite value in an otherwise valid row:
  position set to 0, mask 0.
- ``zero_weight_joint``: joints with ``w <= 0`` in a row that is not all zero: mask 0.
- ``time_gap``: pauses in the timestamps (frames lost).
- ``action_point_untracked``: action points on a row where no one is tracked.
- ``action_point_outside_recording``: action points stamped before the first
  or after the last row (put on the nearest row, as the MATLAB code does).
- ``tag_gesture_mismatch``: tags naming another gesture than the file name.
- ``no_tagstream``: a recording without a tagstream, in a folder that has tagstreams.
- ``tagstream_name_case``: the tagstream's name differs from the recording's
  in letter case only (``p2_1_2A_p12.tagstream``); paired all the same.

A tagstream without its recording (``P1_2_5_p04``) is skipped with a warning
naming the missing file (`Msrc12Files.orphan_tagstreams` lists them).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.frame_clock import frame_clock
from models.datasets.text import TRUNCATED_HINT, read_float_table, read_lines
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import ActionPoint, SkeletonSequence

logger = logging.getLogger(__name__)

MSRC12_GESTURES = (
    "lift_outstretched_arms", "duck", "push_right", "goggles", "wind_it_up", "shoot",
    "bow", "throw", "had_enough", "change_weapon", "beat_both", "kick",
)  # fmt: skip
"""Gesture labels in class order: ``MSRC12_GESTURES[k - 1]`` is gesture ``Gk``, named after its tag."""
MSRC12_TAGS = (
    "G1  lift outstretched arms", "G2  Duck", "G3  Push right", "G4  Goggles", "G5  Wind it up", "G6  Shoot",
    "G7  Bow", "G8  Throw", "G9  Had enough", "G10 Change weapon", "G11 Beat both", "G12 Kick",
)  # fmt: skip
"""The tags as the tagstreams spell them (``code/load_file.m``), in gesture order."""
MSRC12_INSTRUCTIONS = ("video", "images", "text", "video+text", "images+text")
"""Instruction kinds, the PDF's conditions C1-C5 (``text`` is its "written description")."""
MSRC12_INSTRUCTION_GROUPS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P3_1"), ("P2_1", "P3_2")),
    2: (("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P2_1"), ("P1_1", "P2_2")),
    3: (("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P1_1"), ("P3_1", "P1_2")),
    4: (("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_2", "P3_2"), ("P2_2", "P3_1")),
    5: (("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_2", "P2_2"), ("P1_2", "P2_1")),
    6: (("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_2", "P1_2"), ("P3_2", "P1_1")),
    7: (("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P3_1"), ("P2_1", "P3_2")),
    8: (("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P2_1"), ("P1_1", "P2_2")),
    9: (("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P1_1"), ("P3_1", "P1_2")),
    10: (("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_2", "P3_2"), ("P2_2", "P3_1")),
    11: (("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_1", "P2_2"), ("P3_2", "P2_2"), ("P1_2", "P2_1")),
    12: (("P2_1", "P2_2"), ("P3_1", "P3_2"), ("P1_1", "P1_2"), ("P2_2", "P1_2"), ("P3_2", "P1_1")),
}
"""The PDF's instruction table: for gesture k, the two instruction groups given each of `MSRC12_INSTRUCTIONS`."""
MSRC12_TIMESTAMP_UNIT_S = 1e-6
"""Seconds per timestamp unit (microseconds)."""
TICKS_PER_MS = 49875
"""Tagstream QPC ticks per millisecond (``code/load_tagstream.m``)."""

_NUM_JOINTS = KINECT_V1_20.num_joints
_COLUMNS = 1 + 4 * _NUM_JOINTS
_NAME = re.compile(r"P(\d+)_(\d+)_(\d+)(A?)_p(\d+)", re.IGNORECASE)
_TAG_LABELS = {" ".join(tag.split()).lower(): label for tag, label in zip(MSRC12_TAGS, MSRC12_GESTURES)}
_COUNT_ERROR = "expected {columns} numbers (a timestamp, then 20 x 'x y z w'), got {found}"
_VALUE_ERROR = "column {column}: {field!r} is not a number"


@dataclass(frozen=True)
class Msrc12Name:
    """What a recording's name ``P{a}_{b}_{gesture}[A]_p{person}`` says."""

    group: str
    gesture: int
    combined: bool
    person: int

    @property
    def instruction(self) -> str | None:
        """The instruction kind (`MSRC12_INSTRUCTIONS`) per the PDF's table; None if the table has no such file."""
        conditions = zip(MSRC12_INSTRUCTIONS, MSRC12_INSTRUCTION_GROUPS.get(self.gesture, ()))
        matches = [kind for kind, groups in conditions if ("+text" in kind) == self.combined and self.group in groups]
        return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True)
class Msrc12Tag:
    """One tagstream row: the action point's time (µs, the recordings' clock), its gesture, its line."""

    time_us: int
    label: str
    line: int


@dataclass(frozen=True)
class Msrc12Files:
    """The recordings of an MSRC-12 folder, each with its tagstream (None if absent), and tagstreams left over."""

    recordings: list[tuple[Path, Path | None]]
    orphan_tagstreams: list[Path]


def parse_msrc12_name(name: str) -> Msrc12Name | None:
    """The fields of a recording or tagstream name (``P3_2_12A_p17.csv.xz``, any case); None if it does not match."""
    match = _NAME.fullmatch(_recording_name(name))
    if match is None:
        return None
    a, b, gesture, combined, person = match.groups()
    return Msrc12Name(f"P{int(a)}_{int(b)}", int(gesture), bool(combined), int(person))


def read_msrc12_tagstream(path: str | Path) -> list[Msrc12Tag]:
    """Read a ``.tagstream``: its action points in file order."""
    path = Path(path)
    lines = read_lines(path)
    if "".join(lines[0].split()).lower() != "xqpctick;tag":
        raise DataFormatError(path, f"expected the header 'XQPCTick;Tag', got {lines[0].strip()[:40]!r}", line=1)
    last = max(number for number, line in enumerate(lines, start=1) if line.strip())
    tags = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        hint = TRUNCATED_HINT if number == last else ""
        tick, separator, tag = line.partition(";")
        if not separator:
            raise DataFormatError(path, f"expected 'tick;tag', got {line.strip()[:40]!r}{hint}", line=number)
        if re.fullmatch(r"[0-9]{1,15}", tick.strip()) is None:  # ~230 days of ticks; keeps µs well inside int64
            raise DataFormatError(path, f"tick {tick.strip()[:40]!r} is not an integer of 1-15 digits", line=number)
        key = " ".join(tag.split()).lower()
        if key not in _TAG_LABELS:
            cut = hint if any(known.startswith(key) for known in _TAG_LABELS) else ""
            known = f"{MSRC12_TAGS[0]!r} .. {MSRC12_TAGS[-1]!r}"
            raise DataFormatError(path, f"unknown tag {tag.strip()[:40]!r} (known: {known}){cut}", line=number)
        tags.append(Msrc12Tag((int(tick) * 1000 + TICKS_PER_MS // 2) // TICKS_PER_MS, _TAG_LABELS[key], number))
    return tags


def nearest_rows(stamps: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the row whose stamp is nearest each time (``stamps`` increasing; the earlier row on a tie)."""
    right = np.clip(np.searchsorted(stamps, times), 1, len(stamps) - 1)
    left = right - 1
    return np.where(times - stamps[left] <= stamps[right] - times, left, right)


def read_msrc12(path: str | Path, tagstream: str | Path | None = None) -> SkeletonSequence:
    """Read one MSRC-12 recording (``.csv`` or ``.csv.xz``) as a one-body ``kinect_v1_20`` sequence, with the
    action points of ``tagstream`` if given."""
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
    clock = frame_clock(stamps, MSRC12_TIMESTAMP_UNIT_S)

    skipped: dict[str, int] = {}
    values = table[:, 1:].reshape(-1, 1, _NUM_JOINTS, 4)
    finite = np.isfinite(values).all(axis=3)
    zero_row = ~(values != 0).any(axis=(1, 2, 3))  # NaN != 0, so a row with NaN is never "all zero"
    present = finite & (values[..., 3] > 0)
    first_body = int(np.argmin(zero_row)) if not zero_row.all() else len(table)
    if first_body == len(table):
        logger.warning("%s: no one is tracked in any of its %d rows", path, len(table))
    _count(path, skipped, "leading_no_body", first_body, "all-zero rows before the first body, masked", logging.INFO)
    _count(path, skipped, "all_zero_frame", int(zero_row[first_body:].sum()), "all-zero rows after the first body "
           "(body lost), masked", logging.INFO)  # fmt: skip
    _count(path, skipped, "nan_joint", int((~finite).sum()), "joints with a non-finite value, masked")
    weightless = int((finite & ~present & ~zero_row[:, None, None]).sum())
    _count(path, skipped, "zero_weight_joint", weightless, "joints with w <= 0 in a tracked row, masked")
    for i in clock.gaps:
        seconds, frame = steps[i] * MSRC12_TIMESTAMP_UNIT_S, 1.0 / clock.fps
        logger.warning("%s:%d: %.3f s since the previous row (frame period %.4f s): frames lost",
                       path, lines[i + 1], seconds, frame)  # fmt: skip
    if len(clock.gaps):
        skipped["time_gap"] = len(clock.gaps)

    name = _recording_name(path.name)
    parsed = parse_msrc12_name(name)
    points = _action_points(Path(tagstream), stamps, zero_row, parsed, skipped) if tagstream is not None else []
    return SkeletonSequence(
        joints=np.where(finite[..., None], values[..., :3], 0.0).astype(np.float32),
        mask=present.astype(np.float32),
        layout=KINECT_V1_20.name,
        fps=clock.fps,
        frame_ids=clock.frame_ids,
        name=name,
        subject=parsed.person if parsed else None,
        skipped=skipped,
        action_points=points,
        attributes=_attributes(parsed),
    )


def msrc12_files(root: str | Path) -> Msrc12Files:
    """Pair the recordings (``*.csv``, ``*.csv.xz``) of ``root`` (or of ``root/data``) with their tagstreams.

    Names are matched ignoring letter case; two recordings (or two tagstreams) of one name are an error.
    """
    root = Path(root)
    folder = root / "data" if (root / "data").is_dir() else root
    recordings = _by_name(folder, ["*.csv", "*.csv.xz"])
    if not recordings:
        raise DataFormatError(folder, "no MSRC-12 recordings (*.csv or *.csv.xz) in this folder")
    tagstreams = _by_name(folder, ["*.tagstream"])
    pairs = [(recordings[key], tagstreams.get(key)) for key in sorted(recordings, key=lambda k: recordings[k].name)]
    orphans = sorted((path for key, path in tagstreams.items() if key not in recordings), key=lambda p: p.name)
    return Msrc12Files(pairs, orphans)


def read_msrc12_folder(root: str | Path, subjects: set[int] | None = None) -> list[SkeletonSequence]:
    """Read every recording of an MSRC-12 folder (see `msrc12_files`) with its action points, sorted by file name;
    only those of persons ``subjects`` if given (names without a person then do not match)."""
    files = msrc12_files(root)

    def wanted(path: Path) -> bool:
        parsed = parse_msrc12_name(path.name)
        return subjects is None or (parsed is not None and parsed.person in subjects)

    for orphan in filter(wanted, files.orphan_tagstreams):
        logger.warning("%s: recording %s.csv is missing: these action points are skipped", orphan,
                       _recording_name(orphan.name))  # fmt: skip
    with_tags = any(tagstream is not None for _, tagstream in files.recordings)
    sequences = []
    for recording, tagstream in files.recordings:
        if not wanted(recording):
            continue
        sequence = read_msrc12(recording, tagstream)
        if tagstream is None and with_tags:
            logger.warning("%s: no tagstream beside it, so no action points", recording)
            sequence.skipped["no_tagstream"] = 1
        elif tagstream is not None and _recording_name(tagstream.name) != sequence.name:
            logger.info("%s: paired with %s (names differ in letter case)", recording, tagstream.name)
            sequence.skipped["tagstream_name_case"] = 1
        sequences.append(sequence)
    return sequences


def _action_points(
    path: Path, stamps: np.ndarray, zero_row: np.ndarray, parsed: Msrc12Name | None, skipped: dict[str, int]
) -> list[ActionPoint]:
    tags = read_msrc12_tagstream(path)
    if not tags:
        return []
    times = np.array([tag.time_us for tag in tags], dtype=np.float64)
    frames = nearest_rows(stamps, times)
    outside = int(((times < stamps[0]) | (times > stamps[-1])).sum())
    _count(path, skipped, "action_point_outside_recording", outside, "action points outside the recording's time "
           "span, put on its nearest row")  # fmt: skip
    _count(path, skipped, "action_point_untracked", int(zero_row[frames].sum()), "action points on rows where no one "
           "is tracked")  # fmt: skip
    if parsed is not None and 1 <= parsed.gesture <= len(MSRC12_GESTURES):
        expected = MSRC12_GESTURES[parsed.gesture - 1]
        _count(path, skipped, "tag_gesture_mismatch", sum(tag.label != expected for tag in tags),
               f"tags naming another gesture than the file name's {expected!r}")  # fmt: skip
    return [ActionPoint(tag.label, int(frame)) for tag, frame in zip(tags, frames)]


def _attributes(parsed: Msrc12Name | None) -> dict[str, str]:
    if parsed is None:
        return {}
    attributes = {"instruction_group": parsed.group}
    if 1 <= parsed.gesture <= len(MSRC12_GESTURES):
        attributes["gesture"] = MSRC12_GESTURES[parsed.gesture - 1]
    if parsed.instruction is not None:
        attributes["instruction"] = parsed.instruction
    return attributes


def _recording_name(name: str) -> str:
    """``P1_1_1_p06.csv.xz`` -> ``P1_1_1_p06`` (also ``.csv``, ``.tagstream``)."""
    for suffix in (".xz", ".csv", ".tagstream"):
        name = name.removesuffix(suffix)
    return name


def _by_name(folder: Path, patterns: list[str]) -> dict[str, Path]:
    """Files matching ``patterns`` keyed by their lower-case recording name; a name twice is an error."""
    found: dict[str, Path] = {}
    for path in sorted(p for pattern in patterns for p in folder.glob(pattern) if p.is_file()):
        key = _recording_name(path.name).lower()
        if key in found:
            raise DataFormatError(folder, f"{found[key].name} and {path.name} are the same recording: keep one")
        found[key] = path
    return found


def _count(path: Path, skipped: dict[str, int], kind: str, n: int, what: str, level: int = logging.WARNING) -> None:
    if n:
        skipped[kind] = n
        logger.log(level, "%s: %d %s", path, n, what)
