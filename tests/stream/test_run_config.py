"""stream-run's config: the example file loads, flags override it, bad keys and values are named."""

from pathlib import Path

import pytest

from foundation.config_files import ConfigError
from stream.cli.run import build_parser, config_from_args
from stream.run.config import load_run_config


EXAMPLE = Path(__file__).resolve().parents[2] / "stream" / "configs" / "example.yaml"


def test_example_config_loads_and_flags_override_it():
    config = config_from_args(build_parser().parse_args(["--config", str(EXAMPLE), "--stride", "4"]))
    assert config.source == "camera" and config.stride == 4 and config.lookahead == 0


def test_a_source_flag_implies_its_source():
    config = config_from_args(build_parser().parse_args(["--video", "clip.mp4"]))
    assert config.source == "video" and config.video == "clip.mp4"


@pytest.mark.parametrize(
    ("text", "message"),
    [("strid: 4\n", "strid"), ("stride: four\n", r"stride \(--stride\) must be 'auto' or an integer"), ("stride: 0\n", "stride"),
     ("source: kinect\n", "source"), ("source: video\n", "video: PATH")],  # fmt: skip
)
def test_bad_config_is_named(tmp_path, text, message):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_run_config(path)
