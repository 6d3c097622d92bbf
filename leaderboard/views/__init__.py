"""Views validate, call one service or selector, and render; nothing else."""
