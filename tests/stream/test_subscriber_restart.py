"""A subscriber process killed mid-run and a new one started: the publisher never notices, the new one gets every
label from then on. Real `stream-run`, real `stream-listen` processes, real ZeroMQ over loopback."""

import json
import signal
import subprocess
import sys

from tests.stream.conftest import free_endpoint
from tests.stream.test_zmq import read_lines, stop


def listen(endpoint):
    return subprocess.Popen([sys.executable, "-m", "stream.cli.listen", "--zmq", endpoint, "--topics", "actions",
                             "--json-out"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def frames_by_track(lines):
    tracks = {}
    for message in map(json.loads, lines):
        tracks.setdefault(message["track"], []).append(message["frame"])
    return tracks


def contiguous(frames, step=2):
    """Each frame once, in order, none missing: a 30 fps source at the model's 15 fps labels every 2nd frame."""
    return all(0 < b - a <= step + 1 for a, b in zip(frames, frames[1:]))


def test_a_killed_subscriber_is_replaced_and_the_new_one_gets_every_label_from_then_on(checkpoint, tmp_path):
    endpoint = free_endpoint()
    stats = tmp_path / "s.json"
    first = listen(endpoint)
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.run", "--source", "synthetic", "--people", "2",
                            "--checkpoint", checkpoint, "--zmq", endpoint, "--wait-subscribers", "1",
                            "--stats-json", str(stats)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)  # fmt: skip
    second = None
    try:
        before = read_lines(first, 40, timeout=60)
        first.kill()  # SIGKILL: no goodbye, the connection just breaks
        first.wait(timeout=10)
        second = listen(endpoint)
        after = read_lines(second, 60, timeout=60)
        assert run.poll() is None  # the publisher kept going
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
    finally:
        for proc in (first, second, run):
            if proc is not None and proc.poll() is None:
                proc.kill()
        if second is not None:
            stop(second)
    assert run.returncode == 0, err
    assert "stopped: SIGTERM" in out
    summary = json.loads(stats.read_text())
    assert summary["publisher"]["dropped"] == 0  # a dead subscriber costs the others nothing
    old, new = frames_by_track(before), frames_by_track(after)
    assert len(new) == 2 and all(contiguous(f) for f in (*old.values(), *new.values()))
    for track, frames in new.items():
        assert frames[0] > max(old.get(track, [-1]))  # from then on: nothing replayed, nothing repeated
