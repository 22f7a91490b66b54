"""``softmax`` and ``log_softmax`` along one dimension.

    softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m)
    log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m)

with ``m = max_j x_j``: subtracting the maximum changes nothing mathematically but keeps every
exponent <= 0, so large logits cannot overflow (float32 logits of 1e4 stay finite) and entries
masked with -inf simply get probability 0.

Gradients (``g`` the incoming gradient, ``y`` the output, sums along the same dimension):
    softmax:      y * (g - sum(g * y))
    log_softmax:  g - softmax(x) * sum(g)        with softmax(x) = exp(y)
Both are written with tensor operations on the saved output, so they can be differentiated again.
"""
import numpy as np

from ..autograd.function import Function
from .. import _dtype
from ._util import normalize_dim

__all__ = ["softmax", "log_softmax"]


class Softmax(Function):
    """d softmax(x) = y * (dx - sum(dx * y)), y = softmax(x)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore"):
            exp = np.exp(_shifted(x.array, dim))
        y = exp / exp.sum(axis=_axis(exp, dim), keepdims=True)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """d log_softmax(x) = dx - softmax(x) * sum(dx), softmax(x) = exp(log_softmax(x))"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = log_softmax_array(x.array, dim)
        ctx.save_output(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad - ctx.saved_output.exp() * grad.sum(ctx.dim, keepdim=True), None


def _axis(array, dim):
    return dim if array.ndim else None  # a 0-d tensor is its own (only) row


def _shifted(array, dim):
    """``array`` minus its maximum along ``dim`` (an empty dimension stays empty). A slice that
    is all -inf (or holds +inf) gives NaN, as in PyTorch, without a warning (callers silence
    invalid operations)."""
    return array - np.max(array, axis=_axis(array, dim), keepdims=True, initial=-np.inf)


def log_softmax_array(array, dim):
    """log_softmax on a NumPy array (shared with the fused cross-entropy)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty slice sums to 0
        shifted = _shifted(array, dim)
        shifted -= np.log(np.exp(shifted).sum(axis=_axis(array, dim), keepdims=True))
        return shifted


def _prepare(op, x, dim, dtype):
    if dtype is not None:
        x = x.to(_dtype.as_dtype(dtype))
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype} (pass dtype= "
                           "to compute in a floating type)")
    return x, normalize_dim(dim, x.ndim, op)


def softmax(input, dim, dtype=None):
    """Probabilities along ``dim`` (each slice sums to 1); ``dtype`` casts the input first."""
    x, dim = _prepare("softmax", input, dim, dtype)
    return Softmax.apply(x, dim)


def log_softmax(input, dim, dtype=None):
    """Log-probabilities along ``dim``, computed stably (never as log(softmax))."""
    x, dim = _prepare("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(x, dim)
