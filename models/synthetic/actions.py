"""The action vocabulary as kinematic motion primitives.

Each action is a function ``primitive(phase, spec, body) -> Motion``: ``phase``
(n,) in [0, 1] runs over the action's frames, ``spec`` fixes everything that
was drawn at random when the action was planned (duration, speed, hand,
start and end of a walk), and the result gives the pose channels of
`skeleton.CHANNELS`, the floor position of the pelvis and the heading for each
phase. Primitives are pure functions, so any slice of an action can be
evaluated on its own (the generator renders in chunks).

Labels are UTKinect's (`ACTIONS`). ``idle`` is *background*, not an action:
the standing or seated rest pose, on which `sway` (breathing, balance, head
movements, a function of absolute time) is layered at every frame of every
action, so it never jumps at an action boundary.

Every primitive starts in the rest pose of its starting posture and ends in
the rest pose of its end posture with zero velocity (keyframes interpolated by
smoothstep, oscillations inside a smooth envelope); the generator also
cross-fades the first frames of an action from the previous action's final
pose. Postures: ``sitDown`` goes from standing to seated, ``standUp`` back;
a seated person can only ``standUp``, ``waveHands`` or ``clapHands``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.synthetic.skeleton import CHANNEL, NUM_CHANNELS, SIDES, BodyShape

ACTIONS: tuple[str, ...] = (
    "walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull", "waveHands", "clapHands",
)  # fmt: skip
IDLE = "idle"
STANDING, SEATED = "standing", "seated"
LOCOMOTION = frozenset({"walk", "carry"})
SEATED_ACTIONS = frozenset({"standUp", "waveHands", "clapHands"})

DEG = np.pi / 180.0
WALK_SPEED = 1.15  # mean walking speed (m/s) at speed factor 1
CARRY_SPEED = 0.95


def allowed(action: str, posture: str) -> bool:
    """Whether ``action`` can start from ``posture``."""
    if posture == SEATED:
        return action in SEATED_ACTIONS
    return action != "standUp"


def end_posture(action: str, posture: str) -> str:
    """The posture after ``action`` performed from ``posture``."""
    return {"sitDown": SEATED, "standUp": STANDING}.get(action, posture)


def wrap_angle(angle: float | np.ndarray) -> float | np.ndarray:
    """Angle(s) wrapped into [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


@dataclass(frozen=True)
class ActionSpec:
    """Everything a primitive needs besides the phase: drawn once, when the action is planned.

    Attributes:
        label: an entry of `ACTIONS` or `IDLE`.
        duration: seconds.
        posture: posture at the start (`STANDING` or `SEATED`).
        start_xz: floor position (x, z) of the pelvis at the start, camera frame.
        heading: body yaw at the start (0 faces the camera).
        speed: tempo factor (walking speed, waving and clapping rate).
        side: +1 right hand, -1 left hand, 0 both (pickUp, throw, waveHands).
        end_xz: floor position at the end (locomotion; else the start).
        end_heading: heading at the end (locomotion; else the start).
        turn_in: phase fraction spent turning toward the walking direction.
        turn_out: phase fraction spent turning to ``end_heading``.
        stride: two steps, metres (locomotion).
        variation: a number in [0, 1) varying amplitudes from one instance to the next.
    """

    label: str
    duration: float
    posture: str = STANDING
    start_xz: tuple[float, float] = (0.0, 0.0)
    heading: float = 0.0
    speed: float = 1.0
    side: int = 1
    end_xz: tuple[float, float] | None = None
    end_heading: float | None = None
    turn_in: float = 0.0
    turn_out: float = 0.0
    stride: float = 1.3
    variation: float = 0.5

    @property
    def final_posture(self) -> str:
        return end_posture(self.label, self.posture)

    @property
    def final_xz(self) -> tuple[float, float]:
        return self.end_xz if self.end_xz is not None else self.start_xz

    @property
    def final_heading(self) -> float:
        """Heading at phase 1 (continuous with the start: not wrapped)."""
        if self.label not in LOCOMOTION or self.end_heading is None:
            return self.heading
        travel = self.heading + wrap_angle(self._travel_heading() - self.heading)
        return float(travel + wrap_angle(self.end_heading - travel))

    def _travel_heading(self) -> float:
        dx, dz = np.subtract(self.final_xz, self.start_xz)
        if np.hypot(dx, dz) < 1e-9:
            return self.heading
        return float(np.arctan2(-dx, -dz))  # forward = (-sin h, -cos h)


@dataclass
class Motion:
    """A primitive's output over n phases."""

    angles: np.ndarray  # (n, NUM_CHANNELS)
    xz: np.ndarray  # (n, 2)
    heading: np.ndarray  # (n,)


# --- small helpers -----------------------------------------------------------


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def envelope(phase: np.ndarray, duration: float, ramp_s: float = 0.35, max_fraction: float = 0.35) -> np.ndarray:
    """0 at both ends, 1 in between, with smooth ramps of ``ramp_s`` seconds (at most ``max_fraction`` each)."""
    r = min(max_fraction, ramp_s / max(duration, 1e-6))
    return smoothstep(phase / r) * smoothstep((1.0 - phase) / r)


def keyframes(phase: np.ndarray, knots: tuple[float, ...], values: np.ndarray) -> np.ndarray:
    """Values (n, C) interpolated between keys by smoothstep: C1, zero velocity at every knot.

    ``knots`` increase from 0 to 1; ``values`` is (len(knots), C).
    """
    values = np.asarray(values, dtype=np.float64)
    knots_arr = np.asarray(knots, dtype=np.float64)
    k = np.clip(np.searchsorted(knots_arr, phase, side="right") - 1, 0, len(knots_arr) - 2)
    u = smoothstep((phase - knots_arr[k]) / (knots_arr[k + 1] - knots_arr[k]))[:, None]
    return values[k] * (1.0 - u) + values[k + 1] * u


def _pose_matrix(pose: dict[str, float], names: list[str]) -> np.ndarray:
    return np.array([pose.get(name, 0.0) for name in names])


def _key_channels(a: np.ndarray, phase: np.ndarray, knots: tuple[float, ...], poses: list[dict[str, float]]) -> None:
    """Add keyframed deltas to the pose ``a``: one dict per knot, channel name -> degrees (metres for ``root_*``).

    Names are full channel names: expand the ``_A`` / ``_O`` / ``_S`` shorthands with `_sided` first.
    """
    names = sorted({name for pose in poses for name in pose})
    values = np.stack([_pose_matrix(pose, names) for pose in poses])
    deltas = keyframes(phase, knots, values)
    for i, name in enumerate(names):
        a[:, CHANNEL[name]] += deltas[:, i] * (1.0 if name.startswith("root_") else DEG)


def _sided(pose: dict[str, float], side: int) -> dict[str, float]:
    """Expand limb channels: ``X_A`` (active hand: ``side``), ``X_O`` (other hand), ``X_S`` (both)."""
    active, other = ("right", "left") if side >= 0 else ("left", "right")
    out: dict[str, float] = {}
    for name, value in pose.items():
        base, _, tag = name.rpartition("_")
        if tag == "A":
            out[f"{base}_{active}"] = out.get(f"{base}_{active}", 0.0) + value
            if side == 0:
                out[f"{base}_{other}"] = out.get(f"{base}_{other}", 0.0) + value
        elif tag == "O":
            if side != 0:
                out[f"{base}_{other}"] = out.get(f"{base}_{other}", 0.0) + value
        elif tag == "S":
            for s, _ in SIDES:
                out[f"{base}_{s}"] = out.get(f"{base}_{s}", 0.0) + value
        else:
            out[name] = out.get(name, 0.0) + value
    return out


def _blend_arms(a: np.ndarray, target: dict[str, np.ndarray], weight: np.ndarray) -> None:
    """Move arm channels from the current pose toward ``target`` (radians) by ``weight`` (n,)."""
    for name, value in target.items():
        i = CHANNEL[name]
        a[:, i] = (1.0 - weight) * a[:, i] + weight * value


def _feet_anchor(a: np.ndarray, body: BodyShape) -> None:
    """Shift the pelvis back so the feet stay put while the hips and knees flex (sitting, squatting)."""
    thigh = a[:, CHANNEL["hip_flex_right"]] - a[:, CHANNEL["pelvis_pitch"]]
    shank = thigh - a[:, CHANNEL["knee_flex_right"]]
    a[:, CHANNEL["root_dz"]] += body.thigh * np.sin(thigh) + body.shank * np.sin(shank)


def _static(phase: np.ndarray, spec: ActionSpec, angles: np.ndarray) -> Motion:
    n = len(phase)
    return Motion(angles, np.tile(np.asarray(spec.start_xz, dtype=np.float64), (n, 1)), np.full(n, spec.heading))


# --- rest poses and background sway -------------------------------------------

_STANDING_REST = {"shoulder_abd_S": 6.0, "elbow_flex_S": 10.0, "shoulder_rot_S": 5.0}
_SEATED_REST = {
    "hip_flex_S": 90.0, "knee_flex_S": 90.0, "hip_abd_S": 6.0, "hip_rot_S": -4.0, "spine_pitch": 4.0,
    "shoulder_flex_S": 12.0, "shoulder_abd_S": 8.0, "elbow_flex_S": 55.0, "shoulder_rot_S": 20.0,
}  # fmt: skip


def _pose_vector(pose: dict[str, float]) -> np.ndarray:
    out = np.zeros(NUM_CHANNELS)
    for name, value in _sided(pose, 0).items():
        out[CHANNEL[name]] += value * (1.0 if name.startswith("root_") else DEG)
    return out


def rest_pose(posture: str, body: BodyShape, n: int = 1) -> np.ndarray:
    """(n, NUM_CHANNELS) standing or seated rest pose (seated: feet on the floor below the knees)."""
    if posture not in (STANDING, SEATED):
        raise ValueError(f"unknown posture {posture!r}")
    a = np.tile(_pose_vector(_STANDING_REST if posture == STANDING else _SEATED_REST), (n, 1))
    if posture == SEATED:
        _feet_anchor(a, body)
    return a


@dataclass(frozen=True)
class SwayParams:
    """Per-person background motion: amplitudes scale, random phases and rates."""

    amplitude: float
    phases: tuple[float, ...]
    rates: tuple[float, ...]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> SwayParams:
        return cls(
            amplitude=float(rng.uniform(0.6, 1.4)),
            phases=tuple(float(x) for x in rng.uniform(0, 2 * np.pi, 7)),
            rates=tuple(float(x) for x in rng.uniform(0.85, 1.15, 7)),
        )


# (channel, amplitude in degrees or metres, base rate in Hz)
_SWAY_TERMS = (
    ("chest_pitch", 0.8, 0.25),  # breathing
    ("shoulder_abd_S", 1.0, 0.25),  # breathing
    ("spine_roll", 1.2, 0.11),  # balance
    ("root_dx", 0.012, 0.09),
    ("root_dz", 0.008, 0.13),
    ("neck_yaw", 6.0, 0.05),  # looking around
    ("neck_pitch", 3.0, 0.07),
)


def sway(t: np.ndarray, params: SwayParams) -> np.ndarray:
    """(n, NUM_CHANNELS) background motion at absolute times ``t`` (s): added to every pose."""
    out = np.zeros((len(t), NUM_CHANNELS))
    for (name, amp, rate), phase, jitter in zip(_SWAY_TERMS, params.phases, params.rates, strict=True):
        value = params.amplitude * amp * np.sin(2 * np.pi * rate * jitter * t + phase)
        scale = 1.0 if name.startswith("root_") else DEG
        for target in _sided({name: 1.0}, 0):
            out[:, CHANNEL[target]] += value * scale
    return out


# --- primitives -----------------------------------------------------------------


def idle(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Background: the rest pose of the current posture (sway is added by the generator)."""
    return _static(phase, spec, rest_pose(spec.posture, body, len(phase)))


def walk_ramp(walk_time: float) -> float:
    """Fraction of a walk spent accelerating (and as much decelerating): about 0.5 s, at most 40 %."""
    return min(0.4, 0.5 / max(walk_time, 1e-6))


def peak_walk_speed(distance: float, walk_time: float) -> float:
    """Peak speed (m/s) of a walk of ``distance`` metres in ``walk_time`` seconds."""
    return distance / (max(walk_time, 1e-6) * (1.0 - walk_ramp(walk_time)))


def _trapezoid(tau: np.ndarray, ramp: float) -> tuple[np.ndarray, np.ndarray]:
    """Progress in [0, 1] and speed (peak 1) of a trapezoidal velocity profile over tau in [0, 1]."""
    r = ramp
    tau = np.clip(tau, 0.0, 1.0)
    dist = np.where(
        tau < r, tau * tau / (2 * r), np.where(tau > 1 - r, (1 - r) - (1 - tau) ** 2 / (2 * r), tau - r / 2)
    )
    speed = np.minimum.reduce([tau / r, np.ones_like(tau), (1 - tau) / r])
    return dist / (1 - r), speed


def _locomotion(phase: np.ndarray, spec: ActionSpec, body: BodyShape, carrying: bool) -> Motion:
    n = len(phase)
    a = rest_pose(STANDING, body, n)
    start = np.asarray(spec.start_xz, dtype=np.float64)
    end = np.asarray(spec.final_xz, dtype=np.float64)
    ti, to = spec.turn_in, spec.turn_out
    h0 = spec.heading
    h_travel = h0 + float(wrap_angle(spec._travel_heading() - h0))
    h_end = spec.final_heading
    turn_in = smoothstep(phase / ti) if ti > 0 else np.ones(n)
    turn_out = smoothstep((phase - (1 - to)) / to) if to > 0 else np.zeros(n)
    heading = h0 + (h_travel - h0) * turn_in + (h_end - h_travel) * turn_out

    walk_time = spec.duration * (1 - ti - to)
    tau = (phase - ti) / max(1 - ti - to, 1e-9)
    progress, speed = _trapezoid(tau, walk_ramp(walk_time))
    xz = start + (end - start) * progress[:, None]
    distance = float(np.hypot(*(end - start)))

    # Gait: one cycle per stride, amplitude following the walking speed.
    g = 2 * np.pi * distance * progress / spec.stride
    amp = speed * (0.85 + 0.3 * spec.variation)
    hip, knee, arm = 24 * DEG, 58 * DEG, 18 * DEG
    for side_name, s in SIDES:
        gs = g if s > 0 else g + np.pi
        a[:, CHANNEL[f"hip_flex_{side_name}"]] += amp * hip * np.sin(gs)
        a[:, CHANNEL[f"knee_flex_{side_name}"]] += amp * (5 * DEG + knee * (0.5 + 0.5 * np.cos(gs - 0.4)) ** 3)
        a[:, CHANNEL[f"ankle_flex_{side_name}"]] += amp * 8 * DEG * np.cos(gs)
        if not carrying:
            a[:, CHANNEL[f"shoulder_flex_{side_name}"]] -= amp * arm * np.sin(gs)
            a[:, CHANNEL[f"elbow_flex_{side_name}"]] += amp * 10 * DEG * (1 - np.sin(gs)) / 2
    a[:, CHANNEL["pelvis_yaw"]] += amp * 4 * DEG * np.sin(g)
    a[:, CHANNEL["chest_yaw"]] -= amp * 6 * DEG * np.sin(g)
    a[:, CHANNEL["spine_pitch"]] += amp * 4 * DEG
    if carrying:
        hold = _sided({"shoulder_flex_S": 28, "shoulder_abd_S": 12, "elbow_flex_S": 88, "shoulder_rot_S": 12}, 0)
        _blend_arms(a, {k: v * DEG for k, v in hold.items()}, envelope(phase, spec.duration, 0.6))
        a[:, CHANNEL["spine_pitch"]] -= envelope(phase, spec.duration, 0.6) * 5 * DEG  # lean back under the load
    return Motion(a, xz, heading)


def walk(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Turn toward the goal, walk there (trapezoidal speed profile), turn to ``end_heading``."""
    return _locomotion(phase, spec, body, carrying=False)


def carry(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Walk holding a box in front of the chest with both hands."""
    return _locomotion(phase, spec, body, carrying=True)


def sit_down(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Standing to seated: lean forward, bend hips and knees, sit back upright."""
    a = rest_pose(STANDING, body, len(phase))
    mid = {
        "pelvis_pitch": 28, "hip_flex_S": 78, "knee_flex_S": 62, "spine_pitch": 8, "neck_pitch": -10,
        "shoulder_flex_S": 25, "elbow_flex_S": 20, "shoulder_abd_S": 6, "hip_abd_S": 3,
    }  # fmt: skip
    seated = _seated_delta()
    _key_channels(a, phase, (0.0, 0.5, 1.0), [{}, _sided(mid, 0), seated])
    _feet_anchor(a, body)
    return _static(phase, spec, a)


def stand_up(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Seated to standing: lean forward over the feet, extend hips and knees."""
    a = rest_pose(STANDING, body, len(phase))
    mid = {
        "pelvis_pitch": 32, "hip_flex_S": 85, "knee_flex_S": 65, "spine_pitch": 8, "neck_pitch": -10,
        "shoulder_flex_S": 20, "elbow_flex_S": 25, "hip_abd_S": 4,
    }  # fmt: skip
    _key_channels(a, phase, (0.0, 0.45, 1.0), [_seated_delta(), _sided(mid, 0), {}])
    _feet_anchor(a, body)
    return _static(phase, spec, a)


def _seated_delta() -> dict[str, float]:
    """Seated rest minus standing rest, as keyframe deltas (degrees)."""
    seated, standing = _sided(_SEATED_REST, 0), _sided(_STANDING_REST, 0)
    return {k: seated.get(k, 0.0) - standing.get(k, 0.0) for k in set(seated) | set(standing)}


def pick_up(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Bend and squat, reach to the floor with one or both hands, straighten up."""
    a = rest_pose(STANDING, body, len(phase))
    depth = 0.85 + 0.3 * spec.variation
    bend = 55 * depth + 25 * depth + 10  # pelvis + spine + chest: the arms must swing that far to hang
    bottom = {
        "pelvis_pitch": 55 * depth, "hip_flex_S": 55 * depth + 50, "knee_flex_S": 80, "ankle_flex_S": 20,
        "spine_pitch": 25 * depth, "chest_pitch": 10, "neck_pitch": -25,
        "shoulder_flex_A": bend + 10, "shoulder_abd_A": -4, "elbow_flex_A": 5, "shoulder_rot_A": 10,
        "shoulder_flex_O": bend - 15, "shoulder_abd_O": 8, "elbow_flex_O": 35,
    }  # fmt: skip
    grab = dict(bottom, elbow_flex_A=20.0, wrist_flex_A=25.0)
    _key_channels(a, phase, (0.0, 0.38, 0.55, 1.0), [{}, _sided(bottom, spec.side), _sided(grab, spec.side), {}])
    _feet_anchor(a, body)
    return _static(phase, spec, a)


def throw(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Overarm throw with one hand: wind up behind the head, whip forward, follow through."""
    a = rest_pose(STANDING, body, len(phase))
    s = 1 if spec.side >= 0 else -1  # the throwing side
    windup = {
        "shoulder_abd_A": 80, "shoulder_flex_A": -15, "shoulder_rot_A": -75, "elbow_flex_A": 95, "wrist_flex_A": -20,
        "shoulder_flex_O": 40, "shoulder_abd_O": 10, "elbow_flex_O": 30,
        "chest_yaw": -25 * s, "spine_yaw": -10 * s, "spine_pitch": -6, "spine_roll": 6 * s,
    }  # fmt: skip
    release = {
        "shoulder_abd_A": 35, "shoulder_flex_A": 120, "shoulder_rot_A": -10, "elbow_flex_A": 25, "wrist_flex_A": 15,
        "shoulder_flex_O": 10, "shoulder_abd_O": 10, "elbow_flex_O": 30,
        "chest_yaw": 15 * s, "spine_yaw": 8 * s, "spine_pitch": 12,
    }  # fmt: skip
    follow = {
        "shoulder_abd_A": 15, "shoulder_flex_A": 45, "shoulder_rot_A": 30, "elbow_flex_A": 20,
        "shoulder_flex_O": -5, "elbow_flex_O": 20, "chest_yaw": 25 * s, "spine_yaw": 10 * s, "spine_pitch": 18,
    }  # fmt: skip
    knots = (0.0, 0.3, 0.62, 0.78, 1.0)
    _key_channels(a, phase, knots, [{}, _sided(windup, s), _sided(release, s), _sided(follow, s), {}])
    return _static(phase, spec, a)


_ARMS_AT_CHEST = {
    "shoulder_flex_S": 45, "shoulder_abd_S": 20, "elbow_flex_S": 115, "shoulder_rot_S": 15, "wrist_flex_S": -55,
}  # fmt: skip
_ARMS_FORWARD = {
    "shoulder_flex_S": 82, "shoulder_abd_S": 8, "elbow_flex_S": 12, "shoulder_rot_S": 10, "wrist_flex_S": -60,
}  # fmt: skip


def push(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Hands to the chest, then push forward with both arms while leaning into it."""
    a = rest_pose(STANDING, body, len(phase))
    lean = 12 + 8 * spec.variation
    chest = dict(_ARMS_AT_CHEST, spine_pitch=2.0)
    out = dict(_ARMS_FORWARD, spine_pitch=lean, pelvis_pitch=4.0, hip_flex_S=12.0, knee_flex_S=15.0)
    _key_channels(a, phase, (0.0, 0.3, 0.68, 1.0), [{}, _sided(chest, 0), _sided(out, 0), {}])
    _feet_anchor(a, body)
    return _static(phase, spec, a)


def pull(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Reach forward and grip, then pull both hands to the chest while leaning back."""
    a = rest_pose(STANDING, body, len(phase))
    lean = 8 + 6 * spec.variation
    reach = dict(_ARMS_FORWARD, wrist_flex_S=10.0, spine_pitch=10.0)
    back = dict(_ARMS_AT_CHEST, wrist_flex_S=10.0, spine_pitch=-lean, hip_flex_S=10.0, knee_flex_S=18.0)
    _key_channels(a, phase, (0.0, 0.3, 0.68, 1.0), [{}, _sided(reach, 0), _sided(back, 0), {}])
    _feet_anchor(a, body)
    return _static(phase, spec, a)


def _cycles(spec: ActionSpec, rate_hz: float) -> float:
    """A whole number of oscillations over the action (at least one)."""
    return float(max(1, round(spec.duration * rate_hz * spec.speed)))


def wave_hands(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Raise one or both hands above the head and wave them side to side."""
    a = rest_pose(spec.posture, body, len(phase))
    env = envelope(phase, spec.duration, 0.75, max_fraction=0.4)
    osc = np.sin(2 * np.pi * _cycles(spec, 1.5) * phase) * smoothstep(env * 2.0 - 1.0)
    amp = 22 + 10 * spec.variation
    target: dict[str, np.ndarray] = {}
    for side_name, s in SIDES:
        active = spec.side == 0 or spec.side == s
        if not active:
            continue
        target[f"shoulder_abd_{side_name}"] = (150 + 0.3 * amp * osc * s) * DEG
        target[f"shoulder_flex_{side_name}"] = 15 * DEG * np.ones_like(phase)
        target[f"shoulder_rot_{side_name}"] = -80 * DEG * np.ones_like(phase)
        target[f"elbow_flex_{side_name}"] = (35 + amp * osc * s) * DEG
        target[f"wrist_flex_{side_name}"] = 10 * DEG * osc
    _blend_arms(a, target, env)
    return _static(phase, spec, a)


def clap_hands(phase: np.ndarray, spec: ActionSpec, body: BodyShape) -> Motion:
    """Bring the hands together in front of the chest and clap repeatedly."""
    a = rest_pose(spec.posture, body, len(phase))
    env = envelope(phase, spec.duration, 0.45)
    claps = 0.5 - 0.5 * np.cos(2 * np.pi * _cycles(spec, 2.2) * phase)  # 0 = hands together
    open_ = claps * smoothstep(env * 1.5 - 0.4)
    target = {}
    for side_name, _ in SIDES:
        target[f"shoulder_flex_{side_name}"] = (40 + 5 * spec.variation) * DEG * np.ones_like(phase)
        target[f"shoulder_abd_{side_name}"] = (12 + 18 * open_) * DEG
        target[f"shoulder_rot_{side_name}"] = (31 - 27 * open_) * DEG
        target[f"elbow_flex_{side_name}"] = 95 * DEG * np.ones_like(phase)
        target[f"wrist_flex_{side_name}"] = -15 * DEG * np.ones_like(phase)
    _blend_arms(a, target, env)
    return _static(phase, spec, a)


Primitive = Callable[[np.ndarray, ActionSpec, BodyShape], Motion]
PRIMITIVES: dict[str, Primitive] = {
    IDLE: idle,
    "walk": walk,
    "sitDown": sit_down,
    "standUp": stand_up,
    "pickUp": pick_up,
    "carry": carry,
    "throw": throw,
    "push": push,
    "pull": pull,
    "waveHands": wave_hands,
    "clapHands": clap_hands,
}


def evaluate(spec: ActionSpec, phase: np.ndarray, body: BodyShape) -> Motion:
    """The motion of ``spec`` at ``phase`` (n,) in [0, 1]."""
    try:
        primitive = PRIMITIVES[spec.label]
    except KeyError:
        raise ValueError(f"unknown action {spec.label!r}; known: {', '.join(PRIMITIVES)}") from None
    return primitive(np.asarray(phase, dtype=np.float64), spec, body)
