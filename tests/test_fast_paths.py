"""The performance paths, each checked against the plain definition: convolutions built a slice
of the batch at a time (wide and strided patch layouts, reused scratch buffers), max pooling's
per-offset routing, the engine handing exclusive gradient arrays on without copying (and never
one that anything else can see), and SGD's update a block at a time."""
import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.autograd import engine
from retrograd.autograd.function import Function
from retrograd.ops import conv
from helpers import check_grad, check_parity, randn, requires_torch, torch


@pytest.fixture
def one_sample_slices(monkeypatch):
    """Patch matrices of one sample at a time: every batch spans several slices."""
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)


def conv_call(name, **kwargs):
    def make(lib):
        functional = rg if lib is rg else torch.nn.functional
        return lambda x, w, b: getattr(functional, name)(x, w, b, **kwargs)
    return make


# (x shape, w shape, keyword arguments): wide patches need stride 1 and C*KH*KW >= O.
CONV_CASES = [
    pytest.param((3, 2, 7, 6), (3, 2, 3, 3), dict(padding=1), id="wide-padded"),
    pytest.param((3, 2, 7, 6), (3, 2, 3, 2), dict(dilation=2), id="wide-dilated"),
    pytest.param((3, 1, 6, 6), (8, 1, 2, 2), dict(padding=(1, 0)), id="strided-more-outputs"),
    pytest.param((3, 2, 9, 8), (4, 2, 3, 3), dict(stride=2, padding=1), id="strided-stride2"),
    pytest.param((3, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1), id="wide-groups"),
    pytest.param((3, 4, 7, 7), (8, 1, 3, 3), dict(groups=4, stride=(2, 1)),
                 id="strided-depthwise"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_CASES)
def test_conv2d_in_slices_matches_pytorch(one_sample_slices, x_shape, w_shape, kwargs):
    check_parity(conv_call("conv2d", **kwargs)(rg), conv_call("conv2d", **kwargs)(torch),
                 randn(*x_shape), randn(*w_shape, seed=1), randn(w_shape[0], seed=2))


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_CASES[:4])
def test_conv2d_in_slices_gradcheck(one_sample_slices, x_shape, w_shape, kwargs):
    check_grad(conv_call("conv2d", **kwargs)(rg), randn(*x_shape), randn(*w_shape, seed=1),
               randn(w_shape[0], seed=2))


@pytest.mark.parametrize("kwargs", [dict(stride=1, padding=1), dict(stride=2, output_padding=1),
                                    dict(stride=2, padding=1, groups=2, dilation=2)])
def test_conv_transpose2d_in_slices_matches_pytorch(one_sample_slices, kwargs):
    groups = kwargs.get("groups", 1)
    check_parity(conv_call("conv_transpose2d", **kwargs)(rg),
                 conv_call("conv_transpose2d", **kwargs)(torch),
                 randn(3, 4, 5, 4), randn(4, 3, 3, 3, seed=1), randn(3 * groups, seed=2))


@requires_torch
def test_reused_scratch_buffers_carry_nothing_over():
    """A large convolution fills the per-thread buffers first; smaller ones of other shapes,
    layouts and dtypes that reuse them must not see its data (the wide layout relies on
    zeros in parts of its buffers)."""
    big = rg.tensor(randn(8, 16, 20, 20, shift=5.0, dtype=np.float32), requires_grad=True)
    rg.conv2d(big, rg.tensor(randn(4, 16, 3, 3, dtype=np.float32))).sum().backward()
    for dtype in (np.float32, np.float64):
        for w_shape, kwargs in (((2, 3, 3, 3), dict(padding=1)), ((5, 3, 1, 2), {})):
            x = rg.tensor(randn(2, 3, 5, 6, seed=3, dtype=dtype), requires_grad=True)
            w = rg.tensor(randn(*w_shape, seed=4, dtype=dtype), requires_grad=True)
            out = rg.conv2d(x, w, **kwargs)
            g = randn(*out.shape, seed=5, dtype=dtype)
            out.backward(rg.tensor(g))
            tx, tw = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (x, w))
            tout = torch.nn.functional.conv2d(tx, tw, **kwargs)
            tout.backward(torch.tensor(g))
            tol = dict(rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), **tol)
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)
            np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), **tol)


def test_oversized_scratch_buffers_are_not_kept():
    workspace = conv._Workspace()
    small = workspace.get("cols", (4, 4), np.float32)
    assert workspace.get("cols", (2, 2), np.float64).base is small.base  # reused
    huge = (workspace.largest_kept // 4 + 1,)
    assert workspace.get("cols", huge, np.float32).shape == huge
    assert workspace.buffers["cols"].nbytes < workspace.largest_kept


# ------------------------------------------------------------------------------ max pooling
@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    (2, 2, 0, 1), (3, 3, 1, 1), (3, 1, 1, 1), (2, 1, 0, 2), ((2, 3), (2, 1), (1, 0), 1)])
def test_max_pool2d_routes_gradients_like_pytorch(kernel, stride, padding, dilation):
    """Disjoint windows write each entry once; overlapping ones add up (ties included: the
    input is rounded so that windows share maxima)."""
    x = np.round(randn(2, 3, 7, 8), 0)

    def make(lib):
        functional = rg if lib is rg else torch.nn.functional
        return lambda t: functional.max_pool2d(t, kernel, stride, padding, dilation)
    check_parity(make(rg), make(torch), x)


def test_max_pool2d_returns_one_tensor_without_indices():
    out = rg.max_pool2d(rg.tensor(randn(1, 1, 4, 4)), 2)
    assert isinstance(out, rg.Tensor) and out.shape == (1, 1, 2, 2)


# ---------------------------------------------------------------- exclusive gradient arrays
def shares(a, b):
    return np.shares_memory(a.grad.numpy(), b.grad.numpy())


def test_one_gradient_reaching_two_leaves_is_copied():
    x, y = rg.ones(3, requires_grad=True), rg.ones(3, requires_grad=True)
    (x + y).sum().backward()  # addition hands the same gradient to both
    assert not shares(x, y)
    x.grad.zero_()
    assert y.grad.tolist() == [1, 1, 1]


def test_callers_gradient_is_never_adopted():
    x = rg.ones(3, requires_grad=True)
    seed = rg.tensor([1.0, 2.0, 3.0])
    (x * 1).backward(seed)
    x.backward(seed)
    x.grad.zero_()
    assert seed.tolist() == [1, 2, 3]


def test_gradient_kept_by_a_hook_or_retained_is_copied():
    kept = []
    x = rg.tensor(randn(3), requires_grad=True)
    y = rg.tensor(randn(3), requires_grad=True)
    x.register_hook(lambda g: kept.append(g))
    h = y * 2
    h.retain_grad()
    (x * 3 + h).sum().backward()
    x.grad.zero_()
    assert kept[0].tolist() == [3, 3, 3]
    y.grad.zero_()
    assert h.grad.tolist() == [1, 1, 1]


@pytest.mark.parametrize("keep", ["array", "tensor"])
def test_gradient_kept_by_a_backward_is_copied(keep):
    """A backward may return an array, or a tensor, that something else keeps (here, the
    function's own constant): the reference counts show it, and .grad gets its own copy."""
    constant = rg.Tensor._make(np.full(3, 2.0))

    class Scale(Function):
        @staticmethod
        def forward(ctx, x):
            return x.array * 2

        @staticmethod
        def backward(ctx, grad):  # correct for a gradient of ones only
            return rg.Tensor._make(constant.array) if keep == "array" else constant

    x = rg.ones(3, requires_grad=True)
    Scale.apply(x).sum().backward()
    x.grad.zero_()
    assert constant.tolist() == [2, 2, 2]


def test_exclusive_gradient_becomes_grad_without_a_copy(monkeypatch):
    copied = {}
    store = engine._store_grad

    def recording_store(tensor, grad, create_graph, copy=True):
        copied[id(tensor)] = copy
        store(tensor, grad, create_graph, copy)
    monkeypatch.setattr(engine, "_store_grad", recording_store)
    x = rg.tensor(randn(4, 3), requires_grad=True)
    w = rg.tensor(randn(5, 3), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert copied == {id(x): False, id(w): False}
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 5)).T @ x.detach().numpy())


class Probe(Function):
    """Identity whose backward records the id of the gradient array it receives and, with
    ``fresh``, returns a new array (recording its id too)."""

    @staticmethod
    def forward(ctx, x, log, fresh):
        ctx.log, ctx.fresh = log, fresh
        return x.array.copy()

    @staticmethod
    def backward(ctx, grad):
        ctx.log.append(("received", id(grad.array)))
        if ctx.fresh:
            grad = rg.Tensor._make(grad.array * 1)
            ctx.log.append(("sent", id(grad.array)))
        return grad, None, None


def test_relu_masks_an_exclusive_gradient_in_place():
    log = []
    x = rg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = Probe.apply(F.relu(Probe.apply(x, log, False)), log, True)
    y.sum().backward()
    (_, sent), (_, received_after_relu) = log[1], log[2]
    assert sent == received_after_relu  # relu masked the array it was given
    assert x.grad.tolist() == [0, 1, 0, 1]


def test_relu_leaves_gradients_others_see_intact():
    """relu's backward reuses its incoming gradient's array only when nothing else sees it: a
    retained gradient, a hook's argument or a gradient used twice stay intact."""
    x = rg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    w = rg.tensor([1.0, 1.0, 1.0, 1.0])
    seen = []
    y = F.relu(x * 1)
    y.retain_grad()
    y.register_hook(lambda g: seen.append(g))
    (y * w).sum().backward()
    assert y.grad.tolist() == [1, 1, 1, 1] and seen[0].tolist() == [1, 1, 1, 1]
    assert x.grad.tolist() == [0, 1, 0, 1]
    z = rg.tensor([-1.0, 2.0], requires_grad=True)
    g = rg.tensor([5.0, 7.0])
    F.relu(z).backward(g)
    assert g.tolist() == [5, 7] and z.grad.tolist() == [0, 7]


def test_relu_double_backward_still_records():
    x = rg.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    (gx,) = rg.autograd.grad((F.relu(x) ** 2).sum(), x, create_graph=True)
    gx.sum().backward()
    assert x.grad.tolist() == [0, 2, 2]


# ------------------------------------------------------------------------------------ SGD
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(3, 4), (300, 500)])  # under and over one update block
def test_sgd_update_in_blocks_matches_the_plain_formula(dtype, shape):
    start = randn(*shape, dtype=dtype)
    for grad in (randn(*shape, seed=1, dtype=dtype),  # contiguous: the blocked path
                 randn(*shape[::-1], seed=1, dtype=dtype).T):  # not: the plain one
        p = rg.nn.Parameter(rg.tensor(start.copy()))
        p.grad = rg.tensor(grad)
        rg.optim.SGD([p], lr=0.5).step()
        assert p.dtype == dtype
        np.testing.assert_allclose(p.detach().numpy(), start - dtype(0.5) * grad, rtol=1e-3)
