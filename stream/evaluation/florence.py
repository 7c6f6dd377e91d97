"""Florence 3D Actions RGB clips: names, categories, and what a checkpoint should say for each.

The clips (``../shared/data/videos/florence3d/``, actors 1-6 here) are
``GestureRecording_Id{n}actor{a}idAction{n}category{c}.mp4``, 640x480 at 20 fps,
8-35 frames, one action each. Categories 1-9, in the order of the dataset's
README.txt ("wave, drink from a bottle, answer phone, clap, tight lace, sit down,
stand up, read watch, bow"); the numbering was checked on the frames themselves
(a contact sheet of every category for actor 2: a raised hand waving, a bottle
at the mouth, a hand at the ear, hands together, a crouch to the shoes, sitting
down onto a chair, rising from it, a look at the wrist, a bow) and is tested on
the pose (`tests/stream/test_video_evaluation.py`: the hips descend in category
6 and rise in category 7).

**The vocabulary table.** `FLORENCE_TO_VOCABULARY` is the one place that says
which checkpoint label a Florence category should produce:

| category | Florence action     | label       | `actions` expects | `gestures` expects |
|---------:|---------------------|-------------|-------------------|--------------------|
| 1 | wave                | waveHands   | waveHands         | background         |
| 2 | drink from a bottle | –           | background        | background         |
| 3 | answer phone        | –           | background        | background         |
| 4 | clap                | clapHands   | clapHands         | background         |
| 5 | tie lace            | –           | background        | background         |
| 6 | sit down            | sitDown     | sitDown           | background         |
| 7 | stand up            | standUp     | standUp           | background         |
| 8 | read watch          | –           | background        | background         |
| 9 | bow                 | bow         | background        | bow (MSRC-12's bow) |

A category whose label is not in the checkpoint's vocabulary is an *other*
action: the right answer is background (a robot should not react to it).

**Framing a short clip.** A clip is about one second (8-35 frames at 20 fps)
and the model's window is 64 samples at 15 fps (4.3 s). The clip is streamed
as it is, and its person's track is padded the way the streaming runtime pads
every young track (`stream.stages.windowing.TrackBuffer.window`, the same rule as the
offline `models.windows.cut_window`): a window reaching back before the
track's first sample repeats that first sample, i.e. the person stands still
in their first pose before the clip starts. That is what a camera sees of a
person who stands, then acts, and it needs no change to the streaming path:
the evaluation runs the pipeline itself, so streaming and evaluation frame a
clip identically. Windows run on the stream's grid (every ``stride`` model
samples) and once more at the track's end (its final, partial window);
nothing is appended after the clip. The track is confirmed on its second
observation (`stream.stages.tracking.Tracker` ``birth_frames=2``), so the clip's
first frame is never labelled, as in ``stream-run``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from models.datasets.florence_camera import FLORENCE_ACTIONS

FOLDER = Path("videos") / "florence3d"
"""Where the clips live inside the shared data root."""
ACTORS = (1, 2, 3, 4, 5, 6)
"""The actors of the shared copy (7-10 are kept for independent evaluation)."""

CATEGORIES: dict[int, str] = dict(enumerate(FLORENCE_ACTIONS, start=1))
"""Category number (1-9) → action name."""
FLORENCE_TO_VOCABULARY: dict[str, str] = {
    "wave": "waveHands",
    "clap": "clapHands",
    "sit down": "sitDown",
    "stand up": "standUp",
    "bow": "bow",
}
"""Florence action → the checkpoint label it should produce; actions not listed (or whose label the
checkpoint lacks) should be left as background. See the module docstring's table."""

_NAME = re.compile(r"GestureRecording_Id(\d+)actor(\d+)idAction(\d+)category(\d+)$")


@dataclass(frozen=True)
class FlorenceClip:
    """One clip: its file, actor, category number and action name."""

    path: Path
    actor: int
    category: int
    take: int  # the clip's "Id" in the dataset (unique per actor)

    @property
    def action(self) -> str:
        return CATEGORIES[self.category]

    @property
    def name(self) -> str:
        return self.path.stem


def parse_clip_name(path: str | Path) -> FlorenceClip:
    """The `FlorenceClip` of a file named ``GestureRecording_Id{n}actor{a}idAction{n}category{c}.*``.

    Raises:
        ValueError: the name does not follow that pattern or the category is not 1-9.
    """
    path = Path(path)
    match = _NAME.match(path.stem)
    if match is None:
        raise ValueError(f"{path.name} is not a Florence clip name (GestureRecording_Id<n>actor<a>idAction<n>"
                         "category<c>)")  # fmt: skip
    take, actor, _, category = (int(group) for group in match.groups())
    if category not in CATEGORIES:
        raise ValueError(f"{path.name}: category {category} is not one of 1-9")
    return FlorenceClip(path=path, actor=actor, category=category, take=take)


def clip_folder(root: str | Path) -> Path:
    """The folder holding the clips: ``root`` itself, ``root/florence3d`` or ``root/videos/florence3d``."""
    root = Path(root)
    for candidate in (root, root / FOLDER.name, root / FOLDER):
        if candidate.is_dir() and any(candidate.glob("GestureRecording_*")):
            return candidate
    raise FileNotFoundError(f"no Florence clips (GestureRecording_*.mp4) in {root}, {root / FOLDER.name} "
                            f"or {root / FOLDER}")  # fmt: skip


def list_clips(root: str | Path, actors: list[int] | tuple[int, ...] | None = None) -> list[FlorenceClip]:
    """The clips under ``root`` (see `clip_folder`) of the given actors (default all), by actor, category, take."""
    clips = [parse_clip_name(path) for path in clip_folder(root).glob("GestureRecording_*.mp4")]
    if actors is not None:
        clips = [clip for clip in clips if clip.actor in set(actors)]
    return sorted(clips, key=lambda clip: (clip.actor, clip.category, clip.take))


def expected_label(action: str, vocabulary: list[str] | tuple[str, ...], background: str = "background") -> str:
    """The label a checkpoint with ``vocabulary`` should give ``action``: its mapped label, else background."""
    label = FLORENCE_TO_VOCABULARY.get(action)
    return label if label is not None and label in vocabulary else background
