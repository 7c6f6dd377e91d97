"""Azure Kinect body tracking, as the Azure Kinect ROS driver publishes it, into `Person` skeletons.

The driver's ``body_tracking_data`` topic (``visualization_msgs/MarkerArray``)
carries one marker per joint of every tracked body, for the most recent depth
frame:

- ``marker.id = body_id * 100 + joint``, ``joint`` being the Body Tracking
  SDK's ``k4abt_joint_id_t`` (0 PELVIS ... 31 EAR_RIGHT: layout ``azure_kinect_32``);
- ``marker.pose.position``: the joint in metres (the SDK's millimetres / 1000)
  in the depth camera frame ``depth_camera_link``, which follows the SDK's depth
  camera coordinates: x right in the image, y down, z forward (the optical
  convention);
- no per-joint confidence (the SDK's confidence levels are not published).

`people_from_markers` returns one `Person` per body in skelstream's convention
(`stream.types`): metres in the camera frame with x to the camera's left, y up
and z away from it, i.e. ``(x, y, z)_ours = (-x, -y, z)_depth_camera_link``
(`calibration.transforms.optical_to_skeleton`); "the camera" is the depth camera,
so an ``extrinsics`` transform for these skeletons must have the depth camera's
optical frame as its child. ``source_id`` is the SDK's body id, joints the body
lacks get confidence 0, received joints confidence 1.

    joints = [(m.id, m.pose.position.x, m.pose.position.y, m.pose.position.z)
              for m in marker_array.markers if m.action == Marker.ADD]
    people = people_from_markers(joints)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from calibration.transforms import optical_to_skeleton
from models.skeleton.layouts import AZURE_KINECT_32
from stream.types import Person

LAYOUT = AZURE_KINECT_32.name
MARKER_ID_STRIDE = 100
"""The driver numbers markers ``body_id * MARKER_ID_STRIDE + joint``."""


def marker_id(body_id: int, joint: int) -> int:
    """The marker id the driver gives ``joint`` of body ``body_id``."""
    return body_id * MARKER_ID_STRIDE + joint


def people_from_markers(markers: Iterable[tuple[int, float, float, float]]) -> list[Person]:
    """One ``azure_kinect_32`` `Person` per body from ``(marker id, x, y, z)`` joints (driver frame, metres).

    Bodies come out ordered by body id. A joint whose coordinates are not finite
    counts as missing; a body without any finite joint is left out. Raises
    ValueError, naming the marker, for a negative id, a joint index that is not a
    k4abt joint (0-31), or the same joint twice.
    """
    joints: dict[int, np.ndarray] = {}
    received: dict[int, np.ndarray] = {}
    seen: set[int] = set()
    count = AZURE_KINECT_32.num_joints
    for ident, x, y, z in markers:
        ident = int(ident)
        if ident < 0:
            raise ValueError(f"body marker id {ident} is negative; the driver numbers them body_id * 100 + joint")
        body, joint = divmod(ident, MARKER_ID_STRIDE)
        if joint >= count:
            raise ValueError(f"body marker id {ident}: joint {joint} is not an Azure Kinect body tracking joint "
                             f"(0-{count - 1}); is this the driver's body_tracking_data topic?")  # fmt: skip
        if ident in seen:
            raise ValueError(f"body marker id {ident}: body {body} has joint {joint} twice in one message")
        seen.add(ident)
        if body not in joints:
            joints[body] = np.zeros((count, 3), np.float32)
            received[body] = np.zeros(count, np.float32)
        point = np.array([x, y, z], np.float64)
        if np.isfinite(point).all():
            joints[body][joint] = optical_to_skeleton(point)
            received[body][joint] = 1.0
    return [Person(joints=joints[body], confidence=received[body], layout=LAYOUT, source_id=body)
            for body in sorted(joints) if received[body].any()]  # fmt: skip
