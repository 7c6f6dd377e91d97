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

The publishers that use them are `stream.publishers.dds_publisher` (``stream-run --ros2 dds``)
and `stream.publishers.bag_recorder` (``stream-run --record-bag PATH``); the rclpy node
``ros2_ws/src/skelstream_ros`` uses the conversions and `build_message` with rclpy classes.
Topics, conventions and usage: ``docs/ros2.md``. Needs ``pip install skelstream[ros]``
(cyclonedds, rosbags), imported only where used.
"""
