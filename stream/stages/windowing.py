"""Per-track model windows, online: resample to the model clock, buffer, batch (DESIGN §1, §4).

For every track: skeleton → unified_30 → `OnlineResampler` (model fps) →
`TrackBuffer` (a ring of the last T samples) → every ``stride`` samples a
window is due; `WindowBatcher.due_windows` returns all due windows of all tracks
as one normalised (N, C, T, V, M) array, ready for one backend call::

    batcher = WindowBatcher.from_checkpoint(config, stride=8)
    decoder = OnlineDecoder.from_checkpoint(config, stride=8)
    for frame in source:
        for person in tracker.update(frame.people, frame.stamp_ns):
            batcher.push(person.track_id, person.person, frame.index, frame.stamp_ns)
        ended = tracker.pop_ended()
        for track_id in ended:
            batcher.end_track(track_id)           # queues the track's last, partial window
        windows, refs = batcher.due_windows()
        logits = backend(windows) if refs else []
        for ref, track_logits in zip(refs, logits):
            decoder.add(ref.track_id, ref.end, track_logits, ref.samples)
        for track_id in ended:
            decoder.flush(track_id)               # after its last window was folded in

Decisions:

- **The model clock.** A track's samples are ticks ``k / fps`` seconds after its
  first observation (integer ns). A tick is emitted as soon as the first
  observation at or after it arrives (so a sample lags its tick by at most one
  source interval): linear interpolation between the two observations around
  the tick, per joint where both have it, else the nearer observation's joint
  and confidence; an observation on a tick (within ``1e-6`` of the interval
  before it, or of the model period after it: this absorbs ns rounding between
  the source and model clocks) is taken as it is. Across a
  gap longer than ``max_gap_s`` nothing is invented: ticks strictly inside copy
  the nearer observation with mask 0 (``SampleInfo.missing``). These are the
  rules of the offline `models.skeleton.resample.resample_sequence`, so a
  streamed track gives the same samples as the prepared sequence. A live
  source (no media clock: a camera, ROS images) takes an observation up to
  ``LIVE_JITTER_NS`` (5 ms) before or after a tick as on it: capture stamps
  jitter around the frame period, and a 30 fps frame a hair off its 15 fps
  tick would otherwise hold its label back a whole frame (33 ms; at 10 fps,
  100 ms). Observations
  whose stamp does not increase are dropped (counted in ``dropped``).
- **Attribution.** Each sample carries a `SampleInfo`: the source frame index,
  capture stamp and truth of the nearest source frame *at or before* its tick
  (an observation on the tick, as above, counts as at it).
  When the model runs faster than the source (10 → 15 fps), or inside a gap,
  several samples map to one source frame; only the first of them is
  ``primary``, so a source frame gets one published label.
- **Unified_30.** Skeletons of other layouts go through `to_unified`;
  unified_30 skeletons are used as they are (as `sequence_to_unified` does
  offline), NaN joints becoming missing. A 2D layout is fed as (x, y, 0).
- **Body slots: one person per window.** Each track is one person in body slot
  0; slot 1 is empty (zeros, mask 0), which normalisation keeps at zero. The
  model is trained with M = 2, but most training windows (and every synthetic
  person sequence) have slot 1 empty, and per-track windows give per-person
  labels with no question of which person the model attributed the action to.
  Two-person interactions would need pairing tracks into one window: not done.
- **Young tracks** are padded by repeating their first sample, as
  `models.windows.cut_window` pads offline: a streamed window equals the
  offline window cut at the same end (tested).
- **Due windows.** The window ending at sample ``e`` is due when
  ``(e + 1) % stride == 0`` (ends stride-1, 2·stride-1, … as
  `models.windows.window_ends`), and is snapshotted at once, so every grid
  window runs even if one push emits several samples (a slow source, a gap).
  `set_stride` changes the grid from the next sample on (the automatic
  stride, `stream.run.stride_control`).
  `end_track` queues the window ending at the track's last sample when that one
  is not a grid end, as the offline path runs a window at the last frame.
- **The checkpoint's joint set** (`NormalizationConfig.joints`: the others sit
  on their ancestors) is applied once per sample as it enters the ring, not
  once per window at every stride (per-frame work, the same result), so each
  window's normalisation does the rest: centring, alignment, scale.
- **Bounded memory.** Per track: the resampler's last observation and a ring of
  T samples; snapshots live only until the next `due_windows`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.skeleton.layouts import UNIFIED_30, get_layout
from models.skeleton.normalize import NormalizationConfig, normalize_window
from models.skeleton.unified import fill_missing, to_unified
from stream.types import Person, TrackedPerson

if TYPE_CHECKING:
    from models.checkpoint import CheckpointConfig

logger = logging.getLogger(__name__)

NUM_JOINTS = UNIFIED_30.num_joints
_EDGE = 1e-6  # weights this close to 0 or 1 sit on an observation (as in resample_sequence)
LIVE_JITTER_NS = 5_000_000  # a live observation this close to a tick sits on it: see OnlineResampler.push


@dataclass(frozen=True)
class SampleInfo:
    """Where one model-rate sample of a track comes from.

    Attributes:
        index: the sample's index in its track (0 = the track's first observation).
        tick_ns: the model-clock time of the sample.
        frame: index of the source frame at or before the tick (the label goes to it).
        stamp_ns: that source frame's capture time.
        truth: that source frame's ground truth, if the source knows it.
        missing: the tick lies inside a gap longer than ``max_gap_s`` (mask 0 everywhere).
        primary: the first sample attributed to ``frame`` (only primary samples are published).
        completed_ns: capture time of the observation that completed the sample (the first at or after its
            tick): ``stamp_ns``, or the next frame's when the tick falls between two frames (0: unknown).
    """

    index: int
    tick_ns: int
    frame: int
    stamp_ns: int
    truth: str | None = None
    missing: bool = False
    primary: bool = True
    completed_ns: int = 0


@dataclass(frozen=True)
class WindowRef:
    """What one row of a `WindowBatcher.due_windows` batch is.

    Attributes:
        track_id: the track.
        end: index of the window's last sample in the track.
        samples: `SampleInfo` of the window's real samples (padding excluded), oldest first.
        last: the final window of an ended track.
    """

    track_id: int
    end: int
    samples: tuple[SampleInfo, ...]
    last: bool = False


@dataclass
class _Observation:
    stamp_ns: int  # on the resampling clock
    joints: np.ndarray
    mask: np.ndarray
    frame: int
    truth: str | None
    capture_ns: int  # the frame's capture stamp, carried to SampleInfo


def person_to_unified(person: Person, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A `Person` as unified_30 joints (30, channels) float32 and mask (30,) float32; NaN joints are missing."""
    layout = get_layout(person.layout)
    joints = np.asarray(person.joints, dtype=np.float32)
    confidence = np.asarray(person.confidence, dtype=np.float32)
    if joints.ndim != 2 or joints.shape[0] != layout.num_joints or confidence.shape != (layout.num_joints,):
        raise ValueError(f"a {layout.name} Person needs joints ({layout.num_joints}, C) and confidence "
                         f"({layout.num_joints},); got {joints.shape} and {confidence.shape}")  # fmt: skip
    if joints.shape[1] > channels:
        raise ValueError(f"{layout.name} joints have {joints.shape[1]} coordinates; the model takes {channels}")
    bad = ~np.isfinite(joints).all(axis=-1) | ~np.isfinite(confidence)
    mask = np.where(bad, 0.0, confidence).astype(np.float32)
    if layout.name == UNIFIED_30.name:
        unified = joints.copy()
        if bad.any():
            filled = fill_missing(np.nan_to_num(joints), mask, UNIFIED_30)
            unified[bad] = filled[bad]
    else:
        unified, mask = to_unified(np.where(bad[:, None], 0.0, joints), mask, layout)
    if unified.shape[1] < channels:
        unified = np.concatenate([unified, np.zeros((NUM_JOINTS, channels - unified.shape[1]), np.float32)], axis=1)
    return unified.astype(np.float32), mask.astype(np.float32)


class OnlineResampler:
    """One track's observations onto the model clock, as they arrive (see the module docstring)."""

    def __init__(self, fps: float, max_gap_s: float = 0.5) -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"OnlineResampler fps must be a positive number, got {fps!r}")
        if not isinstance(max_gap_s, (int, float)) or not max_gap_s > 0:
            raise ValueError(f"OnlineResampler max_gap_s must be positive, got {max_gap_s!r}")
        self.fps = float(fps)
        self.max_gap_ns = float(max_gap_s) * 1e9
        self._snap_ns = int(_EDGE * 1e9 / self.fps)  # a tick this close after an observation sits on it
        self.dropped = 0
        self._origin: int | None = None
        self._next = 0  # index of the next tick to emit
        self._prev: _Observation | None = None
        self._last_frame: int | None = None

    def tick_ns(self, index: int) -> int:
        """Model-clock time of sample ``index`` (after the first observation)."""
        assert self._origin is not None
        return self._origin + round(index * 1e9 / self.fps)

    def push(
        self,
        stamp_ns: int,
        joints: np.ndarray,
        mask: np.ndarray,
        frame: int,
        truth: str | None = None,
        capture_ns: int | None = None,
        jitter_ns: int = 0,
    ) -> list[tuple[np.ndarray, np.ndarray, SampleInfo]]:
        """Add an observation (unified joints (V, C), mask (V,)); the samples it completes, in order.

        ``stamp_ns`` is the resampling clock; ``capture_ns`` (default: the same) is the
        capture stamp reported in `SampleInfo` — they differ for a file replayed faster
        than real time, whose clock is its own media time. ``jitter_ns`` > 0 takes an
        observation at most that long before or after a tick as on it (the tick's
        sample and its source frame): a live camera's stamps jitter around the frame
        period, and a frame just short of its tick would leave the tick waiting a
        whole frame interval for the next observation, one just past it would lose
        the tick to the frame before and wait for a later one (media clocks are
        exact: 0, the rules of `resample_sequence`).
        """
        stamp_ns = int(stamp_ns)
        capture = stamp_ns if capture_ns is None else int(capture_ns)
        new = _Observation(stamp_ns, np.asarray(joints, np.float32), np.asarray(mask, np.float32), int(frame), truth,
                           capture)  # fmt: skip
        prev = self._prev
        if prev is None:
            self._origin = stamp_ns
            self._prev = new
            self._next = 1
            return [(new.joints.copy(), new.mask.copy(), self._info(0, stamp_ns, new, False, capture))]
        if stamp_ns <= prev.stamp_ns:
            self.dropped += 1
            return []
        samples = []
        span = stamp_ns - prev.stamp_ns
        reach = max(self._snap_ns, jitter_ns)  # ticks this far after the observation are on it
        while (tick := self.tick_ns(self._next)) <= stamp_ns + reach:
            weight = np.float32((tick - prev.stamp_ns) / span)
            if weight >= 1 - _EDGE or stamp_ns - tick <= jitter_ns:  # on the new observation (ns rounding, jitter)
                samples.append((new.joints.copy(), new.mask.copy(), self._info(self._next, tick, new, False, capture)))
            else:
                in_gap = bool(span > self.max_gap_ns and weight > _EDGE)
                nearest = prev if weight < 0.5 else new
                both = (prev.mask > 0) & (new.mask > 0) & (not in_gap)
                mixed = (1 - weight) * prev.joints + weight * new.joints
                joints_out = np.where(both[:, None], mixed, nearest.joints).astype(np.float32)
                mask_out = np.where(both, np.minimum(prev.mask, new.mask), nearest.mask).astype(np.float32)
                if in_gap:
                    mask_out[:] = 0.0
                samples.append((joints_out, mask_out, self._info(self._next, tick, prev, in_gap, capture)))
            self._next += 1
        self._prev = new
        return samples

    def _info(self, index: int, tick: int, source: _Observation, missing: bool, completed_ns: int) -> SampleInfo:
        primary = source.frame != self._last_frame
        self._last_frame = source.frame
        return SampleInfo(index, tick, source.frame, source.capture_ns, source.truth, missing, primary, completed_ns)


class TrackBuffer:
    """Ring buffer of a track's last T samples; sample ``i`` lives in slot ``i % T``."""

    def __init__(self, num_frames: int, channels: int = 3, num_joints: int = NUM_JOINTS) -> None:
        if num_frames < 1:
            raise ValueError(f"TrackBuffer num_frames must be >= 1, got {num_frames}")
        self.num_frames = num_frames
        self.joints = np.zeros((num_frames, num_joints, channels), np.float32)
        self.mask = np.zeros((num_frames, num_joints), np.float32)
        self.infos: list[SampleInfo | None] = [None] * num_frames
        self.count = 0  # samples appended so far

    def append(self, joints: np.ndarray, mask: np.ndarray, info: SampleInfo) -> None:
        slot = self.count % self.num_frames
        self.joints[slot], self.mask[slot], self.infos[slot] = joints, mask, info
        self.count += 1

    def window(self) -> tuple[np.ndarray, np.ndarray, tuple[SampleInfo, ...]]:
        """The T samples ending at the latest one, young tracks padded with their first sample.

        Returns joints (T, V, C) and mask (T, V) copies and the real samples' infos, oldest first.
        """
        if self.count == 0:
            raise ValueError("an empty track has no window")
        end = self.count - 1
        indices = np.clip(np.arange(end - self.num_frames + 1, end + 1), 0, None)
        slots = indices % self.num_frames
        real = range(max(0, end - self.num_frames + 1), end + 1)
        infos = tuple(self.infos[i % self.num_frames] for i in real)
        return self.joints[slots], self.mask[slots], infos  # type: ignore[return-value]


@dataclass
class _TrackState:
    resampler: OnlineResampler
    buffer: TrackBuffer
    last_window_end: int = -1


@dataclass
class _Snapshot:
    track_id: int
    end: int
    joints: np.ndarray  # (T, V, C)
    mask: np.ndarray  # (T, V)
    samples: tuple[SampleInfo, ...]
    last: bool


class WindowBatcher:
    """All tracks' windows, due every ``stride`` model-rate samples, batched into one array.

    Args:
        fps: the model's frame rate (the checkpoint's ``fps``).
        num_frames: window length T (the checkpoint's ``num_frames``).
        stride: samples between a track's windows, 1 <= stride <= T.
        normalization: the checkpoint's `NormalizationConfig`.
        num_bodies: M of the model's input; the track is body 0, the others are empty.
        channels: C of the model's input.
        max_gap_s: longest gap between a track's observations that is interpolated.
    """

    def __init__(
        self,
        fps: float,
        num_frames: int,
        stride: int,
        normalization: NormalizationConfig | None = None,
        num_bodies: int = 2,
        channels: int = 3,
        max_gap_s: float = 0.5,
    ) -> None:
        for name, value in (("num_frames", num_frames), ("stride", stride), ("num_bodies", num_bodies),
                            ("channels", channels)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"WindowBatcher {name} must be an integer >= 1, got {value!r}")
        if stride > num_frames:
            raise ValueError(f"WindowBatcher stride {stride} exceeds the window length {num_frames}: "
                             f"samples between windows would never be seen")  # fmt: skip
        OnlineResampler(fps, max_gap_s)  # validates both
        self.fps = float(fps)
        self.num_frames = int(num_frames)
        self.stride = int(stride)
        self.normalization = normalization if normalization is not None else NormalizationConfig()
        joint_set = self.normalization.joints
        self._unused = None if joint_set is None else np.array([n not in joint_set for n in UNIFIED_30.joint_names])
        self._window_normalization = dataclasses.replace(self.normalization, joints=None)  # applied per sample
        self.num_bodies = int(num_bodies)
        self.channels = int(channels)
        self.max_gap_s = float(max_gap_s)
        self._tracks: dict[int, _TrackState] = {}
        self._due: list[_Snapshot] = []

    @classmethod
    def from_checkpoint(cls, config: CheckpointConfig, stride: int = 8, max_gap_s: float = 0.5) -> WindowBatcher:
        """A batcher feeding the model of ``config`` (fps, T, M, normalisation)."""
        return cls(fps=config.fps, num_frames=config.num_frames, stride=stride, normalization=config.normalization,
                   num_bodies=config.model.M, max_gap_s=max_gap_s)  # fmt: skip

    @property
    def track_ids(self) -> list[int]:
        return list(self._tracks)

    def set_stride(self, stride: int) -> None:
        """Samples between a track's windows from now on (1 <= stride <= T): the next window of each track ends at
        its next sample on the new grid, so at most ``stride`` samples after its last one."""
        if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or not 1 <= stride <= self.num_frames:
            raise ValueError(f"WindowBatcher stride must be an integer in 1..{self.num_frames}, got {stride!r}")
        self.stride = int(stride)

    def samples(self, track_id: int) -> int:
        """Model-rate samples the track has produced so far (0 for an unknown track)."""
        state = self._tracks.get(track_id)
        return 0 if state is None else state.buffer.count

    def push(self, track_id: int, person: Person, frame: int, stamp_ns: int, clock_ns: int | None = None) -> int:
        """Add a tracked person's observation of source ``frame``; returns the samples it completed.

        ``clock_ns`` (default ``stamp_ns``) times the observation for resampling: pass
        `Frame.media_ns` when the source has one, so fast replays keep their timing.
        Without one the stamp is a live capture time, and an observation within
        `LIVE_JITTER_NS` of a tick, before or after it, is taken as on it
        (`OnlineResampler.push`).
        """
        joints, mask = person_to_unified(person, self.channels)
        state = self._tracks.get(track_id)
        if state is None:
            state = _TrackState(OnlineResampler(self.fps, self.max_gap_s), TrackBuffer(self.num_frames, self.channels))
            self._tracks[track_id] = state
        clock, jitter = (stamp_ns, LIVE_JITTER_NS) if clock_ns is None else (clock_ns, 0)
        emitted = state.resampler.push(clock, joints, mask, frame, person.truth, capture_ns=stamp_ns, jitter_ns=jitter)
        for sample_joints, sample_mask, info in emitted:
            if self._unused is not None:  # the checkpoint's joint set, as normalize_window applies it
                sample_mask = np.where(self._unused, 0.0, sample_mask).astype(np.float32)
                sample_joints = fill_missing(sample_joints, sample_mask, UNIFIED_30)
            state.buffer.append(sample_joints, sample_mask, info)
            if (info.index + 1) % self.stride == 0:
                self._snapshot(track_id, state, last=False)
        return len(emitted)

    def push_tracked(
        self, tracked: list[TrackedPerson], frame: int, stamp_ns: int, clock_ns: int | None = None
    ) -> int:
        """`push` every tracked person of one source frame; returns the samples completed."""
        return sum(self.push(t.track_id, t.person, frame, stamp_ns, clock_ns) for t in tracked)

    def end_track(self, track_id: int) -> bool:
        """Forget a track; True when its final, partial window was queued for the next `due_windows`."""
        state = self._tracks.pop(track_id, None)
        if state is None or state.buffer.count == 0 or state.buffer.count - 1 == state.last_window_end:
            return False
        self._snapshot(track_id, state, last=True)
        return True

    def due_windows(self) -> tuple[np.ndarray, list[WindowRef]]:
        """Every window due since the last call, all tracks in one (N, C, T, V, M) float32 array."""
        due, self._due = self._due, []
        T, V, C, M = self.num_frames, NUM_JOINTS, self.channels, self.num_bodies
        batch = np.zeros((len(due), C, T, V, M), np.float32)
        joints = np.zeros((T, M, V, C), np.float32)
        mask = np.zeros((T, M, V), np.float32)
        for row, snap in enumerate(due):
            joints[:, 0], mask[:, 0] = snap.joints, snap.mask  # body 0 = the track; other slots stay empty
            normalized, _ = normalize_window(joints, mask, UNIFIED_30, self._window_normalization)
            batch[row] = normalized.transpose(3, 0, 2, 1)
        refs = [WindowRef(s.track_id, s.end, s.samples, s.last) for s in due]
        return batch, refs

    def _snapshot(self, track_id: int, state: _TrackState, last: bool) -> None:
        joints, mask, infos = state.buffer.window()
        end = state.buffer.count - 1
        state.last_window_end = end
        self._due.append(_Snapshot(track_id, end, joints, mask, infos, last))
