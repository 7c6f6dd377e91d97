"""Recording formats the runtime writes and replays: `stream.recordings.skrec`, the ``.skrec`` file of skeletons
and labels (written by `stream.publishers.recorder`, replayed by `stream.sources.skeleton_file`)."""
