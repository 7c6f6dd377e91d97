"""skelstream: real-time skeleton action detection for robots and cameras."""

from pathlib import Path

from setuptools import find_packages, setup

TORCH = "torch==2.13.0"  # pinned: an unpinned torch pulls gigabytes of CUDA wheels

EXTRAS = {
    "train": [TORCH, "safetensors>=0.4", "tqdm>=4.66", "PyYAML>=6.0", "matplotlib>=3.8", "tensorboard>=2.16"],
    "pose": ["mediapipe==1.2.2"],
    "onnx": ["onnx>=1.23", "onnxruntime>=1.31", "onnxscript>=0.7"],
    "ros": ["cyclonedds>=0.10.5", "rosbags>=0.10"],  # cyclonedds: also benchmarks/transport.py
    "tensorrt": ["tensorrt>=10.0"],
}
# `make test` installs the dev set: everything the tests exercise on a CPU machine.
EXTRAS["dev"] = sorted(
    set(EXTRAS["train"]) | set(EXTRAS["pose"]) | set(EXTRAS["onnx"])
    | {"pytest>=8", "pytest-timeout>=2.3", "hypothesis>=6.100"}
)

setup(
    name="skelstream",
    version="0.1.0",
    description=__doc__,
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["stream", "stream.*", "models", "models.*", "calibration", "calibration.*"]),
    package_data={"models": ["checkpoints/*/*.json", "checkpoints/*/*.safetensors"]},
    install_requires=["numpy>=1.26", "scipy>=1.11", "pyzmq>=26", "msgpack>=1.0"],
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "stream-train = models.cli.train:main",
            "stream-eval = models.cli.evaluate:main",
            "stream-export = models.cli.export:main",
            "stream-listen = stream.cli.listen:main",
            "stream-run = stream.cli.run:main",
            "stream-calibrate = calibration.cli:main",
        ]
    },
)
