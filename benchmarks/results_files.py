"""How every benchmark ends: its results as JSON (folders created), its figure, and a line saying where they went."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_results(path: Path, results: dict[str, Any], plot: Callable[[Path], None] | None = None,
                  plot_path: Path | None = None, indent: int = 2) -> None:  # fmt: skip
    """Write ``results`` to ``path``, then, given a ``plot``, draw it at ``plot_path`` (default: ``path`` with
    ``.png``, so a run written elsewhere never overwrites the committed figure); print what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=indent) + "\n")
    written = [path]
    if plot is not None:
        plot_path = plot_path or path.with_suffix(".png")
        plot(plot_path)
        written.append(plot_path)
    print("wrote " + " and ".join(map(str, written)))
