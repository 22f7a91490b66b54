"""Pooling (max, average and adaptive, 1-D and 2-D): gradcheck (float64) and parity with PyTorch
(float32: values, returned indices and input gradients) over kernels, strides, paddings,
dilations, ceil_mode, count_include_pad and divisor_override; ties (the first maximum wins),
NaN and -inf inputs, integer inputs, unbatched and empty input, and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch


def functional(lib):
    """``retrograd`` or ``torch.nn.functional``: their poolings share names and signatures."""
    return rg if lib is rg else torch.nn.functional


def pool_fn(name, *args, **kwargs):
    """make(lib) -> x -> the pooling ``name`` of x with these arguments; ``make.spatial_dims``
    says whether it pools 1-D or 2-D input."""
    def make(lib):
        return lambda x: getattr(functional(lib), name)(x, *args, **kwargs)
    make.spatial_dims = 1 if name.endswith("1d") else 2
    return make


def assert_parity(make, x, **tolerances):
    check_parity(make(rg), make(torch), x, **tolerances)


def ties(*shape, seed=0, levels=3):
    """Float input with many equal values (small integers), so that windows hold ties."""
    return np.random.default_rng(seed).integers(0, levels, shape).astype(np.float64)


def distinct(*shape, seed=0):
    """Values at least 0.1 apart, so that finite differences never cross a tie."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * 0.1
    return values.reshape(shape)


# ---------------------------------------------------------------------------- max pooling
MAX_POOL2D_GRID = [
    pytest.param(kernel, stride, padding, dilation, ceil_mode,
                 id=f"k{kernel}-s{stride}-p{padding}-d{dilation}-"
                    f"{'ceil' if ceil_mode else 'floor'}")
    for kernel in (2, 3, (2, 3))
    for stride in (None, 1, 2, (2, 1))
    for padding in (0, 1)
    for dilation in (1, 2)
    for ceil_mode in (False, True)
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_POOL2D_GRID)
@pytest.mark.parametrize("data", ["random", "ties"])
def test_max_pool2d_matches_pytorch(kernel, stride, padding, dilation, ceil_mode, data):
    """Values, indices (flat positions in H*W) and gradients; with ties PyTorch (and so
    retrograd) picks the first maximum of each window in row-major order."""
    x = randn(2, 3, 7, 6) if data == "random" else ties(2, 3, 7, 6)
    assert_parity(pool_fn("max_pool2d", kernel, stride, padding, dilation, ceil_mode,
                          return_indices=True), x)


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", [
    (2, None, 0, 1, False), (3, 2, 1, 1, True), ((2, 3), 1, (1, 0), 2, False),
    (3, 1, 1, 2, True), ((1, 2), (2, 1), 0, 1, True)])
def test_max_pool2d_gradcheck(kernel, stride, padding, dilation, ceil_mode):
    check_grad(pool_fn("max_pool2d", kernel, stride, padding, dilation, ceil_mode)(rg),
               distinct(2, 2, 5, 6))


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    x = rg.tensor(np.ones((1, 1, 2, 4)), requires_grad=True)
    out, indices = rg.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    assert indices.tolist() == [[[[0, 2]]]]
    assert x.grad.tolist() == [[[[1, 0, 1, 0], [0, 0, 0, 0]]]]


def test_max_pool2d_overlapping_windows_accumulate_gradients():
    """One input entry that is the maximum of several windows gets all their gradients."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0
    t = rg.tensor(x, requires_grad=True)
    rg.max_pool2d(t, 2, stride=1).sum().backward()
    assert t.grad.numpy()[0, 0, 1, 1] == 4.0
    assert t.grad.numpy().sum() == 4.0


@pytest.mark.parametrize("make", [
    pytest.param(pool_fn("max_pool2d", 2, return_indices=True), id="max_pool2d"),
    pytest.param(pool_fn("max_pool2d", 3, 1, 1, return_indices=True), id="max_pool2d-padded"),
    pytest.param(pool_fn("adaptive_max_pool2d", (3, 2), return_indices=True),
                 id="adaptive_max_pool2d"),
    pytest.param(pool_fn("max_pool1d", 2, return_indices=True), id="max_pool1d"),
])
def test_max_pool_propagates_nan_like_pytorch(make):
    x = randn(1, 2, 5, 4)
    x[0, 0, 1, 1] = x[0, 1, 3, 2] = x[0, 1, 3, 3] = np.nan
    if make.spatial_dims == 1:
        x = x[0]
    check_parity(make(rg), make(torch), x)
    out, _ = make(rg)(rg.tensor(x))
    assert np.isnan(out.numpy()).any()


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode", [
    (3, 1, 1, False), (2, 2, 1, True), (3, 2, 1, True), ((3, 2), 1, (1, 1), False)])
def test_max_pool2d_never_picks_the_padding(kernel, stride, padding, ceil_mode):
    """An all -inf input: the maximum of a window that reaches into the padding is still an
    input entry (its first one), as in PyTorch, and its gradient goes there."""
    x = np.full((1, 2, 4, 5), -np.inf)
    assert_parity(pool_fn("max_pool2d", kernel, stride, padding, 1, ceil_mode,
                          return_indices=True), x)
    _, indices = rg.max_pool2d(rg.tensor(x), kernel, stride, padding, 1, ceil_mode, True)
    assert indices.numpy().min() >= 0 and indices.numpy().max() < 20


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_max_pool2d_integer_input(dtype):
    x = np.random.default_rng(0).integers(0, 50, (2, 3, 6, 5)).astype(dtype)
    out, indices = rg.max_pool2d(rg.tensor(x), 3, 2, 1, return_indices=True)
    assert out.dtype == dtype
    if torch is not None:
        expected, expected_indices = torch.nn.functional.max_pool2d(
            torch.tensor(x), 3, 2, 1, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", [
    pytest.param(k, s, p, d, c, id=f"k{k}-s{s}-p{p}-d{d}-{'ceil' if c else 'floor'}")
    for k in (1, 2, 3) for s in (None, 1, 2) for p in (0, 1) for d in (1, 2)
    for c in (False, True) if p <= k // 2
])
@pytest.mark.parametrize("unbatched", [False, True])
def test_max_pool1d_matches_pytorch(kernel, stride, padding, dilation, ceil_mode, unbatched):
    x = ties(2, 3, 9, seed=1) if kernel == 3 else randn(2, 3, 9)
    assert_parity(pool_fn("max_pool1d", kernel, stride, padding, dilation, ceil_mode,
                          return_indices=True), x[0] if unbatched else x)


@pytest.mark.parametrize("unbatched", [False, True])
def test_max_pool1d_gradcheck(unbatched):
    x = distinct(2, 2, 7)
    check_grad(pool_fn("max_pool1d", 3, 2, 1, ceil_mode=True)(rg), x[0] if unbatched else x)


def test_max_pool2d_unbatched():
    assert_parity(pool_fn("max_pool2d", 2, return_indices=True), ties(3, 6, 4))
    check_grad(pool_fn("max_pool2d", 2)(rg), distinct(2, 4, 4))


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 8), w=st.integers(1, 8), kh=st.integers(1, 3), kw=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       ceil_mode=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_max_pool2d_random_geometry_matches_pytorch(h, w, kh, kw, stride, padding, dilation,
                                                    ceil_mode, seed):
    if padding > min(kh, kw) // 2:
        return
    if min(h + 2 * padding - dilation * (kh - 1), w + 2 * padding - dilation * (kw - 1)) < 1:
        return  # no window fits (tested among the errors)
    make = pool_fn("max_pool2d", (kh, kw), stride, padding, dilation, ceil_mode,
                   return_indices=True)
    x = ties(2, 2, h, w, seed=seed)
    if np.isinf(make(rg)(rg.tensor(x))[0].numpy()).any():
        return  # a window holding padding only (see the test below)
    assert_parity(make, x)


def test_max_pool2d_window_of_padding_only():
    """With dilation, a window can miss the input entirely: its maximum is -inf (as in
    PyTorch), its index -1 (PyTorch's is arbitrary) and it passes no gradient (PyTorch's goes
    to whatever entry its index names)."""
    x = rg.tensor(np.arange(3.0).reshape(1, 1, 3, 1), requires_grad=True)
    out, indices = rg.max_pool2d(x, 2, 1, 1, 2, return_indices=True)
    assert out.detach().numpy().ravel().tolist() == [-np.inf] * 3
    assert indices.numpy().ravel().tolist() == [-1] * 3
    out.sum().backward()
    assert x.grad.numpy().ravel().tolist() == [0.0] * 3


# ------------------------------------------------------------------------ average pooling
AVG_POOL2D_GRID = [
    pytest.param(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override,
                 id=f"k{kernel}-s{stride}-p{padding}-{'ceil' if ceil_mode else 'floor'}-"
                    f"{'countpad' if count_include_pad else 'nopad'}-div{divisor_override}")
    for kernel in (2, 3, (3, 2))
    for stride in (None, 1, 2)
    for padding in (0, 1)
    for ceil_mode in (False, True)
    for count_include_pad in (True, False)
    for divisor_override in (None, 5)
]


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad, "
                         "divisor_override", AVG_POOL2D_GRID)
def test_avg_pool2d_matches_pytorch(kernel, stride, padding, ceil_mode, count_include_pad,
                                    divisor_override):
    assert_parity(pool_fn("avg_pool2d", kernel, stride, padding, ceil_mode, count_include_pad,
                          divisor_override), randn(2, 3, 7, 6))


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad, "
                         "divisor_override", [
                             (2, None, 0, False, True, None), (3, 2, 1, True, True, None),
                             (3, 2, 1, True, False, None), ((2, 3), 1, (1, 0), False, False, 4),
                             (2, 3, 1, True, False, None)])
def test_avg_pool2d_gradcheck(kernel, stride, padding, ceil_mode, count_include_pad,
                              divisor_override):
    check_grad(pool_fn("avg_pool2d", kernel, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)(rg), randn(2, 2, 5, 6))


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad", [
    pytest.param(k, s, p, c, cip, id=f"k{k}-s{s}-p{p}-{'ceil' if c else 'floor'}-{cip}")
    for k in (1, 2, 3) for s in (None, 2) for p in (0, 1) for c in (False, True)
    for cip in (True, False) if p <= k // 2
])
@pytest.mark.parametrize("unbatched", [False, True])
def test_avg_pool1d_matches_pytorch(kernel, stride, padding, ceil_mode, count_include_pad,
                                    unbatched):
    x = randn(2, 3, 8)
    assert_parity(pool_fn("avg_pool1d", kernel, stride, padding, ceil_mode, count_include_pad),
                  x[0] if unbatched else x)


def test_avg_pool1d_gradcheck():
    check_grad(pool_fn("avg_pool1d", 3, 2, 1, True, False)(rg), randn(2, 2, 7))


@pytest.mark.parametrize("divisor_override", [None, 3])
def test_avg_pool2d_integer_input_truncates_like_pytorch(divisor_override):
    x = np.random.default_rng(0).integers(-20, 20, (1, 2, 5, 5))
    out = rg.avg_pool2d(rg.tensor(x), 2, divisor_override=divisor_override)
    assert out.dtype == np.int64
    if torch is not None:
        expected = torch.nn.functional.avg_pool2d(torch.tensor(x), 2,
                                                  divisor_override=divisor_override)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 8), w=st.integers(1, 8), kh=st.integers(1, 3), kw=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 1), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_avg_pool2d_random_geometry_matches_pytorch(h, w, kh, kw, stride, padding, ceil_mode,
                                                    count_include_pad, seed):
    if padding > min(kh, kw) // 2 or min(h + 2 * padding - kh, w + 2 * padding - kw) < 0:
        return
    assert_parity(pool_fn("avg_pool2d", (kh, kw), stride, padding, ceil_mode,
                          count_include_pad), randn(2, 2, h, w, seed=seed))


# ----------------------------------------------------------------------- adaptive pooling
ADAPTIVE_2D = [((7, 6), 1), ((7, 6), 3), ((7, 6), (2, 4)), ((6, 4), (3, 2)), ((5, 5), (7, 9)),
               ((7, 6), (None, 4)), ((7, 6), (5, None)), ((1, 3), (2, 2)), ((4, 4), 4)]


@pytest.mark.parametrize("size, output_size", ADAPTIVE_2D)
@pytest.mark.parametrize("unbatched", [False, True])
def test_adaptive_avg_pool2d_matches_pytorch(size, output_size, unbatched):
    x = randn(2, 3, *size)
    assert_parity(pool_fn("adaptive_avg_pool2d", output_size), x[0] if unbatched else x)


@pytest.mark.parametrize("size, output_size", ADAPTIVE_2D)
@pytest.mark.parametrize("data", ["random", "ties"])
def test_adaptive_max_pool2d_matches_pytorch(size, output_size, data):
    """Bins of unequal sizes (and overlapping ones) included; ties go to the first maximum."""
    x = randn(2, 3, *size) if data == "random" else ties(2, 3, *size)
    assert_parity(pool_fn("adaptive_max_pool2d", output_size, return_indices=True), x)


@pytest.mark.parametrize("size, output_size", [((5, 7), (3, 4)), ((4, 6), (2, 3)),
                                               ((3, 3), (5, 2))])
def test_adaptive_pool2d_gradcheck(size, output_size):
    check_grad(pool_fn("adaptive_avg_pool2d", output_size)(rg), randn(1, 2, *size))
    check_grad(pool_fn("adaptive_max_pool2d", output_size)(rg), distinct(1, 2, *size))


def test_adaptive_avg_pool2d_has_second_derivatives():
    """Written with differentiable ops (matmul, mean), it can be differentiated twice."""
    x = rg.tensor(randn(1, 2, 5, 7), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: rg.adaptive_avg_pool2d(t, (3, 4)) ** 2, (x,))


@pytest.mark.parametrize("length, output_size", [(7, 1), (7, 3), (8, 4), (5, 9), (1, 2)])
@pytest.mark.parametrize("unbatched", [False, True])
def test_adaptive_pool1d_matches_pytorch(length, output_size, unbatched):
    x = ties(2, 3, length)
    x = x[0] if unbatched else x
    assert_parity(pool_fn("adaptive_avg_pool1d", output_size), x)
    assert_parity(pool_fn("adaptive_max_pool1d", output_size, return_indices=True), x)


def test_adaptive_pool1d_gradcheck():
    check_grad(pool_fn("adaptive_avg_pool1d", 3)(rg), randn(2, 2, 7))
    check_grad(pool_fn("adaptive_max_pool1d", 3)(rg), distinct(2, 2, 7))


# ------------------------------------------------------------------ shapes, dtypes, graphs
@pytest.mark.parametrize("make", [
    pytest.param(pool_fn("max_pool2d", 2), id="max_pool2d"),
    pytest.param(pool_fn("avg_pool2d", 2), id="avg_pool2d"),
    pytest.param(pool_fn("adaptive_avg_pool2d", 2), id="adaptive_avg_pool2d"),
    pytest.param(pool_fn("adaptive_max_pool2d", (2, 4)), id="adaptive_max_pool2d"),
])
def test_empty_batch(make):
    x = rg.zeros(0, 3, 6, 6, requires_grad=True)
    out = make(rg)(x)
    assert out.shape[:2] == (0, 3)
    out.sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    pytest.param(pool_fn("max_pool2d", 3, 2, 1), id="max_pool2d"),
    pytest.param(pool_fn("avg_pool2d", 3, 2, 1, True, False), id="avg_pool2d"),
    pytest.param(pool_fn("adaptive_avg_pool2d", (3, 2)), id="adaptive_avg_pool2d"),
    pytest.param(pool_fn("adaptive_max_pool2d", (3, 2)), id="adaptive_max_pool2d"),
    pytest.param(pool_fn("max_pool1d", 2), id="max_pool1d"),
    pytest.param(pool_fn("avg_pool1d", 2), id="avg_pool1d"),
])
def test_dtype_is_kept(make, dtype):
    shape = (2, 3, 7) if make.spatial_dims == 1 else (2, 3, 7, 6)
    x = rg.tensor(randn(*shape, dtype=dtype), requires_grad=True)
    out = make(rg)(x)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("make", [pytest.param(pool_fn("max_pool2d", 2), id="max_pool2d"),
                                  pytest.param(pool_fn("avg_pool2d", 2), id="avg_pool2d")])
def test_double_backward_raises_a_clear_error(make):
    x = rg.tensor(randn(1, 2, 4, 4), requires_grad=True)
    (gx,) = rg.autograd.grad((make(rg)(x) ** 2).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        gx.sum().backward()


def test_indices_are_int64_and_not_differentiable():
    out, indices = rg.max_pool2d(rg.tensor(randn(1, 1, 4, 4), requires_grad=True), 2,
                                 return_indices=True)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert out.requires_grad


# --------------------------------------------------------------------------------- errors
X4 = rg.ones(2, 3, 5, 5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: rg.max_pool2d(X4, 0), RuntimeError,
     r"max_pool2d: kernel_size must be at least 1, got 0"),
    (lambda: rg.max_pool2d(X4, 2, 0), RuntimeError, r"max_pool2d: stride must be at least 1"),
    (lambda: rg.max_pool2d(X4, 2, dilation=0), RuntimeError,
     r"max_pool2d: dilation must be at least 1"),
    (lambda: rg.avg_pool2d(X4, 2, padding=-1), RuntimeError,
     r"avg_pool2d: padding must be at least 0, got -1"),
    (lambda: rg.max_pool2d(X4, 2, padding=2), RuntimeError,
     r"max_pool2d: padding 2 should be at most half of the kernel size 2"),
    (lambda: rg.max_pool1d(rg.ones(2, 3, 9), 3, padding=2), RuntimeError,
     r"max_pool1d: padding 2 should be at most half of the kernel size 3"),
    (lambda: rg.max_pool2d(X4, 7), RuntimeError,
     r"max_pool2d: input of shape \(2, 3, 5, 5\) is too small for kernel 7 \(output size "
     r"\(0, 0\)\)"),
    (lambda: rg.avg_pool1d(rg.ones(2, 3, 4), 5), RuntimeError,
     r"avg_pool1d: input of shape \(2, 3, 4\) is too small for kernel 5 \(output size \(0,\)\)"),
    (lambda: rg.max_pool2d(rg.ones(5), 2), RuntimeError,
     r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5,\)"),
    (lambda: rg.max_pool1d(X4, 2), RuntimeError,
     r"max_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input, got shape "
     r"\(2, 3, 5, 5\)"),
    (lambda: rg.max_pool2d(X4, (2, 2, 2)), ValueError,
     r"max_pool2d: kernel_size must be an int or a pair, got \(2, 2, 2\)"),
    (lambda: rg.avg_pool2d(X4, 2, divisor_override=0), RuntimeError,
     r"avg_pool2d: divisor_override must not be zero"),
    (lambda: rg.adaptive_avg_pool2d(X4, (2, 3, 4)), ValueError,
     r"adaptive_avg_pool2d: output_size must have 2 entries, got \(2, 3, 4\)"),
    (lambda: rg.adaptive_max_pool2d(X4, 0), RuntimeError,
     r"adaptive_max_pool2d: output_size must be at least 1, got 0"),
    (lambda: rg.adaptive_avg_pool1d(X4, 2), RuntimeError,
     r"adaptive_avg_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
])
def test_errors_name_the_op_and_the_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@requires_torch
def test_adaptive_avg_pool2d_to_zero_size_is_empty_like_pytorch():
    out = rg.adaptive_avg_pool2d(rg.ones(1, 2, 5, 5), 0)
    assert out.shape == tuple(torch.nn.functional.adaptive_avg_pool2d(torch.ones(1, 2, 5, 5),
                                                                      0).shape)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool2d_on_two_threads_matches_one_thread(two_threads, kwargs):
    """A large batch is pooled in two halves at once: the same maxima and gradients."""
    def run(threads):
        rg.set_num_threads(threads)
        x = rg.tensor(randn(64, 8, 32, 32, dtype=np.float32), requires_grad=True)
        out = rg.nn.functional.max_pool2d(x, **kwargs)
        out.backward(rg.tensor(randn(*out.shape, seed=1, dtype=np.float32)))
        return out.detach().numpy(), x.grad.numpy()
    out, dx = run(2)
    assert two_threads == [2, 2]
    out_1, dx_1 = run(1)
    np.testing.assert_array_equal(out, out_1)
    np.testing.assert_array_equal(dx, dx_1)
