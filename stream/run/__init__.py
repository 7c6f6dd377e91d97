"""One streaming run: its config (`stream.run.config`), its assembly from that config (`stream.run.assembly`),
the per-frame loop (`stream.run.pipeline`), the stride it adapts (`stream.run.stride_control`), its timings
(`stream.run.stats`) and what it reports (`stream.run.report`). `stream-run` and the ROS 2 node both start
their runs here."""
