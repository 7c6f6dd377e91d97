"""How every benchmark ends: its results as JSON (folders created), its figure, and a line saying where they went."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_results(path: Path, results: dict[str, Any], plot: Callable[[Path], None] | None = None,
                  plot_path: Path | None = None, indent: int = 2) -> None:  # fmt: skip
    """Write ``results`` to ``path``, then ``plot(plot_path)`` when both are given; print what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=indent) + "\n")
    written = [path]
    if plot is not None and plot_path is not None:
        plot(plot_path)
        written.append(plot_path)
    print("wrote " + " and ".join(map(str, written)))
