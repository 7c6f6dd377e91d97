"""sensor_msgs/Image fields → BGR: every supported encoding, padded rows, the buffers rclpy hands over, bad images."""

import array

import numpy as np
import pytest

from skelstream_ros.image_conversion import CHANNELS, UnsupportedImage, image_to_bgr

HEIGHT, WIDTH = 5, 7
rng = np.random.default_rng(3)
B, G, R, A = (rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8) for _ in range(4))
BGR = np.stack([B, G, R], axis=-1)
PIXELS = {  # each encoding's pixels, channel by channel as sensor_msgs/image_encodings defines them
    "rgb8": np.stack([R, G, B], axis=-1), "bgr8": BGR,
    "rgba8": np.stack([R, G, B, A], axis=-1), "bgra8": np.stack([B, G, R, A], axis=-1),
    "mono8": G[..., None],
}  # fmt: skip


def message_data(pixels: np.ndarray, padding: int) -> tuple[int, bytearray]:
    """(step, data) of an image message holding ``pixels`` with ``padding`` bytes at the end of every row."""
    rows = pixels.reshape(HEIGHT, -1)
    padded = np.concatenate([rows, np.full((HEIGHT, padding), 0xEE, np.uint8)], axis=1)
    return padded.shape[1], bytearray(padded.tobytes())


@pytest.mark.parametrize("encoding", sorted(CHANNELS))
@pytest.mark.parametrize("padding", [0, 3])
def test_every_encoding_becomes_the_same_bgr_image(encoding, padding):
    step, data = message_data(PIXELS[encoding], padding)
    bgr = image_to_bgr(HEIGHT, WIDTH, encoding, step, data)
    expected = np.repeat(G[..., None], 3, axis=2) if encoding == "mono8" else BGR
    assert bgr.dtype == np.uint8 and bgr.shape == (HEIGHT, WIDTH, 3) and bgr.flags.c_contiguous
    assert np.array_equal(bgr, expected)
    data[:] = bytes(len(data))  # the message buffer is reused: the image must not change with it
    assert np.array_equal(bgr, expected) and bgr.flags.writeable


@pytest.mark.parametrize("wrap", [bytes, lambda d: array.array("B", d), list, lambda d: np.frombuffer(d, np.uint8)])
def test_the_data_containers_ros_gives_are_read(wrap):
    step, data = message_data(PIXELS["rgb8"], 1)
    assert np.array_equal(image_to_bgr(HEIGHT, WIDTH, "rgb8", step, wrap(bytes(data))), BGR)


@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
def test_sixteen_bit_images_are_refused_with_the_reason(encoding):
    message = f"image encoding '{encoding}' is 16-bit .*: rgb8, bgr8, mono8, rgba8, bgra8"
    with pytest.raises(UnsupportedImage, match=message):
        image_to_bgr(HEIGHT, WIDTH, encoding, WIDTH * 2, bytes(WIDTH * 2 * HEIGHT))


@pytest.mark.parametrize("height, width, encoding, step, size, message", [
    (HEIGHT, WIDTH, "yuv422", WIDTH * 2, WIDTH * 2 * HEIGHT,
     "unsupported image encoding 'yuv422'; supported: rgb8, bgr8, mono8, rgba8, bgra8"),
    (HEIGHT, WIDTH, "bayer_rggb8", WIDTH, WIDTH * HEIGHT, "unsupported image encoding 'bayer_rggb8'"),
    (HEIGHT, WIDTH, "rgb8", WIDTH * 3 - 1, (WIDTH * 3 - 1) * HEIGHT, "step 20 is shorter than a row of 7 pixels"),
    (HEIGHT, WIDTH, "bgr8", WIDTH * 3, WIDTH * 3 * HEIGHT - 1, "104 bytes of data for 5 rows of 21 bytes"),
    (0, WIDTH, "bgr8", WIDTH * 3, 0, "0 pixels: nothing to see"),
])  # fmt: skip
def test_bad_images_are_refused_with_a_clear_error(height, width, encoding, step, size, message):
    with pytest.raises(UnsupportedImage, match=message):
        image_to_bgr(height, width, encoding, step, bytes(size))
