"""Several models of one vocabulary, each reading its own modality of the same window, as one model.

Skeleton models since 2s-AGCN, USDRL's reported results among them, train one model per input stream —
joint, bone, motion — and average their class probabilities. A DSTE checkpoint applies its modality inside
``forward`` (`models.modalities`), so every member is fed the same normalised joint window; the members only
have to agree on what a window is and what the classes are, which `check_members` makes sure of.

    >>> ensemble = StreamEnsemble([joint_model, bone_model, motion_model])
    >>> log_probabilities = ensemble(windows)   # log of the members' mean softmax: (N, K), or (N, T, K) per frame
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from models.checkpoint import CheckpointConfig


class StreamEnsemble(nn.Module):
    """The mean of the members' class probabilities (classifiers' or per-frame detectors'), returned as its log:
    argmax and softmax work on it as on logits."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a stream ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = torch.stack([member(x).float().softmax(dim=-1) for member in self.members])
        return probabilities.mean(dim=0).log()


def check_members(configs: Sequence[CheckpointConfig], names: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the first member whose windows or classes differ from the first member's."""
    first = configs[0]

    def window(config: CheckpointConfig) -> tuple:
        m = config.model
        return config.task, config.fps, m.T, m.V, m.M, m.C, m.layout, config.normalization

    for config, name in zip(configs[1:], names[1:]):
        if list(config.labels) != list(first.labels):
            raise ValueError(f"{name} predicts {list(config.labels)}, {names[0]} {list(first.labels)}: an ensemble's "
                             "members must share one vocabulary")  # fmt: skip
        if window(config) != window(first):
            raise ValueError(f"{name} reads other windows than {names[0]} (task, fps, T, V, M, C, layout or "
                             f"normalisation differ): {window(config)} against {window(first)}")  # fmt: skip
