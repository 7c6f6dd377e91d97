"""Skeleton-stream recordings: what the pipeline writes with ``--record PATH`` and replays with
``--skeleton-file PATH --format recording``.

    header = RecordingHeader(layout="mediapipe_33", fps=30.0, labels=("background", "wave"), source="camera 0")
    with RecordingWriter("run.skrec", header) as writer:
        writer.write_frame(frame.index, frame.stamp_ns, [RecordedPerson.from_person(p, id=7, label="wave", score=0.9)])

    header, frames = read_recording("run.skrec")
    for record in frames:            # RecordedFrame(index, stamp_ns, people)
        ...
    frames.skipped                   # {"truncated_record": 1} if the writer was killed mid-record

Format (version 2), little-endian, readable from any language with a msgpack
library and CRC-32:

- 8 bytes of magic: ``b"SKELREC\\x00"``;
- then records, each ``u32 length`` + ``u32 CRC-32 (zlib) of the payload`` +
  ``payload`` (``length`` bytes of msgpack);
- the first record is the header, a map: ``format`` = "skelstream-recording",
  ``version`` (int), ``layout`` (the people's layout name), ``fps`` (the
  stream's nominal rate), ``labels`` (class names, may be empty), ``created``
  (ISO-8601 UTC), ``source`` (what was recorded), ``meta`` (a free map);
- every other record is one frame, a map: ``frame`` (the source's frame index),
  ``stamp_ns`` (its capture time, monotonic ns), ``people`` (a list of maps:
  ``id`` (track or source id, or nil), ``joints`` (bin: float32 values, row-major),
  ``shape`` ([V, C]), ``confidence`` (bin: V float32), and where known ``layout``
  (when not the header's), ``image_points`` (bin: V x 2 float32), ``label`` and
  ``score`` (the predicted action and its probability), ``truth`` (the
  ground-truth label));
- the last record of a complete recording is the end record, a map:
  ``end`` = true, ``frames`` (how many frame records precede it). Version 1
  files have none.

Why this shape: a record is written whole and reaches the operating system per
frame, so a killed process leaves a file readable up to its last complete
record (a write that fails — disk full, file size limit — is cut back to the
last complete record and ends the recording with `PublisherError`); the length
and CRC tell a torn last record (reported, counted in ``skipped``, never a
crash) from corruption inside the file (`DataFormatError` naming the file, the
record and its byte offset); the end record tells a complete recording from
one that was cut (the reader's ``complete`` and ``cut_note``: "incomplete: cut
after frame N"). A new recording is written under a temporary name beside its
target and renamed into place when closed (`foundation.output_files`): a killed run
leaves ``run.partial-<random>.skrec``, a readable, cut recording, and never
touches an existing ``run.skrec``. Appending (`RecordingWriter(...,
append=True)`) writes in place: it checks that the header matches, cuts a torn
tail and the end record first, and writes a new end record on close.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgpack
import numpy as np

from foundation.errors import DataFormatError
from foundation.errors import PublisherError
from foundation.output_files import OutputError, StagedOutput
from models.skeleton.layouts import LAYOUTS, Layout
from stream.types import Person

logger = logging.getLogger(__name__)

MAGIC = b"SKELREC\x00"
FORMAT_NAME = "skelstream-recording"
FORMAT_VERSION = 2  # 2: an end record marks a complete recording
MAX_RECORD_BYTES = 64 << 20  # a longer length field is corruption, not a record
_PREFIX = struct.Struct("<II")  # payload length, CRC-32 of the payload


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingHeader:
    """What a recording holds.

    Attributes:
        layout: layout name of the recorded people (a person may override it).
        fps: nominal frame rate of the recorded stream.
        labels: class names of the detector that labelled it ("background" first), or empty.
        source: what was recorded, e.g. "camera 0" or "video exercise.avi".
        created: ISO-8601 UTC time of writing (the writer fills it in when empty).
        meta: any other msgpack-able facts (checkpoint name, settings).
        version: format version the file was written with.
    """

    layout: str
    fps: float
    labels: tuple[str, ...] = ()
    source: str = ""
    created: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.layout, str) or self.layout not in LAYOUTS:
            raise ValueError(f"RecordingHeader.layout must be a layout name ({', '.join(sorted(LAYOUTS))}), "
                             f"got {self.layout!r}")  # fmt: skip
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)) or not math.isfinite(self.fps) \
                or self.fps <= 0:  # fmt: skip
            raise ValueError(f"RecordingHeader.fps must be a positive number, got {self.fps!r}")
        object.__setattr__(self, "fps", float(self.fps))
        if isinstance(self.labels, str) or not all(isinstance(label, str) for label in self.labels):
            raise ValueError(f"RecordingHeader.labels must be a sequence of names, got {self.labels!r}")
        object.__setattr__(self, "labels", tuple(self.labels))
        if not isinstance(self.meta, dict):
            raise ValueError(f"RecordingHeader.meta must be a dict, got {type(self.meta).__name__}")

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_NAME, "version": self.version, "layout": self.layout, "fps": self.fps,
                "labels": list(self.labels), "created": self.created, "source": self.source,
                "meta": self.meta}  # fmt: skip


@dataclass
class RecordedPerson:
    """One person of one recorded frame.

    Attributes:
        id: track id (or the source's id) of the person, or None.
        joints: (V, C) float32 positions.
        confidence: (V,) float32; 0 marks a missing joint.
        layout: the layout when it is not the header's, else None.
        label, score: the predicted action and its probability, where known.
        truth: the ground-truth label, where known.
        image_points: (V, 2) pixel coordinates, where known.
    """

    id: int | None
    joints: np.ndarray
    confidence: np.ndarray
    layout: str | None = None
    label: str | None = None
    score: float | None = None
    truth: str | None = None
    image_points: np.ndarray | None = None

    @classmethod
    def from_person(cls, person: Person, id: int | None = None, label: str | None = None,
                    score: float | None = None) -> RecordedPerson:  # fmt: skip
        """A `Person` as recorded; ``id`` defaults to its ``source_id``."""
        return cls(id=person.source_id if id is None else id, joints=person.joints, confidence=person.confidence,
                   layout=person.layout, label=label, score=score, truth=person.truth,
                   image_points=person.image_points)  # fmt: skip

    def to_person(self, default_layout: str) -> Person:
        """The `Person` a replay delivers (``source_id`` = the recorded id)."""
        return Person(joints=self.joints, confidence=self.confidence, layout=self.layout or default_layout,
                      image_points=self.image_points, source_id=self.id, truth=self.truth)  # fmt: skip


@dataclass
class RecordedFrame:
    """One recorded frame: the source's frame index, its capture time, the people in it."""

    index: int
    stamp_ns: int
    people: list[RecordedPerson]


# --- writing ------------------------------------------------------------------------------------


def _float32_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _encode_person(person: RecordedPerson | Person, header_layout: str) -> dict[str, Any]:
    if isinstance(person, Person):
        person = RecordedPerson.from_person(person)
    joints = np.asarray(person.joints)
    confidence = np.asarray(person.confidence)
    if joints.ndim != 2:
        raise ValueError(f"recorded joints must be (V, C), got shape {joints.shape}")
    if confidence.shape != joints.shape[:1]:
        raise ValueError(f"recorded confidence must be ({joints.shape[0]},), got shape {confidence.shape}")
    layout = LAYOUTS.get(person.layout or header_layout)
    if layout is None:
        raise ValueError(f"recorded layout must be one of {', '.join(sorted(LAYOUTS))}, got {person.layout!r}")
    if joints.shape[0] != layout.num_joints or joints.shape[1] not in (2, 3):
        raise ValueError(f"recorded joints of layout {layout.name} must be ({layout.num_joints}, 2 or 3), "
                         f"got shape {joints.shape}")  # fmt: skip
    record: dict[str, Any] = {
        "id": None if person.id is None else int(person.id),
        "joints": _float32_bytes(joints),
        "shape": list(joints.shape),
        "confidence": _float32_bytes(confidence),
    }
    if person.layout is not None and person.layout != header_layout:
        record["layout"] = person.layout
    if person.image_points is not None:
        points = np.asarray(person.image_points)
        if points.shape != (joints.shape[0], 2):
            raise ValueError(f"recorded image_points must be ({joints.shape[0]}, 2), got shape {points.shape}")
        record["image_points"] = _float32_bytes(points)
    if person.label is not None:
        record["label"] = str(person.label)
    if person.score is not None:
        record["score"] = float(person.score)
    if person.truth is not None:
        record["truth"] = str(person.truth)
    return record


def _pack_record(value: dict[str, Any]) -> bytes:
    payload = msgpack.packb(value, use_bin_type=True)
    return _PREFIX.pack(len(payload), zlib.crc32(payload)) + payload


class RecordingWriter:
    """Writes a recording one frame at a time; each record reaches the operating system as it is written.

    A new recording goes to a temporary file beside ``path`` (`foundation.output_files.StagedOutput`; a named
    pipe or a device is written in place) and `close` writes the end record, fsyncs it and renames it to
    ``path``; `discard` drops it instead. The output is checked at construction (a parent that is a file, a
    read-only folder, a path that is a folder, a full disk raise `PublisherError` at once, not at exit;
    missing folders are created). A write that fails later cuts the file back to its last complete record,
    renames it into place without an end record (it is cut: replay says so) and raises `PublisherError`.
    ``append=True`` continues an existing recording, in place, whose header has the same layout, fps and
    labels (a torn last record and the end record are cut first); a missing or empty file is simply created.
    """

    def __init__(self, path: str | Path, header: RecordingHeader, append: bool = False) -> None:
        if not isinstance(header, RecordingHeader):
            raise TypeError(f"RecordingWriter needs a RecordingHeader, got {type(header).__name__}")
        self.path = Path(path)
        self.frames_written = 0
        if self.path.is_dir():
            raise PublisherError(f"cannot record to {self.path}: it is a folder")
        self.header = dataclasses.replace(
            header, version=FORMAT_VERSION,
            created=header.created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))  # fmt: skip
        existing = append and self.path.is_file() and self.path.stat().st_size > 0
        self._staged: StagedOutput | None = None
        self._frames_before = 0  # frame records already in an appended file
        self._end_record = True  # version 1 files (appended to) get none
        good_end = self._check_existing() if existing else 0
        self._file: IO[bytes] | None = None
        try:
            if not existing:
                self._staged = StagedOutput(self.path)
            target = self._staged.path if self._staged is not None else self.path
            self._file = open(target, "r+b" if existing else "wb", buffering=0)  # each write reaches the OS
            if existing:
                self._file.truncate(good_end)
                self._file.seek(good_end)
                self._good_end = good_end
            else:
                self._good_end = 0
                self._write(MAGIC + _pack_record(self.header.to_dict()))
        except OutputError as error:
            raise PublisherError(str(error)) from None
        except OSError as error:
            self.discard()
            raise PublisherError(f"cannot record to {self.path}: {error.strerror or error}") from None

    @property
    def writing_to(self) -> Path:
        """The file written until `close` (a temporary name beside ``path``, or ``path`` itself)."""
        return self._staged.path if self._staged is not None else self.path

    def _write(self, data: bytes) -> None:
        """Write all of ``data`` (a raw write may be partial) and advance the last complete offset."""
        assert self._file is not None
        view = memoryview(data)
        while view:
            view = view[self._file.write(view) :]
        self._good_end += len(data)

    def _check_existing(self) -> int:
        """Check the existing file's header against ours; the byte offset after its last complete frame."""
        try:
            found, reader = read_recording(self.path)
            with reader:
                for _ in reader:
                    pass
        except DataFormatError as error:
            raise PublisherError(f"cannot append to {self.path}: {error}") from None
        ours, theirs = self.header, found
        for name in ("layout", "fps", "labels"):
            if getattr(ours, name) != getattr(theirs, name):
                raise PublisherError(f"cannot append to {self.path}: its {name} is {getattr(theirs, name)!r}, "
                                     f"this stream's is {getattr(ours, name)!r}")  # fmt: skip
        if reader.skipped:
            logger.warning("%s: cutting a torn last record before appending", self.path)
        self._frames_before = reader.frames_read
        self._end_record = theirs.version >= 2
        return reader.good_end

    def write_frame(self, index: int, stamp_ns: int, people: Iterable[RecordedPerson | Person]) -> None:
        """Append one frame (people as `RecordedPerson`, or `Person` with its source id) and flush it."""
        if self._file is None:
            raise RuntimeError(f"recording {self.path} is closed")
        record = {"frame": int(index), "stamp_ns": int(stamp_ns),
                  "people": [_encode_person(person, self.header.layout) for person in people]}  # fmt: skip
        try:
            self._write(_pack_record(record))
        except OSError as error:
            self._cut_and_close()
            raise PublisherError(f"cannot write recording {self.path} after {self.frames_written} frames: "
                                 f"{error.strerror or error}; the frames before are kept") from None  # fmt: skip
        self.frames_written += 1

    def _cut_and_close(self) -> None:
        """After a failed write: drop the torn record (shrinking a file works on a full disk too), close and
        rename the file into place without an end record: the frames before are kept, marked as cut."""
        try:
            os.ftruncate(self._file.fileno(), self._good_end)  # type: ignore[union-attr]
        except OSError as error:
            logger.warning("%s: could not cut a torn last record (%s); readers will skip it", self.path, error)
        self._close_file()
        self._commit()

    def _close_file(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def _commit(self) -> None:
        if self._staged is not None:
            try:
                self._staged.commit()
            except OutputError as error:
                raise PublisherError(str(error)) from None

    def close(self) -> None:
        """Write the end record, close the file and move it into place; safe to call twice.

        Raises `PublisherError` when the end record or the rename fails (the frames stay, marked as cut).
        """
        if self._file is None:
            return
        failure = None
        if self._end_record:
            try:
                self._write(_pack_record({"end": True, "frames": self._frames_before + self.frames_written}))
            except OSError as error:
                os.ftruncate(self._file.fileno(), self._good_end)
                failure = (f"cannot finish recording {self.path} after {self.frames_written} frames: "
                           f"{error.strerror or error}; the frames are kept, without an end record")  # fmt: skip
        self._close_file()
        self._commit()
        if failure:
            raise PublisherError(failure)

    def discard(self) -> None:
        """Close and drop a new recording (an existing file at ``path`` stays as it was); safe to call twice."""
        self._close_file()
        if self._staged is not None:
            self._staged.discard()

    @property
    def closed(self) -> bool:
        return self._file is None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reading ------------------------------------------------------------------------------------


class _Torn(Exception):
    """The last record of the file is incomplete."""


class _Counted:
    """A binary file read front to back, counting its own position (a named pipe cannot ``tell``)."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.position = 0

    def read(self, size: int) -> bytes:
        data = self.file.read(size)
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.file.close()


def _read_payload(file: _Counted, path: Path, what: str, size: int) -> bytes | None:
    """The next record's payload; None at a clean end of file; `_Torn` for an incomplete last record."""
    offset = file.tell()
    prefix = file.read(_PREFIX.size)
    if not prefix:
        return None
    if len(prefix) < _PREFIX.size:
        raise _Torn(f"{what} at byte {offset}: {len(prefix)} bytes of its 8-byte length prefix")
    length, crc = _PREFIX.unpack(prefix)
    if length > MAX_RECORD_BYTES:
        raise DataFormatError(path, f"{what} at byte {offset}: length {length} is not plausible (corrupt file)")
    payload = file.read(length)
    if len(payload) < length:
        raise _Torn(f"{what} at byte {offset}: {len(payload)} of its {length} bytes")
    if zlib.crc32(payload) != crc:
        if offset + _PREFIX.size + length == size:  # a last record that did not reach the disk whole
            raise _Torn(f"{what} at byte {offset}: checksum mismatch in the last record")
        raise DataFormatError(path, f"{what} at byte {offset}: checksum mismatch (corrupt file)")
    return payload


def _unpack(payload: bytes, path: Path, what: str) -> dict[str, Any]:
    try:
        value = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException, TypeError) as error:
        raise DataFormatError(path, f"{what}: not a msgpack value ({error})") from None
    if not isinstance(value, dict):
        raise DataFormatError(path, f"{what}: expected a map, got {type(value).__name__}")
    return value


def _parse_header(value: dict[str, Any], path: Path) -> RecordingHeader:
    if value.get("format") != FORMAT_NAME:
        raise DataFormatError(path, f"header: format is {value.get('format')!r}, expected {FORMAT_NAME!r}")
    version = value.get("version")
    if not isinstance(version, int) or version < 1:
        raise DataFormatError(path, f"header: version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise DataFormatError(path, f"header: format version {version} is newer than this reader "
                                    f"(version {FORMAT_VERSION}); update skelstream")  # fmt: skip
    labels = value.get("labels", [])
    if not isinstance(labels, list):
        raise DataFormatError(path, f"header: labels must be a list of names, got {labels!r}")
    _check_layout(value.get("layout"), path, "header")
    try:
        return RecordingHeader(layout=value.get("layout"), fps=value.get("fps"), labels=tuple(labels),
                               source=str(value.get("source", "")), created=str(value.get("created", "")),
                               meta=value.get("meta", {}), version=version)  # fmt: skip
    except (TypeError, ValueError) as error:
        raise DataFormatError(path, f"header: {error}") from None


def _check_layout(name: Any, path: Path, what: str) -> Layout:
    if not isinstance(name, str) or name not in LAYOUTS:
        raise DataFormatError(path, f"{what}: layout must be one of {', '.join(sorted(LAYOUTS))}, got {_short(name)}")
    return LAYOUTS[name]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _float_array(value: Any, count: int, path: Path, what: str, name: str) -> np.ndarray:
    if not isinstance(value, bytes) or len(value) != 4 * count:
        size = len(value) if isinstance(value, bytes) else type(value).__name__
        raise DataFormatError(path, f"{what}: {name} must be {4 * count} bytes of float32, got {size}")
    return np.frombuffer(value, dtype="<f4").astype(np.float32)


def _parse_frame(value: dict[str, Any], path: Path, what: str, header_layout: str) -> RecordedFrame:
    index, stamp, people = value.get("frame"), value.get("stamp_ns"), value.get("people")
    if not isinstance(index, int) or not isinstance(stamp, int) or not isinstance(people, list):
        raise DataFormatError(path, f"{what}: a frame needs integer 'frame' and 'stamp_ns' and a 'people' list, "
                                    f"got keys {sorted(map(str, value))}")  # fmt: skip
    parsed = []
    for k, person in enumerate(people):
        where = f"{what}, person {k}"
        if not isinstance(person, dict):
            raise DataFormatError(path, f"{where}: expected a map, got {type(person).__name__}")
        shape = person.get("shape")
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(s, int) and s > 0 for s in shape)):
            raise DataFormatError(path, f"{where}: shape must be [V, C] positive integers, got {shape!r}")
        v, c = shape
        own = person.get("layout")
        layout = _check_layout(header_layout if own is None else own, path, where)
        if v != layout.num_joints or c not in (2, 3):
            raise DataFormatError(path, f"{where}: shape {shape} does not fit layout {layout.name} "
                                        f"([{layout.num_joints}, 2 or 3])")  # fmt: skip
        joints = _float_array(person.get("joints"), v * c, path, where, "joints").reshape(v, c)
        confidence = _float_array(person.get("confidence"), v, path, where, "confidence")
        points = person.get("image_points")
        image_points = None
        if points is not None:
            image_points = _float_array(points, 2 * v, path, where, "image_points").reshape(v, 2)
        pid, score = person.get("id"), person.get("score")
        if pid is not None and not isinstance(pid, int):
            raise DataFormatError(path, f"{where}: id must be an integer or nil, got {pid!r}")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise DataFormatError(path, f"{where}: score must be a number or nil, got {score!r}")
        texts = {}
        for name in ("layout", "label", "truth"):
            text = person.get(name)
            if text is not None and not isinstance(text, str):
                raise DataFormatError(path, f"{where}: {name} must be a string or nil, got {text!r}")
            texts[name] = text
        parsed.append(RecordedPerson(id=pid, joints=joints, confidence=confidence, image_points=image_points,
                                     score=None if score is None else float(score), **texts))  # fmt: skip
    return RecordedFrame(index=index, stamp_ns=stamp, people=parsed)


class RecordingReader(Iterator[RecordedFrame]):
    """The frames of a recording, read lazily; ``skipped`` counts a torn last record.

    Once read to its end, ``complete`` is True when the end record was found, False when the file stops
    before it (the writer was killed, or its disk filled: `cut_note` says where), None for a version 1 file
    (which has no end record) or one not yet read to its end.
    """

    def __init__(self, path: Path, file: _Counted, header: RecordingHeader, size: int) -> None:
        self.path = path
        self.header = header
        self.skipped: dict[str, int] = {}
        self.frames_read = 0
        self.last_frame: int | None = None  # index of the last frame read
        self.complete: bool | None = None
        self.good_end = file.tell()  # byte offset after the last complete frame record read
        self._file: _Counted | None = file
        self._size = size

    @property
    def cut_note(self) -> str | None:
        """"incomplete: cut after frame N" for a recording read to its end without its end record, else None."""
        if self.complete is not False:
            return None
        where = "before its first frame" if self.last_frame is None else f"after frame {self.last_frame}"
        return f"incomplete: cut {where} (no end record: its writer was killed or could not finish)"

    def __iter__(self) -> RecordingReader:
        return self

    def __next__(self) -> RecordedFrame:
        if self._file is None:
            raise StopIteration
        what = f"record {self.frames_read + 1}"
        try:
            payload = _read_payload(self._file, self.path, what, self._size)
        except _Torn as torn:
            self.skipped["truncated_record"] = self.skipped.get("truncated_record", 0) + 1
            logger.warning("%s: skipped a truncated last record (%s); the writer was probably interrupted",
                           self.path, torn)  # fmt: skip
            payload = None
        except BaseException:
            self.close()
            raise
        try:
            value = None if payload is None else _unpack(payload, self.path, what)
            if value is None or "end" in value:
                self._finish(value, what)
                raise StopIteration
            frame = _parse_frame(value, self.path, what, self.header.layout)
        except BaseException:
            self.close()
            raise
        self.frames_read += 1
        self.last_frame = frame.index
        self.good_end = self._file.tell()
        return frame

    def _finish(self, end: dict[str, Any] | None, what: str) -> None:
        """The file ended (``end`` None) or its end record ``end`` was read: check it and set ``complete``."""
        if end is None:
            self.complete = None if self.header.version < 2 else False
            if self.complete is False:
                logger.warning("%s: %s", self.path, self.cut_note)
            return
        frames = end.get("frames")
        if end.get("end") is not True or isinstance(frames, bool) or not isinstance(frames, int):
            raise DataFormatError(self.path, f"{what}: an end record needs end = true and an integer frames count, "
                                             f"got {_short(end)}")  # fmt: skip
        if frames != self.frames_read:
            raise DataFormatError(self.path, f"{what}: the end record counts {frames} frames, the file holds "
                                             f"{self.frames_read} (corrupt file)")  # fmt: skip
        assert self._file is not None
        offset = self._file.tell()
        if self._file.read(1):
            raise DataFormatError(self.path, f"data after the end record at byte {offset} (corrupt file)")
        self.complete = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_recording(path: str | Path) -> tuple[RecordingHeader, RecordingReader]:
    """The header (read now) and an iterator over the frames (read lazily) of a recording.

    Raises `DataFormatError` naming the file for a file that is not a
    recording, a corrupt or truncated header, and (while iterating) a corrupt
    record; a truncated last record is skipped, logged and counted in the
    reader's ``skipped``. OSError (e.g. a missing file) passes through.
    """
    path = Path(path)
    file = _Counted(open(path, "rb"))
    try:
        size = os.fstat(file.file.fileno()).st_size  # 0 for a named pipe
        magic = file.read(len(MAGIC))
        if magic != MAGIC:
            what = "an empty file" if not magic else f"starts with {magic!r}"
            raise DataFormatError(path, f"not a skelstream recording ({what}; expected {MAGIC!r})")
        try:
            payload = _read_payload(file, path, "header", size)
        except _Torn as torn:
            raise DataFormatError(path, f"truncated header ({torn})") from None
        if payload is None:
            raise DataFormatError(path, "no header after the magic bytes (truncated file)")
        header = _parse_header(_unpack(payload, path, "header"), path)
    except BaseException:
        file.close()
        raise
    return header, RecordingReader(path, file, header, size)
