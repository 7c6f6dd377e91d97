"""Where the node publishes skeletons: in the camera's TF frame, or in the robot frame of the extrinsics.

skelstream keeps 3D skeletons in its own camera convention (x left, y up, z
forward; `stream.types`), which is no ROS frame. The node therefore always
places them through a `stream.stages.localization.Localizer`: with an ``extrinsics``
file (robot frame ← camera optical frame) into the robot frame, whose transform
it broadcasts as a static TF; without one, by the identity into the camera's
optical frame (x right, y down, z forward, REP-103's ``*_optical_frame``), so a TF
client (rviz, a planner) can use every skeleton as published.
"""

from __future__ import annotations

from calibration.transforms import Transform
from skelstream_ros.parameters import NodeSettings, ParameterError
from stream.ros2.conversions import DEFAULT_CAMERA_FRAME
from stream.stages.localization import Localizer


AZURE_KINECT_DEPTH_FRAME = "depth_camera_link"
"""The Azure Kinect ROS driver's depth camera frame, in which its body markers are (optical convention)."""


def camera_frame(settings: NodeSettings, extrinsics: Transform | None) -> str:
    """The camera's TF frame: the ``camera_frame`` parameter, else the extrinsics' camera, else the input's default.

    Raises ParameterError when ``camera_frame`` and the extrinsics name different camera frames.
    """
    if settings.camera_frame:
        if extrinsics is not None and extrinsics.child_frame != settings.camera_frame:
            raise ParameterError(f"parameter 'camera_frame' is {settings.camera_frame!r} but the extrinsics "
                                 f"{settings.run.extrinsics} place the camera frame "
                                 f"{extrinsics.child_frame!r}")  # fmt: skip
        return settings.camera_frame
    if extrinsics is not None:
        return extrinsics.child_frame
    return AZURE_KINECT_DEPTH_FRAME if settings.input == "body_markers" else DEFAULT_CAMERA_FRAME


def node_localizer(settings: NodeSettings) -> tuple[Localizer, str]:
    """The localizer of the node's skeletons (`stream.run.assembly.make_localizer` in the node's camera frame)
    and that frame (reads the intrinsics and extrinsics files)."""
    from calibration.transforms import read_transform
    from stream.run.assembly import make_localizer

    extrinsics = read_transform(settings.run.extrinsics) if settings.run.extrinsics else None
    frame = camera_frame(settings, extrinsics)
    return make_localizer(settings.run, camera_frame=frame), frame


def transform_stamped(transform: Transform, stamp: dict) -> dict:
    """The fields of a ``geometry_msgs/msg/TransformStamped`` of ``transform`` (parent ← child) at ``stamp``."""
    x, y, z = (float(v) for v in transform.translation)
    qx, qy, qz, qw = (float(v) for v in transform.rotation.as_quat())
    return {
        "header": {"stamp": stamp, "frame_id": transform.parent_frame},
        "child_frame_id": transform.child_frame,
        "transform": {"translation": {"x": x, "y": y, "z": z}, "rotation": {"x": qx, "y": qy, "z": qz, "w": qw}},
    }
