"""Making the MCAP rosbag2 of a killed recording readable again (``stream-run --repair-bag PATH``).

    from stream.ros2.bag_repair import repair_bag

    print(repair_bag("runs/session_bag"))   # "repaired bag runs/session_bag: 1432 messages on 9 topics, ..."

A recording killed before `BagWriter.close` (SIGKILL, power loss) leaves an
MCAP file without its summary and footer and no ``metadata.yaml``: rosbags and
``ros2 bag play`` refuse it. The recorder closes a chunk at least every
`stream.ros2.bag_writer.CHUNK_SECONDS` (or `CHUNK_BYTES`), so the file
holds every message up to its last complete chunk. `repair_bag` reads those
chunks (the schemas, channels and messages inside them; a torn last record is
dropped), writes them into a new bag beside it with rosbags — indexed, with
its summary and ``metadata.yaml``, each topic keeping its type, message
definition and offered QoS — and moves the new file and metadata into the
bag's folder in place of the torn file. A bag that already opens is left
alone.

The MCAP records read here (https://mcap.dev/spec): every record is an opcode
byte, a little-endian u64 length and its body; a chunk (0x06) holds schema
(0x03), channel (0x04) and message (0x05) records.
"""

from __future__ import annotations

import os
import secrets
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from foundation.errors import PublisherError
from foundation.optional import require
from foundation.output_files import fsync_folder


MAGIC = b"\x89MCAP0\r\n"
OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK = 0x03, 0x04, 0x05, 0x06
_U16, _U32, _U64 = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<Q")


class BagRepairError(PublisherError):
    """A bag cannot be repaired (not a bag folder, no MCAP file, a file that is not MCAP)."""


class _Body:
    """Reads the fields of one record's body."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def _take(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ValueError("record shorter than its fields")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def u16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self._take(8))[0]

    def string(self) -> str:
        return self._take(self.u32()).decode("utf-8")

    def bytes32(self) -> bytes:
        return self._take(self.u32())

    def bytes64(self) -> bytes:
        return self._take(self.u64())

    def rest(self) -> bytes:
        return self._take(len(self.data) - self.at)


def _records(data: bytes, start: int = 0) -> Iterator[tuple[int, bytes, int]]:
    """(opcode, body, end offset) of each complete record of ``data`` from ``start``; stops at a torn one."""
    at = start
    while at + 9 <= len(data):
        op, length = data[at], _U64.unpack_from(data, at + 1)[0]
        end = at + 9 + length
        if end > len(data):
            return
        yield op, data[at + 9 : end], end
        at = end


@dataclass
class _Scan:
    """What the complete chunks of a torn MCAP file hold."""

    schemas: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (type name, definition)
    channels: dict[int, tuple[str, int, str, bytes]] = field(default_factory=dict)  # id → (topic, schema, enc, meta)
    chunks: int = 0
    good_end: int = 0  # byte offset after the last complete record
    size: int = 0


def _scan(data: bytes, scan: _Scan) -> Iterator[tuple[int, int, bytes]]:
    """(channel id, log time, payload) of every message in the complete chunks, in file order."""
    if not data.startswith(MAGIC):
        raise ValueError("it does not start with the MCAP magic bytes")
    scan.size, scan.good_end = len(data), len(MAGIC)
    for op, body, end in _records(data, len(MAGIC)):
        if op == OP_CHUNK:
            chunk = _Body(body)
            chunk.u64(), chunk.u64(), chunk.u64(), chunk.u32()  # message start/end time, size, crc
            compression = chunk.string()
            if compression:
                raise ValueError(f"its chunks are compressed ({compression}); this recorder writes none")
            records = chunk.bytes64()
            for inner_op, inner, _ in _records(records):
                yield from _inner(inner_op, _Body(inner), scan)
            scan.chunks += 1
        scan.good_end = end


def _inner(op: int, body: _Body, scan: _Scan) -> Iterator[tuple[int, int, bytes]]:
    if op == OP_SCHEMA:
        schema_id, name, _encoding = body.u16(), body.string(), body.string()
        scan.schemas[schema_id] = (name, body.bytes32().decode("utf-8"))
    elif op == OP_CHANNEL:
        channel_id, schema_id, topic, encoding = body.u16(), body.u16(), body.string(), body.string()
        scan.channels[channel_id] = (topic, schema_id, encoding, body.bytes32())
    elif op == OP_MESSAGE:
        channel_id, _sequence, log_time, _publish_time = body.u16(), body.u32(), body.u64(), body.u64()
        yield channel_id, log_time, body.rest()


def _offered_qos(metadata: bytes) -> list:
    """The offered QoS profiles in a channel's metadata map (its key/value strings; rosbag2's
    ``offered_qos_profiles``)."""
    from rosbags.rosbag2.metadata import parse_qos

    entries = _Body(metadata)
    while entries.at < len(entries.data):
        key, value = entries.string(), entries.string()
        if key == "offered_qos_profiles":
            return parse_qos(value)
    return []


def bag_opens(path: Path) -> int | None:
    """The message count of a bag rosbags can open, else None."""
    rosbag2 = require("rosbags.rosbag2", extra="ros", what="bag repair (--repair-bag)", pip_name="rosbags")
    try:
        with rosbag2.Reader(path) as reader:
            return reader.message_count
    except (rosbag2.ReaderError, OSError, ValueError, KeyError):
        return None


def repair_bag(path: str | Path) -> str:
    """Rebuild the bag at ``path`` from its complete chunks; one line saying what it holds now.

    Raises:
        BagRepairError: ``path`` is no folder, holds no single ``.mcap``, or that file is not MCAP.
        MissingDependencyError: rosbags is not installed.
    """
    from rosbags.rosbag2 import StoragePlugin, Writer, WriterError

    from stream.ros2.bag_writer import BAG_VERSION
    from stream.ros2.interfaces import typestore

    path = Path(path)
    if not path.is_dir():
        raise BagRepairError(f"--repair-bag {path}: {'not a folder' if path.exists() else 'no such folder'}")
    count = bag_opens(path)
    if count is not None:
        return f"bag {path} is complete ({count} messages): nothing to repair"
    files = sorted(path.glob("*.mcap"))
    if len(files) != 1:
        raise BagRepairError(f"--repair-bag {path}: expected one .mcap file in it, found {len(files)}")
    torn = files[0]
    data = torn.read_bytes()
    store, scan = typestore(), _Scan()
    staging = path.parent / f"{path.name}.repair-{secrets.token_hex(3)}"
    rebuilt = staging / path.name  # rosbags names the file after its folder: the bag's own name
    writer = Writer(rebuilt, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP)
    writer.set_custom_data("skelstream.repaired", "rebuilt by stream-run --repair-bag from its complete chunks")
    connections, messages = {}, 0
    try:
        writer.open()
        for channel_id, stamp, payload in _scan(data, scan):
            connection = connections.get(channel_id)
            if connection is None:
                topic, schema_id, encoding, metadata = scan.channels[channel_id]
                typename, definition = scan.schemas[schema_id]
                connection = connections[channel_id] = writer.add_connection(
                    topic, typename, msgdef=definition, rihs01=store.hash_rihs01(typename),
                    serialization_format=encoding, offered_qos_profiles=_offered_qos(metadata))  # fmt: skip
            writer.write(connection, stamp, payload)
            messages += 1
        writer.close()
    except (ValueError, KeyError, UnicodeDecodeError, struct.error, WriterError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise BagRepairError(f"--repair-bag {path}: cannot read {torn.name}: {error}") from None
    new_file = rebuilt / f"{path.name}.mcap"
    with open(new_file, "rb") as written:
        os.fsync(written.fileno())
    os.replace(new_file, path / new_file.name)
    if torn.name != new_file.name:
        torn.unlink()
    os.replace(rebuilt / "metadata.yaml", path / "metadata.yaml")
    fsync_folder(path)
    shutil.rmtree(staging, ignore_errors=True)
    dropped = scan.size - scan.good_end
    return (f"repaired bag {path}: {messages} messages on {len(connections)} topics from {scan.chunks} complete "
            f"chunks; {dropped} bytes of an unfinished chunk dropped")  # fmt: skip
