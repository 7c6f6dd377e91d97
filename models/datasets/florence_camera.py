"""Florence 3D Actions as the camera path sees it: the skeletons MediaPipe, the lifting and the root motion made
of each RGB clip, one file per clip (dataset ``florence-camera``).

These are not a reader of the shared data but of what the project derives from
it: ``stream-eval --dataset florence-video --save-skeletons`` streams every clip
of ``../shared/data/videos/florence3d/`` through the camera path and keeps, for
the clip's person, the skeletons exactly as the model's windows take them
(`stream.evaluation.camera_skeletons`). They are the only real skeletons here
made by a pose estimator from video, of people doing everyday actions — the
"none of my actions" a robot must not react to (drinking, answering a phone)
beside four of the `actions` vocabulary (wave, clap, sit down, stand up).

Format: one ``<clip>.npz`` per clip with ``joints`` (T, 30, 3) float32 in the
``unified_30`` layout, ``mask`` (T, 30) float32 confidences (0: the joint is
missing; a NaN joint is read as missing too), ``frame_ids`` (T,) int64 source
frame indices (a frame without the person is skipped), ``fps`` (the video's
rate), ``action`` (one of
`FLORENCE_ACTIONS`) and ``actor``; ``settings.json`` beside them records how
they were made. Subjects are the actors (1-6 here; 7-10 are kept for
independent evaluation). The folder lives in the skelstream cache
(`default_folder`), since it is made, not shipped.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from foundation.cache_folder import cache_folder
from foundation.errors import DataFormatError
from foundation.output_files import PARTIAL_MARK, write_atomically
from models.skeleton.sequence import SkeletonSequence

FLORENCE_ACTIONS = (
    "wave", "drink from a bottle", "answer phone", "clap", "tie lace", "sit down", "stand up", "read watch", "bow",
)  # fmt: skip
"""Florence's nine actions, in the order of its categories 1-9 (`stream.evaluation.florence`)."""
FOLDER_NAME = "florence_camera"
MADE_BY = "stream-eval --dataset florence-video --root ../shared/data --save-skeletons"
"""The command that makes the folder."""
_ARRAYS = ("joints", "mask", "frame_ids", "fps", "action", "actor")


def default_folder() -> Path:
    """Where ``--save-skeletons`` writes and training reads: ``<skelstream cache>/derived/florence_camera``."""
    return cache_folder() / "derived" / FOLDER_NAME


def write_clip_skeletons(path: str | Path, joints: np.ndarray, mask: np.ndarray, frame_ids: np.ndarray, fps: float,
                         action: str, actor: int) -> None:  # fmt: skip
    """One clip's skeletons (see the module docstring for the arrays), written whole or not at all."""
    if action not in FLORENCE_ACTIONS:
        raise ValueError(f"unknown Florence action {action!r}; known: {', '.join(FLORENCE_ACTIONS)}")
    archive = io.BytesIO()
    np.savez(archive, joints=np.asarray(joints, np.float32), mask=np.asarray(mask, np.float32),
             frame_ids=np.asarray(frame_ids, np.int64), fps=np.float64(fps), action=np.str_(action),
             actor=np.int64(actor))  # fmt: skip
    write_atomically(path, archive.getvalue())


def read_clip_skeletons(path: str | Path) -> SkeletonSequence:
    """One clip's file as a sequence (one body, ``unified_30``, labelled with its action).

    Raises:
        DataFormatError: the file is not such an archive, misses an array, or its shapes disagree.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            absent = [key for key in _ARRAYS if key not in archive.files]
            fields = {} if absent else {key: archive[key] for key in _ARRAYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataFormatError(path, f"not a readable .npz archive ({error})") from None
    if absent:
        raise DataFormatError(path, f"no array {', '.join(absent)} (not written by --save-skeletons?)")
    joints, mask, frame_ids = fields["joints"], fields["mask"], fields["frame_ids"]
    frames = len(frame_ids)
    if frames == 0 or joints.shape != (frames, 30, 3) or mask.shape != (frames, 30):
        raise DataFormatError(path, f"expected joints (T, 30, 3), mask (T, 30), frame_ids (T,) with T >= 1; got "
                              f"{joints.shape}, {mask.shape}, {frame_ids.shape}")  # fmt: skip
    action = str(fields["action"])
    if action not in FLORENCE_ACTIONS:
        raise DataFormatError(path, f"unknown action {action!r}")
    if np.any(np.diff(frame_ids) <= 0):
        raise DataFormatError(path, "frame_ids do not increase")
    missing = ~np.isfinite(joints).all(axis=-1)
    skipped = {"missing_joint": int(missing.sum())} if missing.any() else {}
    return SkeletonSequence(
        joints=np.where(missing[..., None], 0.0, joints)[:, None].astype(np.float32),
        mask=np.where(missing, 0.0, mask)[:, None].astype(np.float32),
        layout="unified_30", fps=float(fields["fps"]), frame_ids=frame_ids.astype(np.int64), name=path.stem,
        label=action, subject=int(fields["actor"]), skipped=skipped,
    )  # fmt: skip


def read_florence_camera_folder(root: Path, subjects: set[int] | None = None) -> list[SkeletonSequence]:
    """Every clip file under ``root`` (only the actors in ``subjects``), by name; a write cut short
    (``<clip>.partial-*.npz``, `foundation.output_files`) is not one.

    Raises:
        DataFormatError: the folder holds no clip file (say how to make them), or one is unreadable.
    """
    paths = sorted(path for path in Path(root).glob("*.npz") if PARTIAL_MARK not in path.name)
    if not paths:
        raise DataFormatError(root, f"no camera skeletons; make them with `{MADE_BY}`")
    sequences = [read_clip_skeletons(path) for path in paths]
    return [s for s in sequences if subjects is None or s.subject in subjects]
