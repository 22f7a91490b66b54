"""Reductions: gradcheck (float64) and parity with PyTorch (float32) over shapes, dims and
keepdim, plus ties, zeros, infinities, empty tensors, dtypes and error messages."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg
from helpers import check_grad, check_parity, positive, randn, requires_torch, torch

# (shape, dim): ints, negative dims, tuples, size-1 dims, 0-d tensors, dim=None and dim=().
SHAPES_DIMS = [
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)),
    ((2, 3, 4), ()),
    ((2, 1, 3), 1),
    ((4,), 0),
    ((), None),
    ((), 0),
]
# Reductions that accept an empty input (they have an identity or give NaN like PyTorch).
EMPTY_SHAPES_DIMS = [((0, 3), 0), ((0, 3), 1), ((0, 3), None), ((2, 0), (0, 1))]


def _every_dim(dim, t):
    """PyTorch's logsumexp rejects dim=None and fails for dim=() without keepdim, and its var
    and std backward treat dim=() as no dims: name every dim instead (retrograd accepts all)."""
    return tuple(range(t.ndim)) if dim is None or dim == () else dim


# name -> (retrograd fn, torch fn), both of (tensor, dim, keepdim).
REDUCTIONS = {
    "sum": (lambda x, d, k: rg.sum(x, d, k), lambda t, d, k: torch.sum(t, d, k)),
    "mean": (lambda x, d, k: rg.mean(x, d, k), lambda t, d, k: torch.mean(t, d, k)),
    "var": (lambda x, d, k: rg.var(x, d, keepdim=k),
            lambda t, d, k: torch.var(t, _every_dim(d, t), keepdim=k)),
    "var_biased": (lambda x, d, k: x.var(d, unbiased=False, keepdim=k),
                   lambda t, d, k: torch.var(t, _every_dim(d, t), correction=0, keepdim=k)),
    "std": (lambda x, d, k: rg.std(x, d, keepdim=k),
            lambda t, d, k: torch.std(t, _every_dim(d, t), keepdim=k)),
    "var_mean": (lambda x, d, k: rg.var_mean(x, d, keepdim=k),
                 lambda t, d, k: torch.var_mean(t, _every_dim(d, t), keepdim=k)),
    "std_mean": (lambda x, d, k: rg.std_mean(x, d, correction=0, keepdim=k),
                 lambda t, d, k: torch.std_mean(t, _every_dim(d, t), correction=0, keepdim=k)),
    "amax": (lambda x, d, k: rg.amax(x, d, k),
             lambda t, d, k: torch.amax(t, _every_dim(d, t), k)),
    "amin": (lambda x, d, k: x.amin(d, k), lambda t, d, k: torch.amin(t, _every_dim(d, t), k)),
    "logsumexp": (lambda x, d, k: rg.logsumexp(x, d, k),
                  lambda t, d, k: torch.logsumexp(t, _every_dim(d, t), k)),
    "norm": (lambda x, d, k: rg.norm(x, dim=d, keepdim=k),
             lambda t, d, k: torch.norm(t, dim=d, keepdim=k)),
    "norm3": (lambda x, d, k: x.norm(3, d, k), lambda t, d, k: torch.norm(t, 3, d, k)),
}
# Variances over a single element are NaN (no degrees of freedom): tested separately.
NEEDS_TWO_PER_SLICE = {"var", "std", "var_mean"}


def _slice_size(shape, dim):
    if dim is None or dim == () or not shape:
        return math.prod(shape)
    return math.prod(shape[d] for d in ((dim,) if isinstance(dim, int) else dim))


def _reduction_cases():
    for name in REDUCTIONS:
        for shape, dim in SHAPES_DIMS:
            if name in NEEDS_TWO_PER_SLICE and _slice_size(shape, dim) < 2:
                continue
            for keepdim in (False, True):
                yield pytest.param(name, shape, dim, keepdim, id=f"{name}-{shape}-{dim}-{keepdim}")


REDUCTION_CASES = list(_reduction_cases())


# ------------------------------------------------------------------------ shared reductions
@pytest.mark.parametrize("name, shape, dim, keepdim", REDUCTION_CASES)
def test_reduction_gradcheck(name, shape, dim, keepdim):
    fn = REDUCTIONS[name][0]
    check_grad(lambda x: fn(x, dim, keepdim), randn(*shape, seed=len(shape)))


@requires_torch
@pytest.mark.parametrize("name, shape, dim, keepdim", REDUCTION_CASES)
def test_reduction_parity(name, shape, dim, keepdim):
    rg_fn, torch_fn = REDUCTIONS[name]
    check_parity(lambda x: rg_fn(x, dim, keepdim), lambda t: torch_fn(t, dim, keepdim),
                 randn(*shape, seed=len(shape)))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "logsumexp", "norm"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reduction_preserves_float_dtype(name, dtype):
    out = REDUCTIONS[name][0](rg.tensor(randn(3, 4, dtype=dtype), requires_grad=True), 1, False)
    assert out.dtype == dtype
    out.sum().backward()


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "norm", "norm3"])
@pytest.mark.parametrize("shape, dim", EMPTY_SHAPES_DIMS)
def test_reduction_of_empty_tensor(name, shape, dim):
    rg_fn, torch_fn = REDUCTIONS[name]
    check_grad(lambda x: rg_fn(x, dim, False), np.zeros(shape))
    if torch is not None:
        check_parity(lambda x: rg_fn(x, dim, True), lambda t: torch_fn(t, dim, True),
                     np.zeros(shape, np.float32))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "prod", "amax", "logsumexp",
                                  "norm"])
def test_bad_dims_raise_clear_errors(name):
    fn = getattr(rg, name)
    x = rg.tensor(randn(2, 3))
    with pytest.raises(IndexError, match=rf"{name}: dimension out of range.*got 2"):
        fn(x, dim=2)
    with pytest.raises(IndexError, match=rf"{name}: dimension out of range.*got -3"):
        fn(x, dim=(0, -3))
    with pytest.raises(RuntimeError, match=rf"{name}: dim 1 appears multiple times"):
        fn(x, dim=(1, -1))
    with pytest.raises(TypeError, match=rf"{name}: dim must be an int or a tuple of ints"):
        fn(x, dim=1.5)


@pytest.mark.parametrize("fn", [
    lambda x: rg.sum(x, 1), lambda x: rg.mean(x, (0, 1)), lambda x: rg.logsumexp(x, -1),
    lambda x: rg.var(x, 0), lambda x: rg.std(x, 1), lambda x: rg.prod(x, 1),
    lambda x: rg.norm(x, dim=1), lambda x: rg.norm(x, 1.5), lambda x: rg.cumsum(x, 0),
    lambda x: rg.amax(x, 1) * rg.amax(x, 1)],
    ids=["sum", "mean", "logsumexp", "var", "std", "prod", "norm", "norm1.5", "cumsum", "amax"])
def test_double_backward(fn):
    x = rg.tensor(positive(3, 4), requires_grad=True)
    assert rg.autograd.gradgradcheck(fn, (x,))


@requires_torch
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "var", "std", "norm"])
def test_double_backward_parity(name):
    rg_fn, torch_fn = REDUCTIONS[name]
    a = randn(3, 4, dtype=np.float32)
    x, t = rg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = rg.autograd.grad(rg_fn(x, 1, False).pow(3).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(torch_fn(t, 1, False).pow(3).sum(), t, create_graph=True)
    (gx * gx).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_shapes_and_dims_match_numpy(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1))
    dim = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in axes)
    keepdim = data.draw(st.booleans())
    a = randn(*shape, seed=data.draw(st.integers(0, 100)))
    x = rg.tensor(a, requires_grad=True)
    np.testing.assert_allclose(rg.sum(x, dim, keepdim).detach().numpy(),
                               a.sum(axis=tuple(axes), keepdims=keepdim))
    np.testing.assert_allclose(rg.amax(x, dim, keepdim).detach().numpy(),
                               a.max(axis=tuple(axes), keepdims=keepdim))
    np.testing.assert_allclose(rg.std(x, dim, keepdim=keepdim, correction=0).detach().numpy(),
                               a.std(axis=tuple(axes), keepdims=keepdim), atol=1e-12)
    check_grad(lambda t: rg.mean(t, dim, keepdim) + rg.logsumexp(t, dim, keepdim), a)


# ------------------------------------------------------------------------------------ sum
@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.int64])
def test_sum_of_integers_is_int64(dtype):
    x = rg.tensor(np.arange(6).reshape(2, 3).astype(dtype))
    out = x.sum(1)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.arange(6).reshape(2, 3).astype(dtype).sum(1))


@requires_torch
def test_sum_dtype_argument():
    check_parity(lambda x: rg.sum(x, 1, dtype=rg.float64),
                 lambda t: torch.sum(t, 1, dtype=torch.float64), randn(3, 4))
    out = rg.sum(rg.tensor(np.arange(4, dtype=np.int32)), dtype=rg.float32)
    assert out.dtype == np.float32 and out.item() == 6.0


def test_sum_keepdim_without_dim_keeps_every_dim():
    assert rg.sum(rg.ones(2, 3), keepdim=True).shape == (1, 1)


# ----------------------------------------------------------------------------------- mean
def test_mean_of_integers_raises_unless_dtype_given():
    x = rg.tensor([1, 2, 4])
    with pytest.raises(RuntimeError, match="mean: could not infer output dtype.*int64"):
        x.mean()
    out = x.mean(dtype=rg.float64)
    assert out.dtype == np.float64 and out.item() == pytest.approx(7 / 3)


def test_mean_of_empty_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(rg.zeros(0, 3).mean().item())
        assert np.isnan(rg.zeros(0, 3).mean(0).numpy()).all()


# -------------------------------------------------------------------------------- var, std
@requires_torch
@pytest.mark.parametrize("correction", [0, 1, 2, 0.5])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_correction(name, correction):
    rg_fn, torch_fn = getattr(rg, name), getattr(torch, name)
    check_parity(lambda x: rg_fn(x, 1, correction=correction),
                 lambda t: torch_fn(t, 1, correction=correction), randn(3, 5))
    check_grad(lambda x: rg_fn(x, 1, correction=correction), randn(3, 5))


@requires_torch
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_legacy_unbiased_forms(unbiased):
    a = randn(3, 4, dtype=np.float32)
    expected = torch.var(torch.tensor(a), unbiased).item()
    assert rg.tensor(a).var(unbiased).item() == pytest.approx(expected, rel=1e-6)
    assert rg.tensor(a).var(None, unbiased).item() == pytest.approx(expected, rel=1e-6)
    std_expected = torch.std(torch.tensor(a), 0, unbiased, True)
    np.testing.assert_allclose(rg.std(rg.tensor(a), 0, unbiased, True).numpy(),
                               std_expected.numpy(), rtol=1e-6)


def test_var_argument_errors():
    with pytest.raises(TypeError, match="var: pass either unbiased or correction"):
        rg.var(rg.ones(3), unbiased=True, correction=1)
    with pytest.raises(RuntimeError, match="std: std and var only support floating point"):
        rg.std(rg.tensor([1, 2, 3]))


@requires_torch
def test_std_of_constant_has_zero_gradient():
    # d std = d var / (2 std) would be 0/0; PyTorch (and retrograd) give 0.
    check_parity(lambda x: x.std(1), lambda t: t.std(1), np.full((2, 4), 3.0))


@pytest.mark.parametrize("name", ["var", "std"])
def test_no_degrees_of_freedom_warns_and_gives_nan(name):
    with pytest.warns(RuntimeWarning, match=f"{name}: degrees of freedom is <= 0"):
        out = getattr(rg, name)(rg.tensor([[1.0], [2.0]]), 1)
    assert np.isnan(out.numpy()).all()
    with pytest.warns(RuntimeWarning):
        assert getattr(rg, name)(rg.tensor(2.0)).item() != 0  # NaN
    assert getattr(rg, name)(rg.tensor(2.0), correction=0).item() == 0


def test_var_mean_returns_var_and_mean():
    a = randn(4, 5)
    v, m = rg.var_mean(rg.tensor(a), 1)
    np.testing.assert_allclose(v.numpy(), a.var(1, ddof=1))
    np.testing.assert_allclose(m.numpy(), a.mean(1))


# ----------------------------------------------------------------------------------- prod
@pytest.mark.parametrize("shape, dim", [((3, 4), None), ((3, 4), 1), ((3, 4), -2),
                                        ((2, 3, 4), (0, 2)), ((), None), ((0, 3), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_gradcheck(shape, dim, keepdim):
    check_grad(lambda x: rg.prod(x, dim, keepdim), randn(*shape, seed=3))


# Each row: no zero, one zero, two zeros, all zeros.
WITH_ZEROS = np.array([[1.5, -2.0, 0.5, 3.0],
                       [1.5, 0.0, 0.5, 3.0],
                       [0.0, -2.0, 0.0, 3.0],
                       [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("dim", [1, None])
def test_prod_gradcheck_with_zeros(dim):
    check_grad(lambda x: rg.prod(x, dim), WITH_ZEROS)
    check_grad(lambda x: rg.prod(x, dim), WITH_ZEROS[1:2])  # a single zero overall


@requires_torch
@pytest.mark.parametrize("rows", [slice(0, 4), slice(1, 2), slice(2, 3)])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_prod_parity_with_zeros(rows, dim):
    rg_fn = (lambda x: x.prod()) if dim is None else (lambda x: x.prod(dim))
    torch_fn = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim))
    check_parity(rg_fn, torch_fn, WITH_ZEROS[rows])


@requires_torch
@pytest.mark.parametrize("shape, dim", [((3, 4), 1), ((3, 4), -2), ((5,), 0), ((), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_parity(shape, dim, keepdim):
    check_parity(lambda x: rg.prod(x, dim, keepdim), lambda t: torch.prod(t, dim, keepdim),
                 randn(*shape, seed=5))


def test_prod_of_integers_is_int64_and_empty_prod_is_one():
    assert rg.prod(rg.tensor(np.array([2, 3], np.int32))).dtype == np.int64
    assert rg.prod(rg.tensor([True, True])).dtype == np.int64
    np.testing.assert_array_equal(rg.zeros(0, 2).prod(0).numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------------- max and min
TIES = np.array([[1.0, 3.0, 3.0, -2.0],
                 [2.0, 2.0, 0.0, 2.0],
                 [-1.0, -1.0, -1.0, -1.0]])


@requires_torch
@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_split_the_gradient_among_ties(name):
    check_parity(lambda x: getattr(x, name)(), lambda t: getattr(t, name)(), TIES)
    x = rg.tensor(TIES, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], [0, 0.5, 0.5, 0])


@requires_torch
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_send_the_gradient_to_the_first_index(name, dim, keepdim):
    check_parity(lambda x: getattr(rg, name)(x, dim, keepdim),
                 lambda t: getattr(torch, name)(t, dim, keepdim), TIES)
    check_parity(lambda x: getattr(rg, name)(x, dim, keepdim),
                 lambda t: getattr(torch, name)(t, dim, keepdim), randn(3, 4))
    check_grad(lambda x: getattr(rg, name)(x, dim, keepdim).values, randn(3, 4))


def test_max_along_dim_returns_a_values_indices_namedtuple():
    result = rg.tensor(TIES).max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(values.numpy(), [3.0, 2.0, -1.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0, 0])
    assert indices.dtype == np.int64
    assert type(result).__name__ == "max" and type(rg.min(rg.ones(2), 0)).__name__ == "min"


@requires_torch
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_0d_tensor(name):
    check_parity(lambda x: getattr(x, name)(0), lambda t: getattr(t, name)(0), np.array(2.5))
    check_parity(lambda x: getattr(x, name)(), lambda t: getattr(t, name)(), np.array(2.5))


@requires_torch
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_other_are_elementwise(name):
    a, b = randn(2, 3, seed=1), randn(3, seed=2)
    check_parity(lambda x, y: getattr(rg, name)(x, y), lambda s, t: getattr(torch, name)(s, t),
                 a, b)
    check_parity(lambda x, y: getattr(x, name)(y), lambda s, t: getattr(s, name)(t), a, b)
    check_parity(lambda x, y: getattr(rg, name)(x, other=y),
                 lambda s, t: getattr(torch, name)(s, other=t), a, b)


@requires_torch
def test_max_min_with_nan_pick_the_nan():
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    check_parity(lambda x: x.max(1), lambda t: t.max(1), a, atol=0)
    check_parity(lambda x: x.min(1), lambda t: t.min(1), a, atol=0)
    check_parity(lambda x: x.max(), lambda t: t.max(), a)


def test_max_min_of_integers_and_bools():
    x = rg.tensor(np.array([[3, 7, 7], [1, 0, 2]], np.int32))
    values, indices = x.max(1)
    assert values.dtype == np.int32
    np.testing.assert_array_equal(indices.numpy(), [1, 2])
    assert x.min().item() == 0 and x.min().dtype == np.int32
    assert rg.tensor([True, False]).min().item() is False


def test_max_min_errors():
    with pytest.raises(RuntimeError, match=r"max: expected reduction dim to be specified for an "
                                           r"empty input \(shape \(0, 3\)\)"):
        rg.zeros(0, 3).max()
    with pytest.raises(IndexError, match=r"min: expected reduction dim 0 to have non-zero size, "
                                         r"got input of shape \(0, 3\)"):
        rg.zeros(0, 3).min(0)
    assert rg.zeros(0, 3).max(1).values.shape == (0,)
    with pytest.raises(TypeError, match="max: dim must be an int.*amax"):
        rg.ones(2, 3).max((0, 1))
    with pytest.raises(IndexError, match="max: dimension out of range"):
        rg.ones(2, 3).max(2)


# ------------------------------------------------------------------------------ amax, amin
@requires_torch
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [0, 1, (0, 1), None])
def test_amax_amin_split_the_gradient_among_ties(name, dim):
    rg_fn, torch_fn = REDUCTIONS[name]
    check_parity(lambda x: rg_fn(x, dim, False), lambda t: torch_fn(t, dim, False), TIES)


def test_amax_amin_errors_and_dtypes():
    with pytest.raises(IndexError, match="amax: expected reduction dim 0 to have non-zero size"):
        rg.zeros(0, 3).amax(0)
    with pytest.raises(RuntimeError, match="amin: expected reduction dim to be specified"):
        rg.zeros(0, 3).amin()
    assert rg.zeros(0, 3).amax(1).shape == (0,)
    assert rg.tensor(np.array([1, 5], np.int32)).amax().dtype == np.int32


# -------------------------------------------------------------------------- argmax, argmin
@requires_torch
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin_match_pytorch_including_ties(name, dim, keepdim):
    for a in (TIES, randn(3, 4), np.arange(12.0).reshape(3, 4) % 3):
        out = getattr(rg, name)(rg.tensor(a), dim, keepdim)
        expected = getattr(torch, name)(torch.tensor(a), dim, keepdim)
        assert out.dtype == np.int64 and out.shape == tuple(expected.shape)
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_argmax_argmin_edge_cases():
    assert rg.tensor(2.0).argmax(0).item() == 0
    np.testing.assert_array_equal(rg.tensor([[3, 9, 9], [5, 1, 1]]).argmin(1).numpy(), [0, 1])
    assert rg.tensor([2.0, 1.0, 1.0]).argmin().item() == 1  # first occurrence
    assert rg.tensor([1.0, np.nan, 3.0]).argmax().item() == 1  # NaN is the maximum
    with pytest.raises(RuntimeError, match="argmax: does not support bool input"):
        rg.tensor([True, False]).argmax()
    with pytest.raises(RuntimeError, match="argmin: expected reduction dim to be specified"):
        rg.zeros(0).argmin()
    with pytest.raises(IndexError, match="argmax: expected reduction dim 0 to have non-zero"):
        rg.zeros(0, 2).argmax(0)


# ------------------------------------------------------------------------------ logsumexp
@requires_torch
def test_logsumexp_of_extreme_values_is_stable():
    a = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]], np.float32)
    check_parity(lambda x: rg.logsumexp(x, 1), lambda t: torch.logsumexp(t, 1), a)
    check_parity(lambda x: rg.logsumexp(x, 0, True), lambda t: torch.logsumexp(t, 0, True), a)


def test_logsumexp_of_minus_inf_slice_is_minus_inf_with_zero_gradient():
    a = np.array([[-np.inf, -np.inf, -np.inf], [1.0, -np.inf, 2.0]], np.float32)
    x = rg.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = rg.logsumexp(x, 1)
        out.sum().backward()
    out = out.detach()
    assert out.numpy()[0] == -np.inf
    assert out.numpy()[1] == pytest.approx(np.logaddexp(1.0, 2.0))
    np.testing.assert_array_equal(x.grad.numpy()[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy()[1], [1 / (1 + np.e), 0.0, np.e / (1 + np.e)],
                               rtol=1e-6)


@requires_torch
def test_logsumexp_with_plus_inf_matches_pytorch():
    a = np.array([[np.inf, 1.0, 2.0], [0.0, 1.0, 2.0]], np.float32)
    x, t = rg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(invalid="ignore"):  # inf - inf: the gradient at +inf is NaN, as in PyTorch
        rg.logsumexp(x, 1).sum().backward()
    torch.logsumexp(t, 1).sum().backward()
    np.testing.assert_array_equal(rg.logsumexp(rg.tensor(a), 1).numpy()[0], np.inf)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6, equal_nan=True)


def test_logsumexp_of_integers_is_float():
    out = rg.logsumexp(rg.tensor([[0, 0], [1, 1]]), 1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [np.log(2), 1 + np.log(2)], rtol=1e-6)


# ----------------------------------------------------------------------------------- norm
NORM_ORDERS = ["fro", 2, 1, 3, 1.5, 0.5, 0, -1, math.inf, -math.inf]


@requires_torch
@pytest.mark.parametrize("p", NORM_ORDERS)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), ((0, 1), True), (-1, True)])
def test_norm_parity(p, dim, keepdim):
    check_parity(lambda x: rg.norm(x, p, dim, keepdim), lambda t: torch.norm(t, p, dim, keepdim),
                 randn(3, 4, seed=7))


@pytest.mark.parametrize("p", NORM_ORDERS)
@pytest.mark.parametrize("dim", [None, 0, (0, 1)])
def test_norm_gradcheck(p, dim):
    check_grad(lambda x: rg.norm(x, p, dim), randn(3, 4, seed=7))


@requires_torch
@pytest.mark.parametrize("p", NORM_ORDERS)
def test_norm_gradient_at_zero_is_zero(p):
    # A zero row, and a row with one zero entry (where |x|^(p-1) is infinite for p < 1).
    a = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0]])
    check_parity(lambda x: rg.norm(x, p, 1), lambda t: torch.norm(t, p, 1), a)
    x = rg.tensor(a, requires_grad=True)
    rg.norm(x, p, 1).sum().backward()
    assert x.grad is None or np.isfinite(x.grad.numpy()).all()


@requires_torch
def test_inf_norm_splits_the_gradient_among_ties():
    check_parity(lambda x: rg.norm(x, math.inf), lambda t: torch.norm(t, math.inf),
                 np.array([[3.0, -3.0, 1.0]]))


def test_norm_of_0d_and_empty_tensors():
    assert rg.norm(rg.tensor(-3.0)).item() == 3.0
    assert rg.norm(rg.zeros(0, 3)).item() == 0.0
    assert rg.norm(rg.ones(2, 3), keepdim=True).shape == (1, 1)
    with pytest.raises(RuntimeError, match="norm: cannot compute the inf norm of an empty"):
        rg.norm(rg.zeros(0, 3), math.inf)


def test_norm_errors():
    with pytest.raises(RuntimeError, match="norm: expected a floating point tensor, got int64"):
        rg.norm(rg.tensor([3, 4]))
    with pytest.raises(NotImplementedError, match="nuclear norm"):
        rg.norm(rg.ones(2, 2), "nuc")
    with pytest.raises(RuntimeError, match="norm: order 'abc' not supported"):
        rg.norm(rg.ones(2, 2), "abc")


# --------------------------------------------------------------------------------- cumsum
@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1),
                                        ((), 0), ((0, 3), 1), ((3, 1), 1)])
def test_cumsum_gradcheck_and_parity(shape, dim):
    a = randn(*shape, seed=11)
    check_grad(lambda x: rg.cumsum(x, dim), a)
    if torch is not None:
        check_parity(lambda x: x.cumsum(dim), lambda t: t.cumsum(dim), a)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32])
def test_cumsum_of_integers_is_int64(dtype):
    out = rg.cumsum(rg.tensor(np.array([1, 1, 0, 1]).astype(dtype)), 0)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), [1, 2, 2, 3])


def test_cumsum_dtype_argument_and_errors():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    out = rg.cumsum(x, 0, dtype=rg.float64)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0])
    with pytest.raises(IndexError, match="cumsum: dimension out of range"):
        rg.cumsum(rg.ones(2, 3), 2)


# ------------------------------------------------------------------------------- all, any
@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_all_any(name, dim, keepdim):
    a = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    out = getattr(rg.tensor(a), name)(dim, keepdim)
    expected = getattr(np, name)(a, axis=dim, keepdims=keepdim)
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out.numpy(), expected)


def test_all_any_edge_cases():
    assert rg.zeros(0).all().item() is True and rg.zeros(0).any().item() is False
    assert rg.tensor(np.array([1, 2], np.uint8)).all().dtype == np.uint8
    # As in PyTorch, dim=() reduces no dimension here.
    np.testing.assert_array_equal(rg.tensor([[0.0, 2.0]]).all(dim=()).numpy(), [[False, True]])
    assert not rg.tensor([1.0, 2.0], requires_grad=True).all().requires_grad
