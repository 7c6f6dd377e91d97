"""The pose step: images → `Person` skeletons (DESIGN §1).

- `stream.pose.provision`: find or build the MediaPipe PoseLandmarker ``.task``
  model offline (``python -m stream.pose.provision``).
- `stream.pose.mediapipe_pose`: `MediaPipePoseEstimator`, one call per frame,
  ``mediapipe_33`` skeletons in our camera-frame convention (needs the ``pose``
  extra: ``pip install -e '.[pose]'``).
- `stream.pose.one_euro`: the One-Euro filter that smooths landmarks over time.

Usage::

    from stream.pose.mediapipe_pose import MediaPipePoseEstimator
    from stream.pose.one_euro import OneEuroConfig
    from stream.pose.provision import resolve_pose_model

    with MediaPipePoseEstimator(resolve_pose_model(), smoothing=OneEuroConfig()) as pose:
        for frame in source:
            people = pose.estimate(frame)   # list[Person], layout "mediapipe_33"

This package does not import mediapipe; only `mediapipe_pose` and the model
build in `provision` do, when used.
"""
