"""UTD-MHAD reader: trimmed clips of one person, 27 actions, 20 Kinect v1 joints.

Format: one MATLAB v5 file per trial, ``a{action}_s{subject}_t{take}_skeleton.mat``
(action 1-27, subject 1-8, take 1-4, no zero padding), holding ``d_skel``, a
20 × 3 × T array: joint × (x, y, z) × frame. Joints are in the dataset's own
order (``Skeleton_joint_order.txt``: head, shoulder_center, spine, hip_center,
then the left arm, right arm, left leg, right leg; layout ``utd_mhad_20``),
checked on the data in ``tests/models/test_dataset_utd_mhad.py``. Positions are
metres in the Kinect camera frame: x to the sensor's left (the person's right),
y up, z away from the sensor. Action names are those of ``Action_List.txt``.

Chen, Jafari and Kehtarnavaz, "UTD-MHAD: a multimodal dataset for human action
recognition utilizing a depth camera and a wearable inertial sensor", ICIP 2015.
The Kinect ran at about 30 fps; the files carry no time stamps, so ``fps`` is 30
and ``frame_ids`` are 0..T-1.

Quirks: 861 of the 27 × 8 × 4 = 864 trials exist (``a8_s1_t4``, ``a23_s6_t4``
and ``a27_s8_t4`` are missing, as in the published dataset);
``a1_s1_t2_skeleton.csv`` is a text copy of that trial's ``.mat`` (5 significant
digits) and is not read. Joints at exactly (0, 0, 0) would be masked and counted
in ``skipped["zero_joint"]``; the shared files have none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError
from models.datasets.matlab import mat_array, read_mat
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

UTD_MHAD_ACTIONS = (
    "right arm swipe to the left", "right arm swipe to the right", "right hand wave", "two hand front clap",
    "right arm throw", "cross arms in the chest", "basketball shooting", "draw x", "draw circle (clockwise)",
    "draw circle (counter clockwise)", "draw triangle", "bowling (right hand)", "front boxing",
    "baseball swing from right", "tennis forehand swing", "arm curl (two arms)", "tennis serve", "two hand push",
    "knock on door", "hand catch", "pick up and throw", "jogging", "walking", "sit to stand", "stand to sit",
    "forward lunge (left foot forward)", "squat",
)  # fmt: skip
"""Action names of ``Action_List.txt``; trial ``a{N}`` has label ``UTD_MHAD_ACTIONS[N - 1]``."""
UTD_MHAD_FPS = 30.0
UTD_MHAD_TRAIN_SUBJECTS = (1, 3, 5, 7)
"""The usual cross-subject protocol: train on the odd subjects, test on the even ones."""
UTD_MHAD_TEST_SUBJECTS = (2, 4, 6, 8)
_NUM_JOINTS = 20
_TRIAL_NAME = re.compile(r"a(\d+)_s(\d+)_t(\d+)_skeleton\.mat")


def read_utd_mhad(path: str | Path) -> SkeletonSequence:
    """Read one ``a{action}_s{subject}_t{take}_skeleton.mat`` trial."""
    path = Path(path)
    match = _TRIAL_NAME.fullmatch(path.name)
    if match is None:
        raise DataFormatError(path, "file name must be a{action}_s{subject}_t{take}_skeleton.mat")
    action, subject, take = (int(group) for group in match.groups())
    if not 1 <= action <= len(UTD_MHAD_ACTIONS):
        raise DataFormatError(path, f"action a{action} is not one of a1-a{len(UTD_MHAD_ACTIONS)}")
    skeleton = mat_array(path, read_mat(path), "d_skel", ndim=3)
    if skeleton.shape[:2] != (_NUM_JOINTS, 3) or skeleton.shape[2] == 0:
        raise DataFormatError(path, f"d_skel has shape {skeleton.shape}, expected ({_NUM_JOINTS}, 3, frames)")
    joints = np.ascontiguousarray(skeleton.transpose(2, 0, 1)[:, None], dtype=np.float32)
    mask = (joints != 0).any(axis=3).astype(np.float32)
    skipped: dict[str, int] = {}
    zero = int((mask == 0).sum())
    if zero:
        skipped["zero_joint"] = zero
        logger.info("%s: %d joints at (0, 0, 0) (kept, masked)", path, zero)
    return SkeletonSequence(
        joints=joints,
        mask=mask,
        layout="utd_mhad_20",
        fps=UTD_MHAD_FPS,
        frame_ids=np.arange(len(joints), dtype=np.int64),
        name=path.name.removesuffix("_skeleton.mat"),
        label=UTD_MHAD_ACTIONS[action - 1],
        subject=subject,
        skipped=skipped,
        attributes={"take": str(take)},
    )


def read_utd_mhad_folder(root: str | Path, subjects: Iterable[int] | None = None) -> list[SkeletonSequence]:
    """Every trial under ``root`` (only ``subjects`` if given), ordered by action, subject and take."""
    root = Path(root)
    wanted = None if subjects is None else {int(s) for s in subjects}
    trials = []
    for path in root.glob("a*_s*_t*_skeleton.mat"):
        match = _TRIAL_NAME.fullmatch(path.name)
        if match is not None and (wanted is None or int(match.group(2)) in wanted):
            trials.append((tuple(int(group) for group in match.groups()), path))
    if not trials and wanted is None:
        raise DataFormatError(root, "no a{action}_s{subject}_t{take}_skeleton.mat files")
    return [read_utd_mhad(path) for _, path in sorted(trials)]
