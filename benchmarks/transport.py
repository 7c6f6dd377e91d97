"""Publish → receive latency of the message transports on loopback: ZeroMQ and DDS (Cyclone DDS).

- ZeroMQ: the real `stream.publishers.zmq_publisher.ZmqPublisher` (XPUB, msgpack) bound on
  ``tcp://127.0.0.1``, and a plain SUB socket in a second process.
- DDS: a Cyclone DDS DataWriter and, in a second process, a DataReader (reliable, keep-last) of a topic
  whose sample is ``(stamp_ns, payload bytes)``; Cyclone is confined to the loopback interface with unicast
  discovery (no multicast leaves the machine).

Both carry the same real payloads: an ``actions`` message of one frame (≈200 B) and a ``skeletons`` message of
two unified_30 people (≈3 kB), built by `stream.messages` and decoded by `stream.messages.codec.decode` on the
receiving side. Latency is one way: the receiver's ``time.monotonic_ns()`` after decoding minus the stamp taken
just before the message was built and published (CLOCK_MONOTONIC is one clock for every process on Linux), so
encode, transport and decode are all inside it. Messages are paced (``--rate``) so the numbers are latency,
not queueing.

    .venv/bin/python -m benchmarks.transport
    .venv/bin/python -m benchmarks.transport --count 5000 --rate 1000 --transports zmq

DESIGN.md §6 measured round trips (pyzmq ≈0.2 ms, Cyclone DDS Python ≈0.3 ms); these are one-way.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.machine import machine_info
from benchmarks.results_files import write_results


RESULTS = Path(__file__).resolve().parent / "results"
TOPICS = ("actions", "skeletons")
DDS_DOMAIN = 87  # away from ROS 2's default 0
DDS_LOOPBACK = (
    "<CycloneDDS><Domain id='any'><General><Interfaces><NetworkInterface name='lo'/></Interfaces>"
    "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>"
    "<Peers><Peer address='127.0.0.1'/></Peers></Discovery></Domain></CycloneDDS>"
)


def build_message(topic: str, frame: int) -> dict:
    """A realistic message of ``topic`` stamped now (monotonic ns)."""
    from stream.messages.builders import action_message, skeleton_message
    from stream.types import FrameLabel, Person, TrackedPerson

    stamp = time.monotonic_ns()
    if topic == "actions":
        top_k = [("walk", 0.91), ("background", 0.05), ("sitDown", 0.02)]
        label = FrameLabel(track_id=1, frame=frame, stamp_ns=stamp, label="walk", score=0.91, top_k=top_k,
                           latency_ns=45_000_000)  # fmt: skip
        return action_message("bench", label)
    rng = np.random.default_rng(frame)
    people = [TrackedPerson(track, Person(joints=rng.normal(size=(30, 3)), confidence=np.ones(30),
                                          layout="unified_30")) for track in (1, 2)]  # fmt: skip
    return skeleton_message("bench", frame, stamp, people)


def summarize(latencies_ms: list[float], sent: int) -> dict:
    if not latencies_ms:
        return {"received": 0, "sent": sent}
    values = sorted(latencies_ms)

    def q(p: float) -> float:
        return values[min(len(values) - 1, round(p * (len(values) - 1)))]

    return {"received": len(values), "sent": sent, "median_ms": statistics.median(values), "p90_ms": q(0.9),
            "p99_ms": q(0.99), "max_ms": values[-1], "min_ms": values[0]}  # fmt: skip


# --------------------------------------------------------------------------- ZeroMQ


def _zmq_receiver(endpoint: str, expected: int, timeout_s: float, conn) -> None:
    import zmq

    from stream.messages.codec import decode

    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.RCVHWM, 100_000)
    socket.connect(endpoint)
    for topic in TOPICS:
        socket.setsockopt_string(zmq.SUBSCRIBE, topic)
    latencies: dict[str, list[float]] = {t: [] for t in TOPICS}
    deadline = time.monotonic() + timeout_s
    received = 0
    while received < expected and time.monotonic() < deadline:
        if not socket.poll(100):
            continue
        topic, payload = socket.recv_multipart()
        msg = decode(payload, topic.decode())
        latencies[topic.decode()].append((time.monotonic_ns() - msg["stamp_ns"]) / 1e6)
        received += 1
    socket.close(linger=0)
    context.term()
    conn.send(latencies)


def bench_zmq(count: int, rate: float) -> dict:
    from stream.publishers.zmq_publisher import ZmqPublisher

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    with ZmqPublisher("tcp://127.0.0.1:*", stream_name="bench", sndhwm=100_000) as publisher:
        process = ctx.Process(target=_zmq_receiver, args=(publisher.endpoint, count * len(TOPICS),
                                                          count / rate * 2 + 30, child))  # fmt: skip
        process.start()
        for topic in TOPICS:
            if not publisher.wait_for_subscribers(1, topic=topic, timeout_s=30):
                process.terminate()
                raise RuntimeError(f"no ZeroMQ subscriber for {topic!r} within 30 s")
        _paced(count, rate, lambda topic, frame: publisher.publish(topic, build_message(topic, frame)))
        latencies = parent.recv() if parent.poll(count / rate * 2 + 60) else {t: [] for t in TOPICS}
        process.join(timeout=10)
    payload = {t: len(_encoded(t)) for t in TOPICS}
    return {t: {**summarize(latencies[t], count), "payload_bytes": payload[t]} for t in TOPICS}


def _encoded(topic: str) -> bytes:
    from stream.messages.codec import encode

    return encode(build_message(topic, 0))


def _paced(count: int, rate: float, send) -> None:
    """Send ``count`` messages of every topic, one frame every 1/rate s (topics back to back in a frame)."""
    period = 1.0 / rate
    start = time.perf_counter()
    for frame in range(count):
        for topic in TOPICS:
            send(topic, frame)
        wait = start + (frame + 1) * period - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


# --------------------------------------------------------------------------- DDS


def _dds_types():
    """The DDS sample type ``skelstream_bench::Message {int64 stamp_ns; string topic; sequence<octet> payload}``.

    Built with real (not string) annotations: this module uses postponed annotations, which cyclonedds
    would have to resolve in the reader process's ``__mp_main__``.
    """
    global _BENCH_MESSAGE
    if _BENCH_MESSAGE is None:
        from cyclonedds.idl import IdlStruct
        from cyclonedds.idl.types import int64, sequence, uint8

        def body(namespace: dict) -> None:
            namespace["__annotations__"] = {"stamp_ns": int64, "topic": str, "payload": sequence[uint8]}

        kind = types.new_class("BenchMessage", (IdlStruct,), {"typename": "skelstream_bench::Message"}, body)
        _BENCH_MESSAGE = dataclass(kind)
    return _BENCH_MESSAGE


_BENCH_MESSAGE = None


def _dds_qos():
    from cyclonedds.core import Policy, Qos
    from cyclonedds.util import duration

    return Qos(Policy.Reliability.Reliable(duration(seconds=1)), Policy.History.KeepLast(10_000),
               Policy.Durability.Volatile)  # fmt: skip


def _dds_receiver(expected: int, timeout_s: float, conn) -> None:
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.sub import DataReader
    from cyclonedds.topic import Topic
    from cyclonedds.util import duration

    from stream.messages.codec import decode

    message = _dds_types()
    participant = DomainParticipant(DDS_DOMAIN)
    reader = DataReader(participant, Topic(participant, "skelstream_bench", message), qos=_dds_qos())
    conn.send("ready")
    latencies: dict[str, list[float]] = {t: [] for t in TOPICS}
    deadline = time.monotonic() + timeout_s
    received = 0
    while received < expected and time.monotonic() < deadline:
        for sample in reader.take_iter(timeout=duration(milliseconds=100)):
            decode(bytes(sample.payload), sample.topic)
            latencies[sample.topic].append((time.monotonic_ns() - sample.stamp_ns) / 1e6)
            received += 1
            if received >= expected:
                break
    conn.send(latencies)


def bench_dds(count: int, rate: float) -> dict:
    from cyclonedds.domain import DomainParticipant
    from cyclonedds.pub import DataWriter
    from cyclonedds.topic import Topic

    from stream.messages.codec import encode

    message = _dds_types()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_dds_receiver, args=(count * len(TOPICS), count / rate * 2 + 30, child))
    process.start()
    participant = DomainParticipant(DDS_DOMAIN)
    writer = DataWriter(participant, Topic(participant, "skelstream_bench", message), qos=_dds_qos())
    if not parent.poll(30) or parent.recv() != "ready":
        process.terminate()
        raise RuntimeError("the DDS reader process did not start")
    deadline = time.monotonic() + 30
    while not writer.get_matched_subscriptions():
        if time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError("the DDS reader was not discovered within 30 s")
        time.sleep(0.05)
    time.sleep(0.5)  # let the reliable handshake settle

    def send(topic: str, frame: int) -> None:
        msg = build_message(topic, frame)
        writer.write(message(stamp_ns=msg["stamp_ns"], topic=topic, payload=encode(msg)))

    _paced(count, rate, send)
    latencies = parent.recv() if parent.poll(count / rate * 2 + 60) else {t: [] for t in TOPICS}
    process.join(timeout=10)
    return {t: {**summarize(latencies[t], count), "payload_bytes": len(_encoded(t))} for t in TOPICS}


# --------------------------------------------------------------------------- report


def table(results: dict) -> str:
    head = f"{'transport':<10} {'topic':<10} {'bytes':>6} {'recv/sent':>10} {'median ms':>10} {'p90 ms':>8} " \
           f"{'p99 ms':>8} {'max ms':>8}"  # fmt: skip
    lines = [head, "-" * len(head)]
    for transport, topics in results.items():
        for topic, r in topics.items():
            if "median_ms" not in r:
                lines.append(f"{transport:<10} {topic:<10} {r['payload_bytes']:>6} {'0/' + str(r['sent']):>10}  "
                             "no message received")  # fmt: skip
                continue
            counts = f"{r['received']}/{r['sent']}"
            lines.append(f"{transport:<10} {topic:<10} {r['payload_bytes']:>6} {counts:>10} {r['median_ms']:>10.3f} "
                         f"{r['p90_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['max_ms']:>8.3f}")  # fmt: skip
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    names, medians, p99s = [], [], []
    for transport, topics in results.items():
        for topic, r in topics.items():
            if "median_ms" in r:
                names.append(f"{transport} {topic}")
                medians.append(r["median_ms"])
                p99s.append(r["p99_ms"])
    y = np.arange(len(names))
    ax.barh(y - 0.2, medians, height=0.4, label="median")
    ax.barh(y + 0.2, p99s, height=0.4, label="p99")
    ax.set_yticks(y, names)
    ax.set_xlabel("publish → receive, one way (ms)")
    ax.set_title("loopback transport latency (encode + send + receive + decode)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transports", nargs="+", default=["zmq", "dds"], choices=["zmq", "dds"])
    parser.add_argument("--count", type=int, default=2000, help="messages per topic (default 2000)")
    parser.add_argument("--rate", type=float, default=500.0, help="frames per second sent (default 500)")
    parser.add_argument("--json", type=Path, default=RESULTS / "transport.json")
    parser.add_argument("--plot", type=Path, help="the figure (default: the --json path with .png)")
    args = parser.parse_args(argv)
    os.environ["CYCLONEDDS_URI"] = DDS_LOOPBACK  # loopback only; before any participant; the reader inherits it
    load_before = os.getloadavg()
    results = {}
    if "zmq" in args.transports:
        results["zeromq"] = bench_zmq(args.count, args.rate)
    if "dds" in args.transports:
        from foundation.optional import is_available

        if not is_available("cyclonedds"):
            print("skipping DDS: cyclonedds is not installed (pip install skelstream[ros])", file=sys.stderr)
        else:
            results["cyclonedds"] = bench_dds(args.count, args.rate)
    machine = machine_info()
    load = {"before": load_before, "after": os.getloadavg()}
    print(f"{machine['cpu_model']} | {machine['logical_cpus']} CPUs | {args.count} messages per topic at "
          f"{args.rate:.0f} frames/s | load average {load['before'][0]:.2f} before, "
          f"{load['after'][0]:.2f} after")  # fmt: skip
    print(table(results))
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for dist in ("pyzmq", "cyclonedds", "msgpack"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    write_results(args.json, {"machine": machine, "load_average": load, "versions": versions,
                              "settings": {"count": args.count, "rate": args.rate},
                              "results": results}, lambda path: plot(results, path), args.plot)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
