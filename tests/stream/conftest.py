"""Fixtures of the streaming tests: a small real detector checkpoint and free loopback endpoints."""

import signal
import socket

import pytest

from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
from models.datasets.utkinect import UTKINECT_ACTIONS
from models.dste_config import DSTEConfig
from models.pretrained import DEFAULT_CHECKPOINT
from stream.backends import choose_backend


def exported_for_the_default_backend(path) -> None:
    """Export ``path`` for ONNX Runtime now, as stream-run's first start would (cached by its fingerprint), so
    runs under test start in a second, not after an export a listener would time out on."""
    if choose_backend(path)[0] == "onnxruntime":
        from models.export.onnx_export import checkpoint_onnx

        checkpoint_onnx(path)


@pytest.fixture(scope="session", autouse=True)
def default_checkpoint_exported() -> None:
    if (DEFAULT_CHECKPOINT / "config.json").is_file():
        exported_for_the_default_backend(DEFAULT_CHECKPOINT)


def default_sigint() -> None:
    """``preexec_fn`` of a child that a test stops with SIGINT: Ctrl-C as a terminal gives it, even when the
    suite runs from a shell that ignores SIGINT (a non-interactive ``make test &``), which children inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
    exported_for_the_default_backend(path)
    return str(path)
