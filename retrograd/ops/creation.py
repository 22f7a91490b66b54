"""Creating tensors: from data, filled, ranges, random. PyTorch's dtype rules: Python floats
become the default dtype (float32), Python ints int64, NumPy arrays keep their dtype."""
import builtins

import numpy as np

from .. import _dtype
from .. import random as _random
from ..device import check_device
from ..tensor import Tensor
from ._util import shape_arg


def _finish(array, requires_grad, device):
    check_device(device)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data, dtype):
    dtype = _dtype.as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data, dtype=dtype)
    # Typed leaves (tensors, arrays, NumPy scalars) keep their dtype; Python numbers do not.
    typed = ([d for d in _flat(data) if isinstance(d, (Tensor, np.ndarray, np.generic))]
             if isinstance(data, (list, tuple)) else [])
    if any(isinstance(d, Tensor) for d in typed):
        data = _nested_arrays(data)
    array = np.array(data, dtype=dtype)
    if dtype is None and array.dtype in (np.float64, np.complex128) and not any(
            d.dtype == array.dtype for d in typed):
        # Python floats become the default dtype (complex: its complex counterpart).
        default = _dtype.get_default_dtype()
        array = array.astype(default if array.dtype.kind == "f" else
                             np.promote_types(default, _dtype.complex64))
    return array


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _nested_arrays(data):
    return [(_nested_arrays(d) if isinstance(d, (list, tuple)) else
             (d.array if isinstance(d, Tensor) else d)) for d in data]


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``."""
    return _finish(_infer_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype.as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray):
        return _finish(np.asarray(data, dtype=_dtype.as_dtype(dtype)), False, device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return Tensor._make(array)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(x):
    return x.numel()


def _filled(fill, size, dtype, requires_grad, device):
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    return _finish(fill(shape_arg(size), dtype), requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(np.zeros, size, dtype, requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(np.ones, size, dtype, requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    # Zeroed rather than uninitialised: reproducible and cheap at our sizes.
    return _filled(np.zeros, size, dtype, requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if isinstance(fill_value, (np.generic, Tensor)):  # a scalar, typed like a Python number
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _infer_array(fill_value, None).dtype
    return _filled(lambda s, d: np.full(s, fill_value, dtype=d), (size,), dtype, requires_grad,
                   device)


def _like(fill, x, dtype, requires_grad, device):
    return _finish(fill(x.shape, _dtype.as_dtype(dtype) or x.dtype), requires_grad, device)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    return _like(np.zeros, x, dtype, requires_grad, device)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    return _like(np.ones, x, dtype, requires_grad, device)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    return _like(np.zeros, x, dtype, requires_grad, device)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(lambda s, d: np.full(s, fill_value, dtype=d), x, dtype, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        is_float = any(isinstance(v, builtins.float) for v in values)
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    # Computed in the arguments' own precision, then cast (PyTorch: start + i * step in double).
    return _finish(np.arange(*values).astype(_dtype.as_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    return _finish(np.linspace(start, end, steps).astype(dtype), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    return _finish(np.eye(n, m, dtype=dtype), requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    array = _random.rng(generator).random(shape_arg(size), dtype=np.float64).astype(dtype)
    return _finish(array, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    array = _random.rng(generator).standard_normal(shape_arg(size)).astype(dtype)
    return _finish(array, requires_grad, device)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    return rand(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=device)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    return randn(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=device)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing the 'size' argument")
    dtype = _dtype.as_dtype(dtype) or _dtype.int64
    array = _random.rng(generator).integers(low, high, size=shape_arg((size,))).astype(dtype)
    return _finish(array, requires_grad, device)


def randint_like(x, low, high=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, x.shape, dtype=dtype or x.dtype, device=device)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    dtype = _dtype.as_dtype(dtype) or _dtype.int64
    return _finish(_random.rng(generator).permutation(n).astype(dtype), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        mean_a = mean.array if isinstance(mean, Tensor) else mean
        std_a = std.array if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(mean_a), np.shape(std_a))
        dtype = (mean if isinstance(mean, Tensor) else std).dtype
        noise = _random.rng(generator).standard_normal(shape)
        return _finish((noise * std_a + mean_a).astype(dtype), False, device)
    dtype = _dtype.as_dtype(dtype) or _dtype.get_default_dtype()
    array = _random.normal_array(shape_arg((size,)), mean, std, generator, dtype)
    return _finish(array, False, device)


def bernoulli(probs, generator=None):
    draws = _random.rng(generator).random(probs.shape) < probs.array
    return Tensor._make(draws.astype(probs.dtype))


def multinomial(probs, num_samples, replacement=False, generator=None):
    """Draws class indices with probabilities proportional to each row of ``probs``."""
    p = probs.array.astype(np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {p.shape}")
    if (p < 0).any() or not np.isfinite(p).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    rows = p.reshape(-1, p.shape[-1])
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: invalid probability distribution (sum of "
                           "probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) "
                           f"({num_samples} > {rows.shape[1]}) samples without replacement")
    g = _random.rng(generator)
    out = np.stack([g.choice(rows.shape[1], size=num_samples, replace=replacement,
                             p=row / total) for row, total in zip(rows, totals[:, 0])])
    return Tensor._make(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))
