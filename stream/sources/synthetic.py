"""Synthetic people as a live stream (`models.synthetic.generator.iter_frames`), for demos and load tests.

    scene = SyntheticConfig(num_people=3, fps=30, seed=1, noise_std=0.01, crossing=True)   # endless
    with make_source(SyntheticSourceConfig(scene)) as source:
        frame = source.read()       # frame.people[i]: unified_30, source_id i, truth = its action or None

The scene is the generator's own `SyntheticConfig` (people, fps, length or
endless, seed, noise, missing joints, crossing, actions); this config only adds
the streaming settings. Real time by default (frame n released n / fps
seconds after the first; a slow consumer makes the queue drop the oldest);
``fast=True`` releases frames as fast as the consumer takes them and loses none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from models.synthetic.generator import LAYOUT, SyntheticConfig, SyntheticFrame, iter_frames
from stream.sources.base import END_OF_STREAM, Capture, Source, SourceConfig, check_bool, config_error
from stream.types import Person


@dataclass
class SyntheticSourceConfig(SourceConfig):
    """A synthetic scene to stream.

    Attributes:
        scene: what to generate (its ``num_frames`` / ``duration``, or neither for an endless stream).
        fast: release frames as fast as the consumer takes them (lossless) instead of at ``scene.fps``.
    """

    source_type: ClassVar[str] = "synthetic"

    scene: SyntheticConfig = field(default_factory=SyntheticConfig)
    fast: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.scene, SyntheticConfig):
            raise config_error(self, "scene", "must be a models.synthetic.generator.SyntheticConfig")
        check_bool(self, "fast")


class SyntheticSource(Source):
    """Frames of synthetic people: one `Person` per body, ``source_id`` = person index, truth = its label."""

    def __init__(self, config: SyntheticSourceConfig) -> None:
        if not isinstance(config, SyntheticSourceConfig):
            raise TypeError(f"SyntheticSource needs a SyntheticSourceConfig, got {type(config).__name__}")
        scene = config.scene
        super().__init__(config, name=f"synthetic seed {scene.seed}", paced=not config.fast, lossless=config.fast)
        self.config: SyntheticSourceConfig = config
        self.fps = float(scene.fps)
        self.has_truth = True  # the scene knows every frame's action
        self._frames: Iterator[SyntheticFrame] | None = None

    def _open(self) -> None:
        self._frames = iter_frames(self.config.scene)

    def _next(self) -> Capture | None:
        assert self._frames is not None
        frame = next(self._frames, None)
        if frame is None:
            return END_OF_STREAM
        people = [
            Person(joints=frame.joints[m], confidence=frame.mask[m], layout=LAYOUT, source_id=m, truth=label)
            for m, label in enumerate(frame.labels)
            if frame.mask[m].any()
        ]
        return Capture(people=people, media_ns=round(frame.index * 1e9 / self.fps))
