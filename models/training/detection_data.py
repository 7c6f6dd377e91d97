"""What a detection run trains on: the prepared sequences of its datasets, their per-frame targets in the
first dataset's vocabulary, and the share of windows each dataset gets (`DetectionData`).

`stream-train detect` (`models.training.tasks.DetectTask`) samples its windows from it, and so does
the simple baseline fitted on a checkpoint's own training data (`models.evaluation.window_baseline`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from foundation.errors import SkelstreamError
from models.corpus import load_prepared
from models.datasets.registry import dataset_spec
from models.datasets.selection import DatasetRef
from models.skeleton.sequence import SkeletonSequence
from models.training.config import TrainConfig
from models.training.detection_targets import detection_targets, movement_onsets
from models.training.vocabularies import VOCABULARY_MAPS, mapped_label
from models.windows import prepare_sequence

logger = logging.getLogger(__name__)


def load_refs(refs: list[str], config: TrainConfig) -> tuple[list[SkeletonSequence], list[str]]:
    """Prepared sequences of every dataset reference, and the training labels of the first labelled dataset.

    Mirror-variant labels (`DatasetSpec.mirror_labels`) are merged, since training flips skeletons.
    """
    sequences, labels = [], []
    for ref in refs:
        parsed = DatasetRef.parse(ref)
        spec = dataset_spec(parsed.name)
        loaded = load_prepared([parsed], config.data_root, config.fps)
        flat = [s.name for s in loaded if s.joints.shape[-1] != 3]
        if flat:
            raise SkelstreamError(f"{ref}: {len(flat)} sequences have 2D joints (e.g. {flat[0]}); the model takes "
                                  f"3D joints")  # fmt: skip
        if spec.mirror_labels:
            loaded = [dataclasses.replace(s, label=spec.mirror_labels.get(s.label, s.label)) for s in loaded]
        logger.info("%s: %d sequences", ref, len(loaded))
        sequences.extend(loaded)
        labels = labels or list(spec.training_labels)
    return sequences, labels


def synthetic_sequences(count: int, fps: float, seed: int) -> list[SkeletonSequence]:
    """Labelled synthetic sequences (UTKinect vocabulary) for robustness beyond Kinect v1 bodies."""
    from models.synthetic.generator import SyntheticConfig, generate_sequence

    return [prepare_sequence(generate_sequence(SyntheticConfig(fps=fps, num_frames=int(fps * 60), seed=seed + i)), fps)
            for i in range(count)]  # fmt: skip


@dataclass
class DetectionData:
    """A detection run's training data.

    Attributes:
        labels: the vocabulary, ``labels[0]`` the background, then the first dataset's training labels.
        sequences: every prepared training sequence (synthetic ones last).
        targets: each sequence's (T,) class indices.
        groups: each sequence's dataset, by its position in ``train`` (synthetic sequences: 0, the first's).
        shares: each group's share of the windows drawn (``primary_share`` for the first, the rest evenly).
        onsets: each sequence's frames where a labelled movement begins, hard negatives' too
            (`detection_targets.movement_onsets`; synthetic scenes: where each segment begins).
    """

    labels: list[str]
    sequences: list[SkeletonSequence]
    targets: list[np.ndarray]
    groups: list[int]
    shares: dict[int, float]
    onsets: list[np.ndarray]


def detection_data(config: TrainConfig, synthetic: bool = True) -> DetectionData:
    """Load ``config.train`` (the first reference's dataset gives the vocabulary; the others enter it through
    ``config.label_map``) and, with ``synthetic``, ``config.synthetic_sequences`` synthetic scenes."""
    primary = DatasetRef.parse(config.train[0]).name
    labels = ["background", *dataset_spec(primary).training_labels]
    sequences, targets, groups, onsets = [], [], [], []
    for group, ref in enumerate(config.train):
        name = DatasetRef.parse(ref).name
        kind, to_vocabulary = dataset_spec(name).task, dataset_label_map(config, primary, name)
        span = tuple(config.point_span_s)
        loaded, _ = load_refs([ref], config)
        pairs = detection_targets(loaded, kind, labels, to_vocabulary, span)
        sequences += [s for s, _ in pairs]
        targets += [t for _, t in pairs]
        groups += [group] * len(pairs)
        onsets += [movement_onsets(s, kind, to_vocabulary, span) for s, _ in pairs]
    for scene in synthetic_sequences(config.synthetic_sequences if synthetic else 0, config.fps, config.seed):
        sequences.append(scene)
        targets.append(scene.frame_labels(labels))
        groups.append(0)  # synthetic scenes speak the primary vocabulary: they share its draws
        onsets.append(np.unique([segment.start for segment in scene.segments]).astype(np.int64))
    others = len(config.train) - 1
    shares = {0: config.primary_share if others else 1.0}
    shares.update({g: (1.0 - config.primary_share) / others for g in range(1, others + 1)})
    return DetectionData(labels, sequences, targets, groups, shares, onsets)


def dataset_label_map(config: TrainConfig, primary: str, dataset: str) -> Callable[[str], str | None]:
    """How ``dataset``'s actions enter ``primary``'s vocabulary: as they are for the primary itself, else
    through ``config.label_map`` (`models.training.vocabularies`; None: background)."""
    if dataset == primary:
        return lambda label: label
    if config.label_map is None:
        raise SkelstreamError(f"detection on {primary} with {dataset} too needs a label_map saying how "
                              f"{dataset}'s actions enter the vocabulary (known: {', '.join(VOCABULARY_MAPS)})")
    table = VOCABULARY_MAPS[config.label_map]
    return lambda label: mapped_label(table, dataset, label)
