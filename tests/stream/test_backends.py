"""The torch backend runs a checkpoint on windows and rejects wrong input clearly."""

import numpy as np
import pytest

from models.checkpoint import CheckpointConfig, CheckpointError, build_model, load_checkpoint, save_checkpoint
from models.dste_config import DSTEConfig
from stream.backends import make_backend


@pytest.fixture
def checkpoint(tmp_path):
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=3, frame_spatial_dim=8),
                              task="detection", labels=["background", "a", "b"], fps=15.0)  # fmt: skip
    save_checkpoint(tmp_path / "ckpt", build_model(config), config)
    return tmp_path / "ckpt"


def test_torch_backend_matches_the_model(checkpoint):
    import torch

    backend = make_backend("torch", checkpoint, threads=1)
    windows = np.random.default_rng(0).normal(size=(3, 3, 16, 30, 2)).astype(np.float32)
    logits = backend.run(windows)
    assert logits.shape == (3, 16, 3) and logits.dtype == np.float32
    model, _ = load_checkpoint(checkpoint)
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(windows)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-6)  # the checkpoint's own model, in eval mode
    assert np.abs(expected).max() > 1e-3  # logits that say something, so the comparison can fail
    assert np.allclose(backend.run(windows[:1]), logits[:1], atol=1e-5)  # batch-independent


def test_wrong_windows_and_names(checkpoint):
    backend = make_backend("torch", checkpoint, threads=1)
    with pytest.raises(ValueError, match="T=16"):
        backend.run(np.zeros((1, 3, 64, 30, 2), np.float32))
    with pytest.raises(ValueError, match="float32"):
        backend.run(np.zeros((1, 3, 16, 30, 2), np.float64))
    with pytest.raises(ValueError, match="available: torch"):
        make_backend("tensorflow", checkpoint)


def test_classification_checkpoint_is_refused(tmp_path):
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=2), task="classification",
                              labels=["a", "b"], fps=15.0)  # fmt: skip
    save_checkpoint(tmp_path, build_model(config), config)
    with pytest.raises(CheckpointError, match="detection checkpoint"):
        make_backend("torch", tmp_path)
