"""Where the node's upstream interface packages come from: a ROS install, or skelstream's own builds of them.

A ROS install has ``vision_msgs``, ``hri_msgs`` and ``tf2_msgs`` as packages of its
own; the ROS 2 environment built from pip wheels has skelstream's builds of the
types it uses (ros2_ws/upstream), whose ``package.xml`` exports
``<skelstream_upstream_subset/>``. The node says at start-up which it runs on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

UPSTREAM_INTERFACES = ("vision_msgs", "hri_msgs", "tf2_msgs")
SUBSET_MARKER = "export/skelstream_upstream_subset"


def interface_origin(package: str) -> str:
    """``"<package> <version> found"``, ``"<package> built by skelstream from its upstream definitions"``
    or ``"<package> missing"``, from the package's manifest in the ament index."""
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        manifest = ET.parse(Path(get_package_share_directory(package)) / "package.xml").getroot()
    except (PackageNotFoundError, OSError, ET.ParseError):
        return f"{package} missing"
    if manifest.find(SUBSET_MARKER) is not None:
        return f"{package} built by skelstream from its upstream definitions"
    return f"{package} {manifest.findtext('version', '?')} found"


def interface_origins() -> str:
    """`interface_origin` of each of `UPSTREAM_INTERFACES`, in one line."""
    return ", ".join(interface_origin(package) for package in UPSTREAM_INTERFACES)
