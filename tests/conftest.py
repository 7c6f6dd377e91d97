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
