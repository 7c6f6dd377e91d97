"""Clip classification on top of the DSTE encoder: global feature → class logits."""

from __future__ import annotations

import torch
from torch import nn

from models.dste import DSTEEncoder
from models.dste_config import DSTEConfig


class ClipClassifier(nn.Module):
    """DSTE encoder + a linear classifier on the global feature: (N, C, T, V, M) → (N, K).

    ``num_classes`` of the config counts the clip classes (no background here).
    """

    def __init__(self, cfg: DSTEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = DSTEEncoder(cfg)
        self.head_norm = nn.LayerNorm(self.encoder.num_features)
        self.head = nn.Linear(self.encoder.num_features, cfg.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2d) normalised global features (for the linear probe and 1-NN retrieval)."""
        return self.head_norm(self.encoder(x).global_)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
