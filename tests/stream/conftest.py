"""Fixtures of the streaming tests: a small real detector checkpoint and free loopback endpoints."""

import socket

import pytest

from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
from models.datasets.utkinect import UTKINECT_ACTIONS
from models.dste_config import DSTEConfig


def free_endpoint() -> str:
    """A tcp endpoint on loopback whose port was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> str:
    """A small real DSTE detector (untrained weights: these tests check the runtime, not accuracy)."""
    labels = ["background", *UTKINECT_ACTIONS]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=len(labels), frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    path = tmp_path_factory.mktemp("ckpt")
    save_checkpoint(path, build_model(config), config)
    return str(path)
