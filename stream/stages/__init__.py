"""The stages between pose and publishing, each usable on its own: tracking (`stream.stages.tracking`), people
placed in the robot frame (`stream.stages.localization`), per-track windows (`stream.stages.windowing`) and the
decoder that turns model logits into final labels and events (`stream.stages.decoding`)."""
