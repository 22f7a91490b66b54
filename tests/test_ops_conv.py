"""Convolutions (conv1d, conv2d, conv_transpose1d, conv_transpose2d): gradcheck (float64) and
parity with PyTorch (float32: output, input, weight and bias gradients) over strides, paddings
(ints, pairs, 'same', 'valid'), dilations, groups (depthwise included), bias on/off, unbatched
input and output_padding; plus empty batches, dtypes, error messages, the refused double
backward and the peak memory of a realistic batch."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, torch

# PyTorch notes that an asymmetric 'same' padding costs it a padded copy: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def functional(lib):
    """``retrograd`` or ``torch.nn.functional``: their convolutions share names and
    signatures."""
    return rg if lib is rg else torch.nn.functional


def conv_inputs(x_shape, w_shape, bias, seed=0):
    arrays = [randn(*x_shape, seed=seed), randn(*w_shape, seed=seed + 1)]
    if bias:
        arrays.append(randn(w_shape[0], seed=seed + 2))
    return arrays


def transpose_inputs(x_shape, w_shape, groups, bias, seed=0):
    arrays = [randn(*x_shape, seed=seed), randn(*w_shape, seed=seed + 1)]
    if bias:
        arrays.append(randn(w_shape[1] * groups, seed=seed + 2))
    return arrays


def conv_fn(name, **kwargs):
    """f(lib)(x, w[, b]) calling the convolution ``name`` with ``kwargs``."""
    def make(lib):
        return lambda x, w, *b: getattr(functional(lib), name)(x, w, b[0] if b else None,
                                                               **kwargs)
    return make


def assert_parity(make, arrays, **tolerances):
    check_parity(make(rg), make(torch), *arrays, **tolerances)


# ------------------------------------------------------------------------------ conv2d
CONV2D_GRID = [
    pytest.param(stride, padding, dilation, groups, bias,
                 id=f"s{stride}-p{padding}-d{dilation}-g{groups}-{'bias' if bias else 'nobias'}")
    for stride in (1, 2, (2, 1))
    for padding in (0, 1, (1, 2), "same", "valid")
    for dilation in (1, 2)
    for groups in (1, 2)
    for bias in (True, False)
    if not (padding == "same" and stride != 1)
]


@pytest.mark.parametrize("stride, padding, dilation, groups, bias", CONV2D_GRID)
def test_conv2d_matches_pytorch(stride, padding, dilation, groups, bias):
    arrays = conv_inputs((2, 4, 7, 6), (6, 4 // groups, 3, 2), bias)
    assert_parity(conv_fn("conv2d", stride=stride, padding=padding, dilation=dilation,
                          groups=groups), arrays, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation, groups, bias", [
    (1, 0, 1, 1, True), (2, 1, 1, 1, False), (1, (0, 1), 2, 1, True), (1, "same", 1, 2, True),
    (1, "same", 2, 1, False), (2, "valid", 1, 2, True), ((1, 2), 1, (2, 1), 1, True),
])
def test_conv2d_gradcheck(stride, padding, dilation, groups, bias):
    arrays = conv_inputs((2, 2, 5, 4), (2, 2 // groups, 2, 3), bias)
    check_grad(conv_fn("conv2d", stride=stride, padding=padding, dilation=dilation,
                       groups=groups)(rg), *arrays)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_conv2d_depthwise(multiplier):
    """groups == in_channels: each channel has its own ``multiplier`` filters."""
    arrays = conv_inputs((2, 3, 6, 5), (3 * multiplier, 1, 3, 3), True)
    assert_parity(conv_fn("conv2d", padding=1, groups=3), arrays, rtol=1e-4, atol=1e-5)
    check_grad(conv_fn("conv2d", padding=1, groups=3)(rg),
               *conv_inputs((1, 3, 4, 4), (3 * multiplier, 1, 2, 2), True))


@pytest.mark.parametrize("kernel, dilation", [((2, 2), 1), ((4, 3), 1), ((2, 3), 3),
                                              ((4, 4), 2)])
def test_conv2d_same_padding_is_asymmetric_like_pytorch(kernel, dilation):
    """With an odd d*(k-1), 'same' pads one more row/column at the bottom/right."""
    arrays = conv_inputs((1, 2, 7, 8), (3, 2) + kernel, True)
    assert_parity(conv_fn("conv2d", padding="same", dilation=dilation), arrays, rtol=1e-4,
                  atol=1e-5)
    out = rg.conv2d(rg.tensor(arrays[0]), rg.tensor(arrays[1]), padding="same",
                    dilation=dilation)
    assert out.shape == (1, 3, 7, 8)


@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_unbatched(bias):
    arrays = conv_inputs((3, 5, 6), (4, 3, 3, 3), bias)
    assert_parity(conv_fn("conv2d", padding=1, stride=2), arrays, rtol=1e-4, atol=1e-5)
    check_grad(conv_fn("conv2d", padding=1)(rg), *conv_inputs((2, 3, 3), (2, 2, 2, 2), bias))
    out = rg.conv2d(*(rg.tensor(a) for a in arrays[:2]), padding=1, stride=2)
    assert out.shape == (4, 3, 3)


def test_conv2d_one_by_one_kernel_is_a_channel_mix():
    x, w = randn(2, 3, 4, 5), randn(6, 3, 1, 1, seed=1)
    out = rg.conv2d(rg.tensor(x), rg.tensor(w)).numpy()
    np.testing.assert_allclose(out, np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0]), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       out_per_group=st.integers(1, 3), groups=st.integers(1, 2), kh=st.integers(1, 3),
       kw=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
       dilation=st.integers(1, 2), seed=st.integers(0, 2 ** 16))
def test_conv2d_random_geometry_matches_pytorch(n, c, h, w, out_per_group, groups, kh, kw,
                                                stride, padding, dilation, seed):
    if h + 2 * padding < dilation * (kh - 1) + 1 or w + 2 * padding < dilation * (kw - 1) + 1:
        return  # the kernel does not fit (tested among the errors)
    arrays = conv_inputs((n, c * groups, h, w), (out_per_group * groups, c, kh, kw), True, seed)
    assert_parity(conv_fn("conv2d", stride=stride, padding=padding, dilation=dilation,
                          groups=groups), arrays, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------ conv1d
@pytest.mark.parametrize("stride, padding, dilation, groups, bias", [
    pytest.param(stride, padding, dilation, groups, bias,
                 id=f"s{stride}-p{padding}-d{dilation}-g{groups}-{'bias' if bias else 'nobias'}")
    for stride in (1, 2)
    for padding in (0, 2, (1,), "same", "valid")
    for dilation in (1, 3)
    for groups in (1, 4)
    for bias in (True, False)
    if not (padding == "same" and stride != 1)
])
def test_conv1d_matches_pytorch(stride, padding, dilation, groups, bias):
    arrays = conv_inputs((2, 4, 11), (8, 4 // groups, 3), bias)
    assert_parity(conv_fn("conv1d", stride=stride, padding=padding, dilation=dilation,
                          groups=groups), arrays, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 2, 1), (1, "same", 1, 2), (3, 2, 2, 1)])
@pytest.mark.parametrize("unbatched", [False, True])
def test_conv1d_gradcheck(stride, padding, dilation, groups, unbatched):
    arrays = conv_inputs((2, 2, 7), (4, 2 // groups, 2), True)
    if unbatched:
        arrays[0] = arrays[0][0]
    check_grad(conv_fn("conv1d", stride=stride, padding=padding, dilation=dilation,
                       groups=groups)(rg), *arrays)


def test_conv1d_unbatched_matches_pytorch():
    arrays = conv_inputs((3, 9), (5, 3, 4), True)
    assert_parity(conv_fn("conv1d", padding=1, stride=2), arrays, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------- transposed convs
CONV_TRANSPOSE2D_GRID = [
    pytest.param(stride, padding, output_padding, dilation, groups, bias,
                 id=f"s{stride}-p{padding}-op{output_padding}-d{dilation}-g{groups}-"
                    f"{'bias' if bias else 'nobias'}")
    for stride in (1, 2, (3, 2))
    for padding in (0, 1, (2, 0))
    for output_padding in (0, 1, (2, 1))
    for dilation in (1, 2)
    for groups in (1, 2)
    for bias in (True, False)
    # output_padding must be smaller than stride or dilation in each dim
    if all(op < max(s, dilation) for op, s in zip(
        output_padding if isinstance(output_padding, tuple) else (output_padding,) * 2,
        stride if isinstance(stride, tuple) else (stride,) * 2))
]


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups, bias",
                         CONV_TRANSPOSE2D_GRID)
def test_conv_transpose2d_matches_pytorch(stride, padding, output_padding, dilation, groups,
                                          bias):
    arrays = transpose_inputs((2, 4, 5, 4), (4, 3, 3, 2), groups, bias)
    assert_parity(conv_fn("conv_transpose2d", stride=stride, padding=padding,
                          output_padding=output_padding, groups=groups, dilation=dilation),
                  arrays, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 1, 2, 2), ((2, 3), (1, 0), (1, 2), 1, 1),
    (1, 1, 0, 2, 2), (3, 1, 2, 1, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d_gradcheck(stride, padding, output_padding, dilation, groups, bias):
    arrays = transpose_inputs((1, 2, 3, 3), (2, 2 // groups, 2, 3), groups, bias)
    check_grad(conv_fn("conv_transpose2d", stride=stride, padding=padding,
                       output_padding=output_padding, groups=groups, dilation=dilation)(rg),
               *arrays)


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 2), (3, 0, 2, 1, 1), (1, 2, 1, 2, 1), (2, 1, 0, 3, 4)])
@pytest.mark.parametrize("unbatched", [False, True])
def test_conv_transpose1d_matches_pytorch_and_gradcheck(stride, padding, output_padding,
                                                        dilation, groups, unbatched):
    arrays = transpose_inputs((2, 4, 6), (4, 2, 3), groups, True)
    if unbatched:
        arrays[0] = arrays[0][0]
    make = conv_fn("conv_transpose1d", stride=stride, padding=padding,
                   output_padding=output_padding, groups=groups, dilation=dilation)
    assert_parity(make, arrays, rtol=1e-4, atol=1e-5)
    small = transpose_inputs((1, 4, 3), (4, 1, 2), groups, True)
    check_grad(make(rg), *small)


def test_conv_transpose2d_unbatched():
    arrays = transpose_inputs((3, 4, 5), (3, 2, 3, 3), 1, True)
    assert_parity(conv_fn("conv_transpose2d", stride=2, padding=1, output_padding=1), arrays,
                  rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), (3, 2, 2, 2), ((2, 1), (0, 1), (1, 2), 1)])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding, dilation, groups):
    """<conv(x), y> == <x, conv_transpose(y)> for the same weight and geometry, with the
    output_padding that gives back x's size."""
    x, w = randn(2, 4, 7, 6), randn(6, 4 // groups, 3, 2, seed=1)
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    forward = rg.conv2d(rg.tensor(x), rg.tensor(w), **geometry).numpy()
    y = randn(*forward.shape, seed=2)
    output_padding = tuple(
        size - ((out - 1) * s - 2 * p + d * (k - 1) + 1)
        for size, out, k, s, p, d in zip(x.shape[2:], y.shape[2:], w.shape[2:], _two(stride),
                                         _two(padding), _two(dilation)))
    adjoint = rg.conv_transpose2d(rg.tensor(y), rg.tensor(w), output_padding=output_padding,
                                  **geometry).numpy()
    assert adjoint.shape == x.shape
    np.testing.assert_allclose((forward * y).sum(), (x * adjoint).sum(), rtol=1e-10)


def _two(value):
    return value if isinstance(value, tuple) else (value, value)


# ------------------------------------------------------------------------ shapes and dtypes
@pytest.mark.parametrize("name, x_shape, w_shape, out_shape", [
    ("conv2d", (0, 3, 5, 5), (4, 3, 3, 3), (0, 4, 3, 3)),
    ("conv1d", (0, 3, 5), (4, 3, 3), (0, 4, 3)),
    ("conv_transpose2d", (0, 3, 5, 5), (3, 4, 3, 3), (0, 4, 7, 7)),
    ("conv_transpose1d", (0, 3, 5), (3, 4, 3), (0, 4, 7)),
    ("conv2d", (2, 3, 5, 5), (0, 3, 3, 3), (2, 0, 3, 3)),
])
def test_empty_batch_or_no_filters(name, x_shape, w_shape, out_shape):
    x = rg.zeros(*x_shape, requires_grad=True)
    w = rg.ones(*w_shape, requires_grad=True)
    out = getattr(rg, name)(x, w)
    assert out.shape == out_shape
    out.sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape
    assert not w.grad.numpy().any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"])
def test_dtype_is_kept(name, dtype):
    spatial = (5,) if name.endswith("1d") else (5, 4)
    x = rg.tensor(randn(2, 3, *spatial, dtype=dtype), requires_grad=True)
    w = rg.tensor(randn(3, 3, *(3,) * len(spatial), seed=1, dtype=dtype), requires_grad=True)
    b = rg.tensor(randn(3, seed=2, dtype=dtype), requires_grad=True)
    out = getattr(rg, name)(x, w, b, stride=2)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


def test_conv2d_does_not_need_gradients():
    x, w = rg.tensor(randn(1, 2, 4, 4)), rg.tensor(randn(3, 2, 3, 3, seed=1))
    out = rg.conv2d(x, w)
    assert not out.requires_grad and out.grad_fn is None
    with rg.no_grad():
        out = rg.conv2d(x, rg.tensor(randn(3, 2, 3, 3, seed=1), requires_grad=True))
    assert not out.requires_grad


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True), (False, True, True)])
def test_only_the_wanted_gradients_are_computed(needs):
    arrays = conv_inputs((2, 2, 5, 5), (3, 2, 3, 3), True)
    tensors = [rg.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    rg.conv2d(*tensors, padding=1).sum().backward()
    for t, n in zip(tensors, needs):
        assert (t.grad is not None) == n


# ------------------------------------------------------------------------------- errors
def _raises(match, fn, error=RuntimeError):
    with pytest.raises(error, match=match):
        fn()


X4 = rg.ones(2, 3, 5, 5)
X3 = rg.ones(2, 3, 9)


@pytest.mark.parametrize("call, error, match", [
    (lambda: rg.conv2d(X4, rg.ones(4, 2, 3, 3)), RuntimeError,
     r"conv2d: input of shape \(2, 3, 5, 5\) has 3 channels, but the weight of shape "
     r"\(4, 2, 3, 3\) with groups=1 expects 2"),
    (lambda: rg.conv1d(X3, rg.ones(4, 2, 3)), RuntimeError,
     r"conv1d: input of shape \(2, 3, 9\) has 3 channels, but the weight of shape \(4, 2, 3\)"),
    (lambda: rg.conv_transpose2d(X4, rg.ones(4, 2, 3, 3)), RuntimeError,
     r"conv_transpose2d: input of shape \(2, 3, 5, 5\) has 3 channels, but the weight of "
     r"shape \(4, 2, 3, 3\)"),
    (lambda: rg.conv_transpose1d(X3, rg.ones(2, 2, 3)), RuntimeError,
     r"conv_transpose1d: input of shape \(2, 3, 9\) has 3 channels"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3)), RuntimeError,
     r"conv2d: expected a 4-D weight, got shape \(4, 3, 3\)"),
    (lambda: rg.conv2d(rg.ones(5, 5), rg.ones(1, 1, 3, 3)), RuntimeError,
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5, 5\)"),
    (lambda: rg.conv1d(X4, rg.ones(1, 3, 3)), RuntimeError,
     r"conv1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), rg.ones(3)), RuntimeError,
     r"conv2d: bias of shape \(3,\) does not match 4 output channels"),
    (lambda: rg.conv2d(X4, rg.ones(4, 1, 3, 3), groups=3), RuntimeError,
     r"conv2d: groups=3 must divide the weight's first dimension 4"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), groups=0), RuntimeError,
     r"groups=0 must divide"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 7, 7)), RuntimeError,
     r"conv2d: the \(padded\) input of shape \(2, 3, 5, 5\) is smaller than the \(dilated\) "
     r"kernel of shape \(4, 3, 7, 7\)"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), dilation=3), RuntimeError,
     r"smaller than the \(dilated\) kernel"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), stride=0), RuntimeError,
     r"conv2d: stride must be at least 1, got 0"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), dilation=(1, 0)), RuntimeError,
     r"conv2d: dilation must be at least 1, got \(1, 0\)"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), padding=-1), RuntimeError,
     r"conv2d: padding must be at least 0, got -1"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), padding=(1, 2, 3)), ValueError,
     r"conv2d: padding must be an int or a pair, got \(1, 2, 3\)"),
    (lambda: rg.conv1d(X3, rg.ones(4, 3, 3), stride=(1, 2)), ValueError,
     r"conv1d: stride must be an int or a 1-tuple, got \(1, 2\)"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), padding="full"), ValueError,
     r"conv2d: invalid padding string 'full', should be one of \('valid', 'same'\)"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), padding="same", stride=2), ValueError,
     r"conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3, dtype=rg.float64)), RuntimeError,
     r"conv2d: input \(float32\) and weight \(float64\) must have the same dtype"),
    (lambda: rg.conv2d(X4, rg.ones(4, 3, 3, 3), rg.ones(4, dtype=rg.float64)), RuntimeError,
     r"conv2d: input \(float32\) and bias \(float64\) must have the same dtype"),
    (lambda: rg.conv2d(rg.ones(1, 1, 3, 3, dtype=rg.int64), rg.ones(1, 1, 2, 2,
                                                                    dtype=rg.int64)),
     RuntimeError, r"conv2d: expected a floating point input, got int64"),
    (lambda: rg.conv_transpose2d(X4, rg.ones(3, 2, 3, 3), stride=2, output_padding=2),
     RuntimeError, r"conv_transpose2d: output_padding 2 must be smaller than either stride "
                   r"\(2, 2\) or dilation \(1, 1\)"),
    (lambda: rg.conv_transpose1d(X3, rg.ones(3, 2, 3), output_padding=1), RuntimeError,
     r"conv_transpose1d: output_padding 1 must be smaller than either stride \(1,\) or "
     r"dilation \(1,\)"),
    (lambda: rg.conv_transpose2d(X4, rg.ones(3, 2, 1, 1), padding=3), RuntimeError,
     r"conv_transpose2d: input of shape \(2, 3, 5, 5\) with padding 3 gives a negative output "
     r"size"),
    (lambda: rg.conv_transpose2d(X4, rg.ones(3, 2, 3, 3), groups=2), RuntimeError,
     r"conv_transpose2d: groups=2 must divide the weight's first dimension 3"),
])
def test_errors_name_the_op_and_the_shapes(call, error, match):
    _raises(match, call, error)


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"])
def test_double_backward_raises_a_clear_error(name):
    spatial = (5,) if name.endswith("1d") else (5, 5)
    x = rg.tensor(randn(1, 2, *spatial), requires_grad=True)
    w = rg.tensor(randn(2, 2, *(3,) * len(spatial), seed=1), requires_grad=True)
    out = getattr(rg, name)(x, w)
    (gx,) = rg.autograd.grad(out.sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        (gx * gx).sum().backward()


# ------------------------------------------------------------------------------- memory
def test_peak_memory_of_a_batch_forward_and_backward():
    """A (128, 3, 64, 64) float32 batch through a 3x3 convolution with 16 filters: the patch
    matrix is 27 x 524288 floats (56 MB); forward plus backward stay well under 300 MB."""
    x = rg.tensor(np.random.default_rng(0).standard_normal((128, 3, 64, 64),
                                                           dtype=np.float32))
    w = rg.tensor(randn(16, 3, 3, 3, dtype=np.float32), requires_grad=True)
    b = rg.zeros(16, requires_grad=True)
    x.requires_grad_()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = rg.conv2d(x, w, b, padding=1)
        out.backward(rg.ones_like(out))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (128, 16, 64, 64)
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    assert peak < 300 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MB"


# ------------------------------------------------------------------------------ threads
@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((128, 1, 28, 28), (6, 1, 5, 5), dict(padding=2)),    # wide patches, one input channel
    ((96, 6, 14, 14), (16, 6, 5, 5), {}),                 # wide patches
    ((64, 8, 40, 40), (32, 8, 3, 3), dict(stride=2)),     # strided: patches of output pixels
    ((128, 4, 16, 16), (8, 2, 3, 3), dict(groups=2, dilation=2)),
])
def test_conv2d_on_two_threads_matches_one_thread(two_threads, monkeypatch, x_shape, w_shape,
                                                  kwargs):
    """The batch's slices run at once on two threads: the same output and input gradient to
    the last bit, the weight gradient summed in another order."""
    monkeypatch.setattr(rg.ops.conv, "_BYTES_PER_WORKER", 2 ** 20)  # these batches are split
    def run(threads):
        rg.set_num_threads(threads)
        x = rg.tensor(randn(*x_shape, dtype=np.float32), requires_grad=True)
        w = rg.tensor(randn(*w_shape, seed=1, dtype=np.float32), requires_grad=True)
        out = rg.conv2d(x, w, **kwargs)
        out.backward(rg.tensor(randn(*out.shape, seed=2, dtype=np.float32)))
        return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()
    (out, dx, dw) = run(2)
    assert two_threads == [2, 2]  # forward and backward each on two threads
    out_1, dx_1, dw_1 = run(1)
    np.testing.assert_array_equal(out, out_1)
    np.testing.assert_array_equal(dx, dx_1)
    np.testing.assert_allclose(dw, dw_1, rtol=1e-5, atol=1e-4)


def test_conv2d_on_two_threads_gradcheck(two_threads, monkeypatch):
    """Tiny slices (a sample each), so that even a gradcheck-sized batch is split."""
    monkeypatch.setattr(rg.ops.conv, "_CHUNK_BYTES", 2 ** 12)
    monkeypatch.setattr(rg.ops.conv, "_BYTES_PER_WORKER", 2 ** 11)
    check_grad(lambda x, w: rg.conv2d(x, w, padding=1), randn(6, 2, 5, 5),
               randn(3, 2, 3, 3, seed=1))
    assert two_threads and set(two_threads) == {2}


def test_conv2d_keeps_a_small_batch_on_one_thread(two_threads):
    x = rg.tensor(randn(32, 1, 28, 28, dtype=np.float32), requires_grad=True)
    w = rg.tensor(randn(6, 1, 5, 5, seed=1, dtype=np.float32), requires_grad=True)
    rg.conv2d(x, w, padding=2).sum().backward()
    assert two_threads == [1, 1]


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (1, 1, 0, 3)], ids=str)
@pytest.mark.parametrize("pads", [(2, 2, 2, 2), (0, 1, 3, 0), (1, 0, 0, 0), (-1, 2, 0, -2),
                                  (-1, -1, -1, -1), (0, 0, 0, 0)], ids=str)
def test_padding_helper_pads_with_zeros_and_crops_negative_amounts(shape, pads):
    from retrograd.ops.conv import _pad
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    top, bottom, left, right = pads
    h, w = shape[2:]
    cropped = x[:, :, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    expected = np.pad(cropped, [(0, 0), (0, 0), (max(top, 0), max(bottom, 0)),
                                (max(left, 0), max(right, 0))])
    np.testing.assert_array_equal(_pad(x, pads), expected)
