"""The node's own health, reported on /diagnostics at 1 Hz: its input and its pipeline.

The pipeline's status (rates, drops, stage latencies) reaches /diagnostics
through `stream.ros2.conversions.RosConverter` while frames flow; this status
says what that one cannot: that no input arrives at all, that input messages
are refused (an unsupported image encoding, a malformed marker array) and why,
and that the pipeline stopped. Levels: ERROR when the pipeline stopped with an
error; WARN when no frame came for ``stale_after_s`` or messages were refused
since the last report; else OK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

OK, WARN, ERROR = 0, 1, 2
"""``diagnostic_msgs/DiagnosticStatus`` levels."""


class InputHealth:
    """Tracks the node's input between reports and turns it into a ``DiagnosticStatus`` (as plain fields).

    Args:
        name: the status name ("skelstream node").
        input_name: what the input is (a topic name, "camera 0").
        started_ns: when the input opened (the silence clock starts there).
        stale_after_s: seconds without a frame before the status warns.
    """

    def __init__(self, name: str, input_name: str, started_ns: int, stale_after_s: float = 2.0) -> None:
        self.name = name
        self.input_name = input_name
        self.stale_after_s = stale_after_s
        self.refused: Counter[str] = Counter()
        self.last_refusal = ""
        self._last_frame_ns = started_ns
        self._captured = 0
        self._refused_reported = 0

    def on_refused(self, reason: str, detail: str) -> None:
        """An input message was refused: ``reason`` is a short key (counted), ``detail`` the error text."""
        self.refused[reason] += 1
        self.last_refusal = detail

    def status(self, now_ns: int, source: Mapping[str, Any], pipeline_error: str | None) -> dict:
        """The ``diagnostic_msgs/DiagnosticStatus`` fields at ``now_ns``, given the source's `stats()`."""
        captured = int(source.get("captured", 0))
        if captured != self._captured:
            self._captured, self._last_frame_ns = captured, now_ns
        silent_s = (now_ns - self._last_frame_ns) / 1e9
        refused = self.refused + Counter({key: int(source[key]) for key in ("refused", "out_of_order")
                                          if source.get(key)})  # fmt: skip
        newly_refused = sum(refused.values()) - self._refused_reported
        self._refused_reported = sum(refused.values())
        if pipeline_error:
            level, message = ERROR, f"pipeline stopped: {pipeline_error}"
        elif silent_s > self.stale_after_s:
            level, message = WARN, f"no frame from {self.input_name} for {silent_s:.0f} s"
        elif newly_refused:
            level, message = WARN, f"{newly_refused} input messages refused" + (
                f"; last: {self.last_refusal}" if self.last_refusal else "")
        else:
            level, message = OK, "running"
        values = [("input", self.input_name), ("frames", captured), ("dropped", source.get("dropped", 0)),
                  *((f"refused {reason}", count) for reason, count in sorted(refused.items())),
                  ("seconds since the last frame", f"{silent_s:.1f}")]  # fmt: skip
        if self.last_refusal:
            values.append(("last refusal", self.last_refusal))
        return {"level": level, "name": self.name, "message": message, "hardware_id": self.input_name,
                "values": [{"key": key, "value": str(value)} for key, value in values]}  # fmt: skip
