"""Exception types of the streaming runtime; each carries a message meant for the user."""

from __future__ import annotations

from models.errors import SkelstreamError


class SourceError(SkelstreamError):
    """A source cannot be opened or stopped delivering (no camera, unreadable video, bad recording)."""


class PoseModelError(SkelstreamError):
    """The pose model is missing, cannot be prepared, or fails to load."""


class PublisherError(SkelstreamError):
    """A publisher cannot start (bad endpoint, address in use, unwritable output)."""


class MessageError(SkelstreamError):
    """A received payload does not follow the message schema."""


class KeyFileError(SkelstreamError):
    """A CURVE key file or client key folder is missing, unreadable or malformed."""
