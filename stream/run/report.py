"""What a run reports besides its messages: the summary, frame accuracy against ground truth, time to detect,
each event printed as it is detected (``--print-events``) and a live status line.

`stream.run.pipeline.Pipeline` tells its `RunReport` what it labelled and published
(`follow_truth`, `label`, `event`); the report keeps the figures in `RunSummary`
(``--stats-json``) and `summary_table` renders them for the terminal.

Time to detect (sources with ground truth: synthetic scenes, labelled replays;
MSRC-12 replays by their action points): each track's true action instances,
from the truth (or the action points) its skeletons carry, against the
``actions`` labels and ``start`` events published for it
(`models.evaluation.time_to_detect`; only actions the model can name); in
``status`` and the summary as ``latency_ms.time_to_detect`` and
``latency_ms.time_to_start``; the summary also has the first per action
(``time_to_detect_by_action``: which actions are slow to name).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.evaluation.time_to_detect import DetectionDelays
from stream.stages.decoding import FAILED_LABEL
from stream.types import ActionEvent, FrameLabel, TrackedPerson


DETECTION = {"label": "time_to_detect", "start": "time_to_start"}  # `latency_ms` names of the time to detect


@dataclass
class RunSummary:
    """What a run did, for the exit table and ``--stats-json``."""

    frames: int = 0
    labels: int = 0
    events: int = 0
    gestures: int | None = None  # of the events: gestures recognised; None when the checkpoint declares none
    model_calls: int = 0
    windows: int = 0
    failed_windows: int = 0  # windows whose model call failed (their frames may be labelled "failed")
    dropped_people: int = 0  # skeletons the stages could not use (see `unusable`)
    correct: int = 0  # labels matching the source's ground truth, where it has one the model can name
    scored: int = 0
    has_truth: bool = False  # the source knows each frame's true label
    unscored: int = 0  # labels whose truth is not one of the model's labels (NTU's "A001" for a UTKinect model)
    unscored_truths: list[str] = field(default_factory=list)  # a few of those truths, for the summary
    source: dict[str, Any] = field(default_factory=dict)
    publisher: dict[str, Any] = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    detect_by_action: dict[str, dict[str, float]] = field(default_factory=dict)  # action -> time to detect figures
    seconds: float = 0.0
    stop_reason: str = ""
    errors: list[str] = field(default_factory=list)  # what failed mid-run (the run went on or stopped cleanly)
    stride: dict[str, Any] = field(default_factory=dict)  # mode, the final stride, every change

    @property
    def frame_accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames, "labels": self.labels, "events": self.events, "gestures": self.gestures,
            "model_calls": self.model_calls, "windows": self.windows, "failed_windows": self.failed_windows,
            "dropped_people": self.dropped_people,
            "frame_accuracy": self.frame_accuracy, "scored_labels": self.scored,
            "ground_truth": self.has_truth, "unscored_labels": self.unscored, "unscored_truths": self.unscored_truths,
            "fps": self.frames / self.seconds if self.seconds else 0.0, "seconds": self.seconds,
            "source": self.source, "publisher": self.publisher, "latency_ms": self.latency_ms,
            "time_to_detect_by_action": self.detect_by_action,
            "stride": self.stride, "stop_reason": self.stop_reason, "errors": self.errors,
        }  # fmt: skip


class RunReport:
    """Scores labels against the source's truth, times detections, prints events and the status line.

    Args:
        labels: the model's labels (``background`` first): truths it cannot name are not scored.
        has_truth: the source knows each frame's true label.
        has_points: the source carries action points (MSRC-12).
        fps: the source's nominal frame rate (event times); None: from the stamps.
        print_events: print each event to stdout as it is detected.
        status_line: refresh a status line on stderr (only on a terminal).
        gestures: the checkpoint declares gesture events (counted in the summary).
    """

    def __init__(self, labels: list[str], has_truth: bool, has_points: bool, fps: float | None,
                 print_events: bool = False, status_line: bool = True, gestures: bool = False) -> None:  # fmt: skip
        self.labels = list(labels)
        self.has_truth = has_truth
        self.fps = fps
        self.print_events = print_events
        self.status_line = status_line and sys.stderr.isatty()
        self.summary = RunSummary(gestures=0 if gestures else None)
        self.detection = DetectionDelays() if has_truth or has_points else None
        self._truths: dict[int, str | None] = {}  # each track's current true action
        self._first_stamp: int | None = None
        self._last_line = 0.0

    def frame(self, stamp_ns: int) -> None:
        """A frame was taken (the first one's stamp dates events of sources without a frame rate)."""
        if self._first_stamp is None:
            self._first_stamp = stamp_ns

    def follow_truth(self, stamp_ns: int, tracked: list[TrackedPerson], ended: list[int]) -> None:
        """Each track's true action instances, from the truth its skeletons carry (time to detect)."""
        if self.detection is None:
            return
        nameable = set(self.labels[1:])  # a truth the model cannot name (NTU's "A001") is no instance
        for t in tracked:
            if t.person.action_point in nameable:
                self.detection.begin(t.track_id, t.person.action_point, stamp_ns / 1e9, point=True)
        if self.has_truth:
            now = [(t.track_id, t.person.truth if t.person.truth in nameable else None) for t in tracked]
            now += [(track_id, None) for track_id in ended]
            for track_id, truth in now:
                if truth == self._truths.get(track_id):
                    continue
                if self._truths.get(track_id) is not None:
                    self.detection.end(track_id, stamp_ns / 1e9)
                if truth is not None:
                    self.detection.begin(track_id, truth, stamp_ns / 1e9)
                self._truths[track_id] = truth

    def tracks_ended(self, ended: list[int]) -> None:
        """Tracks that ended, once their last labels were published: their instances are decided."""
        if self.detection is None:
            return
        for track_id in ended:
            self._truths.pop(track_id, None)
            self.detection.close(track_id)

    def label(self, label: FrameLabel) -> None:
        """Count a published ``label`` against the source's truth, where it has one that is among the model's
        labels (frame accuracy), and as an output that may detect a true action (time to detect)."""
        self.summary.labels += 1
        if self.detection is not None and label.label != FAILED_LABEL:
            self.detection.output("label", label.track_id, label.label, label.stamp_ns / 1e9, time.monotonic_ns() / 1e9)
        if not self.has_truth:
            return
        summary = self.summary
        summary.has_truth = True
        truth = label.truth if label.truth is not None else "background"
        if truth not in self.labels:  # the model cannot name it: no measure of the model
            summary.unscored += 1
            if truth not in summary.unscored_truths and len(summary.unscored_truths) < 5:
                summary.unscored_truths.append(truth)
            return
        summary.scored += 1
        summary.correct += int(label.label == truth)

    def event(self, event: ActionEvent) -> None:
        """Count a published ``event`` (a start may detect a true action), print it with ``print_events``."""
        self.summary.events += 1
        if self.summary.gestures is not None and event.kind == "gesture":
            self.summary.gestures += 1
        if self.detection is not None and event.kind == "start":
            self.detection.output("start", event.track_id, event.label, event.stamp_ns / 1e9,
                                  time.monotonic_ns() / 1e9)  # fmt: skip
        if self.print_events:
            seconds = event.frame / self.fps if self.fps else (event.stamp_ns - (self._first_stamp or 0)) / 1e9
            delay = "" if event.delay_ms is None else f", {event.delay_ms:.0f} ms after its evidence began"
            print(f"{seconds:7.1f} s  person {event.track_id:<3} {event.kind:<7} {event.label:<10} "
                  f"(score {event.score:.2f}{delay})", flush=True)  # fmt: skip

    def end(self) -> None:
        """The run is over: every open action instance is decided; the status line gets its newline."""
        if self.detection is not None:
            self.detection.close_all()
        if self.status_line:
            print(file=sys.stderr)

    def detection_ms(self) -> dict[str, dict[str, float]]:
        """Time to detect by labels and by start events: p50/p95/p99 ms, ``count`` detected, ``instances``
        decided and the fraction ``never_detected``; empty without ground truth."""
        if self.detection is None:
            return {}
        return {DETECTION[kind]: _counted(entry) for kind, entry in self.detection.summary().items()}

    def detection_by_action_ms(self) -> dict[str, dict[str, float]]:
        """`detection_ms`'s time to detect (true start → first label naming it) per action; empty without truth."""
        if self.detection is None:
            return {}
        return {action: _counted(entry) for action, entry in self.detection.by_action()["label"].items()}

    def show_status(self, status_of: Callable[[], dict[str, Any]], stages: tuple[str, ...]) -> None:
        """Refresh the status line (a few times a second at most) from the figures of a ``status`` message."""
        now = time.perf_counter()
        if not self.status_line or now - self._last_line < 0.25:  # a few refreshes a second are enough for a person
            return
        self._last_line = now
        status = status_of()
        latency = status["latency_ms"]
        figures = " ".join(f"{stage} {latency[stage]['p50']:.1f}/{latency[stage]['p95']:.1f}"
                           for stage in (*stages, "end_to_end") if stage in latency)  # fmt: skip
        line = (f"\r{status['rates']['frames']:5.1f} fps  tracks {status['tracks']}  drops {status['drops']['capture']}"
                f"  p50/p95 ms: {figures} ")  # fmt: skip
        print(line, end="", file=sys.stderr, flush=True)


def _counted(entry: dict[str, float]) -> dict[str, float]:
    """A `DetectionDelays` entry as the summary words it: ``detected`` is called ``count``."""
    return {**{k: v for k, v in entry.items() if k != "detected"}, "count": entry["detected"]}


def summary_table(summary: RunSummary, stats_table: str) -> str:
    """The table stream-run prints at the end: stage latencies, counts, drops, stride, latency, accuracy."""
    lines = ["", stats_table, ""]
    data = summary.to_dict()
    gestures = f" ({data['gestures']} gestures)" if data["gestures"] is not None else ""
    lines.append(f"frames {data['frames']} in {data['seconds']:.1f} s ({data['fps']:.1f} fps), "
                 f"labels {data['labels']}, events {data['events']}{gestures}, model calls {data['model_calls']} "
                 f"({data['windows']} windows)")  # fmt: skip
    lines.append(f"drops: capture {data['source'].get('dropped', 0)}, "
                 f"publish {data['publisher'].get('dropped', 0)}; stopped: {data['stop_reason']}")  # fmt: skip
    stride = data["stride"]
    changes = ", ".join(f"{c['old']}→{c['new']} at {c['at_s']:.1f} s" for c in stride.get("changes", []))
    lines.append(f"stride {stride.get('stride')} ({stride.get('mode')}{'; ' + changes if changes else ''})")
    label = data["latency_ms"].get("label")
    if label:
        lines.append(f"label latency p50 {label['p50']:.1f} ms, p95 {label['p95']:.1f} ms (capture → final label)")
    for name, what in (("time_to_detect", "first label naming it"), ("time_to_start", "its start event")):
        entry = data["latency_ms"].get(name)
        if entry and entry.get("instances"):
            figures = f"p50 {entry['p50']:.0f} ms, p95 {entry['p95']:.0f} ms, " if "p50" in entry else ""
            lines.append(f"time to detect, true start → {what}: {figures}never detected {entry['never_detected']:.0%}"
                         f" of {entry['instances']} actions")  # fmt: skip
    if data["time_to_detect_by_action"]:
        lines.append("time to detect by action, true start → first label: p50 (never detected) " + ", ".join(
            f"{action} {entry['p50']:.0f} ms ({entry['never_detected']:.0%})" if "p50" in entry else f"{action} never"
            for action, entry in data["time_to_detect_by_action"].items()))  # fmt: skip
    lines += _accuracy_lines(data)
    return "\n".join(lines)


def _accuracy_lines(data: dict) -> list[str]:
    """Frame accuracy only against truth the model can name; nothing for a source without truth."""
    if not data["ground_truth"]:
        return []
    truths = ", ".join(map(repr, data["unscored_truths"]))
    if data["frame_accuracy"] is None:
        return [f"frame accuracy: no ground truth in this model's labels (the source's truth is {truths}; "
                f"{data['unscored_labels']} labels not scored)"]  # fmt: skip
    line = (f"frame accuracy against the source's ground truth: {data['frame_accuracy']:.3f} "
            f"({data['scored_labels']} labels)")  # fmt: skip
    if data["unscored_labels"]:
        line += f"; {data['unscored_labels']} labels against truth not in this model's labels ({truths}) not scored"
    return [line]
