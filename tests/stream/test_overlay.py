"""The overlay draws people and labels, writes a readable video, and fails early where it cannot."""

from __future__ import annotations

import numpy as np
import pytest

from foundation.errors import PublisherError
from models.synthetic.generator import SyntheticConfig, iter_frames
from stream.publishers.overlay import OrthographicView, Overlay, track_color
from stream.types import Frame, FrameLabel, Person, TrackedPerson


cv2 = pytest.importorskip("cv2", reason="the overlay needs OpenCV: pip install -e '.[pose]'")

BACKGROUND = 24  # the blank canvas grey


def synthetic_frames(count: int = 20, people: int = 2):
    """(Frame without image, tracked people, labels) from the synthetic skeleton source."""
    for f in iter_frames(SyntheticConfig(num_people=people, num_frames=count, seed=4)):
        tracked = [TrackedPerson(i, Person(f.joints[i], f.mask[i], "unified_30")) for i in range(people)]
        labels = {i: FrameLabel(i, f.index, 0, f.labels[i] or "background", 0.8, latency_ns=9_000_000)
                  for i in range(people)}  # fmt: skip
        yield Frame(index=f.index, stamp_ns=0), tracked, labels


def read_back(path) -> tuple[int, int, int, float]:
    """(frames decoded, width, height, frame count the container reports)."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    reported = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    capture.release()
    return decoded, width, height, reported


def test_skeleton_only_frames_become_a_readable_mp4(tmp_path):
    path = tmp_path / "annotated.mp4"
    with Overlay(output=path, fps=30) as overlay:
        for frame, tracked, labels in synthetic_frames(20):
            image = overlay.update(frame, tracked, labels)
        assert overlay.frames_written == 20
    assert read_back(path) == (20, 640, 480, 20)
    for track in (0, 1):  # each person's bones drawn in the track's colour
        assert (image == track_color(track)).all(axis=2).sum() > 100
    assert (image != BACKGROUND).any(axis=2).mean() < 0.2  # and not a smear over the whole canvas


def test_camera_frames_use_image_points_and_set_the_video_size(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "camera.avi"
    points = np.array([[160, 40], [170, 35], [150, 35], [180, 40], [140, 40], [190, 80], [130, 80], [200, 120],
                       [120, 120], [205, 160], [115, 160], [180, 160], [140, 160], [182, 200], [138, 200],
                       [184, 235], [136, 235]], dtype=np.float64)  # fmt: skip
    with Overlay(output=path, fps=15) as overlay:  # the writer starts at the canvas size, reopens at 320x240
        for index in range(6):
            image = rng.integers(0, 40, (240, 320, 3), dtype=np.uint8)
            person = Person(np.zeros((17, 3)), np.ones(17), "coco_17", image_points=points + index)
            out = overlay.update(Frame(index, 0, image=image), [TrackedPerson(5, person)], {})
            assert out.shape == image.shape and not np.shares_memory(out, image)
        overlay.write(np.zeros((100, 100, 3), np.uint8))  # another size later: resized to the video's
    decoded, width, height, _ = read_back(path)
    assert (decoded, width, height) == (7, 320, 240)
    line = out[int(points[5, 1]) + 5 : int(points[7, 1]) + 5, :]  # the left upper arm of the last frame
    assert (np.abs(line.astype(int) - track_color(5)).sum(axis=2) < 60).any()


def test_orthographic_view_faces_the_sensor():
    view = OrthographicView(640, 480)
    joints = np.array([[0.0, 0.0, 3.0], [0.5, 1.0, 3.0]])  # second joint: to the sensor's left, higher
    view.fit([joints], [np.ones(2)])
    u, v = view.project(joints).T
    assert u[1] < u[0] and v[1] < v[0]  # drawn to the image's left (seen from the sensor) and up
    assert view.project(np.array([[0.25, 0.5, 9.0]])).tolist() == [[320.0, 240.0]]  # depth ignored


def test_unwritable_or_unknown_outputs_fail_at_construction(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(PublisherError, match="cannot write .*afile.*out.mp4: .*afile is a file, not a folder"):
        Overlay(output=tmp_path / "afile" / "out.mp4")
    assert list(tmp_path.iterdir()) == [tmp_path / "afile"]
    with pytest.raises(PublisherError, match="unknown extension"):
        Overlay(output=tmp_path / "out.gif")


def test_show_without_a_display_says_it_needs_one(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PublisherError, match="--show needs a .*display"):
        Overlay(show=True)
