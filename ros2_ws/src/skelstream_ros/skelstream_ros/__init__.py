"""skelstream on ROS 2: an rclpy node (`skelstream_ros.node`) over the `stream` package.

Everything but `skelstream_ros.node` is free of rclpy and tested without ROS:
`parameters` (the parameter table → the run's settings), `image_conversion`
(sensor_msgs/Image → BGR), `stamps`, `placement` (TF frames, static transform),
`health` (/diagnostics) and `rclpy_writer` (the ROS messages of `stream.ros2.publisher.RosPublisher` → rclpy).
"""
