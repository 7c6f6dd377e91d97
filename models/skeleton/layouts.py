"""Joint layouts: names, bones, left/right pairs and the rules that map each into ``unified_30``.

Every layout lives here and nowhere else. A layout's ``unified_rules`` say how
each ``unified_30`` joint is computed from the layout's own joints: a weighted
sum of named joints (one joint with weight 1 for a direct correspondence,
several for an interpolated joint such as SpineMid). Unified joints a layout
has no rule for are *missing*: the mapping gives them confidence 0.

Coordinates: 3D layouts are in metres in the sensor's camera frame (Kinect:
x to the sensor's left, i.e. the person's right when facing it, y up, z away
from the sensor); 2D layouts are image coordinates (x right, y down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

Rule = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Layout:
    """A skeleton layout.

    Attributes:
        name: registry key, e.g. ``"kinect_v2_25"``.
        joint_names: one name per joint, in the order the data stores them.
        parents: parent joint (by name) of each joint; the root is its own parent.
        flip_pairs: (left, right) joint-name pairs swapped by a horizontal flip.
        dims: 3 for metric 3D joints, 2 for image keypoints.
        unified_rules: unified_30 joint name -> weighted source joints.
    """

    name: str
    joint_names: tuple[str, ...]
    parents: dict[str, str]
    flip_pairs: tuple[tuple[str, str], ...]
    dims: int
    unified_rules: dict[str, Rule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = set(self.joint_names)
        if len(names) != len(self.joint_names):
            raise ValueError(f"layout {self.name}: duplicate joint names")
        if set(self.parents) != names or not set(self.parents.values()) <= names:
            raise ValueError(f"layout {self.name}: parents must name every joint and only known joints")
        for left, right in self.flip_pairs:
            if left not in names or right not in names:
                raise ValueError(f"layout {self.name}: unknown flip pair ({left}, {right})")
        for target, rule in self.unified_rules.items():
            for source, _ in rule:
                if source not in names:
                    raise ValueError(f"layout {self.name}: rule for {target} uses unknown joint {source}")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, joint_name: str) -> int:
        """Position of ``joint_name`` in this layout."""
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(f"layout {self.name} has no joint {joint_name!r}") from None

    @cached_property
    def parent_indices(self) -> np.ndarray:
        """(V,) parent index of each joint; the root points at itself."""
        return np.array([self.index(self.parents[n]) for n in self.joint_names], dtype=np.int64)

    @cached_property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """(child, parent) index pairs, one per non-root joint."""
        return tuple((c, int(p)) for c, p in enumerate(self.parent_indices) if c != p)

    @cached_property
    def flip_permutation(self) -> np.ndarray:
        """(V,) joint permutation that swaps every left/right pair."""
        perm = np.arange(self.num_joints)
        for left, right in self.flip_pairs:
            i, j = self.index(left), self.index(right)
            perm[i], perm[j] = j, i
        return perm


def _chain(*names: str) -> dict[str, str]:
    """Parents along a kinematic chain: each name's parent is the one before it."""
    return {child: parent for parent, child in zip(names, names[1:])}


def _direct(*names: str) -> dict[str, Rule]:
    return {name: ((name, 1.0),) for name in names}


def _mid(a: str, b: str) -> Rule:
    return ((a, 0.5), (b, 0.5))


# --- Kinect v2, 25 joints (NTU RGB+D and PKU-MMD order) --------------------
KINECT_V2_JOINTS = (
    "spine_base", "spine_mid", "neck", "head",
    "shoulder_left", "elbow_left", "wrist_left", "hand_left",
    "shoulder_right", "elbow_right", "wrist_right", "hand_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
    "spine_shoulder", "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right",
)  # fmt: skip
_KINECT_V2_PARENTS = {
    "spine_base": "spine_base",
    **_chain("spine_base", "spine_mid", "spine_shoulder", "neck", "head"),
    **_chain("spine_shoulder", "shoulder_left", "elbow_left", "wrist_left", "hand_left", "hand_tip_left"),
    **_chain("spine_shoulder", "shoulder_right", "elbow_right", "wrist_right", "hand_right", "hand_tip_right"),
    "thumb_left": "hand_left",
    "thumb_right": "hand_right",
    **_chain("spine_base", "hip_left", "knee_left", "ankle_left", "foot_left"),
    **_chain("spine_base", "hip_right", "knee_right", "ankle_right", "foot_right"),
}
_LIMB_PAIRS = tuple(
    (f"{part}_left", f"{part}_right")
    for part in ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "foot")
)
KINECT_V2_25 = Layout(
    name="kinect_v2_25",
    joint_names=KINECT_V2_JOINTS,
    parents=_KINECT_V2_PARENTS,
    flip_pairs=_LIMB_PAIRS + (("hand_tip_left", "hand_tip_right"), ("thumb_left", "thumb_right")),
    dims=3,
    unified_rules=_direct(*KINECT_V2_JOINTS),
)

# --- unified_30: Kinect v2's 25 joints, then 5 COCO face points ----------------
FACE_JOINTS = ("nose", "eye_left", "eye_right", "ear_left", "ear_right")
UNIFIED_30 = Layout(
    name="unified_30",
    joint_names=KINECT_V2_JOINTS + FACE_JOINTS,
    parents={
        **_KINECT_V2_PARENTS,
        "nose": "head",
        "eye_left": "nose",
        "eye_right": "nose",
        "ear_left": "eye_left",
        "ear_right": "eye_right",
    },
    flip_pairs=KINECT_V2_25.flip_pairs + (("eye_left", "eye_right"), ("ear_left", "ear_right")),
    dims=3,
    unified_rules=_direct(*KINECT_V2_JOINTS, *FACE_JOINTS),
)

# --- Kinect v1, 20 joints (Kinect SDK v1 order, as in UTKinect, MSRC-12, PRECOG) ---
KINECT_V1_JOINTS = (
    "hip_center", "spine", "shoulder_center", "head",
    "shoulder_left", "elbow_left", "wrist_left", "hand_left",
    "shoulder_right", "elbow_right", "wrist_right", "hand_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
)  # fmt: skip
_KINECT_V1_PARENTS = {
    "hip_center": "hip_center",
    **_chain("hip_center", "spine", "shoulder_center", "head"),
    **_chain("shoulder_center", "shoulder_left", "elbow_left", "wrist_left", "hand_left"),
    **_chain("shoulder_center", "shoulder_right", "elbow_right", "wrist_right", "hand_right"),
    **_chain("hip_center", "hip_left", "knee_left", "ankle_left", "foot_left"),
    **_chain("hip_center", "hip_right", "knee_right", "ankle_right", "foot_right"),
}
_KINECT_V1_RULES: dict[str, Rule] = {
    "spine_base": (("hip_center", 1.0),),
    "spine_mid": (("spine", 1.0),),
    "spine_shoulder": (("shoulder_center", 1.0),),
    "neck": _mid("shoulder_center", "head"),  # v1 has no neck: halfway to the head
    **_direct("head", *(name for pair in _LIMB_PAIRS for name in pair)),
}
KINECT_V1_20 = Layout(
    name="kinect_v1_20",
    joint_names=KINECT_V1_JOINTS,
    parents=_KINECT_V1_PARENTS,
    flip_pairs=_LIMB_PAIRS,
    dims=3,
    unified_rules=_KINECT_V1_RULES,
)

# --- MSR Action3D, 20 joints: Kinect v1 joints in the dataset's own order -----
# Order established from the data (tests/models/test_layouts_msr.py).
MSR_ACTION3D_JOINTS = (
    "shoulder_left", "shoulder_right", "shoulder_center", "spine",
    "hip_left", "hip_right", "hip_center",
    "elbow_left", "elbow_right", "wrist_left", "wrist_right", "hand_left", "hand_right",
    "knee_left", "knee_right", "ankle_left", "ankle_right", "foot_left", "foot_right",
    "head",
)  # fmt: skip
MSR_ACTION3D_20 = Layout(
    name="msr_action3d_20",
    joint_names=MSR_ACTION3D_JOINTS,
    parents=_KINECT_V1_PARENTS,
    flip_pairs=_LIMB_PAIRS,
    dims=3,
    unified_rules=_KINECT_V1_RULES,
)

# --- UTD-MHAD, 20 joints: Kinect v1 joints, the spine chain from the head down ---
# Order of the dataset's Skeleton_joint_order.txt, checked on the data (tests/models/test_dataset_utd_mhad.py).
UTD_MHAD_JOINTS = (
    "head", "shoulder_center", "spine", "hip_center",
    "shoulder_left", "elbow_left", "wrist_left", "hand_left",
    "shoulder_right", "elbow_right", "wrist_right", "hand_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
)  # fmt: skip
UTD_MHAD_20 = Layout(
    name="utd_mhad_20",
    joint_names=UTD_MHAD_JOINTS,
    parents=_KINECT_V1_PARENTS,
    flip_pairs=_LIMB_PAIRS,
    dims=3,
    unified_rules=_KINECT_V1_RULES,
)

# --- COCO, 17 keypoints (2D) --------------------------------------------------
COCO_JOINTS = (
    "nose", "eye_left", "eye_right", "ear_left", "ear_right",
    "shoulder_left", "shoulder_right", "elbow_left", "elbow_right",
    "wrist_left", "wrist_right", "hip_left", "hip_right",
    "knee_left", "knee_right", "ankle_left", "ankle_right",
)  # fmt: skip
COCO_17 = Layout(
    name="coco_17",
    joint_names=COCO_JOINTS,
    parents={
        "nose": "nose",
        "eye_left": "nose", "eye_right": "nose", "ear_left": "eye_left", "ear_right": "eye_right",
        "shoulder_left": "nose", "shoulder_right": "nose",
        **_chain("shoulder_left", "elbow_left", "wrist_left"),
        **_chain("shoulder_right", "elbow_right", "wrist_right"),
        **_chain("shoulder_left", "hip_left", "knee_left", "ankle_left"),
        **_chain("shoulder_right", "hip_right", "knee_right", "ankle_right"),
    },  # fmt: skip
    flip_pairs=(("eye_left", "eye_right"), ("ear_left", "ear_right"))
    + tuple(p for p in _LIMB_PAIRS if p[0].split("_")[0] in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")),
    dims=2,
    unified_rules={
        **_direct(*FACE_JOINTS, "shoulder_left", "shoulder_right", "elbow_left", "elbow_right",
                  "wrist_left", "wrist_right", "hip_left", "hip_right",
                  "knee_left", "knee_right", "ankle_left", "ankle_right"),
        "spine_shoulder": _mid("shoulder_left", "shoulder_right"),
        "spine_base": _mid("hip_left", "hip_right"),
        "spine_mid": tuple((n, 0.25) for n in ("shoulder_left", "shoulder_right", "hip_left", "hip_right")),
    },  # fmt: skip
)

# --- Penn Action, 13 hand-annotated image joints (2D pixels) ---------------------
# Sides are the person's own. The dataset's README names the columns from the other side: its
# "left_shoulder" (column 2) is the person's right shoulder, and so on for every pair -- established
# from the data in tests/models/test_dataset_penn_action.py (docs/data.md has the evidence).
PENN_ACTION_JOINTS = (
    "head",
    "shoulder_right", "shoulder_left", "elbow_right", "elbow_left", "wrist_right", "wrist_left",
    "hip_right", "hip_left", "knee_right", "knee_left", "ankle_right", "ankle_left",
)  # fmt: skip
_PENN_LIMBS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
PENN_ACTION_13 = Layout(
    name="penn_action_13",
    joint_names=PENN_ACTION_JOINTS,
    parents={
        "head": "head",
        **{k: v for s in ("left", "right")
           for k, v in _chain("head", f"shoulder_{s}", f"elbow_{s}", f"wrist_{s}").items()},
        **{k: v for s in ("left", "right")
           for k, v in _chain(f"shoulder_{s}", f"hip_{s}", f"knee_{s}", f"ankle_{s}").items()},
    },  # fmt: skip
    flip_pairs=tuple((f"{part}_left", f"{part}_right") for part in _PENN_LIMBS),
    dims=2,
    # As COCO (DESIGN.md §2): limbs direct, spine joints interpolated; with a head point, the neck is
    # interpolated as for Kinect v1 (halfway from spine_shoulder to the head). Hands, feet, hand tips,
    # thumbs and face points are missing.
    unified_rules={
        **_direct("head", *(f"{part}_{s}" for part in _PENN_LIMBS for s in ("left", "right"))),
        "spine_shoulder": _mid("shoulder_left", "shoulder_right"),
        "spine_base": _mid("hip_left", "hip_right"),
        "spine_mid": tuple((n, 0.25) for n in ("shoulder_left", "shoulder_right", "hip_left", "hip_right")),
        "neck": (("shoulder_left", 0.25), ("shoulder_right", 0.25), ("head", 0.5)),
    },
)

# --- MediaPipe BlazePose, 33 landmarks ---------------------------------------
MEDIAPIPE_JOINTS = (
    "nose", "eye_inner_left", "eye_left", "eye_outer_left",
    "eye_inner_right", "eye_right", "eye_outer_right", "ear_left", "ear_right",
    "mouth_left", "mouth_right", "shoulder_left", "shoulder_right",
    "elbow_left", "elbow_right", "wrist_left", "wrist_right",
    "pinky_left", "pinky_right", "index_left", "index_right", "thumb_left", "thumb_right",
    "hip_left", "hip_right", "knee_left", "knee_right", "ankle_left", "ankle_right",
    "heel_left", "heel_right", "foot_index_left", "foot_index_right",
)  # fmt: skip
_MP_SIDED = ("eye_inner", "eye", "eye_outer", "ear", "mouth", "shoulder", "elbow", "wrist", "pinky",
             "index", "thumb", "hip", "knee", "ankle", "heel", "foot_index")  # fmt: skip


def _mediapipe_hand(side: str) -> Rule:
    return tuple((f"{part}_{side}", 1 / 3) for part in ("wrist", "index", "pinky"))


MEDIAPIPE_33 = Layout(
    name="mediapipe_33",
    joint_names=MEDIAPIPE_JOINTS,
    parents={
        "nose": "nose",
        **{f"{p}_{s}": "nose" for p in ("eye_inner", "mouth") for s in ("left", "right")},
        **{f"{p}_{s}": f"eye_inner_{s}" for p in ("eye",) for s in ("left", "right")},
        **{f"eye_outer_{s}": f"eye_{s}" for s in ("left", "right")},
        **{f"ear_{s}": f"eye_outer_{s}" for s in ("left", "right")},
        **{f"shoulder_{s}": "nose" for s in ("left", "right")},
        **{k: v for s in ("left", "right") for k, v in _chain(f"shoulder_{s}", f"elbow_{s}", f"wrist_{s}").items()},
        **{f"{p}_{s}": f"wrist_{s}" for p in ("pinky", "index", "thumb") for s in ("left", "right")},
        **{k: v for s in ("left", "right")
           for k, v in _chain(f"shoulder_{s}", f"hip_{s}", f"knee_{s}", f"ankle_{s}", f"heel_{s}").items()},
        **{f"foot_index_{s}": f"ankle_{s}" for s in ("left", "right")},
    },  # fmt: skip
    flip_pairs=tuple((f"{p}_left", f"{p}_right") for p in _MP_SIDED),
    dims=3,
    unified_rules={
        **_direct("nose", "eye_left", "eye_right", "ear_left", "ear_right"),
        **{f"{p}_{s}": ((f"{p}_{s}", 1.0),)
           for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle") for s in ("left", "right")},
        **{f"hand_{s}": _mediapipe_hand(s) for s in ("left", "right")},
        **{f"hand_tip_{s}": ((f"index_{s}", 1.0),) for s in ("left", "right")},
        **{f"thumb_{s}": ((f"thumb_{s}", 1.0),) for s in ("left", "right")},
        **{f"foot_{s}": ((f"foot_index_{s}", 1.0),) for s in ("left", "right")},
        "spine_shoulder": _mid("shoulder_left", "shoulder_right"),
        "spine_base": _mid("hip_left", "hip_right"),
        "spine_mid": tuple((n, 0.25) for n in ("shoulder_left", "shoulder_right", "hip_left", "hip_right")),
        "head": _mid("ear_left", "ear_right"),
        "neck": tuple((n, 0.25) for n in ("shoulder_left", "shoulder_right", "ear_left", "ear_right")),
    },  # fmt: skip
)

# --- Azure Kinect body tracking (k4abt), 32 joints ---------------------------
# Order and hierarchy of the SDK's k4abt_joint_id_t (Microsoft's "Azure Kinect body tracking joints"):
# 0 PELVIS, 1 SPINE_NAVEL, 2 SPINE_CHEST, 3 NECK, 4-10 CLAVICLE/SHOULDER/ELBOW/WRIST/HAND/HANDTIP/THUMB_LEFT,
# 11-17 the same on the right, 18-21 HIP/KNEE/ANKLE/FOOT_LEFT, 22-25 right, 26 HEAD, 27 NOSE,
# 28 EYE_LEFT, 29 EAR_LEFT, 30 EYE_RIGHT, 31 EAR_RIGHT. The arms hang from SPINE_CHEST through the
# clavicles, the thumb from the wrist, the face points from the head. Sides are the person's own, as in
# Kinect v2. The SDK reports millimetres in the depth camera's optical frame (x right, y down);
# `stream.sources.azure_kinect_bodies` converts them to this module's convention.
AZURE_KINECT_JOINTS = (
    "pelvis", "spine_navel", "spine_chest", "neck",
    "clavicle_left", "shoulder_left", "elbow_left", "wrist_left", "hand_left", "hand_tip_left", "thumb_left",
    "clavicle_right", "shoulder_right", "elbow_right", "wrist_right", "hand_right", "hand_tip_right", "thumb_right",
    "hip_left", "knee_left", "ankle_left", "foot_left",
    "hip_right", "knee_right", "ankle_right", "foot_right",
    "head", "nose", "eye_left", "ear_left", "eye_right", "ear_right",
)  # fmt: skip
AZURE_KINECT_32 = Layout(
    name="azure_kinect_32",
    joint_names=AZURE_KINECT_JOINTS,
    parents={
        "pelvis": "pelvis",
        **_chain("pelvis", "spine_navel", "spine_chest", "neck", "head"),
        **{k: v for s in ("left", "right") for k, v in _chain(
            "spine_chest", f"clavicle_{s}", f"shoulder_{s}", f"elbow_{s}", f"wrist_{s}", f"hand_{s}",
            f"hand_tip_{s}").items()},
        **{f"thumb_{s}": f"wrist_{s}" for s in ("left", "right")},
        **{k: v for s in ("left", "right")
           for k, v in _chain("pelvis", f"hip_{s}", f"knee_{s}", f"ankle_{s}", f"foot_{s}").items()},
        **{name: "head" for name in ("nose", "eye_left", "ear_left", "eye_right", "ear_right")},
    },  # fmt: skip
    flip_pairs=_LIMB_PAIRS
    + tuple((f"{part}_left", f"{part}_right") for part in ("clavicle", "hand_tip", "thumb", "eye", "ear")),
    dims=3,
    # The Kinect v2 joints by their place in the kinematic tree: the spine joint the arms branch from
    # (SPINE_CHEST) is Kinect v2's SpineShoulder, the navel joint its SpineMid. The clavicles have no
    # unified counterpart; the face points are COCO's.
    unified_rules={
        "spine_base": (("pelvis", 1.0),),
        "spine_mid": (("spine_navel", 1.0),),
        "spine_shoulder": (("spine_chest", 1.0),),
        **_direct("neck", "head", *(name for pair in _LIMB_PAIRS for name in pair),
                  "hand_tip_left", "hand_tip_right", "thumb_left", "thumb_right", *FACE_JOINTS),
    },  # fmt: skip
)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        KINECT_V2_25, UNIFIED_30, KINECT_V1_20, MSR_ACTION3D_20, UTD_MHAD_20, COCO_17, PENN_ACTION_13, MEDIAPIPE_33,
        AZURE_KINECT_32,
    )
}


def get_layout(name: str) -> Layout:
    """The layout registered under ``name``; a KeyError lists the known names."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
