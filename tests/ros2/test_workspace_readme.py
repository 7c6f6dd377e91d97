"""ros2_ws/README.md keeps its parameter table in step with the node's parameters."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ros2_ws" / "src" / "skelstream_ros"))

from skelstream_ros.parameters import PARAMETERS  # noqa: E402


def test_every_parameter_is_in_the_readme_table_with_its_default():
    text = (REPO / "ros2_ws" / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", text, re.MULTILINE))
    shown = {p.name: ("true" if p.default else "false") if isinstance(p.default, bool)
             else '""' if p.default == "" else str(p.default) for p in PARAMETERS}  # fmt: skip
    assert rows == shown
