"""Benchmarks: retrograd against PyTorch (CPU) and hand-written NumPy, in one run."""
