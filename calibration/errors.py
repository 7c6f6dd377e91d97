"""Exception type raised by the calibration package."""

from __future__ import annotations

from models.errors import SkelstreamError


class CalibrationError(SkelstreamError):
    """Calibration cannot proceed: bad input files, too few usable views, no board found, ..."""
