"""2D → 3D lifting: image keypoints of any 2D detector into the unified_30 3D skeleton the action model takes.

`lifter` holds the network (a per-frame residual MLP, torch for training, numpy
for the stream) and the 2D/3D normalisation it works in; `virtual_cameras`
makes its training pairs by projecting real 3D skeletons through random
cameras; `evaluation` checks it on held-out people and on real 2D joints;
``python -m models.lifting.train`` trains one.
"""
