"""Torch datasets of windows sampled from prepared (unified, resampled) sequences."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from models.skeleton.layouts import UNIFIED_30
from models.skeleton.normalize import NormalizationConfig, normalize_window
from models.skeleton.sequence import SkeletonSequence
from models.training.window_augment import WindowAugment, read_frames
from models.windows import IGNORE_INDEX, cut_window, resize_clip, window_frames


class _RandomWindows(Dataset):
    """``length`` windows per epoch, each ending at a random frame of a random sequence.

    Sequences are drawn in proportion to their length, within groups (e.g. one per
    dataset) that are drawn with the given ``group_shares``; no groups: one group.
    """

    def __init__(self, sequences: list[SkeletonSequence], num_frames: int, normalization: NormalizationConfig,
                 length: int, seed: int = 0, groups: list[int] | None = None,
                 group_shares: dict[int, float] | None = None) -> None:  # fmt: skip
        if not sequences:
            raise ValueError("no sequences to sample windows from")
        self.sequences = sequences
        self.num_frames = num_frames
        self.normalization = normalization
        self.length = length
        self.seed = seed
        self.epoch = 0
        sizes = np.array([s.num_frames for s in sequences], dtype=np.float64)
        groups_array = np.zeros(len(sequences), np.int64) if groups is None else np.asarray(groups)
        shares = group_shares or {int(g): 1.0 for g in np.unique(groups_array)}
        weights = np.zeros(len(sequences))
        for group, share in shares.items():
            members = groups_array == group
            if members.any():
                weights[members] = share * sizes[members] / sizes[members].sum()
        self.weights = weights / weights.sum()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def pick(self, index: int) -> tuple[SkeletonSequence, int]:
        """The sequence and end frame of window ``index`` of this epoch (deterministic in seed, epoch, index)."""
        rng = np.random.default_rng((self.seed, self.epoch, index))
        sequence = self.sequences[rng.choice(len(self.sequences), p=self.weights)]
        return sequence, int(rng.integers(0, sequence.num_frames))


class DetectionWindows(_RandomWindows):
    """(window (C, T, V, M), per-frame targets (T,)) pairs; padded frames are `IGNORE_INDEX`.

    ``targets`` holds each sequence's (T,) class indices (`models.training.detection_targets`, 0 the
    background). An ``onset_share`` of the windows end within ``onset_frames`` frames of an onset,
    drawn among the sequences that have one (in proportion to their usual draw), uniformly over their
    onsets and the frames after: the moments a causal stream must name a new action from; the other
    windows end anywhere. ``onsets`` gives each sequence's (e.g. where any labelled movement begins,
    `models.training.detection_data.DetectionData.onsets`); by default, where its actions begin
    (`action_onsets`).
    """

    def __init__(self, sequences: list[SkeletonSequence], targets: list[np.ndarray], num_frames: int,
                 normalization: NormalizationConfig, length: int, seed: int = 0, groups: list[int] | None = None,
                 group_shares: dict[int, float] | None = None, augment: WindowAugment | None = None,
                 onset_share: float = 0.0, onset_frames: int = 8,
                 onsets: list[np.ndarray] | None = None) -> None:  # fmt: skip
        super().__init__(sequences, num_frames, normalization, length, seed, groups, group_shares)
        if len(targets) != len(sequences):
            raise ValueError(f"{len(targets)} target arrays for {len(sequences)} sequences")
        if not 0.0 <= onset_share < 1.0 or onset_frames < 1:
            raise ValueError(f"onset_share must be in [0, 1) and onset_frames >= 1, got {onset_share}, {onset_frames}")
        self.frame_labels = targets
        self.index_of = {id(s): i for i, s in enumerate(sequences)}
        self.augment = augment or WindowAugment()
        self.onset_share, self.onset_frames = onset_share, onset_frames
        self.onsets = [action_onsets(t) for t in targets] if onsets is None else onsets
        if len(self.onsets) != len(sequences):
            raise ValueError(f"{len(self.onsets)} onset arrays for {len(sequences)} sequences")
        with_onsets = self.weights * np.array([len(o) > 0 for o in self.onsets])
        if onset_share and not with_onsets.any():
            raise ValueError("onset_share needs a sequence with an onset in it")
        self.onset_weights = with_onsets / with_onsets.sum() if with_onsets.any() else with_onsets

    def pick(self, index: int) -> tuple[SkeletonSequence, int]:
        if self.onset_share:
            rng = np.random.default_rng((self.seed, self.epoch, index, 2))
            if rng.random() < self.onset_share:
                chosen = int(rng.choice(len(self.sequences), p=self.onset_weights))
                onset = int(rng.choice(self.onsets[chosen]))
                sequence = self.sequences[chosen]
                return sequence, min(onset + int(rng.integers(self.onset_frames)), sequence.num_frames - 1)
        return super().pick(index)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sequence, end = self.pick(index)
        labels = self.frame_labels[self.index_of[id(sequence)]]
        frames = window_frames(sequence.num_frames, end, self.num_frames)
        real = np.arange(end - self.num_frames + 1, end + 1) >= 0
        positions = None
        if self.augment.active:
            rng = np.random.default_rng((self.seed, self.epoch, index, 1))
            speed = self.augment.speed(rng)
            if speed != 1.0:  # the recording played faster or slower, ending at the same frame
                wanted = end - speed * np.arange(self.num_frames - 1, -1, -1, dtype=np.float64)
                real = wanted >= 0
                positions = np.clip(wanted, 0, sequence.num_frames - 1)
                frames = np.rint(positions).astype(np.int64)
            cut = self.augment.young_cut(self.num_frames, rng)
            frames[:cut] = frames[cut]  # a track that appeared at the cut: the stream repeats its first pose
            real[:cut] = False
            if positions is not None:
                positions[:cut] = positions[cut]
        if positions is None:
            raw, mask = sequence.joints[frames], sequence.mask[frames]
        else:
            raw, mask = read_frames(sequence.joints, sequence.mask, positions)
        lifted = self.augment.lifted(raw, mask, rng) if self.augment.active else None
        if lifted is not None:
            raw, mask = lifted
        joints, _ = normalize_window(raw, mask, UNIFIED_30, self.normalization)
        window = np.ascontiguousarray(joints.transpose(3, 0, 2, 1))
        if self.augment.active and lifted is None:
            window = self.augment.camera(window, rng)
        target = np.where(real, labels[frames], IGNORE_INDEX)
        return torch.from_numpy(window), torch.from_numpy(target)


def action_onsets(targets: np.ndarray) -> np.ndarray:
    """The frames of (T,) class indices where an action (a class other than 0, the background, or
    `IGNORE_INDEX`) begins: its first frame, or a change from another class."""
    targets = np.asarray(targets)
    previous = np.concatenate([[-1], targets[:-1]])
    return np.flatnonzero((targets != previous) & (targets != 0) & (targets != IGNORE_INDEX))


class PretrainWindows(_RandomWindows):
    """(window (C, T, V, M), mask (T, V, M), valid length) triples for self-supervised pretraining.

    The mask is per joint (1 present, 0 missing or padded); ``length`` counts real frames.
    """

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sequence, end = self.pick(index)
        end = max(end, min(self.num_frames, sequence.num_frames) - 1)  # prefer full windows
        window, real = cut_window(sequence, end, self.num_frames, self.normalization)
        frames = np.clip(np.arange(end - self.num_frames + 1, end + 1), 0, None)
        mask = (sequence.mask[frames] > 0).astype(np.float32) * real[:, None, None]
        return torch.from_numpy(window), torch.from_numpy(mask.transpose(0, 2, 1).copy()), torch.tensor(int(real.sum()))


class ClipWindows(Dataset):
    """Trimmed clips resized to T frames: (window (C, T, V, M), class index)."""

    def __init__(self, clips: list[SkeletonSequence], label_names: list[str], num_frames: int,
                 normalization: NormalizationConfig) -> None:  # fmt: skip
        index = {name: i for i, name in enumerate(label_names)}
        self.items = []
        for clip in clips:
            if clip.label not in index:
                raise ValueError(f"{clip.name}: label {clip.label!r} not in {label_names}")
            window, _ = cut_window(resize_clip(clip, num_frames), num_frames - 1, num_frames, normalization)
            self.items.append((torch.from_numpy(window), index[clip.label]))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.items[index]
