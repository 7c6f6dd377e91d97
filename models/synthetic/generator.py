"""Seeded generator of continuous, labelled multi-person skeleton sequences in ``unified_30``.

For the embedded demo, tests and load tests; never a substitute for real data
in reported accuracy. Usage::

    from models.synthetic.generator import SyntheticConfig, generate_people, generate_sequence, iter_frames

    people = generate_people(SyntheticConfig(num_people=2, duration=60.0, seed=1))  # one sequence per person
    scene = generate_sequence(SyntheticConfig(num_people=2, duration=60.0, seed=1))  # joints (T, 2, 30, 3)
    for frame in iter_frames(SyntheticConfig(num_people=8, seed=3)):  # no length: an endless stream
        frame.index, frame.joints, frame.mask, frame.labels

Decisions:

- **Idle is background.** ``segments`` cover only the actions of
  `actions.ACTIONS`; every frame outside a segment is idle (standing or seated
  rest with breathing and sway), which the detector treats as background. In
  `iter_frames` a background frame's label is ``None``.
- **One timeline per person.** `generate_people` returns one
  `SkeletonSequence` per person (M = 1 each, its own ``segments``,
  ``subject`` = the person's index). `generate_sequence` stacks them into one
  (T, M, V, 3) sequence whose ``segments`` are body 0's (a SkeletonSequence
  has no per-body segments); use `generate_people` for everyone's labels.
- **Missing joints** (``missing_prob``, independent per joint and frame) get
  mask 0 and keep their noisy position: finite, never zero, never NaN.
- **Deterministic**: one seed fixes everything. Motion, body and noise draw
  from separate streams, so changing ``noise_std`` or ``missing_prob`` leaves
  the motion unchanged; person i's body does not depend on ``num_people``.
  A finite sequence is a prefix of the endless stream of the same seed except
  near its end, where the last action is shortened (never below
  ``min_action_duration``) or dropped so that no segment is cut by the end.
- **Speeds**: limbs stay below 0.25 m per frame at 30 fps with the default
  durations; ``min_action_duration`` well under a second makes keyframed
  actions (throw, sitDown) proportionally faster.
- **Streaming**: generation runs in fixed chunks of `CHUNK_FRAMES`; the
  planner keeps only the actions overlapping the current chunk, so
  `iter_frames` runs in constant memory, and `generate_people` and
  `iter_frames` give identical frames for the same config.

Scene: the camera looks along +z from ``camera_height`` above the floor
(floor at y = -camera_height, camera frame of `skeleton`), the floor area is
centred ``camera_distance`` in front of it; each person has their own cell of
the floor (cells do not overlap, though a seated pelvis sits up to a thigh
length behind its cell's point), a stature, a facing yaw (the direction they face
when not walking; 0 faces the camera) and their own timeline of idle gaps and
actions. ``crossing=True`` makes persons 0 and 1 walk past each other
repeatedly along two lanes 0.7 m apart in depth (they swap sides in the image
at the same moment); the other persons act in cells behind them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from models.skeleton.sequence import Segment, SkeletonSequence
from models.synthetic.actions import (
    ACTIONS,
    CARRY_SPEED,
    IDLE,
    LOCOMOTION,
    SEATED,
    STANDING,
    WALK_SPEED,
    ActionSpec,
    SwayParams,
    allowed,
    evaluate,
    peak_walk_speed,
    smoothstep,
    sway,
    wrap_angle,
)
from models.synthetic.skeleton import NUM_CHANNELS, NUM_JOINTS, BodyShape, forward_kinematics

__all__ = [
    "CHUNK_FRAMES", "SyntheticConfig", "SyntheticFrame",
    "generate_people", "generate_sequence", "iter_frames", "stack_people",
]  # fmt: skip

CHUNK_FRAMES = 256
BLEND_SECONDS = 0.2  # cross-fade from the previous action's final pose
LAYOUT = "unified_30"

_CELL_MARGIN = 0.4  # metres kept free at each edge of a person's floor cell
_LANE_HALF_LENGTH = 1.5  # crossing lanes run from x = -1.5 to +1.5 m
_LANE_OFFSET = 0.35  # crossing lanes at camera_distance -/+ this


def _range(value: object, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"SyntheticConfig.{name} must be a (low, high) pair of numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"SyntheticConfig.{name} must be finite with low <= high, got {value!r}")
    return lo, hi


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate. Validates itself; every error names the bad field.

    Attributes:
        fps: frame rate.
        num_people: people in the scene (M).
        num_frames: length in frames; or give ``duration``; neither means an
            endless stream (`iter_frames` only).
        duration: length in seconds (rounded to frames).
        seed: non-negative integer fixing everything.
        height_range: stature range, metres.
        speed_range: tempo factor range (walking speed, waving and clapping rate),
            drawn per action.
        yaw_range: facing yaw range in degrees, drawn per person; 0 faces the camera.
        camera_distance_range: depth of the scene centre, metres, drawn per sequence.
        camera_height_range: camera height above the floor, metres, drawn per sequence.
        noise_std: Gaussian noise added to every coordinate, metres.
        missing_prob: probability that a joint is missing in a frame (mask 0).
        actions: the actions people perform (subset of `ACTIONS`).
        action_probs: relative weight of each entry of ``actions`` (uniform if None);
            renormalised over the actions the current posture allows.
        min_action_duration, max_action_duration: seconds per action (walks get
            the duration their distance needs, clipped to this range).
        idle_duration_range: seconds of background between actions (0 allowed).
        crossing: persons 0 and 1 walk past each other (needs 2+ people and "walk").
        name: prefix of the generated sequences' names.
    """

    fps: float = 30.0
    num_people: int = 1
    num_frames: int | None = None
    duration: float | None = None
    seed: int = 0
    height_range: tuple[float, float] = (1.5, 1.95)
    speed_range: tuple[float, float] = (0.8, 1.25)
    yaw_range: tuple[float, float] = (-45.0, 45.0)
    camera_distance_range: tuple[float, float] = (2.5, 4.0)
    camera_height_range: tuple[float, float] = (0.8, 1.2)
    noise_std: float = 0.0
    missing_prob: float = 0.0
    actions: tuple[str, ...] = ACTIONS
    action_probs: tuple[float, ...] | None = None
    min_action_duration: float = 1.5
    max_action_duration: float = 4.0
    idle_duration_range: tuple[float, float] = (0.5, 2.5)
    crossing: bool = False
    name: str = "synthetic"

    def __post_init__(self) -> None:
        def fail(name: str, message: str) -> None:
            raise ValueError(f"SyntheticConfig.{name} {message}, got {getattr(self, name)!r}")

        def is_int(value: object) -> bool:
            return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

        def number(name: str) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
                fail(name, "must be a finite number")
            return float(value)

        if number("fps") <= 0:
            fail("fps", "must be positive")
        if not is_int(self.num_people) or self.num_people < 1:
            fail("num_people", "must be an integer >= 1")
        if self.num_frames is not None and (not is_int(self.num_frames) or self.num_frames < 1):
            fail("num_frames", "must be None or an integer >= 1")
        if self.duration is not None:
            if number("duration") <= 0 or round(self.duration * self.fps) < 1:
                fail("duration", "must be None or at least one frame long")
            if self.num_frames is not None:
                fail("duration", "and num_frames are both set; give one of them")
        if not is_int(self.seed) or self.seed < 0:
            fail("seed", "must be a non-negative integer")
        ranges = {
            "height_range": (0.5, 2.5),
            "speed_range": (0.1, 5.0),
            "yaw_range": (-180.0, 180.0),
            "camera_distance_range": (1.0, 20.0),
            "camera_height_range": (0.0, 5.0),
            "idle_duration_range": (0.0, math.inf),
        }
        for name, (low, high) in ranges.items():
            lo, hi = _range(getattr(self, name), name)
            if lo < low or hi > high:
                fail(name, f"must lie within [{low}, {high}]")
            object.__setattr__(self, name, (lo, hi))
        if number("noise_std") < 0:
            fail("noise_std", "must be >= 0 (metres)")
        if not 0 <= number("missing_prob") < 1:
            fail("missing_prob", "must be in [0, 1)")
        if isinstance(self.actions, str):
            fail("actions", "must be a sequence of action names, not one string")
        object.__setattr__(self, "actions", tuple(self.actions))
        unknown = [a for a in self.actions if a not in ACTIONS]
        if not self.actions or unknown or len(set(self.actions)) != len(self.actions):
            fail("actions", f"must be distinct names from {ACTIONS} (idle is background, not an action)")
        if self.action_probs is not None:
            probs = tuple(float(p) for p in self.action_probs)
            if len(probs) != len(self.actions) or any(not math.isfinite(p) or p < 0 for p in probs) or sum(probs) <= 0:
                fail("action_probs", f"must be {len(self.actions)} non-negative weights (one per action), not all 0")
            object.__setattr__(self, "action_probs", probs)
        if number("min_action_duration") <= 0 or self.min_action_frames < 1:
            fail("min_action_duration", f"must be positive and at least one frame at {self.fps} fps")
        if number("max_action_duration") < self.min_action_duration:
            fail("max_action_duration", f"must be >= min_action_duration ({self.min_action_duration})")
        if self.crossing:
            if self.num_people < 2:
                fail("crossing", "needs num_people >= 2")
            if "walk" not in self.actions:
                fail("crossing", "needs 'walk' in actions")

    @property
    def total_frames(self) -> int | None:
        """Length in frames, or None for an endless stream."""
        if self.num_frames is not None:
            return int(self.num_frames)
        if self.duration is not None:
            return int(round(self.duration * self.fps))
        return None

    @property
    def min_action_frames(self) -> int:
        return int(math.ceil(self.min_action_duration * self.fps - 1e-9))

    @property
    def max_action_frames(self) -> int:
        return max(self.min_action_frames, int(math.floor(self.max_action_duration * self.fps + 1e-9)))


class SyntheticFrame(NamedTuple):
    """One frame of the stream: ``joints`` (M, 30, 3) float32 metres, ``mask`` (M, 30) float32,
    ``labels`` one action name per person, None where the person is idle (background)."""

    index: int
    joints: np.ndarray
    mask: np.ndarray
    labels: tuple[str | None, ...]


@dataclass(frozen=True)
class _Region:
    """An axis-aligned floor rectangle (x, z), margins already removed."""

    x0: float
    x1: float
    z0: float
    z1: float

    def sample(self, rng: np.random.Generator, count: int = 1) -> np.ndarray:
        u = rng.random((count, 2))
        return np.stack([self.x0 + u[:, 0] * (self.x1 - self.x0), self.z0 + u[:, 1] * (self.z1 - self.z0)], axis=-1)


def _cells(count: int, centre_z: float, front_z: float | None) -> list[_Region]:
    """Floor cells for ``count`` people, in rows of up to 4, centred on x = 0.

    Rows are centred on ``centre_z`` or, with ``front_z``, start there and go back.
    """
    if count == 0:
        return []
    cols = min(count, 4)
    rows = math.ceil(count / cols)
    width = max(1.6, 3.2 / cols)
    depth = 2.0 if rows == 1 else 1.6
    z_start = centre_z - rows * depth / 2 if front_z is None else front_z
    cells = []
    for i in range(count):
        row, col = divmod(i, cols)
        x0 = (col - cols / 2) * width
        z0 = z_start + row * depth
        m = _CELL_MARGIN
        cells.append(_Region(x0 + m, x0 + width - m, z0 + m, z0 + depth - m))
    return cells


@dataclass
class _PlanItem:
    label: str | None  # None: idle (background)
    start: int
    length: int
    spec: ActionSpec

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass
class _State:
    frame: int
    xz: tuple[float, float]
    heading: float
    posture: str


class _Person:
    """One person: body, floor cell or crossing lane, and a lazily planned timeline rendered in chunks."""

    def __init__(
        self,
        index: int,
        config: SyntheticConfig,
        seed: np.random.SeedSequence,
        region: _Region | None,
        lane: tuple[float, float] | None,
        crossing_seed: np.random.SeedSequence | None,
        record: bool,
    ) -> None:
        self.index = index
        self.config = config
        rng = np.random.default_rng(seed)
        self.body = BodyShape.sample(rng, config.height_range)
        self.facing = float(np.deg2rad(rng.uniform(*config.yaw_range)))
        self.sway = SwayParams.sample(rng)
        self.region = region
        self.lane = lane  # (start x, z) of a crossing lane
        start_xz = tuple(float(v) for v in region.sample(rng)[0]) if region is not None else lane
        assert start_xz is not None
        # With standUp but no sitDown, people start seated (crossing walkers always stand).
        seated_start = lane is None and "standUp" in config.actions and "sitDown" not in config.actions
        self._state = _State(0, start_xz, self.facing, SEATED if seated_start else STANDING)
        self._rng = rng
        self._crossing_seed = crossing_seed
        self._horizon = config.total_frames
        self._plan = self._plan_crossing() if lane is not None else self._plan_free()
        self._items: deque[_PlanItem] = deque()
        self._prev: _PlanItem | None = None
        self._blend = max(0, int(round(BLEND_SECONDS * config.fps)))
        self.segments: list[Segment] | None = [] if record else None

    # --- rendering ---------------------------------------------------------------

    def render(self, start: int, stop: int, floor_y: float) -> tuple[np.ndarray, list[str | None]]:
        """Joints (stop - start, 30, 3) float64 and one label per frame."""
        while not self._items or self._items[-1].end < stop:
            item = next(self._plan)
            self._items.append(item)
            if self.segments is not None and item.label is not None:
                self.segments.append(Segment(item.label, item.start, item.end))
        n = stop - start
        angles = np.empty((n, NUM_CHANNELS))
        xz = np.empty((n, 2))
        heading = np.empty(n)
        labels: list[str | None] = [None] * n
        prev = self._prev
        for item in self._items:
            if item.start >= stop:
                break
            s, e = max(item.start, start), min(item.end, stop)
            local = np.arange(s - item.start, e - item.start)
            motion = evaluate(item.spec, local / item.length, self.body)
            if prev is not None and local[0] < self._blend:
                w = smoothstep((local + 1.0) / (self._blend + 1.0))[:, None]
                final = evaluate(prev.spec, np.ones(1), self.body).angles
                motion.angles = final * (1.0 - w) + motion.angles * w
            angles[s - start : e - start] = motion.angles
            xz[s - start : e - start] = motion.xz
            heading[s - start : e - start] = motion.heading
            labels[s - start : e - start] = [item.label] * (e - s)
            prev = item
        while self._items and self._items[0].end <= stop:
            self._prev = self._items.popleft()
        angles += sway(np.arange(start, stop) / self.config.fps, self.sway)
        return forward_kinematics(self.body, angles, heading, xz, floor_y), labels

    # --- planning ----------------------------------------------------------------

    def _frames(self, seconds: float) -> int:
        return int(round(seconds * self.config.fps))

    def _idle(self, state: _State, length: int) -> _PlanItem:
        spec = ActionSpec(IDLE, length / self.config.fps, state.posture, state.xz, state.heading)
        item = _PlanItem(None, state.frame, length, spec)
        state.frame += length
        return item

    def _act(self, state: _State, spec: ActionSpec, length: int) -> _PlanItem:
        item = _PlanItem(spec.label, state.frame, length, spec)
        state.frame += length
        state.xz = spec.final_xz
        state.heading = float(wrap_angle(spec.final_heading))
        state.posture = spec.final_posture
        return item

    def _choose(self, posture: str, exclude: frozenset[str] = frozenset()) -> str | None:
        u = self._rng.random()
        cfg = self.config
        weights = cfg.action_probs or (1.0,) * len(cfg.actions)
        names = [a for a in cfg.actions if allowed(a, posture) and a not in exclude]
        w = np.array([weights[cfg.actions.index(a)] for a in names])
        if not names or w.sum() <= 0:
            return None
        return names[int(np.searchsorted(np.cumsum(w), u * w.sum(), side="right").clip(0, len(names) - 1))]

    def _in_place_spec(self, label: str, state: _State, length: int) -> ActionSpec:
        rng = self._rng
        speed = float(rng.uniform(*self.config.speed_range))
        side_u, variation = rng.random(2)
        if label == "throw":
            side = 1 if side_u < 0.75 else -1
        elif label in ("pickUp", "waveHands"):
            side = 0 if side_u < 0.5 else (1 if side_u < 0.8 else -1)
        else:
            side = 0
        return ActionSpec(
            label, length / self.config.fps, state.posture, state.xz, state.heading,
            speed=speed, side=side, variation=float(variation),
        )  # fmt: skip

    def _stride(self, speed: float) -> float:
        return 0.8 * self.body.height * (0.75 + 0.25 * speed)

    def _walk_spec(
        self,
        label: str,
        state: _State,
        target: np.ndarray,
        length: int,
        speed: float,
        turn_seconds: tuple[float, float],
        variation: float,
    ) -> ActionSpec:
        total = length / self.config.fps
        t_in, t_out = turn_seconds
        if t_in + t_out > 0.5 * total:
            scale = 0.5 * total / (t_in + t_out)
            t_in, t_out = t_in * scale, t_out * scale
        return ActionSpec(
            label, total, STANDING, state.xz, state.heading, speed=speed,
            end_xz=(float(target[0]), float(target[1])), end_heading=self.facing,
            turn_in=t_in / total, turn_out=t_out / total, stride=self._stride(speed), variation=variation,
        )  # fmt: skip

    def _free_walk(self, label: str, state: _State, remaining: int | None) -> tuple[ActionSpec, int] | None:
        """A walk (or carry) to a random point of the person's cell; None if it cannot fit."""
        rng, cfg = self._rng, self.config
        assert self.region is not None
        speed = float(rng.uniform(*cfg.speed_range))
        variation = float(rng.random())
        candidates = self.region.sample(rng, 8)
        start = np.asarray(state.xz)
        target = candidates[np.argmax(np.linalg.norm(candidates - start, axis=1))]
        offset = target - start
        distance = float(np.linalg.norm(offset))
        travel = float(np.arctan2(-offset[0], -offset[1])) if distance > 1e-9 else state.heading
        turn_in = (0.3 + 0.4 * abs(wrap_angle(travel - state.heading)) / np.pi) / speed
        turn_out = (0.3 + 0.4 * abs(wrap_angle(self.facing - travel)) / np.pi) / speed
        v = (WALK_SPEED if label == "walk" else CARRY_SPEED) * speed
        wanted = turn_in + turn_out + distance / v + 0.5  # 0.5 s: speeding up and slowing down
        length = int(np.clip(self._frames(wanted), cfg.min_action_frames, cfg.max_action_frames))
        if remaining is not None:
            if remaining < cfg.min_action_frames:
                return None
            length = min(length, remaining)
        spec = self._walk_spec(label, state, target, length, speed, (turn_in, turn_out), variation)
        walk_time = spec.duration * (1 - spec.turn_in - spec.turn_out)
        peak = peak_walk_speed(distance, walk_time)
        if peak > 1.3 * v:  # too far for the time there is: walk less far
            target = start + offset * (1.3 * v / peak)
            spec = self._walk_spec(label, state, target, length, speed, (turn_in, turn_out), variation)
        return spec, length

    def _plan_free(self) -> Iterator[_PlanItem]:
        cfg, rng, state, horizon = self.config, self._rng, self._state, self._horizon
        while horizon is None or state.frame < horizon:
            gap = self._frames(rng.uniform(*cfg.idle_duration_range))
            if horizon is not None:
                gap = min(gap, horizon - state.frame)
            if gap > 0:
                yield self._idle(state, gap)
            if horizon is not None and state.frame >= horizon:
                return
            remaining = None if horizon is None else horizon - state.frame
            label = self._choose(state.posture)
            if label is None:  # nothing this posture allows: stay idle
                yield self._idle(state, remaining if remaining is not None else self._frames(10.0) or 1)
                continue
            length = int(np.clip(self._frames(rng.uniform(cfg.min_action_duration, cfg.max_action_duration)),
                                 cfg.min_action_frames, cfg.max_action_frames))  # fmt: skip
            if label in LOCOMOTION:
                planned = self._free_walk(label, state, remaining)
            else:
                spec = self._in_place_spec(label, state, length)
                if remaining is not None and remaining < cfg.min_action_frames:
                    planned = None
                elif remaining is not None and length > remaining:
                    length = remaining
                    planned = replace(spec, duration=length / cfg.fps), length
                else:
                    planned = spec, length
            if planned is None:  # the last action would not fit before the end
                yield self._idle(state, remaining)  # type: ignore[arg-type]
                return
            yield self._act(state, *planned)

    def _fill(self, state: _State, limit: int) -> Iterator[_PlanItem]:
        """Idle gaps and in-place actions from ``state.frame`` up to ``limit`` (crossing mode)."""
        cfg, rng = self.config, self._rng
        exclude = LOCOMOTION | {"sitDown", "standUp"}
        while state.frame < limit:
            gap = min(self._frames(rng.uniform(*cfg.idle_duration_range)), limit - state.frame)
            if gap > 0:
                yield self._idle(state, gap)
            if state.frame >= limit:
                return
            label = self._choose(state.posture, exclude)
            length = int(np.clip(self._frames(rng.uniform(cfg.min_action_duration, cfg.max_action_duration)),
                                 cfg.min_action_frames, cfg.max_action_frames))  # fmt: skip
            if label is None or limit - state.frame < cfg.min_action_frames:
                yield self._idle(state, limit - state.frame)
                return
            length = min(length, limit - state.frame)
            yield self._act(state, self._in_place_spec(label, state, length), length)

    def _plan_crossing(self) -> Iterator[_PlanItem]:
        """Persons 0 and 1: walks across shared by both (same schedule seed), filled with in-place actions."""
        cfg, state, horizon = self.config, self._state, self._horizon
        assert self.lane is not None
        schedule = np.random.default_rng(self._crossing_seed)  # identical for both persons
        lane_z = self.lane[1]
        next_start = self._frames(schedule.uniform(1.0, 2.5))
        while True:
            start = next_start
            speed = float(schedule.uniform(*cfg.speed_range))
            turn = 0.45 / speed
            walk_seconds = 2 * turn + 2 * _LANE_HALF_LENGTH / (WALK_SPEED * speed) + 0.5
            length = int(np.clip(self._frames(walk_seconds), cfg.min_action_frames, cfg.max_action_frames))
            next_start = start + length + self._frames(schedule.uniform(3.0, 8.0))
            fits = horizon is None or start + length <= horizon
            yield from self._fill(state, start if fits else horizon)  # type: ignore[arg-type]
            if not fits:
                return
            target = np.array([-state.xz[0], lane_z])
            spec = self._walk_spec("walk", state, target, length, speed, (turn, turn), float(self._rng.random()))
            yield self._act(state, spec, length)


class _Scene:
    """All people, the camera, and the noise stream; renders fixed chunks of frames."""

    def __init__(self, config: SyntheticConfig, record: bool = False) -> None:
        self.config = config
        root = np.random.SeedSequence(config.seed)
        scene_seed, noise_seed, crossing_seed = root.spawn(3)
        person_seeds = root.spawn(config.num_people)
        scene = np.random.default_rng(scene_seed)
        self.camera_distance = float(scene.uniform(*config.camera_distance_range))
        self.floor_y = -float(scene.uniform(*config.camera_height_range))
        self._noise = np.random.default_rng(noise_seed)
        lanes: list[tuple[float, float] | None] = []
        free = config.num_people
        if config.crossing:
            lanes = [
                (-_LANE_HALF_LENGTH, self.camera_distance - _LANE_OFFSET),
                (_LANE_HALF_LENGTH, self.camera_distance + _LANE_OFFSET),
            ]
            free -= 2
        front = self.camera_distance + _LANE_OFFSET + 0.4 if config.crossing else None
        regions: list[_Region | None] = [None] * len(lanes) + list(_cells(free, self.camera_distance, front))
        lanes += [None] * free
        self.people = [
            _Person(i, config, person_seeds[i], regions[i], lanes[i], crossing_seed if lanes[i] else None, record)
            for i in range(config.num_people)
        ]

    def chunks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray, list[list[str | None]]]]:
        """(first frame, joints (n, M, 30, 3) float32, mask (n, M, 30) float32, labels [person][frame])."""
        cfg = self.config
        total = cfg.total_frames
        start = 0
        while total is None or start < total:
            stop = start + CHUNK_FRAMES if total is None else min(start + CHUNK_FRAMES, total)
            n, m = stop - start, cfg.num_people
            joints = np.empty((n, m, NUM_JOINTS, 3))
            labels = []
            for i, person in enumerate(self.people):
                joints[:, i], person_labels = person.render(start, stop, self.floor_y)
                labels.append(person_labels)
            noise = self._noise.standard_normal((n, m, NUM_JOINTS, 3))
            missing = self._noise.random((n, m, NUM_JOINTS)) < cfg.missing_prob
            if cfg.noise_std > 0:
                joints += cfg.noise_std * noise
            yield start, joints.astype(np.float32), (~missing).astype(np.float32), labels
            start = stop


def iter_frames(config: SyntheticConfig) -> Iterator[SyntheticFrame]:
    """Frames one at a time: endless when the config sets no length, else ``config.total_frames`` of them.

    Deterministic for a seed, constant memory, identical to `generate_people`'s frames.
    """
    for start, joints, mask, labels in _Scene(config).chunks():
        for k in range(joints.shape[0]):
            yield SyntheticFrame(start + k, joints[k].copy(), mask[k].copy(), tuple(p[k] for p in labels))


def generate_people(config: SyntheticConfig) -> list[SkeletonSequence]:
    """One `SkeletonSequence` per person (joints (T, 1, 30, 3)), each with its own action ``segments``."""
    total = config.total_frames
    if total is None:
        raise ValueError("generate_people needs a finite length: set SyntheticConfig.num_frames or .duration")
    scene = _Scene(config, record=True)
    parts = list(scene.chunks())
    joints = np.concatenate([p[1] for p in parts])
    mask = np.concatenate([p[2] for p in parts])
    return [
        SkeletonSequence(
            joints=np.ascontiguousarray(joints[:, i : i + 1]),
            mask=np.ascontiguousarray(mask[:, i : i + 1]),
            layout=LAYOUT,
            fps=float(config.fps),
            frame_ids=np.arange(total, dtype=np.int64),
            name=f"{config.name}-seed{config.seed}-p{i}",
            segments=list(person.segments or []),
            subject=i,
        )
        for i, person in enumerate(scene.people)
    ]


def stack_people(people: list[SkeletonSequence], name: str | None = None) -> SkeletonSequence:
    """People's sequences as one (T, M, V, 3) sequence; its ``segments`` are body 0's."""
    if not people:
        raise ValueError("stack_people needs at least one sequence")
    first = people[0]
    return SkeletonSequence(
        joints=np.concatenate([p.joints for p in people], axis=1),
        mask=np.concatenate([p.mask for p in people], axis=1),
        layout=first.layout,
        fps=first.fps,
        frame_ids=first.frame_ids.copy(),
        name=name if name is not None else first.name.rsplit("-p", 1)[0],
        segments=list(first.segments),
    )


def generate_sequence(config: SyntheticConfig) -> SkeletonSequence:
    """All people in one sequence, joints (T, M, 30, 3); ``segments`` are body 0's (see `generate_people`)."""
    return stack_people(generate_people(config))
