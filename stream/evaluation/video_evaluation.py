"""The Florence video evaluation: every clip through the camera path, per-class accuracy, background rate, confusion.

    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    results = evaluate_clips(list_clips(root, actors=[1, 2]), config, backend, PoseCache(folder, config))
    metrics = summarize(results, backend.config.labels, readings_of(backend.config.points is not None))
    print(format_table(metrics))

For each reading of a clip (`stream.evaluation.clip_readings`: ``any_action``
and ``majority`` of its labels, ``start``, its first start event, and
``gesture``, its first gesture event, for a checkpoint that emits them) the
metrics hold:

- ``per_category``: every Florence action's clips, the label expected
  (`stream.evaluation.florence.FLORENCE_TO_VOCABULARY`, background for the
  others), how many were predicted as expected, and what they were predicted as;
- ``known_accuracy``: clip accuracy over the clips of actions the checkpoint
  knows, and ``per_class_accuracy`` for each of those labels;
- ``other_background_rate``: the fraction of the other actions' clips left as
  background;
- ``confusion``: Florence actions (rows) × the checkpoint's labels (columns).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stream.backends import Backend
from stream.evaluation.camera_skeletons import SkeletonTap, save_florence_skeletons
from stream.evaluation.clip_readings import COMMON_READINGS, READINGS, ClipReading, read_clip
from stream.evaluation.clip_run import ClipRun, run_clip
from stream.evaluation.florence import CATEGORIES, FlorenceClip, expected_label
from stream.evaluation.pose_cache import PoseCache
from stream.run.config import RunConfig


@dataclass
class ClipResult:
    """One evaluated clip: the clip, the label expected of it, what the pipeline did, the reading, and the file its
    person's skeletons went to (``save_skeletons``; None otherwise or when nobody was tracked)."""

    clip: FlorenceClip
    expected: str
    run: ClipRun
    reading: ClipReading
    skeletons: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        subject_events = [f"{e.kind} {e.label} @{e.frame}" for e in self.run.events
                          if e.track_id == self.reading.subject_track]  # fmt: skip
        return {
            "clip": self.clip.name, "actor": self.clip.actor, "category": self.clip.category,
            "action": self.clip.action, "expected": self.expected,
            "any_action": self.reading.any_action, "majority": self.reading.majority,
            "start": self.reading.start, "gesture": self.reading.gesture,
            "labels": self.reading.counts, "tracks": self.reading.tracks, "other_tracks": self.reading.other_tracks,
            "frames": self.run.frames, "frames_with_people": self.run.frames_with_people,
            "events": subject_events,
            "pose_cached": self.run.pose_cached, "errors": self.run.errors,
            "skeletons": None if self.skeletons is None else str(self.skeletons),
        }  # fmt: skip


def evaluate_clips(
    clips: list[FlorenceClip],
    config: RunConfig,
    backend: Backend,
    cache: PoseCache | None = None,
    progress: Callable[[int, int, ClipResult], None] | None = None,
    save_skeletons: str | Path | None = None,
) -> list[ClipResult]:
    """Run every clip through the pipeline (`stream.evaluation.clip_run.run_clip`) and read its labels.

    With ``save_skeletons`` (a folder), each clip's person is also written there as the model saw them
    (`stream.evaluation.camera_skeletons`): the ``florence-camera`` training data.
    """
    labels = list(backend.config.labels)
    results = []
    for number, clip in enumerate(clips, start=1):
        tap = None if save_skeletons is None else SkeletonTap()
        run = run_clip(clip.path, config, backend, cache, tap)
        reading = read_clip(run.labels, background=labels[0], events=run.events)
        saved = None if tap is None else save_florence_skeletons(save_skeletons, clip, tap, reading.subject_track,
                                                                 run.fps)  # fmt: skip
        result = ClipResult(clip=clip, expected=expected_label(clip.action, labels, labels[0]), run=run,
                            reading=reading, skeletons=saved)  # fmt: skip
        results.append(result)
        if progress is not None:
            progress(number, len(clips), result)
    return results


def _reading_metrics(results: list[ClipResult], reading: str, labels: list[str]) -> dict[str, Any]:
    actions = list(CATEGORIES.values())
    matrix = np.zeros((len(actions), len(labels)), np.int64)
    per_category: dict[str, dict[str, Any]] = {}
    for result in results:
        predicted = result.reading.prediction(reading)
        matrix[actions.index(result.clip.action), labels.index(predicted)] += 1
        row = per_category.setdefault(result.clip.action, {"expected": result.expected, "clips": 0, "correct": 0,
                                                             "predicted": Counter()})  # fmt: skip
        row["clips"] += 1
        row["correct"] += int(predicted == result.expected)
        row["predicted"][predicted] += 1
    for row in per_category.values():
        row["rate"] = row["correct"] / row["clips"]
        row["predicted"] = dict(row["predicted"].most_common())
    per_category = {action: per_category[action] for action in actions if action in per_category}
    known = [r for r in per_category.values() if r["expected"] != labels[0]]
    other = [r for r in per_category.values() if r["expected"] == labels[0]]

    def rate(rows: list[dict[str, Any]]) -> float | None:
        clips = sum(r["clips"] for r in rows)
        return sum(r["correct"] for r in rows) / clips if clips else None

    return {
        "known_accuracy": rate(known),
        "known_clips": sum(r["clips"] for r in known),
        "per_class_accuracy": {r["expected"]: r["rate"] for r in known},
        "other_background_rate": rate(other),
        "other_clips": sum(r["clips"] for r in other),
        "per_category": per_category,
        "confusion": {"rows": actions, "columns": labels, "matrix": matrix.tolist()},
    }


def summarize(results: list[ClipResult], labels: list[str],
              readings: tuple[str, ...] = COMMON_READINGS) -> dict[str, Any]:  # fmt: skip
    """The metrics of ``readings`` over ``results`` (module docstring), plus counts of odd clips."""
    if not results:
        raise ValueError("no clips were evaluated")
    unknown = set(readings) - set(READINGS)
    if unknown:
        raise ValueError(f"readings must be among {READINGS}, got {sorted(unknown)}")
    labels = list(labels)
    return {
        "clips": len(results),
        "actors": sorted({r.clip.actor for r in results}),
        "vocabulary": {action: expected_label(action, labels, labels[0]) for action in CATEGORIES.values()},
        "readings": {reading: _reading_metrics(results, reading, labels) for reading in readings},
        "clips_without_person": sum(r.reading.tracks == 0 for r in results),
        "clips_with_several_tracks": sum(r.reading.tracks > 1 for r in results),
        "frames": sum(r.run.frames for r in results),
        "frames_with_people": sum(r.run.frames_with_people for r in results),
        "per_clip": [r.to_dict() for r in results],
    }


def _cell(row: dict[str, Any] | None) -> str:
    return "" if row is None else f"{row['correct']:>3}/{row['clips']:<3} {row['rate']:.2f}"


def _rate(value: float | None, clips: int) -> str:
    return "   –" if value is None else f"{clips:>7} {value:.2f}"


_TITLES = {"any_action": "any action", "majority": "majority vote", "start": "start event",
           "gesture": "gesture event"}


def format_table(metrics: dict[str, Any]) -> str:
    """The printed table: per Florence action, the clips predicted as expected in each reading."""
    readings = metrics["readings"]
    shown = [reading for reading in READINGS if reading in readings]
    lines = [f"{'action':<20} {'expected':<11} " + "  ".join(f"{_TITLES[r]:>13}" for r in shown)
             + "  predicted (majority vote)", "-" * (70 + 15 * len(shown))]  # fmt: skip
    for action in CATEGORIES.values():
        rows = {reading: readings[reading]["per_category"].get(action) for reading in shown}
        if rows["majority"] is None:
            continue
        predicted = ", ".join(f"{name} {count}" for name, count in list(rows["majority"]["predicted"].items())[:3])
        lines.append(f"{action:<20} {rows['majority']['expected']:<11} "
                     + "  ".join(f"{_cell(rows[r]):>13}" for r in shown) + f"  {predicted}")  # fmt: skip
    lines.append("-" * (70 + 15 * len(shown)))
    for title, key, clips in (("known actions: accuracy", "known_accuracy", "known_clips"),
                              ("other actions: background", "other_background_rate", "other_clips")):  # fmt: skip
        lines.append(f"{title:<32} " + "  ".join(f"{_rate(readings[r][key], readings[r][clips]):>13}"
                                                 for r in shown))  # fmt: skip
    lines.append(f"{metrics['clips']} clips of actors {','.join(map(str, metrics['actors']))}; "
                 f"{metrics['clips_without_person']} without a tracked person, "
                 f"{metrics['clips_with_several_tracks']} with more than one track")  # fmt: skip
    return "\n".join(lines)


def write_confusions(metrics: dict[str, Any], path: str | Path) -> list[Path]:
    """One confusion PNG per reading: ``path`` for the majority vote, ``{stem}-any-action{suffix}``,
    ``{stem}-start{suffix}`` and (with gesture events) ``{stem}-gesture{suffix}`` beside it."""
    from models.evaluation.confusion import plot_confusion

    path = Path(path)
    majority_first = sorted(READINGS, key=lambda reading: reading != "majority")
    targets = {reading: path if reading == "majority" else
               path.with_name(f"{path.stem}-{reading.replace('_', '-')}{path.suffix}") for reading in majority_first}
    written = []
    for reading, target in targets.items():
        if reading not in metrics["readings"]:
            continue
        confusion = metrics["readings"][reading]["confusion"]
        written.append(plot_confusion(np.array(confusion["matrix"]), confusion["rows"], target,
                                      predicted_names=confusion["columns"]))  # fmt: skip
    return written
