"""`LiftedPose`: people's image keypoints (any 2D layout) become unified_30 skeletons with lifted 3D joints."""

import numpy as np
import pytest
import torch

from models.datasets.penn_action import read_penn_action
from models.lifting.lifter import DEFAULT_LIFTER, LifterConfig, build_torch_lifter, load_lifter, save_lifter
from models.skeleton.unified import to_unified
from stream.pose.lifted_pose import LiftedPose
from stream.run.assembly import recording_layout
from stream.run.config import RunConfig
from stream.types import Frame, Person


class _Replay:
    """A pose estimator that gives the people of its list, one frame after another (what a cache replays)."""

    def __init__(self, frames):
        self.frames = iter(frames)
        self.entered = False

    def estimate(self, frame):
        return next(self.frames)

    def __enter__(self):
        self.entered = True
        return self

    def __exit__(self, *exc_info):
        self.entered = False


@pytest.fixture
def lifter(tmp_path):
    config = LifterConfig(width=16, blocks=1, unit_m=0.5)
    torch.manual_seed(0)
    save_lifter(tmp_path / "lifter", build_torch_lifter(config).eval(), config)
    return load_lifter(tmp_path / "lifter")


def test_people_with_image_points_leave_lifted_and_others_unchanged(data_root, lifter):
    clip = read_penn_action(sorted((data_root / "penn_action" / "labels").glob("*.mat"))[0])
    points, confidence = clip.joints[0, 0], clip.mask[0, 0]
    seen = Person(joints=np.zeros((13, 3), np.float32), confidence=confidence, layout="penn_action_13",
                  image_points=points, source_id=7, truth="wave")  # fmt: skip
    kinect = Person(joints=np.ones((30, 3), np.float32), confidence=np.ones(30, np.float32), layout="unified_30")
    with LiftedPose(_Replay([[kinect, seen]]), lifter) as pose:
        assert pose.inner.entered
        people = pose.estimate(Frame(index=0, stamp_ns=0))
    assert people[0] is kinect
    person = people[1]
    unified_points, unified_confidence = to_unified(points, confidence, "penn_action_13")
    assert person.layout == "unified_30" and person.joints.shape == (30, 3) and np.isfinite(person.joints).all()
    assert np.array_equal(person.confidence, unified_confidence) and np.allclose(person.image_points, unified_points)
    expected, _ = lifter(unified_points[None], unified_confidence[None])
    assert np.allclose(person.joints, expected[0] * 0.5, atol=1e-6)  # in metres by the lifter's unit
    assert (person.source_id, person.truth) == (7, "wave")


def test_the_shipped_lifter_loads_and_lifted_runs_record_unified_skeletons():
    assert load_lifter(DEFAULT_LIFTER).config.training["heldout_3d"]["lifted_m"] > 0
    assert recording_layout(RunConfig(source="video", video="x.avi"), None) == "unified_30"  # auto: lifted
    assert recording_layout(RunConfig(source="video", video="x.avi", pose_3d="world"), None) == "mediapipe_33"


def test_auto_lifts_unless_people_are_placed_by_pnp():
    assert RunConfig().lifts and RunConfig(pose_3d="lifted").lifts and not RunConfig(pose_3d="world").lifts
    assert not RunConfig(intrinsics="cam.yaml").lifts  # PnP needs MediaPipe's metric world landmarks


@pytest.mark.parametrize(("settings", "message"), [
    ({"pose_3d": "depth"}, "pose_3d .* must be one of auto, world, lifted"),
    ({"pose_3d": "lifted", "intrinsics": "cam.yaml"}, "nominal size"),
])  # fmt: skip
def test_bad_pose_3d_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(source="video", video="x.avi", **settings)
