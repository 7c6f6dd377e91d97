"""skelstream_ros: the rclpy node over skelstream (ament_python; built with colcon)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "skelstream_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    description=__doc__,
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="skelstream maintainers",
    maintainer_email="skelstream@example.org",
    license="Apache-2.0",
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": [f"skelstream_node = {PACKAGE}.node:main"]},
)
