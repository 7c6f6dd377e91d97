"""MSR Action3D reader: trimmed clips of one person, 20 actions, 20 joints.

Format: one file per clip, ``aXX_sYY_eZZ_skeleton3D.txt`` (action XX in 1-20,
subject YY, repetition ZZ). Each line holds one joint, ``x y z conf``; every 20
lines make one frame, joints in the dataset's own order (layout
``msr_action3d_20``, established from the data in
``tests/models/test_layouts_msr.py``). Positions are metres in a Kinect-style
camera frame: x to the sensor's left (the person's right), y up, z away from
the sensor. ``files_used_in_cvpr12_paper.txt`` lists the clips of the usual
protocol (Wang et al., CVPR 2012), one ``aXX_sYY_eZZ`` per line.

Frame rate: the depth maps were captured at about 15 fps (Li, Zhang and Liu,
"Action recognition based on a bag of 3D points", CVPRW 2010); the files carry
no time stamps, so ``fps`` is 15 and ``frame_ids`` are 0..T-1.

Mask and confidence: ``conf`` is 0 for about a quarter of the joints, but not
because they are missing: it is 0 in 87-97 % of the frames of shoulder_center,
spine and hip_center and ~80 % of those of the feet, whose positions stay where
the skeleton puts them (their bones keep their length: median variation over a
clip 0 %, 5 % for the bending spine) -- the tracker fills them in rather than
measuring them. So the mask is 1 wherever a joint's
position is not (0, 0, 0), and ``conf`` is kept as ``projections["confidence"]``
(T, 1, 20). Frames whose 20 joints are all 0 (the tracker lost the person,
mostly in a13 bend and a20 pickup and throw) are kept with mask 0 and counted in
``skipped["all_zero_frame"]``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.text import read_float_table
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

MSR_ACTION3D_ACTIONS = (
    "high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch",
    "high throw", "draw X", "draw tick", "draw circle", "hand clap",
    "two hand wave", "side boxing", "bend", "forward kick", "side kick",
    "jogging", "tennis swing", "tennis serve", "golf swing", "pickup and throw",
)  # fmt: skip
"""Official action names; file ``aXX`` has label ``MSR_ACTION3D_ACTIONS[XX - 1]``."""
MSR_ACTION3D_FPS = 15.0
PAPER_LIST = "files_used_in_cvpr12_paper.txt"
_NUM_JOINTS = 20
_CLIP_NAME = re.compile(r"(a(\d+)_s(\d+)_e\d+)_skeleton3D\.txt")


def read_msr_action3d(path: str | Path) -> SkeletonSequence:
    """Read one ``aXX_sYY_eZZ_skeleton3D.txt`` clip."""
    path = Path(path)
    match = _CLIP_NAME.fullmatch(path.name)
    if match is None:
        raise DataFormatError(path, "file name must be aXX_sYY_eZZ_skeleton3D.txt (it names action and subject)")
    name, action, subject = match.group(1), int(match.group(2)), int(match.group(3))
    if not 1 <= action <= len(MSR_ACTION3D_ACTIONS):
        raise DataFormatError(path, f"action a{action:02d} is not one of a01-a{len(MSR_ACTION3D_ACTIONS)}")
    table, lines = read_float_table(path, 4, finite=True, count_error="expected {columns} numbers, got {found}")
    if len(table) % _NUM_JOINTS:
        raise DataFormatError(
            path, f"{len(table)} joint lines is not a multiple of {_NUM_JOINTS} (truncated file?)", line=int(lines[-1])
        )
    frames = table.reshape(-1, 1, _NUM_JOINTS, 4).astype(np.float32)
    joints = np.ascontiguousarray(frames[..., :3])
    mask = (joints != 0).any(axis=3).astype(np.float32)
    skipped: dict[str, int] = {}
    empty = int((mask == 0).all(axis=(1, 2)).sum())
    if empty:
        skipped["all_zero_frame"] = empty
        logger.info("%s: %d of %d frames are all zero (kept, masked)", path, empty, len(frames))
    return SkeletonSequence(
        joints=joints,
        mask=mask,
        layout="msr_action3d_20",
        fps=MSR_ACTION3D_FPS,
        frame_ids=np.arange(len(frames), dtype=np.int64),
        name=name,
        label=MSR_ACTION3D_ACTIONS[action - 1],
        subject=subject,
        projections={"confidence": np.ascontiguousarray(frames[..., 3])},
        skipped=skipped,
    )


def read_msr_action3d_folder(
    root: str | Path, subjects: Iterable[int] | None = None, paper_list_only: bool = False
) -> list[SkeletonSequence]:
    """Read every clip under ``root``, sorted by name.

    ``subjects`` keeps only those performers; ``paper_list_only`` keeps only the
    clips named in ``files_used_in_cvpr12_paper.txt``. Listed or wanted clips
    without a file are simply absent from the result.
    """
    root = Path(root)
    wanted = None if subjects is None else {int(s) for s in subjects}
    listed = None
    if paper_list_only:
        listed = {line.strip() for line in (root / PAPER_LIST).read_text().splitlines() if line.strip()}
    clips = []
    for path in sorted(root.glob("a*_s*_e*_skeleton3D.txt")):
        match = _CLIP_NAME.fullmatch(path.name)
        if match is None or (wanted is not None and int(match.group(3)) not in wanted):
            continue
        if listed is not None and match.group(1) not in listed:
            continue
        clips.append(read_msr_action3d(path))
    return clips
