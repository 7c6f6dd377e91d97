"""Training-time views of skeleton windows that model a deployment's sensor (numpy, one window at a time).

- `models.augment.mediapipe_like`: a Kinect window as the camera path's MediaPipe
  skeletons would show it (no root motion, per-joint bias, slow error, scale,
  dropout), with the numbers measured by ``benchmarks/pose_gap.py``.

The self-supervised MPCT views of USDRL are `models.usdrl.augment` (torch, batches).
"""
