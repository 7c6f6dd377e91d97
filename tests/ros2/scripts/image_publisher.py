"""Frames of a video as sensor_msgs/Image (bgr8) in real time, from its own process (the ROS 2 environment's Python).

    image_publisher.py VIDEO --topic image_raw --frame-id camera_optical_frame --fps 30 --out sent.jsonl

Waits for a subscriber, then publishes every frame at ``--fps`` (the first ``--frames``, ``--loops`` times over),
each stamped with the time it is published; writes ``{"frame": i, "stamp_ns": epoch ns}``
per frame to ``--out``.
"""

import argparse
import json
import sys
import time

import cv2
import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("--topic", default="image_raw")
    parser.add_argument("--frame-id", default="camera_optical_frame")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--frames", type=int, default=0, help="publish this many frames (0: the whole video)")
    parser.add_argument("--loops", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    capture = cv2.VideoCapture(args.video)
    frames = []
    while not args.frames or len(frames) < args.frames:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    if not frames:
        print(f"no frames in {args.video}", file=sys.stderr)
        return 2
    rclpy.init()
    node = rclpy.create_node("skelstream_test_camera")
    publisher = node.create_publisher(Image, args.topic, qos_profile_sensor_data)
    deadline = time.monotonic() + 60
    while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if publisher.get_subscription_count() == 0:
        print(f"no subscriber of {args.topic} within 60 s", file=sys.stderr)
        return 1
    period = 1.0 / args.fps
    start = time.monotonic()
    with open(args.out, "w", encoding="utf-8") as out:
        for index in range(len(frames) * args.loops):
            image = frames[index % len(frames)]
            time.sleep(max(0.0, start + index * period - time.monotonic()))
            stamp = time.time_ns()
            msg = Image(height=image.shape[0], width=image.shape[1], encoding="bgr8", step=image.shape[1] * 3,
                        data=image.tobytes())
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
            msg.header.frame_id = args.frame_id
            publisher.publish(msg)
            out.write(json.dumps({"frame": index, "stamp_ns": stamp}) + "\n")
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
