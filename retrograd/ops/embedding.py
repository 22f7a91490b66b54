"""Embedding lookup: ``out[..., :] = weight[indices[...], :]``.

The lookup gathers rows, so its gradient scatters them back: row ``r`` of the weight's gradient
is the sum of the output gradients at every position whose index is ``r`` (indices that repeat
accumulate). That sum is a product with a sparse one-hot matrix, ``grad_weight = onehot^T @
grad_rows`` with ``onehot[n, indices[n]] = 1``. Measured for a (10000, 128) float32 weight and
32 x 100 indices: SciPy's sparse product takes 0.5 ms; NumPy-only forms take 2.4 ms (one
``bincount`` over flattened (row, column) bins, the fallback used without SciPy), 3.8 ms (sort
+ ``add.reduceat``), 4.5 ms (``add.at``) and 6.6 ms (a ``bincount`` per column).

PyTorch's options change the gradient only: the ``padding_idx`` row gets none, and
``scale_grad_by_freq`` divides each row's gradient by how often its index occurs in the batch.
Both scale rows of the accumulated gradient (by 0, or by 1/count).
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

try:
    import scipy.sparse as _sparse
except ImportError:  # pragma: no cover - exercised only where SciPy is missing
    _sparse = None

__all__ = ["embedding"]


def accumulate_rows(rows, indices, num_rows):
    """A (num_rows, D) array whose row r is the sum of ``rows[n]`` over ``indices[n] == r``."""
    count, width = rows.shape
    if _sparse is not None:
        dtype = np.promote_types(rows.dtype, np.float32)  # SciPy's sparse has no float16
        one_hot = _sparse.csr_matrix((np.ones(count, dtype), (indices, np.arange(count))),
                                     shape=(num_rows, count))
        return np.asarray(one_hot @ rows.astype(dtype, copy=False)).astype(rows.dtype,
                                                                          copy=False)
    bins = (indices[:, None] * width + np.arange(width)).ravel()
    sums = np.bincount(bins, weights=rows.ravel(), minlength=num_rows * width)
    return sums.reshape(num_rows, width).astype(rows.dtype, copy=False)


class Embedding(Function):
    """d weight[indices] = rows of d(out) accumulated at their indices (then row-scaled)"""

    @staticmethod
    def forward(ctx, weight, indices, row_scale):
        ctx.indices, ctx.num_rows, ctx.row_scale = indices, weight.shape[0], row_scale
        return weight.array[indices]

    @staticmethod
    def backward(ctx, grad):
        return AccumulateRows.apply(grad, ctx.indices, ctx.num_rows, ctx.row_scale), None, None


class AccumulateRows(Function):
    """The lookup's backward, a linear map of its input ``g``: ``S(g) * scale`` per row. Its
    own gradient is the adjoint, the lookup of the row-scaled incoming gradient (this is
    what makes double backward through an embedding work)."""

    @staticmethod
    def forward(ctx, grad, indices, num_rows, row_scale):
        ctx.indices, ctx.row_scale = indices, row_scale
        width = grad.shape[-1]
        out = accumulate_rows(grad.array.reshape(-1, width), indices.reshape(-1), num_rows)
        if row_scale is not None:
            rows, factors = row_scale
            dropped = factors == 0  # set, not multiplied: 0 * inf would be NaN
            out[rows[~dropped]] *= factors[~dropped, None].astype(out.dtype)
            out[rows[dropped]] = 0
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.row_scale is not None:
            rows, factors = ctx.row_scale
            scale = np.ones((grad.shape[0], 1), dtype=grad.dtype)
            scale[rows, 0] = factors
            grad = grad * Tensor._make(scale)
        return Embedding.apply(grad, ctx.indices, None), None, None, None


def _row_scale(indices, padding_idx, scale_grad_by_freq):
    """Rows of the weight gradient that get a factor and their factors (0 for the padding row,
    1/count under ``scale_grad_by_freq``), or None when every factor is 1."""
    if scale_grad_by_freq:
        rows, counts = np.unique(indices, return_counts=True)
        factors = 1.0 / counts
        if padding_idx is not None:
            factors[rows == padding_idx] = 0.0
        return rows, factors
    if padding_idx is not None:
        return np.array([padding_idx]), np.zeros(1)
    return None


def _renormalize_(weight, indices, max_norm, norm_type):
    """Rescales, in place, the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` to
    norm ``max_norm`` (PyTorch's ``embedding_renorm_``, no gradient recorded)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight.array[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        scale = max_norm / (norms[too_long] + 1e-7)
        weight.array[rows[too_long]] *= scale[:, None].astype(weight.dtype)
        weight._version += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, D) picked by the integer tensor ``input``: the
    result has shape ``input.shape + (D,)``. ``padding_idx`` (may be negative) gets no gradient;
    ``max_norm`` renormalises the looked-up rows of ``weight`` in place first."""
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use "
                                  "sparse=False (gradients are dense)")
    indices = input.array if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected indices of an integer dtype (int64 or int32), "
                           f"got {indices.dtype}")
    if weight.dim() != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(weight.shape)}")
    num_rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num_rows):
        raise IndexError(f"embedding: index out of range: indices must be in [0, {num_rows}) "
                         f"for a weight of shape {tuple(weight.shape)}, got values in "
                         f"[{indices.min()}, {indices.max()}]")
    if padding_idx is not None:
        if not -num_rows <= padding_idx < num_rows:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings "
                             f"({num_rows}), got {padding_idx}")
        padding_idx %= num_rows
    if max_norm is not None:
        _renormalize_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices,
                                 _row_scale(indices, padding_idx, scale_grad_by_freq))
