"""Shared fixtures: the real datasets in ``../shared/data`` (tests skip cleanly without them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SKELSTREAM_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_dataset(folder: str) -> Path:
    """Path of ``folder`` inside the shared data, or skip the test with the reason."""
    path = SHARED_DATA / folder
    if not path.is_dir():
        pytest.skip(f"real data not available: {path} is absent (set SKELSTREAM_DATA to the data folder)")
    return path


@pytest.fixture
def data_root() -> Path:
    """Root of the shared real datasets; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent")
    return SHARED_DATA


VARIANT_LABELS = ["background", "walk", "sitDown", "standUp"]


def variant_checkpoint(tmp_path_factory, variant: str) -> str:
    """A checkpoint of a registered DSTE variant with seeded random weights, built once per test session.

    Shared by the export and backend-equivalence tests, so the ONNX cache keyed by
    the checkpoint's fingerprint is shared too.
    """
    import torch

    from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
    from models.dste_config import DSTE_VARIANTS, DSTEConfig

    path = tmp_path_factory.getbasetemp() / f"ckpt-{variant}"
    if not (path / "model.safetensors").is_file():
        torch.manual_seed(0)
        model = DSTEConfig.from_dict({**DSTE_VARIANTS[variant].to_dict(), "num_classes": len(VARIANT_LABELS)})
        config = CheckpointConfig(model=model, task="detection", labels=VARIANT_LABELS, fps=15.0, variant=variant)
        save_checkpoint(path, build_model(config), config)
    return str(path)


@pytest.fixture(autouse=True, scope="session")
def _corpus_cache_of_the_session(tmp_path_factory):
    """Prepared-data caches (`models.corpus`) of this test session live in its temp folder, not in ~/.cache."""
    previous = os.environ.get("SKELSTREAM_CORPUS")
    os.environ["SKELSTREAM_CORPUS"] = str(tmp_path_factory.mktemp("corpus"))
    yield
    if previous is None:
        os.environ.pop("SKELSTREAM_CORPUS", None)
    else:
        os.environ["SKELSTREAM_CORPUS"] = previous
