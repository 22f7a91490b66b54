"""interpolate / upsample: gradcheck (float64) and parity with PyTorch (float32) for the modes
nearest, nearest-exact, linear and bilinear, align_corners, sizes and scale factors (up, down,
fractional, per axis, recompute_scale_factor), second derivatives and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, torch


def interpolate_fn(*args, **kwargs):
    def make(lib):
        def resize(x):
            op = rg.interpolate if lib is rg else torch.nn.functional.interpolate
            return op(x, *args, **kwargs)
        return resize
    return make


def assert_parity(make, x):
    check_parity(make(rg), make(torch), x, rtol=1e-5, atol=1e-5)


RESIZES = [
    pytest.param(dict(scale_factor=2), id="x2"),
    pytest.param(dict(scale_factor=3, recompute_scale_factor=True), id="x3-recompute"),
    pytest.param(dict(scale_factor=0.5), id="x0.5"),
    pytest.param(dict(scale_factor=1.7), id="x1.7"),
    pytest.param(dict(scale_factor=2.5, recompute_scale_factor=True), id="x2.5-recompute"),
    pytest.param(dict(scale_factor=1 / 3), id="x1/3"),
    pytest.param(dict(size=8), id="size8"),
    pytest.param(dict(size=3), id="size3"),
    pytest.param(dict(size=1), id="size1"),
]
MODES_2D = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True)]
MODES_1D = [("nearest", None), ("nearest-exact", None), ("linear", False), ("linear", True)]


@pytest.mark.parametrize("mode, align_corners", MODES_2D)
@pytest.mark.parametrize("resize", RESIZES + [
    pytest.param(dict(size=(3, 7)), id="size3x7"),
    pytest.param(dict(scale_factor=(2, 0.5)), id="x2x0.5"),
    pytest.param(dict(size=[1, 9]), id="size1x9"),
])
def test_interpolate_2d_matches_pytorch(mode, align_corners, resize):
    assert_parity(interpolate_fn(mode=mode, align_corners=align_corners, **resize),
                  randn(2, 3, 4, 5))


@pytest.mark.parametrize("mode, align_corners", MODES_1D)
@pytest.mark.parametrize("resize", RESIZES + [pytest.param(dict(size=(6,)), id="size(6,)")])
def test_interpolate_1d_matches_pytorch(mode, align_corners, resize):
    assert_parity(interpolate_fn(mode=mode, align_corners=align_corners, **resize),
                  randn(2, 3, 5))


@pytest.mark.parametrize("mode, align_corners", MODES_2D)
def test_interpolate_from_a_single_pixel(mode, align_corners):
    assert_parity(interpolate_fn(size=(3, 4), mode=mode, align_corners=align_corners),
                  randn(1, 2, 1, 1))


@pytest.mark.parametrize("mode, align_corners", MODES_2D + [("linear", False), ("linear", True)])
@pytest.mark.parametrize("resize", [dict(scale_factor=2), dict(size=3), dict(scale_factor=1.5)])
def test_interpolate_gradcheck(mode, align_corners, resize):
    shape = (1, 2, 3) if mode == "linear" else (1, 2, 3, 4)
    check_grad(interpolate_fn(mode=mode, align_corners=align_corners, **resize)(rg),
               randn(*shape))


def test_interpolate_has_second_derivatives():
    """Resizing is a product with interpolation matrices: differentiable any number of
    times."""
    x = rg.tensor(randn(1, 2, 3, 4), requires_grad=True)
    assert rg.autograd.gradgradcheck(
        lambda t: rg.interpolate(t, scale_factor=2, mode="bilinear") ** 2, (x,))


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 9), ow=st.integers(1, 9),
       mode=st.sampled_from(MODES_2D), seed=st.integers(0, 2 ** 16))
def test_interpolate_random_sizes_match_pytorch(h, w, oh, ow, mode, seed):
    assert_parity(interpolate_fn(size=(oh, ow), mode=mode[0], align_corners=mode[1]),
                  randn(2, 2, h, w, seed=seed))


def test_nearest_upsampling_repeats_pixels():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    out = rg.interpolate(rg.tensor(x), scale_factor=2).numpy()
    np.testing.assert_array_equal(out, x.repeat(2, axis=2).repeat(2, axis=3))


def test_align_corners_keeps_the_corner_pixels():
    x = randn(1, 1, 3, 4)
    out = rg.interpolate(rg.tensor(x), size=(5, 7), mode="bilinear", align_corners=True).numpy()
    np.testing.assert_allclose(out[..., [0, -1], :][..., [0, -1]], x[..., [0, -1], :][..., [0, -1]],
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_dtype_is_kept(dtype, mode):
    x = rg.tensor(randn(1, 2, 3, 3, dtype=dtype), requires_grad=True)
    out = rg.interpolate(x, scale_factor=2, mode=mode)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


def test_upsample_is_interpolate():
    x = rg.tensor(randn(1, 2, 3, 3))
    np.testing.assert_array_equal(
        rg.upsample(x, scale_factor=2, mode="bilinear", align_corners=True).numpy(),
        rg.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy())


@pytest.mark.parametrize("call, error, match", [
    (lambda: rg.interpolate(rg.ones(1, 1, 4), mode="bicubic", scale_factor=2),
     NotImplementedError, r"interpolate: mode 'bicubic' is not supported"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4), mode="bilinear", scale_factor=2), ValueError,
     r"interpolate: mode 'bilinear' does not take input of shape \(1, 1, 4\)"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4, 4), mode="linear", scale_factor=2), ValueError,
     r"interpolate: mode 'linear' does not take input of shape \(1, 1, 4, 4\)"),
    (lambda: rg.interpolate(rg.ones(1, 4), scale_factor=2), ValueError,
     r"interpolate: mode 'nearest' does not take input of shape \(1, 4\)"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4), scale_factor=2, align_corners=True), ValueError,
     r"interpolate: align_corners only applies to the linear modes"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4)), ValueError,
     r"interpolate: give exactly one of size and scale_factor"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4), size=3, scale_factor=2), ValueError,
     r"interpolate: give exactly one of size and scale_factor"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4), size=(3, 7)), ValueError,
     r"interpolate: size \(3, 7\) must have one entry per spatial dimension of the input \(1\)"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4, 4), scale_factor=(2, 2, 2)), ValueError,
     r"interpolate: scale_factor \(2, 2, 2\) must have one entry per spatial dimension"),
    (lambda: rg.interpolate(rg.ones(1, 1, 1, 1), scale_factor=0.5), ValueError,
     r"interpolate: input and output sizes must be positive, got input of shape "
     r"\(1, 1, 1, 1\) and output size \(0, 0\)"),
    (lambda: rg.interpolate(rg.ones(1, 1, 4), size=2, antialias=True), NotImplementedError,
     r"interpolate: antialias=True is not supported"),
])
def test_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()
