"""Do the bone and motion streams earn their cost? One fine-tune per input modality, and their ensembles.

    python -m models.experiments.modality_streams --output runs/streams --sets nw-ucla msr-action3d \\
        --seeds 0 1 --extra "msr-action3d=--shear 0.3"

For each classification set of the transfer table (`models.experiments.transfer.DOWNSTREAM`), each seed and
each modality (joint, bone, motion; `models.modalities`), one `stream-train classify` run from the encoder with
the transfer recipe's flags (and ``--extra`` flags per set); then, per seed, the joint + bone and the joint +
bone + motion ensembles (`models.stream_ensemble`: the members' probabilities averaged) on the set's test
split, beside the project's simple baseline on the same split. Runs go two at a time, one thread each;
finished runs are not repeated. Writes ``<output>/results.json`` and ``<output>/results.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from models.experiments.transfer import DOWNSTREAM, Downstream, run_baseline, run_training, write_results

logger = logging.getLogger(__name__)

MODALITIES = ("joint", "bone", "motion")  # `models.dste_config.MODALITIES` in the order of the table
ENSEMBLES = {"joint + bone": ("joint", "bone"), "three streams": MODALITIES}
FOUNDATION = "models/encoders/dste-small-foundation"


def stream_run(downstream: Downstream, modality: str, seed: int, extra: tuple[str, ...]) -> Downstream:
    """The set's recipe for one modality and seed."""
    flags = (*downstream.flags, *extra, "--seed", str(seed), "--model", json.dumps({"modality": modality}))
    return dataclasses.replace(downstream, flags=flags)


def ensemble_accuracy(checkpoints: list[Path], test: str, data_root: str) -> float:
    """Clip accuracy of the members' mean probabilities on the dataset reference ``test``."""
    from models.checkpoint import load_checkpoint
    from models.evaluation.runner import evaluate_classification
    from models.stream_ensemble import StreamEnsemble, check_members
    from models.training.config import TrainConfig
    from models.training.detection_data import load_refs

    loaded = [load_checkpoint(path) for path in checkpoints]
    configs = [config for _, config in loaded]
    check_members(configs, [str(path) for path in checkpoints])
    clips, _ = load_refs([test], TrainConfig(data_root=data_root, fps=configs[0].fps))
    ensemble = StreamEnsemble([model for model, _ in loaded]).eval()
    return float(evaluate_classification(ensemble, configs[0], clips)["accuracy"])


def table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: a row per set and seed (and their mean), a column per modality and ensemble."""
    columns = [*MODALITIES, *ENSEMBLES]
    lines = ["| set | baseline | seed | " + " | ".join(columns) + " |", "|---|---|---|" + "---|" * len(columns)]
    for downstream in DOWNSTREAM:
        result = results.get(downstream.key)
        if not result:
            continue
        seeds = result["seeds"]
        rows = [(str(seed), figures) for seed, figures in seeds.items()]
        if len(seeds) > 1:
            rows.append(("mean", {c: float(np.mean([f[c] for f in seeds.values()])) for c in columns}))
        for seed, figures in rows:
            lines.append(f"| {downstream.title} | {result['baseline']:.3f} | {seed} | "
                         + " | ".join(f"{figures[c]:.3f}" for c in columns) + " |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    classify = [d.key for d in DOWNSTREAM if d.task == "classify"]
    parser.add_argument("--output", default="runs/streams", help="where runs and the table go")
    parser.add_argument("--encoder", default=FOUNDATION, help="checkpoint whose encoder starts every run")
    parser.add_argument("--sets", nargs="*", default=classify, choices=classify, help="classification sets to run")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0], help="a run per modality and seed")
    parser.add_argument("--extra", action="append", default=[],
                        help="SET=FLAGS: more stream-train flags for one set's runs, e.g. 'msr-action3d=--shear 0.3'")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    extra: dict[str, tuple[str, ...]] = {}
    for item in args.extra:
        key, equals, flags = item.partition("=")
        if not equals or key not in args.sets:
            parser.error(f"--extra {item!r}: give SET=FLAGS with SET one of {', '.join(args.sets)}")
        extra[key] = tuple(shlex.split(flags))
    output = Path(args.output)
    train_cmd = [sys.executable, "-m", "models.cli.train"]
    chosen = [d for d in DOWNSTREAM if d.key in args.sets]
    results: dict[str, dict[str, Any]] = {}
    for downstream in chosen:  # the baseline first: it is quick and every table needs it
        baseline = run_baseline(output / downstream.key / "baseline", downstream, args.data_root)
        results[downstream.key] = {"baseline": baseline["accuracy"], "seeds": {}}
    runs = [(d, modality, seed, output / d.key / f"{modality}-seed{seed}")
            for d in chosen for seed in args.seeds for modality in MODALITIES]  # fmt: skip
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_training, out, stream_run(d, modality, seed, extra.get(d.key, ())), args.encoder,
                               False, args.data_root, train_cmd) for d, modality, seed, out in runs]  # fmt: skip
        finished = [future.result() for future in futures]
    for (downstream, modality, seed, _), metrics in zip(runs, finished):
        results[downstream.key]["seeds"].setdefault(seed, {})[modality] = metrics["accuracy"]
    for downstream in chosen:
        for seed, figures in results[downstream.key]["seeds"].items():
            for name, members in ENSEMBLES.items():
                checkpoints = [output / downstream.key / f"{m}-seed{seed}" / "checkpoint" for m in members]
                figures[name] = ensemble_accuracy(checkpoints, downstream.test, args.data_root)
            logger.info("%s seed %d: %s", downstream.key, seed, figures)
    write_results(output, results, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
