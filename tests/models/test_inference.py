"""Overlap fusion over strided windows, as the stream runs them."""

import numpy as np
import pytest
import torch
from torch import nn

from models.checkpoint import CheckpointConfig
from models.dste_config import DSTEConfig
from models.fusion import final_window
from models.inference import fused_probabilities, fused_probabilities_each, predict_sequence
from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import SkeletonSequence

T = 8


class PositionLogits(nn.Module):
    """Class 1 scores high on a window's last frame, class 0 elsewhere: fusion must mix the two."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(5.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], T, 2)
        logits[:, -1, 1] = self.scale
        logits[:, :-1, 0] = self.scale
        return logits


def _setup(frames: int):
    config = CheckpointConfig(model=DSTEConfig(dim=16, depth=1, T=T, num_classes=2), task="detection",
                              labels=["background", "a"], fps=15.0,
                              normalization=NormalizationConfig(center="none", align="none", scale="none"))  # fmt: skip
    seq = SkeletonSequence(joints=np.random.default_rng(0).normal(size=(frames, 2, 30, 3)).astype(np.float32),
                           mask=np.ones((frames, 2, 30), np.float32), layout="unified_30", fps=15.0,
                           frame_ids=np.arange(frames), name="s")  # fmt: skip
    return PositionLogits(), seq, config


def test_probabilities_are_distributions_over_every_frame():
    model, seq, config = _setup(21)
    probs = predict_sequence(model, seq, config, stride=4)
    assert probs.shape == (21, 2)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_mean_fusion_averages_every_covering_window():
    model, seq, config = _setup(16)
    probs = predict_sequence(model, seq, config, stride=4, fusion="mean")  # windows end at 3, 7, 11, 15
    p_last = torch.softmax(torch.tensor([0.0, 5.0]), 0)[1].item()
    p_other = torch.softmax(torch.tensor([5.0, 0.0]), 0)[1].item()
    # frame 7 is the last frame of one window (end 7) and inside windows ending 11 and 15 (T=8 covers 8..15 only)
    assert np.isclose(probs[7, 1], (p_last + p_other) / 2, atol=1e-5)
    assert np.isclose(probs[15, 1], p_last, atol=1e-5)  # only the final window covers frame 15
    assert np.isclose(probs[0, 1], p_other, atol=1e-5)


def test_recent_fusion_weights_windows_by_what_they_saw_after_the_frame_and_max_takes_the_largest():
    model, seq, config = _setup(16)
    recent = predict_sequence(model, seq, config, stride=4)  # the default
    largest = predict_sequence(model, seq, config, stride=4, fusion="max")
    p_last = torch.softmax(torch.tensor([0.0, 5.0]), 0)[1].item()
    p_other = torch.softmax(torch.tensor([5.0, 0.0]), 0)[1].item()
    # frame 7: the window ending at 7 saw nothing after it (weight 1), the one ending at 11 four frames (weight 5)
    assert np.isclose(recent[7, 1], (1 * p_last + 5 * p_other) / 6, atol=1e-5)
    # max: per class the larger of the two, renormalised: class 1 max(p_last, p_other), class 0 the same
    assert np.isclose(largest[7, 1], p_last / (p_last + (1 - p_other)), atol=1e-5)
    assert np.allclose(largest.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="fusion"):
        predict_sequence(model, seq, config, stride=4, fusion="median")


def test_causal_lookahead_uses_only_windows_ending_soon_after():
    model, seq, config = _setup(16)
    causal = predict_sequence(model, seq, config, stride=1, lookahead=0)
    p_last = torch.softmax(torch.tensor([0.0, 5.0]), 0)[1].item()
    assert np.allclose(causal[:, 1], p_last, atol=1e-5)  # every frame judged by the window ending on it


def test_final_window_is_when_the_stream_labels_each_frame():
    # stride 4, T 8, 10 frames: windows end at 3, 7, 9 (the last frame)
    assert final_window(10, 8, 4, lookahead=0).tolist() == [3, 3, 3, 3, 7, 7, 7, 7, 9, 9]
    # lookahead 5 (reach 5): frame t is final after the first end e with t <= e + 3 - 5 = e - 2
    assert final_window(10, 8, 4, lookahead=5).tolist() == [3, 3, 7, 7, 7, 7, 9, 9, 9, 9]
    # every window (reach T - 1 = 7): t <= e - 4; the tail waits for the last window
    assert final_window(10, 8, 4, lookahead=None).tolist() == [7, 7, 7, 7, 9, 9, 9, 9, 9, 9]
    assert final_window(5, 8, 1, lookahead=0).tolist() == [0, 1, 2, 3, 4]


def test_any_runtime_can_score_the_windows():
    model, seq, config = _setup(16)
    numpy_model = lambda windows: model(torch.from_numpy(windows)).detach().numpy()  # noqa: E731 - a runtime
    np.testing.assert_allclose(fused_probabilities(numpy_model, seq, config, stride=4),
                               predict_sequence(model, seq, config, stride=4), atol=1e-6)  # fmt: skip


def test_several_readings_of_the_same_windows_cost_one_model_pass():
    model, seq, config = _setup(40)
    batches = []

    def counting(windows: np.ndarray) -> np.ndarray:
        batches.append(windows.shape[0])
        return model(torch.from_numpy(windows)).detach().numpy()

    offline, causal = fused_probabilities_each(counting, seq, config, 4, (None, 0), batch_size=4)
    assert batches == [4, 4, 2]  # 10 windows in batches of 4, once
    np.testing.assert_allclose(offline, fused_probabilities(counting, seq, config, stride=4), atol=1e-7)
    np.testing.assert_allclose(causal, fused_probabilities(counting, seq, config, stride=4, lookahead=0), atol=1e-7)
    assert np.abs(offline - causal).max() > 1e-3  # two readings, not one twice
