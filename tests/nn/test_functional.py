"""retrograd.nn.functional: activations under PyTorch's names, softmax, linear, dropout,
one_hot, cosine_similarity and normalize (losses: test_losses.py)."""
import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from helpers import check_grad, check_parity, randn, requires_torch, torch

TF = torch.nn.functional if torch is not None else None

# name, keyword arguments (the same for both frameworks)
ACTIVATIONS = [
    ("relu", {}),
    ("relu", {"inplace": True}),
    ("relu6", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("leaky_relu", {"inplace": True}),
    ("elu", {"alpha": 0.7}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("logsigmoid", {}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
def test_activation_gradcheck(name, kwargs):
    # Away from the kinks, where finite differences are meaningless.
    x = randn(3, 4, scale=3.0)
    x[np.abs(x) < 0.05] = 0.3
    x[np.abs(x - 6) < 0.05] = 5.5
    check_grad(lambda t: getattr(F, name)(t, **kwargs), x)


@requires_torch
@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
def test_activation_parity(name, kwargs):
    # Includes the kinks and bounds themselves, where the conventions must match.
    x = np.concatenate([randn(20, scale=4.0), [0.0, -1.0, 1.0, 6.0, -0.5, 2.0, 3.0, 1.5]])
    # PyTorch rejects inplace=True on a leaf that requires grad; the result is the same.
    torch_kwargs = {k: v for k, v in kwargs.items() if k != "inplace"}
    check_parity(lambda t: getattr(F, name)(t, **kwargs),
                 lambda t: getattr(TF, name)(t, **torch_kwargs), x)


def test_inplace_flag_computes_out_of_place():
    x = rg.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert x.tolist() == [-1.0, 2.0] and y.tolist() == [0.0, 2.0]


@requires_torch
@pytest.mark.parametrize("name", ["logsigmoid", "softplus", "sigmoid", "silu"])
def test_activations_of_extreme_float32_stay_finite(name):
    x = np.array([-1e4, -100.0, 100.0, 1e4], dtype=np.float32)
    check_parity(getattr(F, name), getattr(TF, name), x)
    t = rg.tensor(x, requires_grad=True)
    getattr(F, name)(t).sum().backward()
    assert np.isfinite(t.grad.numpy()).all()


def test_hardtanh_rejects_inverted_bounds():
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\) cannot be greater"):
        F.hardtanh(rg.ones(2), 2, 1)


# ------------------------------------------------------------------------------------ softmax
@requires_torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_parity(name, dim):
    check_parity(lambda t: getattr(F, name)(t, dim=dim), lambda t: getattr(TF, name)(t, dim=dim),
                 randn(3, 4))


@requires_torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_implicit_dim_warns_and_matches_pytorch(name, shape):
    x = randn(*shape)
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = getattr(F, name)(rg.tensor(x))
    with pytest.warns(UserWarning):
        theirs = getattr(TF, name)(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_softmax_accepts_pytorch_arguments():
    y = F.softmax(rg.ones(2, 3), dim=1, _stacklevel=5, dtype=rg.float64)
    assert y.dtype == rg.float64


# ------------------------------------------------------------------------------------- linear
LINEAR_SHAPES = [
    ((4, 3), (5, 3), (5,)),
    ((3,), (5, 3), (5,)),          # a single sample
    ((2, 4, 3), (5, 3), (5,)),     # leading dims: weight gradient summed over them
    ((2, 1, 4, 3), (2, 3), None),  # no bias
    ((0, 3), (5, 3), (5,)),        # an empty batch: zero weight gradient
    ((4, 3), (1, 3), (1,)),
    ((4, 3), (5, 3), ()),          # a scalar bias broadcasts
]


def _linear_arrays(x_shape, w_shape, b_shape):
    arrays = [randn(*x_shape, seed=1), randn(*w_shape, seed=2)]
    return arrays + ([] if b_shape is None else [randn(*b_shape, seed=3)])


@pytest.mark.parametrize("shapes", LINEAR_SHAPES)
def test_linear_gradcheck(shapes):
    check_grad(F.linear, *_linear_arrays(*shapes))


@requires_torch
@pytest.mark.parametrize("shapes", LINEAR_SHAPES)
def test_linear_parity(shapes):
    check_parity(F.linear, TF.linear, *_linear_arrays(*shapes))


def test_linear_is_one_node():
    x, w, b = (rg.tensor(a, requires_grad=True) for a in _linear_arrays((4, 3), (5, 3), (5,)))
    y = F.linear(x, w, b)
    assert type(y.grad_fn).__name__ == "Linear"
    assert all(edge[0] is leaf for edge, leaf in zip(y.grad_fn.next_edges, (x, w, b), strict=True))


def test_linear_double_backward():
    inputs = tuple(rg.tensor(a, requires_grad=True)
                   for a in _linear_arrays((2, 4, 3), (5, 3), (5,)))
    assert rg.autograd.gradgradcheck(F.linear, inputs)


def test_linear_keeps_float32():
    y = F.linear(rg.ones(2, 3), rg.ones(4, 3), rg.ones(4))
    assert y.dtype == rg.float32 and y.shape == (2, 4)


@pytest.mark.parametrize("x_shape,w_shape,b_shape,message", [
    ((4, 3), (5, 2), None, r"linear: input of shape \(4, 3\) does not match weight of shape "
                           r"\(5, 2\)"),
    ((4, 3), (3,), None, r"linear: weight must be 2-D"),
    ((4, 3), (5, 3), (4,), r"linear: bias of shape \(4,\) does not broadcast"),
])
def test_linear_shape_errors(x_shape, w_shape, b_shape, message):
    bias = None if b_shape is None else rg.zeros(b_shape)
    with pytest.raises(RuntimeError, match=message):
        F.linear(rg.zeros(x_shape), rg.zeros(w_shape), bias)


def test_linear_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="linear: expected input, weight and bias of one dtype"):
        F.linear(rg.ones(2, 3), rg.ones(4, 3, dtype=rg.float64))


# ------------------------------------------------------------------------------------ dropout
def test_dropout_scales_kept_elements_and_drops_about_p():
    rg.manual_seed(0)
    x = rg.ones(200, 500)
    y = F.dropout(x, p=0.3).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert y.dtype == np.float32


def test_dropout_gradient_is_the_scaled_mask():
    rg.manual_seed(1)
    x = rg.tensor(randn(4, 5, dtype=np.float32), requires_grad=True)
    y = F.dropout(x, p=0.5)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept * 2.0)


def test_dropout_is_reproducible_with_manual_seed():
    rg.manual_seed(42)
    first = F.dropout(rg.ones(10, 10)).numpy()
    rg.manual_seed(42)
    np.testing.assert_array_equal(F.dropout(rg.ones(10, 10)).numpy(), first)


@pytest.mark.parametrize("kwargs", [{"p": 0.0}, {"p": 0.5, "training": False}])
def test_dropout_identity_cases(kwargs):
    x = rg.tensor(randn(3, 4))
    np.testing.assert_array_equal(F.dropout(x, **kwargs).numpy(), x.numpy())


def test_dropout_p_one_gives_zeros_and_zero_gradient():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    y = F.dropout(x, p=1.0, inplace=True)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_probability_raises(p):
    with pytest.raises(ValueError, match=f"dropout: probability has to be between 0 and 1, but "
                                         f"got {p}"):
        F.dropout(rg.ones(2), p)


# ------------------------------------------------------------------------------------ one_hot
@requires_torch
@pytest.mark.parametrize("labels,num_classes", [
    ([0, 2, 1], -1),
    ([0, 2, 1], 5),
    ([[1, 0], [3, 3]], -1),
    (3, 4),                  # 0-d
    (np.zeros((0,), dtype=np.int64), 3),
])
def test_one_hot_matches_pytorch(labels, num_classes):
    ours = F.one_hot(rg.tensor(labels), num_classes)
    theirs = TF.one_hot(torch.tensor(labels), num_classes).numpy()
    assert ours.dtype == rg.int64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.numpy(), theirs)


@pytest.mark.parametrize("labels,num_classes,message", [
    ([0, 3], 3, r"one_hot: class values must be smaller than num_classes \(3\), got 3"),
    ([0, -1], 3, "one_hot: class values must be non-negative, got -1"),
    (np.zeros((0,), dtype=np.int64), -1, "one_hot: can not infer the number of classes"),
])
def test_one_hot_errors(labels, num_classes, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(rg.tensor(labels), num_classes)


def test_one_hot_requires_int64():
    with pytest.raises(RuntimeError, match="one_hot: expected an int64 index tensor, got int32"):
        F.one_hot(rg.tensor([1, 2], dtype=rg.int32))


# ------------------------------------------------------------------ cosine_similarity, normalize
COSINE_CASES = [
    ((4, 3), (4, 3), 1),
    ((4, 3), (4, 3), 0),
    ((2, 4, 3), (4, 3), -1),   # broadcasting
    ((1, 3), (5, 3), 1),
    ((3,), (3,), 0),
]


@pytest.mark.parametrize("shape1,shape2,dim", COSINE_CASES)
def test_cosine_similarity_gradcheck(shape1, shape2, dim):
    check_grad(lambda a, b: F.cosine_similarity(a, b, dim=dim), randn(*shape1, seed=1),
               randn(*shape2, seed=2))


@requires_torch
@pytest.mark.parametrize("shape1,shape2,dim", COSINE_CASES)
def test_cosine_similarity_parity(shape1, shape2, dim):
    check_parity(lambda a, b: F.cosine_similarity(a, b, dim=dim),
                 lambda a, b: TF.cosine_similarity(a, b, dim=dim),
                 randn(*shape1, seed=1), randn(*shape2, seed=2))


@requires_torch
def test_cosine_similarity_of_a_zero_vector_is_zero_with_finite_gradient():
    a = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    check_parity(F.cosine_similarity, TF.cosine_similarity, a, randn(2, 3))


NORMALIZE_CASES = [(2.0, 1), (1.0, 0), (3.0, -1), (2.0, 0)]


@pytest.mark.parametrize("p,dim", NORMALIZE_CASES)
def test_normalize_gradcheck(p, dim):
    check_grad(lambda t: F.normalize(t, p=p, dim=dim), randn(3, 4))


@requires_torch
@pytest.mark.parametrize("p,dim", NORMALIZE_CASES)
def test_normalize_parity(p, dim):
    x = randn(3, 4)
    x[1] = 0.0  # an all-zero row stays zero, with a finite gradient
    check_parity(lambda t: F.normalize(t, p=p, dim=dim),
                 lambda t: TF.normalize(t, p=p, dim=dim), x)
