"""The 2D → 3D lifter: its normalisation, virtual cameras that project the right way, numpy = torch, files,
and a short fit on real 3D skeletons that recovers depth for people it never saw."""

import json

import numpy as np
import pytest
import torch

from foundation.errors import SkelstreamError
from models.datasets.registry import load_dataset
from models.lifting.evaluation import bone_plausibility, heldout_error
from models.lifting.lifter import (ROOT, LifterConfig, NumpyLifter, build_torch_lifter, lifter_input, load_lifter,
                                   normalize_2d, save_lifter)  # fmt: skip
from models.lifting.train import fit_lifter
from models.lifting.virtual_cameras import CameraRanges, project_views, source_masks, target_unit
from models.skeleton.unified import to_unified
from models.windows import prepare_sequence


def _frames(data_root, subjects):
    joints, present = [], []
    for sequence in load_dataset("utkinect", data_root, subjects):
        prepared = prepare_sequence(sequence, 15.0)
        joints.append(prepared.joints[:, 0])
        present.append(prepared.mask[:, 0] > 0)
    return np.concatenate(joints).astype(np.float32), np.concatenate(present)


def test_normalisation_forgets_position_and_size_and_turns_image_axes():
    rng = np.random.default_rng(0)
    points = rng.uniform(100, 500, (1, 30, 2))
    confidence = np.ones((1, 30))
    confidence[0, 29] = 0.0  # an absent joint
    normalized, present = normalize_2d(points, confidence)
    moved, _ = normalize_2d(points * 3.0 + 40.0, confidence)
    assert np.allclose(normalized, moved, atol=1e-5)
    assert np.allclose(normalized[0, ROOT], 0) and normalized[0, 29].tolist() == [0, 0] and present[0, 29] == 0
    assert np.sqrt((normalized[0, :29] ** 2).sum(-1).mean()) == pytest.approx(1.0, rel=1e-5)
    wrist = normalized[0, 6]  # image x right / y down become x left / y up
    assert np.sign(wrist).tolist() == np.sign(-(points[0, 6] - points[0, ROOT])).tolist()
    empty, none = normalize_2d(points, np.zeros((1, 30)))
    assert not empty.any() and not none.any()


def test_a_far_camera_sees_the_turned_skeleton_flat():
    rng = np.random.default_rng(1)
    joints = rng.normal(size=(64, 30, 3)).astype(np.float32) * 0.3
    present = np.ones((64, 30), bool)
    far = CameraRanges(distance_m=(500.0, 500.0), off_axis=(0.0, 0.0), jitter=(0.0, 0.0), drop=0.0)
    pixels, seen, turned = project_views(joints, present, rng, far)
    assert np.allclose(turned[:, ROOT], 0, atol=1e-6)  # root-relative
    assert np.allclose(np.linalg.norm(turned, axis=-1), np.linalg.norm(joints - joints[:, ROOT:ROOT + 1], axis=-1),
                       atol=1e-4)  # a rotation: lengths kept  # fmt: skip
    normalized, mask = normalize_2d(pixels, seen)
    expected = turned[..., :2] / target_unit(turned, mask)[:, None, None]
    assert np.allclose(np.where(mask[..., None] > 0, normalized, 0), np.where(mask[..., None] > 0, expected, 0),
                       atol=6e-3)  # orthographic in the limit (depth over distance: 0.2 %)  # fmt: skip
    assert set(map(tuple, (seen > 0))) <= set(map(tuple, source_masks()))  # each view shows one source's joints


def test_numpy_and_torch_lifters_agree_and_round_trip_through_files(tmp_path):
    config = LifterConfig(width=32, blocks=2, unit_m=0.4)
    torch.manual_seed(0)
    model = build_torch_lifter(config).eval()
    points = np.random.default_rng(2).uniform(0, 640, (5, 30, 2))
    confidence = np.ones((5, 30))
    with torch.no_grad():
        expected = model(torch.from_numpy(lifter_input(*normalize_2d(points, confidence)))).numpy()
    save_lifter(tmp_path / "lifter", model, config)
    loaded = load_lifter(tmp_path / "lifter")
    assert loaded.config.unit_m == 0.4 and loaded.config.width == 32
    assert np.allclose(loaded(points, confidence)[0], expected - expected[:, ROOT : ROOT + 1], atol=1e-5)
    (tmp_path / "lifter" / "config.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(SkelstreamError, match="not a skelstream lifter"):
        load_lifter(tmp_path / "lifter")
    with pytest.raises(SkelstreamError, match="not a lifter"):
        load_lifter(tmp_path)


def test_a_short_fit_recovers_depth_for_people_it_never_saw(data_root):
    joints, present = _frames(data_root, [1, 2, 3, 4])
    config = LifterConfig(width=128, blocks=1)
    model = fit_lifter(joints, present, config, steps=400, batch_size=256, lr=2e-3)
    lifter = NumpyLifter(config, {k: v.detach().numpy() for k, v in model.state_dict().items()})
    held, held_present = _frames(data_root, [5, 6])
    figures = heldout_error(lifter, held[::4], held_present[::4])
    assert figures["lifted_m"] < 0.8 * figures["flat_m"]  # depth restored: subjects 5-6 never seen
    assert figures["lifted_depth_m"] < figures["flat_depth_m"]
    assert 0.2 < config.unit_m < 0.8  # metres: the spread of an adult's joints


def test_plausibility_on_real_2d_joints_is_computed_per_reading(data_root):
    from models.datasets.penn_action import read_penn_action

    files = sorted((data_root / "penn_action" / "labels").glob("*.mat"))[:6]
    clips = [to_unified(s.joints[:, 0], s.mask[:, 0], s.layout) for s in map(read_penn_action, files)]
    config = LifterConfig(width=16, blocks=1)
    torch.manual_seed(0)
    lifter = NumpyLifter(config, {k: v.detach().numpy() for k, v in build_torch_lifter(config).state_dict().items()})
    figures = bone_plausibility(clips, lifter)
    assert set(figures) == {"lifted", "flat"}
    assert figures["flat"]["clips"] > 0 and 0 < figures["flat"]["limb_share_cv"] < 1
