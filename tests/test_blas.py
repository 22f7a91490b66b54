"""BLAS's axpy through ctypes (retrograd/_blas.py): in place, equal to NumPy's two-pass form up
to the last bit, refused (nothing done) wherever it cannot be used, and the optimizer's update
the same with and without it."""
import numpy as np
import pytest

import retrograd as rg
from retrograd import _blas
from helpers import requires_torch, torch

SIZE = 2 * _blas.MIN_SIZE


def _arrays(dtype, size=SIZE, seed=0):
    g = np.random.default_rng(seed)
    return g.standard_normal(size).astype(dtype), g.standard_normal(size).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_adds_in_place(dtype):
    pytest.importorskip("threadpoolctl")
    x, y = _arrays(dtype)
    expected = y + dtype(-0.3) * x
    address = y.ctypes.data
    assert _blas.axpy(-0.3, x, y)  # NumPy's wheels bring an OpenBLAS with the routine
    assert y.ctypes.data == address
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps,
                               atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("case", ["small", "float16", "dtypes", "shapes", "strided",
                                  "overlap", "read-only"])
def test_axpy_refuses_what_it_cannot_do_and_leaves_y_alone(case):
    x, y = _arrays(np.float32)
    if case == "small":
        x, y = x[:_blas.MIN_SIZE - 1].copy(), y[:_blas.MIN_SIZE - 1].copy()
    elif case == "float16":
        x, y = x.astype(np.float16), y.astype(np.float16)
    elif case == "dtypes":
        x = x.astype(np.float64)
    elif case == "shapes":
        y = y.reshape(2, -1)
    elif case == "strided":
        x, y = np.repeat(x, 2)[::2], np.repeat(y, 2)[::2]
    elif case == "overlap":
        whole = np.concatenate([x, y[:1]])
        x, y = whole[1:], whole[:-1]
    else:
        y.flags.writeable = False
    before = y.copy()
    assert not _blas.axpy(0.5, x, y)
    np.testing.assert_array_equal(y, before)


def _sgd_run(lib=rg):
    """A 600 x 500 parameter after 5 steps of SGD with momentum and decay (``lib``: retrograd
    or torch): above MIN_SIZE, and without BLAS above the optimizer's block (its NumPy update
    goes a block at a time)."""
    start, target = (a.reshape(600, 500) for a in _arrays(np.float32, 300000, seed=1))
    param = lib.tensor(start, requires_grad=True)
    optimizer = lib.optim.SGD([param], lr=0.05, momentum=0.9, weight_decay=0.01)
    for _ in range(5):
        optimizer.zero_grad()
        ((param - lib.tensor(target)) ** 2).sum().backward()
        optimizer.step()
    return param.detach().numpy()


def test_sgd_update_is_the_same_without_blas(monkeypatch):
    from retrograd.optim.optimizer import _UPDATE_BLOCK
    assert 600 * 500 > _UPDATE_BLOCK
    with_blas = _sgd_run()
    monkeypatch.setattr(_blas, "_routines", {})  # as if no BLAS routine were found
    np.testing.assert_allclose(_sgd_run(), with_blas, rtol=1e-5, atol=1e-6)


@requires_torch
def test_sgd_update_of_a_large_parameter_matches_torch():
    np.testing.assert_allclose(_sgd_run(), _sgd_run(torch), rtol=1e-5, atol=1e-6)


def test_axpy_leaves_the_blas_thread_counts_as_it_found_them(two_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def counts():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]
    x, y = _arrays(np.float32)
    with threadpoolctl.threadpool_limits(1):  # a user's limit
        assert _blas.axpy(0.5, x, y)
        assert set(counts()) == {1}
    assert _blas.axpy(0.5, x, y)
    assert set(counts()) == {2}
