"""The stages a run is built from (shared by stream-run and the ROS 2 node): sources an integration feeds."""

from __future__ import annotations

import pytest

from stream.cli.run import main
from stream.run.config import PUSHED_SOURCES, RunConfig
from stream.sources import make_source
from stream.sources.pushed import PushSourceConfig
from stream.run.assembly import make_source_config, recording_layout


@pytest.mark.parametrize("source", PUSHED_SOURCES)
def test_pushed_sources_are_built_by_their_integration_not_from_the_run_config(source):
    config = RunConfig(source=source)
    assert config.has_images is (source == "pushed-images")
    with pytest.raises(ValueError, match=f"source '{source}' is fed by an integration"):
        make_source_config(config)


def test_stream_run_refuses_a_pushed_source_with_one_line(tmp_path, capsys, checkpoint):
    path = tmp_path / "run.yaml"
    path.write_text(f"source: pushed-images\ncheckpoint: {checkpoint}\n")
    assert main(["--config", str(path)]) == 2
    assert "stream-run: error: source 'pushed-images' is fed by an integration" in capsys.readouterr().err


def test_a_recording_takes_the_layout_of_the_pushed_skeletons():
    source = make_source(PushSourceConfig(layout="azure_kinect_32"))
    assert recording_layout(RunConfig(source="pushed-skeletons"), source) == "azure_kinect_32"
    assert recording_layout(RunConfig(source="pushed-images", pose_3d="world"), source) == "mediapipe_33"
    assert recording_layout(RunConfig(source="pushed-images"), source) == "unified_30"  # lifted image landmarks
    assert recording_layout(RunConfig(source="pushed-skeletons"), make_source(PushSourceConfig())) == "unified_30"
