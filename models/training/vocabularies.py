"""How other datasets' actions enter a checkpoint's vocabulary: as one of its actions, as background, or not at all.

A detector trained only on its own dataset has never seen "a human action that
is none of mine", and calls a person drinking water `waveHands`. Training with
hard negatives fixes that: the real actions of the other datasets are added to
detection training, each clip labelled by the table below.

- an entry ``label: "action"`` makes the clip a positive of that action of the
  vocabulary (its active frames; the idle ends stay background);
- an entry ``label: None`` leaves the clip out: it is too close to an action of
  the vocabulary to be called background, and too different to be called it;
- every label without an entry is background: a hard negative.

One table per vocabulary; a training config names it (``label_map``) and the
checkpoint records it.
"""

from __future__ import annotations

from collections.abc import Mapping

UTKINECT_MAP: dict[str, dict[str, str | None]] = {
    "kinder-gator": {
        "wave_your_hand": "waveHands",
        "throw_a_ball": "throw",
        "throw_a_ball_as_far_as_you_can": "throw",
        "walk_in_place": None,  # walking without moving through the room
        "walk_in_place_as_fast_as_you_can": None,
        "run_in_place": None,
        "run_in_place_as_fast_as_you_can": None,
    },
    "utd-mhad": {
        "right hand wave": "waveHands",
        "two hand front clap": "clapHands",
        "right arm throw": "throw",
        "two hand push": "push",
        "sit to stand": "standUp",
        "stand to sit": "sitDown",
        "pick up and throw": None,  # two of our actions in one clip
        "basketball shooting": None,  # throws of another kind
        "bowling (right hand)": None,
        "walking": None,  # in place
        "jogging": None,
    },
    "nw-ucla": {
        "pick up with one hand": "pickUp",
        "pick up with two hands": "pickUp",
        "walk around": "walk",
        "sit down": "sitDown",
        "stand up": "standUp",
        "throw": "throw",
        "carry": "carry",
        "drop trash": None,  # a short toss, close to throw
    },
    "msr-action3d": {
        "high arm wave": "waveHands",
        "horizontal arm wave": "waveHands",
        "two hand wave": "waveHands",
        "hand clap": "clapHands",
        "high throw": "throw",
        "pickup and throw": None,
        "jogging": None,
    },
    "msrc12": {
        "throw": "throw",
        "push_right": None,  # a one-handed push
    },
}
"""The UTKinect-Action3D vocabulary (walk, sitDown, standUp, pickUp, carry, throw, push, pull, waveHands,
clapHands): which actions of the other datasets are its actions, which are left out, the rest background."""

VOCABULARY_MAPS: dict[str, Mapping[str, Mapping[str, str | None]]] = {"utkinect": UTKINECT_MAP}


def mapped_label(table: Mapping[str, Mapping[str, str | None]], dataset: str, label: str) -> str | None:
    """The vocabulary label of ``dataset``'s ``label``: an action, ``"background"``, or None (left out)."""
    entries = table.get(dataset, {})
    if label in entries:
        return entries[label]
    return "background"
