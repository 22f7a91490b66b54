"""Attention layers: ``MultiheadAttention`` (PyTorch's) and ``AdditiveAttention`` (Bahdanau's).

Multi-head attention projects queries, keys and values with learned matrices, splits the
embedding into ``num_heads`` heads of ``embed_dim / num_heads`` features, runs scaled
dot-product attention in every head independently and projects the concatenated heads back:

    head_h = softmax(Q W_q^h (K W_k^h)^T / sqrt(d_head) + mask) V W_v^h
    out    = concat(head_1, ..., head_H) W_o^T + b_o

Additive attention scores every key k against a query q with a one-hidden-layer network,
``score(q, k) = v^T tanh(W_q q + W_k k + b)``, and returns the softmax-weighted sum of the values;
it suits recurrent decoders whose state and encoder outputs differ in size.

Masks: as in PyTorch, ``MultiheadAttention``'s boolean masks mark what to *ignore* (True =
masked out), unlike ``scaled_dot_product_attention``'s (True = attend). Float masks are added
to the scores. A query left with no key to attend to gets an output and weights of 0 (PyTorch's
``need_weights=True`` path gives NaN there, its ``need_weights=False`` path zeros).
"""
import numpy as np

from ...ops.attention import attention_with_weights, masked_softmax
from ...ops.creation import empty
from ...ops.shape import cat, pad
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention", "AdditiveAttention"]


def _additive_mask(mask, name, dtype):
    """A boolean mask (True = ignore) as 0 / -inf to add to the scores; float masks as given."""
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask.array, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise RuntimeError(f"MultiheadAttention: only bool and floating types of {name} are "
                           f"supported, got {mask.dtype}")
    return mask


class MultiheadAttention(Module):
    """Attention from ``num_heads`` heads in parallel (see the module docstring).

    Shapes (``batch_first=False``; with ``batch_first=True`` the batch comes first): query
    (L, N, embed_dim), key (S, N, kdim), value (S, N, vdim) -> output (L, N, embed_dim) and
    weights (N, L, S), or (N, num_heads, L, S) with ``average_attn_weights=False``. Unbatched
    inputs drop the N dimension. ``key_padding_mask`` is (N, S), ``attn_mask`` (L, S) or
    (N * num_heads, L, S).

    Parameters as in PyTorch (so its state_dicts load): ``in_proj_weight`` (3 embed_dim,
    embed_dim) stacking W_q, W_k, W_v, or separate ``q_proj_weight``, ``k_proj_weight``,
    ``v_proj_weight`` when kdim or vdim differ from embed_dim; ``in_proj_bias`` (3 embed_dim);
    ``out_proj``; ``bias_k`` and ``bias_v`` (1, 1, embed_dim) with ``add_bias_kv``, a learned key
    and value appended to every sequence. ``add_zero_attn`` appends a zero key and value.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal
        bias_k and bias_v (out_proj.weight keeps Linear's initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Returns ``(attn_output, attn_output_weights)``; the weights (after dropout, averaged
        over the heads unless ``average_attn_weights=False``) are None unless
        ``need_weights``. ``is_causal`` is a hint that ``attn_mask`` is the causal mask, which
        must then be given. As in PyTorch, the hint is trusted when no weights are needed and
        there is no ``key_padding_mask``: the causal mask is applied without reading
        ``attn_mask`` (which then gets no gradient); otherwise ``attn_mask`` is applied."""
        batched = self._check_inputs(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal "
                               "hint (Transformer.generate_square_subsequent_mask makes one)")
        use_causal_hint = is_causal and key_padding_mask is None and not need_weights
        if use_causal_hint:
            attn_mask = None
        self_attention = query is key and key is value
        batch_dim, seq_dim = (0, 1) if self.batch_first else (1, 0)
        if not batched:
            query, key, value = (x.unsqueeze(batch_dim) for x in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        batch, target_len, source_len = (query.shape[batch_dim], query.shape[seq_dim],
                                         key.shape[seq_dim])
        q, k, v = self._in_projection(query, key, value, self_attention)
        if self.bias_k is not None:
            one_step = list(k.shape)
            one_step[seq_dim] = 1
            k = cat([k, self.bias_k.expand(*one_step)], seq_dim)
            v = cat([v, self.bias_v.expand(*one_step)], seq_dim)
        q, k, v = (self._split_heads(x) for x in (q, k, v))
        if self.add_zero_attn:
            k, v = (pad(x, (0, 0, 0, 1)) for x in (k, v))
        mask = self._merged_mask(attn_mask, key_padding_mask, batch, target_len, source_len,
                                 q.dtype)
        extra_keys = k.shape[-2] - source_len
        if mask is not None and extra_keys:
            mask = pad(mask, (0, extra_keys))  # the appended keys are never masked
        output, weights = attention_with_weights(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0,
            is_causal=use_causal_hint)
        output = self.out_proj(self._merge_heads(output))
        if not batched:
            output = output.squeeze(batch_dim)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(1)
        return output, (weights if batched else weights.squeeze(0))

    def _check_inputs(self, query, key, value, key_padding_mask, attn_mask):
        """Checks dims and sizes; returns whether the input is batched."""
        if query.ndim not in (2, 3):
            raise RuntimeError(f"MultiheadAttention: query should be unbatched 2D or batched 3D, "
                               f"got shape {tuple(query.shape)}")
        batched = query.ndim == 3
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise RuntimeError(f"MultiheadAttention: expected key and value of {query.ndim} dims "
                               f"like query, got shapes {tuple(key.shape)} and "
                               f"{tuple(value.shape)}")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of "
                               f"{query.ndim - 1} dims for a query of {query.ndim}, got shape "
                               f"{tuple(key_padding_mask.shape)}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise RuntimeError(f"MultiheadAttention: expected attn_mask of 2 or 3 dims, got "
                               f"shape {tuple(attn_mask.shape)}")
        for name, x, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if x.shape[-1] != size:
                raise RuntimeError(f"MultiheadAttention: expected {name} with {size} features "
                                   f"(last dim), got shape {tuple(x.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise RuntimeError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match "
                               f"value shape {tuple(value.shape)}")
        batch_dim = 0 if self.batch_first else 1
        if batched and query.shape[batch_dim] != key.shape[batch_dim]:
            raise RuntimeError(f"MultiheadAttention: query {tuple(query.shape)} and key "
                               f"{tuple(key.shape)} have different batch sizes (dim "
                               f"{batch_dim})")
        return batched

    def _in_projection(self, query, key, value, self_attention):
        if self._qkv_same_embed_dim:
            if self_attention:  # one product with the stacked weights
                return F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, -1)
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def _split_heads(self, x):
        """(T, N, E) or, batch first, (N, T, E) -> (N, heads, T, head_dim)."""
        x = x.unflatten(-1, (self.num_heads, self.head_dim))
        return x.permute(0, 2, 1, 3) if self.batch_first else x.permute(1, 2, 0, 3)

    def _merge_heads(self, x):
        """(N, heads, L, head_dim) -> (L, N, E) or, batch first, (N, L, E)."""
        x = x.permute(0, 2, 1, 3) if self.batch_first else x.permute(2, 0, 1, 3)
        return x.flatten(-2)

    def _merged_mask(self, attn_mask, key_padding_mask, batch, target_len, source_len, dtype):
        """attn_mask and key_padding_mask as one float mask to add to the scores (broadcasting
        to (N, heads, L, S)), or None."""
        masks = []
        if attn_mask is not None:
            expected = ((target_len, source_len) if attn_mask.ndim == 2 else
                        (batch * self.num_heads, target_len, source_len))
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"MultiheadAttention: the shape of the {attn_mask.ndim}D "
                                   f"attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{expected}")
            mask = _additive_mask(attn_mask, "attn_mask", dtype)
            masks.append(mask if mask.ndim == 2 else
                         mask.reshape(batch, self.num_heads, target_len, source_len))
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (batch, source_len):
                raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of shape "
                                   f"{(batch, source_len)}, got "
                                   f"{tuple(key_padding_mask.shape)}")
            mask = _additive_mask(key_padding_mask, "key_padding_mask", dtype)
            masks.append(mask.reshape(batch, 1, 1, source_len))
        if not masks:
            return None
        return masks[0] if len(masks) == 1 else masks[0] + masks[1]


class AdditiveAttention(Module):
    """Bahdanau (additive) attention: ``score(q, k) = v^T tanh(W_q q + W_k k + b)``.

    ``forward(query, keys, values=None, mask=None)`` returns ``(context, weights)``:

    - keys (*, S, key_size) and values (*, S, value_size) (by default the keys themselves);
    - query (*, query_size), one query per sequence (e.g. a decoder's state), giving context
      (*, value_size) and weights (*, S); or query (*, L, query_size), L queries, giving
      context (*, L, value_size) and weights (*, L, S);
    - mask (*, S), True for the keys to attend to (e.g. not padding), or a float mask added to
      the scores. A query with no key to attend to gets zero weights and a zero context.

    Parameters: ``query_proj`` (W_q, no bias), ``key_proj`` (W_k and b), ``score_proj`` (v, no
    bias: softmax ignores a constant shift), with Linear's default initialisation. The key
    projection does not depend on the query, so a decoder attending to the same keys at every
    step may pass ``projected_keys=attention.key_proj(keys)`` to compute it once.
    """

    def __init__(self, query_size, key_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.query_proj = Linear(query_size, hidden_size, bias=False, **factory)
        self.key_proj = Linear(key_size, hidden_size, bias=bias, **factory)
        self.score_proj = Linear(hidden_size, 1, bias=False, **factory)

    def forward(self, query, keys, values=None, mask=None, projected_keys=None):
        if keys.ndim < 2 or query.ndim not in (keys.ndim - 1, keys.ndim):
            raise RuntimeError(f"AdditiveAttention: expected keys (*, S, key_size) and query "
                               f"(*, query_size) or (*, L, query_size), got shapes "
                               f"{tuple(keys.shape)} and {tuple(query.shape)}")
        values = keys if values is None else values
        if values.shape[:-1] != keys.shape[:-1]:
            raise RuntimeError(f"AdditiveAttention: values {tuple(values.shape)} must match keys "
                               f"{tuple(keys.shape)} in every dim but the last")
        single_query = query.ndim == keys.ndim - 1
        if single_query:
            query = query.unsqueeze(-2)
        if projected_keys is None:
            projected_keys = self.key_proj(keys)
        # (*, L, 1, hidden) + (*, 1, S, hidden): every query against every key
        hidden = (self.query_proj(query).unsqueeze(-2) + projected_keys.unsqueeze(-3)).tanh()
        scores = self.score_proj(hidden).squeeze(-1)
        weights = masked_softmax(scores, None if mask is None else mask.unsqueeze(-2))
        context = weights @ values
        if single_query:
            return context.squeeze(-2), weights.squeeze(-2)
        return context, weights

    def extra_repr(self):
        return (f"query_size={self.query_proj.in_features}, "
                f"key_size={self.key_proj.in_features}, "
                f"hidden_size={self.query_proj.out_features}")
