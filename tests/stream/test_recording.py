"""Recordings: exact round trip, survival of a killed writer, clear errors, replay as a source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from foundation.errors import DataFormatError
from foundation.errors import PublisherError, SourceError
from stream.recordings.skrec import MAGIC, RecordedPerson, RecordingHeader, RecordingWriter, read_recording
from stream.sources import make_source
from stream.sources.skeleton_file import SkeletonFileConfig
from stream.types import Person


HEADER = RecordingHeader(layout="unified_30", fps=30.0, labels=("background", "wave", "walk"), source="test",
                         meta={"checkpoint": "dste-small"})  # fmt: skip


def make_frames(count: int, seed: int = 0) -> list[tuple[int, int, list[RecordedPerson]]]:
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(count):
        people = []
        for pid in range(k % 3):  # 0, 1 or 2 people
            shape = (17, 2) if pid == 1 else (30, 3)  # a coco_17 person beside a unified_30 one
            people.append(RecordedPerson(
                id=None if pid == 1 and k % 2 else pid + 7,
                joints=rng.normal(size=shape).astype(np.float32),
                confidence=rng.random(shape[0]).astype(np.float32),
                layout="coco_17" if pid == 1 else None,
                label=["wave", None][pid], score=[0.75, None][pid], truth=["walk", None][pid],
                image_points=rng.random((30, 2)).astype(np.float32) * 640 if pid == 0 else None,
            ))  # fmt: skip
        frames.append((k * 3, 1_000_000_000 + k * 33_333_333, people))
    return frames


def write(path, frames, header=HEADER):
    with RecordingWriter(path, header) as writer:
        for index, stamp, people in frames:
            writer.write_frame(index, stamp, people)
    return writer


def without_end_record(path) -> bytes:
    """The bytes of a recording up to its last frame: what a writer killed before `close` leaves."""
    _, reader = read_recording(path)
    with reader:
        for _ in reader:
            pass
    return path.read_bytes()[: reader.good_end]


def assert_same(read, written):
    assert len(read) == len(written)
    for record, (index, stamp, people) in zip(read, written):
        assert (record.index, record.stamp_ns, len(record.people)) == (index, stamp, len(people))
        for got, want in zip(record.people, people):
            for name in ("id", "layout", "label", "score", "truth"):
                assert getattr(got, name) == getattr(want, name), name
            np.testing.assert_array_equal(got.joints, want.joints)
            np.testing.assert_array_equal(got.confidence, want.confidence)
            if want.image_points is None:
                assert got.image_points is None
            else:
                np.testing.assert_array_equal(got.image_points, want.image_points)


def test_round_trip(tmp_path):
    frames = make_frames(25)
    writer = write(tmp_path / "run.skrec", frames)
    assert writer.frames_written == 25 and writer.closed
    header, reader = read_recording(tmp_path / "run.skrec")
    assert (header.layout, header.fps, header.labels, header.source, header.meta) == (
        "unified_30", 30.0, ("background", "wave", "walk"), "test", {"checkpoint": "dste-small"})
    assert header.created and header.version == 2
    assert_same(list(reader), frames)
    assert reader.skipped == {} and reader.complete is True and reader.cut_note is None


def test_person_objects_are_recorded_with_their_source_id(tmp_path):
    person = Person(joints=np.ones((30, 3), np.float32), confidence=np.ones(30, np.float32), layout="unified_30",
                    source_id=3, truth="wave")  # fmt: skip
    write(tmp_path / "p.skrec", [(0, 5, [person])])
    _, reader = read_recording(tmp_path / "p.skrec")
    (record,) = list(reader)
    (got,) = record.people
    assert (got.id, got.truth, got.layout) == (3, "wave", None)  # the header's layout is not repeated
    assert got.to_person(HEADER.layout).layout == "unified_30"


@pytest.mark.parametrize("cut", [1, 7, 40])  # inside the length prefix, just after it, inside the payload
def test_a_truncated_last_record_is_skipped_and_counted(tmp_path, cut):
    path = tmp_path / "cut.skrec"
    frames = make_frames(6)
    write(path, frames)
    path.write_bytes(without_end_record(path)[:-cut])
    _, reader = read_recording(path)
    assert_same(list(reader), frames[:5])
    assert reader.skipped == {"truncated_record": 1}
    assert reader.complete is False and reader.cut_note.startswith(f"incomplete: cut after frame {frames[4][0]} ")


def test_a_recording_without_its_end_record_is_reported_as_cut(tmp_path):
    path = tmp_path / "cut.skrec"
    frames = make_frames(4)
    write(path, frames)
    complete = path.read_bytes()
    path.write_bytes(without_end_record(path))
    _, reader = read_recording(path)
    assert_same(list(reader), frames)
    assert reader.skipped == {} and reader.complete is False and "cut after frame 9" in reader.cut_note
    path.write_bytes(complete + b"\x00")
    with pytest.raises(DataFormatError, match="data after the end record"):
        list(read_recording(path)[1])


def test_a_killed_writer_leaves_every_flushed_frame_readable_in_its_partial_file(tmp_path):
    path = tmp_path / "killed.skrec"
    script = textwrap.dedent(f"""
        import os, numpy as np
        from stream.recordings.skrec import RecordingHeader, RecordingWriter, RecordedPerson
        writer = RecordingWriter({str(path)!r}, RecordingHeader(layout="unified_30", fps=30.0))
        for k in range(12):
            writer.write_frame(k, k, [RecordedPerson(1, np.full((30, 3), k, np.float32), np.ones(30, np.float32))])
        os._exit(9)  # no close(), no interpreter clean-up
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), capture_output=True, timeout=60)
    assert result.returncode == 9, result.stderr.decode()
    assert not path.exists()  # the target only ever holds a complete recording
    (partial,) = tmp_path.glob("killed.partial-*.skrec")
    _, reader = read_recording(partial)
    records = list(reader)
    assert [r.index for r in records] == list(range(12))
    assert records[-1].people[0].joints[0, 0] == 11
    assert reader.complete is False and reader.cut_note.startswith("incomplete: cut after frame 11 ")


def test_a_new_recording_replaces_an_existing_file_only_when_complete(tmp_path):
    path = tmp_path / "run.skrec"
    path.write_bytes(b"precious")
    writer = RecordingWriter(path, HEADER)
    writer.write_frame(0, 0, [])
    assert path.read_bytes() == b"precious" and writer.writing_to.name.startswith("run.partial-")
    writer.discard()
    assert path.read_bytes() == b"precious" and list(tmp_path.iterdir()) == [path]
    write(path, make_frames(2))
    assert read_recording(path)[0].layout == "unified_30" and list(tmp_path.iterdir()) == [path]


def test_corrupt_header_and_non_recordings_raise_data_format_error(tmp_path):
    path = tmp_path / "bad.skrec"
    write(path, make_frames(3))
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + 8 + 5] ^= 0xFF  # a byte inside the header's payload
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=r"bad.skrec: header at byte 8: checksum mismatch"):
        read_recording(path)
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match="bad.skrec: not a skelstream recording .an empty file"):
        read_recording(path)
    path.write_bytes(b"frame,x,y\n1,2,3\n")
    with pytest.raises(DataFormatError, match="not a skelstream recording"):
        read_recording(path)
    path.write_bytes(MAGIC + b"\x05\x00")
    with pytest.raises(DataFormatError, match="truncated header"):
        read_recording(path)


def test_a_corrupt_record_inside_the_file_raises(tmp_path):
    path = tmp_path / "mid.skrec"
    write(path, make_frames(6))
    _, reader = read_recording(path)
    next(reader)
    second_at = reader.good_end
    reader.close()
    data = bytearray(path.read_bytes())
    data[second_at + 8 + 3] ^= 0x55
    path.write_bytes(bytes(data))
    _, reader = read_recording(path)
    assert next(reader).index == 0
    with pytest.raises(DataFormatError, match=rf"mid.skrec: record 2 at byte {second_at}: checksum mismatch"):
        next(reader)


def test_unwritable_outputs_fail_at_construction_and_missing_folders_are_created(tmp_path):
    write(tmp_path / "new" / "folder" / "run.skrec", make_frames(1))
    assert read_recording(tmp_path / "new" / "folder" / "run.skrec")[0].fps == 30.0
    (tmp_path / "afile").write_text("")
    with pytest.raises(PublisherError, match="afile is a file, not a folder"):
        RecordingWriter(tmp_path / "afile" / "run.skrec", HEADER)
    with pytest.raises(PublisherError, match="it is a folder"):
        RecordingWriter(tmp_path, HEADER)
    with pytest.raises(PublisherError, match="cannot write /proc/run.skrec"):
        RecordingWriter("/proc/run.skrec", HEADER)  # no file can be created there, even by root


def test_a_read_only_directory_fails_at_construction(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.geteuid() != 0:
            with pytest.raises(PublisherError, match=r"cannot write .*run.skrec: Permission denied"):
                RecordingWriter(folder / "run.skrec", HEADER)
            return
        # Root ignores permission bits; a child without CAP_DAC_OVERRIDE does not.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and util-linux setpriv is absent: cannot make a directory read-only")
        script = textwrap.dedent(f"""
            import sys
            from foundation.errors import PublisherError
            from stream.recordings.skrec import RecordingHeader, RecordingWriter
            try:
                RecordingWriter({str(folder / "run.skrec")!r}, RecordingHeader(layout="unified_30", fps=30.0))
            except PublisherError as error:
                print(error)
                sys.exit(0)
            sys.exit(1)
        """)
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--", sys.executable, "-c", script]
        result = subprocess.run(command, cwd=os.getcwd(), capture_output=True, timeout=60)
        if result.returncode != 0 and b"setpriv" in result.stderr:
            pytest.skip(f"setpriv cannot drop capabilities here: {result.stderr.decode()[-200:]}")
        assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
        assert "run.skrec: Permission denied" in result.stdout.decode()
    finally:
        folder.chmod(0o755)


def test_append_continues_a_recording_and_cuts_a_torn_tail(tmp_path):
    path = tmp_path / "a.skrec"
    frames = make_frames(7)
    write(path, frames[:3])
    path.write_bytes(without_end_record(path) + b"\x40\x00\x00\x00\x00\x00")  # a torn record left by a crash
    with RecordingWriter(path, HEADER, append=True) as writer:
        for index, stamp, people in frames[3:]:
            writer.write_frame(index, stamp, people)
    _, reader = read_recording(path)
    assert_same(list(reader), frames)
    assert reader.skipped == {} and reader.complete is True
    other = RecordingHeader(layout="coco_17", fps=30.0, labels=HEADER.labels)
    with pytest.raises(PublisherError, match="its layout is 'unified_30'"):
        RecordingWriter(path, other, append=True)


def test_header_validation():
    with pytest.raises(ValueError, match="RecordingHeader.fps"):
        RecordingHeader(layout="unified_30", fps=0)
    with pytest.raises(ValueError, match="RecordingHeader.layout"):
        RecordingHeader(layout="", fps=30)


# --- replay as a source -----------------------------------------------------------------------------


def test_recording_replays_as_a_skeleton_source(tmp_path):
    path = tmp_path / "replay.skrec"
    frames = make_frames(9)
    write(path, frames)
    with make_source(SkeletonFileConfig(path, "recording", fast=True)) as source:
        delivered = list(source)
    assert source.error is None and source.fps == 30.0 and len(delivered) == 9
    for frame, (_, _, people) in zip(delivered, frames):
        assert [p.source_id for p in frame.people] == [p.id for p in people]
        assert [p.truth for p in frame.people] == [p.truth for p in people]
        assert [p.layout for p in frame.people] == [p.layout or "unified_30" for p in people]


def test_recording_replay_follows_the_recorded_stamps(tmp_path):
    path = tmp_path / "paced.skrec"
    stamps = [0, 50_000_000, 60_000_000, 160_000_000]
    write(path, [(k, 10**12 + s, []) for k, s in enumerate(stamps)])
    with make_source(SkeletonFileConfig(path, "recording", queue_size=8)) as source:
        delivered = [source.read(timeout=5.0) for _ in stamps]
    offsets = np.array([f.stamp_ns - delivered[0].stamp_ns for f in delivered])
    assert (offsets >= np.array(stamps) - 1_000_000).all()
    assert offsets[-1] < 5 * stamps[-1]


def test_a_corrupt_recording_ends_the_source_with_an_error(tmp_path):
    path = tmp_path / "broken.skrec"
    write(path, make_frames(5))
    _, reader = read_recording(path)
    next(reader), next(reader)
    third_at = reader.good_end
    reader.close()
    data = bytearray(path.read_bytes())
    data[third_at + 9] ^= 0x01
    path.write_bytes(bytes(data))
    with make_source(SkeletonFileConfig(path, "recording", fast=True)) as source:
        delivered = list(source)
    assert len(delivered) == 2 and "record 3" in source.error and "checksum mismatch" in source.error
    path.write_bytes(b"not a recording")
    with pytest.raises(SourceError, match="cannot read recording skeleton file .*not a skelstream recording"):
        make_source(SkeletonFileConfig(path, "recording")).start()
