"""Supervised multi-dataset pretraining: samples of every source, one head each, a loss that falls."""

import numpy as np
import torch

from models.checkpoint import CheckpointConfig, build_model
from models.dste_config import DSTE_VARIANTS, DSTEConfig
from models.skeleton.normalize import NormalizationConfig
from models.skeleton.sequence import SkeletonSequence
from models.synthetic.actions import ACTIONS
from models.synthetic.generator import SyntheticConfig, generate_sequence
from models.training.multitask import CLIP_KIND, DENSE_KIND, MultiTaskHeads, MultiTaskWindows, Source
from models.windows import IGNORE_INDEX, prepare_sequence

TINY = {"dim": 32, "depth": 1, "T": 16, "frame_spatial_dim": 8, "drop_path": 0.0}


def _sources():
    """A dense source (synthetic scenes, UTKinect actions) and a clip source (its segments cut out as clips)."""
    scenes = [prepare_sequence(generate_sequence(SyntheticConfig(duration=40.0, seed=s)), 15.0) for s in (1, 2)]
    labels = ["background", *ACTIONS]
    dense = Source("scenes", DENSE_KIND, labels, scenes, [s.frame_labels(labels) for s in scenes])
    clips = []
    for scene in scenes:
        for segment in scene.segments:
            frames = slice(segment.start, segment.end)
            clips.append(SkeletonSequence(joints=scene.joints[frames], mask=scene.mask[frames], layout=scene.layout,
                                          fps=scene.fps, frame_ids=np.arange(segment.length), name=scene.name,
                                          label=segment.label))  # fmt: skip
    clip = Source("clips", CLIP_KIND, list(ACTIONS), clips)
    return [dense, clip]


def test_windows_carry_the_target_their_source_needs():
    sources = _sources()
    data = MultiTaskWindows(sources, 16, NormalizationConfig(), length=200, seed=3)
    seen = set()
    for index in range(len(data)):
        window, frame_target, clip_target, which = data[index]
        assert window.shape == (3, 16, 30, 2)
        seen.add(which)
        if sources[which].kind == CLIP_KIND:
            assert (frame_target == IGNORE_INDEX).all() and 0 <= clip_target < len(ACTIONS)
        else:
            assert clip_target == IGNORE_INDEX and (frame_target != IGNORE_INDEX).any()
    assert seen == {0, 1}
    again = MultiTaskWindows(sources, 16, NormalizationConfig(), length=200, seed=3)
    assert torch.equal(again[7][0], data[7][0])  # seeded: the same sample for the same index and epoch


def test_the_shared_encoder_learns_both_tasks():
    torch.manual_seed(0)
    sources = _sources()
    model = build_model(CheckpointConfig(
        model=DSTEConfig.from_dict({**DSTE_VARIANTS["dste-small"].to_dict(), **TINY, "num_classes": 2}),
        task="detection", labels=["background", "action"], fps=15.0))  # fmt: skip
    heads = MultiTaskHeads(model, sources)
    data = MultiTaskWindows(sources, 16, NormalizationConfig(), length=64, seed=0)
    batch = [torch.stack([data[i][0] for i in range(64)]), torch.stack([data[i][1] for i in range(64)]),
             torch.tensor([data[i][2] for i in range(64)]), torch.tensor([data[i][3] for i in range(64)])]  # fmt: skip
    optimizer = torch.optim.AdamW(heads.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        losses = heads.loss(*batch, label_smoothing=0.0)
        first = first or {k: v.item() for k, v in losses.items()}
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
    assert set(losses) == {"total", "source0", "source1"}
    assert losses["source0"].item() < 0.5 * first["source0"]
    assert losses["source1"].item() < 0.5 * first["source1"]
