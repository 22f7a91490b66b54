"""dtype rules, checked against PyTorch: what creation infers, how binary ops promote, that
float32 stays float32 through every op, and which dtypes the creation functions produce."""
import numpy as np
import pytest

import retrograd as rg
from retrograd.ops._util import promote_types, result_type
from helpers import positive, randn, requires_torch, torch


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


@pytest.fixture
def default_float64():
    """Switches both frameworks' default dtype to float64 for one test."""
    rg.set_default_dtype(rg.float64)
    if torch is not None:
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        rg.set_default_dtype(rg.float32)
        if torch is not None:
            torch.set_default_dtype(torch.float32)


# ----------------------------------------------------------------------------- creation
CREATION_DATA = [
    ("float", 1.5), ("floats", [1.0, 2.0]), ("nested_floats", [[1.0, 2.0], [3.0, 4.0]]),
    ("int", 3), ("ints", [1, 2]), ("bool", True), ("bools", [True, False]),
    ("bool_and_int", [True, 1]), ("int_and_float", [1, 2.0]), ("mixed_nested", [[1, 2], [3.0, 4]]),
    ("empty", []), ("empty_nested", [[]]), ("complex", 1j), ("complex_list", [1, 2j]),
    ("numpy_float64_scalar", np.float64(1.0)), ("numpy_float32_scalar", np.float32(1.0)),
    ("numpy_int64_scalar", np.int64(3)), ("numpy_bool_scalar", np.bool_(True)),
    ("numpy_float64_scalar_in_list", [np.float64(1.0), 2]),
    ("numpy_float32_scalar_in_list", [np.float32(1.0), 2.5]),
    ("numpy_int32", np.array([1, 2], np.int32)), ("numpy_float64", np.array([1.5, 2.5])),
    ("numpy_float16", np.array([1.5], np.float16)), ("numpy_uint8", np.array([1, 255], np.uint8)),
    ("numpy_0d_float64", np.array(2.0)), ("numpy_bool", np.array([True, False])),
    ("tuple", (1.0, 2.0)),
]


@requires_torch
@pytest.mark.parametrize("data", [c[1] for c in CREATION_DATA], ids=[c[0] for c in CREATION_DATA])
def test_tensor_infers_dtypes_like_torch(data):
    ours, theirs = rg.tensor(data), torch.tensor(data)
    assert str(ours.dtype) == torch_dtype_name(theirs)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_python_floats_become_float32_ints_int64_bools_bool():
    assert rg.tensor(1.5).dtype == rg.float32
    assert rg.tensor([[1.0, 2.0]]).dtype == rg.float32
    assert rg.tensor([1, 2]).dtype == rg.int64
    assert rg.tensor([True]).dtype == rg.bool
    assert rg.tensor(np.float64(1.0)).dtype == rg.float64  # NumPy scalars keep their dtype
    assert rg.tensor(np.arange(3, dtype=np.int16)).dtype == rg.int16


def test_tensors_inside_lists_keep_their_dtype():
    t = rg.tensor([rg.tensor(1.5, dtype=rg.float64), rg.tensor(2.5, dtype=rg.float64)])
    assert t.dtype == rg.float64 and t.tolist() == [1.5, 2.5]
    assert rg.tensor([rg.tensor(1.5), rg.tensor(2.5)]).dtype == rg.float32


@requires_torch
@pytest.mark.parametrize("data", [[1.7, -2.7], [1, 2], [True, False], np.array([1.5, 2.5])],
                         ids=["floats", "ints", "bools", "numpy"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8",
                                   "bool"])
def test_dtype_argument_converts_like_torch(data, dtype):
    if dtype == "uint8" and np.any(np.asarray(data) < 0):
        pytest.skip("negative floats to uint8 is undefined behaviour in C")
    ours = rg.tensor(data, dtype=getattr(rg, dtype))
    theirs = torch.tensor(data, dtype=getattr(torch, dtype))
    assert str(ours.dtype) == torch_dtype_name(theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dtype_names_and_numpy_dtypes_are_accepted():
    assert rg.tensor([1], dtype="float64").dtype == rg.float64
    assert rg.tensor([1], dtype=np.int32).dtype == rg.int32
    assert rg.zeros(2, dtype=rg.long).dtype == rg.int64
    assert rg.ones(2, dtype=rg.double).dtype == rg.float64


@requires_torch
def test_default_dtype_float64_changes_inference(default_float64):
    for data in (1.5, [1.0, 2.0], [1, 2.5], 1j):
        assert str(rg.tensor(data).dtype) == torch_dtype_name(torch.tensor(data))
    assert (rg.tensor([1, 2]) * 0.5).dtype == rg.float64
    assert (rg.tensor([1, 2]) / rg.tensor([2, 2])).dtype == rg.float64
    assert rg.zeros(2).dtype == rg.float64 and rg.arange(0.0, 1.0, 0.5).dtype == rg.float64


# ---------------------------------------------------------------------------- promotion
def make(kind, dtype):
    """An operand of some kind in the given framework-neutral dtype: a dimensioned tensor,
    a 0-d tensor, or a Python scalar."""
    if kind == "dim":
        return np.ones(2, dtype)
    if kind == "0d":
        return np.ones((), dtype)
    return dtype  # Python scalar given directly


def as_framework(lib, value):
    return lib.tensor(value) if isinstance(value, np.ndarray) else value


# (id, first operand, second operand): operands are ndarrays (-> tensors) or scalars
PROMOTION_PAIRS = [
    ("f32_pyfloat", np.ones(2, np.float32), 2.5),
    ("f32_pyint", np.ones(2, np.float32), 2),
    ("f16_pyfloat", np.ones(2, np.float16), 2.5),
    ("i64_pyfloat", np.ones(2, np.int64), 2.5),
    ("i32_pyint", np.ones(2, np.int32), 2),
    ("bool_pyint", np.ones(2, bool), 2),
    ("bool_pybool", np.ones(2, bool), True),
    ("f32_f64_0d", np.ones(2, np.float32), np.ones((), np.float64)),
    ("f32_f64_dim", np.ones(2, np.float32), np.ones(2, np.float64)),
    ("f64_0d_f32_0d", np.ones((), np.float64), np.ones((), np.float32)),
    ("i64_f32_0d", np.ones(2, np.int64), np.ones((), np.float32)),
    ("i32_f64_0d", np.ones(2, np.int32), np.ones((), np.float64)),
    ("i32_i64_0d", np.ones(2, np.int32), np.ones((), np.int64)),
    ("int_bool", np.ones(2, np.int64), np.ones(2, bool)),
    ("i32_i64", np.ones(2, np.int32), np.ones(2, np.int64)),
    ("u8_i8", np.ones(2, np.uint8), np.ones(2, np.int8)),
    ("i32_f16", np.ones(2, np.int32), np.ones(2, np.float16)),
    ("i64_f32", np.ones(2, np.int64), np.ones(2, np.float32)),
    ("f16_f64_0d", np.ones(2, np.float16), np.ones((), np.float64)),
    ("i16_f16_0d", np.ones(2, np.int16), np.ones((), np.float16)),
    ("f32_complex", np.ones(2, np.float32), 1j),
    ("f64_complex", np.ones(2, np.float64), 1j),
    ("f32_numpy_float64", np.ones(2, np.float32), np.float64(2.0)),
    ("f32_0d_numpy_float64", np.ones((), np.float32), np.float64(2.0)),
    ("i64_numpy_float64", np.ones(2, np.int64), np.float64(2.0)),
    ("f16_numpy_float32", np.ones(2, np.float16), np.float32(2.0)),
    ("i32_numpy_int64", np.ones(2, np.int32), np.int64(2)),
    ("i8_0d_numpy_int64", np.ones((), np.int8), np.int64(2)),
]
promotion_cases = pytest.mark.parametrize("a, b", [c[1:] for c in PROMOTION_PAIRS],
                                          ids=[c[0] for c in PROMOTION_PAIRS])


@requires_torch
@promotion_cases
@pytest.mark.parametrize("op", ["add", "mul", "sub", "maximum", "where"])
def test_binary_ops_promote_like_torch(a, b, op):
    if op == "sub" and bool in (np.asarray(a).dtype, np.asarray(b).dtype):
        pytest.skip("subtracting booleans is an error in both frameworks")

    def run(lib):
        x, y = as_framework(lib, a), as_framework(lib, b)
        if op == "maximum":  # torch.maximum wants tensors: compare the promoted dtypes
            return lib.result_type(x, y) if lib is torch else result_type(x, y)
        if op == "where":
            return lib.where(lib.tensor([True, False]), x, y)
        return getattr(lib, op)(x, y)

    ours, theirs = run(rg), run(torch)
    ours_dtype = ours if isinstance(ours, np.dtype) else ours.dtype
    theirs_name = str(theirs).replace("torch.", "") if isinstance(theirs, torch.dtype) else \
        torch_dtype_name(theirs)
    assert str(ours_dtype) == theirs_name


@requires_torch
@promotion_cases
def test_operators_promote_both_ways_like_torch(a, b):
    x, y = rg.tensor(a), as_framework(rg, b)
    tx, ty = torch.tensor(a), as_framework(torch, b)
    assert str((x * y).dtype) == torch_dtype_name(tx * ty)
    assert str((y * x).dtype) == torch_dtype_name(ty * tx)


TABLE_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                "float64", "complex64", "complex128"]


@requires_torch
@pytest.mark.parametrize("kind_a", ["dim", "0d"])
@pytest.mark.parametrize("kind_b", ["dim", "0d", "scalar"])
def test_result_type_table_matches_torch(kind_a, kind_b):
    """Every pair of dtypes and operand kinds, against torch.result_type."""
    scalars = [True, 3, 2.5, 1j, np.float64(2.5), np.float32(2.5), np.int64(3), np.int32(3)]
    mismatches = []
    for name_a in TABLE_DTYPES:
        a = make(kind_a, np.dtype(name_a))
        others = scalars if kind_b == "scalar" else [make(kind_b, np.dtype(n))
                                                     for n in TABLE_DTYPES]
        for b in others:
            expected = str(torch.result_type(as_framework(torch, a), as_framework(torch, b)))
            expected = expected.replace("torch.", "")
            if expected == "complex32":
                continue  # complex half has no NumPy counterpart
            got = str(result_type(rg.tensor(a), as_framework(rg, b)))
            if got != expected:
                mismatches.append((name_a, repr(b), got, expected))
    assert not mismatches


@requires_torch
@pytest.mark.parametrize("a", TABLE_DTYPES)
def test_promote_types_matches_torch(a):
    for b in TABLE_DTYPES:
        expected = str(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        assert str(promote_types(np.dtype(a), np.dtype(b))) == expected.replace("torch.", "")


@requires_torch
@pytest.mark.parametrize("x, y", [
    (np.array([7, -7]), np.array([2, 2])),
    (np.array([7, -7], np.int32), 2),
    (np.array([True, False]), np.array([True, True])),
    (3, np.array([2, 4])),
], ids=["int64", "int32_scalar", "bool", "scalar_int64"])
def test_true_division_of_integers_gives_float32(x, y):
    ours = as_framework(rg, x) / as_framework(rg, y)
    theirs = as_framework(torch, x) / as_framework(torch, y)
    assert ours.dtype == rg.float32 and torch_dtype_name(theirs) == "float32"
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


# ----------------------------------------------------------------- float32 stays float32
UNARY_OPS = {
    "neg": rg.neg, "exp": rg.exp, "expm1": rg.expm1, "log": rg.log, "log1p": rg.log1p,
    "log2": rg.log2, "log10": rg.log10, "sqrt": rg.sqrt, "rsqrt": rg.rsqrt,
    "reciprocal": rg.reciprocal, "square": rg.square, "abs": rg.abs, "sign": rg.sign,
    "sin": rg.sin, "cos": rg.cos, "tanh": rg.tanh, "sigmoid": rg.sigmoid, "erf": rg.erf,
    "relu": rg.relu, "leaky_relu": rg.leaky_relu, "elu": rg.elu, "gelu": rg.gelu,
    "gelu_tanh": lambda x: rg.gelu(x, approximate="tanh"), "silu": rg.silu,
    "softplus": rg.softplus, "softplus_beta": lambda x: rg.softplus(x, beta=np.float64(2.0)),
    "floor": rg.floor, "ceil": rg.ceil, "round": rg.round,
    "round_decimals": lambda x: rg.round(x, decimals=2), "trunc": rg.trunc,
    "clamp": lambda x: rg.clamp(x, 0.6, 1.2), "clamp_min": lambda x: rg.clamp(x, min=1),
    "clamp_numpy_bound": lambda x: rg.clamp(x, max=np.float64(1.2)),
    "pow_int": lambda x: x ** 3, "pow_float": lambda x: x ** 1.5,
    "pow_numpy": lambda x: x ** np.float64(2.0), "leaky_relu_numpy_slope":
        lambda x: rg.leaky_relu(x, np.float64(0.1)),
    "elu_numpy_alpha": lambda x: rg.elu(x, np.float64(0.5)),
}
SCALAR_BINARY_OPS = {
    "add_float": lambda x: x + 2.5, "add_int": lambda x: x + 2, "radd": lambda x: 2.5 + x,
    "sub_float": lambda x: x - 1.5, "rsub_int": lambda x: 3 - x, "mul_float": lambda x: x * 0.5,
    "rmul_int": lambda x: 3 * x, "div_float": lambda x: x / 3.0, "div_int": lambda x: x / 3,
    "rdiv": lambda x: 1 / x, "pow_tensor": lambda x: 2.0 ** x, "floordiv": lambda x: x // 0.3,
    "mod": lambda x: x % 0.3, "add_alpha": lambda x: rg.add(x, 1.0, alpha=2),
    "sub_alpha": lambda x: rg.sub(x, x, alpha=0.5), "maximum": lambda x: rg.maximum(x, 1.0),
    "minimum": lambda x: rg.minimum(x, 1), "where": lambda x: rg.where(x > 1, x, 0.0),
    "lerp": lambda x: rg.lerp(x, 2.0 * x, 0.25),
    "numpy_float64_mul": lambda x: np.float64(2.0) * x,
    "numpy_float64_add": lambda x: x + np.float64(2.0),
    "numpy_float64_div": lambda x: x / np.float64(3.0),
    "numpy_float64_rsub": lambda x: np.float64(1.0) - x,
    "numpy_float32_mul": lambda x: x * np.float32(2.0),
    "numpy_int64_mul": lambda x: x * np.int64(2),
    "numpy_float64_clamp": lambda x: rg.clamp(x, np.float64(0.6), np.float64(1.2)),
    "int64_tensor": lambda x: x * rg.tensor([1, 2, 3]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("fn", list(UNARY_OPS.values()) + list(SCALAR_BINARY_OPS.values()),
                         ids=list(UNARY_OPS) + list(SCALAR_BINARY_OPS))
@pytest.mark.parametrize("shape", [(3,), ()], ids=["dim", "0d"])
def test_floating_dtype_is_kept_through_ops_and_gradients(fn, dtype, shape):
    values = positive(3, dtype=dtype)
    x = rg.tensor(values if shape else values[0], requires_grad=True)
    y = fn(x)
    assert y.dtype == dtype
    if y.requires_grad:
        y.backward(rg.ones_like(y))
        assert x.grad.dtype == dtype and x.grad.shape == x.shape


@pytest.mark.parametrize("fn", list(UNARY_OPS.values()), ids=list(UNARY_OPS))
def test_float16_is_kept_by_unary_ops(fn):
    assert fn(rg.tensor(positive(3, dtype=np.float16))).dtype == np.float16


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sigmoid", "tanh", "sin", "erf",
                                  "expm1", "log1p", "rsqrt", "reciprocal"])
def test_integer_inputs_of_float_functions_give_float32(name):
    assert getattr(rg, name)(rg.tensor([1, 2, 3])).dtype == rg.float32


# --------------------------------------------------------------------- creation functions
@requires_torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.zeros(2, 3), lambda lib: lib.zeros((2, 3)), lambda lib: lib.zeros([]),
    lambda lib: lib.ones(4), lambda lib: lib.ones(2, dtype=lib.int32),
    lambda lib: lib.empty(2, 3).shape, lambda lib: lib.empty(2, dtype=lib.float64).dtype,
    lambda lib: lib.full((2, 2), 7), lambda lib: lib.full((2,), 1.5),
    lambda lib: lib.full((2,), True), lambda lib: lib.full((2,), np.float64(1.5)),
    lambda lib: lib.full((2,), 1.5, dtype=lib.int64), lambda lib: lib.full((2, 1), -3.0),
    lambda lib: lib.arange(5), lambda lib: lib.arange(2, 9, 3), lambda lib: lib.arange(10, 0, -3),
    lambda lib: lib.arange(0.0, 3), lambda lib: lib.arange(0, 1, 0.25),
    lambda lib: lib.arange(-1.0, 1.0, 0.3), lambda lib: lib.arange(0, 1, 0.1),
    lambda lib: lib.arange(5, dtype=lib.float64), lambda lib: lib.arange(np.int64(4)),
    lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.linspace(-2, 2, 1),
    lambda lib: lib.linspace(0, 10, 5, dtype=lib.int64), lambda lib: lib.linspace(3, -3, 4),
    lambda lib: lib.eye(3), lambda lib: lib.eye(2, 4), lambda lib: lib.eye(2, dtype=lib.int64),
    lambda lib: lib.zeros_like(lib.tensor([1, 2])),
    lambda lib: lib.ones_like(lib.tensor([[1.5]], dtype=lib.float64)),
    lambda lib: lib.ones_like(lib.tensor([1, 2]), dtype=lib.float32),
    lambda lib: lib.full_like(lib.tensor([1, 2, 3]), 2.7),
    lambda lib: lib.empty_like(lib.tensor([1.0, 2.0])).shape,
], ids=["zeros", "zeros_tuple", "zeros_0d", "ones", "ones_int32", "empty_shape",
        "empty_float64", "full_int", "full_float", "full_bool", "full_numpy_scalar",
        "full_float_as_int", "full_negative", "arange_int", "arange_step", "arange_negative_step",
        "arange_float_start", "arange_float_step", "arange_float_negative_start",
        "arange_tenths", "arange_float64", "arange_numpy_int", "linspace", "linspace_1",
        "linspace_int", "linspace_decreasing", "eye", "eye_rect", "eye_int", "zeros_like_int",
        "ones_like_float64", "ones_like_dtype", "full_like_int", "empty_like"])
def test_creation_functions_match_torch(call):
    ours, theirs = call(rg), call(torch)
    if isinstance(theirs, torch.Tensor):
        assert str(ours.dtype) == torch_dtype_name(theirs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    elif isinstance(theirs, torch.dtype):
        assert str(ours) == str(theirs).replace("torch.", "")
    else:
        assert tuple(ours) == tuple(theirs)


def test_random_creation_dtypes_shapes_and_ranges():
    rg.manual_seed(0)
    r = rg.rand(200, 3)
    assert r.dtype == rg.float32 and r.shape == (200, 3)
    assert r.numpy().min() >= 0 and r.numpy().max() < 1
    n = rg.randn((2, 3))
    assert n.dtype == rg.float32 and n.shape == (2, 3)
    assert rg.randn(2, dtype=rg.float64).dtype == rg.float64
    i = rg.randint(3, 7, (500,))
    assert i.dtype == rg.int64 and set(np.unique(i.numpy())) == {3, 4, 5, 6}
    assert rg.randint(5, (2, 2)).shape == (2, 2)
    p = rg.randperm(10)
    assert p.dtype == rg.int64 and sorted(p.tolist()) == list(range(10))
    assert rg.rand_like(rg.zeros(2, dtype=rg.float64)).dtype == rg.float64
    assert rg.randn_like(rg.zeros(3)).shape == (3,)


@pytest.mark.parametrize("make", [
    lambda: rg.rand(5), lambda: rg.randn(2, 3), lambda: rg.randint(0, 100, (6,)),
    lambda: rg.randperm(8), lambda: rg.normal(0.0, 1.0, size=(4,)),
], ids=["rand", "randn", "randint", "randperm", "normal"])
def test_manual_seed_makes_random_creation_reproducible(make):
    rg.manual_seed(1234)
    first = make().numpy().copy()
    rg.manual_seed(1234)
    again = make().numpy()
    rg.manual_seed(4321)
    other = make().numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_generators_are_independent_of_the_global_seed():
    g = rg.Generator().manual_seed(7)
    first = rg.randn(4, generator=g).numpy().copy()
    rg.manual_seed(0)
    rg.randn(10)
    g.manual_seed(7)
    np.testing.assert_array_equal(rg.randn(4, generator=g).numpy(), first)


def test_from_numpy_shares_memory_and_keeps_dtype():
    for dtype in (np.float64, np.int32, np.float16, np.bool_):
        array = np.zeros(3, dtype)
        t = rg.from_numpy(array)
        assert t.dtype == dtype
        array[1] = 1
        assert t.numpy()[1] == 1  # the tensor sees the array's changes
        t.numpy()[2] = 1
        assert array[2] == 1  # and the other way round
        assert np.shares_memory(t.numpy(), array)
    with pytest.raises(TypeError, match="from_numpy"):
        rg.from_numpy([1.0, 2.0])


def test_tensor_copies_while_as_tensor_shares():
    array = np.ones(3, np.float32)
    assert not np.shares_memory(rg.tensor(array).numpy(), array)
    assert np.shares_memory(rg.as_tensor(array).numpy(), array)
    assert rg.as_tensor(np.arange(3)).dtype == rg.int64
    assert rg.as_tensor([1.5]).dtype == rg.float32


# ------------------------------------------------------------------ gradients need floats
@pytest.mark.parametrize("make", [
    lambda: rg.tensor([1, 2], requires_grad=True),
    lambda: rg.tensor([True], requires_grad=True),
    lambda: rg.zeros(2, dtype=rg.int64, requires_grad=True),
    lambda: rg.arange(3, requires_grad=True),
    lambda: rg.tensor([1, 2]).requires_grad_(),
    lambda: setattr(rg.tensor([1, 2], dtype=rg.int32), "requires_grad", True),
], ids=["tensor_int", "tensor_bool", "zeros_int", "arange", "requires_grad_", "attribute"])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="floating point"):
        make()


def test_integer_and_boolean_results_do_not_require_grad():
    x = rg.tensor(randn(2, 3), requires_grad=True)
    for out in (x > 0, x.long(), rg.isnan(x), x.int() + 1, rg.floor(x).long()):
        assert not out.requires_grad and out.grad_fn is None
    assert (x * 2).to(rg.float32).requires_grad  # float casts stay differentiable
