"""The Florence video evaluation: clip readings, the clip table, the pose cache, and real clips end to end.

The real-clip tests stream four Florence clips of actor 1 (wave, drink, sit
down, stand up) through the camera path with the shipped checkpoint, check
the category numbering on the pose itself, that a cached replay gives the
same labels as MediaPipe live, and that the evaluation's labels are exactly
``stream-run --video CLIP --fast``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import PoseModelError, SkelstreamError, SourceError
from models.checkpoint import read_config
from models.pretrained import DEFAULT_CHECKPOINT
from models.skeleton.layouts import MEDIAPIPE_33
from stream.evaluation.clip_readings import READINGS, read_clip, readings_of
from stream.evaluation.florence import (CATEGORIES, FLORENCE_TO_VOCABULARY, clip_folder, expected_label,
                                        list_clips, parse_clip_name)  # fmt: skip
from stream.run.config import RunConfig
from stream.types import ActionEvent, Frame, FrameLabel, Person
from tests.conftest import shared_dataset
from tests.stream.conftest import free_endpoint


UTKINECT_VOCABULARY = ["background", "walk", "sitDown", "standUp", "pickUp", "carry", "throw", "push", "pull",
                       "waveHands", "clapHands"]  # fmt: skip
CLIPS = {  # actor 1: one clip of each kind the test needs
    "wave": "GestureRecording_Id1actor1idAction1category1.mp4",
    "drink from a bottle": "GestureRecording_Id5actor1idAction5category2.mp4",
    "sit down": "GestureRecording_Id19actor1idAction19category6.mp4",
    "stand up": "GestureRecording_Id20actor1idAction20category7.mp4",
}


def labels_of(track: int, *names: str, score: float = 0.8) -> list[FrameLabel]:
    return [FrameLabel(track_id=track, frame=i, stamp_ns=0, label=name, score=score) for i, name in enumerate(names)]


# --- readings -----------------------------------------------------------------------------------
def test_no_labels_read_as_background_without_a_subject():
    reading = read_clip([])
    assert (reading.any_action, reading.majority, reading.subject_track, reading.tracks) == (
        "background", "background", None, 0)


def test_any_action_and_majority_differ_when_background_dominates():
    labels = labels_of(1, *["background"] * 5, "waveHands", "waveHands", "waveHands", "throw", "throw")
    reading = read_clip(labels)
    assert reading.any_action == "waveHands" and reading.majority == "background"
    assert reading.counts == {"background": 5, "waveHands": 3, "throw": 2}
    assert read_clip(labels_of(1, "background", "background")).any_action == "background"


def test_the_subject_is_the_track_with_most_labels_and_others_do_not_vote():
    subject = labels_of(3, "sitDown", "sitDown", "background", "sitDown")
    bystander = labels_of(1, "throw", "throw", "throw")
    reading = read_clip(bystander + subject)
    assert reading.subject_track == 3 and reading.tracks == 2
    assert reading.any_action == reading.majority == "sitDown"
    assert reading.other_tracks == {"throw": 3}
    tie = read_clip(labels_of(5, "pull", "pull") + labels_of(2, "push", "push"))
    assert tie.subject_track == 2 and tie.majority == "push"  # equal counts: the lower id


def test_ties_go_to_the_higher_summed_score_then_the_first_seen():
    labels = labels_of(1, "throw", "throw", score=0.5) + labels_of(1, "waveHands", "waveHands", score=0.9)
    assert read_clip(labels).majority == "waveHands"
    assert read_clip(labels_of(1, "throw", "waveHands")).majority == "throw"


def test_failed_frames_are_counted_but_never_voted():
    reading = read_clip(labels_of(1, "failed", "failed", "failed", "background", "standUp", "standUp"))
    assert reading.majority == "standUp" and reading.any_action == "standUp"
    assert reading.counts["failed"] == 3
    assert read_clip(labels_of(1, "failed", "failed")).majority == "background"
    with pytest.raises(ValueError, match="reading"):
        reading.prediction("mean")


def gesture(track: int, label: str, frame: int) -> ActionEvent:
    return ActionEvent(track_id=track, kind="gesture", label=label, frame=frame, stamp_ns=0, score=0.9, delay_ms=0.0)


def test_the_gesture_reading_is_the_subjects_first_gesture_event():
    labels = labels_of(1, "background", "kick", "kick", "bow", "bow", "bow") + labels_of(2, "throw")
    events = [gesture(1, "bow", 5), gesture(1, "kick", 2), gesture(2, "throw", 0),
              ActionEvent(track_id=1, kind="start", label="bow", frame=3, stamp_ns=0, score=0.9)]  # fmt: skip
    reading = read_clip(labels, events=events)
    assert reading.gesture == "kick" and reading.prediction("gesture") == "kick" and reading.majority == "bow"
    assert read_clip(labels, events=[gesture(2, "throw", 0)]).gesture == "background"  # a bystander's event
    assert read_clip(labels).gesture == "background" and read_clip([], events=events).gesture == "background"
    assert readings_of(True) == READINGS and "gesture" not in readings_of(False)


def test_the_start_reading_is_the_subjects_first_start_event():
    """What a robot acting on action events reacts to: the subject's earliest start (by the frame it dates),
    never a bystander's, background without one (a clip too short for the minimum duration)."""
    labels = labels_of(1, "background", "waveHands", "waveHands", "waveHands") + labels_of(2, "throw")

    def start(track: int, label: str, frame: int) -> ActionEvent:
        return ActionEvent(track_id=track, kind="start", label=label, frame=frame, stamp_ns=0, score=0.7)

    events = [start(1, "clapHands", 3), start(1, "waveHands", 1), start(2, "throw", 0), gesture(1, "bow", 0),
              ActionEvent(track_id=1, kind="end", label="pull", frame=0, stamp_ns=0, score=0.7)]  # fmt: skip
    reading = read_clip(labels, events=events)
    assert reading.start == reading.prediction("start") == "waveHands" and reading.gesture == "bow"
    assert read_clip(labels, events=[start(2, "throw", 0)]).start == "background"
    assert read_clip(labels).start == "background" and read_clip([], events=events).start == "background"
    assert "start" in readings_of(False) and "start" in readings_of(True)


# --- the dataset --------------------------------------------------------------------------------
def test_clip_names_parse_and_bad_names_are_refused():
    clip = parse_clip_name("/x/GestureRecording_Id12actor3idAction12category7.mp4")
    assert (clip.take, clip.actor, clip.category, clip.action) == (12, 3, 7, "stand up")
    with pytest.raises(ValueError, match="not a Florence clip name"):
        parse_clip_name("clip.mp4")
    with pytest.raises(ValueError, match="category 12"):
        parse_clip_name("GestureRecording_Id1actor1idAction1category12.mp4")


def test_subjects_select_actors_as_dataset_references_do():
    from stream.cli.evaluate import _selected_clips

    root = shared_dataset("videos/florence3d").parent.parent

    def actors(subjects):
        return sorted({clip.actor for clip in _selected_clips("florence-video", subjects, root)})

    assert actors("5,6") == actors("!1,2,3,4") == [5, 6]
    assert actors("1,2,9") == [1, 2]
    assert len(_selected_clips("florence-video", None, root)) == 129
    with pytest.raises(SkelstreamError, match="by actor only"):
        _selected_clips("florence-video", "5;category=1", root)
    with pytest.raises(SkelstreamError, match="subjects must be integers"):
        _selected_clips("florence-video", "five", root)


def test_the_vocabulary_table_maps_only_labels_the_checkpoint_has():
    assert set(FLORENCE_TO_VOCABULARY) <= set(CATEGORIES.values())
    expected = {action: expected_label(action, UTKINECT_VOCABULARY) for action in CATEGORIES.values()}
    assert expected == {"wave": "waveHands", "drink from a bottle": "background", "answer phone": "background",
                        "clap": "clapHands", "tie lace": "background", "sit down": "sitDown",
                        "stand up": "standUp", "read watch": "background", "bow": "background"}  # fmt: skip
    gestures = ["background", "lift_outstretched_arms", "duck", "bow", "kick"]
    assert {a for a in CATEGORIES.values() if expected_label(a, gestures) != "background"} == {"bow"}
    assert expected_label("wave", ["background", "walk"]) == "background"  # a checkpoint without waveHands


def test_every_shared_clip_is_listed():
    folder = shared_dataset("videos/florence3d")
    clips = list_clips(folder.parent.parent)
    assert len(clips) == 129 and {c.actor for c in clips} == {1, 2, 3, 4, 5, 6}
    assert {c.category for c in clips} == set(CATEGORIES)
    assert clip_folder(folder) == clip_folder(folder.parent) == folder
    assert [c.name for c in list_clips(folder, actors=[2])] == [c.name for c in clips if c.actor == 2]
    with pytest.raises(FileNotFoundError, match="no Florence clips"):
        clip_folder(folder.parent.parent / "utkinect_action3d")


def test_the_confusion_plot_takes_different_row_and_column_names(tmp_path):
    import matplotlib.image

    from models.evaluation.confusion import plot_confusion

    matrix = np.array([[3, 0, 1, 0], [0, 2, 0, 0]])
    path = plot_confusion(matrix, ["wave", "bow"], tmp_path / "c.png", predicted_names=["bg", "sit", "wave", "x"])
    assert matplotlib.image.imread(path).shape[:2] == (400, 500)  # 4 columns, 2 rows: the minimum size
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        plot_confusion(matrix, ["wave", "bow"], tmp_path / "bad.png", predicted_names=["a", "b", "c"])


# --- the pose cache -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pose_model() -> Path:
    """The pose model stream-run uses (prepared offline into the skelstream cache on first use)."""
    pytest.importorskip("mediapipe", reason="the pose extra is not installed (pip install -e '.[pose]')")
    from stream.pose.provision import resolve_pose_model

    try:
        return resolve_pose_model()
    except PoseModelError as error:
        pytest.skip(f"no pose model: {error}")


def test_the_cache_key_follows_the_clip_and_the_pose_settings(pose_model, tmp_path):
    from stream.evaluation.pose_cache import PoseCache

    clip, other = tmp_path / "a.mp4", tmp_path / "b.mp4"
    clip.write_bytes(b"one clip")
    other.write_bytes(b"another clip")
    cache = PoseCache(tmp_path / "cache", RunConfig(pose_model=str(pose_model)))
    key = cache.key(clip)
    assert cache.key(clip) == key and cache.key(other) != key
    for changed in (RunConfig(pose_model=str(pose_model), num_poses=1),
                    RunConfig(pose_model=str(pose_model), smoothing=False)):  # fmt: skip
        assert PoseCache(tmp_path / "cache", changed).key(clip) != key
    copy = tmp_path / "copy.task"  # the same model elsewhere: the same key (content, not path)
    copy.write_bytes(pose_model.read_bytes())
    assert PoseCache(tmp_path / "cache", RunConfig(pose_model=str(copy))).key(clip) == key
    with zipfile.ZipFile(copy, "a") as archive:  # the model changed: another key
        archive.writestr("notes.txt", "changed")
    assert PoseCache(tmp_path / "cache", RunConfig(pose_model=str(copy))).key(clip) != key


def test_the_cache_round_trips_people_exactly_and_ignores_bad_entries(pose_model, tmp_path):
    from stream.evaluation.pose_cache import CachingPose, PoseCache

    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"one clip")
    cache = PoseCache(tmp_path / "cache", RunConfig(pose_model=str(pose_model)))
    rng = np.random.default_rng(0)
    person = Person(joints=rng.normal(size=(33, 3)).astype(np.float32), layout="mediapipe_33",
                    confidence=rng.uniform(size=33).astype(np.float32),
                    image_points=rng.uniform(0, 640, size=(33, 2)).astype(np.float32))  # fmt: skip
    assert cache.load(clip) is None and cache.misses == 1
    path = cache.save(clip, 20.0, [(0, 0, []), (1, 50_000_000, [person])])
    people = cache.load(clip)
    assert cache.hits == 1 and sorted(people) == [0, 1] and people[0] == []
    (back,) = people[1]
    for name in ("joints", "confidence", "image_points"):
        assert np.array_equal(getattr(back, name), getattr(person, name))
    with CachingPose(people, make_estimator=lambda: pytest.fail("replaying must not build an estimator")) as pose:
        assert pose.estimate(Frame(index=-1, stamp_ns=0)) == []  # warm-up frame
        assert pose.estimate(Frame(index=1, stamp_ns=0))[0] is back
        with pytest.raises(SourceError, match="no frame 2"):
            pose.estimate(Frame(index=2, stamp_ns=0))
    path.write_bytes(path.read_bytes()[:-7])  # torn last record: not trusted
    assert cache.load(clip) is None
    path.write_bytes(b"garbage")
    assert cache.load(clip) is None
    clip.write_bytes(b"the clip changed")  # another key, another entry
    assert cache.entry(clip) != path


# --- real clips end to end ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    """A folder holding links to the four test clips (so the command line evaluates just those)."""
    folder = shared_dataset("videos/florence3d")
    links = tmp_path_factory.mktemp("florence")
    for name in CLIPS.values():
        (links / name).symlink_to(folder / name)
    return links


@pytest.fixture(scope="module")
def evaluated(pose_model, clip_dir, tmp_path_factory):
    """The four clips evaluated twice with one fresh cache: MediaPipe live, then replayed."""
    from stream.backends import make_backend
    from stream.evaluation.pose_cache import PoseCache
    from stream.evaluation.video_evaluation import evaluate_clips

    config = RunConfig(source="video", video=str(clip_dir), fast=True, pose_model=str(pose_model))
    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    cache = PoseCache(tmp_path_factory.mktemp("pose-cache"), config)
    clips = list_clips(clip_dir)
    live = evaluate_clips(clips, config, backend, cache)
    replayed = evaluate_clips(clips, config, backend, cache)
    return {"live": live, "replayed": replayed, "cache": cache, "labels": list(backend.config.labels),
            "lookups": (cache.misses, cache.hits)}


def test_real_clips_are_streamed_and_read(evaluated):
    live = evaluated["live"]
    assert [r.clip.action for r in live] == ["wave", "drink from a bottle", "sit down", "stand up"]
    for result in live:
        assert result.run.frames >= 20 and result.run.frames_with_people == result.run.frames
        assert result.reading.tracks >= 1 and sum(result.reading.counts.values()) > 10
        assert {r.label for r in result.run.labels} <= set(evaluated["labels"])
    assert live[0].expected == "waveHands" and live[1].expected == "background"


def test_the_category_numbering_shows_in_the_pose(evaluated):
    """Category 6 sits down (the hips sink in the image), 7 stands up (they rise), 1 raises a hand over the head."""
    cache = evaluated["cache"]
    by_action = {r.clip.action: cache.load(r.clip.path) for r in evaluated["live"]}
    hips = [MEDIAPIPE_33.index("hip_left"), MEDIAPIPE_33.index("hip_right")]

    def track(people, joints):  # image y of the joints' mean, first person of each frame
        return np.array([people[i][0].image_points[joints, 1].mean() for i in sorted(people) if people[i]])

    sit, stand = track(by_action["sit down"], hips), track(by_action["stand up"], hips)
    assert sit[-3:].mean() - sit[:3].mean() > 30  # pixels, y down
    assert stand[:3].mean() - stand[-3:].mean() > 30
    wave = by_action["wave"]
    wrists = [MEDIAPIPE_33.index("wrist_left"), MEDIAPIPE_33.index("wrist_right")]
    highest_wrist = np.array([wave[i][0].image_points[wrists, 1].min() for i in sorted(wave)])
    nose = np.array([wave[i][0].image_points[MEDIAPIPE_33.index("nose"), 1] for i in sorted(wave)])
    assert np.any(highest_wrist < nose)


def test_a_cached_replay_gives_the_labels_of_mediapipe_live(evaluated):
    assert evaluated["lookups"] == (4, 4)  # (misses, hits): each clip estimated once, replayed once
    for live, replayed in zip(evaluated["live"], evaluated["replayed"]):
        assert not live.run.pose_cached and replayed.run.pose_cached
        assert [(x.track_id, x.frame, x.label, x.score) for x in live.run.labels] == \
            [(x.track_id, x.frame, x.label, x.score) for x in replayed.run.labels]  # fmt: skip


def test_the_evaluation_labels_what_stream_run_labels(evaluated, tmp_path):
    """`stream-run --video CLIP --fast` in its own process records exactly the evaluation's labels."""
    (result,) = [r for r in evaluated["live"] if r.clip.action == "stand up"]
    recording = tmp_path / "run.skrec"
    run = subprocess.run([sys.executable, "-m", "stream.cli.run", "--video", str(result.clip.path), "--fast",
                          "--pose-model", str(evaluated["cache"].model_path), "--zmq", free_endpoint(),
                          "--record", str(recording)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    from stream.recordings.skrec import read_recording

    _, reader = read_recording(recording)
    recorded = sorted((p.id, r.index, p.label) for r in reader for p in r.people if p.label)
    ours = sorted((x.track_id, x.frame, x.label) for x in result.run.labels)
    assert len(ours) > 10 and recorded == ours


def test_summary_counts_add_up(evaluated, tmp_path):
    from stream.evaluation.video_evaluation import format_table, summarize, write_confusions

    metrics = summarize(evaluated["live"], evaluated["labels"])
    assert list(metrics["readings"]) == ["any_action", "majority", "start"]
    for reading in ("any_action", "majority", "start"):
        found = metrics["readings"][reading]
        assert np.array(found["confusion"]["matrix"]).sum() == 4
        assert found["known_clips"] == 3 and found["other_clips"] == 1
        assert set(found["per_class_accuracy"]) == {"waveHands", "sitDown", "standUp"}
        correct = sum(row["correct"] for row in found["per_category"].values() if row["expected"] != "background")
        assert found["known_accuracy"] == pytest.approx(correct / 3)
    table = format_table(metrics)
    assert "stand up" in table and "known actions: accuracy" in table and "clap" not in table
    assert "start event" in table
    written = write_confusions(metrics, tmp_path / "confusion.png")
    assert [p.name for p in written] == ["confusion.png", "confusion-any-action.png", "confusion-start.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_the_command_line_evaluates_a_folder_of_clips(evaluated, clip_dir, tmp_path, capsys):
    from stream.cli.evaluate import main

    out = tmp_path / "florence.json"
    code = main(["--dataset", "florence-video", "--root", str(clip_dir), "--subjects", "1", "--cache-dir",
                 str(evaluated["cache"].folder), "--pose-model", str(evaluated["cache"].model_path),
                 "--json", str(out), "--confusion", str(tmp_path / "c.png")])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "4 hits, 0 clips estimated" in printed and "majority vote" in printed
    metrics = json.loads(out.read_text())
    assert metrics["clips"] == 4 and metrics["pose"]["hits"] == 4 and metrics["run"]["stride"] == RunConfig().stride
    assert metrics["checkpoint"] == str(DEFAULT_CHECKPOINT)
    assert [c["majority"] for c in metrics["per_clip"]] == [r.reading.majority for r in evaluated["live"]]
    assert (tmp_path / "c.png").is_file() and (tmp_path / "c-any-action.png").is_file()
    assert metrics["run"]["min_score"] == read_config(DEFAULT_CHECKPOINT).min_score > 0
    # --min-score as stream-run's: at 0 every frame with a person gets its most likely class, at 0.99 few or none
    levels = {}
    for level in ("0", "0.99"):
        assert main(["--dataset", "florence-video", "--root", str(clip_dir), "--subjects", "1", "--cache-dir",
                     str(evaluated["cache"].folder), "--pose-model", str(evaluated["cache"].model_path),
                     "--min-score", level, "--json", str(out)]) == 0  # fmt: skip
        levels[level] = json.loads(out.read_text())
        assert levels[level]["run"]["min_score"] == float(level)
    named = {level: sum(label != "background" for c in m["per_clip"] for label in c["labels"])
             for level, m in levels.items()}  # fmt: skip
    shipped = sum(label != "background" for c in metrics["per_clip"] for label in c["labels"])
    assert named["0"] > shipped > named["0.99"]


def test_the_simple_baseline_goes_through_the_same_path_beside_the_checkpoint(evaluated, clip_dir, tmp_path, capsys):
    """``--baseline``: fitted on the training data found beside the clips (a data root), run on the same clips from
    the same pose cache; it takes stride 1 and lookahead 0 only."""
    from stream.cli.evaluate import main

    root = tmp_path / "data"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "florence3d").symlink_to(clip_dir)
    (root / "utkinect_action3d").symlink_to(shared_dataset("utkinect_action3d"))
    cache = evaluated["cache"]
    common = ["--dataset", "florence-video", "--root", str(root), "--cache-dir", str(cache.folder),
              "--pose-model", str(cache.model_path), "--baseline", "--baseline-train", "utkinect:1,2"]  # fmt: skip
    out = tmp_path / "florence.json"
    assert main([*common, "--baseline-windows", "400", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "the simple baseline (fitted on utkinect:1,2; 400 windows), same clips, same path" in printed
    metrics = json.loads(out.read_text())
    assert metrics["pose"]["hits"] == 4  # the checkpoint's run alone; the baseline's replays the same people
    baseline = metrics["baseline"]
    assert baseline["clips"] == 4 and set(baseline["readings"]) == {"any_action", "majority", "start"}
    assert baseline["fit"]["train"] == ["utkinect:1,2"] and baseline["fit"]["windows"] == 400
    assert all(not c["errors"] and c["labels"] for c in baseline["per_clip"])
    assert [c["labels"] for c in baseline["per_clip"]] != [c["labels"] for c in metrics["per_clip"]]
    assert main([*common, "--stride", "4"]) == 2
    assert "run it with stride 1 (or auto) and lookahead 0" in capsys.readouterr().err



def test_a_gesture_checkpoints_baseline_is_read_by_its_gesture_events_too(evaluated, clip_dir, tmp_path):
    """The baseline of `gestures` keeps the checkpoint's gesture rules, so the clips are read by its events as well
    (a robot acting on gestures reacts to those)."""
    from stream.cli.evaluate import main

    root = tmp_path / "data"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "florence3d").symlink_to(clip_dir)
    (root / "msrc12").symlink_to(shared_dataset("msrc12"))
    cache, out = evaluated["cache"], tmp_path / "florence.json"
    assert main(["--dataset", "florence-video", "--root", str(root), "--checkpoint", "gestures", "--cache-dir",
                 str(cache.folder), "--pose-model", str(cache.model_path), "--baseline", "--baseline-train",
                 "msrc12:6", "--baseline-windows", "400", "--json", str(out)]) == 0  # fmt: skip
    metrics = json.loads(out.read_text())
    assert set(metrics["readings"]) == set(metrics["baseline"]["readings"]) == set(READINGS)
    assert all(c["gesture"] in metrics["labels"] for c in metrics["baseline"]["per_clip"])

def test_stream_runs_checks_of_the_run_settings_apply(clip_dir, capsys):
    from stream.cli.evaluate import main

    assert main(["--dataset", "florence-video", "--root", str(clip_dir), "--stride", "65", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "stride (--stride) must be between 1 and 64" in err and "Traceback" not in err


def test_the_command_line_says_what_is_wrong_and_sends_skeleton_datasets_on(tmp_path, capsys):
    from stream.cli.evaluate import main

    assert main(["--dataset", "florence-video", "--root", str(tmp_path)]) == 2
    assert "no Florence clips" in capsys.readouterr().err
    assert main(["--dataset", "florence-video", "--root", str(tmp_path), "--subjects", "5"]) == 2
    assert "no Florence clips" in capsys.readouterr().err
    assert main(["--dataset", "florence-video", "--root", str(tmp_path), "--subjects", "one"]) == 2
    capsys.readouterr()
    # any other dataset is the skeleton-side evaluation's (models.cli.evaluate), with its own messages
    code = main(["--dataset", "utkinect", "--checkpoint", str(DEFAULT_CHECKPOINT), "--root", str(tmp_path),
                 "--subjects", "5"])  # fmt: skip
    assert code == 2 and "no utkinect files" in capsys.readouterr().err


def test_world_landmarks_stream_from_the_same_pose_cache(evaluated, clip_dir, pose_model):
    """``--pose-3d world``: the cache's MediaPipe people replayed with their world landmarks, where the default
    (auto: lifted) lifts their image landmarks."""
    from stream.backends import make_backend
    from stream.evaluation.video_evaluation import evaluate_clips

    config = RunConfig(source="video", video=str(clip_dir), fast=True, pose_model=str(pose_model), pose_3d="world")
    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    world = evaluate_clips(list_clips(clip_dir), config, backend, evaluated["cache"])
    for lifted, ours in zip(evaluated["live"], world):
        assert ours.run.pose_cached and not ours.run.errors  # MediaPipe not run again
        assert [(x.track_id, x.frame) for x in ours.run.labels] == [(x.track_id, x.frame) for x in lifted.run.labels]
    scores = [x.score for r in world for x in r.run.labels]
    assert scores != [x.score for r in evaluated["live"] for x in r.run.labels]  # other joints, other scores


def test_the_image_root_motion_reaches_the_model_and_can_be_turned_off(evaluated, clip_dir):
    """``--no-root-motion``: the same people, frames and labels to publish, but the model sees every root
    still (stream/stages/image_root_motion.py), so it scores them differently."""
    from stream.backends import make_backend
    from stream.evaluation.video_evaluation import evaluate_clips

    config = RunConfig(source="video", video=str(clip_dir), fast=True, pose_model=str(evaluated["cache"].model_path),
                       root_motion=False)  # fmt: skip
    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    still = evaluate_clips(list_clips(clip_dir), config, backend, evaluated["cache"])
    for moving, ours in zip(evaluated["live"], still):
        assert ours.run.pose_cached and not ours.run.errors
        assert [(x.track_id, x.frame) for x in ours.run.labels] == [(x.track_id, x.frame) for x in moving.run.labels]
    assert [x.score for r in still for x in r.run.labels] != [x.score for r in evaluated["live"] for x in r.run.labels]


def test_a_gesture_checkpoint_is_read_by_its_gesture_events(evaluated, clip_dir, tmp_path, capsys):
    """`--checkpoint gestures`: the gesture-event reading is its first event; the actions checkpoint has none."""
    from stream.backends import make_backend
    from stream.cli.evaluate import main
    from stream.evaluation.video_evaluation import evaluate_clips, format_table, summarize, write_confusions

    assert "gesture" not in summarize(evaluated["live"], evaluated["labels"])["readings"]
    config = RunConfig(source="video", video=str(clip_dir), fast=True, checkpoint="gestures",
                       pose_model=str(evaluated["cache"].model_path))  # fmt: skip
    backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
    results = evaluate_clips(list_clips(clip_dir), config, backend, evaluated["cache"])
    for result in results:
        events = sorted((e.frame, e.label) for e in result.run.events
                        if e.kind == "gesture" and e.track_id == result.reading.subject_track)  # fmt: skip
        assert result.reading.gesture == (events[0][1] if events else "background")
        assert result.expected == "background"  # none of these four actions is a gesture
    metrics = summarize(results, backend.config.labels, readings_of(True))
    found = metrics["readings"]["gesture"]
    assert found["known_clips"] == 0 and found["other_clips"] == 4
    assert found["other_background_rate"] == sum(r.reading.gesture == "background" for r in results) / 4
    assert "gesture event" in format_table(metrics)
    written = write_confusions(metrics, tmp_path / "g.png")
    assert [p.name for p in written] == ["g.png", "g-any-action.png", "g-start.png", "g-gesture.png"]
    out = tmp_path / "gestures.json"
    assert main(["--dataset", "florence-video", "--root", str(clip_dir), "--checkpoint", "gestures",
                 "--cache-dir", str(evaluated["cache"].folder), "--pose-model", str(evaluated["cache"].model_path),
                 "--json", str(out)]) == 0  # fmt: skip
    assert "gesture event" in capsys.readouterr().out
    assert [c["gesture"] for c in json.loads(out.read_text())["per_clip"]] == [r.reading.gesture for r in results]


class _KeptWindows:
    """The real backend, keeping every batch of windows it is given (to compare with what training cuts)."""

    def __init__(self, backend) -> None:
        self.backend, self.name, self.config = backend, backend.name, backend.config
        self.batches: list[np.ndarray] = []

    def check_windows(self, windows: np.ndarray) -> None:
        self.backend.check_windows(windows)

    def run(self, windows: np.ndarray) -> np.ndarray:
        self.batches.append(windows.copy())
        return self.backend.run(windows)


def test_saved_skeletons_give_training_the_windows_the_model_was_given(evaluated, clip_dir, tmp_path, capsys):
    """``--save-skeletons``: each clip's person as the model took them. Prepared and cut as training does
    (`prepare_sequence`, `cut_window`), they give every window the stream ran on that person."""
    from models.datasets.florence_camera import read_florence_camera_folder
    from models.windows import cut_window, prepare_sequence, window_ends
    from stream.backends import make_backend
    from stream.cli.evaluate import main
    from stream.evaluation.video_evaluation import evaluate_clips

    config = RunConfig(source="video", video=str(clip_dir), fast=True, pose_model=str(evaluated["cache"].model_path))
    checkpoint = make_backend(config.backend, config.checkpoint, threads=config.threads).config
    for clip in list_clips(clip_dir):
        kept = _KeptWindows(make_backend(config.backend, config.checkpoint, threads=config.threads))
        (result,) = evaluate_clips([clip], config, kept, evaluated["cache"], save_skeletons=tmp_path / "saved")
        assert result.reading.tracks == 1 and result.skeletons == tmp_path / "saved" / f"{clip.name}.npz"
        (sequence,) = read_florence_camera_folder(tmp_path / "saved", {clip.actor})
        assert sequence.label == clip.action and sequence.fps == 20.0
        prepared = prepare_sequence(sequence, checkpoint.fps)
        offline = np.stack([cut_window(prepared, int(end), checkpoint.num_frames, checkpoint.normalization)[0]
                            for end in window_ends(prepared.num_frames, 1)])  # fmt: skip
        streamed = np.concatenate(kept.batches[1:])  # after the warm-up call
        assert len(streamed) == len(offline) == prepared.num_frames
        np.testing.assert_allclose(streamed, offline, atol=2e-5, err_msg=clip.name)
        result.skeletons.unlink()
    code = main(["--dataset", "florence-video", "--root", str(clip_dir), "--cache-dir", str(evaluated["cache"].folder),
                 "--pose-model", str(evaluated["cache"].model_path), "--save-skeletons", str(tmp_path / "cli")])
    assert code == 0 and "4 of 4 clips' skeletons saved in" in capsys.readouterr().out
    saved = read_florence_camera_folder(tmp_path / "cli")
    assert sorted(s.label for s in saved) == sorted(CLIPS) and {s.subject for s in saved} == {1}
    settings = json.loads((tmp_path / "cli" / "settings.json").read_text())
    assert settings["pose_3d"] == RunConfig().pose_3d and settings["root_motion"] is True


def test_saving_skeletons_never_mixes_clips_made_otherwise(evaluated, clip_dir, tmp_path, capsys):
    """A folder of saved clips made with other settings (here without the root's image motion), or whose
    settings.json is torn, is refused before any clip runs and left as it was; made the same way, it is saved
    into again."""
    from stream.cli.evaluate import main

    folder = tmp_path / "saved"
    args = ["--dataset", "florence-video", "--root", str(clip_dir), "--cache-dir", str(evaluated["cache"].folder),
            "--pose-model", str(evaluated["cache"].model_path), "--save-skeletons", str(folder)]  # fmt: skip
    assert main(args) == 0
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert len(before) == 5  # four clips and settings.json
    capsys.readouterr()
    assert main([*args, "--no-root-motion"]) == 2
    assert "holds clips made with other settings (they differ in root_motion" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    (folder / "settings.json").write_text("{torn")
    assert main(args) == 2
    assert "has a settings.json that does not read" in capsys.readouterr().err
    (folder / "settings.json").unlink()
    assert main(args) == 2
    assert "holds clips but has no settings.json" in capsys.readouterr().err
    (folder / "settings.json").write_bytes(before["settings.json"])
    assert main(args) == 0 and "4 of 4 clips' skeletons saved in" in capsys.readouterr().out
