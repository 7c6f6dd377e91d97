"""`stream-train`: USDRL pretraining, dense detection fine-tuning and clip classification.

Examples::

    # self-supervised pretraining on unlabelled real data
    stream-train pretrain --train ntu pku-mmd msrc12 precog utkinect:1,2,3,4 --output runs/pretrain
    # dense detection on UTKinect subjects 1-4, validated on 5-6, from the pretrained encoder
    stream-train detect --init runs/pretrain/checkpoint --train utkinect:1,2,3,4 --val utkinect:5,6
    # MSR Action3D cross-subject: linear probe on pretrained features
    stream-train classify --linear-probe --init runs/pretrain/checkpoint \\
        --train msr-action3d:1,3,5,7 --val msr-action3d:2,4,6 --output runs/msr-probe
    # a YAML config (models/configs/ holds the model card's), with flags overriding its keys; resume a run
    stream-train detect --config models/configs/detect_utkinect.yaml --resume
    # several GPUs / nodes (DistributedDataParallel)
    torchrun --nproc_per_node=4 -m models.cli.train pretrain --config models/configs/pretrain.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shlex
import sys

from foundation.config_files import annotation_base
from foundation.errors import SkelstreamError
from models.training.config import TASKS, TrainConfig, load_train_config


JSON_HELP = {
    "model": 'model config overrides as JSON, e.g. \'{"frame_feature": "temporal"}\'; \'{"missing_prompts": true}\' '
             'places missing joints with learned prompts (models/missing_joints.py)',
    "points": 'detect: gesture event rules as JSON, written to the checkpoint, e.g. '
              '\'{"threshold": 0.6, "release": 0.3, "refractory_s": 0.5, "confirm_frames": 1}\'; "peak_frames": 5 '
              'recognises each at its peak, at most 5 frames after confirmation (models/point_events.py)',
    "runs": 'detect: action start/end event rules as JSON, written to the checkpoint, e.g. '
            '\'{"min_duration_frames": 8, "confident_threshold": 0.8, "confident_frames": 4}\': a start after 8 '
            'frames above enter_threshold, or after 4 at >= 0.8 (models/action_runs.py)',
}


FLAG_TYPES = {"int": int, "float": float}
"""A flag's value type by its field's annotation (``float | None`` → float); other scalars stay strings."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("task", choices=TASKS, help="what to train")
    parser.add_argument("--config", help="YAML file of TrainConfig keys; flags override it")
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        if field.name == "task":
            continue
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        base = annotation_base(str(field.type))
        if base == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=f"(default: {default})")  # fmt: skip
        elif base.startswith("list["):
            parser.add_argument(flag, nargs="*", type=FLAG_TYPES.get(base[len("list[") : -1], str), default=None,
                                help=f"(default: {' '.join(map(str, default))})")  # fmt: skip
        elif base.startswith("dict"):
            parser.add_argument(flag, type=json.loads, default=None, help=JSON_HELP[field.name])
        else:
            parser.add_argument(flag, type=FLAG_TYPES.get(base, str), default=None, help=f"(default: {default})")
    return parser


def main(argv: list[str] | None = None) -> int:
    from models.training.loop import train

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: v for k, v in vars(args).items() if k != "config"}
    try:
        config = load_train_config(args.config, **overrides)
        metrics = train(config, command=shlex.join(["stream-train", *(argv if argv is not None else sys.argv[1:])]))
    except SkelstreamError as error:
        print(f"stream-train: error: {error}", file=sys.stderr)
        return 2
    if metrics is not None:  # rank 0 (or a single process) reports
        print(json.dumps({k: v for k, v in metrics.items() if k != "frame_ap"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
