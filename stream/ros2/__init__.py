"""ROS 2 without ROS: skelstream's topics with ROS 2 names, types and QoS, as DDS samples and rosbag2 records.

- `stream.ros2.interfaces`: the ``.msg`` definitions (``skelstream_msgs`` from
  ``ros2_ws/src/skelstream_msgs/msg``, vendored ``vision_msgs``/``hri_msgs``, rosbags'
  standard types) and `build_message`, which builds rosbags, Cyclone DDS or rclpy messages
  from plain dicts;
- `stream.ros2.topics`: the one table of topic names, types and QoS, body ids, namespaces;
- `stream.ros2.conversions`: schema-v1 messages (`stream.messages`) → the ROS messages
  they map to, as plain dicts (no ROS, no DDS);
- `stream.ros2.dds_types`: Cyclone DDS classes generated from the definitions
  (``pkg::msg::dds_::Name_``, final, XCDR1: what rmw_cyclonedds puts on the wire).

Every ROS 2 output is a `stream.ros2.publisher.RosPublisher` (convert each message once, count,
follow the per-body topics) with writers: `stream.ros2.dds_writer.DdsWriter` (``stream-run --ros2
dds``), `stream.ros2.bag_writer.BagWriter` (``stream-run --record-bag PATH``) and the rclpy node's
writer (``ros2_ws/src/skelstream_ros``, which builds rclpy messages with `build_message`).
Topics, conventions and usage: ``docs/ros2.md``. Needs ``pip install skelstream[ros]``
(cyclonedds, rosbags), imported only where used.
"""
