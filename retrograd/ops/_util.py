"""Helpers shared by the ops: turning operands into tensors with PyTorch's type promotion,
and normalising ``dim``/shape arguments."""
import builtins

import numpy as np

from .. import _dtype
from ..tensor import Tensor

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dtype):
    return _CATEGORY[np.dtype(dtype).kind]


def _scalar_dtype(value):
    """The dtype a Python (or NumPy) scalar stands for: PyTorch treats NumPy scalars like Python
    numbers, and floating scalars take the default dtype (``np.float64(2.0) * x`` keeps the
    dtype of a float32 ``x``)."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return _dtype.bool
    if isinstance(value, (builtins.int, np.integer)):
        return _dtype.int64
    if isinstance(value, (builtins.float, np.floating)):
        return _dtype.get_default_dtype()
    if isinstance(value, (builtins.complex, np.complexfloating)):
        return np.promote_types(_dtype.get_default_dtype(), _dtype.complex64)
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def promote_types(a, b):
    """``torch.promote_types``: the wider type within a category (and for complex with float);
    across categories the higher category's type, whatever its width (int32 with float16 gives
    float16, where NumPy would widen to float32)."""
    ca, cb = _category(a), _category(b)
    if ca == cb or {ca, cb} == {2, 3}:
        return np.promote_types(a, b)
    return np.dtype(a) if ca > cb else np.dtype(b)


def _combine(higher, lower):
    """Merges the promoted dtypes of two priority groups (``higher`` has priority): the lower
    group matters only through a higher category, and then a float keeps its width."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    ch, cl = _category(higher), _category(lower)
    if ch == 3:
        return higher
    if cl == 3:  # a complex scalar with float64 tensors gives complex128
        return np.promote_types(higher, _dtype.complex64) if ch == 2 else lower
    if ch == 2:
        return higher
    if ch == 0 or cl == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """PyTorch's promotion: dimensioned tensors decide, then 0-d tensors, then scalars; a lower
    group changes the result only if its category (bool < int < float < complex) is higher.
    ``None`` operands (absent optional arguments) are ignored."""
    groups = [None, None, None]  # dimensioned tensors/arrays, 0-d tensors/arrays, scalars
    for x in operands:
        if x is None:
            continue
        if isinstance(x, Tensor):
            level, dtype = (0 if x.array.ndim else 1), x.array.dtype
        elif isinstance(x, np.ndarray):
            level, dtype = (0 if x.ndim else 1), x.dtype
        else:
            level, dtype = 2, _scalar_dtype(x)
        groups[level] = dtype if groups[level] is None else promote_types(groups[level], dtype)
    return _combine(groups[0], _combine(groups[1], groups[2]))


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
