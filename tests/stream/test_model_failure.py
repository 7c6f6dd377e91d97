"""A backend that fails mid-run: its windows are reported, every frame still gets exactly one label, the run goes on."""

import logging

import numpy as np
import pytest

from models.synthetic.generator import SyntheticConfig
from stream.backends.torch_backend import TorchBackend
from stream.stages.decoding import FAILED_LABEL
from stream.run.pipeline import MAX_MODEL_FAILURES, Pipeline
from stream.publishers.zmq_publisher import ZmqPublisher
from stream.run.config import RunConfig
from stream.sources import make_source
from stream.sources.synthetic import SyntheticSourceConfig
from tests.stream.conftest import free_endpoint


class FailingBackend(TorchBackend):
    """The real torch backend, failing on chosen calls (1-based): raising, or returning NaN for one window."""

    def __init__(self, checkpoint, raise_on=(), nan_on=(), raise_from=None):
        super().__init__(checkpoint, threads=1)
        self.raise_on, self.nan_on, self.raise_from = set(raise_on), set(nan_on), raise_from
        self.calls = 0
        self.batches = {}  # call → windows in it

    def run(self, windows):
        self.calls += 1
        self.batches[self.calls] = len(windows)
        if self.calls in self.raise_on or (self.raise_from is not None and self.calls >= self.raise_from):
            raise RuntimeError(f"injected failure on call {self.calls}")
        logits = super().run(windows)
        if self.calls in self.nan_on:
            logits[0, 3] = np.nan
        return logits


class Collecting(ZmqPublisher):
    """The real publisher, also keeping every label it published."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.labels = []

    def publish_label(self, label):
        self.labels.append(label)
        return super().publish_label(label)


def stream(checkpoint, backend, people=3, seconds=8.0):
    config = RunConfig(source="synthetic", people=people, seconds=seconds, checkpoint=checkpoint, fast=True)
    scene = SyntheticConfig(num_people=people, duration=seconds, seed=4, noise_std=0.01)
    with make_source(SyntheticSourceConfig(scene=scene, fast=True)) as source, Collecting(free_endpoint()) as pub:
        summary = Pipeline(config, source, backend, pub, status_line=False).run()
    return summary, pub.labels


def by_key(labels):
    keyed = {}
    for label in labels:
        assert (label.track_id, label.frame) not in keyed, "a frame labelled twice"
        keyed[(label.track_id, label.frame)] = label
    return keyed


def in_order(labels):
    frames = {}
    for label in labels:
        frames.setdefault(label.track_id, []).append(label.frame)
    return all(f == sorted(f) for f in frames.values())


def test_a_failed_batch_is_reported_and_every_frame_still_gets_one_label(checkpoint, caplog):
    reference, expected = stream(checkpoint, TorchBackend(checkpoint, threads=1))
    failing = FailingBackend(checkpoint, raise_on={5}, nan_on={9})
    with caplog.at_level(logging.ERROR, logger="stream.run.pipeline"):
        summary, got = stream(checkpoint, failing)
    assert summary.frames == reference.frames and summary.stop_reason == "end of stream" and not summary.errors
    assert summary.failed_windows == failing.batches[5] + 1  # the whole 5th call, one window of the 9th
    expected, got_by_key = by_key(expected), by_key(got)
    assert got_by_key.keys() == expected.keys() and in_order(got)  # the same frames, each once, in order
    failed = {key for key, label in got_by_key.items() if label.label == FAILED_LABEL}
    assert failed and all(got_by_key[k].score == 0.0 and got_by_key[k].top_k == [] for k in failed)
    assert all(got_by_key[k].label == expected[k].label for k in expected.keys() - failed)
    assert FAILED_LABEL not in {label.label for label in expected.values()}
    messages = [r.getMessage() for r in caplog.records]
    assert any("model call 5 failed" in m and "injected failure on call 5" in m for m in messages)
    assert any("model call 9 failed" in m and "non-finite logits in 1 of" in m for m in messages)


def test_a_backend_that_keeps_failing_stops_the_run_with_every_frame_labelled(checkpoint):
    failing = FailingBackend(checkpoint, raise_from=3)
    summary, labels = stream(checkpoint, failing, people=2, seconds=20.0)
    assert failing.calls == 2 + MAX_MODEL_FAILURES  # stopped after that many failures in a row
    assert summary.errors == [summary.stop_reason] and "failed 10 calls in a row" in summary.stop_reason
    assert summary.frames < 600 and summary.labels == len(labels) > 0
    by_key(labels)  # each frame once
    assert in_order(labels)
    assert labels[-1].label == FAILED_LABEL
    assert {label.label for label in labels} - {FAILED_LABEL}  # the first two calls did label frames


def test_checkpoint_classes_cannot_be_named_failed():
    from stream.stages.decoding import OnlineDecoder

    with pytest.raises(ValueError, match="reserved"):
        OnlineDecoder(["background", FAILED_LABEL], window=16, stride=8)
