"""Penn Action reader: 2 326 YouTube clips of one person, 15 sports and exercises, 13 hand-annotated 2D joints.

Format: ``labels/NNNN.mat`` (MATLAB v5), one per clip, with ``action`` (the
class name), ``pose`` (the coarse viewpoint: ``front``, ``back``, ``left`` or
``right``), ``x`` and ``y`` (T × 13 pixel coordinates, image x right, y down),
``visibility`` (T × 13, 1 visible / 0 not), ``train`` (1 train / −1 test: the
official split), ``bbox`` (T × 4), ``dimensions`` ([height, width, T]) and
``nframes``. Zhang, Zhu and Derpanis, "From actemes to action: a
strongly-supervised representation for detailed action understanding", ICCV 2013.

Joints (layout ``penn_action_13``, sides the person's own): the README lists
the columns as head, left/right shoulder, elbow, wrist, hip, knee, ankle, but
its "left" is the person's right in every clip -- the side that holds the
bowling ball, strums the guitar and swings the forehand, that sits on the
image's left when the annotated viewpoint is ``front`` and on its right when it
is ``back``, and that is the better visible one in ``right`` views. The layout
therefore names column 2 ``shoulder_right``, column 3 ``shoulder_left`` and so
on; ``tests/models/test_dataset_penn_action.py`` and docs/data.md hold the
evidence.

Mask: 1 for a visible joint; 0.5 for one marked not visible, whose position is
still the annotator's estimate (occluded limbs have the same length as visible
ones, measured) -- as Kinect's "inferred" joints; 0 for a joint at (0, 0), which
has no position. ``attributes``: ``split`` (``train``/``test``), ``view`` (the
``pose`` field), ``image_width``, ``image_height``. ``bbox`` is not carried (the
joints give the person's extent).

Frame rate: not in the files. The clips are cut from YouTube video, almost all
at 30 (29.97) fps; the data agree: a jumping jack (one per clip) takes a median
of 30 frames, 1.0 s at 30 fps, and a rope skip 14 frames (0.47 s, about 130
skips a minute), both the usual human cadence. ``fps`` is therefore 30 and
``frame_ids`` are 0..T-1.

Quirks, handled and counted in ``skipped``: joints at (0, 0) (``zero_joint``,
masked); joints marked visible but outside the image (``visible_outside_image``,
1 012 in four jump_rope clips, up to 175 px beyond the edge: estimates, so 0.5);
frames with no visible joint (``no_visible_joint``, 177, kept). Coordinates
stored as integers in some files are read as floats.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from foundation.errors import DataFormatError, SkelstreamError
from models.datasets.matlab import mat_array, mat_scalar, mat_string, read_mat
from models.skeleton.sequence import SkeletonSequence

logger = logging.getLogger(__name__)

PENN_ACTIONS = (
    "baseball_pitch", "baseball_swing", "bench_press", "bowl", "clean_and_jerk", "golf_swing", "jump_rope",
    "jumping_jacks", "pullup", "pushup", "situp", "squat", "strum_guitar", "tennis_forehand", "tennis_serve",
)  # fmt: skip
"""The 15 action names as the files spell them, in class order."""
PENN_VIEWS = ("front", "back", "left", "right")
"""Values of the coarse viewpoint field ``pose``."""
PENN_FPS = 30.0
SPLITS = {1: "train", -1: "test"}
"""The files' ``train`` values and the split each means."""
INVISIBLE_CONFIDENCE = 0.5
"""Mask value of a joint annotated as not visible (its position is an estimate)."""
_NUM_JOINTS = 13
_CLIP_NAME = re.compile(r"\d+\.mat")


def read_penn_action(path: str | Path) -> SkeletonSequence:
    """Read one ``NNNN.mat`` clip."""
    path = Path(path)
    if _CLIP_NAME.fullmatch(path.name) is None:
        raise DataFormatError(path, "file name must be the clip number, e.g. 0001.mat")
    variables = read_mat(path)
    action = mat_string(path, variables, "action")
    if action not in PENN_ACTIONS:
        raise DataFormatError(path, f"action {action!r} is not one of {', '.join(PENN_ACTIONS)}")
    view = mat_string(path, variables, "pose")
    if view not in PENN_VIEWS:
        raise DataFormatError(path, f"pose (viewpoint) {view!r} is not one of {', '.join(PENN_VIEWS)}")
    split = mat_scalar(path, variables, "train")
    if split not in SPLITS:
        raise DataFormatError(path, f"train is {split:g}, expected 1 (train) or -1 (test)")
    frames = mat_scalar(path, variables, "nframes")
    if frames < 1:
        raise DataFormatError(path, f"nframes is {frames:g}, expected at least 1")
    height, width, dimension_frames = _dimensions(path, variables)
    x, y, visibility = (mat_array(path, variables, name, ndim=2) for name in ("x", "y", "visibility"))
    for name, value in (("x", x), ("y", y), ("visibility", visibility)):
        if value.shape != (frames, _NUM_JOINTS):
            raise DataFormatError(path, f"{name} has shape {value.shape}, expected (nframes={frames:g}, {_NUM_JOINTS})")
    if dimension_frames != frames:
        raise DataFormatError(path, f"nframes is {frames:g} but dimensions give {dimension_frames:g} frames")
    if not np.isin(visibility, (0, 1)).all():
        raise DataFormatError(path, "visibility holds values other than 0 and 1")
    joints = np.ascontiguousarray(np.stack([x, y], axis=-1)[:, None], dtype=np.float32)
    visible = visibility[:, None] == 1
    positioned = (joints != 0).any(axis=-1)
    outside = visible & positioned & ((x < 0) | (x > width) | (y < 0) | (y > height))[:, None]
    mask = np.where(visible & ~outside, 1.0, INVISIBLE_CONFIDENCE) * positioned
    counts = {
        "zero_joint": int((~positioned).sum()),
        "visible_outside_image": int(outside.sum()),
        "no_visible_joint": int((~visible).all(axis=(1, 2)).sum()),
    }
    skipped = {kind: count for kind, count in counts.items() if count}
    if skipped:
        logger.info("%s: %s (kept: zero joints masked, the others at confidence %g)", path, skipped,
                    INVISIBLE_CONFIDENCE)  # fmt: skip
    return SkeletonSequence(
        joints=joints,
        mask=mask.astype(np.float32),
        layout="penn_action_13",
        fps=PENN_FPS,
        frame_ids=np.arange(len(joints), dtype=np.int64),
        name=path.stem,
        label=action,
        skipped=skipped,
        attributes={"split": SPLITS[int(split)], "view": view, "image_width": f"{width:g}",
                    "image_height": f"{height:g}"},  # fmt: skip
    )


def read_penn_action_folder(root: str | Path, split: str | None = None) -> list[SkeletonSequence]:
    """Every clip under ``root`` (or ``root/labels``), sorted by number; only the official ``split`` if given."""
    root = Path(root)
    if split is not None and split not in SPLITS.values():
        raise ValueError(f"split must be one of {sorted(SPLITS.values())}, got {split!r}")
    folder = root / "labels" if (root / "labels").is_dir() else root
    paths = sorted(path for path in folder.glob("*.mat") if _CLIP_NAME.fullmatch(path.name))
    if not paths:
        raise DataFormatError(folder, "no NNNN.mat clip files")
    clips = (read_penn_action(path) for path in paths)
    return [clip for clip in clips if split is None or clip.attributes["split"] == split]


def penn_action_for_subjects(root: Path, subjects: Iterable[int] | None) -> list[SkeletonSequence]:
    """The registry's reader: Penn Action has no subject ids, so asking for subjects is an error."""
    if subjects is not None:
        raise SkelstreamError("penn-action clips have no subject ids; select them by attributes['split'] instead")
    return read_penn_action_folder(root)


def _dimensions(path: Path, variables: dict[str, np.ndarray]) -> tuple[float, float, float]:
    dimensions = mat_array(path, variables, "dimensions", ndim=2)
    if dimensions.shape != (1, 3) or (dimensions[0, :2] <= 0).any():
        raise DataFormatError(path, f"dimensions must be [height, width, frames], got {dimensions.tolist()}")
    height, width, frames = (float(v) for v in dimensions[0])
    return height, width, frames
