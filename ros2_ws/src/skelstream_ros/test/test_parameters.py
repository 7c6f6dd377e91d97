"""Node parameters → the run's settings, and the parameter file and launch file kept in step with them."""

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from models.pretrained import DEFAULT_CHECKPOINT
from skelstream_ros.parameters import (DEFAULTS, INPUTS, NODE_PARAMETERS, NOT_PARAMETERS, PARAMETERS, ParameterError,
                                       settings_from_parameters)  # fmt: skip
from stream.run.config import SOURCES, RunConfig


PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def test_defaults_run_the_image_topic_with_the_shipped_checkpoint():
    settings = settings_from_parameters({})
    assert settings.input == "image_topic" and settings.image_topic == "image_raw"
    assert settings.body_markers_topic == "body_tracking_data" and settings.camera_frame == ""
    run = settings.run
    assert run.source == "pushed-images" and run.has_images
    assert run.checkpoint == str(DEFAULT_CHECKPOINT)
    assert run.max_frames is None and run.seconds is None and run.pose_model is None and run.record is None
    assert (run.stride, run.lookahead, run.backend, run.num_poses, run.queue_size) == ("auto", 0, "auto", 2, 4)
    assert run.threads is None and run.precision is None and run.fusion == "recent" and run.min_score is None
    assert settings_from_parameters({"min_score": 0.5}).run.min_score == 0.5


@pytest.mark.parametrize("input, source, images", [("camera", "camera", True), ("image_topic", "pushed-images", True),
                                                   ("body_markers", "pushed-skeletons", False),
                                                   ("synthetic", "synthetic", False)])  # fmt: skip
def test_each_input_runs_its_source(input, source, images):
    run = settings_from_parameters({"input": input}).run
    assert run.source == source and run.has_images is images


def test_values_reach_the_run_config_and_zero_or_empty_mean_not_set(tmp_path):
    settings = settings_from_parameters({"input": "synthetic", "people": 3, "seconds": 12, "max_frames": 90,
                                         "stride": 4, "lookahead": 2, "backend": "onnxruntime", "smoothing": False,
                                         "checkpoint": str(tmp_path), "record": str(tmp_path / "run.skrec"),
                                         "camera": "/dev/video2", "print_events": True})  # fmt: skip
    run = settings.run
    assert (run.people, run.seconds, run.max_frames, run.stride, run.lookahead) == (3, 12.0, 90, 4, 2)
    assert isinstance(run.seconds, float)  # 12 is taken for 12.0, as ROS YAML writes it
    assert run.backend == "onnxruntime" and run.smoothing is False and run.print_events is True
    assert run.checkpoint == str(tmp_path) and run.record == str(tmp_path / "run.skrec") and run.camera == "/dev/video2"
    assert settings_from_parameters({"seconds": 0.0, "max_frames": 0, "record": ""}).run.record is None
    assert settings_from_parameters({"checkpoint": "actions"}).run.checkpoint == str(DEFAULT_CHECKPOINT)  # by name


@pytest.mark.parametrize("values, message", [
    ({"input": "kinect"}, "parameter 'input' must be one of camera, image_topic, body_markers, synthetic; got 'ki"),
    ({"backend": "tensorflow"}, "parameter 'backend' must be one of torch, onnxruntime, tensorrt, auto"),
    ({"stide": 4}, r"unknown parameter\(s\) \['stide'\]"),
    ({"stride": "8"}, "parameter 'stride' must be an integer, got str '8'"),
    ({"stride": 8.0}, "parameter 'stride' must be an integer, got float"),
    ({"smoothing": 1}, "parameter 'smoothing' must be true or false, got int"),
    ({"seconds": True}, "parameter 'seconds' must be a number, got bool"),
    ({"stride": -1}, r"stride \(--stride\) must be 'auto' or an integer >= 1 .*got -1"),
    ({"lookahead": -1}, r"lookahead \(--lookahead\) must be >= 0, got -1"),
    ({"checkpoint": "/no/such/checkpoint"}, "parameter 'checkpoint': /no/such/checkpoint does not exist"),
    ({"checkpoint": "gesturez"}, "parameter 'checkpoint': unknown checkpoint 'gesturez': the shipped checkpoints are "
                                 "actions"),
    ({"extrinsics": "/no/camera_to_base.yaml"}, "parameter 'extrinsics': /no/camera_to_base.yaml does not exist"),
    ({"image_topic": "camera/2image"}, "parameter 'image_topic': .*not a valid ROS name token"),
    ({"image_topic": ""}, "parameter 'image_topic' must be a topic name"),
    ({"camera_frame": "camera frame"}, "parameter 'camera_frame' must be a TF frame name without spaces"),
    ({"wait_for_subscribers": -1}, "parameter 'wait_for_subscribers' must be 0-1000, got -1"),
])  # fmt: skip
def test_bad_values_are_one_clear_error_naming_the_parameter(values, message):
    with pytest.raises(ParameterError, match=message):
        settings_from_parameters(values)


def test_parameters_mirror_every_run_config_key():
    run_keys = {field.name for field in dataclasses.fields(RunConfig)}
    mirrored = {p.name for p in PARAMETERS} - {p.name for p in NODE_PARAMETERS}
    assert mirrored <= run_keys and not mirrored & set(NOT_PARAMETERS)
    assert mirrored | set(NOT_PARAMETERS) == run_keys  # a new RunConfig key must be mirrored or excluded with a reason
    assert all(p.description for p in PARAMETERS) and len({p.name for p in PARAMETERS}) == len(PARAMETERS)
    assert set(INPUTS.values()) <= set(SOURCES)


def test_the_parameter_file_holds_every_parameter_at_its_default():
    document = yaml.safe_load((PACKAGE_ROOT / "config" / "skelstream.yaml").read_text())
    values = document["/**"]["ros__parameters"]
    assert values == DEFAULTS
    assert {type(value) for value in values.values()} <= {str, int, float, bool}
    assert all(type(values[name]) is type(DEFAULTS[name]) for name in DEFAULTS)  # 0.0, not 0, for a double


def test_the_launch_file_arguments_set_real_parameters():
    """Read the launch file as text (the launch package is not needed): its arguments and the parameters they set."""
    tree = ast.parse((PACKAGE_ROOT / "launch" / "skelstream.launch.py").read_text())
    constants = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                 and node.targets[0].id in ("ARGUMENTS", "PARAMETER_ARGUMENTS")}  # fmt: skip
    arguments = set(constants["ARGUMENTS"]) | {"params_file"}
    assert {"camera", "checkpoint", "backend", "namespace", "params_file"} <= arguments
    assert set(constants["PARAMETER_ARGUMENTS"]) | {"camera"} <= set(DEFAULTS)  # each sets a parameter of its name
    assert "config/skelstream.yaml" in (PACKAGE_ROOT / "launch" / "skelstream.launch.py").read_text()
