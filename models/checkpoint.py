"""Checkpoints: a directory with ``config.json`` and ``model.safetensors``.

The config carries everything needed to feed the model the data it was
trained on (layout, T, fps, normalisation, labels) plus where it came from
(training data, command) and what it scored. Loading validates all of it and
fails with a message naming the file and the mismatch.

Reading and checking a config needs no torch (ONNX Runtime deployments read
it too); building, saving and loading a model import torch when called.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foundation.errors import SkelstreamError
from models.action_runs import EventRules
from models.dste_config import DSTEConfig
from models.point_events import PointRules
from models.skeleton.normalize import NormalizationConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

FORMAT = "skelstream-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TASKS = ("detection", "classification")
EVENT_RULES: dict[str, type[PointRules] | type[EventRules]] = {"points": PointRules, "runs": EventRules}
"""Keys of ``config.json`` → ``events`` and their rules: ``points`` the `PointRules` of gesture events (one per
instance), ``runs`` the `EventRules` of action start/end events. Each key is also `CheckpointConfig`'s field."""
EVENT_KINDS = tuple(EVENT_RULES)


class CheckpointError(SkelstreamError):
    """A checkpoint is missing, malformed, or does not match what the caller needs."""


@dataclass
class CheckpointConfig:
    """The contents of ``config.json``.

    Attributes:
        model: the `DSTEConfig` (architecture, layout, T, M, modality, classes).
        task: "detection" (per-frame logits, class 0 background) or "classification".
        labels: class names in output order; for detection ``labels[0]`` is "background".
        fps: frame rate the model expects; streams are resampled to it.
        normalization: how windows are normalised.
        variant: the registered variant the model was built from.
        training: data, protocol and command that produced the weights.
        metrics: evaluation results, by split.
        points: when set, the stream emits one ``gesture`` event per recognised instance by these rules
            (`models.point_events`); ``config.json`` keeps them as ``"events": {"points": {...}}``.
            Detection checkpoints only.
        runs: the rules of the stream's action ``start``/``end`` events (`models.action_runs`), chosen for this
            checkpoint; ``config.json`` keeps them as ``"events": {"runs": {...}}``; None: `EventRules`' defaults.
            Detection checkpoints only.
        min_score: a frame whose most likely action scores below it is published as background (0: the most
            likely class always; `models.fusion.published_labels`). Detection checkpoints only.
    """

    model: DSTEConfig
    task: str
    labels: list[str]
    fps: float
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig)
    variant: str = "dste-small"
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    points: PointRules | None = None
    runs: EventRules | None = None
    min_score: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise CheckpointError(f"task must be one of {TASKS}, got {self.task!r}")
        if len(self.labels) != self.model.num_classes:
            raise CheckpointError(f"{len(self.labels)} labels for a model with {self.model.num_classes} classes")
        if self.task == "detection" and self.labels[0] != "background":
            raise CheckpointError(f"detection labels must start with 'background', got {self.labels[0]!r}")
        if self.fps <= 0:
            raise CheckpointError(f"fps must be positive, got {self.fps}")
        if self.points is not None:
            if not isinstance(self.points, PointRules):
                raise CheckpointError(f"points must be PointRules, got {type(self.points).__name__}")
            if self.task != "detection":
                raise CheckpointError(f"events.points needs per-frame scores: a detection checkpoint, not {self.task}")
        if self.runs is not None:
            if not isinstance(self.runs, EventRules):
                raise CheckpointError(f"runs must be EventRules, got {type(self.runs).__name__}")
            if self.task != "detection":
                raise CheckpointError(f"events.runs needs per-frame scores: a detection checkpoint, not {self.task}")
        if isinstance(self.min_score, bool) or not isinstance(self.min_score, (int, float)) \
                or not 0.0 <= self.min_score < 1.0:
            raise CheckpointError(f"min_score must be a number in [0, 1), got {self.min_score!r}")
        if self.min_score and self.task != "detection":
            raise CheckpointError(f"min_score publishes frames as background: a detection checkpoint, not {self.task}")
        if self.model.missing_prompts != self.normalization.mark_missing:
            raise CheckpointError(
                f"model.missing_prompts ({self.model.missing_prompts}) and normalization.mark_missing "
                f"({self.normalization.mark_missing}) must agree: a model places NaN-marked joints only with prompts"
            )

    @property
    def num_frames(self) -> int:
        return self.model.T

    @property
    def layout(self) -> str:
        return self.model.layout

    def to_dict(self) -> dict[str, Any]:
        events = {kind: rules.to_dict() for kind in EVENT_KINDS if (rules := getattr(self, kind)) is not None}
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "variant": self.variant,
            "task": self.task,
            "model": self.model.to_dict(),
            "labels": list(self.labels),
            "fps": self.fps,
            "normalization": self.normalization.to_dict(),
            "training": self.training,
            "metrics": self.metrics,
            **({"events": events} if events else {}),
            **({"min_score": self.min_score} if self.min_score else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> CheckpointConfig:
        """Parse and validate; errors name ``source`` and the offending key."""
        if data.get("format") != FORMAT:
            raise CheckpointError(f"{source}: not a skelstream checkpoint config (format={data.get('format')!r})")
        if data.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{source}: format_version {data.get('format_version')!r} is not supported")
        required = ("task", "model", "labels", "fps", "normalization")
        missing = [key for key in required if key not in data]
        if missing:
            raise CheckpointError(f"{source}: missing keys {missing}")
        try:
            model = DSTEConfig.from_dict(data["model"])
            normalization = NormalizationConfig(**data["normalization"])
            return cls(
                model=model,
                task=data["task"],
                labels=list(data["labels"]),
                fps=float(data["fps"]),
                normalization=normalization,
                variant=data.get("variant", "dste-small"),
                training=data.get("training", {}),
                metrics=data.get("metrics", {}),
                **_event_rules(data.get("events", {})),
                min_score=data.get("min_score", 0.0),
            )
        except CheckpointError as error:
            raise CheckpointError(f"{source}: {error}") from None
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{source}: invalid config: {error}") from None


def _event_rules(events: Any) -> dict[str, Any]:
    """``config.json``'s ``events`` (``{"points": {PointRules fields}, "runs": {EventRules fields}}``, either, both
    or neither) parsed: each kind given, to its rules."""
    if not isinstance(events, dict):
        raise CheckpointError(f"events must be a mapping such as {{\"points\": {{...}}}}, got {type(events).__name__}")
    unknown = sorted(set(events) - set(EVENT_KINDS))
    if unknown:
        raise CheckpointError(f"events: unknown kinds {', '.join(map(str, unknown))}; known: {', '.join(EVENT_KINDS)}")
    parsed = {}
    for kind, given in events.items():
        rules_type = EVENT_RULES[kind]
        if not isinstance(given, dict):
            raise CheckpointError(f"events.{kind} must be a mapping of {', '.join(rules_type.__dataclass_fields__)}, "
                                  f"got {type(given).__name__}")  # fmt: skip
        try:
            parsed[kind] = rules_type.from_dict(given)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"events.{kind}: {str(error).removeprefix('point rules: ')}") from None
    return parsed


def build_model(config: CheckpointConfig) -> nn.Module:
    """The (randomly initialised) model a checkpoint config describes."""
    from models.classifier import ClipClassifier
    from models.dste import DSTEDetector

    return DSTEDetector(config.model) if config.task == "detection" else ClipClassifier(config.model)


def save_checkpoint(directory: str | Path, model: nn.Module, config: CheckpointConfig, half: bool = True) -> Path:
    """Write ``config.json`` and ``model.safetensors`` (float16 weights with ``half``), each safely: a temporary
    file renamed into place (`foundation.output_files`), so a run killed while saving leaves the previous files."""
    from safetensors.torch import save_file

    from foundation.output_files import StagedOutput, write_atomically

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {
        key: (value.half() if half and value.is_floating_point() else value).detach().cpu().contiguous()
        for key, value in model.state_dict().items()
    }
    weights = StagedOutput(directory / WEIGHTS_FILE)
    try:
        save_file(state, str(weights.path), metadata={"format": FORMAT})
    except BaseException:
        weights.discard()
        raise
    weights.commit()
    write_atomically(directory / CONFIG_FILE, json.dumps(config.to_dict(), indent=2) + "\n")
    return directory


def read_config(directory: str | Path) -> CheckpointConfig:
    """The validated config of the checkpoint in ``directory``."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not directory.exists():
        raise CheckpointError(f"checkpoint {directory} does not exist (a checkpoint is a directory with {CONFIG_FILE} "
                              f"and {WEIGHTS_FILE})")  # fmt: skip
    if not directory.is_dir():
        onnx = directory.suffix == ".onnx"
        hint = " an exported ONNX model runs on the onnxruntime or tensorrt backend;" if onnx else ""
        raise CheckpointError(f"checkpoint {directory} is a file, not a checkpoint directory:{hint} a checkpoint is a "
                              f"directory with {CONFIG_FILE} and {WEIGHTS_FILE}")  # fmt: skip
    if not path.is_file():
        raise CheckpointError(f"{directory}: no {CONFIG_FILE}; a checkpoint is a directory with it and {WEIGHTS_FILE}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return CheckpointConfig.from_dict(data, source=str(path))


def check_compatible(
    config: CheckpointConfig,
    layout: str | None = None,
    num_frames: int | None = None,
    labels: list[str] | None = None,
    source: str = "checkpoint",
) -> None:
    """Raise `CheckpointError` unless the checkpoint matches what the caller will feed it."""
    if layout is not None and config.layout != layout:
        raise CheckpointError(f"{source}: trained on layout {config.layout!r}, but the input is {layout!r}")
    if num_frames is not None and config.num_frames != num_frames:
        raise CheckpointError(f"{source}: expects windows of T={config.num_frames} frames, got T={num_frames}")
    if labels is not None and list(labels) != list(config.labels):
        raise CheckpointError(f"{source}: labels {config.labels} differ from the expected {list(labels)}")


def load_checkpoint(
    directory: str | Path,
    layout: str | None = None,
    num_frames: int | None = None,
    labels: list[str] | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[nn.Module, CheckpointConfig]:
    """Model (float32, eval mode) and config of a checkpoint, checked against the optional expectations."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    config = read_config(directory)
    check_compatible(config, layout, num_frames, labels, source=str(directory))
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"{directory}: no {WEIGHTS_FILE}")
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights}: unreadable weights: {error}") from None
    model = build_model(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{weights}: weights do not match the config: missing {missing[:5]}, "
                              f"unexpected {unexpected[:5]}")  # fmt: skip
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(f"{weights}: {key} has shape {tuple(value.shape)}, config implies "
                                  f"{tuple(expected[key].shape)}")  # fmt: skip
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return model.to(map_location).eval(), config
