"""Indexing: reading elements at positions, and writing values back to positions.

Everything here rests on two differentiable primitives, each the other's adjoint:

* ``getitem``: ``y = x[index]`` reads elements. Its gradient puts ``dy`` back where each
  element came from, *adding* where a position was read more than once: ``x[[0, 0]]`` uses
  ``x[0]`` twice, so ``dx[0] = dy[0] + dy[1]``.
* ``index_put``: ``y = x`` except ``y[index] = v`` (or ``+= v`` when accumulating). Its gradient
  is ``dv = dy[index]`` for the values, and ``dy`` for ``x``, zeroed at the overwritten
  positions unless accumulating.

As each backward is written with the other op, both are differentiable to any order. ``gather``,
``scatter``, ``index_select``, ``take``, ... are the two primitives with an index built for them;
``sort`` and ``topk`` find positions, then gather the values there, so gradients reach the input
through the positions.

Index semantics are PyTorch's: integers, slices, ``None`` and ``...`` are applied first (a view,
like NumPy's basic indexing); the index tensors, arrays and lists that remain then follow NumPy's
advanced indexing (broadcast together; their dimensions replace the indexed ones in place when
they are adjacent, else they come first). This differs from NumPy where an integer sits among
index arrays: ``x[:, 0, :, [1, 2]]`` has shape ``(A, C, 2)`` here and in PyTorch, ``(2, A, C)``
in NumPy.

Summing gradient rows that land on the same position is a product with a one-hot matrix,
``dx = onehot(positions)^T @ dy``. For an embedding-sized gather (50,000 rows of 128 floats out
of 10,000) SciPy's sparse product takes about 6 ms, ``np.bincount`` 30 ms and ``np.add.at``
75 ms; without SciPy ``np.bincount`` does it.
"""
import builtins
import math
import operator
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import normalize_dim
from .conversion import broadcast_to, to_dtype
from .elementwise import where

try:
    from scipy import sparse as _sparse
except ImportError:  # pragma: no cover - exercised only where SciPy is missing
    _sparse = None

__all__ = ["getitem", "index_put", "index_select", "index_add", "gather", "scatter",
           "scatter_add", "take", "take_along_dim", "masked_fill", "masked_select", "sort",
           "argsort", "topk", "nonzero"]

_SortResult = namedtuple("sort", ["values", "indices"])
_TopkResult = namedtuple("topk", ["values", "indices"])


# --------------------------------------------------------------------------- parsed indices
class _Index:
    """An index ready to apply: ``basic`` (ints, slices, None), applied first, gives a view;
    ``advanced``, if not None, then has one entry per leading dimension of that view: a full
    slice, or an int64 array of in-range, non-negative positions (the arrays broadcast
    together)."""

    __slots__ = ("basic", "advanced", "array_dims")

    def __init__(self, basic, advanced=None):
        self.basic = tuple(basic) + (Ellipsis,)  # with ``...`` even a 0-d result is a view
        self.advanced = None if advanced is None else tuple(
            a if isinstance(a, slice) else np.asarray(a) for a in advanced)
        self.array_dims = [] if advanced is None else [
            d for d, a in enumerate(self.advanced) if not isinstance(a, slice)]

    def read(self, array):
        view = array[self.basic]
        if self.advanced is None:
            return view
        if len(self.array_dims) == 1:  # np.take is 1.3-1.8x faster than fancy indexing
            dim = self.array_dims[0]
            return np.take(view, self.advanced[dim], axis=dim)
        return view[self.advanced]

    def write(self, out, values, accumulate):
        """``out[index] = values`` in place, or ``+=``, summing at repeated positions."""
        view = out[self.basic]
        if self.advanced is None:  # a view's positions are distinct: a plain assignment
            if accumulate:
                view += values
            else:
                view[...] = values
        elif not accumulate:
            view[self.advanced] = values  # at a repeated position, one of the writes wins
        else:
            self._accumulate(view, values)

    def result_shape(self, shape):
        """The shape of ``x[index]`` for ``x`` of ``shape``."""
        view_shape = np.broadcast_to(np.empty((), np.uint8), shape)[self.basic].shape
        if self.advanced is None:
            return view_shape
        block, rest, at = self._layout(view_shape)
        rest_shape = tuple(view_shape[d] for d in rest)
        return rest_shape[:at] + block + rest_shape[at:]

    def _layout(self, view_shape):
        """The result of the advanced step is ``rest[:at] + block + rest[at:]``: ``block`` is
        the broadcast shape of the index arrays, ``rest`` the view's other dimensions."""
        dims = self.array_dims
        block = np.broadcast_shapes(*(self.advanced[d].shape for d in dims))
        rest = [d for d in range(len(view_shape)) if d not in dims]
        adjacent = dims[-1] - dims[0] == len(dims) - 1
        return block, rest, dims[0] if adjacent else 0

    def _accumulate(self, view, values):
        """``view[advanced] += values`` summing repeats: each index tuple names one row of the
        view (with the indexed dimensions moved first), each row of values is added there."""
        dims = self.array_dims
        block, rest, at = self._layout(view.shape)
        rest_shape = tuple(view.shape[d] for d in rest)
        values = np.broadcast_to(values, rest_shape[:at] + block + rest_shape[at:])
        values = np.moveaxis(values, range(at, at + len(block)), range(len(block)))
        rows = values.reshape(math.prod(block), math.prod(rest_shape))
        indexed_shape = tuple(view.shape[d] for d in dims)
        row_of = np.ravel_multi_index([self.advanced[d] for d in dims], indexed_shape)
        sums = _sum_rows(np.broadcast_to(row_of, block).ravel(), rows, math.prod(indexed_shape))
        view.transpose(dims + rest)[...] += sums.reshape(indexed_shape + rest_shape)


def _sum_rows(row_of, rows, num_rows):
    """``out[i] = sum of rows[j] over the j with row_of[j] == i``, i.e. onehot^T @ rows."""
    count, width = rows.shape
    if _sparse is not None:
        dtype = np.float32 if rows.dtype == np.float16 else rows.dtype  # SciPy has no float16
        onehot_t = _sparse.csc_matrix((np.ones(count, dtype), row_of, np.arange(count + 1)),
                                      shape=(num_rows, count))
        return np.asarray(onehot_t @ rows.astype(dtype, copy=False)).astype(rows.dtype,
                                                                           copy=False)
    if rows.dtype.kind == "f":
        flat = (row_of[:, None] * width + np.arange(width)).ravel()
        sums = np.bincount(flat, weights=rows.ravel(), minlength=num_rows * width)
        return sums.reshape(num_rows, width).astype(rows.dtype)
    # Integers (bincount would sum them as float64, inexact beyond 2**53) and complex.
    out = np.zeros((num_rows, width), rows.dtype)
    np.add.at(out, row_of, rows)
    return out


def _as_index_array(index):
    if isinstance(index, Tensor):
        return index.array
    array = np.asarray(index)
    if array.size == 0 and array.dtype.kind == "f":  # ``[]`` is an empty list of positions
        return array.astype(np.int64)
    return array


def _index_array(op, index):
    """An index argument (integer tensor, array or list) as an int64 array."""
    array = _as_index_array(index)
    if array.dtype.kind not in "iu":
        raise IndexError(f"{op}: expected an integer index tensor, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _in_range(op, index, size, dim, negative_ok=True):
    """``index`` (an int64 array) with negative positions counted from the end; raises
    IndexError naming the first position outside a dimension of ``size``."""
    if index.size == 0:
        return index
    lowest = -size if negative_ok else 0
    low, high = index.min(), index.max()
    if low < lowest or high >= size:
        bad = index[(index < lowest) | (index >= size)][0]
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size "
                         f"{size}")
    return index + size * (index < 0) if low < 0 else index


def _index_item(op, item):
    """One entry of an index as an int, slice, None, Ellipsis, bool, or int64/bool array."""
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        if item.step is not None and operator.index(item.step) <= 0:
            raise ValueError(f"{op}: step must be greater than zero, got {item.step}")
        return item
    if isinstance(item, (builtins.bool, np.bool_)):
        return builtins.bool(item)
    if isinstance(item, (builtins.int, np.integer)):
        return builtins.int(item)
    if not isinstance(item, (Tensor, np.ndarray, list, tuple)):
        raise IndexError(f"{op}: only integers, slices (`:`), ellipsis (`...`), None and "
                         f"integer or boolean tensors are valid indices (got "
                         f"{type(item).__name__})")
    array = _as_index_array(item)
    if array.dtype == np.bool_ or array.dtype == np.uint8:  # uint8: PyTorch's legacy masks
        array = array.astype(np.bool_, copy=False)
        return builtins.bool(array) if array.ndim == 0 else array
    if array.dtype.kind not in "iu":
        raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool "
                         f"tensors, got dtype {array.dtype}")
    return builtins.int(array) if array.ndim == 0 else array.astype(np.int64, copy=False)


def _dims_indexed(item):
    if item is None or item is Ellipsis or isinstance(item, builtins.bool):
        return 0
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return item.ndim
    return 1


def _parse(op, shape, index):
    """A PyTorch index (see the module docstring) for a tensor of ``shape`` as an ``_Index``."""
    items = [_index_item(op, item) for item in (index if type(index) is tuple else (index,))]
    indexed = builtins.sum(_dims_indexed(item) for item in items)
    if indexed > len(shape):
        raise IndexError(f"{op}: too many indices for tensor of dimension {len(shape)}")
    if builtins.sum(item is Ellipsis for item in items) > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    basic, advanced = [], []  # ``advanced`` has an entry per dimension of the basic view
    dim = 0  # the next dimension of x to index
    for item in items:
        if item is Ellipsis:
            skipped = len(shape) - indexed
            basic += [slice(None)] * skipped
            advanced += [slice(None)] * skipped
            dim += skipped
        elif item is None or item is True:
            basic.append(None)
            advanced.append(slice(None))
        elif item is False:  # a new dimension of size 0: nothing selected in a new one of size 1
            basic.append(None)
            advanced.append(np.zeros(0, np.int64))
        elif isinstance(item, slice):
            basic.append(item)
            advanced.append(slice(None))
            dim += 1
        elif isinstance(item, builtins.int):
            basic.append(builtins.int(_in_range(op, np.asarray(item), shape[dim], dim)))
            dim += 1
        elif item.dtype == np.bool_:
            if item.shape != shape[dim:dim + item.ndim]:
                raise IndexError(f"{op}: the shape of the mask {item.shape} at index {dim} does "
                                 f"not match the shape of the indexed tensor {shape}")
            basic += [slice(None)] * item.ndim
            advanced += np.nonzero(item)
            dim += item.ndim
        else:
            basic.append(slice(None))
            advanced.append(_in_range(op, item, shape[dim], dim))
            dim += 1
    arrays = [a.shape for a in advanced if isinstance(a, np.ndarray)]
    if not arrays:
        return _Index(basic)
    try:
        np.broadcast_shapes(*arrays)
    except ValueError:
        raise IndexError(f"{op}: shape mismatch: indexing tensors could not be broadcast "
                         f"together with shapes {', '.join(map(str, arrays))}") from None
    return _Index(basic, advanced)


def _flat_index(shape, positions):
    """The index of the elements at ``positions`` of a tensor of ``shape`` read in row-major
    order (a 0-d tensor counts as one element)."""
    if not shape:
        return _Index((None,), (positions,))
    return _Index((), np.unravel_index(positions, shape))


def _gather_index(ndim, dim, positions):
    """The index reading ``x[i, positions[i, j, k], k]`` at each ``(i, j, k)`` (for dim 1)."""
    if ndim == 0:
        return _flat_index((), positions)
    grids = [np.arange(n).reshape([-1 if k == d else 1 for k in range(positions.ndim)])
             for d, n in enumerate(positions.shape)]
    grids[dim] = positions
    return _Index((), grids)


# --------------------------------------------------------------------------- the two primitives
class GetItem(Function):
    """d x[index] = dx[index]: dy goes back where each element was read, summed over repeats"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        ctx.input_shape = x.array.shape
        return index.read(x.array)

    @staticmethod
    def backward(ctx, grad):
        zeros = Tensor._make(np.zeros(ctx.input_shape, grad.dtype))
        return IndexPut.apply(zeros, ctx.index, grad, True), None


class IndexPut(Function):
    """d put(x, index, v) = dx where not overwritten (all of dx when accumulating) + dv[index]"""

    @staticmethod
    def forward(ctx, x, index, values, accumulate):
        ctx.index = index
        ctx.accumulate = accumulate
        out = x.array.copy()
        index.write(out, values.array, accumulate)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_x = grad if ctx.accumulate else IndexPut.apply(
                grad, ctx.index, Tensor._make(np.zeros((), grad.dtype)), False)
        if ctx.needs_input_grad[2]:
            grad_values = GetItem.apply(grad, ctx.index)
        return grad_x, None, grad_values, None


# --------------------------------------------------------------------------- functional API
def getitem(x, index):
    """``x[index]`` (see the module docstring). Integers, slices and None give a view."""
    return GetItem.apply(x, _parse("getitem", x.shape, index))


def _tensor_of(value, dtype):
    if isinstance(value, Tensor):
        return to_dtype(value, dtype)
    return Tensor._make(np.asarray(value, dtype=dtype))


def index_put(x, indices, values, accumulate=False):
    """Out of place ``x[indices] = values`` (``+=`` with ``accumulate``, which adds at repeated
    positions; without it, one of the values written to a repeated position wins). ``indices``
    is any index ``getitem`` takes (PyTorch's tuple of index tensors is one); ``values``
    broadcast to ``x[indices]``'s shape and are cast to ``x``'s dtype."""
    op = "index_put"
    parsed = _parse(op, x.shape, indices)
    values = _tensor_of(values, x.dtype)
    target = parsed.result_shape(x.shape)
    extra = values.ndim - len(target)
    if extra > 0 and builtins.all(n == 1 for n in values.shape[:extra]):
        values = GetItem.apply(values, _Index((0,) * extra))  # PyTorch drops leading 1s
    try:
        fits = np.broadcast_shapes(values.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: shape mismatch: value tensor of shape {tuple(values.shape)} "
                           f"cannot be broadcast to indexing result of shape {target}")
    return IndexPut.apply(x, parsed, values, accumulate)


def _check_same_dtype(op, x, source):
    if source.dtype != x.dtype:
        raise RuntimeError(f"{op}: expected source of the input's dtype {x.dtype}, got "
                           f"{source.dtype}")


def _select_index(op, x, dim, index):
    """The index of index_select/index_add: the positions ``index`` along ``dim``."""
    dim = normalize_dim(dim, x.ndim, op)
    index = _index_array(op, index)
    if index.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector, got shape {index.shape}")
    if x.ndim == 0:
        if index.size != 1:
            raise IndexError(f"{op}: index to a 0-d tensor can have only 1 value, got "
                             f"{index.size}")
        return _flat_index((), _in_range(op, index.reshape(()), 1, dim, negative_ok=False))
    positions = _in_range(op, index.reshape(-1), x.shape[dim], dim, negative_ok=False)
    return _Index((), (slice(None),) * dim + (positions,))


def index_select(x, dim, index):
    """The slices of ``x`` at positions ``index`` (a vector) along ``dim``."""
    return GetItem.apply(x, _select_index("index_select", x, dim, index))


def index_add(x, dim, index, source, *, alpha=1):
    """``x`` plus ``alpha * source`` added at positions ``index`` along ``dim`` (summing at
    repeated positions); ``source`` has ``x``'s shape but ``len(index)`` along ``dim``."""
    op = "index_add"
    selected = _select_index(op, x, dim, index)
    expected = selected.result_shape(x.shape)
    if tuple(source.shape) != expected:
        raise RuntimeError(f"{op}: source tensor shape must match the input's shape except in "
                           f"dimension {dim}: expected {expected}, got {tuple(source.shape)}")
    _check_same_dtype(op, x, source)
    return IndexPut.apply(x, selected, source if alpha == 1 else source * alpha, True)


def _along_dim(op, x, dim, index):
    """(index shape, ``_Index``) of gather/scatter: ``index`` has ``x``'s number of
    dimensions and is no larger than ``x`` except along ``dim``."""
    dim = normalize_dim(dim, x.ndim, op)
    index = _index_array(op, index)
    if x.ndim == 0:
        if index.ndim > 1:
            raise RuntimeError(f"{op}: index of a 0-d tensor must have at most 1 dimension, "
                               f"got shape {index.shape}")
        return index.shape, _flat_index((), _in_range(op, index, 1, dim, negative_ok=False))
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}: index tensor must have the same number of dimensions as the "
                           f"input ({x.ndim}), got shape {index.shape}")
    if builtins.any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise RuntimeError(f"{op}: index of shape {index.shape} must be no larger than the "
                           f"input's shape {tuple(x.shape)} apart from dimension {dim}")
    positions = _in_range(op, index, x.shape[dim], dim, negative_ok=False)
    return index.shape, _gather_index(x.ndim, dim, positions)


def gather(x, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` (for dim 1); ``out`` has ``index``'s shape.
    ``sparse_grad`` is accepted for compatibility; gradients are dense."""
    return GetItem.apply(x, _along_dim("gather", x, dim, index)[1])


def _scatter(op, x, dim, index, src, accumulate):
    index_shape, positions = _along_dim(op, x, dim, index)
    if isinstance(src, Tensor):
        _check_same_dtype(op, x, src)
        if src.ndim != len(index_shape) or builtins.any(
                i > n for i, n in zip(index_shape, src.shape)):
            raise RuntimeError(f"{op}: index of shape {index_shape} must be no larger than src "
                               f"of shape {tuple(src.shape)}")
        if src.shape != index_shape:  # only the part of src that index covers is used
            src = GetItem.apply(src, _Index(slice(0, n) for n in index_shape))
    else:
        src = Tensor._make(np.asarray(src, dtype=x.dtype))
    return IndexPut.apply(x, positions, src, accumulate)


def scatter(x, dim, index, src=None, value=None):
    """Out of place ``x.scatter_(dim, index, src)``: ``out[i][index[i][j]] = src[i][j]`` (for
    dim 1); ``src`` (or ``value``) may be a number. Where ``index`` repeats a position, one of
    the writes wins (PyTorch leaves which unspecified)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src and value")
    return _scatter("scatter", x, dim, index, value if src is None else src, False)


def scatter_add(x, dim, index, src):
    """``out = x`` with ``out[i][index[i][j]] += src[i][j]`` (for dim 1), summing repeats."""
    return _scatter("scatter_add", x, dim, index, src, True)


def _take(op, x, index):
    positions = _in_range(op, _index_array(op, index), x.numel(), 0)
    return GetItem.apply(x, _flat_index(x.shape, positions))


def take(x, index):
    """The elements of ``x``, read as a flat row-major vector, at ``index`` (any shape;
    negative positions count from the end)."""
    return _take("take", x, index)


def take_along_dim(x, indices, dim=None):
    """``gather`` with negative positions allowed and ``x``, ``indices`` broadcast against
    each other outside ``dim``; with ``dim=None``, ``take`` at the flattened ``indices``."""
    op = "take_along_dim"
    index = _index_array(op, indices)
    if dim is None:
        return _take(op, x, index.reshape(-1))
    if x.ndim == 0:
        raise IndexError(f"{op}: dimension specified as {dim} but tensor has no dimensions")
    dim = normalize_dim(dim, x.ndim, op)
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}: input and indices should have the same number of "
                           f"dimensions, got {x.ndim} and {index.ndim}")
    positions = _in_range(op, index, x.shape[dim], dim)
    outer = [x.shape[:dim] + x.shape[dim + 1:], index.shape[:dim] + index.shape[dim + 1:]]
    try:
        batch = np.broadcast_shapes(*outer)
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} and indices of shape "
                           f"{index.shape} cannot be broadcast outside dimension {dim}") from None
    x = broadcast_to(x, batch[:dim] + (x.shape[dim],) + batch[dim:])
    positions = np.broadcast_to(positions, batch[:dim] + (index.shape[dim],) + batch[dim:])
    return GetItem.apply(x, _gather_index(x.ndim, dim, positions))


def _bool_mask(op, mask):
    array = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a boolean mask, got dtype {array.dtype}")
    return array


def masked_fill(x, mask, value):
    """``x`` with ``value`` (a number or 0-d tensor, cast to ``x``'s dtype) where ``mask``
    (broadcast with ``x``) is True."""
    op = "masked_fill"
    mask = _bool_mask(op, mask)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"{op}: only supports a 0-dimensional value tensor, got a tensor of "
                           f"shape {tuple(value.shape)}")
    return where(Tensor._make(mask), _tensor_of(value, x.dtype), x)


def masked_select(x, mask):
    """The elements of ``x`` where ``mask`` is True (both broadcast), as a vector."""
    op = "masked_select"
    mask = _bool_mask(op, mask)
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shape of the mask {mask.shape} must be broadcastable "
                           f"with the input's shape {tuple(x.shape)}") from None
    positions = np.flatnonzero(np.broadcast_to(mask, shape))
    return GetItem.apply(broadcast_to(x, shape), _flat_index(shape, positions))


# --------------------------------------------------------------------------- sorting
def _order(array, dim, descending):
    """Positions sorting ``array`` (at least 1-d) along ``dim``, equal values in their order
    (a stable sort: PyTorch's order of ties without ``stable=True`` is unspecified, so this one
    is always right, deterministic, and costs about 1.6x NumPy's default sort); NaN counts as
    the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(array, axis=dim, kind="stable")
    # Descending yet stable: sort the reversed sequence ascending, read that backwards (equal
    # values then come in their original order) and map positions to the unreversed one.
    ascending_reversed = np.argsort(np.flip(array, dim), axis=dim, kind="stable")
    return array.shape[dim] - 1 - np.flip(ascending_reversed, dim)


def _sort_positions(op, x, dim, descending):
    """(dim, positions sorting ``x`` along ``dim``); a 0-d tensor is its own sort."""
    dim = normalize_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return dim, np.zeros((), np.int64)
    return dim, _order(x.array, dim, descending)


def _top_positions(array, k, dim, largest):
    """Positions of the ``k`` largest (smallest) values along ``dim``, sorted, for ``k`` less
    than the dimension's size: a linear-time selection of the k, then a sort of only those (in
    index order first, so that a stable sort by value leaves equal values by index)."""
    size = array.shape[dim]
    chosen = np.argpartition(array, -k if largest else k - 1, axis=dim)
    chosen = chosen[(slice(None),) * dim + (slice(size - k, None) if largest else slice(0, k),)]
    chosen = np.sort(chosen, axis=dim)
    order = _order(np.take_along_axis(array, chosen, axis=dim), dim, largest)
    return np.take_along_axis(chosen, order, axis=dim)


def _values_at(x, dim, positions, result_type):
    """``result_type(values, indices)`` with the values of ``x`` at ``positions`` along
    ``dim``: gathered, so that gradients flow back through the positions."""
    values = GetItem.apply(x, _gather_index(x.ndim, dim, positions))
    return result_type(values, Tensor._make(positions))


def sort(x, dim=-1, descending=False, stable=False):
    """``(values, indices)``: ``x`` sorted along ``dim``, ``values = x.gather(dim, indices)``.
    NaN sorts as the largest value; equal values keep their order, whatever ``stable`` says."""
    dim, positions = _sort_positions("sort", x, dim, descending)
    return _values_at(x, dim, positions, _SortResult)


def argsort(x, dim=-1, descending=False, stable=False):
    """The indices that sort ``x`` along ``dim`` (those of ``sort``)."""
    return Tensor._make(_sort_positions("argsort", x, dim, descending)[1])


def topk(x, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (or smallest) elements along ``dim``, always
    in sorted order, equal values by increasing index. Which of several equal values at the
    k-th place are chosen is unspecified, as in PyTorch."""
    dim = normalize_dim(dim, x.ndim, "topk")
    size = x.shape[dim] if x.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range: k={k} but dimension {dim} has "
                           f"size {size}")
    if x.ndim == 0 or k == size:
        positions = _sort_positions("topk", x, dim, largest)[1]
    else:
        positions = _top_positions(x.array, k, dim, largest)
    return _values_at(x, dim, positions, _TopkResult)


def nonzero(x, *, as_tuple=False):
    """The positions of nonzero elements: an ``(n, x.ndim)`` int64 tensor, or with
    ``as_tuple`` one vector per dimension (a 0-d tensor counts as one of a single element)."""
    array = x.array if isinstance(x, Tensor) else np.asarray(x)
    if as_tuple:
        return tuple(Tensor._make(p.astype(np.int64, copy=False))
                     for p in np.nonzero(np.atleast_1d(array)))
    return Tensor._make(np.argwhere(array).astype(np.int64, copy=False))
