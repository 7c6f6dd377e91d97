"""Publishers: where labels, events, skeletons and status leave the pipeline.

Each publisher is a backend imported only where it is used
(`stream.publishers.zmq_publisher` needs the ``ros`` extra: pyzmq and
msgpack). None of them ever blocks the streaming loop: a consumer that cannot
keep up loses messages, counted, instead of slowing the camera down. The
message schema lives in `stream.messages` and ``docs/messages.md``.
"""
