"""Indexing ops: getitem/index_put, index_select/index_add, gather/scatter, take,
masked_fill/masked_select, sort/argsort/topk, nonzero."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch

SHAPE = (4, 5, 6)
MASK_45 = np.random.default_rng(3).random((4, 5)) > 0.5


def _for(framework_tensor, index):
    """An index spec with its NumPy arrays turned into one framework's tensors."""
    if isinstance(index, tuple):
        return tuple(_for(framework_tensor, item) for item in index)
    if isinstance(index, np.ndarray):
        return framework_tensor(index)
    return index


def _rg_index(index):
    return _for(rg.tensor, index)


def _torch_index(index):
    return _for(torch.tensor, index)


# ----------------------------------------------------------------------------------- getitem
GETITEM_INDICES = [
    1, -1, (1, 2), (3, -1, 0), slice(1, 3), slice(None, None, 2), slice(-3, None),
    slice(2, 100), (slice(None), slice(1, None, 2)), (Ellipsis, 1), (None, 0, None),
    (Ellipsis, None), (0, Ellipsis, None, 2), (None, Ellipsis, None), True, False,
    [0, 0, 1], [-1, 0, -1], [], np.array([], np.int64), np.array([[0, 1], [3, 3]]),
    ([0, 2], [1, 1]), ([0, 2], slice(None), [1, 5]), (slice(None), [4, 4, 0], slice(1, 3)),
    (slice(None), 0, [1, 2]), (slice(None, 2), 0, [1, 1]), ([1, 2], 0, [3, 4]),
    (0, slice(None), [1, 2]), (np.array(0), slice(1, 3), [1, 2]),  # not NumPy's (2, 5)
    (Ellipsis, np.array([[5, 0], [5, 5]])), (None, [0, 1], None, [2, 3]), ([0, 1], None, [0, 1]),
    np.array(2), (slice(None), np.array(1), [0, 1]), np.array([True, False, True, True]),
    MASK_45, (Ellipsis, np.array([True, False, True, False, False, True])), np.zeros(4, bool),
    (np.array([True, False, True, True]), slice(None), [0, 0, 5]), (MASK_45, 2), np.array(True),
    (np.array([1, 0, 1, 0], bool), slice(None), 2), np.array([1, 3], np.int32),
]


@pytest.mark.parametrize("index", GETITEM_INDICES, ids=repr)
def test_getitem_grad(index):
    check_grad(lambda x: x[_rg_index(index)], randn(*SHAPE))


@requires_torch
@pytest.mark.parametrize("index", GETITEM_INDICES, ids=repr)
def test_getitem_parity(index):
    check_parity(lambda x: x[_rg_index(index)], lambda x: x[_torch_index(index)], randn(*SHAPE))


@requires_torch
@pytest.mark.parametrize("shape,index", [
    ((0, 3), (slice(None), 1)), ((0, 3), []), ((3, 0), [0, 2, 2]), ((), ()), ((), None),
    ((), Ellipsis), ((), True), ((5,), np.zeros((2, 0), np.int64)), ((2, 3), (1, 2)),
])
def test_getitem_edge_shapes_parity(shape, index):
    check_parity(lambda x: x[_rg_index(index)], lambda x: x[_torch_index(index)], randn(*shape))


def test_getitem_repeated_indices_accumulate():
    x = rg.tensor(np.arange(3.0), requires_grad=True)
    y = x[[0, 0, 1, 0]]
    y.backward(rg.tensor([1.0, 2.0, 4.0, 8.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [11.0, 4.0, 0.0])


def test_getitem_basic_index_is_a_view_and_keeps_dtype():
    x = rg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    row = x[1]
    assert row.dtype == np.float32
    assert np.shares_memory(row.numpy(), x.numpy())
    assert x[1, 2].shape == () and isinstance(x[1, 2].item(), float)


def test_getitem_integer_tensor_and_no_grad_through_indices():
    x = rg.tensor(np.arange(12).reshape(3, 4))
    idx = rg.tensor([2, 0])
    out = x[idx, 1:]
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.arange(12).reshape(3, 4)[[2, 0], 1:])


@pytest.mark.parametrize("index,error,words", [
    (4, IndexError, ["getitem", "index 4", "size 4"]),
    (-5, IndexError, ["getitem", "index -5", "dimension 0"]),
    ((0, 5), IndexError, ["index 5", "dimension 1", "size 5"]),
    (([0, 7],), IndexError, ["index 7", "size 4"]),
    ((slice(None), [-5, 9]), IndexError, ["index 9", "dimension 1"]),
    ((slice(None), [-6, 0]), IndexError, ["index -6", "dimension 1"]),
    (slice(None, None, -1), ValueError, ["step must be greater than zero"]),
    ((0, 0, 0, 0), IndexError, ["too many indices", "dimension 3"]),
    ((Ellipsis, 0, Ellipsis), IndexError, ["single ellipsis"]),
    (np.array([True, False]), IndexError, ["shape of the mask"]),
    (([0, 1], [0, 1, 2]), IndexError, ["could not be broadcast", "(2,)", "(3,)"]),
    (np.array([0.0, 1.0]), IndexError, ["long, int, byte or bool", "float64"]),
    (1.5, IndexError, ["valid indices", "float"]),
])
def test_getitem_errors(index, error, words):
    x = rg.tensor(randn(*SHAPE))
    with pytest.raises(error) as info:
        x[_rg_index(index)]
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("index", [
    [0, 0, 2], (slice(1, None), [1, 1, 0]), (MASK_45,), (slice(None), 2, slice(None, None, 3)),
    (None, [0, 3], Ellipsis, [5, 5]),
])
def test_getitem_double_backward(index):
    x = rg.tensor(randn(*SHAPE), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: t[_rg_index(index)] ** 3, (x,))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_getitem_random_advanced_index_matches_dense_gradient(data):
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dim = data.draw(st.integers(0, ndim - 1))
    count = data.draw(st.integers(0, 6))
    positions = data.draw(st.lists(st.integers(-shape[dim], shape[dim] - 1), min_size=count,
                                   max_size=count))
    index = (slice(None),) * dim + (np.array(positions, np.int64),)
    x = rg.tensor(randn(*shape, seed=count), requires_grad=True)
    out = x[_rg_index(index)]
    np.testing.assert_array_equal(out.detach().numpy(), x.detach().numpy()[index])
    seed = randn(*out.shape, seed=1)
    out.backward(rg.tensor(seed))
    expected = np.zeros(shape)
    np.add.at(expected, index, seed)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_advanced_index_backward_of_an_embedding_sized_gather():
    table = rg.tensor(randn(1000, 16, dtype=np.float32), requires_grad=True)
    rows = np.random.default_rng(0).integers(0, 1000, 5000)
    out = table[rg.tensor(rows)]
    seed = randn(5000, 16, seed=2, dtype=np.float32)
    out.backward(rg.tensor(seed))
    expected = np.zeros((1000, 16), np.float64)
    np.add.at(expected, rows, seed.astype(np.float64))
    assert table.grad.dtype == np.float32
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_repeated_positions_accumulate_in_the_input_dtype(dtype):
    x = rg.tensor(np.zeros((3, 2), dtype), requires_grad=True)
    x[[2, 0, 2]].backward(rg.tensor(np.ones((3, 2), dtype)))
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [2, 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_positions_accumulate_without_scipy(monkeypatch, dtype):
    from retrograd.ops import indexing
    monkeypatch.setattr(indexing, "_sparse", None)  # the NumPy-only fallback (np.bincount)
    x = rg.tensor(randn(5, 3, dtype=dtype), requires_grad=True)
    rows, cols = [4, 0, 4, 4], [2, 2, 0]
    out = x[:, cols][rows]
    seed = randn(4, 3, seed=1, dtype=dtype)
    out.backward(rg.tensor(seed))
    grad_of_columns = np.zeros((5, 3), np.float64)
    np.add.at(grad_of_columns, rows, seed.astype(np.float64))
    expected = np.zeros((5, 3), np.float64)
    np.add.at(expected, (slice(None), cols), grad_of_columns)
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6, atol=1e-6)
    counts = rg.index_put(rg.zeros(3, dtype=rg.int64), [2, 2, 0], rg.tensor(2**60),
                          accumulate=True)  # integers: exact
    assert counts.tolist() == [2**60, 0, 2**61]


# --------------------------------------------------------------------- index_put, setitem
PUT_CASES = [  # (index, shape of values)
    (1, (5, 6)), (1, (6,)), (1, ()), (1, (1, 6)), ((slice(None), 2), (4, 1)),
    ([0, 2], (2, 5, 6)), ([0, 2], (5, 1)), ((slice(None), [1, 3], 0), (4, 2)),
    (MASK_45, (MASK_45.sum(), 6)), (MASK_45, (6,)), ((Ellipsis, [5, 0]), (2,)), ([], (6,)),
]


@pytest.mark.parametrize("index,values_shape", PUT_CASES, ids=repr)
def test_index_put_grad(index, values_shape):
    check_grad(lambda x, v: rg.index_put(x, _rg_index(index), v), randn(*SHAPE),
               randn(*values_shape, seed=1))


@requires_torch
@pytest.mark.parametrize("index,values_shape", PUT_CASES, ids=repr)
def test_setitem_parity(index, values_shape):
    def assign(x, v, index, clone):
        y = clone(x)
        y[index] = v
        return y

    check_parity(lambda x, v: assign(x, v, _rg_index(index), rg.clone),
                 lambda x, v: assign(x, v, _torch_index(index), torch.clone),
                 randn(*SHAPE), randn(*values_shape, seed=1))


@requires_torch
@pytest.mark.parametrize("indices", [
    (np.array([0, 0, 3, 0]),), (np.array([1, 1]), np.array([2, 2])),
    (np.array([[0, 3], [3, 3]]), np.array([4, 4])), (np.zeros(0, np.int64),),
])
@pytest.mark.parametrize("values_shape", [(), (6,)])
def test_index_put_accumulate_parity(indices, values_shape):
    check_parity(lambda x, v: rg.index_put(x, _rg_index(indices), v, accumulate=True),
                 lambda x, v: torch.index_put(x, _torch_index(indices), v, accumulate=True),
                 randn(*SHAPE), randn(*values_shape, seed=1))


def test_index_put_accumulates_repeated_positions_exactly_for_integers():
    x = rg.tensor(np.full(3, 2**60, np.int64))
    out = rg.index_put(x, [0, 0, 2], rg.tensor([1, 2, 3]), accumulate=True)
    np.testing.assert_array_equal(out.numpy(), [2**60 + 3, 2**60, 2**60 + 3])
    assert out.dtype == np.int64


def test_index_put_casts_values_and_keeps_dtype():
    x = rg.zeros(3, dtype=rg.float32)
    out = rg.index_put(x, [0, 1], rg.tensor([1.5, 2.5], dtype=rg.float64))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), [1.5, 2.5, 0.0])


def test_index_put_values_that_do_not_broadcast():
    with pytest.raises(RuntimeError, match=r"index_put: shape mismatch: value tensor of shape "
                                           r"\(3,\) cannot be broadcast .* \(2, 6\)"):
        rg.index_put(rg.zeros(4, 6), [0, 1], rg.ones(3))


def test_setitem_on_a_non_leaf_rebinds_to_the_out_of_place_result():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    v = rg.tensor(randn(4, seed=1), requires_grad=True)
    y = x * 2.0
    y[[1, 1]] = v
    assert y.grad_fn is not None and y.grad_fn.name() == "IndexPutBackward"
    y.backward(rg.ones(3, 4))
    expected = np.full((3, 4), 2.0)
    expected[1] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    np.testing.assert_array_equal(v.grad.numpy(), np.full(4, 2.0))  # both writes' gradients


def test_setitem_on_a_leaf_under_no_grad_writes_in_place():
    x = rg.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    array = x.numpy(force=True)
    with rg.no_grad():
        x[0, [0, 2]] = 5
        x[1] = rg.tensor([1.0, 2.0, 3.0])
    assert x.numpy(force=True) is array and x.is_leaf and x.dtype == np.float32
    np.testing.assert_array_equal(array, [[5, 0, 5], [1, 2, 3]])


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = rg.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0


def test_setitem_with_a_value_that_requires_grad_on_a_plain_tensor():
    x = rg.zeros(2, 3, dtype=rg.float64)
    v = rg.tensor(randn(3), requires_grad=True)
    x[MASK_45[:2, :3].any(axis=1)] = v
    assert x.requires_grad
    x.backward(rg.ones(2, 3, dtype=rg.float64))
    np.testing.assert_array_equal(v.grad.numpy(), np.full(3, MASK_45[:2, :3].any(axis=1).sum()))


def test_index_put_double_backward():
    x = rg.tensor(randn(4, 3), requires_grad=True)
    v = rg.tensor(randn(2, 3, seed=1), requires_grad=True)
    assert rg.autograd.gradgradcheck(
        lambda a, b: rg.index_put(a * a, [3, 3], b * b, accumulate=True), (x, v))
    assert rg.autograd.gradgradcheck(lambda a, b: rg.index_put(a * a, [0, 2], b ** 3), (x, v))


# ----------------------------------------------------------------- index_select, index_add
SELECT_CASES = [((4, 5), 0, [3, 0, 3]), ((4, 5), 1, [4, 4, 4]), ((4, 5), -1, [0, 2]),
                ((2, 3, 4), 1, []), ((2, 3, 4), -2, [2]), ((2, 3, 4), 2, 1), ((3,), 0, [2, 0, 2]),
                ((0, 3), 1, [1, 1]), ((), 0, [0])]


@pytest.mark.parametrize("shape,dim,index", SELECT_CASES)
def test_index_select_grad(shape, dim, index):
    check_grad(lambda x: rg.index_select(x, dim, rg.tensor(index, dtype=rg.int64)), randn(*shape))


@requires_torch
@pytest.mark.parametrize("shape,dim,index", SELECT_CASES)
def test_index_select_parity(shape, dim, index):
    check_parity(lambda x, i: rg.index_select(x, dim, i),
                 lambda x, i: torch.index_select(x, dim, i),
                 randn(*shape), np.array(index, np.int64))


def test_index_select_method_and_integer_input():
    x = rg.tensor(np.arange(6, dtype=np.int32).reshape(2, 3))
    out = x.index_select(1, rg.tensor([2, 2]))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out.numpy(), [[2, 2], [5, 5]])


@pytest.mark.parametrize("dim,index,error,words", [
    (1, [5], IndexError, ["index_select", "index 5", "dimension 1", "size 5"]),
    (0, [-1], IndexError, ["index -1", "size 4"]),
    (0, [[0]], IndexError, ["supposed to be a vector"]),
    (2, [0], IndexError, ["dimension out of range"]),
    (0, np.array([0.0]), IndexError, ["integer index", "float64"]),
])
def test_index_select_errors(dim, index, error, words):
    with pytest.raises(error) as info:
        rg.index_select(rg.zeros(4, 5), dim, index)
    for word in words:
        assert word in str(info.value)


@requires_torch
@pytest.mark.parametrize("shape,dim,index", [((4, 5), 0, [3, 0, 3]), ((2, 3, 4), -1, [0, 0]),
                                             ((2, 3), 1, [])])
@pytest.mark.parametrize("alpha", [1, -2.5])
def test_index_add_parity(shape, dim, index, alpha):
    source_shape = list(shape)
    source_shape[dim] = len(index)
    check_parity(lambda x, i, s: rg.index_add(x, dim, i, s, alpha=alpha),
                 lambda x, i, s: torch.index_add(x, dim, i, s, alpha=alpha),
                 randn(*shape), np.array(index, np.int64), randn(*source_shape, seed=1))


def test_index_add_grad_and_errors():
    check_grad(lambda x, s: rg.index_add(x, 1, rg.tensor([2, 2, 0]), s), randn(3, 4),
               randn(3, 3, seed=1))
    with pytest.raises(RuntimeError, match=r"index_add: source tensor shape .* \(3, 2\)"):
        rg.index_add(rg.zeros(3, 4), 1, rg.tensor([0, 0]), rg.zeros(1, 2))
    with pytest.raises(RuntimeError, match="index_add: expected source of the input's dtype"):
        rg.index_add(rg.zeros(3, 4), 1, rg.tensor([0]), rg.zeros(3, 1, dtype=rg.float64))


# --------------------------------------------------------------------------- gather, scatter
def _random_index(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


GATHER_CASES = [  # (x shape, dim, index shape)
    ((3, 4), 1, (3, 6)), ((3, 4), 0, (5, 4)), ((3, 4), -1, (2, 2)), ((2, 3, 4), 1, (2, 2, 4)),
    ((2, 3, 4), 0, (1, 3, 1)), ((3, 4), 1, (0, 2)), ((5,), 0, (7,)), ((3, 1), 1, (3, 3)),
]


@pytest.mark.parametrize("shape,dim,index_shape", GATHER_CASES)
def test_gather_grad(shape, dim, index_shape):
    index = rg.tensor(_random_index(index_shape, shape[dim]))
    check_grad(lambda x: rg.gather(x, dim, index), randn(*shape))


@requires_torch
@pytest.mark.parametrize("shape,dim,index_shape", GATHER_CASES)
def test_gather_parity(shape, dim, index_shape):
    check_parity(lambda x, i: rg.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i),
                 randn(*shape), _random_index(index_shape, shape[dim]))


def test_gather_double_backward():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    index = rg.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]])
    assert rg.autograd.gradgradcheck(lambda t: rg.gather(t, 1, index) ** 3, (x,))
    assert rg.autograd.gradgradcheck(lambda t: rg.gather(t * t, 0, index % 3), (x,))


def test_gather_zero_dim_and_method():
    x = rg.tensor(5.0, requires_grad=True)
    out = rg.gather(x, 0, rg.tensor([0, 0]))
    out.backward(rg.ones(2))
    assert out.shape == (2,) and x.grad.item() == 2.0
    assert rg.tensor([[1, 2], [3, 4]]).gather(1, rg.tensor([[1], [0]])).tolist() == [[2], [3]]


@pytest.mark.parametrize("op", ["gather", "scatter_add"])
@pytest.mark.parametrize("index,error,words", [
    ([[0, 4]], IndexError, ["index 4", "dimension 1", "size 4"]),
    ([[-1, 0]], IndexError, ["index -1"]),
    ([0, 1], RuntimeError, ["same number of dimensions"]),
    ([[0]] * 4, RuntimeError, ["no larger than"]),
    (np.zeros((1, 1)), IndexError, ["integer index", "float64"]),
])
def test_gather_scatter_errors(op, index, error, words):
    x = rg.zeros(3, 4)
    call = {"gather": lambda: rg.gather(x, 1, index),
            "scatter_add": lambda: rg.scatter_add(x, 1, index, rg.zeros(4, 4))}[op]
    with pytest.raises(error) as info:
        call()
    for word in [op] + words:
        assert word in str(info.value)


SCATTER_CASES = [  # (x shape, dim, index shape, src shape)
    ((3, 4), 1, (3, 6), (3, 6)), ((3, 4), 0, (5, 4), (5, 4)), ((3, 4), 1, (2, 2), (3, 5)),
    ((2, 3, 4), 2, (2, 3, 5), (2, 3, 5)), ((3, 4), 1, (0, 3), (1, 3)), ((6,), 0, (9,), (9,)),
]


@pytest.mark.parametrize("shape,dim,index_shape,src_shape", SCATTER_CASES)
def test_scatter_add_grad(shape, dim, index_shape, src_shape):
    index = rg.tensor(_random_index(index_shape, shape[dim]))
    check_grad(lambda x, s: rg.scatter_add(x, dim, index, s), randn(*shape),
               randn(*src_shape, seed=1))


@requires_torch
@pytest.mark.parametrize("shape,dim,index_shape,src_shape", SCATTER_CASES)
def test_scatter_add_parity(shape, dim, index_shape, src_shape):
    index = _random_index(index_shape, shape[dim])
    check_parity(lambda x, i, s: rg.scatter_add(x, dim, i, s),
                 lambda x, i, s: torch.scatter_add(x, dim, i, s),
                 randn(*shape), index, randn(*index_shape, seed=1))
    # PyTorch's backward rejects a src larger than index: compare the values only.
    x, src = randn(*shape, dtype=np.float32), randn(*src_shape, seed=1, dtype=np.float32)
    np.testing.assert_allclose(
        rg.scatter_add(rg.tensor(x), dim, rg.tensor(index), rg.tensor(src)).numpy(),
        torch.scatter_add(torch.tensor(x), dim, torch.tensor(index), torch.tensor(src)).numpy(),
        rtol=1e-6)


def _distinct_positions(shape, dim, size, seed=0):
    """An index whose positions along ``dim`` don't repeat (scatter's result is then defined)."""
    rng = np.random.default_rng(seed)
    ranks = rng.random(shape[:dim] + (size,) + shape[dim + 1:]).argsort(axis=dim)
    return np.take(ranks, np.arange(shape[dim]), axis=dim)


@pytest.mark.parametrize("shape,dim,index_shape", [((3, 4), 1, (3, 2)), ((4, 3), 0, (4, 2)),
                                                   ((2, 3, 4), 1, (2, 2, 3))])
def test_scatter_grad_and_parity(shape, dim, index_shape):
    index = _distinct_positions(index_shape, dim, shape[dim])
    larger_src = randn(*index_shape[:-1], index_shape[-1] + 1, seed=1)  # partly unused
    check_grad(lambda x, s: rg.scatter(x, dim, rg.tensor(index), s), randn(*shape), larger_src)
    if torch is not None:
        check_parity(lambda x, i, s: rg.scatter(x, dim, i, s),
                     lambda x, i, s: torch.scatter(x, dim, i, s), randn(*shape), index,
                     randn(*index_shape, seed=1))
        check_parity(lambda x, i: rg.scatter(x, dim, i, value=-2.5),
                     lambda x, i: torch.scatter(x, dim, i, value=-2.5), randn(*shape), index)


def test_scatter_value_and_repeated_positions():
    out = rg.scatter(rg.zeros(2, 3), 1, rg.tensor([[0, 0], [2, 1]]), 7.0)
    np.testing.assert_array_equal(out.numpy(), [[7, 0, 0], [0, 7, 7]])
    x = rg.tensor(np.zeros(3), requires_grad=True)
    src = rg.tensor([1.0, 2.0], dtype=rg.float64, requires_grad=True)
    out = rg.scatter(x, 0, rg.tensor([1, 1]), src)
    assert out[1].item() in (1.0, 2.0)
    out.backward(rg.tensor([1.0, 10.0, 100.0], dtype=rg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 100.0])
    np.testing.assert_array_equal(src.grad.numpy(), [10.0, 10.0])  # PyTorch's gather(dy)
    with pytest.raises(TypeError, match="exactly one of src and value"):
        rg.scatter(x, 0, rg.tensor([0]))
    with pytest.raises(RuntimeError, match="scatter: expected source of the input's dtype"):
        rg.scatter(rg.zeros(3), 0, rg.tensor([0]), rg.ones(1, dtype=rg.float64))
    with pytest.raises(RuntimeError, match=r"no larger than src of shape \(1,\)"):
        rg.scatter(rg.zeros(3), 0, rg.tensor([0, 1]), rg.ones(1))


def test_scatter_add_integers_and_double_backward():
    out = rg.scatter_add(rg.zeros(2, 3, dtype=rg.int64), 1, rg.tensor([[2, 2, 2], [0, 1, 0]]),
                         rg.tensor([[1, 2, 3], [4, 5, 6]]))
    assert out.dtype == np.int64 and out.tolist() == [[0, 0, 6], [10, 5, 0]]
    x = rg.tensor(randn(2, 3), requires_grad=True)
    s = rg.tensor(randn(2, 3, seed=1), requires_grad=True)
    index = rg.tensor([[2, 2, 0], [1, 1, 1]])
    assert rg.autograd.gradgradcheck(lambda a, b: rg.scatter_add(a * a, 1, index, b ** 3), (x, s))


# --------------------------------------------------------------------- take, take_along_dim
@requires_torch
@pytest.mark.parametrize("shape,index", [((3, 4), [[0, -1], [11, 11]]), ((5,), [4, -5, 4]),
                                         ((2, 3), []), ((), [0, -1]), ((2, 2), 3)])
def test_take_parity_and_grad(shape, index):
    index = np.array(index, np.int64)
    check_parity(rg.take, torch.take, randn(*shape), index)
    check_grad(lambda x: rg.take(x, rg.tensor(index)), randn(*shape))


def test_take_out_of_range():
    with pytest.raises(IndexError, match="take: index 12 is out of bounds .* size 12"):
        rg.take(rg.zeros(3, 4), rg.tensor([12]))


TAKE_ALONG_CASES = [  # (x shape, index shape, dim)
    ((3, 4), (3, 2), 1), ((3, 4), (1, 5), 1), ((3, 1), (3, 2), 0), ((2, 3, 4), (2, 1, 3), -1),
    ((1, 3), (4, 2), 1), ((3, 4), (2, 2), None), ((3, 4), (0, 4), 0),
]


@requires_torch
@pytest.mark.parametrize("shape,index_shape,dim", TAKE_ALONG_CASES)
def test_take_along_dim_parity_and_grad(shape, index_shape, dim):
    size = shape[dim] if dim is not None else int(np.prod(shape))
    # Negative positions count back from the end; PyTorch rejects them only with dim=None.
    low = -size if dim is not None else 0
    index = np.random.default_rng(0).integers(low, size, index_shape)
    check_parity(lambda x, i: rg.take_along_dim(x, i, dim=dim),
                 lambda x, i: torch.take_along_dim(x, i, dim=dim), randn(*shape), index)
    check_grad(lambda x: rg.take_along_dim(x, rg.tensor(index), dim), randn(*shape))


def test_take_along_dim_without_dim_counts_negative_positions_back():
    x = rg.tensor(np.arange(6.0).reshape(2, 3))
    assert rg.take_along_dim(x, rg.tensor([[-1, 0]])).tolist() == [5.0, 0.0]


def test_take_along_dim_errors():
    with pytest.raises(RuntimeError, match="take_along_dim: input and indices should have"):
        rg.take_along_dim(rg.zeros(3, 4), rg.tensor([0]), dim=1)
    with pytest.raises(RuntimeError, match="cannot be broadcast outside dimension 1"):
        rg.take_along_dim(rg.zeros(3, 4), rg.tensor([[0], [0]]), dim=1)
    with pytest.raises(IndexError, match="take_along_dim: index 4 is out of bounds"):
        rg.take_along_dim(rg.zeros(3, 4), rg.tensor([[4]]), dim=1)


# --------------------------------------------------------------- masked_fill, masked_select
MASKED_CASES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((4,), (2, 4)),
                ((2, 3), (1, 1)), ((0, 3), (3,)), ((), ())]


def _mask(shape, seed=0):
    return np.random.default_rng(seed).random(shape) > 0.4


@requires_torch
@pytest.mark.parametrize("shape,mask_shape", MASKED_CASES)
@pytest.mark.parametrize("value", [-1.5, "tensor"])
def test_masked_fill_parity_and_grad(shape, mask_shape, value):
    mask = _mask(mask_shape)
    if value == "tensor":  # a 0-d tensor value gets the gradient of every filled element
        check_parity(rg.masked_fill, torch.masked_fill, randn(*shape), mask, np.array(0.25))
        check_grad(rg.masked_fill, randn(*shape), mask, np.array(0.25))
    else:
        check_parity(lambda x, m: rg.masked_fill(x, m, value),
                     lambda x, m: torch.masked_fill(x, m, value), randn(*shape), mask)
        check_grad(lambda x: rg.masked_fill(x, rg.tensor(mask), value), randn(*shape))


def test_masked_fill_dtypes_extremes_and_errors():
    ints = rg.tensor([1, 2, 3]).masked_fill(rg.tensor([True, False, True]), 5.7)
    assert ints.dtype == np.int64 and ints.tolist() == [5, 2, 5]
    x = rg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    filled = x.masked_fill(rg.tensor([True, False]), float("-inf"))
    assert filled.dtype == np.float32 and filled.tolist() == [float("-inf"), 2.0]
    filled.backward(rg.ones(2))
    assert x.grad.tolist() == [0.0, 1.0]
    with pytest.raises(RuntimeError, match="masked_fill: expected a boolean mask, got dtype int64"):
        rg.masked_fill(rg.zeros(2), rg.tensor([1, 0]), 1.0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        rg.masked_fill(rg.zeros(2), rg.tensor([True, False]), rg.ones(1))


@requires_torch
@pytest.mark.parametrize("shape,mask_shape", MASKED_CASES)
def test_masked_select_parity_and_grad(shape, mask_shape):
    mask = _mask(mask_shape, seed=1)
    check_parity(rg.masked_select, torch.masked_select, randn(*shape), mask)
    check_grad(lambda x: rg.masked_select(x, rg.tensor(mask)), randn(*shape))


def test_masked_select_all_false_and_errors():
    x = rg.tensor(randn(2, 3), requires_grad=True)
    out = rg.masked_select(x, rg.zeros(2, 3, dtype=rg.bool))
    assert out.shape == (0,)
    out.backward(rg.zeros(0, dtype=rg.float64))
    assert not x.grad.numpy().any()
    with pytest.raises(RuntimeError, match=r"masked_select: the shape of the mask \(2,\)"):
        rg.masked_select(x, rg.tensor([True, False]))


# ------------------------------------------------------------------------ sort, argsort, topk
SORT_CASES = [((7,), -1), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -2), ((4, 0), 1), ((0, 4), 0),
              ((), 0)]


@pytest.mark.parametrize("shape,dim", SORT_CASES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_grad(shape, dim, descending):
    check_grad(lambda x: rg.sort(x, dim, descending)[0], randn(*shape))


@requires_torch
@pytest.mark.parametrize("shape,dim", SORT_CASES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_parity(shape, dim, descending):
    check_parity(lambda x: rg.sort(x, dim, descending),
                 lambda x: torch.sort(x, dim, descending), randn(*shape))
    check_parity(lambda x: rg.argsort(x, dim, descending),
                 lambda x: torch.argsort(x, dim=dim, descending=descending), randn(*shape))


@requires_torch
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_of_ties_matches_pytorch(dim, descending):
    x = np.random.default_rng(0).integers(0, 3, (6, 40)).astype(np.float32)
    ours = rg.sort(rg.tensor(x), dim, descending, stable=True)
    theirs = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    # Without stable=True PyTorch leaves the order of ties open; ours is the stable one.
    np.testing.assert_array_equal(rg.argsort(rg.tensor(x), dim, descending).numpy(),
                                  theirs.indices.numpy())


@requires_torch
@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_and_infinities_match_pytorch(descending):
    x = np.array([1.0, np.nan, -np.inf, 0.0, np.inf, np.nan, -0.0], np.float32)
    ours = rg.sort(rg.tensor(x), descending=descending, stable=True)
    theirs = torch.sort(torch.tensor(x), descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_sort_result_type_dtypes_and_gradient_through_indices():
    x = rg.tensor(np.array([[3.0, 1.0, 2.0]], np.float32), requires_grad=True)
    result = x.sort(descending=True)
    assert type(result).__name__ == "sort" and result._fields == ("values", "indices")
    values, indices = result
    assert values.dtype == np.float32 and indices.dtype == np.int64
    assert indices.tolist() == [[0, 2, 1]] and not indices.requires_grad
    values.backward(rg.tensor([[10.0, 20.0, 30.0]]))
    assert x.grad.tolist() == [[10.0, 30.0, 20.0]]
    ints = rg.tensor([3, 1, 2]).sort()
    assert ints.values.dtype == np.int64 and ints.values.tolist() == [1, 2, 3]


TOPK_CASES = [((7,), 3, -1), ((3, 5), 5, 1), ((3, 5), 1, 0), ((2, 3, 4), 2, 1), ((3, 4), 0, 1),
              ((), 1, 0)]


@pytest.mark.parametrize("shape,k,dim", TOPK_CASES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_grad(shape, k, dim, largest):
    check_grad(lambda x: rg.topk(x, k, dim, largest)[0], randn(*shape))


@requires_torch
@pytest.mark.parametrize("shape,k,dim", TOPK_CASES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_parity(shape, k, dim, largest):
    check_parity(lambda x: rg.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest),
                 randn(*shape))


@requires_torch
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 8, 29, 30])
def test_topk_with_ties(largest, k):
    x = np.random.default_rng(1).integers(0, 4, (5, 30)).astype(np.float32)
    values, indices = rg.topk(rg.tensor(x), k, largest=largest)
    theirs = torch.topk(torch.tensor(x), k, largest=largest)
    np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
    indices = indices.numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, indices, 1), values.numpy())
    for row_values, row_indices in zip(values.numpy(), indices):
        assert len(set(row_indices)) == k
        for value in set(row_values):  # equal values come by increasing index
            same = row_indices[row_values == value]
            assert (np.diff(same) > 0).all()


@requires_torch
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 40), st.data())
def test_topk_values_match_pytorch_on_random_shapes(ndim, size, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim - 1, max_size=ndim - 1)))
    dim = data.draw(st.integers(-ndim, ndim - 1))
    shape = shape[:dim % ndim] + (size,) + shape[dim % ndim:]
    k = data.draw(st.integers(0, size))
    largest = data.draw(st.booleans())
    x = np.random.default_rng(size).integers(-3, 3, shape).astype(np.float32)
    values, indices = rg.topk(rg.tensor(x), k, dim, largest)
    theirs = torch.topk(torch.tensor(x), k, dim, largest)
    np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(np.take_along_axis(x, indices.numpy(), dim), values.numpy())


@requires_torch
def test_topk_nan_counts_as_largest():
    x = np.array([1.0, np.nan, 0.0, 2.0], np.float32)
    for largest in (True, False):
        ours = rg.topk(rg.tensor(x), 2, largest=largest)
        theirs = torch.topk(torch.tensor(x), 2, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_topk_result_and_errors():
    result = rg.tensor([1.0, 3.0, 2.0]).topk(2)
    assert type(result).__name__ == "topk" and result.indices.tolist() == [1, 2]
    for k in (4, -1):
        with pytest.raises(RuntimeError, match=f"topk: selected index k out of range: k={k}"):
            rg.topk(rg.zeros(3), k)
    with pytest.raises(IndexError, match="dimension out of range"):
        rg.sort(rg.zeros(3), dim=1)


def test_sort_double_backward():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: rg.sort(t, 1)[0] ** 2, (x,))


# --------------------------------------------------------------------------------- nonzero
@requires_torch
@pytest.mark.parametrize("array", [
    np.array([[1, 0], [2, 3]]), np.array([0.0, -1.5, 0.0]), np.zeros((2, 3)),
    np.array([[True, False, True]]), np.array(1.0), np.array(0), np.zeros((0, 2)),
])
def test_nonzero_parity(array):
    ours, theirs = rg.nonzero(rg.tensor(array)), torch.nonzero(torch.tensor(array))
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = rg.tensor(array).nonzero(as_tuple=True)
    theirs = torch.nonzero(torch.tensor(array), as_tuple=True)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_where_with_a_condition_only_gives_nonzero_as_tuple():
    rows, cols = rg.where(rg.tensor([[0, 1], [1, 0]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
