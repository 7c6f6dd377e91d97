"""The simple baseline as a stream model: it labels the windows the stream cuts, fitted on a checkpoint's data.

The project's baseline (`models.evaluation.baseline`: body 0's normalised joints
and velocities pooled over a temporal pyramid → L2 logistic regression) labels
each window's last frame from the ``span`` frames ending there, normalised as
the checkpoint normalises its windows. `WindowBaseline.fit` draws its training
windows from a detection checkpoint's own training data (`DetectionData`: the
same datasets, vocabulary mapping and per-dataset shares as ``stream-train
detect``; synthetic scenes and the camera-view, young-track and lifting
augmentations left out: the baseline stays simple), so a table can put it beside
the checkpoint on any path that feeds the checkpoint windows — the camera path
included (`stream.backends.baseline_backend`)::

    baseline = WindowBaseline.fit(detection_data(train_config, synthetic=False), checkpoint_config)
    probabilities = baseline.probabilities(windows)   # (N, K + 1): each window's last frame
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.checkpoint import CheckpointConfig
from models.evaluation.baseline import LogisticBaseline, PyramidFeatures
from models.training.detection_data import DetectionData
from models.windows import IGNORE_INDEX, cut_window

DEFAULT_WINDOWS = 20_000  # training windows drawn: the cross-validated fit takes minutes on 2 cores
DEFAULT_SPAN = 32  # frames pooled, as the baseline of the model card's UTKinect table


class WindowBaseline:
    """A fitted baseline over a checkpoint's windows (module docstring).

    Args:
        classifier: the fitted logistic regression.
        config: the checkpoint whose windows it labels (labels, window length, normalisation).
        span: the frames ending at a window's last frame that its features pool.
    """

    def __init__(self, classifier: LogisticBaseline, config: CheckpointConfig, span: int = DEFAULT_SPAN) -> None:
        if not 1 <= span <= config.num_frames:
            raise ValueError(f"span must be in 1..{config.num_frames} (the window length), got {span}")
        self.classifier = classifier
        self.config = config
        self.span = span
        self.features = PyramidFeatures(normalization=config.normalization)

    @classmethod
    def fit(cls, data: DetectionData, config: CheckpointConfig, windows: int = DEFAULT_WINDOWS,
            span: int = DEFAULT_SPAN, seed: int = 0,
            progress: Callable[[int, int], None] | None = None) -> WindowBaseline:  # fmt: skip
        """Fit on ``windows`` windows drawn from ``data`` as training draws them (each dataset its share, ends
        uniform over a sequence); the regularisation is chosen by cross-validation across (dataset, subject)."""
        from models.training.data import DetectionWindows

        if list(data.labels) != list(config.labels):
            raise ValueError(f"the training data's labels {data.labels} are not the checkpoint's {config.labels}")
        draws = DetectionWindows(data.sequences, data.targets, config.num_frames, config.normalization, windows,
                                 seed, data.groups, data.shares)  # fmt: skip
        baseline = cls(LogisticBaseline(seed=seed), config, span)
        features, targets, groups = [], [], []
        for number in range(windows):
            sequence, end = draws.pick(number)
            which = draws.index_of[id(sequence)]
            target = int(data.targets[which][end])
            if target == IGNORE_INDEX:
                continue
            window, _ = cut_window(sequence, end, config.num_frames, config.normalization)
            features.append(baseline.window_features(window[None])[0])
            targets.append(target)
            groups.append(f"{data.groups[which]}:{sequence.subject}")
            if progress is not None and (number + 1) % 1000 == 0:
                progress(number + 1, windows)
        _, codes = np.unique(np.array(groups), return_inverse=True)
        baseline.classifier.fit(np.stack(features), np.array(targets), codes)
        return baseline

    def window_features(self, windows: np.ndarray) -> np.ndarray:
        """(N, D) features of the last frame of each normalised window (N, C, T, V, M)."""
        bodies = windows[:, :, -self.span:, :, 0].transpose(0, 2, 3, 1)[:, :, self.features.joint_indices]
        return np.stack([self.features.pooled(body) for body in bodies])

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """(N, K + 1) class probabilities of the last frame of each normalised window (N, C, T, V, M)."""
        return self.classifier.probabilities(self.window_features(windows), len(self.config.labels))
