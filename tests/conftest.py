import os
import sys

import pytest

import retrograd as rg

# Tests in subfolders (tests/nn, tests/apps, ...) share tests/helpers.py.
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads, and the number of shares each op split its work into."""
    if not rg.threads._blas_libraries():
        pytest.skip("threadpoolctl is not installed: ops run their parts on one thread")
    previous = rg.get_num_threads()
    shares = []
    run = rg.threads.in_parallel
    monkeypatch.setattr(rg.threads, "in_parallel",
                        lambda fn, parts: shares.append(len(parts)) or run(fn, parts))
    rg.set_num_threads(2)
    yield shares
    rg.set_num_threads(previous)
