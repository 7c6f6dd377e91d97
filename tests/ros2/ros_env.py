"""The ROS 2 Jazzy environment of `make ros-env` for tests and benchmarks, with DDS kept on the loopback interface.

`make ros-env` (ros2_ws/ros-env.sh) builds it in ``.venv-ros`` (or ``$SKELSTREAM_ROS_ENV``);
`make test` builds it first and sets ``SKELSTREAM_REQUIRE_ROS=1``, so there a missing or
broken environment fails the ROS tests instead of skipping them.

Every process of a test gets a domain id of its own and a DDS that cannot leave this machine:

- Fast DDS (rclpy): the profile ``ros2_ws/dds/fastdds_loopback.xml`` (shared memory, else UDPv4
  on 127.0.0.1 only; unicast discovery, no multicast). `non_loopback_sockets` lists the sockets
  of a process bound to anything but a loopback address; `assert_fastdds_on_loopback` fails a
  test on any (Fast DDS bound one to the external address with ``ROS_AUTOMATIC_DISCOVERY_RANGE=
  LOCALHOST`` alone).
- Cyclone DDS (DDS-direct ``stream-run``): `cyclone_uri` names interface ``lo``, unicast
  discovery to 127.0.0.1 and writes Cyclone's configuration trace; `assert_cyclone_on_loopback`
  fails a test unless the trace shows ``lo`` as the only interface and 127.0.0.1 as its address
  (Cyclone binds its receive sockets to 0.0.0.0 whatever it is told; it sends from lo only).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROS_ENV = Path(os.environ.get("SKELSTREAM_ROS_ENV", REPO / ".venv-ros")).resolve()
INSTALL = ROS_ENV / "ws" / "install"
FASTDDS_PROFILE = REPO / "ros2_ws" / "dds" / "fastdds_loopback.xml"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
DDS_VARIABLES = ("ROS_", "RMW_", "CYCLONEDDS_", "FASTRTPS_", "FASTDDS_", "AMENT_", "COLCON_", "_ROS_WHEELS_")


def ros_env_problem() -> str | None:
    """Why the ROS 2 environment cannot be used here, or None."""
    if not (ROS_ENV / "env.sh").is_file():
        return f"the ROS 2 environment is not built: run 'make ros-env' (looked for {ROS_ENV}/env.sh)"
    if not (INSTALL / "lib" / "skelstream_ros" / "skelstream_node").is_file():
        return f"the ROS 2 environment {ROS_ENV} has no built workspace: run 'make ros-env' again"
    return None


def require_ros_env() -> None:
    """Skip the test without the environment; fail it where `make test` requires one."""
    problem = ros_env_problem()
    if problem is None:
        return
    if os.environ.get("SKELSTREAM_REQUIRE_ROS") == "1":
        pytest.fail(f"SKELSTREAM_REQUIRE_ROS=1 but {problem}")
    pytest.skip(problem)


def ros_environment(domain_id: int, home: Path) -> dict[str, str]:
    """The variables of a process in the ROS 2 environment: ``env.sh`` sourced over this process's
    variables less any DDS or ROS settings, Fast DDS on loopback, domain ``domain_id``, logs in ``home``."""
    base = {name: value for name, value in os.environ.items() if not name.startswith(DDS_VARIABLES)}
    base.pop("VIRTUAL_ENV", None)
    home.mkdir(parents=True, exist_ok=True)
    dump = subprocess.run(["bash", "-c", f". '{ROS_ENV}/env.sh' && env -0"], env=base, capture_output=True,
                          check=True, timeout=30)  # fmt: skip
    env = dict(item.split("=", 1) for item in dump.stdout.decode().split("\0") if "=" in item)
    env.update(FASTRTPS_DEFAULT_PROFILES_FILE=str(FASTDDS_PROFILE), ROS_AUTOMATIC_DISCOVERY_RANGE="SYSTEM_DEFAULT",
               RMW_IMPLEMENTATION="rmw_fastrtps_cpp", ROS_DOMAIN_ID=str(domain_id), ROS_HOME=str(home),
               ROS_LOG_DIR=str(home / "log"), PYTHONUNBUFFERED="1")  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    return env


def ros_python() -> str:
    """The ROS 2 environment's Python."""
    return str(ROS_ENV / "bin" / "python")


def skelstream_node() -> str:
    """The node's entry script, as ``ros2 run skelstream_ros skelstream_node`` finds it."""
    return str(INSTALL / "lib" / "skelstream_ros" / "skelstream_node")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def inet_sockets(pid: int) -> list[tuple[str, str, int]]:
    """``(protocol, local address, port)`` of every UDP and TCP socket of process ``pid``."""
    inodes = _socket_inodes(pid)
    found = []
    for protocol in ("udp", "udp6", "tcp", "tcp6"):
        lines = Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                address, port = fields[1].split(":")
                found.append((protocol, _address(address), int(port, 16)))
    return found


def non_loopback_sockets(pid: int) -> list[str]:
    """The sockets of process ``pid`` bound to anything but a loopback address (0.0.0.0 included)."""
    return [f"{protocol} {address}:{port}" for protocol, address, port in inet_sockets(pid)
            if not ipaddress.ip_address(address).is_loopback]  # fmt: skip


def assert_fastdds_on_loopback(pid: int) -> None:
    """Fail unless every socket of the Fast DDS process ``pid`` is bound to a loopback address."""
    sockets = inet_sockets(pid)
    assert sockets, f"process {pid} has no sockets: it is not the DDS process"
    outside = non_loopback_sockets(pid)
    assert not outside, f"process {pid} has sockets outside the loopback interface: {outside}"


def cyclone_uri(trace: Path) -> str:
    """``CYCLONEDDS_URI``: interface lo, no multicast, unicast discovery to 127.0.0.1, its configuration traced."""
    return ("<CycloneDDS><Domain id='any'><General><Interfaces><NetworkInterface name='lo'/></Interfaces>"
            "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>"
            "<Peers><Peer address='127.0.0.1'/></Peers></Discovery>"
            f"<Tracing><Verbosity>config</Verbosity><OutputFile>{trace}</OutputFile></Tracing></Domain></CycloneDDS>")  # fmt: skip


def assert_cyclone_on_loopback(trace: Path) -> None:
    """Fail unless Cyclone DDS's trace shows interface lo alone, with address 127.0.0.1."""
    text = trace.read_text()
    selected = re.findall(r"selected interfaces: (.*)", text)
    assert selected, f"no interface selection in Cyclone DDS's trace {trace}"
    for line in selected:
        interfaces = re.findall(r"(\S+) \(index", line)
        assert interfaces == ["lo"], f"Cyclone DDS uses interfaces {interfaces}, not lo alone: {line}"
    addresses = re.findall(r"ownip: (\S+)", text)
    assert addresses and set(addresses) == {"udp/127.0.0.1"}, f"Cyclone DDS's own address: {addresses}"
