"""A test checkpoint with gesture events: seeded random weights whose gestures take turns on a real recording.

Random weights alone let one or two classes win everywhere. The head is standardised on the
recording (each class's causal logit over its frames: mean 0, standard deviation ``spread``), so
the probabilities of the 12 gestures rise and fall and the gesture rules fire often. These are
fixtures of the runtime and the protocol, not a model of anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
from models.datasets.msrc12 import MSRC12_GESTURES, read_msrc12
from models.dste_config import DSTEConfig
from models.point_events import PointRules
from models.windows import cut_window, prepare_sequence

RULES = PointRules(threshold=0.5, release=0.3, refractory_s=0.5, confirm_frames=1, peak_frames=3)  # peaks, as shipped


def gesture_checkpoint(path: Path, recording: Path, rules: PointRules | None = RULES, seed: int = 2,
                       spread: float = 3.0) -> str:  # fmt: skip
    """Save the checkpoint at ``path`` (MSRC-12 labels, ``rules`` in its config) and return its path."""
    labels = ["background", *MSRC12_GESTURES]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0, points=rules)  # fmt: skip
    torch.manual_seed(seed)
    model = build_model(config).eval()
    prepared = prepare_sequence(read_msrc12(recording), config.fps)
    windows = np.stack([cut_window(prepared, end, 16, config.normalization)[0] for end in range(prepared.num_frames)])
    with torch.no_grad():
        last = model(torch.from_numpy(windows))[:, -1]  # what a causal stream labels each frame with
        mean, std = last.mean(0), last.std(0)
        model.head.weight.mul_((spread / std)[:, None])
        model.head.bias.copy_(spread * (model.head.bias - mean) / std)
    save_checkpoint(path, model, config)
    return str(path)
