"""Learned prompts for the joints a skeleton source lacks.

Sources differ in the joints they give: Kinect v1 has no hand tips or thumbs,
Kinect v2 has them, an occluded joint is missing in any source. Without
prompts the window normalisation puts a missing joint on its nearest present
ancestor (a hand tip on the hand), which tells the model nothing about the
joint being absent. With ``DSTEConfig.missing_prompts`` the normalisation
leaves missing joints NaN (``NormalizationConfig.mark_missing``) and
:class:`MissingJointPrompts`, the detector's first step, places each one at its
parent's position plus a learned offset of its own: a learned default bone in
the normalised body frame. Starting from zero offsets it reproduces the
ancestor placement exactly, so it can be added to a pretrained encoder.

The prompts are per joint; since a source is known by the joints it lacks
(Kinect v1 and UTD-MHAD, MSR Action3D: hand tips and thumbs; every source: the
occluded ones), each prompt serves the sources that lack that joint. The
placement is ordinary tensor algebra (``IsNaN``, ``Where``, ``Gather``), so it
exports to ONNX with the rest of the model and every backend is fed the same
NaN-marked windows.

    >>> prompts = MissingJointPrompts(get_layout("unified_30").parent_indices, channels=3)
    >>> x = torch.zeros(1, 3, 64, 30, 2); x[:, :, :, 21] = float("nan")   # no left hand tip
    >>> bool(prompts(x).isnan().any())
    False
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from models.modalities import as_parent_tensor
from models.skeleton.unified import joint_depths

__all__ = ["MissingJointPrompts"]


class MissingJointPrompts(nn.Module):
    """(N, C, T, V, M) windows with NaN joints → the same windows with each NaN joint placed by its prompt.

    A missing joint becomes ``its parent's (placed) position + offset[joint]``; a missing root becomes 0.
    A joint counts as missing when any of its channels is NaN.
    """

    def __init__(self, parents: Sequence[int] | np.ndarray, channels: int) -> None:
        super().__init__()
        parent_tensor = as_parent_tensor(parents)
        self.register_buffer("parents", parent_tensor, persistent=False)
        not_root = (parent_tensor != torch.arange(parent_tensor.numel())).float()
        self.register_buffer("not_root", not_root.view(1, 1, 1, -1, 1), persistent=False)
        self.depth = int(joint_depths(parent_tensor.numpy()).max())
        self.offset = nn.Parameter(torch.zeros(1, channels, 1, parent_tensor.numel(), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        missing = torch.isnan(x).any(dim=1, keepdim=True)
        x = torch.where(missing, torch.zeros_like(x), x)
        offset = self.offset * self.not_root
        for _ in range(self.depth):  # each pass settles one more level of a chain of missing joints
            x = torch.where(missing, x.index_select(3, self.parents) + offset, x)
        return x

    def extra_repr(self) -> str:
        return f"joints={self.offset.shape[3]}, channels={self.offset.shape[1]}, depth={self.depth}"
