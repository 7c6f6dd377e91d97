"""Entry points of the streaming runtime."""
