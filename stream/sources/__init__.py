"""Sources of the streaming runtime (DESIGN §1): each runs a capture thread into a bounded queue.

A source is a config dataclass (validating itself) and an implementation;
`make_source(config)` builds the one a config names, importing its module only
inside its branch (OpenCV itself is imported only when a camera or video opens).

    from stream.sources import make_source
    from stream.sources.video import VideoConfig

    with make_source(VideoConfig("exercise.avi", fast=True)) as source:   # start() ... stop()
        for frame in source:         # read() until the end of the stream
            ...                      # Frame(index, stamp_ns, image | people)
    print(source.frames_captured, source.frames_dropped, source.error)

`read(timeout)` returns None at the end of the stream (``ended`` True,
``error`` set if it failed) or when ``timeout`` passed without a frame
(``ended`` False); `async_read` returns the newest frame, `read_latest` peeks.

Configs (see each module):

- `stream.sources.camera.CameraConfig(device, width=None, height=None, fps=None)`: live, drop-oldest;
- `stream.sources.video.VideoConfig(path, fast=False, loop=False)`;
- `stream.sources.skeleton_file.SkeletonFileConfig(path, format, fast=False, labels=None)`,
  format ntu | pku | utkinect | msr | recording (`stream.recordings.skrec`);
- `stream.sources.synthetic.SyntheticSourceConfig(scene=SyntheticConfig(...), fast=False)`;
- `stream.sources.pushed.PushSourceConfig(name, fps=None, layout=None)`: frames an integration pushes
  (`PushSource.push_image` / `push_people` from its callbacks, `end()`), drop-oldest.

Every config also takes ``queue_size`` (default 4) and
``max_consecutive_failures`` (default 10). Real-time sources drop the oldest
queued frame when the consumer falls behind (``frames_dropped`` counts them);
``fast=True`` file replays block instead and lose nothing. `stream.sources.base`
documents the contract.
"""

from __future__ import annotations

from stream.sources.base import Source, SourceConfig

SOURCE_TYPES = ("camera", "video", "skeleton_file", "synthetic", "push")


def make_source(config: SourceConfig) -> Source:
    """The source a config describes (not started: use it as a context manager, or call start())."""
    kind = getattr(config, "source_type", None)
    if kind == "camera":
        from stream.sources.camera import CameraSource

        return CameraSource(config)  # type: ignore[arg-type]
    if kind == "video":
        from stream.sources.video import VideoSource

        return VideoSource(config)  # type: ignore[arg-type]
    if kind == "skeleton_file":
        from stream.sources.skeleton_file import SkeletonFileSource

        return SkeletonFileSource(config)  # type: ignore[arg-type]
    if kind == "synthetic":
        from stream.sources.synthetic import SyntheticSource

        return SyntheticSource(config)  # type: ignore[arg-type]
    if kind == "push":
        from stream.sources.pushed import PushSource

        return PushSource(config)  # type: ignore[arg-type]
    raise ValueError(f"make_source: unknown source config {type(config).__name__}; "
                     f"known types: {', '.join(SOURCE_TYPES)}")  # fmt: skip
