"""`TrainConfig`: one dataclass for every training run, read from YAML and overridden by flags."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foundation.config_files import ConfigError, coerce_fields, load_config


TASKS = ("pretrain", "detect", "classify", "multitask")
ONSET_KINDS = ("actions", "movements")
__all__ = ["ConfigError", "TASKS", "TrainConfig", "load_train_config"]


@dataclass
class TrainConfig:
    """Everything one run of `stream-train` needs.

    Datasets are named as in `models.datasets.registry`, optionally with
    subjects: ``"utkinect:1,2,3,4"``.
    """

    task: str = "detect"
    output: str = "runs/detect"
    variant: str = "dste-small"
    model: dict[str, Any] = field(default_factory=dict)  # DSTEConfig overrides, e.g. {"missing_prompts": true}
    init: str | None = None  # checkpoint directory whose encoder weights start this run
    data_root: str = "../shared/data"
    train: list[str] = field(default_factory=lambda: ["utkinect:1,2,3,4"])
    val: list[str] = field(default_factory=lambda: ["utkinect:5,6"])
    point_span_s: list[float] = field(default_factory=lambda: [1.0, 0.2])  # action points → frames [p - a, p + b]
    points: dict[str, Any] | None = None  # detect: gesture event rules (PointRules fields) written to the checkpoint
    runs: dict[str, Any] | None = None  # detect: action start/end event rules (EventRules fields), written likewise
    label_map: str | None = None  # detect: how further datasets' actions enter the vocabulary (vocabularies.py)
    primary_share: float = 0.5  # detect with several datasets: share of windows from the first; the rest split evenly
    calibrate: bool = False  # detect: fit a temperature on the validation windows and bake it into the head
    temperature: float | None = None  # detect: bake this temperature instead (e.g. the validated recipe's)
    background_offset: float = 0.0  # detect: take this off the background logit (a prior shift), baked in
    publish_precision: float | None = None  # detect: min_score = the lowest level this precise on validation
    min_score: float | None = None  # detect: write this min_score instead of choosing one (the validated recipe's)
    camera_view: float = 0.0  # detect: share of windows shown as MediaPipe would give them (window_augment.py)
    young_track: float = 0.0  # detect: share of windows cut as for a person who just appeared
    lifted_view: float = 0.0  # detect: share of windows seen by a virtual camera and lifted back (window_augment.py)
    speed_range: list[float] = field(default_factory=lambda: [1.0, 1.0])  # detect: windows play at a speed drawn
    # log-uniformly in [low, high] (people's own pace; window_augment.py); [1, 1]: as recorded
    tail_frames: int = 0  # detect: each window's last frames, the ones a causal stream labels from it ...
    tail_weight: float = 1.0  # ... weigh this much in the loss (1: every frame alike)
    onset_share: float = 0.0  # detect: share of windows ending just after an action's first frame (data.py) ...
    onset_frames: int = 8  # ... within this many frames of it: the moments a causal stream must name it from
    onset_kind: str = "actions"  # "actions": the vocabulary's actions begin; "movements": hard negatives' too
    synthetic_sequences: int = 0  # detect: labelled synthetic sequences mixed into training
    input_layout: str | None = None  # use only the unified joints this layout provides (e.g. kinect_v1_20)
    fps: float = 15.0
    epochs: int = 20
    steps_per_epoch: int = 50
    batch_size: int = 32
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    label_smoothing: float = 0.1
    shear: float = 0.0  # detect, classify, multitask: windows sheared by up to this much (SupervisedAugment)
    linear_probe: bool = False  # freeze the encoder, train the head only (classify, detect)
    modalities: list[str] = field(default_factory=lambda: ["joint", "motion", "bone"])  # pretrain streams
    projector_width: int = 512
    eval_stride: int = 8
    seed: int = 0
    num_workers: int = 0
    amp: bool = True  # mixed precision on CUDA (ignored on CPU)
    resume: bool = False
    device: str = "auto"

    def __post_init__(self) -> None:
        from models.dste_config import DSTEConfig

        self.model = coerce_fields(DSTEConfig, self.model, prefix="model.")
        if self.task not in TASKS:
            raise ConfigError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.temperature is not None and not self.temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {self.temperature}")
        if not 0.0 < self.primary_share <= 1.0:
            raise ConfigError(f"primary_share must be in (0, 1], got {self.primary_share}")
        if self.points is not None:
            from models.point_events import PointRules

            try:
                PointRules.from_dict(self.points)
            except (TypeError, ValueError) as error:
                raise ConfigError(f"points: {str(error).removeprefix('point rules: ')}") from None
        if self.runs is not None:
            from models.action_runs import EventRules

            try:
                EventRules.from_dict(self.runs)
            except (TypeError, ValueError) as error:
                raise ConfigError(f"runs: {error}") from None
        if self.label_map is not None:
            from models.training.vocabularies import VOCABULARY_MAPS

            if self.label_map not in VOCABULARY_MAPS:
                raise ConfigError(f"label_map must be one of {sorted(VOCABULARY_MAPS)}, got {self.label_map!r}")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ConfigError(f"optimizer must be adam, adamw or sgd, got {self.optimizer!r}")
        if self.publish_precision is not None and not 0.0 < self.publish_precision <= 1.0:
            raise ConfigError(f"publish_precision must be in (0, 1], got {self.publish_precision}")
        if self.min_score is not None and not 0.0 <= self.min_score < 1.0:
            raise ConfigError(f"min_score must be in [0, 1), got {self.min_score}")
        if self.tail_frames < 0 or not self.tail_weight > 0:
            raise ConfigError(f"tail_frames must be >= 0 and tail_weight > 0, got {self.tail_frames}, "
                              f"{self.tail_weight}")  # fmt: skip
        if not 0.0 <= self.onset_share < 1.0 or self.onset_frames < 1:
            raise ConfigError(f"onset_share must be in [0, 1) and onset_frames >= 1, got {self.onset_share}, "
                              f"{self.onset_frames}")  # fmt: skip
        if self.onset_kind not in ONSET_KINDS:
            raise ConfigError(f"onset_kind must be one of {ONSET_KINDS}, got {self.onset_kind!r}")
        from models.training.window_augment import WindowAugment

        try:
            WindowAugment(speed_range=tuple(self.speed_range))
        except ValueError as error:
            raise ConfigError(str(error)) from None
        if not 0.0 <= self.shear < 1.0:
            raise ConfigError(f"shear must be in [0, 1), got {self.shear}")
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_train_config(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Defaults ← YAML file ← ``overrides`` (flags); unknown keys and wrong types name the key."""
    return load_config(TrainConfig, path, **overrides)
