"""Publishers: where labels, events, skeletons and status leave the pipeline.

Each publisher is imported only where it is used (ZeroMQ's pyzmq and
msgpack are core dependencies; DDS and rosbag2 need the ``ros`` extra). None of them ever blocks the streaming loop: a consumer that cannot
keep up loses messages, counted, instead of slowing the camera down. The
message schema lives in `stream.messages` and ``docs/messages.md``.
"""
