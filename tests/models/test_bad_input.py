"""Bad input for the models package, fuzzed: every dataset reader on random and mutated text (and .xz) files, and the
training config loader on wrong types and unknown keys, raise only `DataFormatError` / `ConfigError` with a message."""

import lzma

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from foundation.config_files import ConfigError
from foundation.errors import DataFormatError
from models.datasets.kinder_gator import read_kinder_gator
from models.datasets.msr_action3d import read_msr_action3d
from models.datasets.msrc12 import read_msrc12, read_msrc12_tagstream
from models.datasets.ntu import read_ntu_skeleton
from models.datasets.pku_mmd import read_pku_mmd
from models.datasets.precog import read_precog
from models.datasets.utkinect import read_utkinect
from models.training.config import TrainConfig, load_train_config
from tests.conftest import SHARED_DATA
from tests.fuzzing import FUZZ, PLAIN, mutated


TEXT = b"0123456789 .-+e,;:\n\tnaif\x00\xff"  # what the text formats are made of, and two bytes they are not


def head(relative: str, lines: int) -> bytes:
    path = SHARED_DATA / relative
    return b"".join(path.read_bytes().splitlines(keepends=True)[:lines]) if path.is_file() else b""


def head_xz(relative: str, lines: int) -> bytes:
    """The first ``lines`` lines of an xz-compressed file, decompressed (empty if the file is absent)."""
    path = SHARED_DATA / relative
    return b"".join(lzma.decompress(path.read_bytes()).splitlines(keepends=True)[:lines]) if path.is_file() else b""


def xz(content: bytes) -> bytes:
    """``content`` xz-compressed (empty stays empty: no seed)."""
    return lzma.compress(content) if content else b""


KINDER_GATOR = "POSE-p565_01-Raise-your-hand-1469182402284.csv"
# The first lines of a real file of each format (a complete NTU file is 90 lines for one body and frame).
SEEDS = {
    "ntu": ("S001C001P001R001A001.skeleton", head("ntu_rgbd_skeleton/S001C001P001R001A001.skeleton", 90)),
    "pku": ("A10N08-L.txt", head("pku_mmd/skeleton/A10N08-L.txt", 10)),
    "pku labels": ("A10N08-L.txt", b"1,0,10,1\n2,11,30,0.5\n"),
    "utkinect": ("joints_s01_e01.txt", head("utkinect_action3d/joints_s01_e01.txt", 60)),
    "utkinect labels": ("actionLabel.txt", head("utkinect_action3d/actionLabel.txt", 12)),
    "msr": ("a01_s01_e01_skeleton3D.txt", head("msr_action3d/a01_s01_e01_skeleton3D.txt", 100)),
    "msrc12": ("P1_1_1_p06.csv", head("msrc12_kinect_gesture/P1_1_1_p06.csv", 10)),
    "msrc12 xz": ("P1_1_1_p06.csv.xz", xz(head_xz("msrc12/data/P1_1_1_p06.csv.xz", 25))),
    "msrc12 tagstream": ("P1_1_1_p06.tagstream", head("msrc12/data/P1_1_1_p06.tagstream", 5)),
    "kinder-gator": (KINDER_GATOR, head_xz(f"kinder_gator/Adults/{KINDER_GATOR}.xz", 6)),
    "precog": ("Seq1_1.csv", head("precog_2016/CSV/Seq1_1.csv", 10)),
}


def read(kind: str, content: bytes, folder) -> None:
    name, _ = SEEDS[kind]
    path = folder / name
    path.write_bytes(content)
    if kind == "ntu":
        read_ntu_skeleton(path)
    elif kind == "pku":
        read_pku_mmd(path)
    elif kind == "pku labels":
        (folder / "skeleton.txt").write_bytes(SEEDS["pku"][1])
        read_pku_mmd(folder / "skeleton.txt", path)
    elif kind == "utkinect":
        (folder / "actionLabel.txt").write_bytes(SEEDS["utkinect labels"][1])
        read_utkinect(path, folder / "actionLabel.txt")
    elif kind == "utkinect labels":
        (folder / "joints_s01_e01.txt").write_bytes(SEEDS["utkinect"][1])
        read_utkinect(folder / "joints_s01_e01.txt", path)
    elif kind == "msr":
        read_msr_action3d(path)
    elif kind in ("msrc12", "msrc12 xz"):
        read_msrc12(path)
    elif kind == "msrc12 tagstream":
        read_msrc12_tagstream(path)
    elif kind == "kinder-gator":
        read_kinder_gator(path)
    else:
        read_precog(path)


@FUZZ
@given(data=st.data())
def test_dataset_readers_raise_only_data_format_error(data, tmp_path_factory):
    available = sorted(kind for kind, (_, seed) in SEEDS.items() if seed)
    kind = data.draw(st.sampled_from(sorted(SEEDS)), label="format")
    how = data.draw(st.sampled_from(["bytes", "text", "mutated", "token"] if kind in available else ["bytes", "text"]),
                    label="how")  # fmt: skip
    seed = SEEDS[kind][1]
    if how == "bytes":
        content = data.draw(st.binary(max_size=300), label="content")
    elif how == "text":
        content = data.draw(st.text(alphabet=TEXT.decode("latin-1"), max_size=300), label="content").encode()
    elif how == "mutated":
        content = mutated(data, seed, TEXT)
    else:  # one field of one line replaced by an awkward number
        lines = seed.split(b"\n")
        row = data.draw(st.integers(0, len(lines) - 1), label="line")
        fields = lines[row].split(b" ")
        fields[data.draw(st.integers(0, len(fields) - 1), label="field")] = data.draw(st.sampled_from(
            [b"nan", b"inf", b"-1", b"1e308", b"99999999999", b"", b"x", b"1" * 5000]), label="value")  # fmt: skip
        lines[row] = b" ".join(fields)
        content = b"\n".join(lines)
    folder = tmp_path_factory.mktemp("fuzz")
    try:
        read(kind, content, folder)
    except DataFormatError as error:
        assert str(folder) in str(error)


TRAIN_KEYS = sorted(TrainConfig.__dataclass_fields__)


@FUZZ
@given(data=st.data())
def test_training_config_files_fail_with_config_error_naming_the_key(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "train.yaml"
    if data.draw(st.booleans(), label="random bytes"):
        document = {}
        path.write_bytes(data.draw(st.binary(max_size=200), label="bytes"))
    else:
        document = data.draw(st.dictionaries(st.sampled_from([*TRAIN_KEYS, "epochz"]), PLAIN, min_size=1, max_size=3),
                             label="document")  # fmt: skip
        if data.draw(st.booleans(), label="model overrides"):
            document["model"] = data.draw(st.dictionaries(st.sampled_from(["dim", "depth", "T", "dimm"]), PLAIN,
                                                          max_size=2), label="model")  # fmt: skip
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_train_config(path)
    except ConfigError as error:
        assert str(path) in str(error)
        if document:
            assert any(key in str(error) for key in document), (str(error), document)


def test_model_overrides_are_checked_key_by_key(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("model: {dim: 64, dimm: 3}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="model.dimm"):
        load_train_config(path)
    path.write_text("model: {dim: sixty}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'model.dim' must be int"):
        load_train_config(path)
    path.write_text("train: [utkinect, 3]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'train\[1\]' must be str"):
        load_train_config(path)
