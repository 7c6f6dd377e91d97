"""A ROS 2 subscriber in its own process (run with the ROS 2 environment's Python): every message as a JSON line.

    listener.py --out received.jsonl --topic skelstream/actions skelstream_msgs/msg/ActionLabel reliable ...

QoS per topic: ``reliable`` (keep last 1000), ``best_effort`` (sensor data) or ``static``
(reliable, transient local, keep last 1: what /tf_static needs). Each line:
``{"topic": ..., "received_ns": epoch ns, "msg": {fields}}``, written as it arrives.
Prints ``ready`` once subscribed; runs until SIGINT/SIGTERM or ``--seconds``.
"""

import argparse
import array
import importlib
import json
import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

PROFILES = {
    "reliable": QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.RELIABLE),
    "best_effort": qos_profile_sensor_data,
    "static": QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL),
}


def plain(value):
    """A message as plain JSON data, field by field."""
    if hasattr(value, "get_fields_and_field_types"):
        return {name: (getattr(value, name)[0] if kind == "octet" else plain(getattr(value, name)))
                for name, kind in value.get_fields_and_field_types().items()}  # a byte: rclpy gives bytes([n])
    if isinstance(value, (list, tuple, array.array)) or type(value).__name__ == "ndarray":
        return [plain(item) for item in value]
    if isinstance(value, bytes):
        return list(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--topic", nargs=3, action="append", metavar=("NAME", "TYPE", "QOS"), required=True)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node("skelstream_test_listener")
    out = open(args.out, "w", encoding="utf-8")

    def keep(topic):
        def callback(msg):
            out.write(json.dumps({"topic": topic, "received_ns": time.time_ns(), "msg": plain(msg)}) + "\n")
            out.flush()
        return callback

    for name, typename, qos in args.topic:
        package, _, type_name = typename.split("/")
        message = getattr(importlib.import_module(f"{package}.msg"), type_name)
        node.create_subscription(message, name, keep(name), PROFILES[qos])
    print("ready", flush=True)
    deadline = time.monotonic() + args.seconds
    try:
        while rclpy.ok() and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    out.close()
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
