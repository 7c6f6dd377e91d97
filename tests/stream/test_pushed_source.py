"""PushSource: frames pushed from callbacks — drop-oldest, refusals counted, end() — and a real pipeline fed by it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from models.datasets.ntu import read_ntu_skeleton
from stream.backends.torch_backend import TorchBackend
from stream.run.pipeline import Pipeline
from stream.publishers.base import Publisher
from stream.run.config import RunConfig
from stream.sources import make_source
from stream.sources.pushed import PushSource, PushSourceConfig
from stream.types import Person
from tests.conftest import shared_dataset


def image(value: int) -> np.ndarray:
    return np.full((4, 6, 3), value, np.uint8)


def drain(source: PushSource) -> list:
    frames = []
    while (frame := source.read(timeout=2.0)) is not None:
        frames.append(frame)
    return frames


def test_pushed_frames_come_out_in_order_with_their_stamps_and_the_end_after_the_queue():
    with make_source(PushSourceConfig(name="image topic", queue_size=8)) as source:
        assert isinstance(source, PushSource)
        for k in range(5):
            assert source.push_image(image(k), stamp_ns=1_000 + k)
        assert source.read(timeout=0.1).index == 0 and not source.ended
        source.end()
        assert not source.push_image(image(9), stamp_ns=2_000)  # after end(): refused
        frames = drain(source)
    assert [f.index for f in frames] == [1, 2, 3, 4]  # queued frames outlive end()
    assert [f.stamp_ns for f in frames] == [1_001, 1_002, 1_003, 1_004]
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 3, 4] and frames[0].people is None
    assert source.ended and source.error is None
    assert source.stats()["refused"] == 1 and source.frames_dropped == 0


def test_a_full_queue_drops_the_oldest_and_counts_them():
    with make_source(PushSourceConfig(queue_size=3)) as source:
        for k in range(10):
            assert source.push_people([], stamp_ns=k)  # a push is taken even when the queue is full
        source.end()
        frames = drain(source)
    assert [f.index for f in frames] == [7, 8, 9] and all(f.people == [] for f in frames)
    assert source.frames_dropped == 7 and source.frames_captured == 10
    stats = source.stats()
    assert stats["dropped"] == 7 and stats["delivered"] == 3 and stats["refused"] == 0


def test_pushes_before_start_and_out_of_order_stamps_are_refused_and_counted():
    source = make_source(PushSourceConfig())
    assert not source.push_image(image(0), stamp_ns=5)  # not started
    with source:
        assert source.push_image(image(1), stamp_ns=100)
        assert not source.push_image(image(2), stamp_ns=99)  # earlier than the last accepted frame
        assert source.push_image(image(3), stamp_ns=100)  # the same stamp is not out of order
        before = time.monotonic_ns()
        assert source.push_image(image(4))  # no stamp: the moment of the push, on the monotonic clock
        source.end()
        frames = drain(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 3, 4]
    assert frames[-1].stamp_ns >= before
    assert source.stats()["refused"] == 1 and source.stats()["out_of_order"] == 1


def test_end_with_an_error_is_the_source_error():
    with make_source(PushSourceConfig(name="body markers")) as source:
        source.push_people([], stamp_ns=1)
        source.end("the driver stopped publishing")
        assert len(drain(source)) == 1
    assert source.ended and source.error == "the driver stopped publishing"


def test_pushes_from_several_threads_are_all_delivered_once():
    with make_source(PushSourceConfig(queue_size=1000)) as source:
        def push(offset: int) -> None:
            for k in range(200):
                source.push_image(image((offset + k) % 256))  # stamped at the push, inside the source's lock

        threads = [threading.Thread(target=push, args=(n * 200,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        source.end()
        frames = drain(source)
    assert [f.index for f in frames] == list(range(800))
    assert (np.diff([f.stamp_ns for f in frames]) >= 0).all()
    assert source.stats()["out_of_order"] == 0 and source.frames_dropped == 0


def test_bad_pushes_and_bad_configs_are_clear_errors():
    with make_source(PushSourceConfig(name="image topic")) as source:
        with pytest.raises(ValueError, match=r"image topic: push_image takes a BGR uint8 \(H, W, 3\) image, got uint1"):
            source.push_image(np.zeros((4, 4, 3), np.uint16))
        with pytest.raises(ValueError, match=r"got uint8 \(4, 4\)"):
            source.push_image(np.zeros((4, 4), np.uint8))
        with pytest.raises(TypeError, match="Person objects, got dict"):
            source.push_people([{"joints": []}])
    with pytest.raises(ValueError, match="PushSourceConfig.fps must be None or a positive finite number"):
        PushSourceConfig(fps=0)
    with pytest.raises(ValueError, match="PushSourceConfig.layout must be None or one of"):
        PushSourceConfig(layout="kinect_v3")


class Kept(Publisher):
    """A real in-process publisher: keeps every schema-v1 message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    def publish(self, topic, msg):
        self.messages.append((topic, dict(msg)))
        return True

    def stats(self):
        return {"sent": len(self.messages), "dropped": 0}

    def close(self):
        pass


def test_a_pipeline_runs_on_skeletons_pushed_from_another_thread(checkpoint):
    """What the ROS 2 node does with body markers: a callback thread pushes, the pipeline labels."""
    sequence = read_ntu_skeleton(shared_dataset("ntu_rgbd_skeleton") / "S001C003P008R002A058.skeleton")
    config = RunConfig(source="pushed-skeletons", checkpoint=checkpoint, stride=2, queue_size=64)
    source = make_source(PushSourceConfig(name="body markers", fps=30.0, layout=sequence.layout, queue_size=64))
    publisher = Kept()

    def callbacks() -> None:
        start = time.monotonic_ns()
        for t in range(sequence.num_frames):
            people = [Person(joints=sequence.joints[t, m], confidence=sequence.mask[t, m], layout=sequence.layout,
                             source_id=m) for m in range(2)]  # fmt: skip
            source.push_people(people, stamp_ns=start + round(t * 1e9 / 30))
            time.sleep(0.002)
        source.end()

    with source:
        feeder = threading.Thread(target=callbacks)
        feeder.start()
        summary = Pipeline(config, source, TorchBackend(checkpoint, threads=1), publisher, status_line=False).run()
        feeder.join()
    assert summary.frames == sequence.num_frames and summary.stop_reason == "end of stream"
    topics = [topic for topic, _ in publisher.messages]
    assert topics.count("skeletons") >= sequence.num_frames - 2  # a new track is published from its next frame
    tracks = {msg["track"] for topic, msg in publisher.messages if topic == "actions"}
    assert len(tracks) == 2 and summary.labels > 0  # both people tracked and labelled
    assert topics[-1] == "status"
