"""ROS 2 names: namespaces applied in one place, rt/ DDS names, REP-155 body ids, the topic table."""

import pytest

from stream.ros2.topics import (
    BODY_ACTION,
    DIAGNOSTICS,
    SKELETONS,
    TOPICS,
    QosProfile,
    body_id,
    check_domain_id,
    dds_topic,
    normalize_namespace,
    resolve_topic,
    topic_spec,
)


@pytest.mark.parametrize(
    "name, namespace, resolved",
    [("skelstream/actions", "", "/skelstream/actions"), ("skelstream/actions", "lab", "/lab/skelstream/actions"),
     ("skelstream/actions", "/robot/head/", "/robot/head/skelstream/actions"),
     ("/diagnostics", "lab", "/diagnostics"),
     ("humans/bodies/body_3/action", "lab", "/lab/humans/bodies/body_3/action")],
)  # fmt: skip
def test_names_resolve_like_ros(name, namespace, resolved):
    assert resolve_topic(name, namespace) == resolved
    assert dds_topic(name, namespace) == "rt" + resolved


@pytest.mark.parametrize("namespace", ["1lab", "lab-2", "lab//x", "a b", "é"])
def test_invalid_namespaces_are_refused(namespace):
    with pytest.raises(ValueError, match="not a valid ROS name token"):
        normalize_namespace(namespace)


def test_body_ids_are_rep155_tokens_and_name_their_topics():
    assert body_id(0) == "body_0" and body_id(12) == "body_12"
    assert BODY_ACTION.for_body(body_id(12)) == "humans/bodies/body_12/action"
    assert topic_spec("humans/bodies/body_12/action") is BODY_ACTION
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="track id"):
            body_id(bad)
    with pytest.raises(ValueError, match="body id"):
        BODY_ACTION.for_body("12")
    with pytest.raises(ValueError, match="not a per-body topic"):
        SKELETONS.for_body("body_1")


def test_every_topic_is_found_by_its_name_and_nothing_else_is():
    for spec in TOPICS:
        if not spec.per_body:
            assert topic_spec(spec.name) is spec
    assert topic_spec("/diagnostics") is DIAGNOSTICS
    for unknown in ("skelstream/action", "humans/bodies/body_1/actions", "humans/bodies/1/action"):
        with pytest.raises(ValueError, match="not a skelstream ROS topic"):
            topic_spec(unknown)


def test_bad_qos_and_domain_ids_are_refused():
    with pytest.raises(ValueError, match="reliability"):
        QosProfile("reliable_ish", "volatile", 10)
    with pytest.raises(ValueError, match="depth"):
        QosProfile("reliable", "volatile", 0)
    assert check_domain_id(0) == 0 and check_domain_id(232) == 232
    for bad in (-1, 233, True, "5"):
        with pytest.raises(ValueError, match="domain id"):
            check_domain_id(bad)
    with pytest.raises(ValueError, match="longer than 255"):
        dds_topic("skelstream/actions", "/".join(["ns"] * 120))
