"""Supervised multi-dataset pretraining: one shared encoder, one head per labelled dataset.

Each dataset reference of the run becomes a source with its own head, chosen by
the dataset's kind (`models.datasets.registry.DatasetSpec.task`):

- ``classification`` (trimmed clips): a clip head on the global feature; the
  window is a random 80-100 % crop of the clip stretched to T frames (as
  clip classification feeds it).
- ``detection`` (segments) and ``points`` (action points): a dense head on
  the per-frame feature; windows end at random frames, as the stream cuts
  them; action points become spans (`detection_targets`).

Every batch mixes sources; each source is drawn equally often, whatever its
size, so a big dataset does not drown the small ones. The checkpoint saved is
the detector whose encoder (and per-frame feature) the heads share; the heads
themselves are training scaffolding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import SkeletonSequence
from models.windows import IGNORE_INDEX, cut_window, resize_clip, window_frames

CLIP_KIND, DENSE_KIND = "clip", "dense"


@dataclass
class Source:
    """One labelled dataset of a multi-task run."""

    name: str
    kind: str  # CLIP_KIND or DENSE_KIND
    labels: list[str]  # dense sources: "background" first
    sequences: list[SkeletonSequence]
    frame_targets: list[np.ndarray] | None = None  # dense sources: (T,) per sequence

    def __post_init__(self) -> None:
        if not self.sequences:
            raise ValueError(f"multi-task source {self.name} has no sequences")
        if self.kind == DENSE_KIND and self.frame_targets is None:
            raise ValueError(f"dense source {self.name} needs per-frame targets")


class MultiTaskWindows(Dataset):
    """``length`` samples per epoch: (window (C, T, V, M), frame targets (T,), clip target, source index)."""

    def __init__(self, sources: list[Source], num_frames: int, normalization: NormalizationConfig, length: int,
                 seed: int = 0) -> None:  # fmt: skip
        self.sources = sources
        self.num_frames = num_frames
        self.normalization = normalization
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.weights = []
        for source in sources:
            sizes = np.array([s.num_frames for s in source.sequences], np.float64)
            self.weights.append(sizes / sizes.sum() if source.kind == DENSE_KIND else None)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int, int]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        which = int(rng.integers(len(self.sources)))
        source = self.sources[which]
        pick = int(rng.choice(len(source.sequences), p=self.weights[which]))
        sequence = source.sequences[pick]
        frame_target = np.full(self.num_frames, IGNORE_INDEX, np.int64)
        if source.kind == CLIP_KIND:
            length = sequence.num_frames
            keep = max(2, int(round(length * rng.uniform(0.8, 1.0))))
            start = int(rng.integers(0, length - keep + 1))
            clip = _crop(sequence, start, keep)
            window, _ = cut_window(resize_clip(clip, self.num_frames), self.num_frames - 1, self.num_frames,
                                   self.normalization)  # fmt: skip
            return torch.from_numpy(window), torch.from_numpy(frame_target), source.labels.index(sequence.label), which
        end = int(rng.integers(0, sequence.num_frames))
        window, real = cut_window(sequence, end, self.num_frames, self.normalization)
        frames = window_frames(sequence.num_frames, end, self.num_frames)
        frame_target = np.where(real, source.frame_targets[pick][frames], IGNORE_INDEX)
        return torch.from_numpy(window), torch.from_numpy(frame_target), IGNORE_INDEX, which


def _crop(sequence: SkeletonSequence, start: int, length: int) -> SkeletonSequence:
    frames = slice(start, start + length)
    return SkeletonSequence(joints=sequence.joints[frames], mask=sequence.mask[frames], layout=sequence.layout,
                            fps=sequence.fps, frame_ids=np.arange(length), name=sequence.name,
                            label=sequence.label, subject=sequence.subject)  # fmt: skip


class MultiTaskHeads(nn.Module):
    """The per-source heads over a `DSTEDetector`'s shared encoder and per-frame feature."""

    def __init__(self, detector: nn.Module, sources: list[Source]) -> None:
        super().__init__()
        self.detector = detector
        self.kinds = [s.kind for s in sources]
        heads = []
        for source in sources:
            if source.kind == CLIP_KIND:
                width = detector.encoder.num_features
                heads.append(nn.Sequential(nn.LayerNorm(width), nn.Linear(width, len(source.labels))))
            else:
                heads.append(nn.Linear(detector.num_features, len(source.labels)))
        self.heads = nn.ModuleList(heads)

    def loss(self, x: torch.Tensor, frame_target: torch.Tensor, clip_target: torch.Tensor, which: torch.Tensor,
             label_smoothing: float) -> dict[str, torch.Tensor]:  # fmt: skip
        """Mean of the per-source cross-entropies present in the batch (each source weighs the same)."""
        features = self.detector.forward_features(x)
        frame = None
        losses = {}
        for index, (kind, head) in enumerate(zip(self.kinds, self.heads)):
            rows = which == index
            if not rows.any():
                continue
            if kind == CLIP_KIND:
                logits = head(features.global_[rows])
                losses[f"source{index}"] = F.cross_entropy(logits, clip_target[rows], label_smoothing=label_smoothing)
            else:
                if frame is None:
                    frame = self.detector.forward_head(features, pre_logits=True)
                logits = head(frame[rows])
                losses[f"source{index}"] = F.cross_entropy(logits.flatten(0, 1), frame_target[rows].flatten(),
                                                           ignore_index=IGNORE_INDEX,
                                                           label_smoothing=label_smoothing)  # fmt: skip
        terms = [v for v in losses.values() if torch.isfinite(v)]
        return {"total": torch.stack(terms).mean(), **losses}
