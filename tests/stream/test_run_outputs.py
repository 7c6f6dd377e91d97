"""`stream-run`'s outputs never destroy data: refused when they would (issue 18, defects 1, 2, 3 and 8), written
under a temporary name and renamed when complete, and what a SIGKILL leaves is readable and says it was cut.

Real `stream-run` processes where the run starts; the refusals happen before anything starts, so `main` runs
in this process for them."""

import json
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from stream.cli.run import main
from stream.recordings.skrec import RecordingHeader, RecordingWriter, read_recording
from stream.types import Person
from tests.stream.conftest import free_endpoint


def stream_run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "stream.cli.run", "--zmq", free_endpoint(), *args],
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def refused(capsys, *args) -> str:
    """Run `main` expecting exit 2 with one line and no traceback; that line."""
    assert main(["--zmq", free_endpoint(), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stream-run: error:") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def small_recording(tmp_path):
    path = tmp_path / "same.skrec"
    rng = np.random.default_rng(0)
    with RecordingWriter(path, RecordingHeader(layout="unified_30", fps=10.0)) as writer:
        for k in range(40):
            person = Person(rng.normal(size=(30, 3)).astype(np.float32), np.ones(30, np.float32), "unified_30",
                            source_id=0)  # fmt: skip
            writer.write_frame(k, k * 100_000_000, [person])
    return path


def test_a_recording_written_over_its_own_input_is_refused(capsys, checkpoint, small_recording):
    before = small_recording.read_bytes()
    err = refused(capsys, "--skeleton-file", str(small_recording), "--format", "recording", "--record",
                  str(small_recording), "--fast", "--checkpoint", checkpoint)  # fmt: skip
    assert "--record" in err and "same file as --skeleton-file" in err
    assert small_recording.read_bytes() == before


def test_a_video_written_over_its_own_input_is_refused(capsys, checkpoint, tmp_path):
    video = tmp_path / "ex.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(5):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    before = video.read_bytes()
    err = refused(capsys, "--video", str(video), "--output", str(tmp_path / "." / "ex.avi"), "--checkpoint",
                  checkpoint)  # fmt: skip
    assert "--output" in err and "same file as --video" in err and video.read_bytes() == before
    assert "same file as --record" in refused(capsys, "--record", str(tmp_path / "o.skrec"), "--stats-json",
                                               str(tmp_path / "o.skrec"), "--checkpoint", checkpoint)  # fmt: skip


@pytest.mark.parametrize("flag", ["--record", "--output", "--stats-json"])
def test_an_existing_output_is_refused_without_overwrite(capsys, checkpoint, tmp_path, flag):
    path = tmp_path / ("out.avi" if flag == "--output" else "out.json")
    path.write_text("keep me")
    err = refused(capsys, "--checkpoint", checkpoint, "--max-frames", "5", flag, str(path))
    assert f"{flag} {path} exists; pass --overwrite" in err and path.read_text() == "keep me"


def test_overwrite_replaces_every_output_once_complete_and_missing_folders_are_created(checkpoint, tmp_path):
    record, video, stats = tmp_path / "r.skrec", tmp_path / "new" / "v.avi", tmp_path / "deep" / "er" / "s.json"
    record.write_text("old")
    result = stream_run("--source", "synthetic", "--seconds", "3", "--fast", "--checkpoint", checkpoint,
                        "--record", str(record), "--output", str(video), "--stats-json", str(stats),
                        "--overwrite")  # fmt: skip
    assert result.returncode == 0, result.stderr
    _, reader = read_recording(record)
    assert len(list(reader)) == 90 and reader.complete is True
    assert json.loads(stats.read_text())["frames"] == 90
    assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) == 90
    assert not list(tmp_path.rglob("*.partial-*"))  # every temporary file renamed into place


@pytest.mark.parametrize("flag", ["--record", "--stats-json", "--output"])
def test_a_parent_that_is_a_file_is_named(capsys, checkpoint, tmp_path, flag):
    (tmp_path / "afile").write_text("")
    err = refused(capsys, "--checkpoint", checkpoint, flag, str(tmp_path / "afile" / "x.avi"))
    assert f"{flag} " in err and "afile is a file, not a folder" in err


def test_an_existing_bag_is_never_replaced(capsys, checkpoint, tmp_path):
    (tmp_path / "bag").mkdir()
    err = refused(capsys, "--checkpoint", checkpoint, "--record-bag", str(tmp_path / "bag"), "--overwrite")
    assert "--record-bag" in err and "never replaced" in err


def test_outputs_of_a_run_that_cannot_start_are_left_as_they_were(capsys, checkpoint, tmp_path):
    pytest.importorskip("rosbags.rosbag2", reason="the bag needs pip install skelstream[ros]")
    record, bag, video = tmp_path / "r.skrec", tmp_path / "bag", tmp_path / "v.avi"
    err = refused(capsys, "--checkpoint", checkpoint, "--camera", "99", "--record", str(record), "--record-bag",
                  str(bag), "--output", str(video))  # fmt: skip
    assert "cannot open camera 99" in err
    assert list(tmp_path.iterdir()) == []  # no empty recording, bag or video left behind
    err = refused(capsys, "--checkpoint", checkpoint, "--record", str(record), "--record-bag", str(bag), "--output",
                  str(video), "--stats-json", "/dev/full")  # fails after the others were opened  # fmt: skip
    assert "/dev/full: No space left on device" in err and list(tmp_path.iterdir()) == []


def test_sigkill_leaves_a_cut_recording_no_stats_and_a_bag_that_repair_makes_readable(checkpoint, tmp_path):
    """Defect 3: after `kill -9`, the recording says it is incomplete, `--stats-json` is not a misleading `{}`,
    and the bag, repaired, holds every label of its complete chunks (the same labels the recording has)."""
    rosbag2 = pytest.importorskip("rosbags.rosbag2", reason="the bag needs pip install skelstream[ros]")
    from stream.ros2.interfaces import typestore
    from stream.ros2.topics import body_id

    record, bag, stats = tmp_path / "run.skrec", tmp_path / "K", tmp_path / "s.json"
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--people", "2",
                            "--checkpoint", checkpoint, "--zmq", free_endpoint(), "--record", str(record),
                            "--record-bag", str(bag), "--stats-json", str(stats)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 90
    partials = []
    while time.monotonic() < deadline:
        partials = list(tmp_path.glob("run.partial-*.skrec"))
        mcap = bag / "K.mcap"
        if partials and partials[0].stat().st_size > 60_000 and mcap.exists() and mcap.stat().st_size > 50_000:
            break
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert partials and not record.exists() and not stats.exists()  # nothing complete-looking, nothing misleading

    _, reader = read_recording(partials[0])
    recorded = {(body_id(p.id), r.index, p.label) for r in reader for p in r.people if p.label}
    assert reader.complete is False and reader.cut_note.startswith(f"incomplete: cut after frame {reader.last_frame}")
    replay = stream_run("--skeleton-file", str(partials[0]), "--format", "recording", "--fast", "--checkpoint",
                        checkpoint)  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    assert f"incomplete: cut after frame {reader.last_frame}" in replay.stderr
    assert f"stopped: end of stream (incomplete: cut after frame {reader.last_frame}" in replay.stdout

    with pytest.raises(FileNotFoundError, match="Expected metadata file"):  # as the issue found it: unreadable
        rosbag2.Reader(bag).open()
    repaired = stream_run("--repair-bag", str(bag))
    assert repaired.returncode == 0 and "repaired bag" in repaired.stdout, repaired.stderr
    store, in_bag = typestore(), set()
    with rosbag2.Reader(bag) as bag_reader:
        actions = [c for c in bag_reader.connections if c.topic == "/skelstream/actions"]
        for connection, _, data in bag_reader.messages(connections=actions):
            message = store.deserialize_cdr(data, connection.msgtype)
            in_bag.add((message.body_id, message.frame, message.label))
    assert len(in_bag) > 20
    for body in {b for b, _, _ in in_bag}:  # up to where both were cut: the same labels, none missing from either
        upto = min(max(f for b, f, _ in in_bag if b == body), max(f for b, f, _ in recorded if b == body))
        assert {x for x in in_bag if x[0] == body and x[1] <= upto} == \
            {x for x in recorded if x[0] == body and x[1] <= upto}  # fmt: skip
    assert "nothing to repair" in stream_run("--repair-bag", str(bag)).stdout
