"""Kinder-Gator reader: 58 motions by 10 adults and 10 children, one trimmed Kinect v1 clip per trial.

Dataset (hayeesha/Kinder-Gator; ``README.txt`` beside the data): every
participant performed each motion once, free-form, in one of six
counterbalanced orders. ``Adults/`` and ``Children/`` hold one
``POSE-p{participant}_{order}-{Motion-name}-{unix ms}.csv`` per trial (here
``.csv.xz``, xz-compressed); ``order`` (01-58) is the position of the motion in
that participant's session, not a motion id, and the motion is named only in
the file name (and in the ``Action`` column).

Format: comma separated, with a header row naming each column: ``Timestamp``,
then ``{Joint}X,{Joint}Y,{Joint}Z`` for the Kinect SDK v1 joints (``HipCenterX``
.. ``FootRightZ``), then ``User-ID`` and ``Action`` (the participant and the
motion again), and a trailing comma. Joints are mapped to ``kinect_v1_20`` by
header name, not by position; a joint the header lacks is missing (mask 0).
Every file here has all 20 joints, in the SDK order. Positions are metres in
the Kinect camera frame (x to the sensor's left, i.e. the person's right, y
up, z away from the sensor); there is no confidence column.

Timestamps are milliseconds on the recording machine's clock, stamped on
arrival: steps of 16, 31, 47, 62 or 78 ms, and 88 rows share the previous
row's stamp (a later frame delivered in the same burst, never a copy). ``fps``
is rows per second (`models.datasets.frame_clock`): 29.9-30.3, the Kinect's
30 Hz. (The shared data README's "≈ 31 fps" is 1000 / the median 32 ms step.)

Each clip is trimmed by the recording session, not to the motion: the idle
time before and after the motion is part of the clip, as recorded.

Labels: ``label`` is the motion as a `KINDER_GATOR_MOTIONS` name (the file
name's words, lower case, ``_``-joined; the file names' typo
``Climb-and-imaginary-ladder`` reads ``climb_an_imaginary_ladder``).
"Other hand/leg/arm" variants keep their own names. `merge_mirror_variants`
maps each to its first variant (`KINDER_GATOR_MIRROR_VARIANTS`), which is the
better choice for training in most cases: which side "your hand" is was the
participant's choice (the right hand for 17 of 20 in raise/wave your hand, the
right leg for 18 of 20 in kick a ball), so "other" means "the side you did not
use before", which no single clip shows; and a training run that flips
left/right turns each variant into the other. The two swipes differ in
direction as well as hand, which a clip does show: merge them only when
training with flips.

``subject`` is the participant id; ``attributes`` hold ``group`` (``adult`` /
``child``, from the folder or else `KINDER_GATOR_PARTICIPANTS`), ``order``, the
motion's ``category`` (warm-up, exercise, mime, communication) and the
participant's ``sex``, ``age`` and ``handedness`` (L, R, B = both) from the README.
One adult trial is missing (``p565`` jump as high as you can, a software error
per the README): 1 159 trials.

Quirks handled, each counted in ``SkeletonSequence.skipped`` under the key shown and logged:

- ``repeated_timestamp``: rows stamped as the previous row: kept.
- ``all_zero_frame``: rows whose joints are all (0, 0, 0): kept, mask 0.
- ``zero_joint``: a (0, 0, 0) joint in another row: mask 0.
- ``nan_joint``: joints with a non-finite value: position set to 0, mask 0.
- ``missing_joint``: joints the header does not name: mask 0 in every row.
- ``user_id_mismatch``, ``action_mismatch``: rows whose ``User-ID`` or ``Action``
  differs from the file name (which wins).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.frame_clock import frame_clock
from models.datasets.text import TRUNCATED_HINT, beyond_float32_as_inf, data_lines, is_float, read_lines
from models.skeleton.layouts import KINECT_V1_20
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

KINDER_GATOR_CATEGORIES: dict[str, tuple[str, ...]] = {
    "warm-up": (
        "raise_your_hand", "raise_your_other_hand", "wave_your_hand", "wave_your_other_hand", "bow",
        "raise_your_arm_to_one_side", "raise_your_arm_to_the_other_side",
        "bend_your_knee_while_raising_your_leg", "bend_your_other_knee_while_raising_your_leg",
    ),
    "exercise": (
        "put_your_hands_on_your_hips_and_lean_to_the_side", "put_your_hands_on_your_hips_and_lean_to_the_other_side",
        "put_your_hands_on_your_hips_and_twist", "touch_your_toes", "do_a_forward_lunge",
        "lift_your_leg_to_one_side", "lift_your_leg_to_the_other_side", "walk_in_place",
        "walk_in_place_as_fast_as_you_can", "run_in_place", "run_in_place_as_fast_as_you_can", "jump",
        "jump_as_high_as_you_can", "do_two_jumping_jacks",
    ),
    "mime": (
        "push_an_imaginary_button_in_front_of_you",
        "swipe_across_an_imaginary_screen_in_front_of_you_from_left_to_right",
        "swipe_across_an_imaginary_screen_in_front_of_you_from_right_to_left",
        "fly_like_a_bird", "fly_like_an_airplane", "swim", "kick_a_ball", "kick_a_ball_as_far_as_you_can",
        "kick_a_ball_with_the_other_leg", "kick_a_ball_as_far_as_you_can_with_the_other_leg", "throw_a_ball",
        "throw_a_ball_as_far_as_you_can", "throw_a_ball_with_your_other_arm",
        "throw_a_ball_as_far_as_you_can_with_the_other_arm", "punch", "climb_an_imaginary_ladder",
    ),
    "communication": (
        "point_at_the_camera", "signal_someone_to_stop", "signal_someone_to_come_here",
        "draw_a_circle", "draw_a_square", "draw_a_triangle",
        "draw_the_letter_a", "draw_the_letter_c", "draw_the_letter_k", "draw_the_letter_m", "draw_the_letter_x",
        "make_the_letter_y", "make_the_letter_m", "make_the_letter_c", "make_the_letter_a", "make_the_letter_k",
        "make_the_letter_p", "make_the_letter_t", "make_the_letter_x",
    ),
}  # fmt: skip
"""The README's four motion categories and their motions, in the README's order (as the files name them)."""
KINDER_GATOR_MOTIONS = tuple(motion for motions in KINDER_GATOR_CATEGORIES.values() for motion in motions)
"""The 58 motion labels in class order."""
KINDER_GATOR_MIRROR_VARIANTS: dict[str, str] = {
    "raise_your_other_hand": "raise_your_hand",
    "wave_your_other_hand": "wave_your_hand",
    "raise_your_arm_to_the_other_side": "raise_your_arm_to_one_side",
    "bend_your_other_knee_while_raising_your_leg": "bend_your_knee_while_raising_your_leg",
    "put_your_hands_on_your_hips_and_lean_to_the_other_side": "put_your_hands_on_your_hips_and_lean_to_the_side",
    "lift_your_leg_to_the_other_side": "lift_your_leg_to_one_side",
    "kick_a_ball_with_the_other_leg": "kick_a_ball",
    "kick_a_ball_as_far_as_you_can_with_the_other_leg": "kick_a_ball_as_far_as_you_can",
    "throw_a_ball_with_your_other_arm": "throw_a_ball",
    "throw_a_ball_as_far_as_you_can_with_the_other_arm": "throw_a_ball_as_far_as_you_can",
    "swipe_across_an_imaginary_screen_in_front_of_you_from_right_to_left":
        "swipe_across_an_imaginary_screen_in_front_of_you_from_left_to_right",
}  # fmt: skip
"""Each mirror variant ("other" side, or the opposite swipe) -> the motion it mirrors (see the module docstring)."""
KINDER_GATOR_MERGED_MOTIONS = tuple(m for m in KINDER_GATOR_MOTIONS if m not in KINDER_GATOR_MIRROR_VARIANTS)
"""The 47 labels left after `merge_mirror_variants`, in class order."""


@dataclass(frozen=True)
class Participant:
    """A participant as the README's demographics table gives them."""

    group: str
    sex: str
    age: int
    handedness: str


KINDER_GATOR_PARTICIPANTS: dict[int, Participant] = {
    **{pid: Participant("child", sex, age, hand) for pid, sex, age, hand in [
        (337, "F", 5, "B"), (595, "M", 5, "B"), (106, "M", 6, "R"), (290, "M", 6, "R"), (342, "F", 6, "R"),
        (474, "F", 6, "R"), (169, "M", 8, "R"), (103, "F", 8, "R"), (723, "M", 8, "R"), (644, "F", 9, "R")]},
    **{pid: Participant("adult", sex, age, hand) for pid, sex, age, hand in [
        (565, "F", 19, "R"), (577, "F", 19, "R"), (604, "F", 20, "R"), (976, "M", 20, "R"), (734, "M", 22, "R"),
        (876, "F", 23, "R"), (921, "M", 26, "L"), (888, "F", 25, "R"), (934, "M", 32, "R"), (970, "M", 28, "R")]},
}  # fmt: skip
"""The README's demographics, by participant id."""
KINDER_GATOR_TIMESTAMP_UNIT_S = 1e-3
"""Seconds per timestamp unit (milliseconds)."""

_FILE_NAME = re.compile(r"POSE-p(\d+)_(\d+)-(.+)-(\d+)")
_GROUP_FOLDERS = {"adults": "adult", "children": "child"}
_NAME_FIXES = {"climb_and_imaginary_ladder": "climb_an_imaginary_ladder"}
_CATEGORY = {motion: category for category, motions in KINDER_GATOR_CATEGORIES.items() for motion in motions}
_JOINT_BY_KEY = {name.replace("_", ""): name for name in KINECT_V1_20.joint_names}  # "hipcenter" -> "hip_center"
_JOINT_COLUMN = re.compile(r"([A-Za-z]+)([XYZ])")


@dataclass(frozen=True)
class KinderGatorName:
    """What a trial's file name says."""

    participant: int
    order: int
    motion: str


def parse_kinder_gator_name(name: str) -> KinderGatorName | None:
    """Participant, order and motion label of ``POSE-p565_01-Raise-your-hand-1469182402284.csv[.xz]``; None if the
    name does not match or names no known motion."""
    match = _FILE_NAME.fullmatch(name.removesuffix(".xz").removesuffix(".csv"))
    if match is None:
        return None
    motion = motion_label(match.group(3))
    if motion not in _CATEGORY:
        return None
    return KinderGatorName(int(match.group(1)), int(match.group(2)), motion)


def motion_label(text: str) -> str:
    """The label of a motion as file names and the ``Action`` column spell it: ``Throw-a-ball-`` -> ``throw_a_ball``."""
    label = "_".join(word for word in re.split(r"[-_\s]+", text.lower()) if word)
    return _NAME_FIXES.get(label, label)


def merge_mirror_variants(label: str) -> str:
    """``label``, or the motion it mirrors if it is a mirror variant (`KINDER_GATOR_MIRROR_VARIANTS`)."""
    return KINDER_GATOR_MIRROR_VARIANTS.get(label, label)


def read_kinder_gator(path: str | Path) -> SkeletonSequence:
    """Read one trial (``.csv`` or ``.csv.xz``) as a one-body ``kinect_v1_20`` clip labelled with its motion."""
    path = Path(path)
    parsed = parse_kinder_gator_name(path.name)
    if parsed is None:
        raise DataFormatError(path, "file name must be POSE-p{participant}_{order}-{Motion-name}-{timestamp}.csv "
                                    "with a Kinder-Gator motion (it names participant and motion)")  # fmt: skip
    lines = read_lines(path)
    columns = _columns(path, lines[0])
    rows, numbers = data_lines(lines[1:], first=2)
    if len(rows) < 2:
        raise DataFormatError(path, "need at least two frames after the header (the frame rate comes from them)")
    _check_field_counts(path, rows, numbers, len(columns.names), last=len(lines))
    table = _numbers(path, rows, numbers, columns)

    stamps = table[:, 0]
    if not np.isfinite(stamps).all():
        raise DataFormatError(path, "timestamp is not a finite number", line=int(numbers[~np.isfinite(stamps)][0]))
    steps = np.diff(stamps)
    if (steps < 0).any():
        bad = int(np.flatnonzero(steps < 0)[0]) + 1
        message = f"timestamp goes back ({stamps[bad - 1]:.4f} -> {stamps[bad]:.4f})"
        raise DataFormatError(path, message, line=int(numbers[bad]))
    try:
        clock = frame_clock(stamps, KINDER_GATOR_TIMESTAMP_UNIT_S)
    except ValueError as error:
        raise DataFormatError(path, str(error)) from None

    skipped: dict[str, int] = {}
    _count(path, skipped, "repeated_timestamp", int((steps == 0).sum()), "rows stamped as the previous row, kept",
           logging.INFO)  # fmt: skip
    values = np.zeros((len(rows), KINECT_V1_20.num_joints, 3))
    values[:, columns.joints] = table[:, columns.joint_columns]
    finite = np.isfinite(values).all(axis=2)
    zero = ~(values != 0).any(axis=2)  # NaN != 0, so a joint with NaN is never "zero"
    named = np.zeros(KINECT_V1_20.num_joints, dtype=bool)
    named[columns.joints] = True
    zero_row = (zero | ~named).all(axis=1)
    _count(path, skipped, "missing_joint", int((~named).sum()), "joints not in the header, masked in every row")
    _count(path, skipped, "all_zero_frame", int(zero_row.sum()), "all-zero rows (no one tracked), masked")
    _count(path, skipped, "zero_joint", int((zero & named & ~zero_row[:, None]).sum()), "(0, 0, 0) joints, masked")
    _count(path, skipped, "nan_joint", int((~finite).sum()), "joints with a non-finite value, masked")
    if columns.user_id is not None:
        _count(path, skipped, "user_id_mismatch", int((table[:, columns.user_id] != parsed.participant).sum()),
               f"rows whose User-ID is not the file name's {parsed.participant}")  # fmt: skip
    if columns.action is not None:
        actions = Counter(row.split(",")[columns.action] for row in rows)
        wrong = sum(n for action, n in actions.items() if motion_label(action) != parsed.motion)
        _count(path, skipped, "action_mismatch", wrong, f"rows whose Action is not the file name's {parsed.motion!r}")

    return SkeletonSequence(
        joints=np.where(finite[..., None], values, 0.0).astype(np.float32)[:, None],
        mask=(finite & ~zero & named).astype(np.float32)[:, None],
        layout=KINECT_V1_20.name,
        fps=clock.fps,
        frame_ids=clock.frame_ids,
        name=path.name.removesuffix(".xz").removesuffix(".csv"),
        label=parsed.motion,
        subject=parsed.participant,
        skipped=skipped,
        attributes=_attributes(path, parsed),
    )


def read_kinder_gator_folder(root: str | Path, subjects: set[int] | None = None) -> list[SkeletonSequence]:
    """Read every trial under ``root`` (``Adults/`` and ``Children/``, or a folder of trials), sorted by path;
    only those of participants ``subjects`` if given."""
    root = Path(root)
    folders = [root / name for name in ("Adults", "Children") if (root / name).is_dir()] or [root]
    paths = sorted(p for folder in folders for pattern in ("POSE-*.csv", "POSE-*.csv.xz") for p in folder.glob(pattern))
    if not paths:
        raise DataFormatError(root, "no Kinder-Gator trials (POSE-*.csv or POSE-*.csv.xz) in Adults/, Children/ "
                                    "or this folder")  # fmt: skip
    sequences = []
    for path in paths:
        parsed = parse_kinder_gator_name(path.name)
        if subjects is None or (parsed is not None and parsed.participant in subjects):
            sequences.append(read_kinder_gator(path))
    return sequences


@dataclass(frozen=True)
class _Columns:
    """Where things are in a row: ``numeric`` are the row fields parsed into the table, in table order
    (timestamp, then x, y, z of each joint in ``joints``, then User-ID if present)."""

    names: list[str]  # every header field, the trailing empty one included
    joints: np.ndarray  # kinect_v1_20 index of each joint the header names
    numeric: list[int]
    user_id: int | None  # table column
    action: int | None  # row field (text, not in the table)

    @property
    def joint_columns(self) -> np.ndarray:
        """(len(joints), 3) table columns of each joint's x, y, z."""
        return np.arange(1, 1 + 3 * len(self.joints)).reshape(-1, 3)


def _columns(path: Path, header: str) -> _Columns:
    names = [name.strip() for name in header.split(",")]
    special: dict[str, int] = {}
    axes: dict[tuple[str, str], int] = {}
    for field, name in enumerate(names):
        key = name.lower()
        match = _JOINT_COLUMN.fullmatch(name)
        joint = _JOINT_BY_KEY.get(match.group(1).lower()) if match else None
        if key in ("timestamp", "user-id", "action") and key not in special:
            special[key] = field
        elif joint is not None and (joint, match.group(2)) not in axes:
            axes[joint, match.group(2)] = field
        elif not (name == "" and field == len(names) - 1):  # a trailing comma is fine
            what = "appears twice" if key in special or joint is not None else \
                "is not Timestamp, a Kinect v1 joint's X/Y/Z, User-ID or Action"  # fmt: skip
            raise DataFormatError(path, f"header column {field + 1} {name!r} {what}", line=1)
    if "timestamp" not in special:
        raise DataFormatError(path, "the header has no Timestamp column", line=1)
    joints = [j for j in KINECT_V1_20.joint_names if any((j, axis) in axes for axis in "XYZ")]
    for joint in joints:
        if not all((joint, axis) in axes for axis in "XYZ"):
            raise DataFormatError(path, f"the header names only some of joint {joint}'s X, Y, Z columns", line=1)
    numeric = [special["timestamp"], *(axes[joint, axis] for joint in joints for axis in "XYZ")]
    user_id = None
    if "user-id" in special:
        user_id = len(numeric)
        numeric.append(special["user-id"])
    return _Columns(
        names=names,
        joints=np.array([KINECT_V1_20.index(joint) for joint in joints], dtype=np.int64),
        numeric=numeric,
        user_id=user_id,
        action=special.get("action"),
    )


def _check_field_counts(path: Path, rows: list[str], numbers: np.ndarray, expected: int, last: int) -> None:
    counts = np.fromiter((row.count(",") + 1 for row in rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(counts != expected)
    if len(bad):
        k = int(bad[0])
        hint = TRUNCATED_HINT if numbers[k] == last and counts[k] < expected else ""
        message = f"expected {expected} comma-separated fields as in the header, got {counts[k]}{hint}"
        raise DataFormatError(path, message, line=int(numbers[k]))


def _numbers(path: Path, rows: list[str], numbers: np.ndarray, columns: _Columns) -> np.ndarray:
    """The numeric columns of every row as float64 (see `_Columns`); errors name line and column."""
    try:
        table = np.loadtxt(rows, delimiter=",", usecols=columns.numeric, dtype=np.float64, comments=None, ndmin=2)
    except ValueError:  # the slow way, naming the first bad field
        table = np.empty((len(rows), len(columns.numeric)))
        for k, (row, number) in enumerate(zip(rows, numbers)):
            fields = row.split(",")
            for c, field in enumerate(columns.numeric):
                if not is_float(fields[field]):
                    message = f"column {field + 1} ({columns.names[field]}): {fields[field].strip()!r} is not a number"
                    raise DataFormatError(path, message, line=int(number)) from None
                table[k, c] = float(fields[field])
    return beyond_float32_as_inf(table)


def _attributes(path: Path, parsed: KinderGatorName) -> dict[str, str]:
    person = KINDER_GATOR_PARTICIPANTS.get(parsed.participant)
    attributes = {"order": str(parsed.order), "category": _CATEGORY[parsed.motion]}
    group = _GROUP_FOLDERS.get(path.parent.name.lower()) or (person.group if person else None)
    if group is not None:
        attributes["group"] = group
    if person is not None:
        attributes.update(sex=person.sex, age=str(person.age), handedness=person.handedness)
    return attributes


def _count(path: Path, skipped: dict[str, int], kind: str, n: int, what: str, level: int = logging.WARNING) -> None:
    if n:
        skipped[kind] = n
        logger.log(level, "%s: %d %s", path, n, what)
