"""``sensor_msgs/Image`` → the BGR uint8 image the pose estimator takes, without cv_bridge.

Takes the message's plain attributes, so it runs (and is tested) without ROS::

    bgr = image_to_bgr(msg.height, msg.width, msg.encoding, msg.step, msg.data)

Encodings: ``rgb8``, ``bgr8``, ``mono8`` (grey repeated into three channels),
``rgba8``, ``bgra8`` (alpha dropped). Rows may be padded (``step`` larger than
``width`` × bytes per pixel). Byte order (``is_bigendian``) does not matter for
these 8-bit encodings, so it is not asked for. 16-bit images (``mono16``, ``16UC1``: depth or infrared) are refused,
as is any other encoding, with a `UnsupportedImage` error naming the encoding and
the supported ones. The result is a copy: the message buffer may be reused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CHANNELS = {"rgb8": 3, "bgr8": 3, "mono8": 1, "rgba8": 4, "bgra8": 4}
"""Supported encodings and their 8-bit channels per pixel."""
SIXTEEN_BIT = ("mono16", "16UC1")


class UnsupportedImage(ValueError):
    """An image message this node cannot use: its encoding, or sizes that do not add up."""


def image_to_bgr(height: int, width: int, encoding: str, step: int, data: Any) -> np.ndarray:
    """A BGR uint8 (height, width, 3) copy of an image message's pixels (see the module docstring)."""
    supported = ", ".join(CHANNELS)
    if encoding in SIXTEEN_BIT:
        raise UnsupportedImage(f"image encoding {encoding!r} is 16-bit (depth or infrared); the pose estimator "
                               f"needs a colour or grey 8-bit image: {supported}")  # fmt: skip
    if encoding not in CHANNELS:
        raise UnsupportedImage(f"unsupported image encoding {encoding!r}; supported: {supported}")
    if height <= 0 or width <= 0:
        raise UnsupportedImage(f"{encoding} image of {width}x{height} pixels: nothing to see")
    channels = CHANNELS[encoding]
    if step < width * channels:
        raise UnsupportedImage(f"{encoding} image: step {step} is shorter than a row of {width} pixels "
                               f"({width * channels} bytes)")  # fmt: skip
    buffer = np.frombuffer(memoryview(data), np.uint8) if not isinstance(data, list) else np.asarray(data, np.uint8)
    if buffer.size != step * height:
        raise UnsupportedImage(f"{encoding} image: {buffer.size} bytes of data for {height} rows of {step} bytes "
                               f"({step * height} expected)")  # fmt: skip
    pixels = buffer.reshape(height, step)[:, : width * channels].reshape(height, width, channels)
    if encoding == "bgr8":
        bgr = pixels
    elif encoding == "rgb8":
        bgr = pixels[..., ::-1]
    elif encoding == "bgra8":
        bgr = pixels[..., :3]
    elif encoding == "rgba8":
        bgr = pixels[..., 2::-1]
    else:  # mono8
        bgr = np.repeat(pixels, 3, axis=2)
    return np.array(bgr, dtype=np.uint8, order="C", copy=True)
