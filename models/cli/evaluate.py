"""`stream-eval`: evaluate a checkpoint on a labelled dataset and print a small table.

Examples::

    stream-eval --checkpoint actions --dataset utkinect \\
        --root ../shared/data/utkinect_action3d --subjects 5,6 --json out.json
    # gestures on MSRC-12's action points, causal as stream-run; --lookahead 2 adds what waiting 2 frames buys
    stream-eval --checkpoint gestures --dataset msrc12 --root ../shared/data --subjects 5,9,13,18,23,29 \\
        --lookahead 2 --json gestures.json
    # a checkpoint you trained: runs/msr-usdrl-finetune/ is made by bash models/configs/run_experiments.sh
    stream-eval --checkpoint runs/msr-usdrl-finetune/checkpoint --dataset msr-action3d \\
        --root ../shared/data/msr_action3d --subjects 2,4,6 --json out.json
    # as stream-run labels by default: a window every model frame, causal (each frame's label as soon as possible)
    stream-eval --checkpoint actions --dataset utkinect \\
        --root ../shared/data/utkinect_action3d --subjects 5,6 --stride 1 --lookahead 0

Detection checkpoints report frame_accuracy, frame_map, segment_map (tIoU
0.1/0.3/0.5), frame_errors (actions missed, background named, actions
confused; the share of the errors within 2, 4 and 8 frames of a true
boundary and the frame accuracy with those forgiven) and the time to
detect: from each true action's start (or
action point) to the first frame label naming it and to the first start
event, in stream time (the wait for the window that makes a label final;
model compute not included), p50/p95 and the fraction never detected,
pooled and per action (``time_to_detect_by_action`` in the JSON). Windows
are fused as the stream fuses them (--stride, --lookahead, --fusion); the
default, every window covering a frame, is the offline protocol of the
model card; ``--min-score`` counts frames at another level than the
checkpoint's, as ``stream-run --min-score`` publishes them. Classification
checkpoints report accuracy. Subjects whose files
are absent from --root are skipped (what is there is evaluated). --subjects
takes a dataset reference's selection (`models.datasets.selection`): ids
(``5,6``), all but some (``!1,2``) or an attribute, e.g. NW-UCLA's cross-view
split::

    stream-eval --checkpoint runs/ucla/checkpoint --dataset nw-ucla --root ../shared/data \\
        --subjects view=2 --gallery-subjects view=1

Recordings with action points (``--dataset msrc12``) are scored by the
latency-aware protocol of Fothergill et al. (CHI 2012): the checkpoint's
gesture events (its ``config.json`` → ``events.points``, exactly as the
stream emits them) against the action points, one to one, an event correct
when it names the gesture within Δ = 0.333, 0.5 and 1.0 s of a point:
precision, recall and F1 pooled and per gesture, and the median and 90th
percentile delay of the correct events (event time − action point; negative:
early). Causal by default (``--stride 1 --lookahead 0``: what stream-run
does); ``--lookahead N`` adds a row with N frames of waiting (events then
come N frames later); ``--baseline`` adds the project's simple baseline
(pooled joints and velocities → logistic regression, fitted on the dataset's
other people with the checkpoint's dense targets around each action point)
on the same protocol. ``--json`` writes ``event_f1``, ``event_precision``,
``event_recall`` (Δ in seconds, ``"0.333"``, ``"0.5"``, ``"1.0"`` → the pooled
figure), ``per_gesture`` (gesture → ``f1``/``precision``/``recall`` → the
same maps), ``delay_ms`` (``p50``, ``p90``, ``count``), ``counts`` and
``confusion`` (at Δ = 1 s: rows the points' gestures and "no gesture" for
false alarms, columns the events' gestures and "missed"; ``--confusion``
draws it) of the causal row, then ``with_lookahead`` and ``baseline`` (each
the same keys).
Video datasets run through the camera path instead (the ``stream-eval``
command sends them to the streaming side): ``stream-eval --dataset
florence-video --help`` lists their flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from foundation.errors import SkelstreamError
from foundation.output_files import OutputError, write_atomically
from models.datasets.selection import DatasetRef
from models.fusion import FUSIONS


DEFAULT = object()
"""``--stride``/``--lookahead`` not given: the protocol's default (detection: 8 / every window; points: 1 / 0)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--checkpoint", required=True,
                        help="a shipped checkpoint's name (actions, gestures) or a checkpoint directory "
                             "(config.json + model.safetensors)")
    parser.add_argument("--dataset", required=True, help="dataset name: utkinect, msr-action3d, msrc12, ...")
    parser.add_argument("--root", required=True, help="the dataset's folder (or a data root containing it)")
    parser.add_argument("--subjects", help="which sequences to evaluate: subject ids (5,6), all but some (!1,2) or "
                                           "an attribute (nw-ucla: view=2), as after the colon of a dataset "
                                           "reference (default: all)")
    parser.add_argument("--gallery-subjects",
                        help="classification: the clips that form the 1-NN retrieval gallery, selected as "
                             "--subjects (e.g. 1,3,5,7 or view=1)")
    parser.add_argument("--stride", type=int, default=DEFAULT,
                        help="frames between windows, as in streaming (default 8; msrc12: 1, as stream-run)")
    parser.add_argument("--lookahead", type=_lookahead, default=DEFAULT,
                        help="detection: frames after a frame whose windows may still count (0: causal, as "
                             "stream-run; default all: every window covering the frame); msrc12: the causal row "
                             "is always reported, N > 0 adds a row that waits N frames")
    parser.add_argument("--baseline", action="store_true",
                        help="msrc12: also score the project's simple baseline on the same protocol, fitted on the "
                             "dataset's people not in --subjects (slow: minutes)")
    parser.add_argument("--fusion", choices=FUSIONS, default="recent",
                        help="detection: how the windows covering a frame combine (default recent)")
    parser.add_argument("--min-score", type=_probability,
                        help="detection: a frame whose most likely action scores below this is counted as "
                             "background, as stream-run --min-score publishes it, 0 to below 1 (default: the "
                             "checkpoint's min_score)")  # fmt: skip
    parser.add_argument("--json", help="write the metrics here")
    parser.add_argument("--confusion", help="write the confusion matrix PNG here (msrc12: the causal row's events "
                                            "against the action points at Δ = 1 s, with missed points and false "
                                            "alarms)")
    return parser


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < 1.0:  # NaN, a word or out of range
        raise argparse.ArgumentTypeError(f"expected a probability from 0 to below 1, got {text!r}")
    return value


def _lookahead(text: str) -> int | None:
    if text == "all":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of frames >= 0 or 'all', got {text!r}")
    return int(text)


def _table(metrics: dict) -> str:
    rows = [(key, value) for key, value in metrics.items() if isinstance(value, (int, float))]
    rows += [(f"segment_map@{k}", v) for k, v in metrics.get("segment_map", {}).items()]
    errors = metrics.get("frame_errors", {})
    rows += [(f"frame_errors.{k}", v) for k, v in errors.items() if isinstance(v, int)]
    rows += [(f"frame_errors.near_edges@{k}", v) for k, v in errors.get("near_edges", {}).items()]
    rows += [(f"frame_accuracy_forgiving_edges@{k}", v) for k, v in errors.get("accuracy_forgiving_edges", {}).items()]
    for kind, entry in metrics.get("time_to_detect", {}).items():
        rows += [(f"time_to_detect.{kind}.{k}" + (" ms" if k.startswith("p") else ""), v) for k, v in entry.items()]
    for action, entry in metrics.get("time_to_detect_by_action", {}).get("label", {}).items():
        rows += [(f"time_to_detect.label[{action}].p50 ms", entry["p50"])] if "p50" in entry else []
        rows.append((f"time_to_detect.label[{action}].never_detected", entry["never_detected"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    from models.checkpoint import load_checkpoint
    from models.datasets.registry import dataset_spec, load_ref
    from models.evaluation.runner import evaluate_classification, evaluate_detection
    from models.pretrained import resolve_checkpoint

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        selection = _selection(args.dataset, args.subjects)
        gallery_selection = _selection(args.dataset, args.gallery_subjects) if args.gallery_subjects else None
    except SkelstreamError as error:
        print(f"stream-eval: error: --subjects / --gallery-subjects: {error}", file=sys.stderr)
        return 2
    try:
        checkpoint = resolve_checkpoint(args.checkpoint)
        model, config = load_checkpoint(checkpoint)
        spec = dataset_spec(args.dataset)
        if spec.task == "points" and args.lookahead is None:
            raise SkelstreamError("--lookahead all gives gesture events no time to be published at: give a number "
                                  "of frames")  # fmt: skip
        if args.baseline and spec.task != "points":
            raise SkelstreamError(f"--baseline scores recordings with action points (msrc12), not {args.dataset}")
        if args.min_score is not None:
            if config.task != "detection" or spec.task == "points":
                scored_by = "gesture events" if config.task == "detection" else "clips"
                raise SkelstreamError(f"--min-score sets the level of published frame labels; {args.dataset} with "
                                      f"{args.checkpoint} is scored by {scored_by}")  # fmt: skip
            config = dataclasses.replace(config, min_score=args.min_score)
        sequences = load_ref(selection, args.root)
        if not sequences:
            raise SkelstreamError(f"no {args.dataset} files for subjects {args.subjects} under {args.root}")
        expected = list(spec.labels) if config.task == "classification" else ["background", *spec.labels]
        if list(config.labels) != expected:
            raise SkelstreamError(f"{args.checkpoint} predicts {config.labels}, but {args.dataset} is labelled "
                                  f"{expected}")  # fmt: skip
        if spec.task == "points":
            metrics = _gesture_metrics(args, model, config, sequences)
        elif config.task == "detection":
            stride = 8 if args.stride is DEFAULT else args.stride
            lookahead = None if args.lookahead is DEFAULT else args.lookahead
            metrics = evaluate_detection(model, config, sequences, stride=stride, confusion_png=args.confusion,
                                         lookahead=lookahead, fusion=args.fusion)  # fmt: skip
            metrics["fusion"] = {"stride": stride, "lookahead": lookahead, "fusion": args.fusion,
                                 "min_score": config.min_score}  # fmt: skip
        else:
            gallery = load_ref(gallery_selection, args.root) if gallery_selection else None
            metrics = evaluate_classification(model, config, sequences, gallery=gallery, confusion_png=args.confusion)
    except (SkelstreamError, ValueError) as error:
        print(f"stream-eval: error: {error}", file=sys.stderr)
        return 2
    subjects = sorted({s.subject for s in sequences}) if args.subjects else None  # the evaluated people
    metrics = {"dataset": args.dataset, "subjects": subjects, "selection": str(selection), "checkpoint": str(checkpoint),
               **metrics}  # fmt: skip
    if spec.task == "points":
        from models.evaluation.gestures import gesture_table

        rows = {"causal": metrics}
        if "with_lookahead" in metrics:
            rows[f"lookahead {args.lookahead}"] = metrics["with_lookahead"]
        if "baseline" in metrics:
            rows["baseline"] = metrics["baseline"]
            if "with_lookahead" in metrics["baseline"]:
                rows[f"baseline, lookahead {args.lookahead}"] = metrics["baseline"]["with_lookahead"]
        print(f"{args.dataset}: {metrics['num_recordings']} recordings, {metrics['num_points']} action points, "
              f"{checkpoint.name}, stride {metrics['stride']}")  # fmt: skip
        print(gesture_table(rows))
    else:
        print(_table(metrics))
    if args.json:
        try:
            write_atomically(args.json, json.dumps(metrics, indent=2) + "\n")
        except OutputError as error:
            print(f"stream-eval: error: --json: {error}", file=sys.stderr)
            return 1
    return 0


def _selection(dataset: str, text: str | None) -> DatasetRef:
    """The dataset reference ``dataset:text`` (``text`` None: every sequence); a malformed one raises."""
    return DatasetRef.parse(f"{dataset}:{text}" if text else dataset)


def _gesture_metrics(args: argparse.Namespace, model, config, sequences: list) -> dict:
    """The action-point protocol: the causal row, ``with_lookahead`` when asked, ``baseline`` when asked."""
    from models.datasets.registry import load_dataset
    from models.evaluation.gestures import evaluate_gesture_detector, evaluate_gestures, frame_baseline_probabilities
    from models.inference import torch_logits
    from models.training.config import TrainConfig

    if config.points is None:
        raise SkelstreamError(f"{args.checkpoint} declares no gesture events (config.json events.points): the "
                              f"{args.dataset} protocol scores gesture events")  # fmt: skip
    stride = 1 if args.stride is DEFAULT else args.stride
    waiting = 0 if args.lookahead is DEFAULT else args.lookahead
    logits = torch_logits(model)
    metrics = evaluate_gesture_detector(logits, config, sequences, stride=stride, lookahead=0,
                                        confusion_png=args.confusion)  # fmt: skip
    if waiting:
        metrics["with_lookahead"] = evaluate_gesture_detector(logits, config, sequences, stride=stride,
                                                              lookahead=waiting)  # fmt: skip
    if args.baseline:
        evaluated = {s.subject for s in sequences}  # a split by person, whatever selected the recordings
        train = [s for s in load_dataset(args.dataset, args.root) if s.subject not in evaluated]
        if not train or args.subjects is None:
            raise SkelstreamError("--baseline fits on the people not evaluated: give --subjects, leaving others")
        recipe = config.training.get("config", {})  # the checkpoint's dense targets around each point, else the default
        span = tuple(recipe.get("point_span_s", TrainConfig().point_span_s))
        baseline: dict = {}
        for name, future in (("causal", 0), ("with_lookahead", waiting)) if waiting else (("causal", 0),):
            probabilities, prepared = frame_baseline_probabilities(train, sequences, config, span, future=future)
            scores = evaluate_gestures(probabilities, prepared, list(config.labels), config.points, future)
            if name == "causal":
                baseline.update(scores, point_span_s=list(span), train_recordings=len(train))
            else:
                baseline[name] = scores
        metrics["baseline"] = baseline
    return metrics


if __name__ == "__main__":
    sys.exit(main())
