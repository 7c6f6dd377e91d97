"""ZeroMQ publisher: ``[topic, payload]`` multipart messages on a bound socket that never blocks the loop.

    from stream.publishers.zmq_publisher import ZmqPublisher

    with ZmqPublisher("tcp://127.0.0.1:5560", stream_name="lab-cam") as pub:
        pub.wait_for_subscribers(timeout_s=2.0)   # optional: see the slow-joiner note below
        pub.publish_label(frame_label)            # "actions"
        pub.publish_event(action_event)           # "events"
        pub.publish("status", status_message("lab-cam", stats))

Subscribers use any ZeroMQ SUB socket (docs/messages.md has the schema and a
15-line subscriber). Loopback only unless ``allow_remote=True``: the stream
carries what people in front of the camera are doing. ``curve_secret_key``
(a ``.key_secret`` file) encrypts every connection with ZeroMQ CURVE and,
with ``curve_clients`` (a folder of allowed clients' ``.key`` files), admits
only those clients (`stream.publishers.curve`). The publisher only ever sends: nothing a
subscriber sends is parsed beyond the one-byte subscribe/unsubscribe notes,
and a peer sending a frame over `MAX_SUBSCRIPTION_BYTES` is disconnected.

Never blocking: every send is ``zmq.NOBLOCK`` against a send high-water mark
(``sndhwm`` messages queued per subscriber, plus the subscriber's RCVHWM and
the kernel's socket buffers). The socket is an XPUB, which a SUB cannot tell
from a PUB, for two reasons:

- ``count_drops=True`` (default) sets ``ZMQ_XPUB_NODROP``: when a subscriber
  of the topic has a full queue, the send fails at once with ``zmq.Again``;
  the message is then dropped for that topic's subscribers and counted in
  `dropped`. A plain PUB drops silently instead, so the loss could not be
  reported in the ``status`` topic. ``count_drops=False`` gives that plain
  PUB behaviour (only the slow subscriber loses messages, uncounted) for
  deployments where one slow consumer must not cost the others anything.
- Subscriptions arrive as messages, so the publisher knows who listens
  (`subscriptions`, `wait_for_subscribers`): the ZeroMQ "slow joiner" (a
  subscriber misses what was sent before its subscription arrived) can be
  waited out instead of guessed at with a sleep.

A publisher owns its socket from one thread at a time; a lock makes
`publish` safe to call from a second thread (e.g. a status timer).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import zmq

from foundation.errors import KeyFileError, PublisherError
from stream.publishers.curve import server_socket
from stream.messages.codec import encode, topic_of
from stream.publishers.base import Publisher

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5560"
MAX_SUBSCRIPTION_BYTES = 1024  # a subscribe note is one byte and a topic prefix; a peer sending more is dropped
LOCAL_TRANSPORTS = ("inproc", "ipc")

_BIND_HINTS = {
    errno.EADDRINUSE: "address in use: another process is bound there; pick another port",
    errno.EADDRNOTAVAIL: "address not available on this machine",
    errno.EINVAL: "invalid endpoint; expected e.g. tcp://127.0.0.1:5560",
    errno.EPROTONOSUPPORT: "transport not supported by this ZeroMQ build",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.ENODEV: "no such network interface",
}


def is_loopback_endpoint(endpoint: str) -> bool:
    """True when ``endpoint`` can only be reached from this machine (loopback tcp, ipc, inproc).

    Raises PublisherError for a string that is not ``transport://address``.
    """
    transport, sep, address = endpoint.partition("://")
    if not sep or not transport or not address:
        raise PublisherError(f"invalid ZeroMQ endpoint {endpoint!r}; expected e.g. {DEFAULT_ENDPOINT}")
    if transport in LOCAL_TRANSPORTS:
        return True
    if transport != "tcp":
        return False
    host = address.rsplit(":", 1)[0] if ":" in address else address
    host = host.strip("[]")
    if host in ("localhost", "lo"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "*", an interface name or a host name: may face the network
        return False


class ZmqPublisher(Publisher):
    """Publishes messages on a bound XPUB socket; `publish` never blocks.

    Args:
        endpoint: where to bind, e.g. ``tcp://127.0.0.1:5560`` (``:*`` picks a free port;
            `endpoint` then holds the one bound).
        stream_name: the ``stream`` field of every message built here.
        json: JSON payloads instead of msgpack (for consumers without msgpack).
        sndhwm: messages queued per subscriber before sends to it fail (and count as drops).
        allow_remote: permit an endpoint other programs on the network can reach.
        count_drops: see the module docstring (XPUB_NODROP on; drops counted).
        curve_secret_key: the server's CURVE ``.key_secret`` file: every connection encrypted.
        curve_clients: a folder of the public ``.key`` files of the clients allowed to subscribe
            (needs ``curve_secret_key``); None admits any client that knows the server's public key.

    Raises:
        PublisherError: a non-loopback endpoint without ``allow_remote``, or the bind
            failed (message names the endpoint and the reason, e.g. address in use).
        KeyFileError: a CURVE key file or the client folder is missing or malformed.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        stream_name: str = "skelstream",
        json: bool = False,
        sndhwm: int = 1000,
        allow_remote: bool = False,
        count_drops: bool = True,
        curve_secret_key: str | Path | None = None,
        curve_clients: str | Path | None = None,
    ) -> None:
        if sndhwm < 1:
            raise ValueError(f"sndhwm must be >= 1 (0 would mean no limit), got {sndhwm}")
        if curve_clients is not None and curve_secret_key is None:
            raise PublisherError("a CURVE client key folder (--zmq-curve-clients) needs the server's secret key file "
                                 "(--zmq-curve-secret)")
        if not is_loopback_endpoint(endpoint) and not allow_remote:
            raise PublisherError(f"{endpoint} is not a loopback address: the stream would be reachable from the "
                                 "network; pass --allow-remote (config key allow_remote: true) to bind there on "
                                 "purpose")  # fmt: skip
        self.stream_name = stream_name
        self.json = json
        self.sent = 0
        self.dropped = 0
        self.subscriptions: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._context = zmq.Context(io_threads=1)
        self._socket = self._context.socket(zmq.XPUB)
        self._authenticator = None
        try:
            if curve_secret_key is not None:
                self._authenticator = server_socket(self._socket, self._context, curve_secret_key, curve_clients)
            self._socket.setsockopt(zmq.LINGER, 0)
            self._socket.setsockopt(zmq.MAXMSGSIZE, MAX_SUBSCRIPTION_BYTES)  # what subscribers send is this small
            self._socket.setsockopt(zmq.SNDHWM, sndhwm)
            self._socket.setsockopt(zmq.XPUB_VERBOSER, 1)  # every subscribe and unsubscribe reaches us
            self._socket.setsockopt(zmq.XPUB_NODROP, 1 if count_drops else 0)
            if endpoint.startswith("tcp://[") or endpoint.count(":") > 2:
                self._socket.setsockopt(zmq.IPV6, 1)
            self._socket.bind(endpoint)
        except (zmq.ZMQError, KeyFileError) as error:
            self._release()
            if isinstance(error, KeyFileError):
                raise
            hint = _BIND_HINTS.get(error.errno, error.strerror)
            raise PublisherError(f"cannot bind ZeroMQ publisher to {endpoint}: {hint}") from None
        self.endpoint = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._closed = False
        if allow_remote and not is_loopback_endpoint(endpoint):
            logger.warning("publishing on %s: reachable from the network", self.endpoint)

    # --- publishing ---------------------------------------------------------------
    def publish(self, topic: str, msg: Mapping[str, Any]) -> bool:
        """Encode and send ``msg`` on ``topic``; False when it was dropped at the high-water mark."""
        return self.publish_payload(topic, encode(msg, json=self.json))

    def publish_payload(self, topic: str | bytes, payload: bytes) -> bool:
        """Send an already encoded payload (a replay, a forwarder); never blocks."""
        frame = topic_of(topic)
        with self._lock:
            if self._closed:
                raise PublisherError(f"publisher on {self.endpoint} is closed")
            self._drain_subscriptions()
            try:
                self._socket.send_multipart((frame, payload), flags=zmq.NOBLOCK)
            except zmq.Again:
                self.dropped += 1
                return False
            self.sent += 1
            return True

    # --- subscribers ----------------------------------------------------------------
    def _drain_subscriptions(self) -> None:
        while self._socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                note = self._socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            if note[:1] in (b"\x00", b"\x01"):
                prefix = note[1:].decode("utf-8", errors="replace")
                self.subscriptions[prefix] += 1 if note[:1] == b"\x01" else -1
                if self.subscriptions[prefix] <= 0:
                    del self.subscriptions[prefix]

    def subscriber_count(self, topic: str = "") -> int:
        """Subscriptions that receive ``topic`` ("" counts every subscription) as of the last check."""
        return sum(n for prefix, n in self.subscriptions.items() if topic.startswith(prefix) or not topic)

    def wait_for_subscribers(self, count: int = 1, topic: str = "", timeout_s: float = 5.0) -> bool:
        """Wait until ``count`` subscriptions receive ``topic``; False after ``timeout_s``.

        Messages published after this returns True reach those subscribers
        (ZeroMQ's slow joiner: anything sent before a subscription arrives is
        not delivered to it). Blocks the caller: call it before the loop.
        """
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                self._drain_subscriptions()
            if self.subscriber_count(topic) >= count:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            poller.poll(min(50.0, left * 1000.0))

    # --- lifetime ---------------------------------------------------------------------
    def __str__(self) -> str:
        return self.endpoint

    def close(self) -> None:
        """Close at once (linger 0: queued messages are discarded); safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._release()

    def _release(self) -> None:
        if self._authenticator is not None:
            self._authenticator.stop()
        self._socket.close(linger=0)
        self._context.term()

    def __repr__(self) -> str:
        return f"ZmqPublisher({self.endpoint!r}, sent={self.sent}, dropped={self.dropped})"
