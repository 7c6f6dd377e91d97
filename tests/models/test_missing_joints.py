"""Missing-joint prompts: NaN-marked windows from the normalisation, the learned placement in the detector, its
agreement with the ancestor placement at zero offsets, the checkpoint's consistency rule, the camera view of a
marked window, and the ONNX export of a model that has them."""

import numpy as np
import pytest
import torch

from foundation.optional import is_available
from models.checkpoint import CheckpointConfig, CheckpointError, load_checkpoint, save_checkpoint
from models.dste import DSTEDetector
from models.dste_config import DSTE_VARIANTS, DSTEConfig
from models.missing_joints import MissingJointPrompts
from models.skeleton.layouts import UNIFIED_30
from models.skeleton.normalize import NormalizationConfig, normalize_window
from models.skeleton.unified import fill_missing, joint_depths
from models.training.config import TrainConfig
from models.training.tasks import new_model
from models.training.window_augment import WindowAugment

U = UNIFIED_30.index
PARENTS = UNIFIED_30.parent_indices
LABELS = ["background", "wave", "clap"]
needs_onnx = pytest.mark.skipif(not all(is_available(m) for m in ("onnx", "onnxruntime", "onnxscript")),
                                reason="the onnx extra is not installed: pip install -e '.[onnx]'")  # fmt: skip


def _marked(joints: np.ndarray, present: np.ndarray) -> torch.Tensor:
    """(N, T, M, V, C) joints with (N, T, M, V) presence → an (N, C, T, V, M) window, absent joints NaN."""
    window = np.where(present[..., None], joints, np.nan).astype(np.float32)
    return torch.from_numpy(window.transpose(0, 4, 1, 3, 2).copy())


def _prompt_config(**overrides) -> DSTEConfig:
    return DSTEConfig.from_dict({**DSTE_VARIANTS["dste-small"].to_dict(), "num_classes": len(LABELS),
                                 "missing_prompts": True, **overrides})  # fmt: skip


def _saved_prompted_checkpoint(directory) -> tuple[DSTEDetector, CheckpointConfig]:
    """A dste-small detector with prompts (random, non-zero offsets), saved to ``directory``."""
    config = CheckpointConfig(model=_prompt_config(), task="detection", labels=LABELS, fps=15.0,
                              normalization=NormalizationConfig(mark_missing=True))  # fmt: skip
    model = DSTEDetector(config.model)
    with torch.no_grad():
        model.missing_joints.offset.normal_(0.0, 0.3)
    save_checkpoint(directory, model, config)
    return model, config


def test_the_prompts_settle_chains_as_deep_as_the_skeleton_and_depths_refuse_cycles():
    assert joint_depths([0, 0, 1, 2]).max() == 3
    assert joint_depths([0, 0, 0]).max() == 1
    assert joint_depths(PARENTS).max() == MissingJointPrompts(PARENTS, channels=3).depth == 7  # spine_base → spine_mid → spine_shoulder → shoulder → elbow → wrist → hand → tip
    with pytest.raises(ValueError, match="cycle"):
        joint_depths([1, 0])


def test_zero_offsets_place_missing_joints_on_their_nearest_present_ancestor():
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(2, 16, 2, 30, 3)).astype(np.float32)
    present = rng.uniform(size=joints.shape[:4]) > 0.3
    present[..., U("spine_base")] = True  # every chain ends on a present joint
    placed = MissingJointPrompts(PARENTS, channels=3)(_marked(joints, present)).detach().numpy()
    expected = fill_missing(joints, present.astype(np.float32), UNIFIED_30)
    assert np.allclose(placed.transpose(0, 2, 4, 3, 1), expected)


def test_a_missing_joint_is_its_parent_plus_its_offset_down_a_chain():
    prompts = MissingJointPrompts(PARENTS, channels=3)
    offset = np.arange(90, dtype=np.float32).reshape(30, 3)  # (V, C), distinct per joint and channel
    with torch.no_grad():
        prompts.offset.copy_(torch.from_numpy(offset.T.copy()).view(1, 3, 1, 30, 1))
    joints = np.random.default_rng(1).normal(size=(1, 1, 1, 30, 3)).astype(np.float32)
    present = np.ones(joints.shape[:4], bool)
    present[..., [U("hand_left"), U("hand_tip_left"), U("spine_base")]] = False
    placed = prompts(_marked(joints, present))[0, :, 0, :, 0].T.detach().numpy()  # (V, C)
    hand = joints[0, 0, 0, U("wrist_left")] + offset[U("hand_left")]
    assert np.allclose(placed[U("hand_left")], hand)
    assert np.allclose(placed[U("hand_tip_left")], hand + offset[U("hand_tip_left")])
    assert np.allclose(placed[U("spine_base")], 0.0)  # a missing root has no parent: the origin, no offset
    assert np.allclose(placed[U("wrist_left")], joints[0, 0, 0, U("wrist_left")])  # present joints untouched


def test_the_detector_gives_finite_logits_and_trains_its_prompts_on_marked_windows():
    model = DSTEDetector(_prompt_config())
    present = np.ones((2, 64, 2, 30), bool)
    present[..., U("hand_tip_left")] = False
    window = _marked(np.random.default_rng(2).normal(size=(2, 64, 2, 30, 3)), present)
    logits = model(window)
    assert torch.isfinite(logits).all()
    logits.sum().backward()
    gradient = model.missing_joints.offset.grad[0, :, 0, :, 0]
    assert gradient[:, U("hand_tip_left")].abs().sum() > 0
    assert gradient[:, U("elbow_left")].abs().sum() == 0  # never missing here: nothing to learn


def test_normalisation_marks_what_a_present_body_lacks_and_nothing_else():
    rng = np.random.default_rng(3)
    joints = rng.normal(size=(8, 2, 30, 3)).astype(np.float32)
    mask = np.ones((8, 2, 30), np.float32)
    mask[2, 0, U("knee_left")] = 0.0  # occluded in one frame
    mask[:, 1] = 0.0  # the second body is absent
    kinect = ("spine_base", "spine_mid", "neck", "head", "shoulder_left", "elbow_left", "wrist_left", "hand_left",
              "shoulder_right", "elbow_right", "wrist_right", "hand_right", "hip_left", "knee_left", "ankle_left",
              "foot_left", "hip_right", "knee_right", "ankle_right", "foot_right", "spine_shoulder")  # fmt: skip
    placed, _ = normalize_window(joints, mask, UNIFIED_30, NormalizationConfig(joints=kinect))
    marked, _ = normalize_window(joints, mask, UNIFIED_30, NormalizationConfig(joints=kinect, mark_missing=True))
    missing = np.isnan(marked).any(axis=-1)
    expected = np.zeros_like(missing)
    expected[2, 0, U("knee_left")] = True
    expected[:, 0, [U(name) for name in UNIFIED_30.joint_names if name not in kinect]] = True
    assert np.array_equal(missing, expected)
    assert np.array_equal(marked[~missing], placed[~missing])
    assert np.all(marked[:, 1] == 0.0)  # an absent body stays zero, as the model's padding expects


def test_a_checkpoint_needs_prompts_and_marking_together_and_round_trips_them(tmp_path):
    with pytest.raises(CheckpointError, match="must agree"):
        CheckpointConfig(model=_prompt_config(), task="detection", labels=LABELS, fps=15.0,
                         normalization=NormalizationConfig())  # fmt: skip
    plain = DSTEConfig.from_dict({**DSTE_VARIANTS["dste-small"].to_dict(), "num_classes": len(LABELS)})
    with pytest.raises(CheckpointError, match="must agree"):
        CheckpointConfig(model=plain, task="detection", labels=LABELS, fps=15.0,
                         normalization=NormalizationConfig(mark_missing=True))  # fmt: skip
    model, _ = _saved_prompted_checkpoint(tmp_path / "ck")
    loaded, loaded_config = load_checkpoint(tmp_path / "ck")
    assert loaded_config.model.missing_prompts and loaded_config.normalization.mark_missing
    assert torch.allclose(loaded.missing_joints.offset, model.missing_joints.offset, atol=1e-3)
    written = plain.to_dict(), NormalizationConfig().to_dict()
    assert "missing_prompts" not in written[0] and "mark_missing" not in written[1]  # older configs stay as written


def test_training_with_prompts_marks_the_windows_it_normalises():
    config = TrainConfig(task="detect", model={"missing_prompts": True}, input_layout="kinect_v1_20")
    model, checkpoint = new_model(config, "detection", LABELS)
    assert checkpoint.normalization.mark_missing and model.missing_joints is not None
    _, plain = new_model(TrainConfig(task="detect"), "detection", LABELS)
    assert not plain.normalization.mark_missing


def test_the_camera_view_of_a_marked_window_keeps_the_marks():
    rng = np.random.default_rng(4)
    joints = rng.normal(scale=0.3, size=(16, 1, 30, 3)).astype(np.float32)
    mask = np.ones((16, 1, 30), np.float32)
    mask[:, 0, U("hand_tip_right")] = 0.0
    marked, _ = normalize_window(joints, mask, UNIFIED_30, NormalizationConfig(mark_missing=True))
    window = np.concatenate([marked, np.zeros_like(marked)], axis=1).transpose(3, 0, 2, 1)  # (C, T, V, M=2)
    view = WindowAugment(camera_view=1.0).camera(window, np.random.default_rng(5))
    assert np.array_equal(np.isnan(view), np.isnan(window))
    assert not np.allclose(np.nan_to_num(view), np.nan_to_num(window))  # it is a different view
    assert np.all(view[:, :, :, 1] == 0.0)


@needs_onnx
def test_the_onnx_export_places_marked_joints_as_torch_does(tmp_path):
    from models.export.onnx_export import export_onnx

    _saved_prompted_checkpoint(tmp_path / "ck")
    result = export_onnx(tmp_path / "ck", tmp_path / "model.onnx")  # verifies on NaN-marked windows
    assert result.max_abs_error is not None and result.max_abs_error < 1e-3
    assert result.config.model.missing_prompts


@needs_onnx
def test_int8_quantisation_of_a_prompted_export_calibrates_on_marked_windows(tmp_path):
    import onnxruntime as ort

    from models.export.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx
    from models.export.quantize import quantize_onnx

    _, config = _saved_prompted_checkpoint(tmp_path / "ck")
    export_onnx(tmp_path / "ck", tmp_path / "model.onnx", verify=False)
    windows = np.random.default_rng(6).normal(size=(8, *config.model.input_shape)).astype(np.float32)
    windows[:, :, :, U("hand_tip_left"), 0] = np.nan  # Kinect v1 windows: no hand tip
    quantize_onnx(tmp_path / "model.onnx", tmp_path / "model.int8.onnx", windows, calibration="marked windows")
    run = {name: ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
           for name in ("model.onnx", "model.int8.onnx")}  # fmt: skip
    fp32, int8 = (session.run([OUTPUT_NAME], {INPUT_NAME: windows[:2]})[0] for session in run.values())
    assert np.isfinite(int8).all()
    assert np.abs(int8 - fp32).max() < 0.1 * np.abs(fp32).max() + 0.05
