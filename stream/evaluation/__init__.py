"""Measuring the camera path: labelled videos through the real streaming pipeline.

The skeleton-side evaluation (`models.evaluation`, ``stream-eval --dataset utkinect``)
feeds recorded Kinect joints to the model offline. Here a video goes the whole
way a camera's frames go in ``stream-run --video CLIP --fast``: OpenCV decode,
MediaPipe in VIDEO mode, tracking, resampling, windows, the checkpoint's
backend and the online decoder (`stream.run.pipeline.Pipeline` itself, built from
`stream.run.assembly` as ``stream-run`` builds it). It lives on the stream side
because ``models/`` never imports ``stream/``.

- `stream.evaluation.florence`: the Florence 3D Actions clips, their nine
  categories and the one table mapping them onto a checkpoint's vocabulary.
- `stream.evaluation.pose_cache`: MediaPipe's people per clip, cached as a
  skelstream recording keyed by the pose model, the clip and the pose settings,
  so re-evaluating a checkpoint skips the pose step.
- `stream.evaluation.clip_run`: one clip through the pipeline; its labels.
- `stream.evaluation.clip_readings`: a clip's labels and events → its predicted
  class (the "any action", majority-vote and gesture-event readings).
- `stream.evaluation.video_evaluation`: every clip, the metrics, the table.

Command: ``stream-eval --dataset florence-video --root ../shared/data`` (`stream.cli.evaluate`).
"""
