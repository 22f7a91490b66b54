"""Products: matmul in all its cases, mm, bmm, dot, outer, tensordot and einsum. Gradcheck in
float64, parity with PyTorch in float32, double backward, dtypes and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch

MATMUL_SHAPES = [
    ((3,), (3,)),                 # dot
    ((3,), (3, 4)),               # row vector @ matrix
    ((2, 3), (3,)),               # matrix @ column vector
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),          # batch @ matrix
    ((2, 3), (5, 3, 4)),          # matrix @ batch
    ((2, 1, 2, 3), (4, 3, 2)),    # batch dims broadcast both ways
    ((1, 2, 3), (4, 3, 5)),
    ((3,), (2, 3, 4)),            # vector @ batch
    ((2, 3, 4), (4,)),            # batch @ vector
    ((1, 1), (1, 1)),
    ((0, 3), (3, 4)),             # empty rows
    ((2, 0), (0, 3)),             # empty contraction: zeros
]


def _pair(shape_a, shape_b):
    return randn(*shape_a, seed=1), randn(*shape_b, seed=2)


@pytest.mark.parametrize("shape_a,shape_b", MATMUL_SHAPES)
def test_matmul_gradcheck(shape_a, shape_b):
    check_grad(rg.matmul, *_pair(shape_a, shape_b))


@requires_torch
@pytest.mark.parametrize("shape_a,shape_b", MATMUL_SHAPES)
def test_matmul_parity(shape_a, shape_b):
    check_parity(lambda a, b: a @ b, lambda a, b: a @ b, *_pair(shape_a, shape_b))


@pytest.mark.parametrize("shape_a,shape_b", [((3,), (3, 4)), ((2, 3), (3,)),
                                             ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_double_backward(shape_a, shape_b):
    a, b = (rg.tensor(x, requires_grad=True) for x in _pair(shape_a, shape_b))
    assert rg.autograd.gradgradcheck(rg.matmul, (a, b))


@requires_torch
@settings(max_examples=25, deadline=None)
@given(batch_a=st.lists(st.sampled_from([1, 2, 3]), max_size=3),
       batch_b=st.lists(st.sampled_from([1, 2, 3]), max_size=3),
       m=st.integers(1, 3), k=st.integers(0, 3), n=st.integers(1, 3),
       vector_a=st.booleans(), vector_b=st.booleans())
def test_matmul_random_broadcasting(batch_a, batch_b, m, k, n, vector_a, vector_b):
    # Batch dims that are equal or 1 broadcast; make them so position by position.
    batch_b = [b if i >= len(batch_a) or batch_a[-1 - i] in (1, b) or b == 1 else batch_a[-1 - i]
               for i, b in enumerate(reversed(batch_b))][::-1]
    shape_a = (k,) if vector_a else tuple(batch_a) + (m, k)
    shape_b = (k,) if vector_b else tuple(batch_b) + (k, n)
    check_parity(lambda a, b: a @ b, lambda a, b: a @ b, *_pair(shape_a, shape_b))


def test_matmul_keeps_float32_and_integers():
    a = rg.ones(2, 3)
    assert (a @ rg.ones(3, 4)).dtype == rg.float32
    ints = rg.tensor([[1, 2], [3, 4]]) @ rg.tensor([1, 1])
    assert ints.dtype == rg.int64 and ints.tolist() == [3, 7]


def test_rmatmul_with_a_tensor_on_the_right():
    a = rg.tensor(np.eye(2, dtype=np.float32))
    b = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.array_equal((a @ b).numpy(), b.numpy())


@pytest.mark.parametrize("shape_a,shape_b,message", [
    ((), (2, 3), "at least 1-D"),
    ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
    ((3,), (4,), r"\(3,\) and \(4,\)"),
    ((2, 2, 3), (3, 3, 4), r"batch dimensions \(2,\) and \(3,\)"),
])
def test_matmul_shape_errors(shape_a, shape_b, message):
    with pytest.raises(RuntimeError, match=message):
        rg.matmul(rg.zeros(shape_a), rg.zeros(shape_b))


def test_matmul_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="matmul: expected operands of one dtype"):
        rg.matmul(rg.ones(2, 3), rg.ones(3, 4, dtype=rg.float64))


# ---------------------------------------------------------------------- mm, bmm, dot, outer
@pytest.mark.parametrize("fn,torch_name,shape_a,shape_b", [
    (rg.mm, "mm", (2, 3), (3, 4)),
    (rg.mm, "mm", (0, 3), (3, 1)),
    (rg.bmm, "bmm", (2, 3, 4), (2, 4, 5)),
    (rg.bmm, "bmm", (1, 1, 1), (1, 1, 1)),
    (rg.dot, "dot", (4,), (4,)),
    (rg.dot, "dot", (0,), (0,)),
    (rg.vdot, "vdot", (3,), (3,)),
    (rg.outer, "outer", (3,), (4,)),
    (rg.outer, "outer", (1,), (0,)),
])
def test_products_gradcheck_and_parity(fn, torch_name, shape_a, shape_b):
    a, b = _pair(shape_a, shape_b)
    check_grad(fn, a, b)
    if torch is not None:
        check_parity(fn, getattr(torch, torch_name), a, b)


def test_tensor_methods_delegate():
    a, b = rg.randn(2, 3), rg.randn(3, 4)
    np.testing.assert_allclose(a.mm(b).numpy(), (a @ b).numpy())
    np.testing.assert_allclose(a[0].dot(b[:, 0]).numpy(), (a[0] @ b[:, 0]).numpy())
    assert a[0].outer(b[0]).shape == (3, 4)
    assert a.unsqueeze(0).bmm(b.unsqueeze(0)).shape == (1, 2, 4)
    assert a.matmul(b).shape == (2, 4)


def test_outer_promotes_dtypes():
    out = rg.outer(rg.ones(2), rg.ones(3, dtype=rg.float64))
    assert out.dtype == rg.float64 and out.shape == (2, 3)


@pytest.mark.parametrize("fn,shapes,message", [
    (rg.mm, ((2, 3, 4), (4, 5)), r"mm: expected input to be 2-D, got shape \(2, 3, 4\)"),
    (rg.mm, ((2, 3), (4, 5)), r"mm: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"),
    (rg.bmm, ((3, 4), (2, 4, 5)), r"bmm: expected input to be 3-D, got shape \(3, 4\)"),
    (rg.bmm, ((2, 3, 4), (1, 4, 5)), r"bmm: batch sizes differ: shapes \(2, 3, 4\) and "
                                     r"\(1, 4, 5\)"),
    (rg.dot, ((3,), (2,)), r"dot: expected 1-D tensors of the same size, got shapes \(3,\) "
                           r"and \(2,\)"),
    (rg.dot, ((2, 3), (3,)), r"dot: expected input to be 1-D"),
    (rg.outer, ((2, 3), (3,)), r"outer: expected input to be 1-D"),
])
def test_strict_products_raise(fn, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        fn(*(rg.zeros(s) for s in shapes))


# -------------------------------------------------------------------------------- tensordot
TENSORDOT_CASES = [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (3, 4), 1),
    ((2, 3), (4, 5), 0),                       # outer product
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),  # listed dims, in a different order
    ((2, 3, 4), (4, 5), ([-1], [0])),          # negative dims
    ((3, 4), (4, 3), ([0, 1], [1, 0])),        # full contraction to a scalar
]


@pytest.mark.parametrize("shape_a,shape_b,dims", TENSORDOT_CASES)
def test_tensordot_gradcheck(shape_a, shape_b, dims):
    check_grad(lambda a, b: rg.tensordot(a, b, dims), *_pair(shape_a, shape_b))


@requires_torch
@pytest.mark.parametrize("shape_a,shape_b,dims", TENSORDOT_CASES)
def test_tensordot_parity(shape_a, shape_b, dims):
    check_parity(lambda a, b: rg.tensordot(a, b, dims), lambda a, b: torch.tensordot(a, b, dims),
                 *_pair(shape_a, shape_b))


@pytest.mark.parametrize("dims,message", [
    (([0], [1]), r"tensordot: contracted dimensions must match, got size 2 \(dim 0 of "
                 r"\(2, 3\)\) and 4 \(dim 1 of \(3, 4\)\)"),
    (3, "tensordot: dims=3 is out of range"),
    (([0, 1], [0]), "as many dimensions"),
])
def test_tensordot_errors(dims, message):
    with pytest.raises(RuntimeError, match=message):
        rg.tensordot(rg.zeros(2, 3), rg.zeros(3, 4), dims)


# ----------------------------------------------------------------------------------- einsum
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),    # ellipses of different lengths
    ("...ij,...jk->...ik", [(2, 3), (3, 4)]),             # empty ellipses
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),    # attention scores
    ("ij,jk", [(2, 3), (3, 4)]),                          # implicit output
    ("ba,ac", [(2, 3), (3, 4)]),                          # implicit output, sorted: 'bc'
    ("ij->", [(2, 3)]),                                   # total sum
    ("ij->i", [(2, 3)]),                                  # index only its own operand has
    ("ij,j->i", [(2, 3), (1,)]),                          # size-1 index broadcast
    ("ij,ij->ij", [(1, 3), (2, 3)]),                      # elementwise, broadcasting
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),            # three operands
    ("i...j,j->...i", [(2, 5, 3), (3,)]),                 # ellipsis in the middle
    ("...ij->ij", [(2, 3, 4)]),                           # ellipsis summed away
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),             # spaces
    ("ij,jk->ik", [(0, 3), (3, 4)]),                      # empty
    ("Ab,bC->AC", [(2, 3), (3, 4)]),                      # upper-case indices
]


def _operands(shapes):
    return [randn(*s, seed=i + 1) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_einsum_gradcheck(equation, shapes):
    check_grad(lambda *ops: rg.einsum(equation, *ops), *_operands(shapes))


@requires_torch
@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_einsum_parity(equation, shapes):
    check_parity(lambda *ops: rg.einsum(equation, *ops),
                 lambda *ops: torch.einsum(equation, *ops), *_operands(shapes))


@pytest.mark.parametrize("equation,shapes", [("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
                                             ("ij->i", [(2, 3)]),
                                             ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)])])
def test_einsum_double_backward(equation, shapes):
    ops = [rg.tensor(a, requires_grad=True) for a in _operands(shapes)]
    assert rg.autograd.gradgradcheck(lambda *t: rg.einsum(equation, *t), tuple(ops))


def test_einsum_accepts_a_list_of_operands():
    a, b = rg.randn(2, 3), rg.randn(3, 4)
    np.testing.assert_allclose(rg.einsum("ij,jk->ik", [a, b]).numpy(), (a @ b).numpy(),
                               rtol=1e-6)


def test_einsum_large_contraction_matches_numpy():
    # Big enough to take the BLAS-planned path.
    a, b = randn(64, 128, dtype=np.float32), randn(128, 96, seed=1, dtype=np.float32)
    out = rg.einsum("ij,jk->ik", rg.tensor(a), rg.tensor(b))
    assert out.dtype == rg.float32
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("equation,shapes,error,message", [
    ("ii->i", [(3, 3)], NotImplementedError, "index 'i' repeats within operand 0"),
    ("ij,jk->ik", [(2, 3)], ValueError, "2 operand subscripts but 1 operands"),
    ("ijk->i", [(2, 3)], ValueError, "operand 0 has 2 dimensions but its subscripts 'ijk'"),
    ("ij,jk->ik", [(2, 3), (4, 5)], RuntimeError,
     r"index 'j' has size 3 in operand 0 \(shape \(2, 3\)\) but size 4 in operand 1"),
    ("ij->k", [(2, 3)], ValueError, "output index 'k' does not appear"),
    ("ij->ii", [(2, 3)], ValueError, "output index 'i' appears more than once"),
    ("i1->i", [(2, 3)], ValueError, "invalid character"),
    ("i..j->ij", [(2, 3)], ValueError, "malformed ellipsis"),
])
def test_einsum_errors(equation, shapes, error, message):
    with pytest.raises(error, match=message):
        rg.einsum(equation, *(rg.zeros(s) for s in shapes))


def test_einsum_dtype_mismatch_raises():
    with pytest.raises(RuntimeError, match="einsum: expected operands of one dtype"):
        rg.einsum("i,i->", rg.ones(2), rg.ones(2, dtype=rg.float64))
