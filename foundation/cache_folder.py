"""Where skelstream keeps what it downloads or derives and can make again: ``$SKELSTREAM_CACHE``, else
``~/.cache/skelstream`` (the pose model, the pose cache, camera skeletons made from videos)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SKELSTREAM_CACHE"
"""The environment variable that moves the cache."""


def cache_folder() -> Path:
    """``$SKELSTREAM_CACHE``, else ``~/.cache/skelstream``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "skelstream"
