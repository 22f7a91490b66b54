"""Helpers shared by the ops: turning operands into tensors with PyTorch's type promotion,
and normalising ``dim``/shape arguments."""
import builtins

import numpy as np

from .. import _dtype
from ..tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dtype):
    return _CATEGORY[np.dtype(dtype).kind]


def _python_scalar_dtype(value):
    if isinstance(value, builtins.bool):
        return _dtype.bool
    if isinstance(value, builtins.int):
        return _dtype.int64
    if isinstance(value, builtins.float):
        return _dtype.get_default_dtype()
    if isinstance(value, complex):
        return _dtype.complex64
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def result_type(*operands):
    """PyTorch's promotion: dimensioned tensors decide, then 0-d tensors, then Python scalars;
    a lower group changes the result only if its category (bool < int < float < complex) is
    higher."""
    groups = ([], [], [])  # dimensioned tensors/arrays, 0-d tensors/arrays, Python scalars
    for x in operands:
        if isinstance(x, Tensor):
            groups[0 if x.array.ndim else 1].append(x.array.dtype)
        elif isinstance(x, (np.ndarray, np.generic)):
            groups[0 if np.ndim(x) else 1].append(x.dtype)
        elif x is not None:
            groups[2].append(_python_scalar_dtype(x))
    result = None
    for level, dtypes in enumerate(groups):
        if not dtypes:
            continue
        if level == 2:
            promoted = dtypes[0]
            for d in dtypes[1:]:
                promoted = np.promote_types(promoted, d)
        else:
            promoted = np.result_type(*dtypes)
        if result is None:
            result = promoted
        elif _category(promoted) > _category(result):
            if level == 2 and _category(promoted) == 2:
                promoted = _dtype.get_default_dtype()
            result = promoted
    return result


def as_tensor_like(value, like):
    """``value`` as a tensor; Python scalars take ``like``'s dtype when of the same category."""
    if isinstance(value, Tensor):
        return value
    return Tensor._make(np.asarray(value, dtype=result_type(like, value)))


def coerce(*operands):
    """Operands as tensors of one common dtype (PyTorch's promotion rules). Casting a tensor
    that requires grad records a cast, so its gradient comes back in its own dtype."""
    # Fast paths: two tensors of one dtype; a tensor with a Python scalar of no higher
    # category.
    if len(operands) == 2:
        first, second = operands
        if isinstance(first, Tensor):
            if isinstance(second, Tensor):
                if second.array.dtype == first.array.dtype:
                    return operands
            elif _scalar_fits(second, first.array.dtype):
                return first, Tensor._make(np.asarray(second, dtype=first.array.dtype))
        elif isinstance(second, Tensor) and _scalar_fits(first, second.array.dtype):
            return Tensor._make(np.asarray(first, dtype=second.array.dtype)), second
    dtype = result_type(*operands)
    out = []
    for x in operands:
        if not isinstance(x, Tensor):
            x = Tensor._make(np.asarray(x, dtype=dtype))
        elif x.array.dtype != dtype:
            x = x.to(dtype)
        out.append(x)
    return tuple(out)


def _scalar_fits(value, dtype):
    """True if Python scalar ``value`` takes ``dtype`` under PyTorch's promotion."""
    kind = dtype.kind
    if type(value) is builtins.float:
        return kind in "fc"
    return type(value) is builtins.int and kind in "iufc"


def normalize_dim(dim, ndim, op="op"):
    """A possibly negative ``dim`` as an index in ``range(ndim)`` (0-d tensors accept 0 and -1)."""
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


def normalize_dims(dim, ndim, op="op"):
    """``dim`` (None, int, or tuple/list) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (builtins.int, np.integer)):
        dim = (dim,)
    axes = tuple(sorted({normalize_dim(d, ndim, op) for d in dim}))
    if ndim == 0:
        return ()
    return axes


def shape_arg(shape):
    """Accepts ``f(2, 3)`` and ``f((2, 3))`` (PyTorch allows both for sizes)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if len(shape) == 1 and isinstance(shape[0], Tensor):
        shape = shape[0].tolist()
    return tuple(builtins.int(s) for s in shape)
