"""Copies, dtype conversion, ``to``, and the two broadcasting ops the engine relies on."""
import numpy as np

from .. import _dtype
from ..autograd.function import Function
from ..device import check_device, device as _device
from ..tensor import Tensor
from ._util import shape_arg


class Clone(Function):
    """d clone(x) = dx"""

    @staticmethod
    def forward(ctx, x):
        return x.array.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """d cast(x) = cast back(dx) (the engine returns each gradient in its input's dtype)"""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.array.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class SumToSize(Function):
    """Sums a gradient over broadcast dimensions; the adjoint of broadcast_to"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return sum_array_to_shape(x.array, shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.input_shape), None


class BroadcastTo(Function):
    """d broadcast_to(x) = sum of dx over the broadcast dimensions (done by the engine)"""

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x.array, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def sum_array_to_shape(array, shape):
    """Sums ``array`` down to ``shape``, which it was broadcast from."""
    shape = tuple(shape)
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to_size: cannot sum shape {array.shape} to {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1)
    for i, n in enumerate(shape):
        if n != 1 and array.shape[lead + i] != n:
            raise ValueError(f"sum_to_size: cannot sum shape {array.shape} to {shape}")
    out = array.sum(axis=axes, keepdims=True) if axes else array
    return out.reshape(shape)


def clone(x, memory_format=None):
    return Clone.apply(x)


def to_dtype(x, dtype):
    dtype = _dtype.as_dtype(dtype)
    if x.array.dtype == dtype:
        return x
    if dtype.kind not in "fc" and x.requires_grad:
        return Tensor._make(x.array.astype(dtype))  # integer results carry no gradient
    return Cast.apply(x, dtype)


def to(x, *args, dtype=None, device=None, non_blocking=False, copy=False, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, _device)):
            device = a
        elif a is not None:
            dtype = a
    check_device(device, "to")
    out = x if dtype is None else to_dtype(x, dtype)
    return clone(out) if copy and out is x else out


def sum_to_size(x, *shape):
    shape = shape_arg(shape)
    if x.shape == shape:
        return x
    return SumToSize.apply(x, shape)


def broadcast_to(x, *shape):
    shape = shape_arg(shape)
    if x.shape == shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        if len(shape) < x.ndim:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"broadcast_to: the shape {tuple(x.shape)} cannot be broadcast to "
                           f"{shape}") from None
    return BroadcastTo.apply(x, shape)


def expand(x, *sizes):
    """``expand`` with PyTorch's -1 meaning 'keep this dimension'."""
    sizes = shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({x.ndim})")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)
