"""The Transformer (Vaswani et al., 2017), with PyTorch's modules, arguments and parameter names
(so PyTorch state_dicts load).

An encoder layer is self-attention followed by a position-wise feed-forward network
``linear2(dropout(activation(linear1(x))))``; a decoder layer adds attention to the encoder's
output (``memory``) between the two. Every sublayer sits in a residual connection with layer
normalization, either after the sum (post-norm, the original) or before the sublayer
(``norm_first=True``, pre-norm, which trains more stably in deep stacks):

    post-norm:  x = norm(x + dropout(sublayer(x)))
    pre-norm:   x = x + dropout(sublayer(norm(x)))

Masks follow ``MultiheadAttention`` (boolean True = ignore, or float added to the scores).
``is_causal`` arguments are PyTorch's hints that the mask given is the causal one (see
``MultiheadAttention.forward``); the stacks, like PyTorch's, take a mask equal to
``Transformer.generate_square_subsequent_mask`` as causal when the hint is left as None.
"""
import copy

import numpy as np

from ... import _dtype
from ...ops.creation import tensor
from .. import functional as F
from .. import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation):
    """'relu', 'gelu' or any callable (a function or a module)."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


class _TransformerLayer(Module):
    """What encoder and decoder layers share: the residual connections around their
    sublayers, self-attention and the feed-forward block. The modules are made in PyTorch's
    order, which fixes the parameters' order and the draws of their initial values."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                 batch_first, norm_first, bias, device, dtype, sublayers):
        super().__init__()
        factory = {"device": device, "dtype": dtype}

        def attention():
            return MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                      batch_first=batch_first, **factory)

        self.self_attn = attention()
        if sublayers == 3:  # the decoder's attention to the encoder's output
            self.multihead_attn = attention()
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        for i in range(1, sublayers + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                **factory))
        for i in range(1, sublayers + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _residual(self, x, norm, sublayer, *args):
        """``x + sublayer(norm(x))`` if ``norm_first``, else ``norm(x + sublayer(x))``."""
        if self.norm_first:
            return x + sublayer(norm(x), *args)
        return norm(x + sublayer(x, *args))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        return self.dropout1(self.self_attn(x, x, x, attn_mask=attn_mask,
                                            key_padding_mask=key_padding_mask,
                                            need_weights=False, is_causal=is_causal)[0])

    def _ff_block(self, x, dropout):
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and feed-forward sublayers. Input (S, N, d_model), or (N, S, d_model) with
    ``batch_first``, or unbatched (S, d_model); the output has the same shape."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, sublayers=2)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = self._residual(src, self.norm1, self._sa_block, src_mask, src_key_padding_mask,
                           is_causal)
        return self._residual(x, self.norm2, self._ff_block, self.dropout2)


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention to ``memory`` (the encoder's output) and feed-forward
    sublayers. tgt (T, N, d_model) and memory (S, N, d_model) (batch first with
    ``batch_first``, or unbatched) -> (T, N, d_model)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, sublayers=3)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = self._residual(tgt, self.norm1, self._sa_block, tgt_mask, tgt_key_padding_mask,
                           tgt_is_causal)
        x = self._residual(x, self.norm2, self._mha_block, memory, memory_mask,
                           memory_key_padding_mask, memory_is_causal)
        return self._residual(x, self.norm3, self._ff_block, self.dropout3)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        return self.dropout2(self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                                 key_padding_mask=key_padding_mask,
                                                 need_weights=False, is_causal=is_causal)[0])


def _detect_is_causal(mask, is_causal):
    """An ``is_causal`` hint, where None means: whether ``mask`` is the causal mask."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    size = mask.shape[-2]
    causal = Transformer.generate_square_subsequent_mask(size, dtype=mask.dtype)
    return mask.shape == causal.shape and bool(np.array_equal(mask.array, causal.array))


class _LayerStack(Module):
    """``num_layers`` independent copies of a layer, then an optional final norm."""

    def __init__(self, layer, num_layers, norm):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def _final_norm(self, x):
        return x if self.norm is None else self.norm(x)


class TransformerEncoder(_LayerStack):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (each trained separately).
    ``enable_nested_tensor`` and ``mask_check`` concern PyTorch's nested-tensor fast path and
    are accepted for compatibility."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__(encoder_layer, num_layers, norm)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        is_causal = _detect_is_causal(mask, is_causal)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=is_causal)
        return self._final_norm(output)


class TransformerDecoder(_LayerStack):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, each attending to the same
    ``memory``."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__(decoder_layer, num_layers, norm)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal)
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self._final_norm(output)


class Transformer(Module):
    """Encoder-decoder Transformer: ``decoder(tgt, encoder(src))``. src (S, N, d_model), tgt
    (T, N, d_model) -> (T, N, d_model) (batch first with ``batch_first``). Every weight matrix
    starts Xavier-uniform, as in PyTorch."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_options = dict(dim_feedforward=dim_feedforward, dropout=dropout,
                             activation=activation, layer_norm_eps=layer_norm_eps,
                             batch_first=batch_first, norm_first=norm_first, bias=bias, **factory)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer_options), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer_options), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got "
                               f"shapes {tuple(src.shape)} and {tuple(tgt.shape)}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal "
                               f"to d_model ({self.d_model}), got shapes {tuple(src.shape)} and "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The (sz, sz) causal mask: -inf above the diagonal (position i may not attend to
        j > i), 0 elsewhere; float32 unless ``dtype`` says otherwise."""
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        return tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1), device=device)
