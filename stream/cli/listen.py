"""`stream-listen`: subscribe to a skelstream publisher and print one line per message.

Examples::

    stream-listen --zmq tcp://127.0.0.1:5560                       # actions and events
    stream-listen --zmq tcp://127.0.0.1:5560 --topics all --count 100
    stream-listen --zmq tcp://robot.local:5560 --topics events --json-out > events.jsonl
    python -m stream.cli.listen --zmq tcp://127.0.0.1:5560 --timeout 5   # exit 1 if silent 5 s
    stream-listen --zmq tcp://robot.local:5560 --curve-server-key keys/server.key --curve-key keys/me.key_secret

A line per message, e.g. ``actions    track 1  frame 120  walk 0.91  (lat 12.3 ms)``;
``--json-out`` prints each message as one JSON object with its ``topic``
instead. A payload that does not follow the schema (docs/messages.md) prints
a one-line warning on stderr and listening goes on; control characters (and
any other unprintable ones) in received text are shown escaped, never sent to
the terminal. With ``--curve-server-key`` the connection is CURVE-encrypted
(`stream.publishers.curve`). Exit status: 0 after ``--count`` messages (printed ones;
bad payloads do not count) or Ctrl-C, 1 when ``--timeout`` seconds pass
without a message, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from foundation.errors import KeyFileError, MessageError
from stream.messages.codec import decode, parse_topics
from stream.messages.schema import TOPICS


DEFAULT_ENDPOINT = "tcp://127.0.0.1:5560"
POLL_MS = 100  # wake up this often so Ctrl-C and --timeout are honoured promptly


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stream-listen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--zmq", default=DEFAULT_ENDPOINT, metavar="ENDPOINT",
                        help=f"publisher endpoint to connect to (default {DEFAULT_ENDPOINT})")  # fmt: skip
    parser.add_argument("--topics", default="actions,events",
                        help=f"comma-separated topics, or 'all' ({', '.join(TOPICS)}; default actions,events)")
    parser.add_argument("--json-out", action="store_true", help="print each message as one JSON line")
    parser.add_argument("--count", type=int, help="exit 0 after this many messages")
    parser.add_argument("--timeout", type=float, help="exit 1 when no message arrives for this many seconds")
    parser.add_argument("--curve-server-key", metavar="FILE",
                        help="the publisher's CURVE public key file (server.key): encrypt the connection")
    parser.add_argument("--curve-key", metavar="FILE",
                        help="this client's CURVE secret key file (NAME.key_secret; default: a fresh key pair)")
    return parser


def _number(value: float) -> str:
    return f"{value:.1f}"


def _text(value: object) -> str:
    """Received text for a terminal: control and other unprintable characters escaped, as Python writes them."""
    text = str(value)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def format_message(topic: str, msg: dict) -> str:
    """The human-readable line for one decoded message (unprintable received characters escaped)."""
    return _text(_format(topic, msg))


def handle(frames: list[bytes], json_out: bool = False) -> tuple[str | None, str | None]:
    """(the line to print, None) for one received multipart message, or (None, the warning) for a bad one."""
    topic = frames[0].decode("utf-8", errors="replace") if frames else ""
    if len(frames) != 2:
        return None, f"{_text(repr(topic))}: {len(frames)} frames, expected [topic, payload]"
    try:
        msg = decode(frames[1], topic)
    except MessageError as error:
        return None, _text(f"bad {topic!r} payload ({len(frames[1])} bytes): {error}")
    return (json.dumps({"topic": topic, **msg}) if json_out else format_message(topic, msg)), None


def _format(topic: str, msg: dict) -> str:
    head = f"{topic:<10} "
    if topic == "actions":
        return (f"{head}track {msg['track']}  frame {msg['frame']}  {msg['label']} {msg['score']:.2f}  "
                f"(lat {_number(msg['latency_ms'])} ms)")  # fmt: skip
    if topic == "events":
        delay = f"  ({_number(msg['delay_ms'])} ms after its evidence began)" if "delay_ms" in msg else ""
        return (f"{head}track {msg['track']}  frame {msg['frame']}  {msg['kind']} {msg['label']} {msg['score']:.2f}"
                f"{delay}")  # fmt: skip
    if topic == "skeletons":
        people = msg["people"]
        tracks = ",".join(str(p["track"]) for p in people) or "-"
        return (f"{head}frame {msg['frame']}  {len(people)} people (tracks {tracks})  {msg['layout'] or '-'} "
                f"in {msg['frame_id']}")  # fmt: skip
    if topic == "status":
        rates = " ".join(f"{k} {v:.1f} Hz" for k, v in msg["rates"].items()) or "-"
        drops = " ".join(f"{k} {v}" for k, v in msg["drops"].items()) or "-"
        p95 = " ".join(f"{k} {_number(v['p95'])}" for k, v in msg["latency_ms"].items()) or "-"
        return f"{head}frame {msg['frame']}  rates {rates}  drops {drops}  p95 ms {p95}"
    return f"{head}frame {msg['frame']}  {len(msg)} fields"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        topics = parse_topics(args.topics)
    except ValueError as error:
        print(f"stream-listen: error: {error}", file=sys.stderr)
        return 2
    if args.count is not None and args.count < 1 or args.timeout is not None and args.timeout <= 0:
        print("stream-listen: error: --count and --timeout must be positive", file=sys.stderr)
        return 2
    if args.curve_key is not None and args.curve_server_key is None:
        print("stream-listen: error: --curve-key needs --curve-server-key", file=sys.stderr)
        return 2
    import zmq

    from stream.publishers.curve import client_socket

    context = zmq.Context(io_threads=1)
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    try:
        if args.curve_server_key is not None:
            client_socket(socket, args.curve_server_key, args.curve_key)
        if args.zmq.startswith("tcp://[") or args.zmq.count(":") > 2:
            socket.setsockopt(zmq.IPV6, 1)
        socket.connect(args.zmq)
    except (zmq.ZMQError, KeyFileError) as error:
        reason = error if isinstance(error, KeyFileError) else f"cannot connect to {args.zmq}: {error.strerror}"
        print(f"stream-listen: error: {reason}", file=sys.stderr)
        socket.close()
        context.term()
        return 2
    for topic in topics:
        socket.setsockopt(zmq.SUBSCRIBE, topic.encode("ascii"))
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    received = 0
    last = time.monotonic()
    try:
        while args.count is None or received < args.count:
            if not poller.poll(POLL_MS):
                if args.timeout is not None and time.monotonic() - last >= args.timeout:
                    print(f"stream-listen: no message on {args.zmq} ({','.join(topics)}) for {args.timeout:g} s",
                          file=sys.stderr)  # fmt: skip
                    return 1
                continue
            frames = socket.recv_multipart(zmq.NOBLOCK)
            last = time.monotonic()
            line, warning = handle(frames, args.json_out)
            if warning is not None:
                print(f"stream-listen: warning: {warning}", file=sys.stderr, flush=True)
                continue
            print(line, flush=True)
            received += 1
    except (KeyboardInterrupt, BrokenPipeError):  # Ctrl-C, or `| head` closed the pipe
        pass
    finally:
        socket.close(linger=0)
        context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
