"""The optional numba kernels of the convolutions (retrograd/ops/_kernels.py): the same results
as the NumPy path, bit for bit, in every patch layout; gradients and PyTorch parity with them
on; the switches that turn them off; and the NumPy path when numba cannot be imported."""
import os
import subprocess
import sys

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
import retrograd.ops
from retrograd import backends
from retrograd.ops import conv
from helpers import check_grad, check_parity, randn, requires_torch, torch


@pytest.fixture
def kernels(monkeypatch):
    """The kernel module, switched on for the test (skips where numba is not installed), with
    every kernel call counted in ``kernels.calls``."""
    pytest.importorskip("numba", reason="numba is not installed: pip install -e '.[fast]'")
    monkeypatch.setattr(backends.numba, "enabled", True)
    module = backends.numba.kernels()
    calls = []
    for name in ("patches_wide", "add_patches_wide"):
        def counted(*args, _kernel=getattr(module, name), _name=name):
            calls.append(_name)
            return _kernel(*args)
        monkeypatch.setattr(module, name, counted)
    module.calls = calls
    return module


@pytest.fixture
def one_sample_slices(monkeypatch):
    """Patch matrices of one sample at a time: every batch spans several slices."""
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)


def run_conv(name, x, w, b, kwargs):
    """(output, dx, dw, db) of one call, for a fixed output gradient."""
    tensors = [rg.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = getattr(F, name)(*tensors, **kwargs)
    seed = randn(*out.shape, seed=3, dtype=x.dtype)
    out.backward(rg.tensor(seed))
    return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]


# (op, x shape, w shape, keyword arguments, the kernels it must use). Wide patches need
# stride 1 and C*KH*KW >= O; strided patches stay in NumPy (no kernel beat it there).
CASES = [
    pytest.param("conv2d", (4, 1, 12, 12), (6, 1, 5, 5), dict(padding=2),
                 {"patches_wide", "add_patches_wide"}, id="lenet-conv1"),
    pytest.param("conv2d", (4, 6, 14, 14), (16, 6, 5, 5), {},
                 {"patches_wide", "add_patches_wide"}, id="lenet-conv2"),
    pytest.param("conv2d", (1, 2, 7, 6), (3, 2, 3, 2), dict(dilation=2, padding=(2, 1)),
                 {"patches_wide", "add_patches_wide"}, id="batch1-wide-dilated"),
    pytest.param("conv2d", (3, 1, 6, 6), (8, 1, 2, 2), dict(padding=(1, 0)),
                 set(), id="strided-more-outputs"),
    pytest.param("conv2d", (3, 2, 9, 8), (4, 2, 3, 3), dict(stride=2, padding=1, dilation=2),
                 set(), id="strided-stride2-dilated"),
    pytest.param("conv2d", (2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1),
                 {"patches_wide", "add_patches_wide"}, id="wide-groups"),
    pytest.param("conv2d", (2, 4, 7, 8), (8, 1, 3, 3), dict(groups=4, stride=(2, 1)),
                 set(), id="strided-depthwise"),
    pytest.param("conv1d", (2, 3, 11), (4, 3, 3), dict(padding=2, dilation=2),
                 {"patches_wide", "add_patches_wide"}, id="conv1d"),
    pytest.param("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 3), dict(padding=1, dilation=2),
                 {"patches_wide", "add_patches_wide"}, id="transposed"),
    pytest.param("conv_transpose2d", (2, 4, 5, 4), (4, 3, 3, 3),
                 dict(stride=2, padding=1, output_padding=1), set(), id="transposed-strided"),
]


@pytest.mark.parametrize("slices", ["whole", "one-sample"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, x_shape, w_shape, kwargs, used", CASES)
def test_kernels_give_the_numpy_results_exactly(kernels, monkeypatch, request, name, x_shape,
                                                w_shape, kwargs, used, dtype, slices):
    if slices == "one-sample":
        request.getfixturevalue("one_sample_slices")
    out_channels = w_shape[1] * kwargs.get("groups", 1) if "transpose" in name else w_shape[0]
    arrays = (randn(*x_shape, dtype=dtype), randn(*w_shape, seed=1, dtype=dtype),
              randn(out_channels, seed=2, dtype=dtype))
    with_kernels = run_conv(name, *arrays, kwargs)
    assert set(kernels.calls) == used
    monkeypatch.setattr(backends.numba, "enabled", False)
    del kernels.calls[:]
    with_numpy = run_conv(name, *arrays, kwargs)
    assert not kernels.calls
    for fast, plain in zip(with_kernels, with_numpy):
        assert fast.dtype == plain.dtype == dtype
        np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs, used", CASES[2:])
def test_kernels_gradcheck(kernels, one_sample_slices, name, x_shape, w_shape, kwargs, used):
    out_channels = w_shape[1] * kwargs.get("groups", 1) if "transpose" in name else w_shape[0]
    check_grad(lambda x, w, b: getattr(F, name)(x, w, b, **kwargs), randn(*x_shape),
               randn(*w_shape, seed=1), randn(out_channels, seed=2))
    assert set(kernels.calls) == used


@requires_torch
@pytest.mark.parametrize("name, x_shape, w_shape, kwargs, used", CASES)
def test_kernels_match_pytorch(kernels, name, x_shape, w_shape, kwargs, used):
    out_channels = w_shape[1] * kwargs.get("groups", 1) if "transpose" in name else w_shape[0]
    check_parity(lambda x, w, b: getattr(F, name)(x, w, b, **kwargs),
                 lambda x, w, b: getattr(torch.nn.functional, name)(x, w, b, **kwargs),
                 randn(*x_shape), randn(*w_shape, seed=1), randn(out_channels, seed=2),
                 rtol=1e-4, atol=1e-5)  # float32 sums of up to 150 products
    assert set(kernels.calls) == used


def test_non_contiguous_input_takes_the_numpy_path(kernels, monkeypatch):
    x = randn(3, 2, 8, 9, dtype=np.float32).transpose(0, 1, 3, 2)  # a strided view
    w = randn(3, 2, 3, 3, seed=1, dtype=np.float32)
    out = F.conv2d(rg.tensor(x), rg.tensor(w)).numpy()
    assert "patches_wide" not in kernels.calls
    monkeypatch.setattr(backends.numba, "enabled", False)
    np.testing.assert_array_equal(out, F.conv2d(rg.tensor(x), rg.tensor(w)).numpy())


def test_kernels_run_on_one_thread_until_asked_for_more():
    pytest.importorskip("numba", reason="numba is not installed: pip install -e '.[fast]'")
    code = ("import numba, numpy as np, retrograd as rg, retrograd.nn.functional as F\n"
            "F.conv2d(rg.tensor(np.ones((1, 1, 4, 4))), rg.tensor(np.ones((1, 1, 2, 2))))\n"
            "print(numba.get_num_threads())\n"
            "rg.set_num_threads(2)\n"
            "print(numba.get_num_threads())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, NUMBA_NUM_THREADS="2", RETROGRAD_NUMBA="1"),
                            check=True)
    assert result.stdout.split() == ["1", "2"]


def test_environment_variable_turns_the_kernels_off():
    code = ("import numpy as np, retrograd as rg, retrograd.nn.functional as F\n"
            "from retrograd import backends\n"
            "F.conv2d(rg.tensor(np.ones((1, 1, 4, 4))), rg.tensor(np.ones((1, 1, 2, 2))))\n"
            "import sys\n"
            "print(backends.numba.enabled, backends.numba.kernels(), 'numba' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, RETROGRAD_NUMBA="0"), check=True)
    assert result.stdout.split() == ["False", "None", "False"]


def test_without_numba_the_numpy_path_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # makes ``import numba`` fail
    monkeypatch.delitem(sys.modules, "retrograd.ops._kernels", raising=False)
    monkeypatch.delattr(retrograd.ops, "_kernels", raising=False)
    monkeypatch.delenv("RETROGRAD_NUMBA", raising=False)
    missing = backends._Numba()
    monkeypatch.setattr(backends, "numba", missing)
    assert missing.enabled and not missing.is_available() and missing.kernels() is None
    x, w = randn(2, 3, 6, 6), randn(4, 3, 3, 3, seed=1)
    check_grad(lambda x, w: F.conv2d(x, w, padding=1), x, w)
