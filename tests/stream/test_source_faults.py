"""Sources that misbehave under a running `stream-run`: a live recording that stalls and resumes, one whose
writer dies mid-record, one corrupt in the middle. Real processes, a real named pipe, real ZeroMQ."""

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap

import pytest

from models.synthetic.generator import LAYOUT, SyntheticConfig, iter_frames
from stream.recordings.skrec import MAGIC, RecordingHeader, RecordingWriter, read_recording
from stream.types import Person
from tests.stream.conftest import free_endpoint

FRAMES = 240  # 8 s at 30 fps, two people
STALL_AT = 120
STALL_S = 2.5


def write_scene(path, pause_at=None, pause_s=0):
    """A synthetic two-person recording at 30 fps; its clock stops ``pause_s`` seconds before frame ``pause_at``."""
    scene = SyntheticConfig(num_people=2, num_frames=FRAMES, seed=3, noise_std=0.01)
    with RecordingWriter(path, RecordingHeader(layout=LAYOUT, fps=30.0)) as writer:
        for frame in iter_frames(scene):
            people = [Person(frame.joints[m], frame.mask[m], LAYOUT, source_id=m) for m in range(2)]
            paused = pause_at is not None and frame.index >= pause_at
            writer.write_frame(frame.index, round(frame.index * 1e9 / 30) + (pause_s * 10**9 if paused else 0), people)
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A synthetic two-person recording and the byte offset where each record ends."""
    path = write_scene(tmp_path_factory.mktemp("rec") / "scene.skrec")
    data = path.read_bytes()
    ends, offset = [], len(MAGIC)
    while offset < len(data):
        length, _ = struct.unpack_from("<II", data, offset)
        offset += 8 + length
        ends.append(offset)
    return path, ends  # ends[0]: the header; ends[k]: frame k - 1


# Writes a recording into a named pipe in pieces: bytes [0, a), a pause, [a, b), then exits (or dies).
WRITER = textwrap.dedent("""
    import os, signal, sys, time
    source, fifo, a, pause, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    die = sys.argv[6] == "die"
    data = open(source, "rb").read()
    with open(fifo, "wb", buffering=0) as out:
        out.write(data[:a])
        time.sleep(pause)
        out.write(data[a:b])
        if die:
            os.kill(os.getpid(), signal.SIGKILL)  # the writer dies: no more bytes, ever
""")


def stream_run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "stream.cli.run", "--fast", "--zmq", free_endpoint(), *args],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def labels(path):
    _, reader = read_recording(path)
    return [(r.index, p.id, p.label, round(p.score, 5)) for r in reader for p in r.people if p.label]


def replay_through_a_pipe(tmp_path, checkpoint, source, first, pause, last, die=False, *extra):
    fifo = tmp_path / "live.skrec"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source), str(fifo), str(first), str(pause),
                               str(last), "die" if die else "exit"])  # fmt: skip
    try:
        result = stream_run("--skeleton-file", str(fifo), "--format", "recording", "--checkpoint", checkpoint,
                            "--record", str(tmp_path / "out.skrec"), "--stats-json", str(tmp_path / "s.json"),
                            *extra)  # fmt: skip
    finally:
        writer.wait(timeout=30)
    return result, json.loads((tmp_path / "s.json").read_text()), labels(tmp_path / "out.skrec")


def test_a_stalled_live_source_resumes_with_the_same_labels_and_status_during_the_stall(
    checkpoint, recording, tmp_path
):
    source, ends = recording
    reference = stream_run("--skeleton-file", str(source), "--format", "recording", "--checkpoint", checkpoint,
                           "--record", str(tmp_path / "ref.skrec"))  # fmt: skip
    assert reference.returncode == 0, reference.stderr
    endpoint = free_endpoint()
    listener = subprocess.Popen([sys.executable, "-m", "stream.cli.listen", "--zmq", endpoint, "--topics", "status",
                                 "--json-out", "--timeout", "20"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    result, summary, got = replay_through_a_pipe(tmp_path, checkpoint, source, ends[STALL_AT], STALL_S, ends[-1],
                                                 False, "--zmq", endpoint, "--wait-subscribers", "1")  # fmt: skip
    listener.send_signal(signal.SIGINT)
    out, _ = listener.communicate(timeout=30)
    assert result.returncode == 0, result.stderr
    assert summary["frames"] == FRAMES and summary["stop_reason"] == "end of stream"
    assert got == labels(tmp_path / "ref.skrec") and len(got) > 100  # the stall changed no label
    frames = [json.loads(line)["frame"] for line in out.splitlines()]
    assert frames.count(STALL_AT - 1) >= 2  # heartbeats while nothing came: the last frame seen, repeated


def test_a_writer_that_dies_mid_record_ends_the_stream_after_its_last_whole_frame(checkpoint, recording, tmp_path):
    source, ends = recording
    whole = 150
    cut = tmp_path / "cut.skrec"
    cut.write_bytes(source.read_bytes()[: ends[whole]])  # the same frames, ending cleanly
    reference = stream_run("--skeleton-file", str(cut), "--format", "recording", "--checkpoint", checkpoint,
                           "--record", str(tmp_path / "ref.skrec"))  # fmt: skip
    assert reference.returncode == 0, reference.stderr
    torn = (ends[whole] + ends[whole + 1]) // 2  # half of the next record
    result, summary, got = replay_through_a_pipe(tmp_path, checkpoint, source, torn, 0.0, torn, True)
    assert result.returncode == 0, result.stderr  # an interrupted writer is the end of the stream, not a crash
    assert "skipped a truncated last record" in result.stderr and "Traceback" not in result.stderr
    assert summary["frames"] == whole and got == labels(tmp_path / "ref.skrec")  # pending labels flushed


def test_a_recording_corrupt_in_the_middle_exits_1_with_everything_before_published(
    checkpoint, recording, tmp_path
):
    source, ends = recording
    data = bytearray(source.read_bytes())
    data[ends[100] + 20] ^= 0xFF  # inside frame 100's payload
    broken = tmp_path / "broken.skrec"
    broken.write_bytes(bytes(data))
    result = stream_run("--skeleton-file", str(broken), "--format", "recording", "--checkpoint", checkpoint,
                        "--stats-json", str(tmp_path / "s.json"))  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the source failed" in result.stderr and "record 101" in result.stderr and "checksum" in result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["frames"] == 100 and summary["labels"] > 0


def test_a_clock_that_jumps_ends_the_tracks_instead_of_filling_the_gap(checkpoint, recording, tmp_path):
    """A recording paused for 10 minutes (or a camera that stalls that long): the work after it must not grow with
    the pause (15 fps x 600 s of empty samples per track); tracks end before the gap and restart after it."""
    paused = write_scene(tmp_path / "paused.skrec", pause_at=STALL_AT, pause_s=600)
    runs = {}
    for name, path in (("straight", recording[0]), ("paused", paused)):
        result = stream_run("--skeleton-file", str(path), "--format", "recording", "--checkpoint", checkpoint,
                            "--stats-json", str(tmp_path / f"{name}.json"))  # fmt: skip
        assert result.returncode == 0, result.stderr
        runs[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert "the stream's clock jumped 600.0 s" in result.stderr
    assert runs["paused"]["frames"] == FRAMES
    assert runs["paused"]["windows"] <= runs["straight"]["windows"] + 4  # each track: one last window, one new
    assert runs["paused"]["labels"] >= runs["straight"]["labels"] - 8  # a new track needs 2 frames to be born
