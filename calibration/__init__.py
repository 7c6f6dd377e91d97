"""Calibration: camera intrinsics, camera-to-robot extrinsics, and people's positions in the robot frame.

`calibration` never imports `stream`; the streaming runtime uses it to publish
skeletons in the robot's base frame.
"""
