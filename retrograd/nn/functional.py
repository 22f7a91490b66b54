"""Neural-network functions (use as ``import retrograd.nn.functional as F``), with PyTorch's
names and signatures.

 - activations (``relu``, ``gelu``, ...): the elementwise ops under PyTorch's argument names. The
   ``inplace`` flag is accepted for compatibility; results are always computed out of place.
 - ``linear``: ``y = x W^T + b`` as one node. Its gradients are ``dx = g W``,
   ``dW = g^T x`` summed over every leading dimension of ``x``, and ``db = g`` summed likewise.
 - ``dropout``: inverted dropout, ``x * mask / (1 - p)``, so that the expected activation is
   unchanged and evaluation needs no rescaling. The mask comes from the default generator, so
   ``retrograd.manual_seed`` makes it repeatable.
 - losses: see ``retrograd.ops.loss``.
"""
import warnings

import numpy as np

from .. import ops as _ops
from .. import random as _random
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                        cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss,
                        smooth_l1_loss)
from ..ops.attention import scaled_dot_product_attention  # noqa: F401
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from ..ops.embedding import embedding  # noqa: F401
from ..ops.linalg import matmul
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
from ..ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,  # noqa
                        adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d)
from ..ops.shape import pad  # noqa: F401
from ..ops.upsample import interpolate, upsample  # noqa: F401
from ..ops._util import normalize_dim
from ..tensor import Tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "softplus", "sigmoid", "tanh",
           "hardtanh", "logsigmoid", "softmax", "log_softmax", "linear", "dropout", "one_hot",
           "cosine_similarity", "normalize", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "pad", "embedding", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "batch_norm", "layer_norm", "group_norm", "instance_norm", "interpolate", "upsample",
           "scaled_dot_product_attention"]


# ------------------------------------------------------------------------------ activations
class Hardtanh(Function):
    """d hardtanh(x) = dx strictly between the bounds, else 0 (PyTorch's convention: unlike
    clamp, the gradient is 0 at the bounds themselves)"""

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        a = x.array
        ctx.inside = (a > min_val) & (a < max_val)
        return np.clip(a, min_val, max_val).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._make(ctx.inside.astype(grad.dtype)), None, None


def relu(input, inplace=False):
    return _ops.relu(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _ops.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _ops.elu(input, alpha)


def gelu(input, approximate="none"):
    return _ops.gelu(input, approximate)


def silu(input, inplace=False):
    return _ops.silu(input)


def softplus(input, beta=1.0, threshold=20.0):
    return _ops.softplus(input, beta, threshold)


def sigmoid(input):
    return _ops.sigmoid(input)


def tanh(input):
    return _ops.tanh(input)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    return -_ops.softplus(-input)


def _implicit_softmax_dim(op, ndim, stacklevel):
    warnings.warn(f"{op}: implicit dimension choice has been deprecated; pass dim=",
                  stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_softmax_dim("softmax", input.ndim, _stacklevel)
    return _ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _ops.log_softmax(input, dim, dtype=dtype)


# ------------------------------------------------------------------------------------ linear
class Linear(Function):
    """d (x W^T + b) = g W dx + g^T x dW + g db (summed over the leading dimensions of x)"""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.bias_ndim = None if bias is None else bias.ndim
        out = np.matmul(x.array, weight.array.T)
        if bias is None:
            return out
        if bias.ndim <= 1:
            out += bias.array  # out is a fresh array: no temporary for the sum
            return out
        return out + bias.array

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        # dW is one GEMM over all leading dimensions at once; g^T x comes out C-contiguous like
        # the weight, which keeps the optimizer's update a straight pass over memory.
        if not grad_mode.is_grad_enabled():  # the usual case: straight on the arrays
            g = grad.array
            g_rows = g.reshape(-1, g.shape[-1])
            db = None
            if needs_bias:  # a 1-D bias sums over every row; others are left to the engine
                db = Tensor._make(g_rows.sum(axis=0) if ctx.bias_ndim == 1 else g)
            return (Tensor._make(g @ weight.array) if needs_x else None,
                    Tensor._make(g_rows.T @ x.array.reshape(-1, x.shape[-1])) if needs_weight
                    else None, db)
        dw = None
        if needs_weight:
            dw = matmul(grad.reshape(-1, grad.shape[-1]).mT, x.reshape(-1, x.shape[-1]))
        return (matmul(grad, weight) if needs_x else None, dw,
                grad if needs_bias else None)  # the engine sums it down to the bias's shape


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` for ``input`` of shape (..., in_features) and ``weight`` of
    shape (out_features, in_features)."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} does not match weight "
                           f"of shape {tuple(weight.shape)} (in_features {weight.shape[1]})")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        dtypes = {t.dtype for t in (input, weight, bias) if t is not None}
        raise RuntimeError(f"linear: expected input, weight and bias of one dtype, got "
                           f"{', '.join(sorted(map(str, dtypes)))}")
    if bias is not None and bias.shape != (weight.shape[0],):  # else it broadcasts
        try:
            np.broadcast_shapes(bias.shape, input.shape[:-1] + (weight.shape[0],))
        except ValueError:
            raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not broadcast "
                               f"to the output's (..., {weight.shape[0]})") from None
    return Linear.apply(input, weight, bias)


# ----------------------------------------------------------------------------------- dropout
def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * Tensor._make(np.zeros((), dtype=input.dtype))
    keep = _random.rng().random(input.shape, dtype=np.float32) >= p
    scale = np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    return input * Tensor._make(keep.astype(input.dtype) * scale)


# ----------------------------------------------------------------------------------- one_hot
def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each class index;
    ``num_classes=-1`` infers it as the largest index + 1."""
    labels = tensor.array
    if labels.dtype != np.int64:
        raise RuntimeError(f"one_hot: expected an int64 index tensor, got {labels.dtype}")
    if num_classes == -1:
        if labels.size == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty "
                               "tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {labels.min()}")
    if labels.size and labels.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes "
                           f"({num_classes}), got {labels.max()}")
    return Tensor._make((labels[..., None] == np.arange(num_classes)).astype(np.int64))


# ------------------------------------------------------------------ similarity, normalisation
def _clamped_norm(x, p, dim, eps):
    """``max(||x||_p, eps)`` along ``dim`` (kept with size 1)."""
    return x.norm(p, dim, keepdim=True).clamp(min=eps)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    if not p > 0:
        raise ValueError(f"normalize: p must be positive, got {p}")
    return input / _clamped_norm(input, p, normalize_dim(dim, input.ndim, "normalize"), eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (broadcasting
    ``x1`` and ``x2``)."""
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"cosine_similarity: shapes {tuple(x1.shape)} and "
                           f"{tuple(x2.shape)} do not broadcast") from None
    x1, x2 = _ops.broadcast_to(x1, shape), _ops.broadcast_to(x2, shape)
    dim = normalize_dim(dim, len(shape), "cosine_similarity")
    unit1 = x1 / _clamped_norm(x1, 2, dim, eps)
    unit2 = x2 / _clamped_norm(x2, 2, dim, eps)
    return (unit1 * unit2).sum(dim)
