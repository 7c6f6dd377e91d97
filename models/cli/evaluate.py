"""`stream-eval`: evaluate a checkpoint on a labelled dataset and print a small table.

Examples::

    stream-eval --checkpoint models/checkpoints/actions --dataset utkinect \\
        --root ../shared/data/utkinect_action3d --subjects 5,6 --json out.json
    # a checkpoint you trained: runs/msr-usdrl-finetune/ is made by bash models/configs/run_experiments.sh
    stream-eval --checkpoint runs/msr-usdrl-finetune/checkpoint --dataset msr-action3d \\
        --root ../shared/data/msr_action3d --subjects 2,4,6 --json out.json
    # as stream-run labels by default: a window every model frame, causal (each frame's label as soon as possible)
    stream-eval --checkpoint models/checkpoints/actions --dataset utkinect \\
        --root ../shared/data/utkinect_action3d --subjects 5,6 --stride 1 --lookahead 0

Detection checkpoints report frame_accuracy, frame_map, segment_map (tIoU
0.1/0.3/0.5) and the time to detect: from each true action's start (or
action point) to the first frame label naming it and to the first start
event, in stream time (the wait for the window that makes a label final;
model compute not included), p50/p95 and the fraction never detected.
Windows are fused as the stream fuses them (--stride, --lookahead, --fusion);
the default, every window covering a frame, is the offline protocol of the
model card. Classification checkpoints report accuracy. Subjects whose files
are absent from --root are skipped (what is there is evaluated).
Video datasets run through the camera path instead (the ``stream-eval``
command sends them to the streaming side): ``stream-eval --dataset
florence-video --help`` lists their flags.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from models.errors import SkelstreamError
from models.fusion import FUSIONS
from models.output_files import OutputError, write_atomically


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (config.json + model.safetensors)")
    parser.add_argument("--dataset", required=True, help="dataset name: utkinect, msr-action3d, ...")
    parser.add_argument("--root", required=True, help="the dataset's folder (or a data root containing it)")
    parser.add_argument("--subjects", help="comma-separated subject ids to evaluate (default: all)")
    parser.add_argument("--gallery-subjects",
                        help="classification: subjects whose clips form the 1-NN retrieval gallery (e.g. 1,3,5,7)")
    parser.add_argument("--stride", type=int, default=8, help="frames between windows, as in streaming (default 8)")
    parser.add_argument("--lookahead", type=_lookahead, default=None,
                        help="detection: frames after a frame whose windows may still count (0: causal, as "
                             "stream-run; default all: every window covering the frame)")
    parser.add_argument("--fusion", choices=FUSIONS, default="recent",
                        help="detection: how the windows covering a frame combine (default recent)")
    parser.add_argument("--json", help="write the metrics here")
    parser.add_argument("--confusion", help="write the confusion matrix PNG here")
    return parser


def _lookahead(text: str) -> int | None:
    if text == "all":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of frames >= 0 or 'all', got {text!r}")
    return int(text)


def _table(metrics: dict) -> str:
    rows = [(key, value) for key, value in metrics.items() if isinstance(value, (int, float))]
    rows += [(f"segment_map@{k}", v) for k, v in metrics.get("segment_map", {}).items()]
    for kind, entry in metrics.get("time_to_detect", {}).items():
        rows += [(f"time_to_detect.{kind}.{k}" + (" ms" if k.startswith("p") else ""), v) for k, v in entry.items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    from models.checkpoint import load_checkpoint
    from models.datasets.registry import dataset_spec, load_dataset
    from models.evaluation.runner import evaluate_classification, evaluate_detection

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        subjects = [int(s) for s in args.subjects.split(",")] if args.subjects else None
        gallery_subjects = [int(s) for s in args.gallery_subjects.split(",")] if args.gallery_subjects else None
    except ValueError:
        print("stream-eval: error: --subjects and --gallery-subjects take comma-separated integers", file=sys.stderr)
        return 2
    try:
        model, config = load_checkpoint(args.checkpoint)
        spec = dataset_spec(args.dataset)
        sequences = load_dataset(args.dataset, args.root, subjects)
        if not sequences:
            raise SkelstreamError(f"no {args.dataset} files for subjects {args.subjects} under {args.root}")
        expected = list(spec.labels) if config.task == "classification" else ["background", *spec.labels]
        if list(config.labels) != expected:
            raise SkelstreamError(f"{args.checkpoint} predicts {config.labels}, but {args.dataset} is labelled "
                                  f"{expected}")  # fmt: skip
        if config.task == "detection":
            metrics = evaluate_detection(model, config, sequences, stride=args.stride, confusion_png=args.confusion,
                                         lookahead=args.lookahead, fusion=args.fusion)  # fmt: skip
        else:
            gallery = load_dataset(args.dataset, args.root, gallery_subjects) if gallery_subjects else None
            metrics = evaluate_classification(model, config, sequences, gallery=gallery, confusion_png=args.confusion)
    except SkelstreamError as error:
        print(f"stream-eval: error: {error}", file=sys.stderr)
        return 2
    metrics = {"dataset": args.dataset, "subjects": subjects, **metrics}
    if config.task == "detection":
        metrics["fusion"] = {"stride": args.stride, "lookahead": args.lookahead, "fusion": args.fusion}
    print(_table(metrics))
    if args.json:
        try:
            write_atomically(args.json, json.dumps(metrics, indent=2) + "\n")
        except OutputError as error:
            print(f"stream-eval: error: --json: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
