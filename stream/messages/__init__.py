"""The published messages (DESIGN §5; ``docs/messages.md``), in three parts:

- `stream.messages.schema`: the fields of every topic and `validate`;
- `stream.messages.builders`: the messages built from the runtime's types (`action_message`, ...);
- `stream.messages.codec`: msgpack/JSON bytes and back (`encode`, a hostile-input `decode`), topic frames.
"""
