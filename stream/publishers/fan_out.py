"""`FanOut`: one message built once, handed to several publishers (ZeroMQ, DDS, a rosbag2 recording)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stream.publishers.base import Publisher


class FanOut(Publisher):
    """Forwards every message to each named publisher; a drop in any of them counts as a drop.

    Args:
        publishers: name → publisher, e.g. ``{"zmq": ..., "dds": ..., "bag": ...}``.
        stream_name: the ``stream`` field of the messages built here.
    """

    def __init__(self, publishers: Mapping[str, Publisher], stream_name: str = "skelstream") -> None:
        if not publishers:
            raise ValueError("FanOut needs at least one publisher")
        self.publishers = dict(publishers)
        self.stream_name = stream_name

    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        delivered = True
        for publisher in self.publishers.values():
            delivered = publisher.publish(topic, msg) and delivered
        return delivered

    def stats(self) -> dict[str, int]:
        """``sent``/``dropped`` summed, ``<name>_sent``/``<name>_dropped`` for each publisher, and each publisher's
        own further counters (the ROS outputs' ``dds_dropped``, ``bag_dropped``, ...)."""
        totals = {"sent": 0, "dropped": 0}
        for name, publisher in self.publishers.items():
            stats = publisher.stats()
            for key in ("sent", "dropped"):
                totals[key] += int(stats[key])
                totals[f"{name}_{key}"] = int(stats[key])
            totals.update({key: int(value) for key, value in stats.items() if key not in ("sent", "dropped")})
        return totals

    def close(self) -> None:
        """Close every publisher, in reverse order, even when one of them fails."""
        errors: list[BaseException] = []
        for publisher in reversed(list(self.publishers.values())):
            try:
                publisher.close()
            except Exception as error:  # noqa: BLE001 - close the others, then re-raise the first
                errors.append(error)
        if errors:
            raise errors[0]

    def __str__(self) -> str:
        return ", ".join(str(publisher) for publisher in self.publishers.values())
