"""Datasets by name: where their files live, how to read them, what they are labelled with.

`load_dataset("utkinect", root, subjects=[5, 6])` reads every sequence of a
dataset folder; the commands (`stream-train`, `stream-eval`) go through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from foundation.errors import SkelstreamError
from models.datasets.florence_camera import FLORENCE_ACTIONS, MADE_BY, read_florence_camera_folder
from models.datasets.florence_camera import default_folder as florence_camera_folder
from models.datasets.kinder_gator import KINDER_GATOR_MIRROR_VARIANTS, KINDER_GATOR_MOTIONS, read_kinder_gator_folder
from models.datasets.msr_action3d import MSR_ACTION3D_ACTIONS, read_msr_action3d_folder
from models.datasets.msrc12 import MSRC12_GESTURES, read_msrc12_folder
from models.datasets.ntu import parse_ntu_name, read_ntu_skeleton
from models.datasets.nw_ucla import NW_UCLA_ACTIONS, read_nw_ucla_folder
from models.datasets.penn_action import PENN_ACTIONS, penn_action_for_subjects
from models.datasets.pku_mmd import read_pku_mmd_skeleton
from models.datasets.precog import read_precog_folder
from models.datasets.selection import DatasetRef
from models.datasets.utd_mhad import UTD_MHAD_ACTIONS, read_utd_mhad_folder
from models.datasets.utkinect import UTKINECT_ACTIONS, read_utkinect_folder
from models.skeleton.sequence import SkeletonSequence


def _read_ntu_folder(root: Path, subjects: set[int] | None) -> list[SkeletonSequence]:
    sequences = []
    for path in sorted(root.glob("*.skeleton")):
        name = parse_ntu_name(path.stem)
        if subjects is None or (name is not None and name.performer in subjects):
            sequences.append(read_ntu_skeleton(path))
    return sequences


def _read_pku_folder(root: Path, subjects: set[int] | None) -> list[SkeletonSequence]:
    folder = root / "skeleton" if (root / "skeleton").is_dir() else root
    return [read_pku_mmd_skeleton(path) for path in sorted(folder.glob("*.txt"))]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset known by name.

    Attributes:
        folder: the folder's usual name under a data root.
        read: (root, subjects or None) -> sequences.
        task: "detection" (untrimmed, segments), "classification" (trimmed clips), "points" (continuous
            recordings with action points: instants to recognise, in ``action_points``) or "unlabelled".
        labels: action names, in class order (background excluded).
        mirror_labels: labels that are the mirror image of another label (the same motion on the other
            side) -> that label. Training flips skeletons left/right, so it merges them
            (`training_labels`); evaluation of the dataset's own protocol keeps ``labels``.
        home: for a dataset the project derives itself (not under a data root): where its folder is.
        made_by: for such a dataset, the command that makes its folder.
    """

    folder: str
    read: Callable[[Path, set[int] | None], list[SkeletonSequence]]
    task: str
    labels: tuple[str, ...] = ()
    mirror_labels: Mapping[str, str] = field(default_factory=dict)
    home: Callable[[], Path] | None = None
    made_by: str = ""

    @property
    def training_labels(self) -> tuple[str, ...]:
        """``labels`` with every mirror variant merged into the label it mirrors."""
        return tuple(label for label in self.labels if label not in self.mirror_labels)


DATASETS: dict[str, DatasetSpec] = {
    "utkinect": DatasetSpec("utkinect_action3d", read_utkinect_folder, "detection", tuple(UTKINECT_ACTIONS)),
    "msr-action3d": DatasetSpec(
        "msr_action3d", read_msr_action3d_folder, "classification", tuple(MSR_ACTION3D_ACTIONS)
    ),
    "utd-mhad": DatasetSpec("utd_mhad", read_utd_mhad_folder, "classification", UTD_MHAD_ACTIONS),
    "nw-ucla": DatasetSpec("nw_ucla", read_nw_ucla_folder, "classification", NW_UCLA_ACTIONS),
    "penn-action": DatasetSpec("penn_action", penn_action_for_subjects, "classification", PENN_ACTIONS),
    "ntu": DatasetSpec("ntu_rgbd_skeleton", _read_ntu_folder, "unlabelled"),
    "pku-mmd": DatasetSpec("pku_mmd", _read_pku_folder, "unlabelled"),
    "msrc12": DatasetSpec("msrc12", read_msrc12_folder, "points", MSRC12_GESTURES),
    "msrc12-sample": DatasetSpec("msrc12_kinect_gesture", read_msrc12_folder, "unlabelled"),  # 4 of msrc12's
    "kinder-gator": DatasetSpec("kinder_gator", read_kinder_gator_folder, "classification", KINDER_GATOR_MOTIONS,
                                KINDER_GATOR_MIRROR_VARIANTS),
    "florence-camera": DatasetSpec(
        "florence_camera", read_florence_camera_folder, "classification", FLORENCE_ACTIONS,
        home=florence_camera_folder, made_by=MADE_BY,
    ),
    "precog": DatasetSpec("precog_2016", lambda root, _: read_precog_folder(root / "CSV"), "unlabelled"),
}


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; unknown names list the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise SkelstreamError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None


def resolve_root(name: str, root: str | Path) -> Path:
    """``root`` itself if it is the dataset's folder, else ``root/<usual folder>``; a derived dataset's own home."""
    spec = dataset_spec(name)
    if spec.home is not None:
        folder = spec.home()
        if not folder.is_dir():
            raise SkelstreamError(f"dataset {name}: folder {folder} does not exist; make it with `{spec.made_by}`")
        return folder
    root = Path(root)
    nested = root / spec.folder
    if nested.is_dir():
        return nested
    if not root.is_dir():
        raise SkelstreamError(f"dataset {name}: folder {root} does not exist")
    return root


def load_dataset(name: str, root: str | Path, subjects: Iterable[int] | None = None) -> list[SkeletonSequence]:
    """Every sequence of dataset ``name`` under ``root`` (only ``subjects`` where the dataset has subjects)."""
    spec = dataset_spec(name)
    wanted = None if subjects is None else {int(s) for s in subjects}
    return spec.read(resolve_root(name, root), wanted)


def load_ref(ref: DatasetRef | str, root: str | Path) -> list[SkeletonSequence]:
    """The sequences a dataset reference selects (``"msrc12:!5,9"``, ``"nw-ucla:view=1"``; see `selection`)."""
    ref = ref if isinstance(ref, DatasetRef) else DatasetRef.parse(ref)
    return ref.select(load_dataset(ref.name, root, ref.subjects))
