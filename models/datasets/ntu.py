"""Reader for NTU RGB+D / NTU RGB+D 120 raw ``.skeleton`` files (Kinect v2, 25 joints, 30 fps).

Format (plain text, one value group per line, LF or CRLF line ends)::

    T                                   frame count
    B                                   frame 1: body count (0 allowed)
    bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
        handRightState isResticted leanX leanY trackingState    10 body fields
    25                                  joint count
    x y z depthX depthY colorX colorY orientW orientX orientY orientZ trackingState
    ...                                 25 joint lines, then the next body / frame

x y z are metres in the camera frame, depthX/depthY pixels in the 512x424 depth
image, colorX/colorY pixels in the 1920x1080 colour image. A joint's
trackingState is 2 (tracked), 1 (inferred) or 0 (not tracked); the reader maps
it to the mask as 1.0 / 0.5 / 0.0.

File names encode the take: ``SsssCcccPpppRrrrAaaa`` = setup, camera,
performer, replication, action (A001-A120); see `parse_ntu_name`.

Body selection: bodies are identified by ``bodyID`` across frames. Each body's
motion energy is the sum over joints and axes of the variance of its position
over the frames it appears in (valid joints only); the ``max_bodies`` bodies
with the highest energy are kept, most active in slot 0 (ties: earlier first
appearance first). This is the per-joint temporal form of the motion criterion
used by the common NTU preprocessing (CTR-GCN's ``get_raw_skes_data.py`` ranks
by ``sum(var(joints))``); per joint it measures movement, not body size. A
body keeps its slot for the whole clip; frames where it is absent have mask 0,
and frames without any body are kept as absent frames.

Recoverable quirks are counted in ``SkeletonSequence.skipped`` and logged:
``dropped_bodies`` / ``dropped_body_frames`` (bodies beyond ``max_bodies``),
``duplicate_body_ids`` (a bodyID listed twice in one frame: the first is kept),
``nonfinite_joints`` (NaN/inf in a joint's position or projections: mask 0,
values 0), ``frames_without_body``. Anything else malformed raises
`DataFormatError` naming the file and line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import is_float, parse_float_rows, read_lines
from models.skeleton.layouts import get_layout
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

LAYOUT = "kinect_v2_25"
FPS = 30.0
BODY_FIELDS = 10
JOINT_FIELDS = 12
_MASK_BY_STATE = np.array([0.0, 0.5, 1.0], dtype=np.float32)
_NAME_PATTERN = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")


@dataclass(frozen=True)
class NtuName:
    """The take an NTU file name encodes, e.g. ``S001C001P001R001A001``."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def label(self) -> str:
        """Action label as the dataset writes it, ``"A001"``..``"A120"``."""
        return f"A{self.action:03d}"


def parse_ntu_name(name: str) -> NtuName | None:
    """Parse an NTU file name or stem (``S001C001P001R001A001[.skeleton]``); None if it is not one."""
    match = _NAME_PATTERN.fullmatch(Path(name).name.split(".")[0])
    if match is None:
        return None
    return NtuName(*(int(group) for group in match.groups()))


class _Cursor:
    """Walks the lines of one file, parsing the count lines and naming the line on errors."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.index = 0

    def fail(self, message: str, offset: int = 0) -> DataFormatError:
        return DataFormatError(self.path, message, line=self.index + offset + 1)

    def next_line(self, what: str) -> str:
        if self.index >= len(self.lines):
            raise self.fail(f"file ends early: expected {what}")
        line = self.lines[self.index]
        self.index += 1
        return line

    def next_count(self, what: str) -> int:
        text = self.next_line(what).strip()
        try:
            value = int(text)
        except ValueError:
            raise self.fail(f"expected {what} (an integer), got {text!r}", offset=-1) from None
        if value < 0:
            raise self.fail(f"{what} is negative: {value}", offset=-1)
        return value

    def skip_lines(self, count: int, what: str) -> int:
        """Skip ``count`` lines (parsed later in bulk); return the index of the first."""
        first = self.index
        if first + count > len(self.lines):
            self.index = len(self.lines)
            raise self.fail(f"file ends early: expected {count} lines of {what}, found {len(self.lines) - first}")
        self.index += count
        return first


def read_ntu_skeleton(path: str | Path, max_bodies: int = 2) -> SkeletonSequence:
    """Read one NTU RGB+D ``.skeleton`` file, keeping the ``max_bodies`` most active bodies.

    Returns joints (T, max_bodies, 25, 3) in metres, the trackingState mask,
    ``projections["color"]`` / ``["depth"]`` (T, max_bodies, 25, 2) pixels, label
    ``"Axxx"`` and subject (performer) from the file name, frame ids 0..T-1.
    """
    if max_bodies < 1:
        raise ValueError(f"max_bodies must be at least 1, got {max_bodies}")
    path = Path(path)
    num_joints = get_layout(LAYOUT).num_joints
    cursor = _Cursor(path, read_lines(path))
    lines = cursor.lines

    num_frames = cursor.next_count("frame count")
    body_frames: list[int] = []
    body_index: list[int] = []  # compact body number, in order of first appearance
    numbering: dict[int, int] = {}
    joint_starts: list[int] = []
    for frame in range(num_frames):
        where = f"frame {frame + 1} of {num_frames} (frame count on line 1)"
        for _ in range(cursor.next_count(f"body count of {where}")):
            fields = cursor.next_line(f"body line of {where}").split()
            if len(fields) != BODY_FIELDS:
                raise cursor.fail(f"expected {BODY_FIELDS} body fields, found {len(fields)}", offset=-1)
            if not (fields[0].isdecimal() and len(fields[0]) <= 30) or not all(is_float(f) for f in fields[1:]):
                raise cursor.fail(f"malformed body fields (bodyID must be an integer): {fields}", offset=-1)
            body_index.append(numbering.setdefault(int(fields[0]), len(numbering)))
            count = cursor.next_count(f"joint count of {where}")
            if count != num_joints:
                raise cursor.fail(f"expected {num_joints} joints ({LAYOUT}), found {count}", offset=-1)
            joint_starts.append(cursor.skip_lines(num_joints, f"joints of {where}"))
            body_frames.append(frame)
    trailing = next((i for i in range(cursor.index, len(lines)) if lines[i].strip()), None)
    if trailing is not None:
        raise DataFormatError(
            path, f"frame count mismatch: line 1 declares {num_frames} frames but data continues", line=trailing + 1
        )

    num_records = len(joint_starts)
    offsets = np.arange(num_joints)
    line_index = (np.asarray(joint_starts, dtype=np.int64)[:, None] + offsets).reshape(-1)
    values = parse_float_rows([lines[i] for i in line_index], line_index + 1, JOINT_FIELDS, path)
    values = values.reshape(num_records, num_joints, JOINT_FIELDS)

    states = values[..., 11]
    bad_state = ~np.isin(states, (0.0, 1.0, 2.0))
    if bad_state.any():
        record, joint = np.argwhere(bad_state)[0]
        index = int(joint_starts[record] + joint)
        state = lines[index].split()[-1]
        raise DataFormatError(path, f"joint trackingState must be 0, 1 or 2, got {state!r}", line=index + 1)
    mask = _MASK_BY_STATE[states.astype(np.int64)]
    finite = np.isfinite(values[..., :7]).all(axis=-1)
    values[~finite] = 0.0
    mask[~finite] = 0.0

    skipped: dict[str, int] = {}
    frames = np.asarray(body_frames, dtype=np.int64)
    ids = np.asarray(body_index, dtype=np.int64)
    keep = _first_per_frame(frames, ids)
    slot = _select_bodies(ids, keep, values[..., :3], finite, max_bodies)
    placed = slot >= 0

    _count(skipped, "nonfinite_joints", int((~finite).sum()))
    _count(skipped, "duplicate_body_ids", int((~keep).sum()))
    _count(skipped, "dropped_bodies", len(np.unique(ids[keep & ~placed])))
    _count(skipped, "dropped_body_frames", int((keep & ~placed).sum()))
    _count(skipped, "frames_without_body", num_frames - len(np.unique(frames)))
    if skipped:
        logger.warning("%s: handled quirks %s", path, skipped)

    shape = (num_frames, max_bodies, num_joints)
    joints = np.zeros(shape + (3,), dtype=np.float32)
    depth = np.zeros(shape + (2,), dtype=np.float32)
    color = np.zeros(shape + (2,), dtype=np.float32)
    out_mask = np.zeros(shape, dtype=np.float32)
    at = (frames[placed], slot[placed])
    joints[at] = values[placed, :, 0:3]
    depth[at] = values[placed, :, 3:5]
    color[at] = values[placed, :, 5:7]
    out_mask[at] = mask[placed]

    take = parse_ntu_name(path.name)
    if take is None:
        logger.warning("%s: file name is not SsssCcccPpppRrrrAaaa; no label or subject", path)
    return SkeletonSequence(
        joints=joints,
        mask=out_mask,
        layout=LAYOUT,
        fps=FPS,
        frame_ids=np.arange(num_frames, dtype=np.int64),
        name=path.name.split(".")[0],
        label=take.label if take else None,
        subject=take.performer if take else None,
        projections={"color": color, "depth": depth},
        skipped=skipped,
    )


def _first_per_frame(frames: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(R,) bool: True for the first record of each (frame, bodyID) pair."""
    keep = np.zeros(len(frames), dtype=bool)
    if len(frames):
        _, first = np.unique(np.stack([frames, ids], axis=1), axis=0, return_index=True)
        keep[first] = True
    return keep


def _select_bodies(
    ids: np.ndarray, keep: np.ndarray, positions: np.ndarray, valid: np.ndarray, max_bodies: int
) -> np.ndarray:
    """(R,) slot of each body record, -1 where dropped; ranked by motion energy (see the module docstring).

    ``ids`` number the bodies 0..K-1 in order of first appearance, which breaks ties.
    """
    energies = np.zeros(int(ids.max(initial=-1)) + 1)
    for body in range(len(energies)):
        rows = keep & (ids == body)
        weight = valid[rows][..., None].astype(np.float64)  # (n, V, 1): valid joints only
        count = np.maximum(weight.sum(axis=0), 1.0)
        mean = (positions[rows] * weight).sum(axis=0) / count
        energies[body] = ((((positions[rows] - mean) ** 2) * weight).sum(axis=0) / count).sum()
    ranking = np.argsort(-energies, kind="stable")
    slot_of = np.full(len(energies), -1, dtype=np.int64)
    slot_of[ranking[:max_bodies]] = np.arange(min(max_bodies, len(energies)))
    return np.where(keep, slot_of[ids], -1)


def _count(skipped: dict[str, int], kind: str, count: int) -> None:
    if count:
        skipped[kind] = count
