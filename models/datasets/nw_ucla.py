"""Northwestern-UCLA Multiview Action3D (NW-UCLA) reader: trimmed clips, 10 actions, 20 Kinect v1 joints, 3 views.

Format: one JSON file per clip, ``a{action}_s{subject}_e{take}_v{view}.json``
(two-digit numbers), an object with ``skeletons`` (T × 20 × 3: frame × joint ×
(x, y, z)), ``label`` (the class number 1-10 of the action, as in
`NW_UCLA_ACTIONS`) and ``file_name`` (the name without ``.json``). The joints are
in the Kinect SDK v1 order (layout ``kinect_v1_20``), established from the data
in ``tests/models/test_dataset_nw_ucla.py``; positions are metres in each
Kinect's camera frame (x to the sensor's left, y up, z away from the sensor).
The view goes to ``attributes["view"]``, the take to ``attributes["take"]``.

Wang, Nie, Xia, Wu and Zhu, "Cross-view action modeling, learning and
recognition", CVPR 2014: 10 actions (ids 1-6, 8, 9, 11, 12), 10 subjects,
three Kinects. The usual cross-view protocol trains on views 1 and 2 and tests
on view 3 (not in the shared data; validate across views 1 and 2 here).

Frame rate: the files carry no time stamps and the publication gives no rate.
Measured on the walking clips (a04), a stride (two steps) takes a median of 15
frames and the hips move 6.4 cm a frame; human walking (100-120 steps a
minute, 0.8-1.2 m/s) puts that at 12-16 fps, well below the Kinect's nominal
30 (which would make walking 1.9 m/s and sitting down take 0.9 s). ``fps`` is
therefore taken as 15 (`NW_UCLA_FPS`), an estimate; ``frame_ids`` are 0..T-1.

Quirks, handled and counted in ``skipped``: joints at exactly (0, 0, 0)
(``zero_joint``: 6 each in one frame of ``a04_s01_e01_v01`` and
``a04_s04_e02_v01``) are masked; frames with every joint at zero would be masked
as ``all_zero_frame``; a frame identical to the one before
(``repeated_frame``: one, in ``a01_s08_e03_v01``) is kept; a clip of one frame
(``single_frame``: ``a02_s09_e04_v02``) is kept. A "sit down" clip whose hip
centre ends more than 10 cm higher than it starts (median height of the last
fifth of the frames against the first), or a "stand up" clip whose hip centre
ends more than 10 cm lower, moves opposite to its label
(``motion_opposes_label``): 10 of the 203 such clips in views 1-2, eight of
them subject 4's in view 2 — kept as labelled, counted so that a reader of the
logs sees them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import beyond_float32_as_inf
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

NW_UCLA_ACTION_IDS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
"""The file names' action ids, in class order: file ``a{NW_UCLA_ACTION_IDS[k]}`` has class ``k + 1``."""
NW_UCLA_ACTIONS = (
    "pick up with one hand", "pick up with two hands", "drop trash", "walk around", "sit down", "stand up",
    "donning", "doffing", "throw", "carry",
)  # fmt: skip
"""The official action names (Wang et al., CVPR 2014), in class order."""
NW_UCLA_FPS = 15.0
NW_UCLA_TRAIN_VIEWS = (1,)
"""Cross-view validation inside the shared data (issue 12): train on view 1, test on view 2. The published
protocol trains on views 1-2 and tests on view 3, which is kept out of the shared data for independent tests."""
NW_UCLA_TEST_VIEWS = (2,)
_NUM_JOINTS = 20
_CLIP_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_v(\d+)\.json")
_MAX_BYTES = 64 * 1024 * 1024  # the largest real file is 0.2 MB
_EXPECTED_RISE = {"sit down": -1.0, "stand up": 1.0}
"""The sign of the hip centre's change in height that each of these actions makes."""
_OPPOSING_RISE_M = 0.10  # a clip moving this far the other way counts as motion_opposes_label


def read_nw_ucla(path: str | Path) -> SkeletonSequence:
    """Read one ``a{action}_s{subject}_e{take}_v{view}.json`` clip."""
    path = Path(path)
    match = _CLIP_NAME.fullmatch(path.name)
    if match is None:
        raise DataFormatError(path, "file name must be a{action}_s{subject}_e{take}_v{view}.json")
    action, subject, take, view = (int(group) for group in match.groups())
    if action not in NW_UCLA_ACTION_IDS:
        raise DataFormatError(path, f"action a{action:02d} is not one of the NW-UCLA actions {NW_UCLA_ACTION_IDS}")
    label = NW_UCLA_ACTION_IDS.index(action) + 1
    document = _read_json(path)
    if not isinstance(document, dict) or "skeletons" not in document:
        raise DataFormatError(path, "expected a JSON object with 'skeletons'")
    if "label" in document and document["label"] != label:
        raise DataFormatError(path, f"'label' is {document['label']!r}, but action a{action:02d} is class {label}")
    if "file_name" in document and document["file_name"] != path.stem:
        raise DataFormatError(path, f"'file_name' is {document['file_name']!r}, not the file's name {path.stem!r}")
    joints = _skeletons(path, document["skeletons"])
    mask = (joints != 0).any(axis=3).astype(np.float32)
    skipped = _quirks(joints, mask, NW_UCLA_ACTIONS[label - 1])
    if skipped:
        logger.info("%s: %s (kept as labelled; zero joints masked)", path, skipped)
    return SkeletonSequence(
        joints=joints,
        mask=mask,
        layout="kinect_v1_20",
        fps=NW_UCLA_FPS,
        frame_ids=np.arange(len(joints), dtype=np.int64),
        name=path.stem,
        label=NW_UCLA_ACTIONS[label - 1],
        subject=subject,
        skipped=skipped,
        attributes={"view": str(view), "take": str(take)},
    )


def read_nw_ucla_folder(
    root: str | Path, subjects: Iterable[int] | None = None, views: Iterable[int] | None = None
) -> list[SkeletonSequence]:
    """Every clip under ``root`` (only ``subjects`` and ``views`` if given), sorted by name."""
    root = Path(root)
    wanted_subjects = None if subjects is None else {int(s) for s in subjects}
    wanted_views = None if views is None else {int(v) for v in views}
    paths = sorted(root.glob("a*_s*_e*_v*.json"))
    if not paths:
        raise DataFormatError(root, "no a{action}_s{subject}_e{take}_v{view}.json files")
    clips = []
    for path in paths:
        match = _CLIP_NAME.fullmatch(path.name)
        if match is None:
            continue
        if wanted_subjects is not None and int(match.group(2)) not in wanted_subjects:
            continue
        if wanted_views is not None and int(match.group(4)) not in wanted_views:
            continue
        clips.append(read_nw_ucla(path))
    return clips


def _read_json(path: Path) -> object:
    size = path.stat().st_size
    if size == 0:
        raise DataFormatError(path, "empty file")
    if size > _MAX_BYTES:
        raise DataFormatError(path, f"{size} bytes is more than any clip needs ({_MAX_BYTES}); not a clip file?")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not a text file (not UTF-8: {error.reason} at byte {error.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON: {error.msg} (column {error.colno})", line=error.lineno) from None
    except (ValueError, RecursionError) as error:
        raise DataFormatError(path, f"invalid JSON: {error}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} (joints must be finite)")


def _skeletons(path: Path, skeletons: object) -> np.ndarray:
    """(T, 1, 20, 3) float32 joints from the ``skeletons`` list, naming the first malformed frame."""
    if not isinstance(skeletons, list) or not skeletons:
        raise DataFormatError(path, "'skeletons' must be a non-empty list of frames")
    try:  # the fast way; anything odd is located the slow way below
        values = np.array(skeletons, dtype=np.float64)
        numbers = {type(v) for v in chain.from_iterable(chain.from_iterable(skeletons))} <= {int, float}
    except (ValueError, TypeError, OverflowError):
        values, numbers = None, False
    if values is None or not numbers or values.shape != (len(skeletons), _NUM_JOINTS, 3):
        _locate_malformed(path, skeletons)
        raise DataFormatError(path, "'skeletons' holds a number beyond float range")  # all else was well formed
    values = beyond_float32_as_inf(values)
    if not np.isfinite(values).all():
        t, j, _ = np.argwhere(~np.isfinite(values))[0]
        raise DataFormatError(path, f"'skeletons' frame {t} joint {j}: value beyond float32's range")
    return np.ascontiguousarray(values[:, None], dtype=np.float32)


def _locate_malformed(path: Path, skeletons: list) -> None:
    """Raise `DataFormatError` for the first frame or joint that is not 20 joints of 3 numbers."""
    for t, frame in enumerate(skeletons):
        if not isinstance(frame, list) or len(frame) != _NUM_JOINTS:
            found = len(frame) if isinstance(frame, list) else type(frame).__name__
            raise DataFormatError(path, f"'skeletons' frame {t}: expected {_NUM_JOINTS} joints, found {found}")
        for j, joint in enumerate(frame):
            if not (isinstance(joint, list) and len(joint) == 3 and all(type(v) in (int, float) for v in joint)):
                raise DataFormatError(path, f"'skeletons' frame {t} joint {j}: expected 3 numbers, found {joint!r:.60}")


def _quirks(joints: np.ndarray, mask: np.ndarray, action: str) -> dict[str, int]:
    absent = mask[:, 0] == 0
    empty = absent.all(axis=1)
    counts = {
        "zero_joint": int(absent[~empty].sum()),
        "all_zero_frame": int(empty.sum()),
        "repeated_frame": int((joints[1:] == joints[:-1]).all(axis=(1, 2, 3)).sum()),
        "single_frame": int(len(joints) == 1),
        "motion_opposes_label": int(_hip_rise(joints, mask) * _EXPECTED_RISE.get(action, 0.0) < -_OPPOSING_RISE_M),
    }
    return {kind: count for kind, count in counts.items() if count}


def _hip_rise(joints: np.ndarray, mask: np.ndarray) -> float:
    """How much higher (metres, y up) the hip centre is in the last fifth of its frames than in the first."""
    heights = joints[mask[:, 0, 0] > 0, 0, 0, 1]
    if heights.size < 2:
        return 0.0
    fifth = max(1, heights.size // 5)
    return float(np.median(heights[-fifth:]) - np.median(heights[:fifth]))
