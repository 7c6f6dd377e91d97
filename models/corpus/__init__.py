"""The training corpus: real datasets prepared once (unified_30, model rate) and memory-mapped.

    from models.corpus import load_prepared
    sequences = load_prepared(["msrc12:!5,9", "kinder-gator", "nw-ucla:view=1"], "../shared/data", fps=15.0)

The first call for a dataset reads and prepares it (progress bars) and caches
it on disk (`models.corpus.cache`); later calls only memory-map the cache.
`stream-corpus` builds the caches and prints what each source holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from models.corpus.cache import prepared_dataset
from models.datasets.selection import DatasetRef
from models.skeleton.sequence import SkeletonSequence

__all__ = ["load_prepared"]


def load_prepared(refs: Iterable[DatasetRef | str], data_root: str | Path, fps: float,
                  cache_dir: str | Path | None = None, progress: bool = True) -> list[SkeletonSequence]:  # fmt: skip
    """The prepared sequences every reference selects, in reference order (each dataset read once)."""
    parsed = [ref if isinstance(ref, DatasetRef) else DatasetRef.parse(ref) for ref in refs]
    datasets: dict[str, list[SkeletonSequence]] = {}
    selected = []
    for ref in parsed:
        if ref.name not in datasets:
            datasets[ref.name] = prepared_dataset(ref.name, data_root, fps, cache_dir, progress)
        selected.extend(ref.select(datasets[ref.name]))
    return selected
