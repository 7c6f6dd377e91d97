"""Does a pretrained encoder transfer? Fine-tune and linear-probe it on four real downstream sets.

    python -m models.experiments.transfer --output runs/transfer \\
        --encoder scratch --encoder usdrl=runs/usdrl/checkpoint --encoder multitask=runs/multitask/checkpoint

For every downstream set (below) and every encoder, two `stream-train` runs —
the whole model fine-tuned, and the encoder frozen under a trained head (linear
probe) — each evaluated on the set's held-out split; beside them, the project's
simple baseline (`models.evaluation.baseline`) on the same split. Runs go two
at a time, one thread each (this machine has two cores). The encoders must not
have seen any frame of the evaluated splits: `models/configs/pretrain_*.yaml`
leave them out.

Writes ``<output>/results.json`` and ``<output>/results.md`` (the table of the
model card); every run keeps its log, checkpoint and metrics under
``<output>/<set>/<encoder>-<mode>/``. Finished runs are not repeated.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Downstream:
    """A downstream set: its task, training and test splits, and the fine-tuning recipe's flags."""

    key: str
    title: str
    task: str  # "classify" or "detect"
    train: str
    test: str
    flags: tuple[str, ...] = ()
    probe_flags: tuple[str, ...] = ("--lr", "0.01")
    metrics: tuple[str, ...] = field(default=("accuracy",))


DOWNSTREAM = (
    Downstream("nw-ucla", "NW-UCLA, view 1 → view 2", "classify", "nw-ucla:view=1", "nw-ucla:view=2",
               ("--epochs", "40")),
    Downstream("utd-mhad", "UTD-MHAD, subjects 1,3,5,7 → 2,4,6,8", "classify", "utd-mhad:1,3,5,7",
               "utd-mhad:2,4,6,8", ("--epochs", "40")),
    Downstream("msr-action3d", "MSR Action3D, subjects 1,3,5,7 → 2,4,6", "classify", "msr-action3d:1,3,5,7",
               "msr-action3d:2,4,6", ("--epochs", "60")),
    Downstream("utkinect", "UTKinect, subjects 1-4 → 5-6 (dense detection)", "detect", "utkinect:1,2,3,4",
               "utkinect:5,6", ("--config", "models/configs/detect_utkinect.yaml"), ("--lr", "0.003"),
               ("frame_accuracy", "frame_map", "segment_map@0.5")),
)  # fmt: skip


def _metric(metrics: dict[str, Any], name: str) -> float:
    if name.startswith("segment_map@"):
        return float(metrics["segment_map"][name.split("@")[1]])
    return float(metrics[name])


def run_training(out: Path, downstream: Downstream, encoder: str | None, probe: bool, data_root: str,
                 train_cmd: list[str]) -> dict[str, Any]:  # fmt: skip
    """One fine-tuning (or probe) run; returns its final metrics on the test split (cached in metrics.json)."""
    done = out / "metrics.json"
    if done.is_file():
        return json.loads(done.read_text())
    out.mkdir(parents=True, exist_ok=True)
    command = [*train_cmd, downstream.task, *downstream.flags, "--train", downstream.train, "--val",
               downstream.test, "--data-root", data_root, "--output", str(out)]  # fmt: skip
    if encoder is not None:
        command += ["--init", encoder]
    if probe:
        command += ["--linear-probe", *downstream.probe_flags]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with (out / "train.log").open("w") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}); see {out / 'train.log'}")
    metrics = json.loads(result.stdout)
    done.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def run_baseline(out: Path, downstream: Downstream, data_root: str, fps: float = 15.0) -> dict[str, Any]:
    """The simple baseline on the same split (cached in metrics.json)."""
    from models.corpus import load_prepared
    from models.datasets.registry import dataset_spec
    from models.datasets.selection import DatasetRef
    from models.evaluation.baseline import clip_baseline, frame_baseline
    from models.evaluation.clip_metrics import clip_accuracy
    from models.evaluation.runner import detection_metrics

    done = out / "metrics.json"
    if done.is_file():
        return json.loads(done.read_text())
    train = load_prepared([downstream.train], data_root, fps)
    test = load_prepared([downstream.test], data_root, fps)
    labels = list(dataset_spec(DatasetRef.parse(downstream.train).name).labels)
    if downstream.task == "classify":
        probabilities = clip_baseline(train, test, labels)
        metrics = {"accuracy": clip_accuracy(probabilities, np.array([labels.index(c.label) for c in test]))}
    else:
        labels = ["background", *labels]
        # the same context as the offline protocol, which fuses windows reaching past the frame: 1 s either side
        metrics = detection_metrics(test, frame_baseline(train, test, labels, window=32, future=16), labels)
    out.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Markdown: one block per downstream set, a row per encoder and mode."""
    lines = []
    for downstream in DOWNSTREAM:
        rows = results.get(downstream.key)
        if not rows:
            continue
        lines += [f"**{downstream.title}**", "", "| run | " + " | ".join(downstream.metrics) + " |",
                  "|---|" + "---|" * len(downstream.metrics)]  # fmt: skip
        for name, metrics in rows.items():
            lines.append(f"| {name} | " + " | ".join(f"{_metric(metrics, m):.3f}" for m in downstream.metrics) + " |")
        lines.append("")
    return "\n".join(lines)


def write_results(output: Path, results: dict[str, Any], markdown: str) -> None:
    """``<output>/results.json`` and ``results.md``, and the table printed."""
    (output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (output / "results.md").write_text(markdown + "\n")
    print(markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="runs/transfer", help="where runs and the table go")
    parser.add_argument("--encoder", action="append", default=[],
                        help="NAME=CHECKPOINT of a pretrained encoder, or 'scratch' (repeatable)")
    parser.add_argument("--sets", nargs="*", default=[d.key for d in DOWNSTREAM], help="downstream sets to run")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--no-probe", action="store_true", help="fine-tune only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    encoders = {}
    for item in args.encoder or ["scratch"]:
        name, _, path = item.partition("=")
        encoders[name] = path or None
    train_cmd = [sys.executable, "-m", "models.cli.train"]
    output = Path(args.output)
    chosen = [d for d in DOWNSTREAM if d.key in args.sets]
    jobs = []
    for downstream in chosen:
        for name, path in encoders.items():
            for probe in (False, True) if not args.no_probe else (False,):
                mode = "probe" if probe else "finetune"
                jobs.append((downstream.key, f"{name} {mode}", output / downstream.key / f"{name}-{mode}",
                             downstream, path, probe))  # fmt: skip
    results: dict[str, dict[str, dict[str, Any]]] = {d.key: {} for d in chosen}
    for downstream in chosen:  # the baseline first: it is quick and every table needs it
        results[downstream.key]["baseline (pyramid + logistic regression)"] = run_baseline(
            output / downstream.key / "baseline", downstream, args.data_root)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_training, out, d, path, probe, args.data_root, train_cmd): (key, name)
                   for key, name, out, d, path, probe in jobs}  # fmt: skip
        for future, (key, name) in futures.items():
            try:
                results[key][name] = future.result()
                logger.info("%s %s done", key, name)
            except RuntimeError as error:
                logger.error("%s", error)
    write_results(output, results, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
