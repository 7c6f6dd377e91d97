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
    "florence-camera": {  # camera skeletons of Florence clips; the others (drink, phone, ...) are background
        "wave": "waveHands",
        "clap": "clapHands",
        "sit down": "sitDown",
        "stand up": "standUp",
    },
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

MSRC12_MAP: dict[str, dict[str, str | None]] = {
    # Other datasets mark no action points, so none of their clips can teach a gesture's moment: a clip close to
    # one of the twelve gestures is left out, every other one is background ("none of my gestures") ...
    "utkinect": {
        "throw": None,
        "push": None,  # a push of both arms, close to push_right
    },
    "kinder-gator": {
        "bow": None,
        "touch_your_toes": None,  # a deep bow
        "kick_a_ball": None,
        "kick_a_ball_as_far_as_you_can": None,
        "kick_a_ball_with_the_other_leg": None,
        "kick_a_ball_as_far_as_you_can_with_the_other_leg": None,
        "throw_a_ball": None,
        "throw_a_ball_as_far_as_you_can": None,
        "throw_a_ball_with_your_other_arm": None,
        "throw_a_ball_as_far_as_you_can_with_the_other_arm": None,
        "point_at_the_camera": None,  # an arm held out like shoot's pistol
        "do_two_jumping_jacks": None,  # both arms lifted out to the sides
        "make_the_letter_y": None,  # the end pose of lift_outstretched_arms
        "swipe_across_an_imaginary_screen_in_front_of_you_from_left_to_right": None,  # push_right
        "draw_a_circle": None,  # wind_it_up
    },
    "utd-mhad": {
        "right arm swipe to the right": None,  # push_right
        "right arm throw": None,
        "basketball shooting": None,  # an overhead throw
        "bowling (right hand)": None,  # an underarm throw
        "tennis serve": None,  # an overhead throw
        "two hand push": None,
        "draw circle (clockwise)": None,  # wind_it_up
        "draw circle (counter clockwise)": None,
        "squat": None,  # duck
    },
    "nw-ucla": {
        "throw": None,
        "drop trash": None,  # a short toss
    },
    # ... except the camera path's own bows: a Florence clip holds one short bow and little else, so its active span
    # (`clip_targets.active_span`) is the bow, as MediaPipe sees it (the bend mostly in depth).
    "florence-camera": {
        "bow": "bow",
    },
    "msr-action3d": {
        "high throw": None,
        "pickup and throw": None,
        "forward kick": None,
        "side kick": None,
        "bend": None,  # a bow
        "draw circle": None,  # wind_it_up
        "tennis serve": None,
    },
}
"""The MSRC-12 gesture vocabulary (the `gestures` checkpoint's twelve): everything the other datasets hold is
background except the actions close to a gesture, which are left out."""

VOCABULARY_MAPS: dict[str, Mapping[str, Mapping[str, str | None]]] = {"utkinect": UTKINECT_MAP, "msrc12": MSRC12_MAP}


def mapped_label(table: Mapping[str, Mapping[str, str | None]], dataset: str, label: str) -> str | None:
    """The vocabulary label of ``dataset``'s ``label``: an action, ``"background"``, or None (left out)."""
    entries = table.get(dataset, {})
    if label in entries:
        return entries[label]
    return "background"
