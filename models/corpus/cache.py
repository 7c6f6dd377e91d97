"""Prepared datasets on disk: every sequence of a dataset mapped to unified_30, resampled, memory-mapped.

Reading the text and MATLAB files of the real datasets takes minutes; training
needs the same frames every epoch. `prepared_dataset` does the reading once:
the sequences are mapped to ``unified_30`` with `models.windows.prepare_sequence`
(resampled to the model rate, two body slots) and written as two ``.npy``
arrays plus a JSON index into ``<cache>/<dataset>-<fingerprint>/``. Later calls
memory-map them: no parsing, and the frames cost no memory until they are read.

The fingerprint covers what the prepared frames depend on: the dataset's files
(relative path, size, modification time), the source code of the readers
(`models/datasets/`) and of the skeleton mapping and resampling code, the frame
rate and the body count.
Change any of them and the next call rebuilds; a stale cache is never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foundation.cache_folder import cache_folder
from foundation.errors import SkelstreamError
from models.datasets.registry import load_dataset, resolve_root
from models.skeleton.sequence import ActionPoint, Segment, SkeletonSequence

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
NUM_BODIES = 2
_MODELS = Path(__file__).resolve().parents[1]
_PREPARATION_CODE = (
    _MODELS / "windows.py",
    *sorted((_MODELS / "datasets").glob("*.py")),
    *sorted((_MODELS / "skeleton").glob("*.py")),
)


def default_cache_dir() -> Path:
    """``$SKELSTREAM_CORPUS``, else ``$SKELSTREAM_CACHE/corpus``, else ``~/.cache/skelstream/corpus``."""
    if os.environ.get("SKELSTREAM_CORPUS"):
        return Path(os.environ["SKELSTREAM_CORPUS"])
    return cache_folder() / "corpus"


@dataclass(frozen=True)
class DatasetSummary:
    """What one prepared dataset holds (printed per source by `stream-corpus`)."""

    dataset: str
    sequences: int
    subjects: int
    raw_frames: int
    frames: int
    fps: float
    seconds_to_build: float | None
    path: Path

    @property
    def minutes(self) -> float:
        return self.frames / self.fps / 60.0


def fingerprint(name: str, root: Path, fps: float) -> str:
    """Hash of everything the prepared frames of dataset ``name`` under ``root`` depend on."""
    digest = hashlib.sha256(f"v{FORMAT_VERSION} {name} fps={fps:.6f} bodies={NUM_BODIES}".encode())
    for path in _PREPARATION_CODE:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def prepared_dataset(
    name: str, data_root: str | Path, fps: float, cache_dir: str | Path | None = None, progress: bool = True
) -> list[SkeletonSequence]:
    """Every sequence of dataset ``name``, prepared (unified_30, ``fps``, 2 bodies), from the cache.

    Builds the cache first when it is missing or stale. The returned joints and
    masks are read-only memory maps.
    """
    path = _build_if_needed(name, data_root, fps, cache_dir, progress)
    return _load(path)


def summary(name: str, data_root: str | Path, fps: float, cache_dir: str | Path | None = None,
            progress: bool = True) -> DatasetSummary:  # fmt: skip
    """Counts of the prepared dataset (building it if needed)."""
    path = _build_if_needed(name, data_root, fps, cache_dir, progress)
    manifest = json.loads((path / "manifest.json").read_text())
    return DatasetSummary(
        dataset=name, sequences=manifest["sequences"], subjects=manifest["subjects"],
        raw_frames=manifest["raw_frames"], frames=manifest["frames"], fps=manifest["fps"],
        seconds_to_build=manifest.get("seconds_to_build"), path=path,
    )  # fmt: skip


def _build_if_needed(name: str, data_root: str | Path, fps: float, cache_dir: str | Path | None,
                     progress: bool) -> Path:  # fmt: skip
    root = resolve_root(name, data_root)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"{name}-{fingerprint(name, root, fps)}"
    if (path / "manifest.json").is_file():
        return path
    _build(name, root, fps, path, progress)
    return path


def _build(name: str, root: Path, fps: float, path: Path, progress: bool) -> None:
    from tqdm import tqdm

    from models.windows import prepare_sequence

    started = time.perf_counter()
    logger.info("%s: reading %s", name, root)
    if progress:
        print(f"stream-corpus: reading {name} from {root} ...", file=sys.stderr, flush=True)
    raw = load_dataset(name, root)
    if not raw:
        raise SkelstreamError(f"dataset {name}: no sequences under {root}")
    prepared = [prepare_sequence(s, fps, NUM_BODIES)
                for s in tqdm(raw, desc=f"preparing {name}", unit="seq", disable=not progress)]  # fmt: skip
    total = sum(s.num_frames for s in prepared)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        shape = prepared[0].joints.shape[1:]
        joints = np.lib.format.open_memmap(staging / "joints.npy", "w+", np.float32, (total, *shape))
        mask = np.lib.format.open_memmap(staging / "mask.npy", "w+", np.float32, (total, *shape[:2]))
        index, offset = [], 0
        for source, sequence in zip(raw, prepared, strict=True):
            joints[offset : offset + sequence.num_frames] = sequence.joints
            mask[offset : offset + sequence.num_frames] = sequence.mask
            index.append(_describe(sequence, offset, source.num_frames))
            offset += sequence.num_frames
        joints.flush()
        mask.flush()
        del joints, mask
        (staging / "sequences.json").write_text(json.dumps(index))
        subjects = {s.subject for s in prepared if s.subject is not None}
        manifest = {
            "format": FORMAT_VERSION, "dataset": name, "root": str(root), "fps": fps, "sequences": len(prepared),
            "subjects": len(subjects), "raw_frames": sum(s.num_frames for s in raw), "frames": total,
            "seconds_to_build": round(time.perf_counter() - started, 1),
        }  # fmt: skip
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            staging.rename(path)
        except OSError:
            if not (path / "manifest.json").is_file():
                raise
            shutil.rmtree(staging)  # a concurrent build finished first: keep it
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("%s: %d sequences, %d frames at %.1f fps cached in %s", name, len(prepared), total, fps, path)


def _describe(sequence: SkeletonSequence, offset: int, raw_frames: int) -> dict:
    return {
        "name": sequence.name, "start": offset, "length": sequence.num_frames, "raw_frames": raw_frames,
        "label": sequence.label, "subject": sequence.subject, "attributes": sequence.attributes,
        "segments": [[s.label, s.start, s.end, s.confidence] for s in sequence.segments],
        "action_points": [[p.label, p.frame] for p in sequence.action_points],
        "skipped": sequence.skipped,
    }  # fmt: skip


def _load(path: Path) -> list[SkeletonSequence]:
    manifest = json.loads((path / "manifest.json").read_text())
    joints = np.load(path / "joints.npy", mmap_mode="r")
    mask = np.load(path / "mask.npy", mmap_mode="r")
    sequences = []
    for item in json.loads((path / "sequences.json").read_text()):
        frames = slice(item["start"], item["start"] + item["length"])
        sequences.append(SkeletonSequence(
            joints=joints[frames], mask=mask[frames], layout="unified_30", fps=manifest["fps"],
            frame_ids=np.arange(item["length"], dtype=np.int64), name=item["name"], label=item["label"],
            segments=[Segment(*s) for s in item["segments"]], subject=item["subject"],
            skipped=item["skipped"], action_points=[ActionPoint(*p) for p in item["action_points"]],
            attributes=item["attributes"],
        ))  # fmt: skip
    return sequences
