"""Recording the stream with its labels: each frame is written once every label it can get is final.

Labels become final some samples after their frame was captured (the decoder's
lookahead and stride), and at a model rate below the source rate some frames
never get one. A frame is written when, for every track in it, its label has
arrived, the track has been labelled past it, or the track has ended; at most
``max_pending`` frames wait, so memory stays bounded whatever happens (ended
tracks are forgotten once no waiting frame holds them).

When the writer fails (disk full, file too large) the recorder closes it: the
file keeps every frame written before, whole; the waiting frames are dropped,
the `PublisherError` is raised once, and later calls do nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from foundation.errors import PublisherError
from stream.recordings.skrec import RecordedPerson, RecordingWriter
from stream.types import FrameLabel, Person, TrackedPerson


@dataclass
class _PendingFrame:
    stamp_ns: int
    people: list[RecordedPerson] = field(default_factory=list)
    tracked: dict[int, RecordedPerson] = field(default_factory=dict)  # track id → its entry in ``people``


class LabelledRecorder:
    """Feeds a `RecordingWriter` frames whose people carry their final labels."""

    def __init__(self, writer: RecordingWriter, max_pending: int = 512) -> None:
        self.writer = writer
        self.max_pending = max_pending
        self._pending: OrderedDict[int, _PendingFrame] = OrderedDict()
        self._labelled_up_to: dict[int, int] = {}
        self._ended: set[int] = set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Frames waiting for their labels."""
        return len(self._pending)

    def add_frame(self, frame: int, stamp_ns: int, people: list[Person], tracked: list[TrackedPerson]) -> None:
        """Queue a frame: every observed person (so a replay sees what the tracker saw), tracked ones with their id.

        ``stamp_ns`` should be the clock the stream was resampled on (media time for
        files and synthetic scenes), so that a replay reproduces the same windows.
        """
        if self._closed:
            return
        track_of = {id(t.person): t.track_id for t in tracked}
        pending = _PendingFrame(stamp_ns)
        for person in people:
            track_id = track_of.get(id(person))
            entry = RecordedPerson.from_person(person, id=track_id)
            if track_id is None:
                entry.id = None  # seen but not (yet) a confirmed track
            else:
                pending.tracked[track_id] = entry
            pending.people.append(entry)
        self._pending[frame] = pending
        self._write_ready()

    def add_labels(self, labels: list[FrameLabel]) -> None:
        if self._closed:
            return
        for label in labels:
            pending = self._pending.get(label.frame)
            if pending is not None and label.track_id in pending.tracked:
                person = pending.tracked[label.track_id]
                person.label, person.score = label.label, label.score
            self._labelled_up_to[label.track_id] = max(self._labelled_up_to.get(label.track_id, -1), label.frame)
        self._write_ready()

    def end_tracks(self, track_ids: list[int]) -> None:
        if self._closed:
            return
        self._ended.update(track_ids)
        self._write_ready()
        held = {track for pending in self._pending.values() for track in pending.tracked}
        for track in self._ended - held:
            self._ended.discard(track)
            self._labelled_up_to.pop(track, None)

    def close(self) -> None:
        """Write every pending frame (labels that never came stay empty) and close the file; safe to call twice."""
        if self._closed:
            return
        while self._pending:
            self._write_first()
        self._closed = True
        self.writer.close()

    def discard(self) -> None:
        """Drop the recording of a run that never started (`RecordingWriter.discard`); safe to call twice."""
        self._closed = True
        self._pending.clear()
        self.writer.discard()

    def _ready(self, frame: int, pending: _PendingFrame) -> bool:
        return all(
            person.label is not None or track in self._ended or self._labelled_up_to.get(track, -1) > frame
            for track, person in pending.tracked.items()
        )

    def _write_ready(self) -> None:
        while self._pending:
            frame, pending = next(iter(self._pending.items()))
            if not (self._ready(frame, pending) or len(self._pending) > self.max_pending):
                return
            self._write_first()

    def _write_first(self) -> None:
        frame, pending = self._pending.popitem(last=False)
        try:
            self.writer.write_frame(frame, pending.stamp_ns, pending.people)
        except PublisherError:
            self._closed = True
            self._pending.clear()
            self.writer.close()
            raise
