"""Skeletons published in TF frames: the camera frame chosen, skeletons turned into it, the static TF, stamps."""

import numpy as np
import pytest

from calibration.transforms import Transform, write_transform
from skelstream_ros.parameters import ParameterError, settings_from_parameters
from skelstream_ros.placement import camera_frame, node_localizer, transform_stamped
from skelstream_ros.stamps import header_to_monotonic
from stream.ros2.conversions import RosConverter
from stream.types import Person


@pytest.fixture
def extrinsics_file(tmp_path):
    # A camera 1.2 m above base_link looking forward: optical z = base x, optical x = -base y, optical y = -base z.
    rotation = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    return write_transform(Transform("base_link", "head_camera_optical_frame", rotation, [0.1, 0.0, 1.2]),
                           tmp_path / "camera_to_base.yaml")  # fmt: skip


def test_the_camera_frame_is_the_parameter_else_the_extrinsics_else_the_inputs_default(extrinsics_file):
    assert camera_frame(settings_from_parameters({}), None) == "camera_optical_frame"
    assert camera_frame(settings_from_parameters({"input": "body_markers"}), None) == "depth_camera_link"
    assert camera_frame(settings_from_parameters({"camera_frame": "rgb_camera_link"}), None) == "rgb_camera_link"
    with_extrinsics = settings_from_parameters({"extrinsics": str(extrinsics_file)})
    _, frame = node_localizer(with_extrinsics)
    assert frame == "head_camera_optical_frame"
    clash = settings_from_parameters({"extrinsics": str(extrinsics_file), "camera_frame": "other_optical_frame"})
    with pytest.raises(ParameterError, match="'other_optical_frame' but the extrinsics .* 'head_camera_optical_frame'"):
        node_localizer(clash)


def test_without_extrinsics_skeletons_are_published_in_the_cameras_optical_frame():
    localizer, frame = node_localizer(settings_from_parameters({"input": "synthetic"}))
    joints = np.zeros((30, 3))
    joints[0] = [0.2, 0.5, 3.0]  # spine_base: 0.2 m to the camera's left, 0.5 m up, 3 m ahead (skelstream's convention)
    placed, position = localizer.place(Person(joints=joints, confidence=np.ones(30), layout="unified_30"))
    assert localizer.frame_id == frame == "camera_optical_frame"
    np.testing.assert_allclose(placed[0], [-0.2, -0.5, 3.0])  # optical: x right, y down, z forward
    np.testing.assert_allclose(position, [-0.2, -0.5, 3.0])


def test_with_extrinsics_skeletons_are_in_the_robot_frame_and_the_transform_is_a_valid_message(extrinsics_file):
    localizer, _ = node_localizer(settings_from_parameters({"input": "synthetic", "extrinsics": str(extrinsics_file)}))
    joints = np.zeros((30, 3))
    joints[0] = [0.0, 0.5, 3.0]  # 3 m ahead of the camera, 0.5 m above its axis
    placed, _ = localizer.place(Person(joints=joints, confidence=np.ones(30), layout="unified_30"))
    assert localizer.frame_id == "base_link"
    np.testing.assert_allclose(placed[0], [3.1, 0.0, 1.7], atol=1e-9)  # base_link: x forward, z up

    interfaces = pytest.importorskip("stream.ros2.interfaces")
    pytest.importorskip("rosbags")
    fields = transform_stamped(localizer.extrinsics, {"sec": 5, "nanosec": 7})
    assert fields["header"]["frame_id"] == "base_link" and fields["child_frame_id"] == "head_camera_optical_frame"
    store = interfaces.typestore()
    message = interfaces.build_message("geometry_msgs/msg/TransformStamped", fields, store.types.__getitem__,
                                       interfaces.numpy_array)  # fmt: skip
    data = store.serialize_cdr(message, "geometry_msgs/msg/TransformStamped")
    back = store.deserialize_cdr(data, "geometry_msgs/msg/TransformStamped")
    quaternion = [back.transform.rotation.x, back.transform.rotation.y, back.transform.rotation.z,
                  back.transform.rotation.w]  # fmt: skip
    restored = Transform("base_link", "head_camera_optical_frame", localizer.extrinsics.rotation.from_quat(quaternion),
                         [back.transform.translation.x, back.transform.translation.y, back.transform.translation.z])
    assert restored.distance_to(localizer.extrinsics) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_outputs_carry_the_stamp_of_their_input():
    converter = RosConverter(stamp_offset_ns=1_700_000_000_000_000_000 - 5_000_000_000)
    stamp = header_to_monotonic(1_700_000_123, 456_789, converter.stamp_offset_ns, arrival_ns=999)
    assert converter.header(stamp, "camera_optical_frame")["stamp"] == {"sec": 1_700_000_123, "nanosec": 456_789}
    assert header_to_monotonic(0, 0, converter.stamp_offset_ns, arrival_ns=999) == 999  # unstamped: on arrival
