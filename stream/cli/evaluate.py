"""`stream-eval`: the skeleton datasets (`models.cli.evaluate`) and the video datasets, through the camera path.

``--dataset florence-video`` streams every Florence 3D Actions clip through the
real camera path, exactly as ``stream-run --video CLIP --fast`` (OpenCV decode,
MediaPipe in VIDEO mode, tracking, windows, the checkpoint, the online
decoder), reduces each clip to one prediction three ways (any
non-background label; majority vote; its first start event, what a robot
acting on action events reacts to) — and, for a checkpoint that emits gesture
events (``--checkpoint gestures``), a fourth: its first gesture event — and
reports per-class clip accuracy for
the actions the checkpoint knows, the background rate on the others and the
confusion. MediaPipe's results are cached per clip (``--cache-dir``, keyed by
the pose model, the clip and the pose settings), so re-evaluating a
checkpoint runs only the model. ``--baseline`` runs the project's simple
baseline through the same path on the same clips, beside the checkpoint
(`stream.backends.baseline_backend`: pooled joints and velocities → logistic
regression, fitted on the checkpoint's own training datasets — found under
``--root`` when it is a data root — or ``--baseline-train``). ``--save-skeletons`` also keeps each clip's
person as the model saw them (`stream.evaluation.camera_skeletons`): dataset ``florence-camera``, real
camera skeletons to train on. Every other dataset goes to the skeleton-side
evaluation (``stream-eval --dataset utkinect --help``). The split lives here,
not in ``models/``, because ``models/`` never imports ``stream/``.

Examples::

    stream-eval --dataset florence-video --root ../shared/data --json florence.json --confusion florence.png
    stream-eval --dataset florence-video --root ../shared/data --subjects 1,2 --checkpoint runs/x/checkpoint \\
        --backend onnxruntime --stride 4
    stream-eval --dataset florence-video --root ../shared/data --save-skeletons   # then train on florence-camera
    stream-eval --dataset florence-video --root ../shared/data --baseline   # the simple baseline beside it (minutes;
                                                  # the shipped actions trained on florence-camera: save it first)
    stream-eval --dataset utkinect --checkpoint actions \\
        --root ../shared/data/utkinect_action3d --subjects 5,6

Defaults are ``stream-run``'s (checkpoint, backend, threads, stride, lookahead,
pose model, ``--num-poses``, smoothing), and so are the checks of their values.
What a clip's framing is, and the mapping of Florence actions onto the
checkpoint's labels, are documented in `stream.evaluation.florence`. Exit
codes: 0 done, 1 when the JSON cannot be written, 2 when something cannot start
(a bad value, no clips, bad checkpoint, no pose model) or a clip cannot be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from foundation.errors import SkelstreamError
from foundation.output_files import write_atomically


VIDEO_DATASETS = ("florence-video",)
PROGRESS_EVERY = 16  # clips between progress lines on a terminal


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of ``stream-eval ARGV``: the video evaluation's when ``--dataset`` names a video dataset,
    else the skeleton evaluation's (`models.cli.evaluate`)."""
    if _dataset(argv) in VIDEO_DATASETS:
        return build_video_parser()
    from models.cli.evaluate import build_parser as build_skeleton_parser

    return build_skeleton_parser()


def build_video_parser() -> argparse.ArgumentParser:
    """The flags of the video evaluation (``--dataset florence-video``)."""
    from models.evaluation.window_baseline import DEFAULT_WINDOWS
    from stream.cli.run import stride_flag
    from stream.run.config import BACKENDS, POSE_3D, RunConfig

    defaults = RunConfig()
    parser = argparse.ArgumentParser(prog="stream-eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--dataset", required=True, choices=VIDEO_DATASETS,
                        help="a video dataset (skeleton datasets: stream-eval --dataset utkinect --help)")
    parser.add_argument("--root", required=True,
                        help="the clips' folder, or a data root holding videos/florence3d (e.g. ../shared/data)")
    parser.add_argument("--subjects", help="the actors to evaluate: 5,6 or all but some, !1,2,3,4 (default: all "
                                            "present)")
    parser.add_argument("--checkpoint", default=defaults.checkpoint,
                        help="a shipped checkpoint's name (actions, gestures) or a detection checkpoint directory "
                             "(default: stream-run's, actions)")
    parser.add_argument("--backend", default=defaults.backend, choices=BACKENDS,
                        help=f"(default {defaults.backend}, as stream-run)")
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help="model threads (default: the backend's, as stream-run)")
    parser.add_argument("--stride", type=stride_flag, default=defaults.stride,
                        help=f"model-rate frames between model calls (default {defaults.stride}, as stream-run: 1 "
                             "unless the machine cannot keep up; a number pins it, for figures that never depend on "
                             "the machine's load)")
    parser.add_argument("--lookahead", type=int, default=defaults.lookahead,
                        help=f"frames of delay traded for accuracy (default {defaults.lookahead})")
    parser.add_argument("--min-score", type=float,
                        help="a frame whose most likely action scores below this probability is published as "
                             "background, 0 to below 1, as stream-run (default: the checkpoint's min_score)")
    parser.add_argument("--pose-model", default=defaults.pose_model,
                        help="a MediaPipe pose_landmarker_*.task (default: prepared offline)")
    parser.add_argument("--num-poses", type=int, default=defaults.num_poses,
                        help=f"people MediaPipe looks for (default {defaults.num_poses})")
    parser.add_argument("--smoothing", action=argparse.BooleanOptionalAction, default=defaults.smoothing,
                        help="One-Euro landmark smoothing (default on, as stream-run)")
    parser.add_argument("--pose-3d", choices=POSE_3D, default=defaults.pose_3d,
                        help="3D joints from MediaPipe's image landmarks lifted, or its world landmarks (as "
                             f"stream-run; default {defaults.pose_3d}: lifted; the pose cache serves both)")
    parser.add_argument("--lifter", help="--pose-3d lifted: a lifter directory (default: the shipped one)")
    parser.add_argument("--root-motion", action=argparse.BooleanOptionalAction, default=defaults.root_motion,
                        help="the model sees each person's root move as it moves in the image (as stream-run; "
                             "default on)")
    parser.add_argument("--cache-dir", help="pose cache folder (default: $SKELSTREAM_CACHE/pose, else "
                                            "~/.cache/skelstream/pose)")
    parser.add_argument("--no-cache", action="store_true", help="run MediaPipe on every clip, store nothing")
    parser.add_argument("--json", help="write the metrics and every clip's labels here")
    parser.add_argument("--confusion", help="write the majority-vote confusion PNG here (and one per other "
                                            "reading beside it: NAME-any-action.png, NAME-start.png, "
                                            "NAME-gesture.png)")
    parser.add_argument("--save-skeletons", nargs="?", const="", metavar="DIR",
                        help="also keep each clip's person as the model saw them, to train on (dataset florence-camera;"
                             " default folder: $SKELSTREAM_CACHE/derived/florence_camera, else "
                             "~/.cache/skelstream/derived/florence_camera)")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the project's simple baseline (pooled joints and velocities → logistic "
                             "regression) through the same path, fitted on the checkpoint's own training data "
                             "(stride 1, lookahead 0 only; slow: minutes)")
    parser.add_argument("--baseline-train", nargs="+", metavar="REF",
                        help="--baseline: the datasets to fit it on (default: the checkpoint's training datasets, "
                             "from its config.json), e.g. utkinect kinder-gator")
    parser.add_argument("--baseline-windows", type=int, default=DEFAULT_WINDOWS,
                        help=f"--baseline: training windows drawn (default {DEFAULT_WINDOWS})")
    parser.add_argument("--verbose", action="store_true",
                        help="log progress (INFO) and let MediaPipe/TFLite print their own log lines")
    return parser


def _selected_clips(dataset: str, subjects: str | None, root: str) -> list:
    """The clips under ``root`` of the actors ``--subjects`` selects (`models.datasets.selection` syntax: ``5,6``,
    ``!1,2``; None: all); a clip has no attributes to select by."""
    from models.datasets.selection import DatasetRef
    from stream.evaluation.florence import list_clips

    selection = DatasetRef.parse(f"{dataset}:{subjects}" if subjects else dataset)
    if selection.attributes:
        raise SkelstreamError(f"--subjects {subjects!r}: video clips are selected by actor only (e.g. 5,6 or !1,2)")
    return [clip for clip in list_clips(root) if selection.accepts_subject(clip.actor)]


def _video_main(argv: list[str]) -> int:
    from stream.backends import make_backend
    from stream.evaluation.clip_readings import readings_of
    from stream.evaluation.pose_cache import PoseCache, default_cache_folder
    from stream.evaluation.video_evaluation import evaluate_clips, format_table, summarize, write_confusions
    from stream.run.config import RunConfig

    args = build_video_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")  # fmt: skip
    started = time.perf_counter()
    interactive = sys.stderr.isatty()  # before the log filter puts a pipe on stderr
    with ExitStack() as stack:
        if not args.verbose:
            from stream.pose.native_log import NativeLogFilter

            stack.enter_context(NativeLogFilter())
        try:
            config = RunConfig(source="video", video=str(args.root), fast=True, checkpoint=args.checkpoint,
                               backend=args.backend, threads=args.threads, stride=args.stride,
                               lookahead=args.lookahead, min_score=args.min_score, pose_model=args.pose_model,
                               num_poses=args.num_poses, smoothing=args.smoothing, pose_3d=args.pose_3d,
                               lifter=args.lifter, root_motion=args.root_motion)  # fmt: skip
            clips = _selected_clips(args.dataset, args.subjects, args.root)
            if not clips:
                raise SkelstreamError(f"no Florence clips of actors {args.subjects} under {args.root}")
            backend = make_backend(config.backend, config.checkpoint, threads=config.threads)
            config.check_model(backend.config, config.checkpoint)
            cache = None if args.no_cache else PoseCache(args.cache_dir or default_cache_folder(), config)

            def progress(number: int, total: int, result) -> None:
                if number % PROGRESS_EVERY == 0 or number == total:
                    print(f"stream-eval: {number}/{total} clips", file=sys.stderr, flush=True)

            if args.baseline:
                _check_baseline_settings(args, config)
            skeleton_folder = _skeleton_folder(args, config, cache)
            results = evaluate_clips(clips, config, backend, cache, progress=progress if interactive else None,
                                     save_skeletons=skeleton_folder)  # fmt: skip
            pose_counts = (cache.hits, cache.misses) if cache is not None else None
            if args.baseline:
                baseline, baseline_train = _fit_baseline(args, backend.config, interactive)
                baseline_results = evaluate_clips(clips, config, baseline, cache,
                                                  progress=progress if interactive else None)  # fmt: skip
        except (SkelstreamError, OSError, ValueError) as error:
            print(f"stream-eval: error: {error}", file=sys.stderr)
            return 2
    metrics = {
        "dataset": args.dataset,
        "checkpoint": str(config.checkpoint),
        "labels": list(backend.config.labels),
        "run": {"backend": backend.name, "threads": config.threads, "stride": config.stride,
                "lookahead": config.lookahead, "num_poses": config.num_poses, "smoothing": config.smoothing,
                "min_score": backend.config.min_score if config.min_score is None else config.min_score},
        "pose": None if cache is None else {"cache": str(cache.folder), "hits": pose_counts[0],
                                            "misses": pose_counts[1], **cache.settings},
        **summarize(results, backend.config.labels, readings_of(backend.config.points is not None)),
        "seconds": time.perf_counter() - started,
    }  # fmt: skip
    print(f"{args.dataset}: {Path(config.checkpoint).name} ({backend.name}), stride {config.stride}, "
          f"lookahead {config.lookahead}; pose cache: "
          f"{'off' if cache is None else f'{pose_counts[0]} hits, {pose_counts[1]} clips estimated'}")  # fmt: skip
    print(format_table(metrics))
    if skeleton_folder is not None:
        saved = sum(result.skeletons is not None for result in results)
        print(f"stream-eval: {saved} of {len(results)} clips' skeletons saved in {skeleton_folder} "
              "(dataset florence-camera)")  # fmt: skip
    if args.baseline:
        metrics["baseline"] = {**summarize(baseline_results, baseline.config.labels,
                                           readings_of(baseline.config.points is not None)),
                               "fit": {"train": baseline_train, "windows": args.baseline_windows,
                                       "strength": baseline.baseline.classifier.chosen_strength}}  # fmt: skip
        print(f"\nthe simple baseline (fitted on {' '.join(baseline_train)}; {args.baseline_windows} windows), "
              "same clips, same path")  # fmt: skip
        print(format_table(metrics["baseline"]))
    try:
        if args.json:
            write_atomically(args.json, json.dumps(metrics, indent=2) + "\n")
        if args.confusion:
            write_confusions(metrics, args.confusion)
    except OSError as error:  # OutputError included
        print(f"stream-eval: error: {error}", file=sys.stderr)
        return 1
    return 0


def _skeleton_folder(args: argparse.Namespace, config, cache) -> Path | None:
    """``--save-skeletons``' folder (None without the flag), with a settings.json saying how they are made.

    A folder already holding clips made otherwise (another pose model, lifter, root motion; its settings.json
    says) is refused before any clip runs: saving into it would leave skeletons of two kinds under one
    settings.json, and training would take them as one kind."""
    from models.datasets.florence_camera import default_folder

    if args.save_skeletons is None:
        return None
    folder = Path(args.save_skeletons) if args.save_skeletons else default_folder()
    settings = {"made_by": "stream-eval --dataset florence-video --save-skeletons", "root": str(args.root),
                "pose_3d": config.pose_3d, "lifter": config.lifter, "root_motion": config.root_motion,
                "pose": None if cache is None else cache.settings}  # fmt: skip
    if any(folder.glob("*.npz")):
        _check_same_making(folder, json.loads(json.dumps(settings)))  # compared as it reads back
    write_atomically(folder / "settings.json", json.dumps(settings, indent=2) + "\n")
    return folder


def _check_same_making(folder: Path, settings: dict) -> None:
    """Refuse a folder of saved clips whose settings.json is missing, unreadable or says other settings (where the
    data root was given makes no difference: clips are kept by name)."""
    path = folder / "settings.json"
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        problem = "has no settings.json" if not path.exists() else f"has a settings.json that does not read ({error})"
        raise SkelstreamError(f"--save-skeletons: {folder} holds clips but {problem}: give another folder, or "
                              "empty this one to remake every clip") from None  # fmt: skip
    recorded = recorded if isinstance(recorded, dict) else {}
    differing = sorted(key for key in (set(recorded) | set(settings)) - {"root"}
                       if recorded.get(key) != settings.get(key))  # fmt: skip
    if differing:
        raise SkelstreamError(f"--save-skeletons: {folder} holds clips made with other settings (they differ in "
                              f"{', '.join(differing)}: see its settings.json); give another folder, or empty this "
                              "one to remake every clip")  # fmt: skip


def _check_baseline_settings(args: argparse.Namespace, config) -> None:
    """Before any clip runs: the baseline's packages (the train extra), and its settings — it labels each window's
    last frame, so it runs at stride 1 and lookahead 0 only."""
    from foundation.optional import require

    require("sklearn", "train", "--baseline", pip_name="scikit-learn")
    require("torch", "train", "--baseline (its training windows)")
    if config.pinned_stride not in (None, 1) or config.lookahead != 0:
        raise SkelstreamError("--baseline labels each window's last frame: run it with stride 1 (or auto) and "
                              "lookahead 0, stream-run's defaults")  # fmt: skip
    if args.baseline_windows < 100:
        raise SkelstreamError(f"--baseline-windows must be >= 100, got {args.baseline_windows}")


def _fit_baseline(args: argparse.Namespace, checkpoint, interactive: bool):
    """The simple baseline fitted on ``checkpoint``'s training data (or ``--baseline-train``), as a backend, and
    the datasets it was fitted on."""
    from models.evaluation.window_baseline import WindowBaseline
    from models.training.config import load_train_config
    from models.training.detection_data import detection_data
    from stream.backends.baseline_backend import BaselineBackend

    stored = dict(checkpoint.training.get("config") or {})
    if not stored and not args.baseline_train:
        raise SkelstreamError("--baseline: the checkpoint's config.json does not say what it was trained on; "
                              "give --baseline-train")  # fmt: skip
    if args.baseline_train:
        stored["train"] = list(args.baseline_train)
    if (Path(args.root) / "videos").is_dir():  # a data root: the training datasets are beside the clips
        stored["data_root"] = str(args.root)
    train_config = load_train_config(**{**stored, "task": "detect", "val": []})
    print(f"stream-eval: fitting the baseline on {args.baseline_windows} windows of {' '.join(train_config.train)}",
          file=sys.stderr, flush=True)  # fmt: skip

    def progress(done: int, total: int) -> None:
        print(f"stream-eval: baseline windows {done}/{total}", file=sys.stderr, flush=True)

    baseline = WindowBaseline.fit(detection_data(train_config, synthetic=False), checkpoint, args.baseline_windows,
                                  progress=progress if interactive else None)  # fmt: skip
    return BaselineBackend(baseline), list(train_config.train)


def _dataset(argv: Sequence[str]) -> str | None:
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--dataset")
    known, _ = probe.parse_known_args(list(argv))
    return known.dataset


def main(argv: list[str] | None = None) -> int:
    """``stream-eval``: video datasets here, every other dataset in `models.cli.evaluate`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _dataset(argv) in VIDEO_DATASETS:
        return _video_main(argv)
    from models.cli import evaluate

    return evaluate.main(argv)


if __name__ == "__main__":
    sys.exit(main())
