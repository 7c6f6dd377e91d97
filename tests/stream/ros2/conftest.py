"""Fixtures of the ROS 2 tests: real messages of a real run, and Cyclone DDS kept on the loopback interface."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from models.pretrained import DEFAULT_CHECKPOINT
from models.synthetic.generator import SyntheticConfig
from stream.backends.torch_backend import TorchBackend
from stream.messages.builders import event_message, skeleton_message
from stream.run.pipeline import Pipeline
from stream.publishers.base import Publisher
from stream.run.config import RunConfig
from stream.sources import make_source
from stream.sources.synthetic import SyntheticSourceConfig
from stream.types import ActionEvent, Person, TrackedPerson

LOOPBACK_DDS = (
    "<CycloneDDS><Domain id='any'><General><Interfaces><NetworkInterface name='lo'/></Interfaces>"
    "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>"
    "<Peers><Peer address='127.0.0.1'/></Peers></Discovery></Domain></CycloneDDS>"
)
"""A Cyclone DDS configuration that never leaves this machine: interface lo, unicast discovery."""

_domains = itertools.count()


def fresh_domain_id() -> int:
    """A DDS domain id no other test of this session (and, likely, no other session here) uses."""
    return 120 + (os.getpid() * 7 + next(_domains)) % 100


@pytest.fixture
def loopback_domain(monkeypatch) -> int:
    """CYCLONEDDS_URI restricted to lo (for this process and the processes it starts) and a fresh domain id."""
    monkeypatch.setenv("CYCLONEDDS_URI", LOOPBACK_DDS)
    monkeypatch.delenv("ROS_DOMAIN_ID", raising=False)
    return fresh_domain_id()


class Tap(Publisher):
    """A real publisher that keeps every message it is given, in order (what the other publishers received)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        self.messages.append((topic, dict(msg)))
        return True

    def stats(self) -> dict[str, int]:
        return {"sent": len(self.messages), "dropped": 0}

    def close(self) -> None:
        pass


def run_pipeline(publisher: Publisher, seconds: float = 10.0, people: int = 2) -> None:
    """A real synthetic run (fast replay) through the real pipeline and the shipped checkpoint into ``publisher``."""
    checkpoint = str(DEFAULT_CHECKPOINT)  # trained: its labels change and events start and end
    config = RunConfig(source="synthetic", people=people, seconds=seconds, checkpoint=checkpoint, fast=True)
    scene = SyntheticConfig(num_people=people, duration=seconds, seed=3, noise_std=0.01, missing_prob=0.02)
    with make_source(SyntheticSourceConfig(scene=scene, fast=True)) as source:
        Pipeline(config, source, TorchBackend(checkpoint, threads=1), publisher, status_line=False).run()


def placed_skeletons() -> list[dict]:
    """Skeleton messages the synthetic run does not produce: MediaPipe people with image points and
    positions (a calibrated camera), and a 2D COCO layout; built by the real message builder."""
    rng = np.random.default_rng(0)
    people = [TrackedPerson(track, Person(rng.normal(size=(33, 3)), rng.uniform(size=33), "mediapipe_33",
                                          image_points=rng.uniform(0, 640, size=(33, 2))))
              for track in (4, 7)]  # fmt: skip
    positions = {4: np.array([1.5, -0.2, 0.0])}  # track 7 could not be placed
    coco = [TrackedPerson(2, Person(rng.uniform(0, 480, size=(17, 2)), rng.uniform(size=17), "coco_17"))]
    return [skeleton_message("cam", 10, 123_456_789, people, frame_id="base_link", positions=positions),
            skeleton_message("cam", 11, 223_456_789, coco)]  # fmt: skip


def gesture_events() -> list[dict]:
    """Gesture events, which the synthetic run's checkpoint (no gesture rules) does not emit; built by the real
    message builder. The stream emitting them is tested in tests/stream/test_gesture_events.py."""
    return [event_message("cam", ActionEvent(3, "gesture", "duck", 130, 323_456_789, 0.93, delay_ms=466.7)),
            event_message("cam", ActionEvent(1, "gesture", "kick", 2**33, 423_456_789, 0.61, delay_ms=1066.6667))]


@pytest.fixture(scope="session")
def run_messages() -> list[tuple[str, dict]]:
    """Every schema-v1 message of a real two-person run, then the `placed_skeletons` and `gesture_events`."""
    tap = Tap()
    run_pipeline(tap)
    return (tap.messages + [("skeletons", msg) for msg in placed_skeletons()]
            + [("events", msg) for msg in gesture_events()])  # fmt: skip
