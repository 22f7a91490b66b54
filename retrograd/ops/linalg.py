"""Products of tensors: ``einsum`` and the contractions that are special cases of it
(``matmul``, ``mm``, ``bmm``, ``dot``, ``outer``, ``tensordot``).

Every product here is an Einstein sum ``out[o] = sum over the other indices of
prod_k operand_k[s_k]``. Its gradient with respect to one operand is again an Einstein sum: the
incoming gradient times all the other operands, summed over every index the operand does not
carry. For ``C = A @ B`` (``ik = ij,jk``) that gives ``dA = dC B^T`` (``ij = ik,jk``) and
``dB = A^T dC`` (``jk = ij,ik``). So one ``Function`` and one backward rule serve all these ops,
and gradients of gradients are einsums too.

Two details of that rule:
 - an index that only its own operand carries (summed in the forward, e.g. ``j`` in ``ij->i``)
   appears in no other factor, so the gradient is copied along it: a ones vector carries it;
 - batch dimensions that broadcast (size 1 against n) come back with size n and are summed by
   the engine, like any broadcast.

Ellipses are expanded into explicit index letters (aligned from the right, as in broadcasting)
before anything else, so the rest of the code only sees letters.
"""
import builtins
import functools
import math
import string
from typing import NamedTuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import coerce, normalize_dim
from .conversion import broadcast_to

__all__ = ["einsum", "matmul", "mm", "bmm", "dot", "vdot", "outer", "ger", "tensordot"]

# Below this many multiply-adds NumPy's plain einsum loop beats the ~15 us that planning a
# BLAS-backed contraction order costs (measured on 2-operand products).
_PLANNING_PAYS_FROM = 2 ** 16


class _EinsumSpec(NamedTuple):
    """A parsed equation: one string of index letters per operand, and the output's."""
    inputs: tuple
    output: str

    @property
    def equation(self):
        return ",".join(self.inputs) + "->" + self.output


class Einsum(Function):
    """d einsum(ops) = sum_k einsum(ops with d op_k in place of op_k); so grad op_k =
    einsum(grad, the other operands -> subscripts of op_k)"""

    @staticmethod
    def forward(ctx, spec, *operands):
        ctx.spec = spec
        ctx.save_for_backward(*operands)
        arrays = [t.array for t in operands]
        return np.einsum(spec.equation, *arrays, optimize=_worth_planning(spec, arrays))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return (None,) + tuple(
            _operand_grad(ctx.spec, k, grad, operands) if needed else None
            for k, needed in enumerate(ctx.needs_input_grad[1:]))


class Matmul(Einsum):
    """d (a @ b) = da @ b + a @ db, so grad a = grad @ b^T and grad b = a^T @ grad (Einsum's
    backward; NumPy's matmul runs the forward)"""

    @staticmethod
    def forward(ctx, spec, a, b):
        ctx.spec = spec
        ctx.save_for_backward(a, b)
        return np.matmul(a.array, b.array)


def _worth_planning(spec, arrays):
    if len(arrays) > 2:  # the contraction order can change the cost by orders of magnitude
        return True
    sizes = {}
    for subscripts, array in zip(spec.inputs, arrays):
        sizes.update(zip(subscripts, array.shape))
    return math.prod(sizes.values()) > _PLANNING_PAYS_FROM


def _operand_grad(spec, k, grad, operands):
    """The gradient for operand ``k``: the incoming gradient contracted with the others."""
    target = spec.inputs[k]
    others = [(s, t) for i, (s, t) in enumerate(zip(spec.inputs, operands)) if i != k]
    present = set(spec.output).union(*(s for s, _ in others))
    # Indices summed in the forward that only operand k carries: the gradient is the same at
    # every position along them, so a ones factor spreads it there.
    own = "".join(c for c in target if c not in present)
    factors = [(spec.output, grad)] + others
    if own:
        shape = tuple(operands[k].shape[target.index(c)] for c in own)
        factors.append((own, Tensor._make(np.ones(shape, dtype=grad.dtype))))
    equation = ",".join(s for s, _ in factors) + "->" + target
    result = Einsum.apply(_spec_for(equation, tuple(t.ndim for _, t in factors)),
                          *(t for _, t in factors))
    # An index of size n in operand k but 1 in every other factor broadcast in the forward:
    # spread the gradient along it. (Size 1 in operand k against n elsewhere is summed by the
    # engine.)
    if result.shape == operands[k].shape:
        return result
    spread = np.broadcast_shapes(result.shape, operands[k].shape)
    return result if spread == result.shape else broadcast_to(result, spread)


@functools.lru_cache(maxsize=1024)
def _spec_for(equation, ndims):
    """Parses ``equation`` for operands of ``ndims`` dimensions, expanding ellipses."""
    equation = equation.replace(" ", "")
    if any(c not in string.ascii_letters + ".,->" for c in equation):
        raise ValueError(f"einsum: invalid character in equation {equation!r}: only letters, "
                         "',', '->' and '...' are allowed")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand "
                         f"subscripts but {len(ndims)} operands were given")
    used = set(c for c in equation if c in string.ascii_letters)
    fresh = [c for c in string.ascii_letters if c not in used]
    ellipsis_ndims = [_ellipsis_ndim(term, ndim, k) for k, (term, ndim) in
                      enumerate(zip(terms, ndims))]
    batch_ndim = builtins.max([n for n in ellipsis_ndims if n is not None], default=0)
    if batch_ndim > len(fresh):
        raise ValueError(f"einsum: {batch_ndim} broadcast dimensions need more free index "
                         f"letters than remain in {equation!r}")
    batch = "".join(fresh[:batch_ndim])
    inputs = tuple(term.replace("...", batch[batch_ndim - n:]) if n is not None else term
                   for term, n in zip(terms, ellipsis_ndims))
    for k, term in enumerate(inputs):
        repeated = sorted(c for c in set(term) if term.count(c) > 1)
        if repeated:
            raise NotImplementedError(
                f"einsum: index {repeated[0]!r} repeats within operand {k} ({terms[k]!r}); "
                "taking diagonals is not supported")
    if arrow:
        if "." in rhs.replace("...", ""):
            raise ValueError(f"einsum: malformed ellipsis in the output of {equation!r}")
        output = rhs.replace("...", batch)
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"einsum: output index {c!r} appears more than once in "
                                 f"{equation!r}")
            if not any(c in term for term in inputs):
                raise ValueError(f"einsum: output index {c!r} does not appear in the operands "
                                 f"of {equation!r}")
    else:  # implicit: broadcast dims, then the indices that occur once, in alphabetical order
        counts = "".join(terms)
        output = batch + "".join(sorted(c for c in set(counts) if counts.count(c) == 1
                                        and c in string.ascii_letters))
    return _EinsumSpec(inputs, output)


def _ellipsis_ndim(term, ndim, k):
    """How many dimensions the '...' of operand ``k`` stands for (None: it has none)."""
    if "." in term.replace("...", "") or term.count("...") > 1:
        raise ValueError(f"einsum: malformed ellipsis in operand {k} ({term!r})")
    letters = len(term.replace("...", ""))
    if "..." not in term:
        if letters != ndim:
            raise ValueError(f"einsum: operand {k} has {ndim} dimensions but its subscripts "
                             f"{term!r} name {letters}")
        return None
    if letters > ndim:
        raise ValueError(f"einsum: operand {k} has {ndim} dimensions but its subscripts "
                         f"{term!r} name {letters} besides the ellipsis")
    return ndim - letters


def _check_sizes(op, spec, operands):
    """Each index must have one size across operands (or be 1 where it broadcasts)."""
    sizes = {}
    for k, (term, t) in enumerate(zip(spec.inputs, operands)):
        for c, n in zip(term, t.shape):
            first = sizes.setdefault(c, (n, k, t.shape))
            if n != first[0] and 1 not in (n, first[0]):
                raise RuntimeError(
                    f"{op}: index {c!r} has size {first[0]} in operand {first[1]} (shape "
                    f"{first[2]}) but size {n} in operand {k} (shape {tuple(t.shape)})")


def _same_dtype(op, operands):
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise RuntimeError(f"{op}: expected operands of one dtype, got "
                           f"{', '.join(str(t.dtype) for t in operands)}")


# ------------------------------------------------------------------- functional interface
def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands may also be given
    as one list. Implicit output (no '->') and '...' for broadcast dimensions are supported;
    an index repeated within one operand (a diagonal) is not."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum: operands must be tensors")
    _same_dtype("einsum", operands)
    spec = _spec_for(equation, tuple(t.ndim for t in operands))
    _check_sizes("einsum", spec, operands)
    return Einsum.apply(spec, *operands)


def matmul(input, other):
    """PyTorch's matmul: 1-D operands act as a row (left) or column (right) vector that is
    dropped from the result; leading (batch) dimensions broadcast."""
    return _matmul("matmul", input, other)


def _matmul(op, a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need to be at least 1-D, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    _same_dtype(op, (a, b))
    left = "k" if a.ndim == 1 else "...mk"
    right = "k" if b.ndim == 1 else "...kn"
    out = ("..." if a.ndim > 1 or b.ndim > 1 else "") + ("m" if a.ndim > 1 else "") + (
        "n" if b.ndim > 1 else "")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                           f"multiplied ({k_a} != {k_b})")
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    if batch_a != batch_b:
        try:
            np.broadcast_shapes(batch_a, batch_b)
        except ValueError:
            raise RuntimeError(f"{op}: batch dimensions {batch_a} and {batch_b} of shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from None
    spec = _spec_for(f"{left},{right}->{out}", (a.ndim, b.ndim))
    return Matmul.apply(spec, a, b)


def _check_ndim(op, tensors, ndim):
    for name, t in tensors:
        if t.ndim != ndim:
            raise RuntimeError(f"{op}: expected {name} to be {ndim}-D, got shape "
                               f"{tuple(t.shape)}")


def mm(input, mat2):
    """Matrix product of two 2-D tensors (no broadcasting)."""
    _check_ndim("mm", (("input", input), ("mat2", mat2)), 2)
    return _matmul("mm", input, mat2)


def bmm(input, mat2):
    """Batched matrix product of 3-D tensors with the same batch size (no broadcasting)."""
    _check_ndim("bmm", (("input", input), ("mat2", mat2)), 3)
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return _matmul("bmm", input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same size."""
    _check_ndim("dot", (("input", input), ("other", other)), 1)
    if input.shape != other.shape:
        raise RuntimeError(f"dot: expected 1-D tensors of the same size, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    return _matmul("dot", input, other)


vdot = dot  # real tensors only: no conjugation to do


def outer(input, vec2):
    """Outer product ``out[i, j] = input[i] * vec2[j]`` of two 1-D tensors."""
    _check_ndim("outer", (("input", input), ("vec2", vec2)), 1)
    return einsum("i,j->ij", *coerce(input, vec2))


ger = outer


def tensordot(a, b, dims=2):
    """Sums products over the last ``dims`` dimensions of ``a`` and the first ``dims`` of
    ``b``, or over the dimensions listed in ``dims = (dims_a, dims_b)``."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (builtins.int, np.integer)):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is out of range for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = (list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"tensordot: both sides must list as many dimensions, got "
                           f"{dims_a} and {dims_b}")
    _same_dtype("tensordot", (a, b))
    dims_a = [normalize_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim, "tensordot") for d in dims_b]
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"tensordot: contracted dimensions must match, got size "
                               f"{a.shape[da]} (dim {da} of {tuple(a.shape)}) and "
                               f"{b.shape[db]} (dim {db} of {tuple(b.shape)})")
        sub_b[db] = sub_a[da]
    contracted = {sub_a[d] for d in dims_a}
    output = [c for c in sub_a + sub_b if c not in contracted]
    return einsum("".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(output), a, b)
