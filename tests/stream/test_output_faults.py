"""Outputs that fail: a full disk or an unwritable path is a one-line error at start; a recording that hits the
disk's limit mid-run keeps every whole frame and the run goes on; SIGTERM leaves complete, readable files.

Real `stream-run` processes: ``/dev/full`` for a disk that is full from the first byte, ``RLIMIT_FSIZE`` (set in
the child before exec) for one that fills up mid-run — both work without root or a tiny filesystem."""

import json
import resource
import signal
import subprocess
import sys
import time

import pytest

from stream.recordings.skrec import read_recording
from tests.stream.conftest import free_endpoint


def stream_run(*args, timeout=120, **kwargs):
    return subprocess.run([sys.executable, "-m", "stream.cli.run", "--zmq", free_endpoint(), *args],
                          capture_output=True, text=True, timeout=timeout, **kwargs)  # fmt: skip


@pytest.mark.parametrize("flag", ["--record", "--stats-json"])
def test_a_full_disk_is_a_one_line_error_at_start(checkpoint, flag):
    result = stream_run("--checkpoint", checkpoint, "--max-frames", "5", flag, "/dev/full")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "/dev/full" in result.stderr and "No space left on device" in result.stderr


def test_a_recording_that_fills_the_disk_mid_run_keeps_its_whole_frames_and_the_run_goes_on(checkpoint, tmp_path):
    limit = 120_000  # bytes any one file of the process may reach: the recording hits it after some seconds

    def cap_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes get EFBIG

    common = ["--source", "synthetic", "--people", "2", "--seconds", "10", "--fast", "--checkpoint", checkpoint]
    reference = stream_run(*common, "--stats-json", str(tmp_path / "ref.json"))
    assert reference.returncode == 0, reference.stderr
    record, stats = tmp_path / "run.skrec", tmp_path / "s.json"
    result = stream_run(*common, "--record", str(record), "--stats-json", str(stats), preexec_fn=cap_file_size)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "recording stopped: cannot write recording" in result.stderr and "File too large" in result.stderr
    summary, full = json.loads(stats.read_text()), json.loads((tmp_path / "ref.json").read_text())
    assert (summary["frames"], summary["labels"]) == (full["frames"], full["labels"])  # streaming went on
    assert len(summary["errors"]) == 1
    _, reader = read_recording(record)
    frames = list(reader)
    assert 0 < len(frames) < full["frames"] and not reader.skipped  # whole frames only, no torn record
    assert [r.index for r in frames] == list(range(len(frames)))
    assert f"after {len(frames)} frames" in summary["errors"][0]
    assert record.stat().st_size <= limit


def test_sigterm_leaves_a_complete_recording_and_bag_holding_the_same_labels(checkpoint, tmp_path):
    rosbag2 = pytest.importorskip("rosbags.rosbag2", reason="the bag needs pip install skelstream[ros]")
    from stream.ros2.interfaces import typestore
    from stream.ros2.topics import body_id

    record, bag, stats = tmp_path / "run.skrec", tmp_path / "bag", tmp_path / "s.json"
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--people", "2",
                            "--checkpoint", checkpoint, "--zmq", free_endpoint(), "--record", str(record),
                            "--record-bag", str(bag), "--stats-json", str(stats)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.stat().st_size > 60_000 for p in tmp_path.glob("run.partial-*")):
        time.sleep(0.2)  # written under a temporary name until the run ends
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "stopped: SIGTERM" in out
    summary = json.loads(stats.read_text())
    _, reader = read_recording(record)
    recorded = {(body_id(p.id), r.index, p.label) for r in reader for p in r.people if p.label}
    assert not reader.skipped and reader.complete
    store, in_bag = typestore(), set()
    with rosbag2.Reader(bag) as bag_reader:
        actions = [c for c in bag_reader.connections if c.topic == "/skelstream/actions"]
        for connection, _, data in bag_reader.messages(connections=actions):
            message = store.deserialize_cdr(data, connection.msgtype)
            in_bag.add((message.body_id, message.frame, message.label))
    assert len(in_bag) == summary["labels"] > 20 and summary["publisher"]["bag_dropped"] == 0
    assert recorded == in_bag  # the two files agree label for label, up to the last one


def test_a_bag_that_cannot_be_finalised_on_a_full_disk_is_one_line_not_a_traceback(checkpoint, tmp_path):
    pytest.importorskip("rosbags.rosbag2", reason="the bag needs pip install skelstream[ros]")
    limit = 40_000

    def cap_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = stream_run("--source", "synthetic", "--people", "2", "--seconds", "10", "--fast", "--checkpoint",
                        checkpoint, "--record-bag", str(tmp_path / "bag"), "--stats-json", str(tmp_path / "s.json"),
                        preexec_fn=cap_file_size)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "stream-run: cannot finalise the bag" in result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["frames"] == 300  # the run itself went through
    assert summary["publisher"]["bag_dropped"] > 0  # what a chunk that could not be written lost is counted
