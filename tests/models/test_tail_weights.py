"""Detection loss weighted toward each window's last frames, the ones a causal stream labels from it."""

import pytest
import torch
import torch.nn.functional as F

from models.training.config import ConfigError, load_train_config
from models.training.tasks import DetectTask, tail_weights
from models.windows import IGNORE_INDEX

TINY = {"dim": 32, "depth": 1, "T": 16, "frame_spatial_dim": 8, "drop_path": 0.0}


def test_tail_weights_mark_the_last_frames():
    assert tail_weights(6, 0, 5.0).tolist() == [1.0] * 6
    assert tail_weights(6, 2, 5.0).tolist() == [1.0, 1.0, 1.0, 1.0, 5.0, 5.0]


def _task_and_batch(data_root, tmp_path, **overrides):
    config = load_train_config(task="detect", output=str(tmp_path / "run"), data_root=str(data_root),
                               train=["utkinect:1"], val=[], model=TINY, young_track=1.0, **overrides)  # fmt: skip
    task = DetectTask(config)
    x, target = next(iter(torch.utils.data.DataLoader(task.train_data, batch_size=8)))
    return task, x, target


def test_the_loss_weighs_the_tail_and_ignores_padding(data_root, tmp_path):
    task, x, target = _task_and_batch(data_root, tmp_path, tail_frames=4, tail_weight=5.0, label_smoothing=0.0)
    assert (target == IGNORE_INDEX).any()  # young-track windows: padded first frames carry no target
    task.model.eval()
    logits = task.model(task.augment(x, torch.Generator().manual_seed(0)))
    per_frame = F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=IGNORE_INDEX,
                                reduction="none").view_as(target)  # fmt: skip
    weights = torch.ones(target.shape[1])
    weights[-4:] = 5.0
    weights = weights * (target != IGNORE_INDEX)
    expected = (per_frame * weights).sum() / weights.sum()
    assert torch.allclose(task.loss((x, target), torch.Generator().manual_seed(0))["total"], expected, atol=1e-6)


def test_without_a_tail_the_loss_is_the_plain_mean(data_root, tmp_path):
    task, x, target = _task_and_batch(data_root, tmp_path, label_smoothing=0.1)
    task.model.eval()
    logits = task.model(task.augment(x, torch.Generator().manual_seed(0)))
    plain = F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=IGNORE_INDEX, label_smoothing=0.1)
    assert torch.allclose(task.loss((x, target), torch.Generator().manual_seed(0))["total"], plain, atol=1e-6)


@pytest.mark.parametrize("overrides", [{"tail_frames": -1}, {"tail_weight": 0.0}])
def test_bad_tail_settings_are_refused(overrides):
    with pytest.raises(ConfigError, match="tail_frames"):
        load_train_config(**overrides)
