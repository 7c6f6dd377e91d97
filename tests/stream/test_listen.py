"""`stream-listen` as a real process against a real publisher: lines, JSON lines, bad payloads, exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from stream.cli.listen import format_message, main
from stream.publishers.zmq_publisher import ZmqPublisher
from tests.stream.conftest import default_sigint
from tests.stream.test_messages import gesture_sample, sample
from tests.stream.test_zmq import LOCAL, REPO_ROOT, read_lines, stop


def listen(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "stream.cli.listen", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_sigint)  # fmt: skip


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out.decode(), err.decode()


def test_prints_one_line_per_message_and_exits_after_count():
    with ZmqPublisher(LOCAL, stream_name="cam") as pub:
        proc = listen("--zmq", pub.endpoint, "--count", "7")
        try:
            assert pub.wait_for_subscribers(count=2, timeout_s=20), stop(proc)  # actions and events
            for frame in range(118, 123):
                pub.publish("actions", {**sample("actions"), "frame": frame})
            pub.publish("status", sample("status"))  # not subscribed by default
            pub.publish("events", sample("events"))
            pub.publish("events", gesture_sample())
            pub.publish("actions", sample("actions"))  # after --count: never printed
            code, out, err = finish(proc)
        finally:
            stop(proc)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 7
    assert lines[0] == "actions    track 1  frame 118  walk 0.91  (lat 12.3 ms)"
    assert [line.split()[4] for line in lines[:5]] == [str(f) for f in range(118, 123)]
    assert lines[5] == "events     track 1  frame 112  start walk 0.88"
    assert lines[6] == "events     track 1  frame 130  gesture duck 0.93  (466.7 ms after its evidence began)"


def test_json_out_all_topics_and_a_bad_payload_warns_and_goes_on():
    with ZmqPublisher(LOCAL, stream_name="cam", json=True) as pub:
        proc = listen("--zmq", pub.endpoint, "--topics", "all", "--json-out", "--count", "4")
        try:
            assert pub.wait_for_subscribers(count=4, timeout_s=20), stop(proc)
            pub.publish_payload("actions", b"\xc1 garbage")
            pub.publish_payload("events", b'{"v": 1, "stream": "cam"}')
            for topic in ("actions", "events", "skeletons", "status"):
                pub.publish(topic, sample(topic))
            code, out, err = finish(proc)
        finally:
            stop(proc)
    assert code == 0, err
    messages = [json.loads(line) for line in out.splitlines()]
    assert [m["topic"] for m in messages] == ["actions", "events", "skeletons", "status"]
    assert messages[0]["label"] == "walk" and messages[2]["people"][0]["track"] == 7
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(w.startswith("stream-listen: warning: bad") for w in warnings)
    assert "not valid msgpack" in warnings[0] and "missing field 'frame'" in warnings[1]


def test_timeout_exits_1_when_nothing_arrives():
    with ZmqPublisher(LOCAL) as pub:
        proc = listen("--zmq", pub.endpoint, "--timeout", "0.5")
        code, out, err = finish(proc)
    assert code == 1 and out == ""
    assert f"no message on {pub.endpoint}" in err and "for 0.5 s" in err


def test_ctrl_c_exits_0():
    with ZmqPublisher(LOCAL) as pub:
        proc = listen("--zmq", pub.endpoint)
        try:
            assert pub.wait_for_subscribers(count=2, timeout_s=20), stop(proc)
            pub.publish("actions", sample("actions"))
            assert read_lines(proc, 1)[0].startswith("actions")
            proc.send_signal(signal.SIGINT)
            code, _, err = finish(proc)
        finally:
            stop(proc)
    assert code == 0 and "Traceback" not in err


def test_bad_arguments_exit_2(capsys):
    assert main(["--topics", "actions,labels"]) == 2
    assert "unknown topic 'labels'" in capsys.readouterr().err
    assert main(["--count", "0"]) == 2
    assert main(["--zmq", "nowhere"]) == 2
    assert "cannot connect to nowhere" in capsys.readouterr().err


def test_format_message_for_each_topic():
    assert format_message("skeletons", sample("skeletons")) == (
        "skeletons  frame 120  2 people (tracks 7,8)  kinect_v2_25 in base_link")
    assert format_message("status", sample("status")) == (
        "status     frame 120  rates capture 30.0 Hz  drops capture 2 publish 0  p95 ms pose 23.4")
