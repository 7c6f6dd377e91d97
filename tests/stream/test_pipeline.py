"""The loop under back-pressure: a slow backend makes capture drop the oldest frames, a stuck subscriber blocks nothing."""

import time

import zmq

from models.synthetic.generator import SyntheticConfig
from stream.backends.torch_backend import TorchBackend
from stream.run.pipeline import Pipeline
from stream.publishers.zmq_publisher import ZmqPublisher
from stream.run.config import RunConfig
from stream.sources import make_source
from stream.sources.synthetic import SyntheticSourceConfig
from tests.stream.conftest import free_endpoint


class SlowBackend(TorchBackend):
    """The real torch backend, deliberately slowed down like an overloaded accelerator."""

    def run(self, windows):
        time.sleep(0.3)
        return super().run(windows)


def _labels_in_order(labels_by_track):
    return all(frames == sorted(set(frames)) for frames in labels_by_track.values())


class Collecting(ZmqPublisher):
    """The real publisher, also keeping what it published so the test can inspect it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frames_by_track = {}

    def publish_label(self, label):
        self.frames_by_track.setdefault(label.track_id, []).append(label.frame)
        return super().publish_label(label)


def test_slow_backend_drops_oldest_frames_and_keeps_labels_ordered(checkpoint):
    config = RunConfig(source="synthetic", people=1, seconds=6.0, checkpoint=checkpoint, stride=2, queue_size=2)
    source = make_source(SyntheticSourceConfig(scene=SyntheticConfig(num_people=1, duration=6.0, seed=1)))
    with source, Collecting(free_endpoint()) as publisher:
        summary = Pipeline(config, source, SlowBackend(checkpoint, threads=1), publisher, status_line=False).run()
    assert summary.source["dropped"] > 0  # the loop fell behind; the camera side dropped the oldest frames
    assert summary.frames + summary.source["dropped"] == summary.source["captured"]
    assert summary.labels > 0 and _labels_in_order(publisher.frames_by_track)


def test_a_subscriber_that_never_reads_does_not_block_the_loop(checkpoint):
    endpoint = free_endpoint()
    context = zmq.Context.instance()
    stuck = context.socket(zmq.SUB)
    stuck.setsockopt(zmq.RCVHWM, 1)
    stuck.setsockopt(zmq.RCVBUF, 4096)  # a tiny kernel buffer: back-pressure reaches the publisher quickly
    stuck.setsockopt(zmq.SUBSCRIBE, b"")
    stuck.connect(endpoint)
    config = RunConfig(source="synthetic", people=4, seconds=20.0, checkpoint=checkpoint, fast=True)
    source = make_source(SyntheticSourceConfig(scene=SyntheticConfig(num_people=4, duration=20.0, seed=2),
                                               fast=True))  # fmt: skip
    try:
        with source, ZmqPublisher(endpoint, sndhwm=5) as publisher:
            assert publisher.wait_for_subscribers(1, timeout_s=5)
            summary = Pipeline(config, source, TorchBackend(checkpoint, threads=1), publisher,
                               status_line=False).run()  # fmt: skip
    finally:
        stuck.close(linger=0)
    assert summary.frames == 600  # every frame of the scene went through
    assert summary.publisher["dropped"] > 0  # the stuck subscriber only cost it messages
