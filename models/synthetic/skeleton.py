"""A parametric human body and its forward kinematics into ``unified_30``.

Bone lengths come from a stature and anthropometric proportions (fractions of
stature after Drillis & Contini / Winter, adjusted to where a Kinect v2 places
its joints); a per-person jitter varies the proportions while keeping the
stature exact. A pose is a vector of named joint angles (`CHANNELS`, radians)
plus a heading and a position on the floor; `forward_kinematics` turns a batch
of poses into joint positions in metres, in the camera frame of the 3D layouts:
x to the camera's left (the person's right when they face the camera), y up,
z away from the camera.

Body frame, used for every offset below: +x the person's right, +y up, -z the
person's forward. Heading 0 therefore faces the camera. Angle conventions
(positive values):

- ``*_pitch`` of the pelvis, spine, chest and neck: bend forward;
- ``*_yaw``: twist toward the person's left; ``*_roll``: lean toward the left;
- ``shoulder_flex`` / ``hip_flex``: raise the limb forward;
  ``shoulder_abd`` / ``hip_abd``: raise it sideways, away from the body;
  ``shoulder_rot`` / ``hip_rot``: internal rotation about the limb's axis;
- ``elbow_flex``: bring the forearm forward and up; ``knee_flex``: fold the
  shank backward; ``ankle_flex``: toes up; ``wrist_flex``: palm toward the forearm;
- ``root_dx`` / ``root_dz``: shift of the pelvis in the body frame (metres).

Left and right limbs share the conventions (the left chain is the mirror image
of the right one), so equal angles give mirror-symmetric poses.

The vertical position of the body is not a channel: the lowest ankle or foot
is placed on the floor, so bending the knees lowers the pelvis and a walking
body bobs over its stance foot.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from models.skeleton.layouts import UNIFIED_30

JOINT = {name: i for i, name in enumerate(UNIFIED_30.joint_names)}
NUM_JOINTS = UNIFIED_30.num_joints

SIDES = (("right", 1.0), ("left", -1.0))
_LIMB_CHANNELS = (
    "shoulder_flex", "shoulder_abd", "shoulder_rot", "elbow_flex", "wrist_flex",
    "hip_flex", "hip_abd", "hip_rot", "knee_flex", "ankle_flex",
)  # fmt: skip
CHANNELS: tuple[str, ...] = (
    "pelvis_pitch", "pelvis_roll", "pelvis_yaw",
    "spine_pitch", "spine_roll", "spine_yaw",
    "chest_pitch", "chest_roll", "chest_yaw",
    "neck_pitch", "neck_yaw",
    "root_dx", "root_dz",
    *(f"{channel}_{side}" for side, _ in SIDES for channel in _LIMB_CHANNELS),
)  # fmt: skip
CHANNEL = {name: i for i, name in enumerate(CHANNELS)}
NUM_CHANNELS = len(CHANNELS)

# Fractions of stature. The vertical chain (ankle_height .. crown) sums to 1.
PROPORTIONS: dict[str, float] = {
    "ankle_height": 0.039,  # floor -> ankle joint
    "shank": 0.246,  # ankle -> knee
    "thigh": 0.245,  # knee -> hip joint
    "hip_drop": 0.030,  # hip joints below spine_base
    "lower_spine": 0.150,  # spine_base -> spine_mid
    "upper_spine": 0.110,  # spine_mid -> spine_shoulder
    "neck": 0.045,  # spine_shoulder -> neck
    "head": 0.070,  # neck -> head joint (centre of the head)
    "crown": 0.065,  # head joint -> top of the skull (no joint)
    "hip_half_width": 0.048,
    "shoulder_half_width": 0.105,
    "shoulder_drop": 0.015,
    "upper_arm": 0.170,
    "forearm": 0.145,
    "hand": 0.045,  # wrist -> hand (mid palm)
    "hand_tip": 0.050,  # hand -> tip of the middle finger
    "thumb": 0.032,
    "foot": 0.075,  # ankle -> foot, forward
    "foot_drop": 0.024,  # foot joint below the ankle
    "nose": 0.055,  # head joint -> nose, forward
    "eye_forward": 0.046,
    "eye_up": 0.012,
    "eye_half_width": 0.018,
    "ear_half_width": 0.043,
}
_VERTICAL = ("ankle_height", "shank", "thigh", "hip_drop", "lower_spine", "upper_spine", "neck", "head", "crown")


@dataclass(frozen=True)
class BodyShape:
    """One person's bone lengths in metres (see `PROPORTIONS` for what each is)."""

    height: float
    ankle_height: float
    shank: float
    thigh: float
    hip_drop: float
    lower_spine: float
    upper_spine: float
    neck: float
    head: float
    crown: float
    hip_half_width: float
    shoulder_half_width: float
    shoulder_drop: float
    upper_arm: float
    forearm: float
    hand: float
    hand_tip: float
    thumb: float
    foot: float
    foot_drop: float
    nose: float
    eye_forward: float
    eye_up: float
    eye_half_width: float
    ear_half_width: float

    @classmethod
    def from_height(
        cls, height: float, rng: np.random.Generator | None = None, variation: float = 0.03
    ) -> BodyShape:
        """A body of stature ``height`` (m); with ``rng``, each proportion varies by ~``variation`` (relative sd).

        Left and right share every length. The proportions are renormalised so
        that floor-to-crown is exactly ``height`` in the rest pose.
        """
        if not np.isfinite(height) or height <= 0:
            raise ValueError(f"body height must be a positive number of metres, got {height}")
        ratios = dict(PROPORTIONS)
        if rng is not None and variation > 0:
            for name in ratios:
                ratios[name] *= 1.0 + float(np.clip(rng.normal(0.0, variation), -3 * variation, 3 * variation))
        scale = height / sum(ratios[name] for name in _VERTICAL)
        return cls(height=float(height), **{name: ratios[name] * scale for name in PROPORTIONS})

    @classmethod
    def sample(cls, rng: np.random.Generator, height_range: tuple[float, float] = (1.5, 1.95)) -> BodyShape:
        """A random body: stature uniform in ``height_range``, proportions jittered."""
        return cls.from_height(float(rng.uniform(*height_range)), rng)

    @property
    def leg_length(self) -> float:
        """Floor to hip joint, standing."""
        return self.ankle_height + self.shank + self.thigh

    @property
    def pelvis_height(self) -> float:
        """Floor to spine_base, standing in the rest pose."""
        return self.leg_length + self.hip_drop

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations by ``angle`` (N,) about the x (0), y (1) or z (2) axis."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def _euler(yaw: np.ndarray, pitch_forward: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Twist, then forward bend, then sideways lean of a segment pointing up."""
    return _rot(1, yaw) @ _rot(0, -pitch_forward) @ _rot(2, roll)


def _limb(side: float, abd: np.ndarray, flex: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Rotation of a hanging limb (shoulder or hip); the left side mirrors the right."""
    return _rot(2, side * abd) @ _rot(0, flex) @ _rot(1, side * rot)


def _apply(rotation: np.ndarray, offset: tuple[float, float, float]) -> np.ndarray:
    """(N, 3): ``rotation`` (N, 3, 3) applied to one fixed offset."""
    return rotation @ np.asarray(offset, dtype=np.float64)


def forward_kinematics(
    body: BodyShape,
    angles: np.ndarray,
    heading: np.ndarray,
    root_xz: np.ndarray,
    floor_y: float = 0.0,
) -> np.ndarray:
    """Joint positions (N, 30, 3) in metres, unified_30 order, camera frame.

    Args:
        body: bone lengths.
        angles: (N, NUM_CHANNELS) pose channels (radians; ``root_d*`` in metres).
        heading: (N,) yaw of the body about +y; 0 faces the camera (forward = -z).
        root_xz: (N, 2) floor position of the pelvis (x, z) in the camera frame.
        floor_y: height of the floor in the camera frame (negative when the
            camera is above the floor).
    """
    angles = np.asarray(angles, dtype=np.float64)
    n = angles.shape[0]
    if angles.shape != (n, NUM_CHANNELS):
        raise ValueError(f"angles must be (N, {NUM_CHANNELS}), got {angles.shape}")
    b = body

    def ch(name: str) -> np.ndarray:
        return angles[:, CHANNEL[name]]

    pos = np.zeros((n, NUM_JOINTS, 3))
    pelvis = _rot(1, np.asarray(heading, dtype=np.float64)) @ _euler(
        ch("pelvis_yaw"), ch("pelvis_pitch"), ch("pelvis_roll")
    )
    spine = pelvis @ _euler(ch("spine_yaw"), ch("spine_pitch"), ch("spine_roll"))
    chest = spine @ _euler(ch("chest_yaw"), ch("chest_pitch"), ch("chest_roll"))
    head = chest @ _euler(ch("neck_yaw"), ch("neck_pitch"), np.zeros(n))

    pos[:, JOINT["spine_mid"]] = _apply(spine, (0.0, b.lower_spine, 0.0))
    pos[:, JOINT["spine_shoulder"]] = pos[:, JOINT["spine_mid"]] + _apply(chest, (0.0, b.upper_spine, 0.0))
    pos[:, JOINT["neck"]] = pos[:, JOINT["spine_shoulder"]] + _apply(chest, (0.0, b.neck, 0.0))
    pos[:, JOINT["head"]] = pos[:, JOINT["neck"]] + _apply(head, (0.0, b.head, 0.0))
    head_pos = pos[:, JOINT["head"]]
    pos[:, JOINT["nose"]] = head_pos + _apply(head, (0.0, -0.1 * b.nose, -b.nose))

    for side_name, s in SIDES:
        limb = {name: ch(f"{name}_{side_name}") for name in _LIMB_CHANNELS}
        # Face: eye and ear on this side.
        pos[:, JOINT[f"eye_{side_name}"]] = head_pos + _apply(head, (s * b.eye_half_width, b.eye_up, -b.eye_forward))
        pos[:, JOINT[f"ear_{side_name}"]] = head_pos + _apply(head, (s * b.ear_half_width, 0.0, 0.1 * b.nose))

        # Arm.
        shoulder = pos[:, JOINT["spine_shoulder"]] + _apply(chest, (s * b.shoulder_half_width, -b.shoulder_drop, 0.0))
        upper = chest @ _limb(s, limb["shoulder_abd"], limb["shoulder_flex"], limb["shoulder_rot"])
        elbow = shoulder + _apply(upper, (0.0, -b.upper_arm, 0.0))
        fore = upper @ _rot(0, limb["elbow_flex"])
        wrist = elbow + _apply(fore, (0.0, -b.forearm, 0.0))
        palm = fore @ _rot(0, limb["wrist_flex"])
        hand = wrist + _apply(palm, (0.0, -b.hand, 0.0))
        pos[:, JOINT[f"shoulder_{side_name}"]] = shoulder
        pos[:, JOINT[f"elbow_{side_name}"]] = elbow
        pos[:, JOINT[f"wrist_{side_name}"]] = wrist
        pos[:, JOINT[f"hand_{side_name}"]] = hand
        pos[:, JOINT[f"hand_tip_{side_name}"]] = hand + _apply(palm, (0.0, -b.hand_tip, 0.0))
        thumb = (-s * 0.25 * b.thumb, -0.45 * b.thumb, -0.85 * b.thumb)  # toward the palm's front
        pos[:, JOINT[f"thumb_{side_name}"]] = hand + _apply(palm, thumb)

        # Leg.
        hip = _apply(pelvis, (s * b.hip_half_width, -b.hip_drop, 0.0))
        thigh = pelvis @ _limb(s, limb["hip_abd"], limb["hip_flex"], limb["hip_rot"])
        knee = hip + _apply(thigh, (0.0, -b.thigh, 0.0))
        shank = thigh @ _rot(0, -limb["knee_flex"])
        ankle = knee + _apply(shank, (0.0, -b.shank, 0.0))
        foot = shank @ _rot(0, limb["ankle_flex"])
        pos[:, JOINT[f"hip_{side_name}"]] = hip
        pos[:, JOINT[f"knee_{side_name}"]] = knee
        pos[:, JOINT[f"ankle_{side_name}"]] = ankle
        pos[:, JOINT[f"foot_{side_name}"]] = ankle + _apply(foot, (0.0, -b.foot_drop, -b.foot))

    # Stand on the floor: the lowest ankle (or foot joint) rests at its standing height.
    clearance = np.minimum.reduce(
        [
            pos[:, JOINT["ankle_left"], 1] - b.ankle_height,
            pos[:, JOINT["ankle_right"], 1] - b.ankle_height,
            pos[:, JOINT["foot_left"], 1] - (b.ankle_height - b.foot_drop),
            pos[:, JOINT["foot_right"], 1] - (b.ankle_height - b.foot_drop),
        ]
    )
    shift_local = np.stack([ch("root_dx"), np.zeros(n), ch("root_dz")], axis=-1)
    shift = np.einsum("nij,nj->ni", _rot(1, np.asarray(heading, dtype=np.float64)), shift_local)
    root = np.stack([root_xz[:, 0], floor_y - clearance, root_xz[:, 1]], axis=-1) + shift
    return pos + root[:, None, :]
