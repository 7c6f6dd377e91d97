"""Every `stream-run` flag checked before anything starts, with a documented bound and one line naming the flag
(issue 18, defects 6, 7 and 8); help texts, the README and the example config checked against the code (9)."""

import re
import shlex
from pathlib import Path

import pytest

from foundation.config_files import ConfigError
from models.checkpoint import CheckpointConfig, build_model, save_checkpoint
from models.dste_config import DSTEConfig
from models.pretrained import DEFAULT_CHECKPOINT, shipped_checkpoints
from stream.cli.run import build_parser, config_from_args, main
from stream.run.config import RunConfig, load_run_config
from tests.stream.conftest import free_endpoint


REPO = Path(__file__).resolve().parents[2]


def refused(capsys, *args) -> str:
    """`stream-run ARGS` exits 2 with one line and no traceback; that line."""
    try:
        code = main(["--zmq", free_endpoint(), *args])
    except SystemExit as exit:  # argparse's own checks (types, choices)
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("stream-run: error:") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("args", "named", "bound"),
    [
        (["--stride", "65"], "stride (--stride)", "between 1 and 16"),  # the test checkpoint's window is 16
        (["--stride", "0"], "stride (--stride)", ">= 1"),
        (["--lookahead", "10000"], "lookahead (--lookahead)", "between 0 and 15 model frames, 1.0 s at 15 fps"),
        (["--people", "1000"], "people (--people)", "between 1 and 16"),
        (["--num-poses", "0"], "num_poses (--num-poses)", "between 1 and 16"),
        (["--wait-subscribers", "-1"], "wait_subscribers (--wait-subscribers)", "between 0 and 100"),
        (["--threads", "0"], "threads (--threads)", "between 1 and 64"),
        (["--seed", "-1"], "seed (--seed)", "between 0 and"),
        (["--seconds", "0"], "seconds (--seconds)", "positive number of seconds"),
        (["--seconds", "nan"], "seconds (--seconds)", "positive number of seconds"),
        (["--max-frames", "0"], "max_frames (--max-frames)", ">= 1"),
        (["--ros-domain-id", "999"], "ros_domain_id (--ros-domain-id)", "0-232"),
        (["--people", "many"], "--people", "invalid int value"),
        (["--format", "kinect", "--skeleton-file", "x"], "--format", "invalid choice"),
    ],
)
def test_a_value_out_of_bounds_is_one_line_naming_the_flag(capsys, checkpoint, args, named, bound):
    err = refused(capsys, "--checkpoint", checkpoint, *args)
    assert named in err and bound in err


def test_messages_name_the_flag_not_the_code(capsys, checkpoint, tmp_path):
    assert "SyntheticConfig" not in refused(capsys, "--checkpoint", checkpoint, "--seconds", "0")
    err = refused(capsys, "--checkpoint", checkpoint, "--zmq", "tcp://0.0.0.0:5999")
    assert "pass --allow-remote" in err and "allow_remote=True" not in err
    assert "checkpoint /nowhere/ckpt does not exist" in refused(capsys, "--checkpoint", "/nowhere/ckpt")
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"")
    err = refused(capsys, "--checkpoint", str(onnx), "--backend", "torch")
    assert "is a file, not a checkpoint directory" in err and "onnxruntime" in err


def test_checkpoints_by_name_and_an_unknown_name_lists_the_shipped_ones(capsys):
    err = refused(capsys, "--checkpoint", "gesturez", "--max-frames", "5")
    assert err.startswith("stream-run: error: checkpoint (--checkpoint): unknown checkpoint 'gesturez': the shipped "
                          f"checkpoints are {', '.join(shipped_checkpoints())} (stream-run --list-checkpoints)")
    by_name = config_from_args(build_parser().parse_args(["--checkpoint", "actions"]))
    assert by_name.checkpoint == str(DEFAULT_CHECKPOINT)
    assert main(["--list-checkpoints"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("actions (default): dste-small detection, 10 classes + background at 15 fps")
    assert all(f"\n{name}" in f"\n{listed}" for name in shipped_checkpoints())
    # trained on subjects and actors 1-6: the figures are its recipe run's, on what that run held out
    assert "  held_out (recipe run: utkinect 1-4 → 5-6, florence-camera actors 1-4): frame_accuracy " in listed
    assert "  gesture events: threshold " in listed


def test_a_checkpoint_naming_the_reserved_label_is_refused(capsys, tmp_path):
    labels = ["background", "wave", "failed"]
    config = CheckpointConfig(model=DSTEConfig(dim=32, depth=1, T=16, num_classes=3, frame_spatial_dim=8),
                              task="detection", labels=labels, fps=15.0)  # fmt: skip
    save_checkpoint(tmp_path / "ckpt", build_model(config), config)
    err = refused(capsys, "--checkpoint", str(tmp_path / "ckpt"), "--max-frames", "5")
    assert "names a class 'failed'" in err and "reserves" in err


def test_a_config_file_value_out_of_bounds_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("people: 1000\n")
    with pytest.raises(ConfigError, match=r"run.yaml: people \(--people\) must be between 1 and 16, got 1000"):
        load_run_config(path)


# --- what the help texts, the README and the example config say -------------------------------------------


def _examples(text: str, command: str) -> list[list[str]]:
    """The ``command ...`` lines of a help text or README (continuations joined, comments dropped)."""
    text = text.replace("\\\n", " ")
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(command + " "):
            command_line = line.split("  #")[0].split(" # ")[0].split(" > ")[0]  # no comment, no redirection
            lines.append(shlex.split(command_line)[1:])
    return lines


def _parsers():
    """Each command's parser for the arguments it is given (stream-eval's depends on the dataset)."""
    from calibration.cli import build_parser as calibrate
    from models.cli.corpus import build_parser as corpus
    from models.cli.export import build_parser as export
    from models.cli.train import build_parser as train
    from stream.cli.evaluate import build_parser as evaluate
    from stream.cli.listen import build_parser as listen

    fixed = {"stream-run": build_parser, "stream-listen": listen, "stream-train": train, "stream-export": export,
             "stream-calibrate": calibrate, "stream-corpus": corpus}  # fmt: skip
    return {**{name: (lambda args=(), make=make: make()) for name, make in fixed.items()}, "stream-eval": evaluate}


def test_every_example_command_in_the_help_texts_and_the_readme_parses():
    parsers = _parsers()
    texts = [parser().description or "" for parser in parsers.values()]
    texts += [parsers["stream-eval"](["--dataset", "florence-video"]).description, (REPO / "README.md").read_text()]
    checked = 0
    for text in texts:
        for command, parser in parsers.items():
            for args in _examples(text, command):
                if "<key>" in " ".join(args):
                    continue  # a placeholder for a generated file name
                parsed = parser(args).parse_args(args)  # SystemExit (a failed test) if an example does not parse
                if command == "stream-run" and parsed.config is None:
                    config_from_args(parsed)  # and its values pass the run's checks
                checked += 1
    assert checked >= 25


def test_config_files_named_in_help_texts_exist():
    for parser in _parsers().values():
        for path in re.findall(r"--config (\S+\.yaml)", parser().description or ""):
            assert (REPO / path).is_file() or path in ("run.yaml",), path


def test_the_example_config_matches_the_defaults_and_runs_from_any_folder(tmp_path, monkeypatch):
    example = REPO / "stream" / "configs" / "example.yaml"
    monkeypatch.chdir(tmp_path)  # a relative checkpoint path would fail here
    config = load_run_config(example)
    defaults = RunConfig()
    assert config.checkpoint == defaults.checkpoint and Path(config.checkpoint).is_absolute()
    assert config.ros_camera_frame == defaults.ros_camera_frame == "camera_optical_frame"
    assert "default camera_optical_frame" in " ".join(build_parser().format_help().split())


def test_the_readme_says_where_the_msr_checkpoint_comes_from():
    readme = (REPO / "README.md").read_text()
    at = readme.index("stream-eval --checkpoint runs/msr")
    block = readme[at - 200 : at]
    assert "run_experiments.sh" in block


def test_formats_that_need_the_datasets_own_file_names_say_so():
    help_text = " ".join(build_parser().format_help().split())
    assert "joints_sXX_eYY.txt" in help_text and "aXX_sYY_eZZ_skeleton3D.txt" in help_text


def test_stream_calibrate_help_speaks_to_users():
    from calibration.cli import build_parser as calibrate

    description = calibrate().description
    assert "add_parser" not in description and "set_defaults" not in description
