"""Elementwise ops: gradients against central differences (float64), values and gradients
against PyTorch (float32), broadcasting, ties, extreme values, integer inputs, reflected
operators and second derivatives."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import retrograd as rg
from helpers import check_grad, check_parity, positive, randn, requires_torch, torch


def nnf():
    """torch.nn.functional, looked up when a test runs (the oracle is optional)."""
    return torch.nn.functional


def sample(domain, shape, seed=0):
    """float64 test data for an op's domain; values stay away from the op's kinks."""
    if domain == "real":
        return randn(*shape, seed=seed, scale=1.5)
    if domain == "wide":  # spans several integers (rounding, softplus threshold, modulo)
        return randn(*shape, seed=seed, scale=4.0)
    if domain == "positive":
        return positive(*shape, seed=seed)
    if domain == "above_minus_one":
        return positive(*shape, seed=seed, low=-0.9, high=2.0)
    if domain == "nonzero":  # |x| in [0.5, 2], either sign: safe divisors
        signs = np.where(np.random.default_rng(seed + 99).random(shape) < 0.5, -1.0, 1.0)
        return positive(*shape, seed=seed) * signs
    if domain == "bool":
        return np.random.default_rng(seed).random(shape) < 0.5
    raise ValueError(domain)


def grad_shapes(fn, *arrays):
    """The shapes of the gradients retrograd gives ``arrays`` (float ones) for ``fn``."""
    inputs = [rg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*inputs)
    out.backward(rg.ones_like(out))
    return [x.grad.shape for x in inputs if x.requires_grad]


def float_shapes(arrays):
    return [a.shape for a in arrays if a.dtype.kind == "f"]


# ----------------------------------------------------------------------------- unary ops
# (id, retrograd function, PyTorch function, input domain)
UNARY = [
    ("neg", rg.neg, lambda x: torch.neg(x), "real"),
    ("neg_operator", lambda x: -x, lambda x: -x, "real"),
    ("exp", rg.exp, lambda x: torch.exp(x), "real"),
    ("expm1", rg.expm1, lambda x: torch.expm1(x), "real"),
    ("log", rg.log, lambda x: torch.log(x), "positive"),
    ("log1p", rg.log1p, lambda x: torch.log1p(x), "above_minus_one"),
    ("log2", rg.log2, lambda x: torch.log2(x), "positive"),
    ("log10", rg.log10, lambda x: torch.log10(x), "positive"),
    ("sqrt", rg.sqrt, lambda x: torch.sqrt(x), "positive"),
    ("rsqrt", rg.rsqrt, lambda x: torch.rsqrt(x), "positive"),
    ("reciprocal", rg.reciprocal, lambda x: torch.reciprocal(x), "nonzero"),
    ("square", rg.square, lambda x: torch.square(x), "real"),
    ("abs", rg.abs, lambda x: torch.abs(x), "real"),
    ("abs_operator", abs, abs, "real"),
    ("sign", rg.sign, lambda x: torch.sign(x), "real"),
    ("sin", rg.sin, lambda x: torch.sin(x), "wide"),
    ("cos", rg.cos, lambda x: torch.cos(x), "wide"),
    ("tanh", rg.tanh, lambda x: torch.tanh(x), "real"),
    ("sigmoid", rg.sigmoid, lambda x: torch.sigmoid(x), "wide"),
    ("erf", rg.erf, lambda x: torch.erf(x), "real"),
    ("relu", rg.relu, lambda x: torch.relu(x), "real"),
    ("leaky_relu", rg.leaky_relu, lambda x: nnf().leaky_relu(x), "real"),
    ("leaky_relu_slope", lambda x: rg.leaky_relu(x, 0.2),
     lambda x: nnf().leaky_relu(x, negative_slope=0.2), "real"),
    ("elu", rg.elu, lambda x: nnf().elu(x), "real"),
    ("elu_alpha", lambda x: rg.elu(x, alpha=0.5), lambda x: nnf().elu(x, alpha=0.5), "real"),
    ("gelu", rg.gelu, lambda x: nnf().gelu(x), "wide"),
    ("gelu_tanh", lambda x: rg.gelu(x, approximate="tanh"),
     lambda x: nnf().gelu(x, approximate="tanh"), "wide"),
    ("silu", rg.silu, lambda x: nnf().silu(x), "wide"),
    ("softplus", rg.softplus, lambda x: nnf().softplus(x), "wide"),
    # beta * x crosses the threshold inside the data: both branches are exercised
    ("softplus_beta_threshold", lambda x: rg.softplus(x, beta=2.0, threshold=3.0),
     lambda x: nnf().softplus(x, beta=2.0, threshold=3.0), "wide"),
    ("floor", rg.floor, lambda x: torch.floor(x), "wide"),
    ("ceil", rg.ceil, lambda x: torch.ceil(x), "wide"),
    ("round", rg.round, lambda x: torch.round(x), "wide"),
    ("round_decimals", lambda x: rg.round(x, decimals=1),
     lambda x: torch.round(x, decimals=1), "wide"),
    ("trunc", rg.trunc, lambda x: torch.trunc(x), "wide"),
    ("clamp", lambda x: rg.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), "real"),
    ("clamp_min", lambda x: rg.clamp(x, min=-0.5), lambda x: torch.clamp(x, min=-0.5), "real"),
    ("clamp_max", lambda x: rg.clamp(x, max=0.7), lambda x: torch.clamp(x, max=0.7), "real"),
    ("clamp_inverted", lambda x: rg.clamp(x, 0.7, -0.5), lambda x: torch.clamp(x, 0.7, -0.5),
     "real"),
    ("clip", lambda x: rg.clip(x, -0.5, 0.7), lambda x: torch.clip(x, -0.5, 0.7), "real"),
]
UNARY_SHAPES = [(), (5,), (2, 3), (2, 1, 3), (0, 3)]
unary_cases = pytest.mark.parametrize("rg_fn, torch_fn, domain",
                                      [case[1:] for case in UNARY],
                                      ids=[case[0] for case in UNARY])


@unary_cases
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary_gradcheck(rg_fn, torch_fn, domain, shape):
    check_grad(rg_fn, sample(domain, shape))


@requires_torch
@unary_cases
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary_matches_torch(rg_fn, torch_fn, domain, shape):
    check_parity(rg_fn, torch_fn, sample(domain, shape))


PIECEWISE_CONSTANT = [rg.sign, rg.floor, rg.ceil, rg.round, rg.trunc]


@pytest.mark.parametrize("fn", PIECEWISE_CONSTANT, ids=lambda f: f.__name__)
def test_piecewise_constant_ops_have_zero_gradient(fn):
    x = rg.tensor(sample("wide", (3, 4)), requires_grad=True)
    y = fn(x)
    assert y.requires_grad  # as in PyTorch: differentiable, with a zero gradient
    y.backward(rg.ones_like(y))
    assert x.grad.shape == x.shape and not np.any(x.grad.numpy())


@requires_torch
def test_rounding_halves_to_even_and_sign_of_special_values():
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, 0.35], np.float32)
    check_parity(rg.round, torch.round, halves)
    check_parity(lambda x: rg.round(x, decimals=1), lambda x: torch.round(x, decimals=1), halves)
    special = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, -3.0], np.float32)
    check_parity(rg.sign, torch.sign, special, grad_mask=[False])  # sign(nan) is 0


# ------------------------------------------------------------------------------- powers
INTEGER_EXPONENTS = [0, 1, 2, 3, -1, -2]
FRACTIONAL_EXPONENTS = [0.5, -0.5, 2.5, 1.0]


@pytest.mark.parametrize("p", INTEGER_EXPONENTS + FRACTIONAL_EXPONENTS)
@pytest.mark.parametrize("shape", [(), (2, 3), (0, 2)], ids=str)
def test_pow_scalar_exponent_gradcheck(p, shape):
    domain = "nonzero" if isinstance(p, int) else "positive"  # negative bases: integer p only
    check_grad(lambda x: x ** p, sample(domain, shape))
    check_grad(lambda x: rg.pow(x, p), sample(domain, shape))


@requires_torch
@pytest.mark.parametrize("p", INTEGER_EXPONENTS + FRACTIONAL_EXPONENTS)
def test_pow_scalar_exponent_matches_torch(p):
    domain = "nonzero" if isinstance(p, int) else "positive"
    check_parity(lambda x: x ** p, lambda x: x ** p, sample(domain, (3, 4)))


@requires_torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 ** negative is inf, on purpose
@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, 2.5, -1, -0.5])
def test_pow_scalar_exponent_at_base_zero_matches_torch(p):
    base = np.array([0.0, 0.0, 1.0, 2.0], np.float32)
    check_parity(lambda x: x ** p, lambda x: x ** p, base)


@requires_torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_tensor_exponent_at_base_zero_and_negative_base_match_torch():
    """y = 0 gives dx = 0 even at x = 0; x = 0 with y >= 0 gives dy = 0; log of a negative
    base is nan for dy, as in PyTorch."""
    base = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -2.0, -2.0], np.float32)
    exponent = np.array([0.0, 2.0, 0.5, -1.0, -1.0, 2.0, 3.0], np.float32)
    check_parity(lambda x, y: x ** y, lambda x, y: x ** y, base, exponent)


@pytest.mark.parametrize("exponent", [np.float64(2.0), np.float32(0.5), np.int64(3)],
                         ids=lambda e: type(e).__name__)
def test_pow_with_numpy_scalar_exponent_keeps_float32(exponent):
    x = rg.tensor(positive(4, dtype=np.float32), requires_grad=True)
    y = x ** exponent
    y.backward(rg.ones_like(y))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() ** float(exponent),
                               rtol=1e-6)


# --------------------------------------------------------------------------- binary ops
# (id, retrograd function, PyTorch function, domains of the operands)
BINARY = [
    ("add", rg.add, lambda x, y: torch.add(x, y), ("real", "real")),
    ("add_alpha", lambda x, y: rg.add(x, y, alpha=2.5),
     lambda x, y: torch.add(x, y, alpha=2.5), ("real", "real")),
    ("sub", rg.sub, lambda x, y: torch.sub(x, y), ("real", "real")),
    ("sub_alpha", lambda x, y: rg.sub(x, y, alpha=-2),
     lambda x, y: torch.sub(x, y, alpha=-2), ("real", "real")),
    ("mul", rg.mul, lambda x, y: torch.mul(x, y), ("real", "real")),
    ("div", rg.div, lambda x, y: torch.div(x, y), ("real", "nonzero")),
    ("div_trunc", lambda x, y: rg.div(x, y, rounding_mode="trunc"),
     lambda x, y: torch.div(x, y, rounding_mode="trunc"), ("wide", "nonzero")),
    ("div_floor", lambda x, y: rg.div(x, y, rounding_mode="floor"),
     lambda x, y: torch.div(x, y, rounding_mode="floor"), ("wide", "nonzero")),
    ("pow", rg.pow, lambda x, y: torch.pow(x, y), ("positive", "real")),
    ("maximum", rg.maximum, lambda x, y: torch.maximum(x, y), ("real", "real")),
    ("minimum", rg.minimum, lambda x, y: torch.minimum(x, y), ("real", "real")),
    ("remainder", rg.remainder, lambda x, y: torch.remainder(x, y), ("wide", "nonzero")),
    ("fmod", rg.fmod, lambda x, y: torch.fmod(x, y), ("wide", "nonzero")),
    ("lerp_scalar_weight", lambda x, y: rg.lerp(x, y, 0.3),
     lambda x, y: torch.lerp(x, y, 0.3), ("real", "real")),
    ("clamp_tensor_min", lambda x, y: rg.clamp(x, min=y),
     lambda x, y: torch.clamp(x, min=y), ("real", "real")),
    ("clamp_tensor_max", lambda x, y: rg.clamp(x, max=y),
     lambda x, y: torch.clamp(x, max=y), ("real", "real")),
]
TERNARY = [
    ("lerp", rg.lerp, lambda x, y, w: torch.lerp(x, y, w), ("real", "real", "real")),
    ("where", rg.where, lambda c, x, y: torch.where(c, x, y), ("bool", "real", "real")),
]
BINARY_SHAPES = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 3), ()),
                 ((0, 3), (3,)), ((2, 3), (2, 3))]
TERNARY_SHAPES = [((3, 1), (1, 4), (4,)), ((2, 3, 4), (4,), (3, 1)), ((), (2, 3), ()),
                  ((0, 3), (3,), (1, 3))]
binary_cases = pytest.mark.parametrize("rg_fn, torch_fn, domains", [c[1:] for c in BINARY],
                                       ids=[c[0] for c in BINARY])
ternary_cases = pytest.mark.parametrize("rg_fn, torch_fn, domains", [c[1:] for c in TERNARY],
                                        ids=[c[0] for c in TERNARY])


def operands(domains, shapes):
    return [sample(d, s, seed=i) for i, (d, s) in enumerate(zip(domains, shapes))]


@binary_cases
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary_gradcheck(rg_fn, torch_fn, domains, shapes):
    check_grad(rg_fn, *operands(domains, shapes))


@requires_torch
@binary_cases
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary_matches_torch(rg_fn, torch_fn, domains, shapes):
    arrays = operands(domains, shapes)
    check_parity(rg_fn, torch_fn, *arrays)
    assert grad_shapes(rg_fn, *arrays) == float_shapes(arrays)


@ternary_cases
@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
def test_ternary_gradcheck(rg_fn, torch_fn, domains, shapes):
    check_grad(rg_fn, *operands(domains, shapes))


@requires_torch
@ternary_cases
@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
def test_ternary_matches_torch(rg_fn, torch_fn, domains, shapes):
    arrays = operands(domains, shapes)
    check_parity(rg_fn, torch_fn, *arrays)
    assert grad_shapes(rg_fn, *arrays) == float_shapes(arrays)


def clamp_between(x, lo, hi):
    return rg.clamp(x, lo - 1, hi + 1)  # bounds around [-1, 1], x spread wider


CLAMP_DOMAINS = ("wide", "real", "real")


@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
def test_clamp_tensor_bounds_gradcheck(shapes):
    check_grad(clamp_between, *operands(CLAMP_DOMAINS, shapes))


# PyTorch's clamp backward fails when both bounds are tensors and x alone lacks the broadcast
# shape (retrograd handles that, see the gradcheck above): here x has the full shape.
@requires_torch
@pytest.mark.parametrize("shapes", [((3, 4), (3, 1), (4,)), ((2, 3), (), (2, 3)),
                                    ((2, 3, 4), (4,), (3, 1)), ((0, 3), (3,), (1, 3))], ids=str)
def test_clamp_tensor_bounds_matches_torch(shapes):
    arrays = operands(CLAMP_DOMAINS, shapes)
    check_parity(clamp_between, lambda x, lo, hi: torch.clamp(x, lo - 1, hi + 1), *arrays)
    assert grad_shapes(clamp_between, *arrays) == float_shapes(arrays)


# Random broadcastable shapes: the gradients reduced to each input's shape match PyTorch's.
BROADCASTING = {c[0]: c[1:] for c in BINARY if c[0] in
                ("add", "sub", "mul", "div", "pow", "maximum", "minimum")}


@requires_torch
@pytest.mark.parametrize("name", sorted(BROADCASTING))
@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_random_broadcasting_matches_torch(name, shapes, seed):
    rg_fn, torch_fn, domains = BROADCASTING[name]
    arrays = [sample(d, s, seed=seed + i)
              for i, (d, s) in enumerate(zip(domains, shapes.input_shapes))]
    check_parity(rg_fn, torch_fn, *arrays)
    assert grad_shapes(rg_fn, *arrays) == float_shapes(arrays)


@requires_torch
@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_where_random_broadcasting_matches_torch(shapes, seed):
    arrays = [sample(d, s, seed=seed + i)
              for i, (d, s) in enumerate(zip(("bool", "real", "real"), shapes.input_shapes))]
    check_parity(rg.where, torch.where, *arrays)
    assert grad_shapes(rg.where, *arrays) == float_shapes(arrays)


@requires_torch
@pytest.mark.parametrize("rg_fn, torch_fn", [(rg.floor_divide, lambda x, y: x // y),
                                             (lambda x, y: x // y, lambda x, y: x // y)],
                         ids=["floor_divide", "operator"])
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_floor_divide_matches_torch(rg_fn, torch_fn, shapes):
    # PyTorch refuses to differentiate floor_divide, so only values are compared; retrograd
    # gives it a zero gradient, like div(..., rounding_mode="floor").
    x, y = operands(("wide", "nonzero"), shapes)
    check_parity(rg_fn, torch_fn, x, y, grad_mask=[False, False])
    assert all(shape == s for shape, s in zip(grad_shapes(rg_fn, x, y), (x.shape, y.shape)))


def test_floor_divide_gradient_is_zero():
    x = rg.tensor(sample("wide", (2, 3)), requires_grad=True)
    y = rg.tensor(sample("nonzero", (3,)), requires_grad=True)
    out = rg.floor_divide(x, y)
    out.backward(rg.ones_like(out))
    assert not np.any(x.grad.numpy()) and not np.any(y.grad.numpy())


@requires_torch
def test_remainder_and_fmod_signs_match_torch():
    """remainder takes the divisor's sign (Python's %), fmod the dividend's (C's fmod)."""
    x = np.array([5.5, -5.5, 5.5, -5.5, 3.0, -3.0], np.float32)
    y = np.array([2.0, 2.0, -2.0, -2.0, 1.5, 1.5], np.float32)
    for rg_fn, torch_fn in [(rg.remainder, torch.remainder), (rg.fmod, torch.fmod),
                            (lambda a, b: a % b, lambda a, b: a % b)]:
        check_parity(rg_fn, torch_fn, x, y)


# ----------------------------------------------------------------- ties, bounds and masks
@requires_torch
@pytest.mark.parametrize("rg_fn, torch_fn", [(rg.maximum, lambda x, y: torch.maximum(x, y)),
                                             (rg.minimum, lambda x, y: torch.minimum(x, y))],
                         ids=["maximum", "minimum"])
def test_maximum_minimum_split_ties_evenly(rg_fn, torch_fn):
    x = np.array([1.0, 2.0, 3.0, 4.0, -1.0], np.float32)
    y = np.array([1.0, 0.0, 3.0, 5.0, -1.0], np.float32)
    check_parity(rg_fn, torch_fn, x, y)
    # with broadcasting, ties spread over the broadcast dimension
    check_parity(rg_fn, torch_fn, np.ones((3, 1), np.float32),
                 np.array([1.0, 0.0, 2.0, 1.0], np.float32))
    xs, ys = rg.tensor([2.0], requires_grad=True), rg.tensor([2.0], requires_grad=True)
    out = rg_fn(xs, ys)
    out.backward(rg.ones_like(out))
    assert xs.grad.item() == ys.grad.item() == 0.5


@requires_torch
def test_clamp_tensor_bounds_ties_and_inverted_bounds_match_torch():
    """On a tie the gradient goes to x; with lo > hi the result and the gradient are hi's."""
    x = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 4.0, -1.0], np.float32)
    lo = np.array([0.0, 0.5, 2.5, 3.0, 1.0, 5.0, 0.0], np.float32)
    hi = np.array([1.0, 1.0, 2.5, 3.0, 0.0, 4.5, -2.0], np.float32)
    check_parity(lambda a, b, c: rg.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c),
                 x, lo, hi)
    check_parity(lambda a, b: rg.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), x, lo)
    check_parity(lambda a, c: rg.clamp(a, max=c), lambda a, c: torch.clamp(a, max=c), x, hi)
    check_parity(lambda a: rg.clamp(a, 0.0, 3.0), lambda a: torch.clamp(a, 0.0, 3.0), x)


@requires_torch
def test_clamp_propagates_nan():
    x = np.array([np.nan, 1.0, 5.0], np.float32)
    check_parity(lambda a: rg.clamp(a, 0.0, 2.0), lambda a: torch.clamp(a, 0.0, 2.0), x,
                 grad_mask=[False])
    check_parity(lambda a: rg.clamp(a, min=float("nan")),
                 lambda a: torch.clamp(a, min=float("nan")), x, grad_mask=[False])


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="clamp"):
        rg.clamp(rg.tensor([1.0]))


@requires_torch
@pytest.mark.parametrize("x, lo, hi", [
    (np.array([1, 5, 9]), 2, 7),
    (np.array([1, 5, 9]), 2.5, None),
    (np.array([1.0, 5.0], np.float32), np.array(2.0), None),
    (np.array([1.0, 5.0], np.float32), np.array([2.0, 2.0]), None),
    (np.array([1, 5]), None, np.array(2.5, np.float32)),
], ids=["int_int", "int_float", "f32_f64_0d", "f32_f64_dim", "int_f32_0d"])
def test_clamp_promotes_like_torch(x, lo, hi):
    def bound(b, make):
        return make(b) if isinstance(b, np.ndarray) else b
    out = rg.clamp(rg.tensor(x), bound(lo, rg.tensor), bound(hi, rg.tensor))
    expected = torch.clamp(torch.tensor(x), bound(lo, torch.tensor), bound(hi, torch.tensor))
    assert out.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@requires_torch
def test_where_with_scalars_and_a_single_branch_needing_grad():
    cond = np.array([True, False, True])
    x = sample("real", (3,))
    check_parity(lambda c, a: rg.where(c, a, 0.0), lambda c, a: torch.where(c, a, 0.0), cond, x)
    check_parity(lambda c, a: rg.where(c, 2.0, a), lambda c, a: torch.where(c, 2.0, a), cond, x)
    out = rg.where(rg.tensor(cond), 1.0, 0.0)
    assert out.dtype == np.float32 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0, 1.0])


def test_where_gives_zero_gradient_to_unselected_entries():
    a = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = rg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    out = rg.where(rg.tensor([True, False, True]), a, b)
    out.backward(rg.tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad.numpy(), [10.0, 0.0, 30.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 20.0, 0.0])


# ------------------------------------------------------------------------ extreme values
STABLE = [
    ("sigmoid", rg.sigmoid, lambda x: torch.sigmoid(x)),
    ("tanh", rg.tanh, lambda x: torch.tanh(x)),
    ("softplus", rg.softplus, lambda x: nnf().softplus(x)),
    ("softplus_beta", lambda x: rg.softplus(x, beta=0.5, threshold=50.0),
     lambda x: nnf().softplus(x, beta=0.5, threshold=50.0)),
    ("gelu", rg.gelu, lambda x: nnf().gelu(x)),
    ("gelu_tanh", lambda x: rg.gelu(x, approximate="tanh"),
     lambda x: nnf().gelu(x, approximate="tanh")),
    ("silu", rg.silu, lambda x: nnf().silu(x)),
    ("elu", rg.elu, lambda x: nnf().elu(x)),
    ("erf", rg.erf, lambda x: torch.erf(x)),
    ("leaky_relu", rg.leaky_relu, lambda x: nnf().leaky_relu(x)),
]
EXTREMES = np.array([-1e4, -200.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 200.0, 1e4], np.float32)


@pytest.mark.filterwarnings("error")  # no overflow or invalid-value warnings either
@pytest.mark.parametrize("rg_fn, torch_fn", [c[1:] for c in STABLE], ids=[c[0] for c in STABLE])
def test_activations_are_finite_at_extreme_values(rg_fn, torch_fn):
    x = rg.tensor(EXTREMES, requires_grad=True)
    y = rg_fn(x)
    y.backward(rg.ones_like(y))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(x.grad.numpy()))


@requires_torch
@pytest.mark.parametrize("rg_fn, torch_fn", [c[1:] for c in STABLE], ids=[c[0] for c in STABLE])
def test_activations_match_torch_at_extreme_values(rg_fn, torch_fn):
    check_parity(rg_fn, torch_fn, EXTREMES)


# ------------------------------------------------------------------ reflected operators
SCALAR_OPERATORS = [
    ("radd", lambda x: 2 + x), ("rsub", lambda x: 2 - x), ("rsub_float", lambda x: 2.5 - x),
    ("rmul", lambda x: 3 * x), ("rtruediv", lambda x: 2 / x), ("rpow", lambda x: 2 ** x),
    ("rpow_float", lambda x: 0.5 ** x),
    ("numpy_float64_rmul", lambda x: np.float64(2.0) * x),
    ("numpy_float64_rsub", lambda x: np.float64(2.0) - x),
    ("numpy_float32_rtruediv", lambda x: np.float32(2.0) / x),
    ("numpy_int64_radd", lambda x: np.int64(3) + x),
    # a Python number on the right: the *Constant ops (no tensor is made for the number)
    ("add_float", lambda x: x + 0.25), ("add_int", lambda x: x + 3), ("sub_float", lambda x: x - 1.5),
    ("sub_int", lambda x: x - 2), ("mul_float", lambda x: x * -0.75), ("mul_int", lambda x: x * 3),
    ("truediv_float", lambda x: x / 0.3), ("truediv_int", lambda x: x / 7),
    ("add_alpha", lambda x: rg.add(x, 2.0, alpha=3) if isinstance(x, rg.Tensor)
     else torch.add(x, 2.0, alpha=3)),
]
scalar_operator_cases = pytest.mark.parametrize("fn", [c[1] for c in SCALAR_OPERATORS],
                                                ids=[c[0] for c in SCALAR_OPERATORS])


@requires_torch
@scalar_operator_cases
def test_reflected_operators_with_scalars_match_torch(fn):
    check_parity(fn, fn, sample("nonzero", (2, 3)))


@scalar_operator_cases
def test_reflected_operators_with_scalars_gradcheck(fn):
    check_grad(fn, sample("nonzero", (2, 3)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", [lambda x: x + 2, lambda x: 2.5 * x, lambda x: x - 0.1,
                                lambda x: x / 3], ids=["add", "rmul", "sub", "truediv"])
def test_python_numbers_keep_a_floating_tensors_dtype(op, dtype):
    x = rg.tensor(np.array([0.5, -2.0], dtype=dtype), requires_grad=True)
    y = op(x)
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_python_floats_promote_integer_tensors_to_the_default_float(dtype):
    x = rg.tensor(np.array([1, 0], dtype=dtype))
    assert (x * 0.5).dtype == rg.float32 and (x + 1.5).dtype == rg.float32


def test_constant_ops_differentiate_twice():
    x = rg.tensor([1.0, -2.0], dtype=rg.float64, requires_grad=True)
    (g,) = rg.autograd.grad(((x * 3.0) ** 2 / 2.0 + 1).sum(), x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 9.0 * x.detach().numpy())
    np.testing.assert_allclose(gg.numpy(), [9.0, 9.0])


@requires_torch
def test_reflected_floor_division_matches_torch():
    # values only: PyTorch refuses to differentiate floor division
    check_parity(lambda x: 7 // x, lambda x: 7 // x, sample("nonzero", (2, 3)),
                 grad_mask=[False])


ARRAY_OPERATORS = [
    ("rmul", lambda a, x: a * x), ("radd", lambda a, x: a + x), ("rsub", lambda a, x: a - x),
    ("rtruediv", lambda a, x: a / x), ("rpow", lambda a, x: a ** x),
    ("sub", lambda a, x: x - a), ("truediv", lambda a, x: x / a),
]


@requires_torch
@pytest.mark.parametrize("array_dtype", [np.float64, np.float32, np.int64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", [c[1] for c in ARRAY_OPERATORS],
                         ids=[c[0] for c in ARRAY_OPERATORS])
def test_numpy_array_operands_act_as_tensors(op, array_dtype):
    """``ndarray (op) tensor`` is computed by the tensor (an ndarray counts as a tensor of its
    dtype, broadcast as usual); PyTorch spells it ``torch.from_numpy(a) (op) tensor``."""
    a = (positive(3, 1, seed=5) * 3).astype(array_dtype)
    check_parity(lambda x: op(a, x), lambda x: op(torch.from_numpy(a), x),
                 sample("positive", (4,)))


# ----------------------------------------------------------------- comparisons and tests
COMPARISONS = [
    ("eq", rg.eq, lambda x, y: torch.eq(x, y)), ("ne", rg.ne, lambda x, y: torch.ne(x, y)),
    ("lt", rg.lt, lambda x, y: torch.lt(x, y)), ("le", rg.le, lambda x, y: torch.le(x, y)),
    ("gt", rg.gt, lambda x, y: torch.gt(x, y)), ("ge", rg.ge, lambda x, y: torch.ge(x, y)),
    ("==", lambda x, y: x == y, lambda x, y: x == y),
    ("!=", lambda x, y: x != y, lambda x, y: x != y),
    ("<", lambda x, y: x < y, lambda x, y: x < y),
    ("<=", lambda x, y: x <= y, lambda x, y: x <= y),
    (">", lambda x, y: x > y, lambda x, y: x > y),
    (">=", lambda x, y: x >= y, lambda x, y: x >= y),
    ("logical_and", rg.logical_and, lambda x, y: torch.logical_and(x, y)),
    ("logical_or", rg.logical_or, lambda x, y: torch.logical_or(x, y)),
    ("logical_xor", rg.logical_xor, lambda x, y: torch.logical_xor(x, y)),
]
comparison_cases = pytest.mark.parametrize("rg_fn, torch_fn", [c[1:] for c in COMPARISONS],
                                           ids=[c[0] for c in COMPARISONS])


def small_integers(shape, seed, dtype=np.float32):
    """Values in {-1, 0, 1}: comparisons meet plenty of equal pairs."""
    return np.random.default_rng(seed).integers(-1, 2, shape).astype(dtype)


@requires_torch
@comparison_cases
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_comparisons_match_torch(rg_fn, torch_fn, shapes):
    check_parity(rg_fn, torch_fn, small_integers(shapes[0], 0), small_integers(shapes[1], 1))


@requires_torch
@pytest.mark.parametrize("rg_fn, torch_fn", [c[1:] for c in COMPARISONS[:12]],
                         ids=[c[0] for c in COMPARISONS[:12]])  # torch.logical_* want tensors
@pytest.mark.parametrize("other", [0, 0.0, 1, -0.5, True], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_comparisons_with_scalars_match_torch(rg_fn, torch_fn, other, dtype):
    check_parity(lambda x: rg_fn(x, other), lambda x: torch_fn(x, other),
                 small_integers((2, 3), 2, dtype))


@comparison_cases
def test_comparisons_are_boolean_and_not_differentiable(rg_fn, torch_fn):
    x = rg.tensor(sample("real", (2, 3)), requires_grad=True)
    out = rg_fn(x, rg.tensor(0.0))
    assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None


TESTS = [
    ("isnan", rg.isnan, lambda x: torch.isnan(x)),
    ("isinf", rg.isinf, lambda x: torch.isinf(x)),
    ("isfinite", rg.isfinite, lambda x: torch.isfinite(x)),
    ("logical_not", rg.logical_not, lambda x: torch.logical_not(x)),
]


@requires_torch
@pytest.mark.parametrize("rg_fn, torch_fn", [c[1:] for c in TESTS], ids=[c[0] for c in TESTS])
@pytest.mark.parametrize("values", [
    np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 2.0], np.float32),
    np.array([[0, 3], [-2, 0]]),
    np.array([True, False]),
    np.zeros((0, 2), np.float32),
], ids=["float", "int", "bool", "empty"])
def test_predicates_match_torch(rg_fn, torch_fn, values):
    check_parity(rg_fn, torch_fn, values, grad_mask=[False])


@requires_torch
def test_boolean_operators_bitwise_not_and_closeness_match_torch():
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y):
        check_parity(op, op, a, b)
    check_parity(lambda x: ~x, lambda x: ~x, a)
    check_parity(lambda x: ~x, lambda x: ~x, np.array([0, 5, -3]))
    check_parity(rg.bitwise_not, torch.bitwise_not, np.array([0, 5, -3], np.int32))
    x = np.array([1.0, 2.0, np.nan, 4.0], np.float32)
    y = np.array([1.0 + 1e-7, 2.1, np.nan, 4.0], np.float32)
    for equal_nan in (False, True):
        kw = dict(rtol=1e-5, atol=1e-8, equal_nan=equal_nan)
        check_parity(lambda p, q: rg.isclose(p, q, **kw), lambda p, q: torch.isclose(p, q, **kw),
                     x, y, grad_mask=[False, False])
        assert rg.allclose(rg.tensor(x), rg.tensor(y), **kw) == torch.allclose(
            torch.tensor(x), torch.tensor(y), **kw)
    assert rg.equal(rg.tensor(x[:2]), rg.tensor(x[:2]))
    assert not rg.equal(rg.tensor(x[:2]), rg.tensor(x[:3]))
    assert not rg.equal(rg.tensor(x[:2]), rg.tensor(y[:2]))


# -------------------------------------------------------------- integer and bool inputs
def _integer_binary(name):
    """The op for both frameworks (``lib`` is the module: retrograd or torch)."""
    return {
        "add": lambda lib, x, y: lib.add(x, y, alpha=2),
        "sub": lambda lib, x, y: lib.sub(x, y),
        "mul": lambda lib, x, y: lib.mul(x, y),
        "true_div": lambda lib, x, y: lib.div(x, y),
        "div_trunc": lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
        "div_floor": lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
        "floor_divide": lambda lib, x, y: lib.floor_divide(x, y),
        "remainder": lambda lib, x, y: lib.remainder(x, y),
        "fmod": lambda lib, x, y: lib.fmod(x, y),
        "maximum": lambda lib, x, y: lib.maximum(x, y),
        "minimum": lambda lib, x, y: lib.minimum(x, y),
        "pow": lambda lib, x, y: lib.pow(x, lib.abs(y)),
        "clamp": lambda lib, x, y: lib.clamp(x, min=y),
        "where": lambda lib, x, y: lib.where(x > 0, x, y),
    }[name]


INTEGER_BINARY = ["add", "sub", "mul", "true_div", "div_trunc", "div_floor", "floor_divide",
                  "remainder", "fmod", "maximum", "minimum", "pow", "clamp", "where"]


@requires_torch
@pytest.mark.parametrize("name", INTEGER_BINARY)
@pytest.mark.parametrize("dtypes", [(np.int64, np.int64), (np.int32, np.int64),
                                    (np.int64, np.float32), (np.int16, np.int8)],
                         ids=lambda d: f"{np.dtype(d[0]).name}-{np.dtype(d[1]).name}")
def test_integer_operands_match_torch(name, dtypes):
    fn = _integer_binary(name)
    x = np.array([[7, -7, 3], [0, 5, -4]], dtypes[0])
    y = np.array([2, 3, -2], dtypes[1])  # no zero divisors
    check_parity(lambda a, b: fn(rg, a, b), lambda a, b: fn(torch, a, b), x, y,
                 grad_mask=[False, False])


@requires_torch
@pytest.mark.parametrize("name", ["neg", "abs", "sign", "relu", "square", "floor", "round",
                                  "exp", "log1p", "sqrt", "sin", "tanh", "sigmoid", "erf",
                                  "reciprocal", "rsqrt", "expm1"])
def test_integer_inputs_of_unary_ops_match_torch(name):
    x = np.array([1, 4, 9, 2]) if name in ("sqrt", "rsqrt", "reciprocal", "log1p") else np.array(
        [-3, 0, 2, 5])
    check_parity(getattr(rg, name), getattr(torch, name), x)


@pytest.mark.parametrize("fn", [rg.gelu, rg.silu, rg.softplus, rg.elu, rg.leaky_relu],
                         ids=lambda f: f.__name__)
def test_activations_reject_integer_tensors(fn):
    with pytest.raises(RuntimeError, match=f"{fn.__name__}: expected a floating point tensor"):
        fn(rg.tensor([1, 2]))


@pytest.mark.parametrize("op, name", [
    (rg.floor_divide, "floor_divide"), (rg.remainder, "remainder"), (rg.fmod, "fmod"),
    (lambda x, y: rg.div(x, y, rounding_mode="trunc"), "div"),
    (lambda x, y: rg.div(x, y, rounding_mode="floor"), "floor_divide"),
    (lambda x, y: x // y, "floor_divide"), (lambda x, y: x % y, "remainder"),
])
def test_integer_division_by_zero_raises(op, name):
    with pytest.raises(RuntimeError, match=f"{name}: integer division by zero"):
        op(rg.tensor([4, 5]), rg.tensor([2, 0]))


def test_integer_to_negative_integer_power_raises():
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        rg.tensor([1, 2]) ** -1
    out = rg.tensor([1, 2]) ** 0.5  # a float exponent gives the default float dtype
    assert out.dtype == np.float32


@requires_torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy notes the division by zero
def test_float_division_by_zero_gives_inf_and_nan_like_torch():
    x = np.array([1.0, -1.0, 0.0, 2.0], np.float32)
    y = np.array([0.0, 0.0, 0.0, -0.0], np.float32)
    for rg_fn, torch_fn in [(rg.div, torch.div), (rg.floor_divide, torch.floor_divide),
                            (rg.remainder, torch.remainder), (rg.fmod, torch.fmod)]:
        check_parity(rg_fn, torch_fn, x, y, grad_mask=[False, False])


# ------------------------------------------------------------------- second derivatives
SECOND_ORDER = [
    ("mul", lambda x, y: x * y, ("real", "real")),
    ("div", lambda x, y: x / y, ("real", "nonzero")),
    ("pow", lambda x, y: x ** y, ("positive", "real")),
    ("maximum", rg.maximum, ("real", "real")),
    ("where", lambda x, y: rg.where(x > 0, x * x, y * x), ("real", "real")),
    ("lerp", lambda x, y: rg.lerp(x, y, y), ("real", "real")),
    ("clamp_tensor", lambda x, y: rg.clamp(x * y, min=y), ("real", "real")),
    ("remainder", lambda x, y: rg.remainder(x * x, y), ("wide", "nonzero")),
]
SECOND_ORDER_UNARY = ["exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "reciprocal",
                      "square", "abs", "sin", "cos", "tanh", "sigmoid", "erf", "elu", "gelu",
                      "silu", "softplus", "leaky_relu", "relu"]


@pytest.mark.parametrize("name", SECOND_ORDER_UNARY)
def test_unary_second_derivatives(name):
    domain = next(c[3] for c in UNARY if c[0] == name)
    fn = getattr(rg, name)
    x = rg.tensor(sample(domain, (2, 3)), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: fn(t) * t, (x,))
    if name == "gelu":
        assert rg.autograd.gradgradcheck(lambda t: rg.gelu(t, approximate="tanh"), (x,))


@pytest.mark.parametrize("fn, domains", [c[1:] for c in SECOND_ORDER],
                         ids=[c[0] for c in SECOND_ORDER])
def test_binary_second_derivatives(fn, domains):
    x, y = (rg.tensor(a, requires_grad=True) for a in operands(domains, [(2, 3), (3,)]))
    assert rg.autograd.gradgradcheck(fn, (x, y))


@pytest.mark.parametrize("p", [2, 3, -1, 0.5])
def test_pow_scalar_second_derivative(p):
    x = rg.tensor(sample("positive", (4,)), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: t ** p, (x,))


# ------------------------------------------------------------------------- the namespace
def test_functional_api_is_exposed_at_top_level():
    from retrograd.ops import elementwise
    for name in elementwise.__all__:
        assert getattr(rg, name) is getattr(elementwise, name), name
    for name in ("exp", "add", "where", "clamp", "maximum", "eq", "isnan", "sigmoid", "relu",
                 "gelu", "lerp", "fmod", "logical_xor"):
        assert name in elementwise.__all__
    assert not any(name[0].isupper() for name in elementwise.__all__)  # no Function classes
    assert not {"np", "math", "builtins", "coerce", "Tensor"} & set(elementwise.__all__)
