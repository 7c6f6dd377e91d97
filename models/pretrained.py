"""The checkpoints shipped with skelstream, by name: ``models/checkpoints/<name>/``.

    resolve_checkpoint("gestures")        # → .../models/checkpoints/gestures
    resolve_checkpoint("runs/x/ckpt")     # a directory path is taken as it is
    shipped_checkpoints()                 # {"actions": Path(...), "gestures": Path(...)}

Every directory of ``models/checkpoints/`` holding a ``config.json`` is a
shipped checkpoint, named after the directory: nothing is listed by hand, so a
checkpoint added there is known at once. ``actions`` (UTKinect actions) is the
default. A bare name (no path separator, no dot) that names nothing in the
current folder must be a shipped checkpoint's; anything else is a path (a
checkpoint directory, or an exported model file for the backends that take
one). `describe_checkpoint` is what ``stream-run --list-checkpoints`` prints:
labels, training data, gesture events and validation figures, all read from
the config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from models.checkpoint import CONFIG_FILE, CheckpointConfig, CheckpointError

CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"
DEFAULT_NAME = "actions"
DEFAULT_CHECKPOINT = CHECKPOINTS / DEFAULT_NAME


def shipped_checkpoints(folder: Path = CHECKPOINTS) -> dict[str, Path]:
    """Name → directory of every checkpoint in ``folder`` (a subdirectory with a ``config.json``), sorted by name."""
    if not folder.is_dir():
        return {}
    return {path.name: path for path in sorted(folder.iterdir()) if (path / CONFIG_FILE).is_file()}


def resolve_checkpoint(name_or_path: str | Path, folder: Path = CHECKPOINTS) -> Path:
    """The checkpoint directory ``name_or_path`` means (module docstring); `CheckpointError` for an unknown name."""
    text = str(name_or_path)
    if not text.strip():
        raise CheckpointError("checkpoint: expected a shipped checkpoint's name or a checkpoint directory, got ''")
    path = Path(text)
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    if any(sep in text for sep in separators) or "." in text or path.exists():  # a.onnx, x.engine: files
        return path
    shipped = shipped_checkpoints(folder)
    if text in shipped:
        return shipped[text]
    known = ", ".join(shipped) or "none"
    raise CheckpointError(f"unknown checkpoint {text!r}: the shipped checkpoints are {known} (stream-run "
                          "--list-checkpoints); anything else must be a checkpoint directory")  # fmt: skip


def describe_checkpoint(name: str, config: CheckpointConfig) -> str:
    """A few lines on a checkpoint: labels, training data, event rules, validation figures from its config."""
    actions = [label for label in config.labels if label != "background"]
    lines = [f"{name}{' (default)' if name == DEFAULT_NAME else ''}: {config.variant} {config.task}, "
             f"{len(actions)} classes + background at {config.fps:g} fps, windows of {config.num_frames} frames",
             f"  labels: {', '.join(actions)}"]  # fmt: skip
    trained = config.training.get("config", {}) if isinstance(config.training, dict) else {}
    train, val = trained.get("train"), trained.get("val")
    if train:
        synthetic = trained.get("synthetic_sequences")
        extra = f" + {synthetic} synthetic sequences" if synthetic else ""
        lines.append(f"  trained on: {', '.join(map(str, train))}{extra}"
                     f"{'; validated on ' + ', '.join(map(str, val)) if val else ''}")  # fmt: skip
    if config.points is not None:
        rules = config.points
        peak = f", at the peak within {rules.peak_frames} frame(s)" if rules.peak_frames else ""
        lines.append(f"  gesture events: threshold {rules.threshold:g}, release {rules.release:g}, refractory "
                     f"{rules.refractory_s:g} s, confirm {rules.confirm_frames} frame(s){peak}")  # fmt: skip
    if config.runs is not None:
        rules = config.runs
        confident = (f", or {rules.confident_frames} frame(s) at {rules.confident_threshold:g}"
                     if rules.confident_frames else "")  # fmt: skip
        lines.append(f"  start/end events: enter {rules.enter_threshold:g}, exit {rules.exit_threshold:g}, start after "
                     f"{rules.min_duration_frames} frame(s){confident}")  # fmt: skip
    for split, figures in sorted(config.metrics.items()):
        if isinstance(figures, dict):
            shown = _figures(figures)
            if shown:
                lines.append(f"  {split}: {shown}")
    return "\n".join(lines)


def _figures(metrics: dict[str, Any]) -> str:
    """The numbers of a metrics split: scalars, and maps over thresholds (``segment_map``: ``{"0.5": ...}``)."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, bool) or key.startswith("num_"):
            continue
        if isinstance(value, (int, float)):
            parts.append(f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}")
        elif isinstance(value, dict) and value and all(_is_threshold(k) for k in value):
            parts += [f"{key}@{k} {v:.3f}" for k, v in value.items() if isinstance(v, (int, float))]
    return ", ".join(parts)


def _is_threshold(key: str) -> bool:
    try:
        float(key)
    except (TypeError, ValueError):
        return False
    return True
