"""Stream ensembles: the members' mean probabilities, members checked to read the same windows, on real clips."""

import numpy as np
import pytest
import torch

from models.checkpoint import CheckpointConfig, build_model, load_checkpoint, save_checkpoint
from models.datasets.msr_action3d import MSR_ACTION3D_ACTIONS
from models.dste_config import DSTEConfig
from models.evaluation.runner import _clip_windows
from models.experiments.modality_streams import ensemble_accuracy, stream_run, table
from models.experiments.transfer import DOWNSTREAM
from models.stream_ensemble import StreamEnsemble, check_members
from models.training.config import TrainConfig
from models.training.detection_data import load_refs

LABELS = ["wave", "clap", "bow"]


def _config(modality: str = "joint", labels: list[str] = LABELS, T: int = 16) -> CheckpointConfig:
    model = DSTEConfig(dim=32, depth=1, T=T, num_classes=len(labels), frame_spatial_dim=8, modality=modality)
    return CheckpointConfig(model=model, task="classification", labels=labels, fps=15.0)


def test_ensemble_is_the_log_of_the_members_mean_probability():
    torch.manual_seed(0)
    joint, bone = build_model(_config("joint")).eval(), build_model(_config("bone")).eval()
    x = torch.randn(4, 3, 16, 30, 2)
    with torch.no_grad():
        mean = (joint(x).softmax(-1) + bone(x).softmax(-1)) / 2
        assert torch.allclose(StreamEnsemble([joint, bone])(x).exp(), mean, atol=1e-6)
        assert torch.allclose(StreamEnsemble([joint])(x), joint(x).log_softmax(-1), atol=1e-5)
    with pytest.raises(ValueError, match="at least one member"):
        StreamEnsemble([])


def test_members_must_share_vocabulary_and_windows():
    check_members([_config("joint"), _config("bone"), _config("motion")], ["j", "b", "m"])
    with pytest.raises(ValueError, match="other predicts .* one vocabulary"):
        check_members([_config(), _config(labels=["clap", "wave", "bow"])], ["first", "other"])
    with pytest.raises(ValueError, match="short reads other windows than first"):
        check_members([_config(), _config(T=32)], ["first", "short"])


def test_ensemble_accuracy_on_real_clips(data_root, tmp_path):
    labels = list(MSR_ACTION3D_ACTIONS)
    paths = []
    for seed, modality in enumerate(("joint", "motion")):
        torch.manual_seed(seed)
        config = _config(modality, labels)
        save_checkpoint(tmp_path / modality, build_model(config), config)
        paths.append(tmp_path / modality)
    clips, _ = load_refs(["msr-action3d:2"], TrainConfig(data_root=str(data_root)))
    windows, true = _clip_windows(_config(labels=labels), clips)
    with torch.no_grad():
        mean = sum(load_checkpoint(p)[0].eval()(windows).softmax(-1) for p in paths) / 2
    expected = float((mean.argmax(-1).numpy() == np.asarray(true)).mean())
    assert ensemble_accuracy(paths, "msr-action3d:2", str(data_root)) == pytest.approx(expected)


def test_each_stream_run_is_the_recipe_with_its_modality_and_seed():
    msr = next(d for d in DOWNSTREAM if d.key == "msr-action3d")
    run = stream_run(msr, "bone", 2, ("--shear", "0.3"))
    assert run.flags == (*msr.flags, "--shear", "0.3", "--seed", "2", "--model", '{"modality": "bone"}')
    assert (run.train, run.test) == (msr.train, msr.test)


def test_table_has_a_mean_row_over_seeds():
    figures = {"joint": 0.7, "bone": 0.6, "motion": 0.5, "joint + bone": 0.75, "three streams": 0.8}
    results = {"nw-ucla": {"baseline": 0.665, "seeds": {0: figures, 1: {k: v + 0.1 for k, v in figures.items()}}}}
    rows = table(results).splitlines()
    assert len(rows) == 5 and rows[-1].startswith("| NW-UCLA")
    assert rows[-1].endswith("| 0.665 | mean | 0.750 | 0.650 | 0.550 | 0.800 | 0.850 |")
