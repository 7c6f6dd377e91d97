"""The prepared-data cache: built once, equal to preparing the raw files, rebuilt when they change."""

import shutil

import numpy as np
import pytest

from models.cli.corpus import main as corpus_main
from models.corpus import load_prepared
from models.corpus.cache import prepared_dataset
from models.datasets.registry import load_dataset
from models.windows import prepare_sequence


def _write_msr_clip(folder, action, subject, frames, seed):
    """A clip in MSR Action3D's own text format (20 lines of 'x y z conf' per frame)."""
    rng = np.random.default_rng(seed)
    rows = rng.uniform(-1, 1, size=(frames * 20, 3)) + [0, 0, 3]
    text = "\n".join(f"{x:.6f} {y:.6f} {z:.6f} 1" for x, y, z in rows)
    (folder / f"a{action:02d}_s{subject:02d}_e01_skeleton3D.txt").write_text(text + "\n")


@pytest.fixture
def msr_folder(tmp_path):
    folder = tmp_path / "data" / "msr_action3d"
    folder.mkdir(parents=True)
    for i, (action, subject) in enumerate([(1, 1), (2, 2), (3, 3)]):
        _write_msr_clip(folder, action, subject, frames=12 + 5 * i, seed=i)
    return folder


def test_the_cache_equals_preparing_the_raw_files(msr_folder, tmp_path):
    cached = prepared_dataset("msr-action3d", msr_folder.parent, 15.0, tmp_path / "cache", progress=False)
    fresh = [prepare_sequence(s, 15.0, 2) for s in load_dataset("msr-action3d", msr_folder.parent)]
    assert [s.name for s in cached] == [s.name for s in fresh]
    for a, b in zip(cached, fresh):
        np.testing.assert_array_equal(a.joints, b.joints)
        np.testing.assert_array_equal(a.mask, b.mask)
        assert (a.label, a.subject, a.fps, a.layout) == (b.label, b.subject, b.fps, b.layout)
    assert isinstance(cached[0].joints, np.memmap)


def test_a_changed_file_rebuilds_and_an_unchanged_one_does_not(msr_folder, tmp_path):
    cache = tmp_path / "cache"
    prepared_dataset("msr-action3d", msr_folder.parent, 15.0, cache, progress=False)
    first = sorted(p.name for p in cache.iterdir())
    prepared_dataset("msr-action3d", msr_folder.parent, 15.0, cache, progress=False)
    assert sorted(p.name for p in cache.iterdir()) == first
    _write_msr_clip(msr_folder, 4, 4, frames=9, seed=9)
    rebuilt = prepared_dataset("msr-action3d", msr_folder.parent, 15.0, cache, progress=False)
    assert len(rebuilt) == 4 and len(list(cache.iterdir())) == 2


def test_references_select_from_the_cache(msr_folder, tmp_path):
    subjects = [s.subject for s in load_prepared(["msr-action3d:!2"], msr_folder.parent, 15.0, tmp_path / "c")]
    assert subjects == [1, 3]


def test_the_command_prints_each_source(msr_folder, tmp_path, capsys):
    code = corpus_main(["msr-action3d:1,2", "msr-action3d:!1", "--data-root", str(msr_folder.parent),
                        "--cache", str(tmp_path / "c"), "--json", str(tmp_path / "counts.json")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "msr-action3d:1,2" in out and "msr-action3d:!1" in out and "total" in out
    assert (tmp_path / "counts.json").is_file()


def test_a_broken_file_fails_the_build_and_leaves_no_cache(msr_folder, tmp_path):
    (msr_folder / "a05_s05_e01_skeleton3D.txt").write_text("1 2 3 1\n1 2\n")
    with pytest.raises(Exception, match="a05_s05_e01"):
        prepared_dataset("msr-action3d", msr_folder.parent, 15.0, tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def _build_after(barrier, data_root, cache):
    barrier.wait()
    return len(prepared_dataset("msr-action3d", data_root, 15.0, cache, progress=False))


def test_concurrent_builds_of_one_dataset_all_succeed_and_leave_one_cache(msr_folder, tmp_path):
    """Two trainings started together build the same cache: the first to finish wins, the others keep it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    barrier = context.Manager().Barrier(4)
    cache = tmp_path / "cache"
    for _ in range(3):
        with ProcessPoolExecutor(4, mp_context=context) as pool:
            counts = list(pool.map(_build_after, [barrier] * 4, [msr_folder.parent] * 4, [cache] * 4))
        assert counts == [3, 3, 3, 3]
        assert [p.name.startswith("msr-action3d-") for p in cache.iterdir()] == [True]  # no staging left behind
        for built in cache.iterdir():
            shutil.rmtree(built)


def test_a_build_that_finishes_second_keeps_the_first(msr_folder, tmp_path):
    from models.corpus.cache import _build

    cache = tmp_path / "cache"
    first = prepared_dataset("msr-action3d", msr_folder.parent, 15.0, cache, progress=False)
    (built,) = cache.iterdir()
    marker = (built / "manifest.json").stat().st_mtime_ns
    _build("msr-action3d", msr_folder, 15.0, built, progress=False)  # lost the race: its result is dropped
    assert [p.name for p in cache.iterdir()] == [built.name]
    assert (built / "manifest.json").stat().st_mtime_ns == marker
    assert len(first) == len(prepared_dataset("msr-action3d", msr_folder.parent, 15.0, cache, progress=False))
