"""MPCT views of skeleton batches for USDRL pretraining (DESIGN.md §3).

A view of a batch ``x`` (N, C, T, V, M) with its joint mask (N, T, V, M) and
valid lengths (N,) is made, per sample, by:

1. temporal crop-resize (`temporal_crop_resize`): a crop of
   ``floor(length·U[0.1, 1])`` frames, raised to at least ``min_crop_frames``
   (default: T, as the official ``min_crop_length = 64`` for T = 64) and capped at
   the valid length, at a uniform start, resized to exactly T frames by linear
   interpolation (``F.interpolate(mode="linear", align_corners=False)`` semantics);
2. optional, off by default (not in the paper; they keep a model from relying on
   one sensor's handedness or viewpoint): a layout-aware horizontal flip
   (`horizontal_flip`) with probability ``flip_prob``, and a rotation about the
   vertical axis (`rotate_vertical`) by U[−a, a] degrees;
3. with probability ``corrupt_prob`` (0.5) joint corruption (`joint_corruption`:
   15 random joints zeroed, or, with even odds, mixed by a random C×C matrix with
   entries U[−1, 1]), otherwise a shear (`shear`: C×C, ones on the diagonal,
   off-diagonals U[−1, 1]).

Every random draw comes from the ``torch.Generator`` passed in, so a view is a
deterministic function of the batch and the generator state. Shapes are kept.
The mask follows the joints through crop-resize (an interpolated frame is valid
where the source frames it mixes are; float confidences take their minimum) and
through the flip (joints permuted). Corruption, shear and rotation change
coordinates, not which joints the sensor observed, so they leave the mask as is.
After crop-resize every view fills all T frames: the returned lengths are T.

Coordinates (`models.skeleton.layouts`): channel 0 is x (horizontal), channel 1
is y (vertical, up for 3D layouts); rotation is about the origin, so inputs are
expected centred (e.g. on the spine) as the normaliser leaves them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor


class View(NamedTuple):
    """One augmented view: ``x`` (N, C, T, V, M), ``mask`` (N, T, V, M), ``length`` (N,)."""

    x: Tensor
    mask: Tensor
    length: Tensor


@dataclass(frozen=True)
class MPCTConfig:
    """Parameters of an MPCT view (defaults: the paper's recipe, extras off).

    Attributes:
        crop_scale: (low, high) of the uniform crop scale, as a fraction of the valid length.
        min_crop_frames: least crop length in frames (capped at the valid length);
            None means the window length T.
        corrupt_prob: probability of joint corruption rather than shear.
        zero_prob: within joint corruption, probability of zeroing rather than mixing.
        corrupt_joints: number of joints corrupted (capped at V).
        mix_range: entries of the mixing matrix are U[−mix_range, mix_range].
        shear_range: off-diagonals of the shear are U[−shear_range, shear_range].
        flip_prob: probability of a layout-aware horizontal flip (needs a flip permutation).
        rotate_max_deg: rotation about the vertical axis by U[−a, a] degrees (0: off; 3D only).
        vertical_axis: channel index of the vertical axis (1: y up).
    """

    crop_scale: tuple[float, float] = (0.1, 1.0)
    min_crop_frames: int | None = None
    corrupt_prob: float = 0.5
    zero_prob: float = 0.5
    corrupt_joints: int = 15
    mix_range: float = 1.0
    shear_range: float = 1.0
    flip_prob: float = 0.0
    rotate_max_deg: float = 0.0
    vertical_axis: int = 1

    def __post_init__(self) -> None:
        low, high = self.crop_scale
        if not 0.0 < low <= high <= 1.0:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        if self.min_crop_frames is not None and self.min_crop_frames < 1:
            raise ValueError(f"min_crop_frames must be >= 1 or None, got {self.min_crop_frames}")
        for name in ("corrupt_prob", "zero_prob", "flip_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if self.corrupt_joints < 0:
            raise ValueError(f"corrupt_joints must be >= 0, got {self.corrupt_joints}")
        for name in ("mix_range", "shear_range", "rotate_max_deg"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.vertical_axis not in (0, 1, 2):
            raise ValueError(f"vertical_axis must be 0, 1 or 2, got {self.vertical_axis}")


def _uniform(generator: torch.Generator, shape: Sequence[int], low: float, high: float, device: torch.device) -> Tensor:
    """U[low, high) samples drawn on the generator's device, moved to ``device``."""
    u = torch.rand(tuple(shape), generator=generator, device=generator.device, dtype=torch.float64)
    return (low + (high - low) * u).to(device)


def _check_batch(x: Tensor, mask: Tensor | None = None) -> None:
    if x.ndim != 5:
        raise ValueError(f"x must be (N, C, T, V, M), got shape {tuple(x.shape)}")
    if mask is not None:
        n, _, t, v, m = x.shape
        if tuple(mask.shape) != (n, t, v, m):
            raise ValueError(f"mask must be (N, T, V, M) = {(n, t, v, m)}, got {tuple(mask.shape)}")


def temporal_crop_resize(
    x: Tensor,
    mask: Tensor,
    length: Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.1, 1.0),
    min_frames: int | None = None,
) -> View:
    """Crop a random span of each sample's valid frames and resize it to exactly T frames.

    Crop length ``clamp(floor(L·s), min_frames, L)`` with ``s ~ U[scale]`` and L the
    valid length (clamped to [1, T]); start uniform over the valid positions.
    Linear interpolation with ``align_corners=False``, as ``F.interpolate``.

    Args:
        x: (N, C, T, V, M) joints.
        mask: (N, T, V, M) bool or float joint validity.
        length: (N,) valid frames per sample.
        generator: source of every random draw.
        scale: (low, high) of the crop scale.
        min_frames: least crop length; None means T.

    Returns:
        The resized view; ``length`` is T for every sample.
    """
    _check_batch(x, mask)
    n, _, t, _, _ = x.shape
    device = x.device
    valid = length.to(device=device, dtype=torch.long).clamp(1, t)
    least = t if min_frames is None else min_frames
    s = _uniform(generator, (n,), scale[0], scale[1], device)
    crop = torch.floor(valid.double() * s).long().clamp(min=least)
    crop = torch.minimum(crop, valid)
    start = torch.floor(_uniform(generator, (n,), 0.0, 1.0, device) * (valid - crop + 1).double()).long()
    start = torch.minimum(start, valid - crop)

    dst = torch.arange(t, device=device, dtype=torch.float64)
    src = ((dst[None] + 0.5) * crop[:, None].double() / t - 0.5).clamp(min=0.0)  # (N, T)
    i0 = torch.minimum(src.floor().long(), crop[:, None] - 1)
    i1 = torch.minimum(i0 + 1, crop[:, None] - 1)
    lam = (src - i0.double()).to(x.dtype)
    f0, f1 = start[:, None] + i0, start[:, None] + i1

    def gather_x(frames: Tensor) -> Tensor:
        index = frames[:, None, :, None, None].expand(-1, x.shape[1], -1, x.shape[3], x.shape[4])
        return x.gather(2, index)

    def gather_mask(frames: Tensor) -> Tensor:
        index = frames[:, :, None, None].expand(-1, -1, mask.shape[2], mask.shape[3])
        return mask.gather(1, index)

    w = lam[:, None, :, None, None]
    out = gather_x(f0) * (1.0 - w) + gather_x(f1) * w
    m0 = gather_mask(f0).to(torch.float32)
    m1 = gather_mask(f1).to(torch.float32)
    mixes = (lam > 0)[:, :, None, None]
    m = torch.where(mixes, torch.minimum(m0, m1), m0)
    new_mask = m > 0.5 if mask.dtype == torch.bool else m.to(mask.dtype)
    return View(out, new_mask, torch.full_like(length, t))


def random_joint_subset(n: int, v: int, k: int, generator: torch.Generator, device: torch.device) -> Tensor:
    """(N, V) bool: ``min(k, V)`` distinct joints chosen uniformly per sample."""
    k = min(k, v)
    scores = torch.rand((n, v), generator=generator, device=generator.device).to(device)
    chosen = scores.argsort(dim=1)[:, :k]
    return torch.zeros((n, v), dtype=torch.bool, device=device).scatter_(1, chosen, True)


def joint_corruption(
    x: Tensor,
    generator: torch.Generator,
    num_joints: int = 15,
    zero_prob: float = 0.5,
    mix_range: float = 1.0,
) -> Tensor:
    """Corrupt ``num_joints`` random joints per sample: zero them, or mix their channels.

    With probability ``zero_prob`` the chosen joints are set to 0; otherwise their
    coordinates become ``Aᵀ·p`` (``p'_e = Σ_c p_c·A[c, e]``, as the official code's
    ``np.dot(p, A)``) with A (C, C) entries U[−mix_range, mix_range].
    """
    _check_batch(x)
    n, c, _, v, _ = x.shape
    chosen = random_joint_subset(n, v, num_joints, generator, x.device)
    zero = _uniform(generator, (n,), 0.0, 1.0, x.device) < zero_prob
    a = _uniform(generator, (n, c, c), -mix_range, mix_range, x.device).to(x.dtype)
    mixed = torch.einsum("nctvm,nce->netvm", x, a)
    corrupted = torch.where(zero[:, None, None, None, None], torch.zeros_like(x), mixed)
    return torch.where(chosen[:, None, None, :, None], corrupted, x)


def shear(x: Tensor, generator: torch.Generator, shear_range: float = 1.0) -> Tensor:
    """Apply a random shear ``S·p`` per sample: S (C, C), 1 on the diagonal, U[−r, r] off it."""
    _check_batch(x)
    n, c = x.shape[:2]
    s = _uniform(generator, (n, c, c), -shear_range, shear_range, x.device).to(x.dtype)
    eye = torch.eye(c, dtype=torch.bool, device=x.device)
    s = torch.where(eye, torch.ones_like(s), s)
    return torch.einsum("nec,nctvm->netvm", s, x)


def horizontal_flip(
    x: Tensor,
    mask: Tensor,
    flip_permutation: Sequence[int] | np.ndarray | Tensor,
    apply: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Mirror left and right: swap paired joints (``Layout.flip_permutation``) and negate x.

    Args:
        x: (N, C, T, V, M) joints; channel 0 is the horizontal coordinate.
        mask: (N, T, V, M) joint validity; permuted with the joints.
        flip_permutation: (V,) joint permutation that swaps each left/right pair.
        apply: (N,) bool, which samples to flip; None flips all.

    Returns:
        ``(x, mask)`` flipped where ``apply``; applying twice restores the input.
    """
    _check_batch(x, mask)
    perm = torch.as_tensor(np.asarray(flip_permutation), dtype=torch.long, device=x.device)
    if perm.shape != (x.shape[3],):
        raise ValueError(f"flip_permutation must have V = {x.shape[3]} entries, got {tuple(perm.shape)}")
    flipped = x[:, :, :, perm, :].clone()
    flipped[:, 0] = -flipped[:, 0]
    flipped_mask = mask[:, :, perm, :]
    if apply is None:
        return flipped, flipped_mask
    apply = apply.to(device=x.device, dtype=torch.bool)
    return (
        torch.where(apply[:, None, None, None, None], flipped, x),
        torch.where(apply[:, None, None, None], flipped_mask, mask),
    )


def rotate_vertical(x: Tensor, angles: Tensor, vertical_axis: int = 1) -> Tensor:
    """Rotate each sample by ``angles`` (N,) radians about the vertical axis through the origin.

    With y vertical: ``x' = cos·x + sin·z``, ``z' = −sin·x + cos·z``. Needs C = 3.
    """
    _check_batch(x)
    if x.shape[1] != 3:
        raise ValueError(f"rotation about the vertical axis needs 3D joints (C = 3), got C = {x.shape[1]}")
    a, b = [axis for axis in range(3) if axis != vertical_axis]
    cos = torch.cos(angles).to(x)[:, None, None, None]
    sin = torch.sin(angles).to(x)[:, None, None, None]
    out = x.clone()
    out[:, a] = cos * x[:, a] + sin * x[:, b]
    out[:, b] = -sin * x[:, a] + cos * x[:, b]
    return out


class MPCT:
    """Makes MPCT views of a batch; see the module docstring for the steps.

    Args:
        config: view parameters.
        flip_permutation: (V,) left/right joint permutation
            (``Layout.flip_permutation``); required when ``config.flip_prob > 0``.
    """

    def __init__(self, config: MPCTConfig = MPCTConfig(), flip_permutation: Sequence[int] | np.ndarray | None = None):
        if config.flip_prob > 0 and flip_permutation is None:
            raise ValueError("flip_prob > 0 needs a flip_permutation (pass Layout.flip_permutation)")
        self.config = config
        self.flip_permutation = None if flip_permutation is None else np.asarray(flip_permutation)

    def __call__(self, x: Tensor, mask: Tensor, length: Tensor, generator: torch.Generator) -> View:
        """One view of the batch; every random draw comes from ``generator``."""
        cfg = self.config
        _check_batch(x, mask)
        n = x.shape[0]
        view = temporal_crop_resize(x, mask, length, generator, cfg.crop_scale, cfg.min_crop_frames)
        out, out_mask = view.x, view.mask
        if cfg.flip_prob > 0:
            apply = _uniform(generator, (n,), 0.0, 1.0, x.device) < cfg.flip_prob
            out, out_mask = horizontal_flip(out, out_mask, self.flip_permutation, apply)
        if cfg.rotate_max_deg > 0:
            limit = math.radians(cfg.rotate_max_deg)
            out = rotate_vertical(out, _uniform(generator, (n,), -limit, limit, x.device), cfg.vertical_axis)
        corrupt = _uniform(generator, (n,), 0.0, 1.0, x.device) < cfg.corrupt_prob
        corrupted = joint_corruption(out, generator, cfg.corrupt_joints, cfg.zero_prob, cfg.mix_range)
        sheared = shear(out, generator, cfg.shear_range)
        out = torch.where(corrupt[:, None, None, None, None], corrupted, sheared)
        return View(out, out_mask, view.length)
