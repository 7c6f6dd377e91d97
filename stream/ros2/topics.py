"""The ROS 2 topics skelstream publishes: one table of names, types and QoS, and the naming rules.

Names are ROS names: a relative name (``skelstream/actions``) goes under the namespace
(`resolve_topic`, the one place a namespace is applied), an absolute one (``/diagnostics``,
where every ROS diagnostics aggregator listens) does not. rclpy does the same with the
names of this table; DDS-direct adds the ``rt`` prefix ROS 2 uses on DDS (`dds_topic`).

`TOPICS` is the table (rendered in docs/ros2.md): skelstream/actions (ActionLabel),
skelstream/events (ActionEvent), skelstream/skeletons (SkeletonArray),
humans/bodies/tracked (hri_msgs/IdsList), humans/bodies/<body_id>/action
(vision_msgs/Classification), /diagnostics (diagnostic_msgs/DiagnosticArray).

The QoS, deliberately: a robot acts on labels and events, so they are reliable, with a
history deep enough for a burst (a lost track flushes all its pending labels at once);
volatile, because a late joiner has no use for old labels. Skeletons are sensor data: a
newer frame supersedes a lost one, and reliability would only add retransmission delay
to 60 kB messages (a subscriber must then ask for best effort, e.g. rclpy's
``qos_profile_sensor_data``; a reliable subscription does not match). The REP-155 topics
and diagnostics use the ROS default profile (reliable, volatile, keep last 10), which is
what ROS4HRI clients and aggregators subscribe with.

Body ids (`body_id`) follow REP-155: strings, unique while tracked, valid ROS name tokens
(``body_<track>``), so ``/humans/bodies/body_3/action`` is a valid topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RELIABILITIES = ("reliable", "best_effort")
DURABILITIES = ("volatile", "transient_local")
MAX_DDS_TOPIC_LENGTH = 255  # "rt/<name>" kept under 256 characters, the usual DDS limit on topic names
MAX_DOMAIN_ID = 232  # ROS_DOMAIN_ID: Cyclone DDS's limit with the default port mapping (ROS 2 recommends 0-101)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BODY_ID_PREFIX = "body_"


@dataclass(frozen=True)
class QosProfile:
    """A topic's QoS as plain data (history is always keep-last ``depth``); rclpy, Cyclone DDS and rosbag2 map it."""

    reliability: str
    durability: str
    depth: int

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITIES:
            raise ValueError(f"reliability must be one of {RELIABILITIES}, got {self.reliability!r}")
        if self.durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {DURABILITIES}, got {self.durability!r}")
        if self.depth < 1:
            raise ValueError(f"history depth must be >= 1, got {self.depth}")


ROS_DEFAULT = QosProfile("reliable", "volatile", 10)
"""rmw_qos_profile_default."""
SENSOR_DATA = QosProfile("best_effort", "volatile", 5)
"""rmw_qos_profile_sensor_data."""
RELIABLE_BURST = QosProfile("reliable", "volatile", 100)


@dataclass(frozen=True)
class TopicSpec:
    """One published topic: ROS name (``{body_id}`` marks a per-body topic), message type, QoS, rate (for docs)."""

    name: str
    typename: str
    qos: QosProfile
    rate: str

    @property
    def per_body(self) -> bool:
        return "{body_id}" in self.name

    def for_body(self, body: str) -> str:
        """The topic name of ``body`` (a `body_id`) for a per-body topic."""
        if not self.per_body:
            raise ValueError(f"{self.name} is not a per-body topic")
        return self.name.format(body_id=check_token(body, "body id"))


ACTIONS = TopicSpec("skelstream/actions", "skelstream_msgs/msg/ActionLabel", RELIABLE_BURST,
                    "model rate (15 Hz) per person")  # fmt: skip
EVENTS = TopicSpec("skelstream/events", "skelstream_msgs/msg/ActionEvent", RELIABLE_BURST, "on each start/end")
SKELETONS = TopicSpec("skelstream/skeletons", "skelstream_msgs/msg/SkeletonArray", SENSOR_DATA,
                      "camera rate, while people are tracked")  # fmt: skip
TRACKED_BODIES = TopicSpec("humans/bodies/tracked", "hri_msgs/msg/IdsList", ROS_DEFAULT,
                           "camera rate, while people are tracked")  # fmt: skip
BODY_ACTION = TopicSpec("humans/bodies/{body_id}/action", "vision_msgs/msg/Classification", ROS_DEFAULT,
                        "model rate (15 Hz)")  # fmt: skip
DIAGNOSTICS = TopicSpec("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", ROS_DEFAULT, "about 1 Hz")
TOPICS = (ACTIONS, EVENTS, SKELETONS, TRACKED_BODIES, BODY_ACTION, DIAGNOSTICS)


def _template_pattern(spec: TopicSpec) -> re.Pattern:
    before, after = spec.name.split("{body_id}")
    return re.compile(re.escape(before) + r"([A-Za-z_][A-Za-z0-9_]*)" + re.escape(after))


_PER_BODY = [(spec, _template_pattern(spec)) for spec in TOPICS if spec.per_body]


def topic_spec(name: str) -> TopicSpec:
    """The table entry of a topic name (a per-body name such as ``humans/bodies/body_3/action`` included)."""
    for spec in TOPICS:
        if spec.name == name:
            return spec
    for spec, pattern in _PER_BODY:
        if pattern.fullmatch(name):
            return spec
    raise ValueError(f"{name!r} is not a skelstream ROS topic; known: {', '.join(spec.name for spec in TOPICS)}")


def check_token(text: str, what: str) -> str:
    """``text`` when it is a valid ROS name token (letters, digits, underscores; no leading digit)."""
    if not isinstance(text, str) or not _TOKEN.fullmatch(text):
        raise ValueError(f"{what} {text!r} is not a valid ROS name token (letters, digits and underscores, "
                         "not starting with a digit)")  # fmt: skip
    return text


def body_id(track: int) -> str:
    """The REP-155 body id of a tracker's track id: ``body_<track>``."""
    if isinstance(track, bool) or not isinstance(track, int) or track < 0:
        raise ValueError(f"a track id must be an integer >= 0, got {track!r}")
    return f"{BODY_ID_PREFIX}{track}"


def check_domain_id(domain_id: int) -> int:
    """``domain_id`` when it is a DDS domain id ROS 2 can use (0-232)."""
    if isinstance(domain_id, bool) or not isinstance(domain_id, int) or not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise ValueError(f"a ROS domain id must be an integer 0-{MAX_DOMAIN_ID}, got {domain_id!r}")
    return domain_id


def normalize_namespace(namespace: str) -> str:
    """``""`` (the root) or ``/a/b`` from ``a/b``, ``/a/b`` or ``/a/b/``; ValueError for an invalid ROS namespace."""
    if not isinstance(namespace, str):
        raise ValueError(f"a ROS namespace must be a string, got {type(namespace).__name__}")
    tokens = namespace.strip("/").split("/") if namespace.strip("/") else []
    for token in tokens:
        check_token(token, f"namespace {namespace!r}: token")
    return "".join(f"/{token}" for token in tokens)


def resolve_topic(name: str, namespace: str = "") -> str:
    """The fully qualified ROS name: ``/<namespace>/<name>`` for a relative name, ``name`` for an absolute one."""
    relative = name.lstrip("/")
    for token in relative.split("/"):
        check_token(token, f"topic {name!r}: token")
    return name if name.startswith("/") else f"{normalize_namespace(namespace)}/{relative}"


def dds_topic(name: str, namespace: str = "") -> str:
    """The DDS topic of a ROS topic (what rmw_cyclonedds uses): ``rt`` + the fully qualified name."""
    topic = "rt" + resolve_topic(name, namespace)
    if len(topic) > MAX_DDS_TOPIC_LENGTH:
        raise ValueError(f"topic {topic!r} is longer than {MAX_DDS_TOPIC_LENGTH} characters")
    return topic
