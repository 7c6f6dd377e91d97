"""Skeleton input modalities: joint, motion and bone streams of a window.

USDRL (and most skeleton models since 2s-AGCN) train one model per modality
and ensemble them. The transform lives in the model's forward (see
``models/dste.py``), so every backend (torch, ONNX, TensorRT) is fed plain joint
windows and cannot silently skip it. The functions here are pure torch,
never modify their input, and keep static shapes, so they export with
``torch.onnx.export(dynamo=True)``.

    >>> from models.skeleton.layouts import get_layout
    >>> x = torch.randn(2, 3, 64, 30, 2)               # (N, C, T, V, M)
    >>> parents = get_layout("unified_30").parent_indices
    >>> to_modality(x, "bone", parents).shape
    torch.Size([2, 3, 64, 30, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from models.dste_config import MODALITIES


def motion(x: torch.Tensor) -> torch.Tensor:
    """Frame differences ``x[:, :, t + 1] - x[:, :, t]``; the last frame is zero.

    Args:
        x: (N, C, T, V, M) joint window.
    """
    diff = x[:, :, 1:] - x[:, :, :-1]
    return torch.cat([diff, torch.zeros_like(x[:, :, :1])], dim=2)


def bone(x: torch.Tensor, parents: torch.Tensor) -> torch.Tensor:
    """Bone vectors ``joint - parent joint``; the root (its own parent) is zero.

    Args:
        x: (N, C, T, V, M) joint window.
        parents: (V,) int64 parent index of every joint, on ``x``'s device.
    """
    return x - x.index_select(3, parents)


def as_parent_tensor(parents: torch.Tensor | np.ndarray | Sequence[int], num_joints: int | None = None) -> torch.Tensor:
    """``parents`` as a (V,) int64 tensor, checked to index within ``[0, V)``."""
    out = torch.as_tensor(np.asarray(parents) if not isinstance(parents, torch.Tensor) else parents, dtype=torch.long)
    if out.ndim != 1:
        raise ValueError(f"parents must be a (V,) index vector, got shape {tuple(out.shape)}")
    if num_joints is not None and out.numel() != num_joints:
        raise ValueError(f"parents has {out.numel()} entries but the window has V={num_joints} joints")
    if out.numel() and (int(out.min()) < 0 or int(out.max()) >= out.numel()):
        raise ValueError("parents must index joints within [0, V)")
    return out


def to_modality(
    x: torch.Tensor,
    modality: str,
    parents: torch.Tensor | np.ndarray | Sequence[int] | None = None,
) -> torch.Tensor:
    """The ``modality`` stream of the joint window ``x`` (N, C, T, V, M).

    ``"joint"`` returns ``x`` itself, ``"motion"`` the frame differences (last
    frame zero), ``"bone"`` joint minus parent joint (root zero; needs
    ``parents``, e.g. ``Layout.parent_indices``). The output has ``x``'s shape.
    """
    if x.ndim != 5:
        raise ValueError(f"expected an (N, C, T, V, M) window, got shape {tuple(x.shape)}")
    if modality == "joint":
        return x
    if modality == "motion":
        return motion(x)
    if modality == "bone":
        if parents is None:
            raise ValueError("the bone modality needs the layout's parent indices")
        if not isinstance(parents, torch.Tensor) or parents.dtype != torch.long:
            parents = as_parent_tensor(parents, x.shape[3])
        return bone(x, parents.to(x.device))
    raise ValueError(f"unknown modality {modality!r}; expected one of {', '.join(MODALITIES)}")
