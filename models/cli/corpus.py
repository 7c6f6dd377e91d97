"""`stream-corpus`: build the prepared-data cache of the training corpus and print what each source holds.

Examples::

    # the foundation encoder's corpus (models/configs/pretrain.yaml), validation people left out
    stream-corpus --config models/configs/pretrain.yaml
    # any dataset references (see models/datasets/selection.py for the syntax)
    stream-corpus msrc12:!5,9,13,18,23,29 kinder-gator nw-ucla:view=1 --data-root ../shared/data

Each dataset is read once, mapped to unified_30, resampled to --fps and cached
(memory-mapped arrays) under --cache; a second run only checks fingerprints.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from foundation.errors import SkelstreamError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("refs", nargs="*", help="dataset references, e.g. msrc12:!5,9 nw-ucla:view=1")
    parser.add_argument("--config", help="a stream-train YAML config: its `train` list is the corpus")
    parser.add_argument("--data-root", default="../shared/data", help="folder holding the datasets")
    parser.add_argument("--fps", type=float, default=15.0, help="model frame rate (default 15)")
    parser.add_argument("--cache", help="cache folder (default $SKELSTREAM_CORPUS, $SKELSTREAM_CACHE/corpus or ~/.cache/skelstream/corpus)")
    parser.add_argument("--json", help="write the per-source counts here")
    return parser


def main(argv: list[str] | None = None) -> int:
    from models.corpus.cache import summary
    from models.datasets.selection import DatasetRef

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        refs = list(args.refs)
        if args.config:
            from models.training.config import load_train_config

            refs += load_train_config(args.config).train
        if not refs:
            raise SkelstreamError("name dataset references or a --config whose `train` lists them")
        parsed = [DatasetRef.parse(ref) for ref in refs]
        rows = []
        for ref in parsed:
            info = summary(ref.name, args.data_root, args.fps, args.cache)
            selected = _selected_counts(ref, args.data_root, args.fps, args.cache)
            rows.append({"source": str(ref), "built_in_s": info.seconds_to_build, "cache": str(info.path),
                         **selected})  # fmt: skip
    except SkelstreamError as error:
        print(f"stream-corpus: error: {error}", file=sys.stderr)
        return 2
    print(_table(rows, args.fps))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _selected_counts(ref, data_root: str, fps: float, cache: str | None) -> dict:
    from models.corpus import load_prepared

    sequences = load_prepared([ref], data_root, fps, cache, progress=False)
    return {
        "sequences": len(sequences),
        "subjects": len({s.subject for s in sequences if s.subject is not None}),
        "frames": sum(s.num_frames for s in sequences),
    }


def _table(rows: list[dict], fps: float) -> str:
    width = max(len("source"), *(len(r["source"]) for r in rows))
    lines = [f"{'source':<{width}}  {'sequences':>9}  {'subjects':>8}  {'frames':>9}  {'minutes':>7}"]
    for r in rows:
        lines.append(f"{r['source']:<{width}}  {r['sequences']:>9}  {r['subjects']:>8}  {r['frames']:>9}  "
                     f"{r['frames'] / fps / 60:>7.1f}")  # fmt: skip
    frames = sum(r["frames"] for r in rows)
    lines.append(f"{'total':<{width}}  {sum(r['sequences'] for r in rows):>9}  {'':>8}  {frames:>9}  "
                 f"{frames / fps / 60:>7.1f}   (at {fps:g} fps)")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
