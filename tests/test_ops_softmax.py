"""softmax and log_softmax: gradcheck (float64), parity with PyTorch (float32), extreme and
masked logits, dtypes, double backward and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch

FUNCTIONS = ["softmax", "log_softmax"]
SHAPES_DIMS = [
    ((5,), 0),
    ((3, 4), 0),
    ((3, 4), 1),
    ((3, 4), -1),
    ((2, 3, 4), 1),
    ((2, 3, 4), -2),
    ((2, 1, 3), 1),    # a size-1 softmax dimension: probability 1
    ((1, 1), 0),
    ((), 0),           # a 0-d tensor is one slice of one element
    ((), -1),
    ((0, 3), 1),       # empty tensors
    ((3, 0), 1),
]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_gradcheck(name, shape, dim):
    check_grad(lambda x: getattr(rg, name)(x, dim), randn(*shape))


@requires_torch
@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_parity(name, shape, dim):
    check_parity(lambda x: getattr(rg, name)(x, dim), lambda x: getattr(torch, name)(x, dim),
                 randn(*shape, scale=3.0))


@requires_torch
@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
def test_parity_random_shapes(data, shape):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    name = data.draw(st.sampled_from(FUNCTIONS))
    check_parity(lambda x: getattr(rg, name)(x, dim), lambda x: getattr(torch, name)(x, dim),
                 randn(*shape, seed=data.draw(st.integers(0, 100)), scale=4.0))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_double_backward(name):
    x = rg.tensor(randn(3, 4), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: getattr(rg, name)(t, 1), (x,))


def test_softmax_slices_sum_to_one():
    y = rg.softmax(rg.tensor(randn(3, 4, 5, dtype=np.float32)), 1)
    np.testing.assert_allclose(y.sum(1).numpy(), np.ones((3, 5)), rtol=1e-6)


# ------------------------------------------------------------------- extreme and masked logits
EXTREME = np.array([[1e4, -1e4, 0.0, 1e4], [-1e4, -1e4, -1e4, -1e4], [3e4, 1.0, -2.0, 0.5]],
                   dtype=np.float32)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_extreme_float32_logits_stay_finite(name):
    x = rg.tensor(EXTREME, requires_grad=True)
    y = getattr(rg, name)(x, 1)
    assert y.dtype == rg.float32 and np.isfinite(y.detach().numpy()).all()
    (y * rg.tensor(randn(3, 4, dtype=np.float32))).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@requires_torch
@pytest.mark.parametrize("name", FUNCTIONS)
def test_extreme_logits_parity(name):
    check_parity(lambda x: getattr(rg, name)(x, 1), lambda x: getattr(torch, name)(x, 1),
                 EXTREME, atol=1e-3)


MASKED = np.array([[0.5, -np.inf, 2.0], [-np.inf, -np.inf, 1.0], [1.0, 2.0, 3.0]])


@requires_torch
@pytest.mark.parametrize("name", FUNCTIONS)
def test_masked_logits_parity(name):
    # -inf entries get probability 0 and gradient 0; nothing becomes NaN.
    check_parity(lambda x: getattr(rg, name)(x, 1), lambda x: getattr(torch, name)(x, 1), MASKED)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_masked_logits_have_finite_gradients(name):
    x = rg.tensor(MASKED, requires_grad=True)
    getattr(rg, name)(x, 1)[:, 2].sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert (x.grad.numpy()[np.isinf(MASKED)] == 0).all()


@requires_torch
@pytest.mark.parametrize("name", FUNCTIONS)
def test_all_masked_slice_is_nan_like_pytorch(name):
    x = np.array([[-np.inf, -np.inf], [0.0, 1.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and quietly
        ours = getattr(rg, name)(rg.tensor(x), 1).numpy()
    np.testing.assert_allclose(ours, getattr(torch, name)(torch.tensor(x), 1).numpy(), rtol=1e-6)


# ------------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("name", FUNCTIONS)
def test_float32_stays_float32(name):
    assert getattr(rg, name)(rg.ones(2, 3), 1).dtype == rg.float32


@requires_torch
@pytest.mark.parametrize("name", FUNCTIONS)
def test_dtype_argument_casts_first(name):
    x = randn(2, 3, dtype=np.float32)
    check_parity(lambda t: getattr(rg, name)(t, 1, dtype=rg.float64),
                 lambda t: getattr(torch, name)(t, 1, dtype=torch.float64), x)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_integer_input_needs_a_dtype(name):
    x = rg.tensor([[1, 2], [3, 4]])
    with pytest.raises(RuntimeError, match=f"{name}: expected a floating point input, got int64"):
        getattr(rg, name)(x, 1)
    out = getattr(rg, name)(x, 1, dtype=rg.float32)
    assert out.dtype == rg.float32


@pytest.mark.parametrize("name", FUNCTIONS)
def test_tensor_method(name):
    x = rg.tensor(randn(2, 3))
    np.testing.assert_array_equal(getattr(x, name)(-1).numpy(), getattr(rg, name)(x, 1).numpy())


@pytest.mark.parametrize("name", FUNCTIONS)
def test_bad_dim_raises(name):
    with pytest.raises(IndexError, match=rf"{name}: dimension out of range .* but got 2\)"):
        getattr(rg, name)(rg.ones(2, 3), 2)
