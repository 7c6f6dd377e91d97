"""ROS header stamps onto the monotonic clock of skelstream frames, so outputs carry their input's stamp.

`stream.ros2.conversions.RosConverter` stamps every output message with the
frame's monotonic ``stamp_ns`` plus ``stamp_offset_ns`` (epoch − monotonic).
Mapping an input header stamp with the same offset the other way round makes
the labels, events and skeletons of a frame carry exactly the stamp of the image
or markers they came from (what message_filters and TF lookups expect); the
pipeline's end-to-end latency is then the delay since the sensor stamped the
frame. A header without a stamp (0) counts as captured on arrival.
"""

from __future__ import annotations


def header_to_monotonic(sec: int, nanosec: int, offset_ns: int, arrival_ns: int) -> int:
    """The capture time on the monotonic clock of a header stamped ``sec``.``nanosec`` (ROS time)."""
    stamp_ns = int(sec) * 1_000_000_000 + int(nanosec)
    return arrival_ns if stamp_ns == 0 else stamp_ns - offset_ns
