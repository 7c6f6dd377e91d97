"""ZeroMQ CURVE keys from files: encryption and client authentication for the published stream.

Keys are the Z85 certificate files of `zmq.auth` (what ``zmq.auth.create_certificates``
writes): ``NAME.key`` holds a public key, ``NAME.key_secret`` the public and the
secret key. Make them once, give each side its files, keep the secret ones
private::

    python -c "import zmq.auth; zmq.auth.create_certificates('keys', 'server')"   # keys/server.key{,_secret}
    python -c "import zmq.auth; zmq.auth.create_certificates('keys', 'robot')"    # a client's pair
    chmod 600 keys/*.key_secret
    mkdir clients && cp keys/robot.key clients/                                   # the clients allowed in

    stream-run --zmq-curve-secret keys/server.key_secret --zmq-curve-clients clients/
    stream-listen --curve-server-key keys/server.key --curve-key keys/robot.key_secret

`server_socket` makes a bound socket a CURVE server (every connection
encrypted; with a client folder, only the clients whose public ``*.key`` files
it holds get in, checked by a ZAP authenticator thread); `client_socket` makes
a connecting socket a CURVE client. A client with the wrong server key, an
unknown client key or no CURVE at all completes no handshake and receives
nothing.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import zmq

from foundation.errors import KeyFileError

logger = logging.getLogger(__name__)


def _require_curve() -> None:
    if not zmq.has("curve"):
        raise KeyFileError("this libzmq has no CURVE support (built without libsodium); pyzmq's wheels have it")


def _load(path: str | Path, what: str) -> tuple[bytes, bytes | None]:
    import zmq.auth

    path = Path(path)
    if not path.is_file():
        raise KeyFileError(f"{what} {path}: {'not a file' if path.exists() else 'no such file'}")
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise KeyFileError(f"{what} {path}: not a ZeroMQ certificate ({error})") from None
    for name, key in (("public", public), ("secret", secret)):
        if key is not None and len(key) != 40:
            raise KeyFileError(f"{what} {path}: its {name} key is not 40 Z85 characters")
    return public, secret


def load_secret_key(path: str | Path, what: str = "CURVE secret key file") -> tuple[bytes, bytes]:
    """(public, secret) Z85 keys of a ``.key_secret`` file; `KeyFileError` names the file otherwise."""
    public, secret = _load(path, what)
    if secret is None:
        raise KeyFileError(f"{what} {path}: holds only a public key (give the .key_secret file)")
    if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("%s %s is readable by other users; chmod 600 it", what, path)
    return public, secret


def load_public_key(path: str | Path, what: str = "CURVE public key file") -> bytes:
    """The Z85 public key of a ``.key`` (or ``.key_secret``) file; `KeyFileError` names the file otherwise."""
    return _load(path, what)[0]


def server_socket(socket: zmq.Socket, context: zmq.Context, secret_key: str | Path,
                  clients: str | Path | None) -> Any:  # fmt: skip
    """Make ``socket`` (not yet bound) a CURVE server; returns the started authenticator to stop, or None.

    ``clients``: a folder of allowed clients' public ``*.key`` files; None lets any
    client that knows the server's public key subscribe (encrypted, not authenticated).
    """
    _require_curve()
    public, secret = load_secret_key(secret_key)
    authenticator = None
    if clients is not None:
        from zmq.auth import load_certificates
        from zmq.auth.thread import ThreadAuthenticator

        folder = Path(clients)
        if not folder.is_dir():
            reason = "not a folder" if folder.exists() else "no such folder"
            raise KeyFileError(f"CURVE client key folder {folder}: {reason}")
        try:
            allowed = load_certificates(folder)
        except (OSError, ValueError) as error:
            raise KeyFileError(f"CURVE client key folder {folder}: {error}") from None
        if not allowed:
            logger.warning("CURVE client key folder %s holds no *.key file: no subscriber can get in", folder)
        authenticator = ThreadAuthenticator(context, log=logging.getLogger(f"{__name__}.zap"))
        authenticator.start()
        authenticator.configure_curve(domain="*", location=str(folder))
    else:
        logger.warning("CURVE without a client key folder: any client that knows the server's public key "
                       "can subscribe (encrypted, not authenticated)")  # fmt: skip
    socket.curve_secretkey = secret
    socket.curve_publickey = public
    socket.curve_server = True
    return authenticator


def client_socket(socket: zmq.Socket, server_key: str | Path, client_secret_key: str | Path | None) -> None:
    """Make ``socket`` (not yet connected) a CURVE client of the server whose public key file is ``server_key``.

    ``client_secret_key``: this client's ``.key_secret`` file; None uses a fresh key pair
    (enough for a server without a client folder).
    """
    _require_curve()
    socket.curve_serverkey = load_public_key(server_key, "CURVE server key file")
    if client_secret_key is None:
        public, secret = zmq.curve_keypair()
    else:
        public, secret = load_secret_key(client_secret_key, "CURVE client key file")
    socket.curve_publickey = public
    socket.curve_secretkey = secret
