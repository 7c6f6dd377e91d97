"""skelstream: real-time skeleton action detection for robots and cameras."""

from pathlib import Path

from setuptools import find_packages, setup

TORCH = "torch==2.13.0"  # pinned: an unpinned torch pulls gigabytes of CUDA wheels

EXTRAS = {
    "train": [TORCH, "safetensors>=0.4", "tqdm>=4.66", "PyYAML>=6.0", "matplotlib>=3.8", "tensorboard>=2.16",
              "scikit-learn>=1.9"],
    "pose": ["mediapipe==1.2.2"],
    "onnx": ["onnx>=1.23", "onnxruntime>=1.31", "onnxscript>=0.7"],
    # DDS-direct publishing and rosbag2 recording (stream/ros2); cyclonedds also benchmarks/transport.py
    "ros": ["cyclonedds>=11.0", "rosbags>=0.11"],
    "tensorrt": ["tensorrt>=10.0"],
    # what a robot installs: camera/video pose, ONNX Runtime on a checkpoint's own model.onnx
    # (stream-export --into-checkpoint), ZeroMQ (core), --config files; no torch
    "runtime": ["mediapipe==1.2.2", "onnxruntime>=1.31", "onnx>=1.23", "PyYAML>=6.0", "safetensors>=0.4"],
    # stream-calibrate: OpenCV's contrib build (ChArUco), the one MediaPipe installs too; YAML calibration files
    "calibration": ["opencv-contrib-python>=4.8", "PyYAML>=6.0"],
}
# `make test` installs the dev set: everything the tests exercise on a CPU machine.
EXTRAS["dev"] = sorted(
    set(EXTRAS["train"]) | set(EXTRAS["pose"]) | set(EXTRAS["onnx"]) | set(EXTRAS["ros"])
    | {"pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100"}
    # colcon builds and tests the ROS 2 package ros2_ws/src/skelstream_ros without ROS (tests/ros2)
    | {"colcon-core>=0.17", "colcon-python-setup-py>=0.2.8", "colcon-ros>=0.5", "colcon-test-result>=0.3.8"}
)

setup(
    name="skelstream",
    version="0.1.0",
    description=__doc__,
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["foundation", "foundation.*", "stream", "stream.*", "models", "models.*",
                                     "calibration", "calibration.*"]),
    package_data={
        "models": [
            "checkpoints/*/*.json", "checkpoints/*/*.safetensors", "checkpoints/*/*.onnx",
            "encoders/*/*.json", "encoders/*/*.safetensors", "lifters/*/*.json", "lifters/*/*.safetensors",
        ],
        # stream/ros2/msg links to ros2_ws/src/skelstream_msgs/msg: the wheel gets copies of the .msg files
        "stream.ros2": ["msg/*.msg", "upstream_msgs/*/msg/*.msg"],
    },
    install_requires=["numpy>=1.26", "scipy>=1.11", "pyzmq>=26", "msgpack>=1.0"],
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "stream-train = models.cli.train:main",
            "stream-eval = stream.cli.evaluate:main",
            "stream-corpus = models.cli.corpus:main",
            "stream-export = models.cli.export:main",
            "stream-listen = stream.cli.listen:main",
            "stream-run = stream.cli.run:main",
            "stream-calibrate = calibration.cli:main",
        ]
    },
)
