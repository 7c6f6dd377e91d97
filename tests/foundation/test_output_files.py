"""Outputs written safely: staged beside the target, renamed when complete; refusals before anything starts."""

import os

import pytest

from foundation.output_files import OutputError, StagedOutput, check_output, probe_writable, write_atomically


def test_a_staged_output_leaves_the_target_untouched_until_commit(tmp_path):
    target = tmp_path / "deep" / "er" / "video.mp4"  # missing folders are created
    staged = StagedOutput(target)
    assert staged.path.parent == target.parent and staged.path.name.startswith("video.partial-")
    assert staged.path.suffix == ".mp4" and not target.exists()
    staged.path.write_bytes(b"frames")
    staged.commit()
    assert target.read_bytes() == b"frames" and list(target.parent.iterdir()) == [target]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # as a plain open would make it


def test_a_discarded_output_keeps_the_existing_file(tmp_path):
    target = tmp_path / "stats.json"
    target.write_text("old")
    staged = StagedOutput(target)
    staged.path.write_text("half")
    staged.discard()
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    write_atomically(target, "new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_pipes_and_devices_are_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert StagedOutput(fifo).path == fifo and StagedOutput("/dev/null").in_place
    with pytest.raises(OutputError, match="/dev/full: No space left on device"):
        probe_writable("/dev/full")
    probe_writable(fifo)  # a pipe is not opened (that would wait for its reader)


def test_check_output_refuses_what_would_destroy_a_file(tmp_path):
    video = tmp_path / "clip.avi"
    video.write_bytes(b"x")
    with pytest.raises(OutputError, match=r"--output .*clip.avi is the same file as --video"):
        check_output(tmp_path / "." / "clip.avi", "--output", overwrite=True, inputs=[("--video", video)])
    os.link(video, tmp_path / "hard.avi")
    with pytest.raises(OutputError, match="same file as --video"):
        check_output(tmp_path / "hard.avi", "--output", overwrite=True, inputs=[("--video", video)])
    with pytest.raises(OutputError, match="exists; pass --overwrite"):
        check_output(video, "--record")
    with pytest.raises(OutputError, match="is a folder"):
        check_output(tmp_path, "--record")
    (tmp_path / "afile").write_text("")
    with pytest.raises(OutputError, match="afile is a file, not a folder"):
        check_output(tmp_path / "afile" / "x" / "y.json", "--stats-json")
    check_output(video, "--record", overwrite=True)
    check_output(tmp_path / "missing" / "folder" / "x.skrec", "--record")
    check_output("/dev/null", "--stats-json")  # a device: nothing is destroyed
    assert not (tmp_path / "missing").exists()  # checking creates nothing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
