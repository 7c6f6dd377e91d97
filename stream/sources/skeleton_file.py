"""Replay of a skeleton recording as a live stream: dataset files and the project's own recordings.

    config = SkeletonFileConfig("../shared/data/utkinect_action3d/joints_s01_e01.txt", "utkinect")
    with make_source(config) as replay:
        for frame in replay:        # frame.people: one Person per present body
            ...

Formats: ``ntu`` (`read_ntu_skeleton`), ``pku`` (`read_pku_mmd`, with the
label file in ``labels`` if given), ``utkinect`` (`read_utkinect`, segments
from ``labels`` or else ``actionLabel.txt`` beside the file), ``msr``
(`read_msr_action3d`), ``msrc12`` (`read_msrc12`, ``.csv`` or ``.csv.xz``,
its action points from ``labels`` or else the ``.tagstream`` beside it),
``recording`` (`stream.recordings.skrec`, read lazily).

A recording may also be a named pipe (``mkfifo``) that another process writes
live: opening waits for the writer, a pause in its writing stalls the stream
(status messages go on), and a writer that dies mid-record ends it after its
last complete frame.

Timing: frame k is released ``(frame_ids[k] - frame_ids[0]) / fps`` seconds
after the first (a recording: its recorded ``stamp_ns`` differences), so the
gaps of UTKinect's skipping frame ids are honoured in real time; ``fast=True``
releases frames as fast as the consumer takes them and loses none.

Each frame holds one `Person` per present body (bodies whose mask is all 0 are
skipped; a frame without any is delivered with an empty list): joints (V, 3),
confidence = the mask, the file's layout, ``source_id`` = the body slot (a
recording: its recorded id), ``truth`` = the label of the segment covering
that frame (the later segment where two overlap, as
`SkeletonSequence.frame_labels`), the clip label for trimmed clips (NTU "A001",
MSR action names), else None. NTU skeletons carry their colour-image pixels as
``image_points``. ``has_truth`` is True when the file has segments or a clip
label (a PKU-MMD file without its label file has none); MSRC-12 marks action
points instead: ``action_point`` = the gesture on the frame of each point,
``has_points`` True when there are any (no per-frame truth). A recording read
to its end without its end record sets ``end_note`` ("incomplete: cut after
frame N").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from foundation.errors import DataFormatError
from foundation.errors import SourceError
from models.skeleton.sequence import SkeletonSequence
from stream.recordings.skrec import RecordingHeader, RecordingReader, read_recording
from stream.sources.base import END_OF_STREAM, Capture, Source, SourceConfig, check_bool, config_error
from stream.types import Person

logger = logging.getLogger(__name__)

FORMATS = ("ntu", "pku", "utkinect", "msr", "msrc12", "recording")


@dataclass
class SkeletonFileConfig(SourceConfig):
    """A skeleton file to replay.

    Attributes:
        path: the file.
        format: one of `FORMATS`.
        fast: release frames as fast as the consumer takes them (lossless) instead of in real time.
        labels: a label file (``pku``: a PKU-MMD label file; ``utkinect``: an
            ``actionLabel.txt``, by default the one beside ``path``); other formats take none.
    """

    source_type: ClassVar[str] = "skeleton_file"

    path: str | Path
    format: str
    fast: bool = False
    labels: str | Path | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.path, (str, Path)) or not str(self.path).strip():
            raise config_error(self, "path", "must be a file path")
        self.path = Path(self.path)
        if self.format not in FORMATS:
            raise config_error(self, "format", f"must be one of {', '.join(FORMATS)}")
        check_bool(self, "fast")
        if self.labels is not None:
            if self.format not in ("pku", "utkinect"):
                raise config_error(self, "labels", f"is only for the pku and utkinect formats, not {self.format}")
            if not isinstance(self.labels, (str, Path)) or not str(self.labels).strip():
                raise config_error(self, "labels", "must be None or a file path")
            self.labels = Path(self.labels)


def read_skeleton_file(path: Path, format: str, labels: Path | None = None) -> SkeletonSequence:
    """The whole sequence of a dataset file (not ``recording``), with its segments where the format has them."""
    if format == "ntu":
        from models.datasets.ntu import read_ntu_skeleton

        return read_ntu_skeleton(path)
    if format == "pku":
        from models.datasets.pku_mmd import read_pku_mmd

        return read_pku_mmd(path, labels)
    if format == "utkinect":
        from models.datasets.utkinect import LABEL_FILE, read_utkinect

        if labels is None and (path.parent / LABEL_FILE).is_file():
            labels = path.parent / LABEL_FILE
        if labels is None:
            logger.warning("%s: no %s beside it; replaying without truth labels", path, LABEL_FILE)
        return read_utkinect(path, labels)
    if format == "msr":
        from models.datasets.msr_action3d import read_msr_action3d

        return read_msr_action3d(path)
    if format == "msrc12":
        from models.datasets.msrc12 import read_msrc12

        stem = path.name.removesuffix(".xz").removesuffix(".csv")
        if labels is None and (path.parent / f"{stem}.tagstream").is_file():
            labels = path.parent / f"{stem}.tagstream"
        if labels is None:
            logger.warning("%s: no %s.tagstream beside it; replaying without action points", path, stem)
        return read_msrc12(path, labels)
    raise ValueError(f"read_skeleton_file reads {', '.join(FORMATS[:-1])}, not {format!r}")


def frame_truth(sequence: SkeletonSequence) -> list[str | None]:
    """The ground-truth label of every frame: its segment's (later wins), else the clip label, else None."""
    if sequence.segments:
        truth: list[str | None] = [None] * sequence.num_frames
        for segment in sequence.segments:
            truth[segment.start : segment.end] = [segment.label] * segment.length
        return truth
    return [sequence.label] * sequence.num_frames


class SkeletonFileSource(Source):
    """Frames of skeletons from a file, paced by its own clock unless ``fast``."""

    def __init__(self, config: SkeletonFileConfig) -> None:
        if not isinstance(config, SkeletonFileConfig):
            raise TypeError(f"SkeletonFileSource needs a SkeletonFileConfig, got {type(config).__name__}")
        super().__init__(config, name=f"{config.format} file {config.path.name}", paced=not config.fast,
                         lossless=config.fast)  # fmt: skip
        self.config: SkeletonFileConfig = config
        self.sequence: SkeletonSequence | None = None  # dataset formats
        self.header: RecordingHeader | None = None  # recordings
        self.layout: str | None = None
        self._frames: Iterator[Capture] | None = None
        self._reader: RecordingReader | None = None

    @property
    def num_frames(self) -> int | None:
        """Frames in the file (None for a recording, read lazily)."""
        return None if self.sequence is None else self.sequence.num_frames

    def _open(self) -> None:
        path = self.config.path
        live = self.config.format == "recording" and path.is_fifo()  # written live by another process
        if not (path.is_file() or live):
            raise SourceError(f"cannot open skeleton file {path}: {'not a file' if path.exists() else 'no such file'}")
        labels = self.config.labels
        if labels is not None and not labels.is_file():
            raise SourceError(f"cannot open label file {labels}: no such file")
        try:
            if self.config.format == "recording":
                self.header, self._reader = read_recording(path)
                self.fps, self.layout = self.header.fps, self.header.layout
                self._frames = self._recording_frames(self._reader, self.header)
            else:
                sequence = read_skeleton_file(path, self.config.format, labels)
                self.sequence, self.fps, self.layout = sequence, sequence.fps, sequence.layout
                self.has_truth = bool(sequence.segments) or sequence.label is not None
                self.has_points = bool(sequence.action_points)
                self._frames = self._sequence_frames(sequence)
        except (DataFormatError, OSError) as error:
            raise SourceError(f"cannot read {self.config.format} skeleton file {path}: {error}") from None
        logger.info("%s: %s layout at %g fps%s", self.name, self.layout, self.fps,
                    f", {self.num_frames} frames" if self.num_frames is not None else "")  # fmt: skip

    @staticmethod
    def _sequence_frames(sequence: SkeletonSequence) -> Iterator[Capture]:
        truth = frame_truth(sequence)
        points: dict[int, str] = {point.frame: point.label for point in sequence.action_points}
        ids = sequence.frame_ids.astype(np.int64)
        color = sequence.projections.get("color")
        present = sequence.mask.any(axis=2)  # (T, M)
        for t in range(sequence.num_frames):
            people = [
                Person(joints=sequence.joints[t, m].copy(), confidence=sequence.mask[t, m].copy(),
                       layout=sequence.layout, image_points=None if color is None else color[t, m].copy(),
                       source_id=m, truth=truth[t], action_point=points.get(t))  # fmt: skip
                for m in range(sequence.num_bodies)
                if present[t, m]
            ]
            yield Capture(people=people, media_ns=round((ids[t] - ids[0]) * 1e9 / sequence.fps))

    def _recording_frames(self, reader: RecordingReader, header: RecordingHeader) -> Iterator[Capture]:
        first: int | None = None
        last = 0
        for record in reader:
            if first is None:
                first = record.stamp_ns
            last = max(last, record.stamp_ns - first)  # never backwards
            yield Capture(people=[p.to_person(header.layout) for p in record.people], media_ns=last)
        self.end_note = reader.cut_note  # "incomplete: cut after frame N" for a recording without its end record

    def _next(self) -> Capture | None:
        assert self._frames is not None
        try:
            return next(self._frames)
        except StopIteration:
            return END_OF_STREAM
        except DataFormatError as error:
            raise SourceError(f"{self.name}: {error}") from None

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
