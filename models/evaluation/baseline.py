"""The project's own simple baseline: temporal-pyramid pooled joints and velocities → logistic regression.

Every accuracy table puts this beside the Transformer, on the same split, so a
reader sees at a glance whether the model earns its keep. It sees exactly what
the model sees: prepared (unified_30, model-rate) sequences normalised with the
same `NormalizationConfig` (centred, turned to face the camera, unit torso,
Kinect v1's 21 joints).

Features of a span of frames (a whole clip, or the causal window ending at a
frame): body 0's normalised joint positions and frame-to-frame velocities,
averaged over the cells of a temporal pyramid (the whole span, its halves, its
quarters), plus the standard deviation of positions and the mean speed of each
joint over the span. The classifier is an L2 logistic regression whose
strength is chosen by cross-validation *across subjects of the training set*
(never on the evaluated split).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.skeleton.layouts import KINECT_V1_20, UNIFIED_30
from models.skeleton.normalize import NormalizationConfig, normalize_window
from models.skeleton.sequence import SkeletonSequence
from models.windows import window_frames

KINECT_V1_JOINTS = tuple(name for name in UNIFIED_30.joint_names if name in KINECT_V1_20.unified_rules)
"""The unified joints every Kinect v1 source provides (and the checkpoints use)."""


@dataclass(frozen=True)
class PyramidFeatures:
    """Pooled features of spans of a prepared sequence (see the module docstring)."""

    levels: tuple[int, ...] = (1, 2, 4)
    normalization: NormalizationConfig = field(default_factory=lambda: NormalizationConfig(joints=KINECT_V1_JOINTS))

    @property
    def joint_indices(self) -> np.ndarray:
        names = self.normalization.joints or UNIFIED_30.joint_names
        return np.array([UNIFIED_30.index(n) for n in names])

    def of_span(self, joints: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Features (D,) of frames ``joints`` (T, M, V, 3) with confidences ``mask`` (T, M, V) of one span."""
        normalised, _ = normalize_window(joints, mask, UNIFIED_30, self.normalization)
        return self.pooled(normalised[:, 0][:, self.joint_indices])

    def pooled(self, body: np.ndarray) -> np.ndarray:
        """Features (D,) of one body's normalised joints ``body`` (T, J, 3) over a span (J: `joint_indices`)."""
        velocity = np.diff(body, axis=0, prepend=body[:1])
        if len(body) < max(self.levels):  # a very short span: repeat frames so every pyramid cell has one
            stretch = np.round(np.linspace(0, len(body) - 1, max(self.levels))).astype(int)
            body, velocity = body[stretch], velocity[stretch]
        parts = []
        for level in self.levels:
            for cell in np.array_split(np.arange(len(body)), level):
                parts += [body[cell].mean(axis=0).ravel(), velocity[cell].mean(axis=0).ravel()]
        parts += [body.std(axis=0).ravel(), np.linalg.norm(velocity, axis=-1).mean(axis=0)]
        return np.concatenate(parts).astype(np.float32)

    def of_clip(self, sequence: SkeletonSequence) -> np.ndarray:
        """Features of a whole trimmed clip."""
        return self.of_span(sequence.joints, sequence.mask)

    def of_frames(self, sequence: SkeletonSequence, window: int, future: int = 0) -> np.ndarray:
        """(T, D): the features of the ``window``-frame span ending ``future`` frames after each frame
        (0: causal; the sequence's first and last frames are repeated beyond its ends)."""
        last = sequence.num_frames - 1
        return np.stack([
            self.of_span(sequence.joints[np.minimum(frames, last)], sequence.mask[np.minimum(frames, last)])
            for frames in (window_frames(sequence.num_frames + future, end + future, window)
                           for end in range(sequence.num_frames))
        ])  # fmt: skip


class LogisticBaseline:
    """Standardised features → multinomial logistic regression, strength chosen by subject-grouped CV."""

    def __init__(self, strengths: tuple[float, ...] = (0.01, 0.1, 1.0), folds: int = 3, seed: int = 0) -> None:
        self.strengths = strengths
        self.folds = folds
        self.seed = seed
        self.pipeline = None

    def fit(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray) -> LogisticBaseline:
        """Fit on (N, D) ``features`` with class indices ``targets``; ``groups`` (the subjects) define the folds."""
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from threadpoolctl import threadpool_limits

        folds = min(self.folds, len(np.unique(groups)))
        cv = list(GroupKFold(n_splits=folds).split(features, targets, groups)) if folds >= 2 else 3
        classifier = LogisticRegressionCV(Cs=list(self.strengths), cv=cv, max_iter=3000, random_state=self.seed,
                                          l1_ratios=(0.0,), scoring="neg_log_loss", use_legacy_attributes=False)
        self.pipeline = make_pipeline(StandardScaler(), classifier)
        # One BLAS thread: the solver's calls are small, and more threads spin (20x slower beside a busy process)
        with threadpool_limits(limits=1, user_api="blas"):
            self.pipeline.fit(features, targets)
        return self

    def probabilities(self, features: np.ndarray, num_classes: int) -> np.ndarray:
        """(N, num_classes) class probabilities; classes absent from training get 0."""
        if self.pipeline is None:
            raise RuntimeError("fit the baseline first")
        known = self.pipeline.predict_proba(features)
        out = np.zeros((len(features), num_classes), np.float32)
        out[:, self.pipeline.classes_] = known
        return out

    @property
    def chosen_strength(self) -> float:
        return float(np.ravel(self.pipeline[-1].C_)[0])


def clip_baseline(train: list[SkeletonSequence], test: list[SkeletonSequence], labels: list[str],
                  features: PyramidFeatures | None = None) -> np.ndarray:  # fmt: skip
    """(len(test), K) class probabilities of the test clips, from a baseline fitted on the training clips."""
    features = features or PyramidFeatures()
    index = {name: i for i, name in enumerate(labels)}
    x = np.stack([features.of_clip(c) for c in train])
    y = np.array([index[c.label] for c in train])
    groups = np.array([c.subject if c.subject is not None else i for i, c in enumerate(train)])
    model = LogisticBaseline().fit(x, y, groups)
    return model.probabilities(np.stack([features.of_clip(c) for c in test]), len(labels))


def frame_baseline(train: list[SkeletonSequence], test: list[SkeletonSequence], labels: list[str],
                   window: int = 32, future: int = 0, every: int = 4, features: PyramidFeatures | None = None,
                   targets: list[np.ndarray] | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Per-frame probabilities ``{name: (T, K + 1)}`` of the test sequences (class 0 background).

    Trained on every ``every``-th frame of the training sequences, each with the
    ``window`` of frames ending ``future`` frames after it (0: causal);
    ``targets`` overrides the per-frame classes derived from the segments.
    """
    features = features or PyramidFeatures()
    targets = targets or [s.frame_labels(labels) for s in train]
    x, y, groups = [], [], []
    for sequence, target in zip(train, targets, strict=True):
        frames = features.of_frames(sequence, window, future)[::every]
        x.append(frames)
        y.append(target[::every])
        groups.append(np.full(len(frames), sequence.subject if sequence.subject is not None else -1))
    model = LogisticBaseline().fit(np.concatenate(x), np.concatenate(y), np.concatenate(groups))
    return {s.name: model.probabilities(features.of_frames(s, window, future), len(labels)) for s in test}
