"""How one skeleton source differs from another on the same take: error, bias, noise, scale, jitter.

Both sequences are (T, V, 3) joints of one person in one layout (unified_30),
frame-aligned, with a (T, V) bool ``valid`` of the joints both sources have.
The error of a joint at a frame is ``e = estimate - reference``; over the
frames it splits into

- a **bias** (its mean: a systematic offset, e.g. two sensors' different ideas
  of where the hip joint is),
- **slow** error (the rest after a centred moving average: drift, a limb
  placed wrong for a while) and
- **fast** noise, white from frame to frame, whose standard deviation is
  estimated from second differences: for white noise of variance σ²,
  ``x[t+1] - 2x[t] + x[t-1]`` has variance 6σ², and smooth motion cancels in
  it. Applied to one source alone (`white_noise_std`) it measures that
  source's jitter; applied to the error it measures both sources' jitter
  together.

Everything here is numpy only; `benchmarks/pose_gap.py` applies it to the NTU
take seen by the Kinect and by MediaPipe.
"""

from __future__ import annotations

import warnings

import numpy as np

from models.skeleton.layouts import Layout


def _check(estimate: np.ndarray, reference: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    estimate, reference = np.asarray(estimate, np.float64), np.asarray(reference, np.float64)
    valid = np.asarray(valid, bool)
    if estimate.ndim != 3 or estimate.shape != reference.shape or valid.shape != estimate.shape[:2]:
        raise ValueError(f"estimate and reference must be (T, V, C) of one shape and valid (T, V); got "
                         f"{estimate.shape}, {reference.shape}, {valid.shape}")  # fmt: skip
    return estimate - reference, valid


def _masked(values: np.ndarray, valid: np.ndarray) -> np.ma.MaskedArray:
    """(T, V, C) values with the frames where a joint is invalid masked out."""
    return np.ma.masked_array(values, mask=np.broadcast_to(~valid[..., None], values.shape))


def second_differences(x: np.ndarray, valid: np.ndarray) -> np.ma.MaskedArray:
    """(T - 2, V, C) ``x[t+1] - 2 x[t] + x[t-1]``, masked where any of the three frames is invalid."""
    x, valid = np.asarray(x, np.float64), np.asarray(valid, bool)
    if x.ndim != 3 or valid.shape != x.shape[:2]:
        raise ValueError(f"x must be (T, V, C) and valid (T, V); got {x.shape} and {valid.shape}")
    second = x[2:] - 2 * x[1:-1] + x[:-2]
    return _masked(second, valid[2:] & valid[1:-1] & valid[:-2])


def white_noise_std(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(V, C) standard deviation of white frame-to-frame noise in ``x`` (T, V, C): RMS second difference / √6.

    Smooth motion adds little to second differences at a camera's frame rate, so
    this bounds a source's jitter from above; NaN where a joint never has three
    valid frames in a row.
    """
    second = second_differences(x, valid)
    return np.ma.filled(np.sqrt(np.ma.mean(second**2, axis=0) / 6.0), np.nan)


def moving_average(x: np.ndarray, valid: np.ndarray, frames: int) -> np.ndarray:
    """(T, V, C) centred moving average over ``frames`` (odd) of the valid samples; NaN where none is valid."""
    if frames < 1 or frames % 2 == 0:
        raise ValueError(f"frames must be a positive odd number, got {frames}")
    x, valid = np.asarray(x, np.float64), np.asarray(valid, bool)
    weights = valid[..., None].astype(np.float64)
    values = np.where(weights > 0, x, 0.0)
    kernel = np.ones(frames)

    def smooth(a: np.ndarray) -> np.ndarray:
        return np.apply_along_axis(lambda s: np.convolve(s, kernel, mode="same"), 0, a)

    total, count = smooth(values), smooth(np.broadcast_to(weights, x.shape).copy())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def joint_errors(
    estimate: np.ndarray, reference: np.ndarray, valid: np.ndarray, smooth_frames: int = 9
) -> dict[str, np.ndarray]:
    """Per-joint error statistics of ``estimate`` against ``reference`` (module docstring).

    Returns arrays over joints (NaN for a joint never valid):
        ``count`` (V,): valid frames; ``median``, ``p90`` (V,): of the error's length;
        ``bias`` (V, C): mean error; ``std`` (V, C): error standard deviation about the bias;
        ``slow_std`` (V, C): of the moving average (``smooth_frames``) of the error about the bias;
        ``fast_std`` (V, C): white noise of the error (`white_noise_std` of it).
    """
    error, valid = _check(estimate, reference, valid)
    masked = _masked(error, valid)
    length = np.ma.masked_array(np.linalg.norm(error, axis=-1), mask=~valid)
    bias = np.ma.mean(masked, axis=0)
    centred = np.where(valid[..., None], error - np.ma.filled(bias, 0.0), 0.0)
    slow = moving_average(centred, valid, smooth_frames)

    def fill(a: np.ma.MaskedArray | np.ndarray) -> np.ndarray:
        return np.ma.filled(np.ma.masked_invalid(a), np.nan)

    length_filled = np.ma.filled(length.astype(np.float64), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a joint never valid: NaN, as documented
        return {
            "count": valid.sum(axis=0),
            "median": np.nanmedian(length_filled, axis=0) if valid.any() else np.full(valid.shape[1], np.nan),
            "p90": np.nanpercentile(length_filled, 90, axis=0) if valid.any() else np.full(valid.shape[1], np.nan),
            "bias": fill(bias),
            "std": fill(np.ma.std(masked, axis=0)),
            "slow_std": fill(np.ma.std(_masked(slow, valid), axis=0)),
            "fast_std": white_noise_std(error, valid),
        }


def bone_lengths(joints: np.ndarray, valid: np.ndarray, layout: Layout) -> np.ma.MaskedArray:
    """(T, bones) length of each (child, parent) bone of ``layout``, masked where either end is invalid."""
    joints, valid = np.asarray(joints, np.float64), np.asarray(valid, bool)
    child, parent = (np.array(side) for side in zip(*layout.bones))
    lengths = np.linalg.norm(joints[:, child] - joints[:, parent], axis=-1)
    return np.ma.masked_array(lengths, mask=~(valid[:, child] & valid[:, parent]))


def length_ratio(estimate: np.ndarray, reference: np.ndarray, valid: np.ndarray, a: int, b: int) -> np.ndarray:
    """(T,) |estimate[a] - estimate[b]| / |reference[a] - reference[b]| per frame (NaN where a or b is invalid)."""
    _check(estimate, reference, valid)
    both = np.asarray(valid, bool)[:, a] & np.asarray(valid, bool)[:, b]
    ours = np.linalg.norm(np.asarray(estimate)[:, a] - np.asarray(estimate)[:, b], axis=-1)
    theirs = np.linalg.norm(np.asarray(reference)[:, a] - np.asarray(reference)[:, b], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(both & (theirs > 0), ours / theirs, np.nan)
