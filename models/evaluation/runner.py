"""Evaluating a checkpoint on labelled sequences: detection metrics and clip metrics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.action_runs import ActionRuns, EventRules
from models.checkpoint import CheckpointConfig
from models.evaluation.clip_metrics import clip_accuracy, nearest_neighbour_accuracy
from models.evaluation.confusion import confusion_matrix, plot_confusion
from models.evaluation.frame_errors import frame_errors
from models.evaluation.frame_metrics import frame_accuracy, frame_average_precision
from models.evaluation.segment_map import segment_map
from models.evaluation.segments import frames_to_segments, labels_to_segments
from models.evaluation.time_to_detect import Output, TrueAction, detection_delays, truths_from_frame_labels
from models.fusion import final_window, published_labels
from models.inference import LogitsFn, fused_probabilities_each, torch_logits
from models.skeleton.sequence import SkeletonSequence
from models.training.data import ClipWindows
from models.windows import prepare_sequence

SEGMENT_THRESHOLDS = (0.1, 0.3, 0.5)


def evaluate_detection(
    model: nn.Module | LogitsFn,
    config: CheckpointConfig,
    sequences: list[SkeletonSequence],
    stride: int = 8,
    min_segment_frames: int = 3,
    confusion_png: str | Path | None = None,
    lookahead: int | None = None,
    fusion: str = "recent",
    events: EventRules | None = None,
) -> dict[str, Any]:
    """Frame accuracy, frame mAP, per-class frame AP, segment mAP@tIoU and time to detect of raw labelled sequences.

    ``model``: a torch detector, or a function windows → logits (`models.inference.LogitsFn`: another runtime).
    ``stride``, ``lookahead`` (None fuses every window that covers a frame, offline; 0 only the windows a causal
    stream has run by the frame's turn) and ``fusion`` fuse the windows as the stream does (`models.fusion`).
    Time to detect (`models.evaluation.time_to_detect`): from each true segment's start (or action point) to the
    first frame label naming it and to the first ``start`` event (``events``: by default the checkpoint's rules,
    as the stream applies them),
    counted in stream time: a label is available once the window that makes it final has run
    (`models.fusion.final_window`), model compute not included; ``time_to_detect_by_action`` has it per action.
    """
    return evaluate_detection_each(model, config, sequences, stride, (lookahead,), min_segment_frames, confusion_png,
                                   fusion, events)[0]  # fmt: skip


def evaluate_detection_each(
    model: nn.Module | LogitsFn,
    config: CheckpointConfig,
    sequences: list[SkeletonSequence],
    stride: int,
    lookaheads: Sequence[int | None],
    min_segment_frames: int = 3,
    confusion_png: str | Path | None = None,
    fusion: str = "recent",
    events: EventRules | None = None,
) -> list[dict[str, Any]]:
    """`evaluate_detection` for each of ``lookaheads`` (offline and causal, say), the model run once per window
    (`models.inference.fused_probabilities_each`); ``confusion_png`` draws the first reading's confusion."""
    if not sequences:
        raise ValueError("no sequences to evaluate")
    logits = model if not isinstance(model, nn.Module) else torch_logits(model)
    labels = list(config.labels)
    prepared = [prepare_sequence(raw, config.fps, config.model.M) for raw in sequences]
    readings = [fused_probabilities_each(logits, s, config, stride, lookaheads, fusion=fusion) for s in prepared]
    true_actions = [a for s in prepared for a in _true_actions(s, s.frame_labels(labels), labels, config.fps)]
    rules = events or config.runs or EventRules()
    results = []
    for index, lookahead in enumerate(lookaheads):
        scores = {s.name: fused[index] for s, fused in zip(prepared, readings)}
        metrics = detection_metrics(prepared, scores, labels, min_segment_frames,
                                    confusion_png if index == 0 else None, config.min_score)  # fmt: skip
        outputs: list[Output] = []
        for sequence in prepared:
            available = final_window(sequence.num_frames, config.num_frames, stride, lookahead) / config.fps
            outputs += _outputs(sequence.name, scores[sequence.name], labels, available, config.fps, rules,
                                config.min_score)  # fmt: skip
        delays = detection_delays(true_actions, outputs)
        results.append({**metrics, "time_to_detect": delays.summary(),
                        "time_to_detect_by_action": delays.by_action()})  # fmt: skip
    return results


def detection_metrics(
    sequences: list[SkeletonSequence],
    scores: dict[str, np.ndarray],
    labels: list[str],
    min_segment_frames: int = 3,
    confusion_png: str | Path | None = None,
    min_score: float = 0.0,
) -> dict[str, Any]:
    """Detection metrics of per-frame probabilities ``scores[name]`` (T, K + 1) against the sequences' segments.

    Frame accuracy, the confusion and ``frame_errors`` (`models.evaluation.frame_errors`: actions missed,
    background named, actions confused, errors near a true boundary) count the labels a stream publishes
    (`models.fusion.published_labels` with ``min_score``); AP and segments rank the probabilities themselves.

    Any detector's scores go through here (the checkpoint, the simple baseline), so
    their figures are computed the same way.
    """
    all_scores, detections, truths, published = [], {}, {}, []
    for sequence in sequences:
        true = sequence.frame_labels(labels)
        all_scores.append(scores[sequence.name])
        published.append((published_labels(scores[sequence.name], min_score), true))
        detections[sequence.name] = frames_to_segments(scores[sequence.name], min_length=min_segment_frames)
        truths[sequence.name] = labels_to_segments(true)
    stacked = np.concatenate(all_scores)
    predicted, true = (np.concatenate(column) for column in zip(*published))
    per_class = frame_average_precision(stacked, true)
    action_aps = [ap for cls, ap in per_class.items() if cls != 0 and np.isfinite(ap)]
    if any(truths.values()):
        maps = segment_map(detections, truths, thresholds=SEGMENT_THRESHOLDS)
    else:  # no true segment (MSRC-12 marks action points): segment AP is undefined
        maps = dict.fromkeys(SEGMENT_THRESHOLDS, float("nan"))
    if confusion_png is not None:
        plot_confusion(confusion_matrix(predicted, true, len(labels)), labels, confusion_png)
    return {
        "frame_accuracy": frame_accuracy(predicted, true),
        "frame_errors": frame_errors(published),
        "frame_map": float(np.mean(action_aps)) if action_aps else float("nan"),
        "frame_ap": {labels[cls]: ap for cls, ap in per_class.items()},
        "segment_map": {str(t): maps[t] for t in SEGMENT_THRESHOLDS},
        "num_sequences": len(sequences),
        "num_frames": int(true.size),
    }


def _true_actions(sequence: SkeletonSequence, true: np.ndarray, labels: list[str], fps: float) -> list[TrueAction]:
    """The sequence's true segments (from its per-frame labels) and action points, in seconds."""
    times = np.arange(sequence.num_frames) / fps
    actions = truths_from_frame_labels(sequence.name, [labels[k] for k in true], times,
                                       end_s=sequence.num_frames / fps, background=labels[0])  # fmt: skip
    return actions + [TrueAction(sequence.name, point.label, point.frame / fps, point=True)
                      for point in sequence.action_points]  # fmt: skip


def _outputs(name: str, scores: np.ndarray, labels: list[str], available: np.ndarray, fps: float,
             rules: EventRules, min_score: float = 0.0) -> list[Output]:  # fmt: skip
    """The labels a stream would publish (`models.fusion.published_labels`) and its ``start`` events, with when."""
    predicted = published_labels(scores, min_score)
    outputs = [Output("label", name, labels[k], t / fps, float(available[t]))
               for t, k in enumerate(predicted) if k != 0]  # fmt: skip
    runs = ActionRuns(rules)
    for t, probs in enumerate(scores):
        outputs += [Output("start", name, labels[event.action], event.at / fps, float(available[t]))
                    for event in runs.update(t, t, probs) if event.kind == "start"]  # fmt: skip
    return outputs


def _clip_windows(config: CheckpointConfig, clips: list[SkeletonSequence]) -> tuple[torch.Tensor, np.ndarray]:
    prepared = [prepare_sequence(clip, config.fps, config.model.M) for clip in clips]
    data = ClipWindows(prepared, list(config.labels), config.num_frames, config.normalization)
    return torch.stack([window for window, _ in data.items]), np.array([label for _, label in data.items])


@torch.no_grad()
def evaluate_classification(
    model: nn.Module,
    config: CheckpointConfig,
    clips: list[SkeletonSequence],
    gallery: list[SkeletonSequence] | None = None,
    confusion_png: str | Path | None = None,
) -> dict[str, Any]:
    """Clip accuracy of a classification checkpoint on raw trimmed clips.

    With a ``gallery`` (e.g. the training subjects' clips), also 1-NN retrieval
    accuracy on the encoder's global features (cosine), the usual check of
    what a self-supervised encoder learned without its classifier.
    """
    if not clips:
        raise ValueError("no clips to evaluate")
    windows, true = _clip_windows(config, clips)
    device = next(model.parameters()).device
    logits = torch.cat([model(batch.to(device)).float().cpu() for batch in windows.split(64)]).numpy()
    if confusion_png is not None:
        plot_confusion(confusion_matrix(logits.argmax(1), true, len(config.labels)), list(config.labels),
                       confusion_png)  # fmt: skip
    metrics: dict[str, Any] = {"accuracy": clip_accuracy(logits, true), "num_clips": len(clips)}
    if gallery:
        gallery_windows, gallery_true = _clip_windows(config, gallery)

        def features(batches: torch.Tensor) -> np.ndarray:
            return torch.cat([model.encoder(b.to(device)).global_.float().cpu() for b in batches.split(64)]).numpy()

        metrics["nearest_neighbour_accuracy"] = nearest_neighbour_accuracy(
            features(gallery_windows), gallery_true, features(windows), true
        )
        metrics["num_gallery_clips"] = len(gallery)
    return metrics
