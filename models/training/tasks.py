"""The three training tasks: what each builds, how one batch becomes a loss, how it is evaluated.

- pretrain: USDRL self-supervised learning on unlabelled windows (MG-FD losses
  over MPCT views and the joint/motion/bone streams).
- detect: dense per-frame detection fine-tuning (K actions + background).
- classify: clip classification on trimmed clips (fine-tune or linear probe).
- multitask: supervised pretraining of one encoder on several labelled datasets
  (`models.training.multitask`).

Training data comes prepared from the on-disk corpus cache (`models.corpus`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from foundation.errors import SkelstreamError
from models.action_runs import EventRules
from models.checkpoint import CheckpointConfig, build_model, load_checkpoint
from models.datasets.registry import dataset_spec
from models.datasets.selection import DatasetRef
from models.dste_config import DSTE_VARIANTS, DSTEConfig
from models.evaluation.gestures import evaluate_gestures
from models.evaluation.runner import evaluate_classification, evaluate_detection_each
from models.fusion import softmax
from models.inference import predict_sequence
from models.point_events import PointRules
from models.skeleton.layouts import UNIFIED_30, get_layout
from models.skeleton.normalize import NormalizationConfig
from models.training.config import TrainConfig
from models.training.data import ClipWindows, DetectionWindows, PretrainWindows
from models.training.detection_data import detection_data, load_refs
from models.training.detection_targets import detection_targets
from models.training.multitask import CLIP_KIND, DENSE_KIND, MultiTaskHeads, MultiTaskWindows, Source
from models.training.score_calibration import (bake_into_head, expected_calibration_error, fit_temperature,
                                               min_score_for_precision)
from models.training.vocabularies import VOCABULARY_MAPS
from models.training.window_augment import WindowAugment
from models.usdrl.augment import MPCTConfig, horizontal_flip, rotate_vertical, shear
from models.usdrl.pretrain import PretrainConfig, USDRLPretrainer
from models.usdrl.projector import ProjectorConfig
from models.windows import IGNORE_INDEX, cut_window, window_ends, window_frames

logger = logging.getLogger(__name__)


def new_model(config: TrainConfig, task: str, labels: list[str]) -> tuple[nn.Module, CheckpointConfig]:
    """The model a run trains and the checkpoint config it will be saved with (encoder from ``config.init``)."""
    base = DSTE_VARIANTS[config.variant].to_dict()
    cfg = DSTEConfig.from_dict({**base, "layout": UNIFIED_30.name, "V": None, **config.model,
                                "num_classes": len(labels)})  # fmt: skip
    joints = None
    if config.input_layout is not None:
        joints = tuple(name for name in UNIFIED_30.joint_names if name in get_layout(config.input_layout).unified_rules)
    checkpoint = CheckpointConfig(model=cfg, task=task, labels=labels, fps=config.fps,
                                  normalization=NormalizationConfig(joints=joints, mark_missing=cfg.missing_prompts),
                                  variant=config.variant)  # fmt: skip
    model = build_model(checkpoint)
    init_encoder(model, config.init)
    return model, checkpoint


def init_encoder(model: nn.Module, init: str | None) -> None:
    """Start ``model`` from checkpoint ``init``: its encoder, and every other weight of the same name and shape
    except the classifier (``head.*``) — e.g. the per-frame feature of a detector pretrained as one."""
    if init is None:
        return
    source, _ = load_checkpoint(init)
    missing, unexpected = model.encoder.load_state_dict(source.encoder.state_dict(), strict=False)
    if missing or unexpected:
        raise ValueError(f"{init}: encoder weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    own = model.state_dict()
    extra = {k: v for k, v in source.state_dict().items()
             if not k.startswith(("encoder.", "head.")) and k in own and own[k].shape == v.shape}  # fmt: skip
    model.load_state_dict(extra, strict=False)
    logger.info("encoder%s initialised from %s", f" and {len(extra)} more tensors" if extra else "", init)


class SupervisedAugment:
    """Layout-aware augmentation for supervised windows: shear (when asked), flip, yaw, scale, jitter.

    ``shear`` > 0 first multiplies each window's joints by a random shear matrix (1 on the diagonal, U[-shear,
    shear] off it; USDRL's `models.usdrl.augment.shear`): arms raised higher or held more forward, a body
    leaning, as other people do the same movement.
    """

    def __init__(self, max_yaw_deg: float = 30.0, scale: tuple[float, float] = (0.85, 1.15), noise: float = 0.01,
                 shear: float = 0.0) -> None:  # fmt: skip
        self.max_yaw = np.deg2rad(max_yaw_deg)
        self.scale = scale
        self.noise = noise
        self.shear = shear
        self.perm = UNIFIED_30.flip_permutation

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = x.shape[0]
        if self.shear:
            x = shear(x, generator, self.shear)
        present = (x.abs().sum(dim=1) > 0).float()  # (N, T, V, M): absent bodies stay zero
        flip = torch.rand(n, generator=generator) < 0.5
        x, present = horizontal_flip(x, present, self.perm, apply=flip)
        x = rotate_vertical(x, (torch.rand(n, generator=generator) * 2 - 1) * self.max_yaw)
        low, high = self.scale
        x = x * (low + (high - low) * torch.rand(n, 1, 1, 1, 1, generator=generator))
        x = x + self.noise * torch.randn(x.shape, generator=generator)
        return x * present.unsqueeze(1)


@dataclass
class Task(ABC):
    """What the loop needs from a task."""

    model: nn.Module  # the model whose weights are checkpointed
    trainable: nn.Module  # what the optimizer trains (the model, or the model + projectors)
    train_data: Dataset
    checkpoint: CheckpointConfig

    @abstractmethod
    def loss(self, batch: Any, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The loss terms of one batch; ``"total"`` is what the optimiser minimises."""

    def evaluate(self) -> dict[str, Any]:
        return {}

    def finish(self) -> dict[str, Any]:
        """Changes to the trained model before the final save, and what they did (empty: none)."""
        return {}


class PretrainTask(Task):
    def __init__(self, config: TrainConfig) -> None:
        sequences, _ = load_refs(config.train, config)
        model, checkpoint = new_model(config, "detection", ["background", "action"])
        width = config.projector_width
        pretrain = PretrainConfig(
            projector=ProjectorConfig(width=width, out_dim=width, instance_width=width, instance_out_dim=2 * width),
            augment=MPCTConfig(flip_prob=0.5, rotate_max_deg=30.0),
            modalities=tuple(config.modalities),
        )
        self.pretrainer = USDRLPretrainer(model.encoder, model.encoder.num_features // 2, pretrain,
                                          flip_permutation=UNIFIED_30.flip_permutation)  # fmt: skip
        data = PretrainWindows(sequences, checkpoint.num_frames, checkpoint.normalization,
                               config.steps_per_epoch * config.batch_size, config.seed)  # fmt: skip
        super().__init__(model=model, trainable=self.pretrainer, train_data=data, checkpoint=checkpoint)

    def loss(self, batch, generator):
        x, mask, length = batch
        return self.pretrainer(x, mask, length, generator=generator)


class DetectTask(Task):
    """Dense per-frame detection. The first training reference's dataset gives the vocabulary; further
    references add its actions or hard negatives through the ``label_map`` table (`vocabularies`)."""

    def __init__(self, config: TrainConfig) -> None:
        data = detection_data(config)
        labels = data.labels
        self.val_raw, _ = load_refs(config.val, config) if config.val else ([], [])
        chooses_min_score = config.publish_precision is not None and config.min_score is None
        if not self.val_raw and (config.calibrate or chooses_min_score):
            needs = "calibrate" if config.calibrate else "publish_precision (without a min_score)"
            raise SkelstreamError(f"{needs} needs validation data (val): give val, or --no-calibrate --temperature T "
                                  "--min-score S with the validated recipe's figures")  # fmt: skip
        model, checkpoint = new_model(config, "detection", labels)
        if config.label_map:
            checkpoint.training["label_map"] = {config.label_map: VOCABULARY_MAPS[config.label_map]}
        trainable: nn.Module = model
        if config.linear_probe:
            model.encoder.requires_grad_(False)
            trainable = nn.ModuleList([m for m in (model.frame_pool, model.head_norm, model.head) if m is not None])
        windows = DetectionWindows(data.sequences, data.targets, checkpoint.num_frames, checkpoint.normalization,
                                   config.steps_per_epoch * config.batch_size, config.seed, data.groups, data.shares,
                                   WindowAugment(config.camera_view, config.young_track, config.lifted_view,
                                                 tuple(config.speed_range)),
                                   config.onset_share, config.onset_frames,
                                   data.onsets if config.onset_kind == "movements" else None)  # fmt: skip
        super().__init__(model=model, trainable=trainable, train_data=windows, checkpoint=checkpoint)
        self.linear_probe = config.linear_probe
        self.augment = SupervisedAugment(shear=config.shear)
        self.label_smoothing = config.label_smoothing
        self.stride = config.eval_stride
        self.point_rules = PointRules()
        if config.points is not None:  # the stream's gesture events (config.json → events.points)
            self.point_rules = checkpoint.points = PointRules.from_dict(config.points)
        if config.runs is not None:  # the stream's action start/end events (config.json → events.runs)
            checkpoint.runs = EventRules.from_dict(config.runs)
        self.calibrate, self.temperature = config.calibrate, config.temperature
        self.background_offset = config.background_offset
        self.publish_precision, self.min_score = config.publish_precision, config.min_score
        self.frame_weights = tail_weights(checkpoint.num_frames, config.tail_frames, config.tail_weight)

    def finish(self) -> dict[str, Any]:
        """Calibrate the scores (`score_calibration`): fit the temperature on the validation windows unless given,
        take the background offset off, bake both into the classifier; then set the checkpoint's min_score."""
        report: dict[str, Any] = {}
        if self.calibrate or self.temperature is not None or self.background_offset:
            report = {"temperature": self.temperature or 1.0, "background_offset": self.background_offset}
            if self.calibrate:
                logits, labels = self._validation_logits()
                temperature = fit_temperature(logits, labels)
                report.update(temperature=temperature, fitted_on="validation windows, every frame of each",
                              ece_before=expected_calibration_error(softmax(logits), labels),
                              ece_after=expected_calibration_error(softmax(logits / temperature), labels))  # fmt: skip
            bake_into_head(self.model.head, report["temperature"], self.background_offset)
        if self.min_score is not None:  # given (the validated recipe's) wins over choosing one here
            report["min_score"] = self.checkpoint.min_score = self.min_score
        elif self.publish_precision is not None:
            report.update(self._choose_min_score())
        if not report:
            return {}
        self.checkpoint.training["score_calibration"] = report
        return {"score_calibration": report}

    @torch.no_grad()
    def _choose_min_score(self) -> dict[str, Any]:
        """min_score from the labels the default stream (stride 1, lookahead 0) publishes on the validation data."""
        if not self.val_raw:
            raise SkelstreamError("publish_precision needs validation data (val)")
        labels = list(self.checkpoint.labels)
        self.model.eval()
        probabilities = np.concatenate([predict_sequence(self.model, s, self.checkpoint, stride=1, lookahead=0)
                                        for s in self.val_raw])  # fmt: skip
        truth = np.concatenate([s.frame_labels(labels) for s in self.val_raw])
        level = min_score_for_precision(probabilities, truth, self.publish_precision)
        if level is None:
            print(f"publish_precision {self.publish_precision}: no level reaches it on the validation data; "
                  "min_score stays 0", flush=True)  # fmt: skip
        self.checkpoint.min_score = level or 0.0
        return {"min_score": self.checkpoint.min_score, "publish_precision": self.publish_precision,
                "min_score_chosen_on": "validation labels of a causal stream (stride 1, lookahead 0)"}

    @torch.no_grad()
    def _validation_logits(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-frame logits and classes of the validation windows (ends every ``eval_stride`` frames, real frames)."""
        if not self.val_raw:
            raise SkelstreamError("calibrate needs validation data (val)")
        labels = list(self.checkpoint.labels)
        all_logits, all_labels = [], []
        for sequence in self.val_raw:
            truth = sequence.frame_labels(labels)
            for end in window_ends(sequence.num_frames, self.stride):
                window, real = cut_window(sequence, int(end), self.checkpoint.num_frames,
                                          self.checkpoint.normalization)  # fmt: skip
                logits = self.model(torch.from_numpy(window)[None]).float()[0].numpy()
                frames = window_frames(sequence.num_frames, int(end), self.checkpoint.num_frames)
                all_logits.append(logits[real])
                all_labels.append(truth[frames][real])
        return np.concatenate(all_logits), np.concatenate(all_labels)

    def loss(self, batch, generator):
        x, target = batch
        if self.linear_probe:
            self.model.encoder.eval()  # frozen encoder: no drop-path noise in the features
        logits = self.model(self.augment(x, generator))
        per_frame = F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=IGNORE_INDEX,
                                    label_smoothing=self.label_smoothing, reduction="none").view_as(target)  # fmt: skip
        weights = self.frame_weights.to(per_frame.device) * (target != IGNORE_INDEX)
        return {"total": (per_frame * weights).sum() / weights.sum().clamp_min(1.0)}

    def evaluate(self):
        if not self.val_raw:
            return {}
        if all(s.action_points and not s.segments for s in self.val_raw):  # recordings with action points
            probabilities = {s.name: predict_sequence(self.model, s, self.checkpoint, stride=self.stride, lookahead=0)
                             for s in self.val_raw}  # fmt: skip
            return evaluate_gestures(probabilities, self.val_raw, list(self.checkpoint.labels), self.point_rules)
        return self._evaluate_segments()

    def _evaluate_segments(self) -> dict[str, Any]:
        """The offline protocol's figures (every window covering a frame), and under ``causal`` those of the windows
        a stream has run by each frame's turn (lookahead 0), the time to detect among them: offline, a label waits
        for the last window covering its frame, so its time to detect is about a window whatever the model."""
        offline, causal = evaluate_detection_each(self.model, self.checkpoint, self.val_raw, self.stride, (None, 0))
        keep = ("frame_accuracy", "frame_map", "segment_map", "time_to_detect", "time_to_detect_by_action")
        return {**{k: v for k, v in offline.items() if not k.startswith("time_to_detect")},
                "causal": {k: causal[k] for k in keep}}


def tail_weights(num_frames: int, tail_frames: int, tail_weight: float) -> torch.Tensor:
    """(num_frames,) loss weights of a window's frames: ``tail_weight`` for the last ``tail_frames`` (the frames a
    causal stream at stride <= ``tail_frames`` labels from the window: `models.fusion.final_window`), 1 before."""
    weights = torch.ones(num_frames)
    if tail_frames:
        weights[-tail_frames:] = tail_weight
    return weights


class ClassifyTask(Task):
    def __init__(self, config: TrainConfig) -> None:
        clips, labels = load_refs(config.train, config)
        self.val_raw, _ = load_refs(config.val, config) if config.val else ([], [])
        self.train_raw = clips
        model, checkpoint = new_model(config, "classification", labels)
        trainable: nn.Module = model
        if config.linear_probe:
            model.encoder.requires_grad_(False)
            trainable = nn.ModuleList([model.head_norm, model.head])
        data = ClipWindows(clips, labels, checkpoint.num_frames, checkpoint.normalization)
        super().__init__(model=model, trainable=trainable, train_data=data, checkpoint=checkpoint)
        self.augment = SupervisedAugment(shear=config.shear)
        self.label_smoothing = config.label_smoothing
        self.linear_probe = config.linear_probe

    def loss(self, batch, generator):
        x, target = batch
        if self.linear_probe:
            self.model.encoder.eval()  # frozen encoder: no dropout/drop-path noise in the features
        logits = self.model(self.augment(x, generator))
        return {"total": F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)}

    def evaluate(self):
        if not self.val_raw:
            return {}
        return evaluate_classification(self.model, self.checkpoint, self.val_raw, gallery=self.train_raw)


class MultiTaskTask(Task):
    def __init__(self, config: TrainConfig) -> None:
        sources = []
        for ref in config.train:
            parsed = DatasetRef.parse(ref)
            spec = dataset_spec(parsed.name)
            sequences, _ = load_refs([ref], config)
            if spec.task == "classification":
                sources.append(Source(str(parsed), CLIP_KIND, list(spec.training_labels), sequences))
            elif spec.task in ("detection", "points"):
                labels = ["background", *spec.training_labels]
                pairs = detection_targets(sequences, spec.task, labels, lambda label: label,
                                          tuple(config.point_span_s))  # fmt: skip
                sources.append(Source(str(parsed), DENSE_KIND, labels, [s for s, _ in pairs], [t for _, t in pairs]))
            else:
                raise ValueError(f"multitask: {ref} has no labels (task {spec.task!r}); use it in pretrain instead")
        model, checkpoint = new_model(config, "detection", ["background", "action"])
        self.heads = MultiTaskHeads(model, sources)
        checkpoint.training["sources"] = {str(i): s.name for i, s in enumerate(sources)}
        data = MultiTaskWindows(sources, checkpoint.num_frames, checkpoint.normalization,
                                config.steps_per_epoch * config.batch_size, config.seed)  # fmt: skip
        super().__init__(model=model, trainable=self.heads, train_data=data, checkpoint=checkpoint)
        self.augment = SupervisedAugment(shear=config.shear)
        self.label_smoothing = config.label_smoothing

    def loss(self, batch, generator):
        x, frame_target, clip_target, which = batch
        return self.heads.loss(self.augment(x, generator), frame_target, clip_target, which, self.label_smoothing)


TASK_TYPES = {"pretrain": PretrainTask, "detect": DetectTask, "classify": ClassifyTask, "multitask": MultiTaskTask}
