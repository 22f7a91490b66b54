"""Scaled dot-product attention and the masked softmax it is built on.

For queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev):

    A = scale * Q K^T + M       scores (..., L, S): one row per query, one column per key
    P = softmax(A)              along the keys: the attention weights
    O = dropout(P) V            (..., L, Ev), with scale = 1 / sqrt(E) by default

The mask M is either added (a float mask) or selects the entries that take part (a boolean
mask: True = attend, False = -inf); ``is_causal`` lets query i attend to keys j <= i (aligned at
the top left, as PyTorch does when L != S).

A row with every entry excluded has no softmax (0 / 0). Like PyTorch 2.x (whose CPU kernels
return zeros for such rows, boolean or float mask alike) it gets weights 0, hence an output row
of 0, and receives zero gradient, where the textbook formula would give NaN.

The two products are the ``matmul`` op; scale, mask and softmax form one node
(``MaskedSoftmax``) whose backward is softmax's Jacobian-vector product written with tensor ops
on the saved weights (so gradients of gradients work):

    G_A = P * (G - rowsum(G * P))       grad scores = scale * G_A,   grad M = G_A

Measured on (32, 8, 64, 64) float32 inputs (one BLAS thread), this composition takes 29 ms for
forward plus backward and a single node computing the products too 30 ms (9.4 and 8.8 ms for
the forward alone): the six batched matrix products dominate either way, and the fused node
pays for the probabilities being a second output. The composition also hands the weights to
``MultiheadAttention`` and the masked softmax to additive attention at no extra cost.
"""
import math

import numpy as np

from .. import random as _random
from ..autograd.function import Function
from ..tensor import Tensor
from .linalg import matmul

__all__ = ["scaled_dot_product_attention", "attention_with_weights", "masked_softmax"]


class MaskedSoftmax(Function):
    """d softmax(scale * x + m) = P * (G - rowsum(G * P)) * (scale dx + dm), excluded entries
    (and rows) having P = 0"""

    @staticmethod
    def forward(ctx, scores, bias, allowed, scale):
        logits = scores.array * scale  # a fresh array: the steps below work in place
        if bias is not None:
            logits += bias.array
        if allowed is not None:
            np.copyto(logits, -np.inf, where=~allowed)
        probs = _softmax_last_axis_(logits)
        ctx.scale = scale
        ctx.save_output(probs)
        return probs

    @staticmethod
    def backward(ctx, grad):
        probs = ctx.saved_output
        grad_logits = probs * (grad - (grad * probs).sum(-1, keepdim=True))
        needs_scores, needs_bias = ctx.needs_input_grad[:2]
        grad_scores = None
        if needs_scores:
            grad_scores = grad_logits if ctx.scale == 1.0 else grad_logits * ctx.scale
        return grad_scores, (grad_logits if needs_bias else None), None, None


def _softmax_last_axis_(logits):
    """softmax along the last axis, overwriting ``logits``. A row that is all -inf gets zeros:
    its maximum is replaced by 0, so its exponentials are exp(-inf) = 0 and their sum, also 0,
    by 1. A row holding +inf or NaN gives NaN, as in PyTorch."""
    with np.errstate(invalid="ignore"):
        top = np.max(logits, axis=-1, keepdims=True, initial=-np.inf)
        top[top == -np.inf] = 0
        logits -= top
    np.exp(logits, out=logits)
    total = logits.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    logits /= total
    return logits


def _mask_parts(op, mask, dtype, scores_shape):
    """An attention mask as (float mask to add or None, boolean 'allowed' array or None)."""
    if mask is None:
        return None, None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: attn_mask must be a tensor, got {type(mask).__name__}")
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: attn_mask of shape {tuple(mask.shape)} does not broadcast "
                           f"to the attention scores' shape {scores_shape}")
    if mask.dtype == np.bool_:
        return None, mask.array
    # PyTorch's rule: a float mask has the query's dtype, or float32 (promoted when added).
    if mask.dtype != dtype and mask.dtype != np.float32:
        raise RuntimeError(f"{op}: expected attn_mask of dtype bool, float32 or the query's "
                           f"dtype ({dtype}), got {mask.dtype}")
    return mask, None


def masked_softmax(input, mask=None):
    """softmax along the last dim of ``input`` plus a float ``mask``, or over the entries where
    a boolean ``mask`` is True (the mask broadcasts to ``input``'s shape). Rows with no entry
    left get zeros (and zero gradient) instead of NaN."""
    op = "masked_softmax"
    if input.ndim == 0 or input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input of at least 1 dim, got "
                           f"shape {tuple(input.shape)} and dtype {input.dtype}")
    bias, allowed = _mask_parts(op, mask, input.dtype, tuple(input.shape))
    return MaskedSoftmax.apply(input, bias, allowed, 1.0)


def _check_inputs(op, query, key, value, enable_gqa):
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: expected query, key and value of at least 2 dims, got "
                           f"{shapes}")
    if not query.dtype == key.dtype == value.dtype or query.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected query, key and value of one floating dtype, got "
                           f"{query.dtype}, {key.dtype} and {value.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query and key must have the same embedding size (last dim), "
                           f"got {shapes}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length (dim -2), "
                           f"got {shapes}")
    key_batch, value_batch = key.shape[:-2], value.shape[:-2]
    if enable_gqa:
        if min(query.ndim, key.ndim, value.ndim) < 3:
            raise RuntimeError(f"{op}: enable_gqa needs a heads dim (-3), got {shapes}")
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError(f"{op}: with enable_gqa the number of query heads must be a "
                               f"multiple of the key and value heads (dim -3), got {shapes}")
        key_batch, value_batch = key_batch[:-1] + (heads,), value_batch[:-1] + (heads,)
    try:
        np.broadcast_shapes(query.shape[:-2], key_batch, value_batch)
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of query, key and value do not broadcast: "
                           f"{shapes}") from None


def _repeat_heads(x, heads):
    """``x`` with each head (dim -3) repeated ``heads // x.shape[-3]`` times in a row, as
    ``repeat_interleave`` would: key/value heads shared by groups of query heads."""
    groups = heads // x.shape[-3]
    if groups == 1:
        return x
    lead, tail = x.shape[:-2], x.shape[-2:]
    grouped = x.unsqueeze(-3).expand(*lead, groups, *tail)
    return grouped.reshape(*lead[:-1], heads, *tail)


def _dropout(weights, p):
    """Inverted dropout of the attention weights, drawn from the default generator."""
    keep = _random.rng().random(weights.shape, dtype=np.float32) >= p
    scale = np.asarray(1.0 / (1.0 - p) if p < 1 else 0.0, dtype=weights.dtype)
    return weights * Tensor._make(keep.astype(weights.dtype) * scale)


def attention_with_weights(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                           scale=None, enable_gqa=False):
    """``scaled_dot_product_attention`` that also returns the attention weights (..., L, S),
    after dropout: ``(output, weights)``."""
    op = "scaled_dot_product_attention"
    _check_inputs(op, query, key, value, enable_gqa)
    if attn_mask is not None and is_causal:
        raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    if scale is None:
        # With E = 0 every score is 0 whatever the scale: uniform weights, as in PyTorch.
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    scores = matmul(query, key.transpose(-2, -1))
    if is_causal:
        bias, allowed = None, np.tri(*scores.shape[-2:], dtype=bool)  # key j <= query i
    else:
        bias, allowed = _mask_parts(op, attn_mask, query.dtype, tuple(scores.shape))
    weights = MaskedSoftmax.apply(scores, bias, allowed, float(scale))
    if dropout_p > 0:
        weights = _dropout(weights, dropout_p)
    return matmul(weights, value), weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query key^T * scale + attn_mask) value`` (see the module docstring).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims
    broadcast. ``attn_mask`` broadcasts to (..., L, S): boolean (True = attend) or float
    (added). ``dropout_p`` applies dropout to the weights whenever it is positive (pass 0 in
    evaluation). ``enable_gqa`` lets key and value have fewer heads (dim -3) than query, each
    shared by a group of consecutive query heads."""
    return attention_with_weights(query, key, value, attn_mask, dropout_p, is_causal, scale,
                                  enable_gqa)[0]
