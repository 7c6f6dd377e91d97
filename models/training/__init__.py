"""Training: window datasets, the task steps (pretrain, detect, classify) and the loop."""
