"""Calibration targets: a chessboard and a ChArUco board, their detection, and a renderer.

A board knows its corners in its own frame (``object_points``, metres, Z = 0)
and finds them in an image::

    board = ChessboardBoard(cols=9, rows=6, square=0.025)      # inner corners
    found = board.detect(image)                                # None when not seen
    if found is not None:
        image_points, object_points = found                    # (N, 2), (N, 3) float32

``render_board_view`` draws what a camera with known intrinsics and
distortion sees of a board at a known pose; the tests calibrate from such
views and compare with the known camera, and it can produce example images::

    image = render_board_view(board, K, D, rvec, tvec, (1280, 720), noise_std=2.0)

Rendering traces, for every output pixel (supersampled), the undistorted ray
through the board plane and samples the board's flat image there, so the
corners in the rendered image lie exactly at ``cv2.projectPoints`` of the
object points.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from calibration.opencv import opencv

logger = logging.getLogger(__name__)

__all__ = ["Board", "ChessboardBoard", "CharucoBoard", "make_board", "render_board_view"]

Detection = tuple[np.ndarray, np.ndarray]


def to_gray(image: np.ndarray) -> np.ndarray:
    cv2 = opencv()
    image = np.asarray(image)
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] == 3:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        gray = image[:, :, 0]
    else:
        raise ValueError(f"expected a grey or BGR image, got an array of shape {image.shape}")
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return gray


class Board(ABC):
    """A planar calibration target."""

    @property
    @abstractmethod
    def object_points(self) -> np.ndarray:
        """Every corner in the board frame, (N, 3) float32 metres, Z = 0."""

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detection | None:
        """``(image_points (M, 2), object_points (M, 3))`` float32 for the corners found, or None."""

    @abstractmethod
    def flat_image(self, pixels_per_square: int) -> tuple[np.ndarray, float, float]:
        """The board drawn flat, grey uint8, and ``(ppm, origin)``.

        Pixel edge coordinate ``x`` of the image lies at board coordinate
        ``X = x / ppm - origin`` (same for Y): ``origin`` metres of margin
        lie before the board frame's zero.
        """

    @property
    def description(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class ChessboardBoard(Board):
    """A chessboard with ``cols`` x ``rows`` inner corners and squares of ``square`` metres.

    The board frame's origin is the first inner corner; X runs along the
    ``cols`` corners of a row, Y along the rows. Only whole boards are
    detected: a view with the board partly outside the image yields None.
    """

    cols: int
    rows: int
    square: float

    def __post_init__(self) -> None:
        if self.cols < 2 or self.rows < 2:
            raise ValueError(f"a chessboard needs at least 2x2 inner corners, got {self.cols}x{self.rows}")
        if not self.square > 0:
            raise ValueError(f"square size must be positive metres, got {self.square}")

    @property
    def object_points(self) -> np.ndarray:
        grid = np.mgrid[0 : self.cols, 0 : self.rows].T.reshape(-1, 2)
        points = np.zeros((self.cols * self.rows, 3), np.float32)
        points[:, :2] = grid * self.square
        return points

    def detect(self, image: np.ndarray) -> Detection | None:
        cv2 = opencv()
        gray = to_gray(image)
        flags = cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_EXHAUSTIVE | cv2.CALIB_CB_ACCURACY
        found, corners = cv2.findChessboardCornersSB(gray, (self.cols, self.rows), flags=flags)
        if not found or corners is None:
            return None
        corners = corners.reshape(-1, 1, 2).astype(np.float32)
        # Refine with a window well inside the smallest square seen (SB alone is ~0.2 px off on
        # fronto-parallel views; cornerSubPix brings that under 0.1 px on rendered boards).
        grid = corners.reshape(self.rows, self.cols, 2)
        spacing = min(np.linalg.norm(np.diff(grid, axis=0), axis=-1).min(),
                      np.linalg.norm(np.diff(grid, axis=1), axis=-1).min())  # fmt: skip
        win = int(np.clip(spacing / 4, 2, 11))
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-3)
        corners = cv2.cornerSubPix(gray, corners, (win, win), (-1, -1), criteria)
        return corners.reshape(-1, 2), self.object_points

    def flat_image(self, pixels_per_square: int) -> tuple[np.ndarray, float, float]:
        s = int(pixels_per_square)
        margin = 1  # squares of white quiet zone around the board
        nx, ny = self.cols + 1, self.rows + 1  # squares
        image = np.full(((ny + 2 * margin) * s, (nx + 2 * margin) * s), 255, np.uint8)
        for j in range(ny):
            for i in range(nx):
                if (i + j) % 2 == 0:
                    y0, x0 = (j + margin) * s, (i + margin) * s
                    image[y0 : y0 + s, x0 : x0 + s] = 0
        # First inner corner = corner between squares 0 and 1, at (margin + 1) squares from the edge.
        return image, s / self.square, (margin + 1) * self.square


@dataclass(frozen=True)
class CharucoBoard(Board):
    """A ChArUco board of ``squares_x`` x ``squares_y`` squares (OpenCV's layout and corner ids).

    ``marker`` is the ArUco marker side in metres, ``dictionary`` an OpenCV
    predefined dictionary name; ``legacy`` selects the layout of boards made
    with OpenCV before 4.6 (differs for an even number of rows). Partial views
    are detected: only the corners seen are returned.
    """

    squares_x: int
    squares_y: int
    square: float
    marker: float
    dictionary: str = "DICT_5X5_100"
    legacy: bool = False
    min_corners: int = 6

    def __post_init__(self) -> None:
        cv2 = opencv()
        if self.squares_x < 3 or self.squares_y < 3:
            raise ValueError(f"a ChArUco board needs at least 3x3 squares, got {self.squares_x}x{self.squares_y}")
        if not 0 < self.marker < self.square:
            raise ValueError(f"marker size must be positive and below the square size {self.square}, got {self.marker}")
        if not hasattr(cv2.aruco, self.dictionary):
            raise ValueError(f"unknown ArUco dictionary {self.dictionary!r} (e.g. DICT_4X4_50, DICT_5X5_100)")
        needed = self.squares_x * self.squares_y // 2
        if len(self._dict().bytesList) < needed:
            raise ValueError(f"dictionary {self.dictionary} has fewer than the {needed} markers this board needs")

    def _dict(self):
        cv2 = opencv()
        return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))

    def cv_board(self):
        """The ``cv2.aruco.CharucoBoard``."""
        cv2 = opencv()
        board = cv2.aruco.CharucoBoard((self.squares_x, self.squares_y), self.square, self.marker, self._dict())
        board.setLegacyPattern(self.legacy)
        return board

    @property
    def object_points(self) -> np.ndarray:
        return np.asarray(self.cv_board().getChessboardCorners(), np.float32).reshape(-1, 3)

    def detect(self, image: np.ndarray) -> Detection | None:
        cv2 = opencv()
        gray = to_gray(image)
        board = self.cv_board()
        detector = cv2.aruco.CharucoDetector(board)
        corners, ids, _, _ = detector.detectBoard(gray)
        if corners is None or ids is None or len(ids) < self.min_corners:
            return None
        ids = ids.reshape(-1)
        object_points = self.object_points[ids]
        # Corners all on one line do not constrain a camera.
        centred = object_points[:, :2] - object_points[:, :2].mean(axis=0)
        if np.linalg.svd(centred, compute_uv=False)[-1] < 1e-6 * self.square:
            return None
        return corners.reshape(-1, 2).astype(np.float32), object_points

    def flat_image(self, pixels_per_square: int) -> tuple[np.ndarray, float, float]:
        s = int(pixels_per_square)
        margin = s  # one square of white quiet zone
        size = (self.squares_x * s + 2 * margin, self.squares_y * s + 2 * margin)
        image = self.cv_board().generateImage(size, marginSize=margin, borderBits=1)
        return image, s / self.square, self.square  # board frame origin = outer top-left corner


def make_board(pattern: str, cols: int, rows: int, square: float, *, marker: float | None = None,
               dictionary: str = "DICT_5X5_100", legacy: bool = False) -> Board:  # fmt: skip
    """Board by name: ``chessboard`` (cols x rows inner corners) or ``charuco`` (cols x rows squares).

    A ChArUco marker defaults to 0.75 of the square.
    """
    if pattern == "chessboard":
        return ChessboardBoard(cols, rows, square)
    if pattern == "charuco":
        return CharucoBoard(cols, rows, square, marker if marker is not None else 0.75 * square, dictionary, legacy)
    raise ValueError(f"unknown pattern {pattern!r}: expected 'chessboard' or 'charuco'")


# ---------------------------------------------------------------------------------------------
# Rendering


@lru_cache(maxsize=4)
def _rays(K_bytes: bytes, D_bytes: bytes, width: int, height: int, supersample: int) -> np.ndarray:
    """Undistorted normalised coordinates (H*s, W*s, 2) of the supersampled pixel centres."""
    cv2 = opencv()
    K = np.frombuffer(K_bytes, np.float64).reshape(3, 3)
    D = np.frombuffer(D_bytes, np.float64)
    s = supersample
    xs = (np.arange(width * s, dtype=np.float64) + 0.5) / s - 0.5
    ys = (np.arange(height * s, dtype=np.float64) + 0.5) / s - 0.5
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 1, 2)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)
    normalised = cv2.undistortPoints(grid, K, D, criteria=criteria)
    return normalised.reshape(height * s, width * s, 2)


def render_board_view(board: Board, K: np.ndarray, D: np.ndarray, rvec: np.ndarray, tvec: np.ndarray,
                      size: tuple[int, int], noise_std: float = 0.0, rng: np.random.Generator | None = None,
                      *, supersample: int = 2, background: int = 140,
                      pixels_per_square: int = 96) -> np.ndarray:  # fmt: skip
    """A BGR uint8 image of ``board`` seen by a camera (``K``, ``D``) at pose ``rvec``, ``tvec``.

    The pose maps board coordinates into the camera frame, as ``cv2.projectPoints``
    takes it. ``size`` is ``(width, height)``; ``noise_std`` adds Gaussian
    pixel noise (grey levels) drawn from ``rng``. The image is supersampled
    ``supersample`` times per axis and area-averaged, which anti-aliases the
    edges without moving them.
    """
    cv2 = opencv()
    width, height = int(size[0]), int(size[1])
    K = np.ascontiguousarray(K, np.float64).reshape(3, 3)
    D = np.ascontiguousarray(D, np.float64).reshape(-1)
    rays = _rays(K.tobytes(), D.tobytes(), width, height, int(supersample))
    R, _ = cv2.Rodrigues(np.asarray(rvec, np.float64).reshape(3))
    t = np.asarray(tvec, np.float64).reshape(3)
    # The ray through each pixel, in the board frame: origin o, direction d; board plane Z = 0.
    origin = -R.T @ t
    d = rays[..., 0:1] * R.T[:, 0] + rays[..., 1:2] * R.T[:, 1] + R.T[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = -origin[2] / d[..., 2]
    hit = np.isfinite(lam) & (lam > 0)
    X = origin[0] + lam * d[..., 0]
    Y = origin[1] + lam * d[..., 1]
    flat, ppm, offset = board.flat_image(pixels_per_square)
    # Pixel-centre coordinates of the flat image, as cv2.remap takes them.
    map_x = np.where(hit, (X + offset) * ppm - 0.5, -1e6).astype(np.float32)
    map_y = np.where(hit, (Y + offset) * ppm - 0.5, -1e6).astype(np.float32)
    big = cv2.remap(flat, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=background)
    image = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA).astype(np.float64)
    if noise_std > 0:
        rng = rng if rng is not None else np.random.default_rng()
        image += rng.normal(0.0, noise_std, image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)


def detect_oriented(board: Board, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``board.detect`` with the chessboard's 180 degree ambiguity resolved.

    ``cv2.findChessboardCornersSB`` orders the corners by their layout in the
    image, so the same board seen upside down comes back in reverse order: the
    board frame turns by 180 degrees about its normal. Intrinsics do not care,
    a pose does. The squares' colours decide: the image is sampled at every
    square centre through the homography of the detected corners and compared
    with the board's own flat image; a negative correlation means reverse the
    corners. Needs a board whose squares are not 180-degree symmetric (an odd
    and an even inner-corner count, e.g. 9x6); ChArUco corners are unambiguous.
    """
    cv2 = opencv()
    found = board.detect(image)
    if found is None or not isinstance(board, ChessboardBoard):
        return found
    image_points, object_points = found
    if (board.cols + board.rows) % 2 == 0:
        logger.warning("a %dx%d chessboard looks the same turned by 180 degrees: its pose is ambiguous; "
                       "use an odd x even board (e.g. 9x6) or ChArUco", board.cols, board.rows)  # fmt: skip
        return found
    H, _ = cv2.findHomography(object_points[:, :2].astype(np.float64), image_points.astype(np.float64))
    flat, ppm, offset = board.flat_image(32)
    i, j = np.meshgrid(np.arange(board.cols + 1), np.arange(board.rows + 1))
    centres = np.column_stack([(i.ravel() - 0.5) * board.square, (j.ravel() - 0.5) * board.square])
    expected = flat[((centres[:, 1] + offset) * ppm).astype(int), ((centres[:, 0] + offset) * ppm).astype(int)]
    pixels = cv2.perspectiveTransform(centres.reshape(-1, 1, 2), H).reshape(-1, 2)
    gray = to_gray(image)
    cols = np.clip(np.rint(pixels[:, 0]).astype(int), 0, gray.shape[1] - 1)
    rows = np.clip(np.rint(pixels[:, 1]).astype(int), 0, gray.shape[0] - 1)
    observed = gray[rows, cols].astype(np.float64)
    if np.corrcoef(observed, expected.astype(np.float64))[0, 1] < 0:
        image_points = image_points[::-1].copy()
    return image_points, object_points
