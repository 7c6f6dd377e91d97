"""The ZeroMQ publisher over real tcp loopback, with subscribers in second processes."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq

from foundation.errors import PublisherError
from stream.messages.schema import COMMON_FIELDS, FIELDS, OPTIONAL_FIELDS, TOPICS
from stream.publishers.zmq_publisher import ZmqPublisher, is_loopback_endpoint
from tests.stream.test_messages import gesture_sample, sample


REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL = "tcp://127.0.0.1:*"  # a free port, chosen at bind time

# A subscriber in another process: prints every decoded message as a JSON line, exits after N.
SUBSCRIBER = """
import json, sys, zmq
from stream.messages.codec import decode
from stream.messages.schema import TOPICS
endpoint, count = sys.argv[1], int(sys.argv[2])
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.LINGER, 0)
sub.connect(endpoint)
for topic in TOPICS:
    sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
for _ in range(count):
    if not sub.poll(20000):
        sys.exit("subscriber: nothing for 20 s")
    topic, payload = sub.recv_multipart()
    print(json.dumps({"topic": topic.decode(), "json": payload[:1] == b"{", **decode(payload, topic)}), flush=True)
"""

# A subscriber that subscribes and then never reads, with the smallest queues it can ask for.
SLOW_SUBSCRIBER = """
import sys, time, zmq
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.RCVHWM, 1)
sub.setsockopt(zmq.RCVBUF, 4096)
sub.connect(sys.argv[1])
sub.setsockopt(zmq.SUBSCRIBE, b"skeletons")
print("subscribed", flush=True)
time.sleep(120)
"""


def spawn(code: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-u", "-c", code, *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def read_lines(proc: subprocess.Popen, count: int, timeout: float = 30.0) -> list[str]:
    """``count`` lines of ``proc``'s stdout, failing (not hanging) when they do not come."""
    fd, data = proc.stdout.fileno(), b""  # raw reads: a buffered readline would hide lines from select
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            got = data.count(b"\n")
            pytest.fail(f"got {got} of {count} lines ({'timeout' if not ready else 'process ended'}); "
                        f"stderr: {stop(proc)}")  # fmt: skip
        data += chunk
    return data.decode().splitlines()[:count]


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=10)
    return err.decode(errors="replace")


@pytest.mark.parametrize("as_json", [False, True], ids=["msgpack", "json"])
def test_a_second_process_receives_a_burst_in_order_with_the_schema_fields(as_json):
    burst = 400  # below the high-water mark: nothing may be dropped
    with ZmqPublisher(LOCAL, stream_name="burst", json=as_json) as pub:
        proc = spawn(SUBSCRIBER, pub.endpoint, str(burst))
        try:
            # Slow joiner: the XPUB sees each subscription arrive; only then is the burst sent.
            assert pub.wait_for_subscribers(count=len(TOPICS), timeout_s=20), stop(proc)
            for i in range(burst):
                topic = TOPICS[i % len(TOPICS)]
                assert pub.publish(topic, {**sample(topic), "stream": "burst", "frame": i})
            out, err = proc.communicate(timeout=30)
        finally:
            stop(proc)
        assert proc.returncode == 0, err.decode(errors="replace")
        assert pub.sent == burst and pub.dropped == 0
    messages = [json.loads(line) for line in out.splitlines()]
    assert [m["frame"] for m in messages] == list(range(burst))
    assert [m["topic"] for m in messages] == [TOPICS[i % len(TOPICS)] for i in range(burst)]
    for m in messages:
        assert m["json"] == as_json and m["stream"] == "burst"
        required = set(FIELDS[m["topic"]]) - OPTIONAL_FIELDS.get(m["topic"], frozenset())
        assert set(COMMON_FIELDS) <= set(m) and required <= set(m)
    skeleton = next(m for m in messages if m["topic"] == "skeletons")
    assert skeleton["frame_id"] == "base_link" and len(skeleton["people"][0]["joints"]) == 25


def test_the_documented_subscriber_example_works():
    text = (REPO_ROOT / "docs" / "messages.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- subscriber-example.*?-->\n```python\n(.*?)```", text, flags=re.S).group(1)
    with ZmqPublisher(LOCAL, stream_name="doc") as pub:
        proc = spawn(code.replace("tcp://127.0.0.1:5560", pub.endpoint))
        try:
            assert pub.wait_for_subscribers(count=2, timeout_s=20), stop(proc)
            for frame in range(5):
                pub.publish("actions", {**sample("actions"), "frame": frame})
            pub.publish("status", sample("status"))  # not subscribed: never arrives
            pub.publish("events", {**sample("events"), "kind": "a-later-kind"})  # skipped, as the rules say
            pub.publish("events", sample("events"))
            pub.publish("events", gesture_sample())
            lines = read_lines(proc, 7)
        finally:
            stop(proc)
    assert lines[:5] == [f"track 1 frame {f}: walk 0.91" for f in range(5)]
    assert lines[5:] == ["track 1 start walk at frame 112", "track 1 made gesture duck at frame 130"]


def test_a_subscriber_that_never_reads_does_not_block_publish_and_drops_are_counted():
    total = 100_000
    msg = sample("skeletons")  # ~3 kB: 100k of them overflow any socket buffer
    with ZmqPublisher(LOCAL, sndhwm=10) as pub:
        proc = spawn(SLOW_SUBSCRIBER, pub.endpoint)
        try:
            assert pub.wait_for_subscribers(topic="skeletons", timeout_s=20), stop(proc)
            results = [pub.publish("skeletons", msg) for _ in range(total)]
        finally:
            stop(proc)
        assert len(results) == total  # it returned: publish never waited for the reader
        assert pub.dropped > 0 and pub.dropped == results.count(False)
        assert pub.sent + pub.dropped == total
        assert pub.stats() == {"sent": pub.sent, "dropped": pub.dropped}


def test_without_count_drops_a_slow_subscriber_loses_messages_silently():
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 1)
    try:
        with ZmqPublisher(LOCAL, sndhwm=10, count_drops=False) as pub:
            sub.connect(pub.endpoint)
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            assert pub.wait_for_subscribers(timeout_s=20)
            payload = b"\x80" + bytes(3000)
            for _ in range(30_000):  # ~90 MB at a reader that never reads
                pub.publish_payload("skeletons", payload)
            assert pub.sent == 30_000 and pub.dropped == 0  # plain PUB: ZeroMQ dropped them, uncounted
    finally:
        sub.close(linger=0)
        context.term()


def test_absent_subscribers_cost_nothing():
    with ZmqPublisher(LOCAL) as pub:
        assert not pub.wait_for_subscribers(timeout_s=0.2)
        assert all(pub.publish("actions", sample("actions")) for _ in range(1000))
        assert pub.stats() == {"sent": 1000, "dropped": 0}


def test_the_publisher_tracks_subscriptions_as_subscribers_come_and_go():
    context = zmq.Context()
    try:
        with ZmqPublisher(LOCAL) as pub:
            sub = context.socket(zmq.SUB)
            sub.connect(pub.endpoint)
            sub.setsockopt(zmq.SUBSCRIBE, b"events")
            assert pub.wait_for_subscribers(topic="events", timeout_s=10)
            assert pub.subscriber_count("events") == 1 and pub.subscriber_count("actions") == 0
            assert pub.publish_event(sample_event := _event())
            assert sub.poll(5000) and sub.recv_multipart()[0] == b"events"
            sub.close(linger=0)
            deadline = time.monotonic() + 10
            while pub.subscriber_count() and time.monotonic() < deadline:
                pub.publish_event(sample_event)  # publishing drains the (un)subscription notes
                time.sleep(0.01)
            assert pub.subscriber_count() == 0
    finally:
        context.term()


def _event():
    from stream.types import ActionEvent

    return ActionEvent(track_id=3, kind="end", label="wave", frame=10, stamp_ns=1, score=0.7)


def test_binding_a_port_in_use_raises_publisher_error_naming_it():
    with ZmqPublisher(LOCAL) as first:
        with pytest.raises(PublisherError, match=rf"{re.escape(first.endpoint)}.*address in use"):
            ZmqPublisher(first.endpoint)
        assert first.publish("actions", sample("actions"))  # the first one is unaffected


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5599", "tcp://*:5599", "tcp://192.168.1.20:5599",
                                      "tcp://eth0:5599", "tcp://robot.local:5599", "pgm://eth0;239.1.1.1:5555"])
def test_a_non_loopback_bind_needs_allow_remote(endpoint):
    assert not is_loopback_endpoint(endpoint)
    with pytest.raises(PublisherError, match="pass --allow-remote"):
        ZmqPublisher(endpoint)


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:5560", "tcp://127.0.0.2:1", "tcp://localhost:5560",
                                      "tcp://[::1]:5560", "ipc:///tmp/skelstream", "inproc://skelstream"])
def test_loopback_endpoints(endpoint):
    assert is_loopback_endpoint(endpoint)


def test_bad_endpoints_and_closed_publishers_raise_clear_errors():
    with pytest.raises(PublisherError, match="invalid ZeroMQ endpoint"):
        ZmqPublisher("127.0.0.1:5560")
    with pytest.raises(PublisherError, match="tcp://127.0.0.1:http.*invalid endpoint"):
        ZmqPublisher("tcp://127.0.0.1:http")
    with pytest.raises(ValueError, match="sndhwm"):
        ZmqPublisher(LOCAL, sndhwm=0)
    pub = ZmqPublisher(LOCAL)
    with pytest.raises(ValueError, match="unknown topic"):
        pub.publish("labels", sample("actions"))
    pub.close()
    pub.close()  # twice is fine
    with pytest.raises(PublisherError, match="closed"):
        pub.publish("actions", sample("actions"))
