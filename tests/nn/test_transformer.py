"""Transformer layers, stacks and the full model: parity with PyTorch (outputs and gradients of
inputs and every parameter) for each option and mask, state_dict keys, deep-copied layers,
initialisation, the causal mask and errors."""
import numpy as np
import pytest

import retrograd as rg
from helpers import randn, requires_torch, torch
from module_parity import attention_mask, check_module_parity
from retrograd.nn.modules.activation import GELU
from retrograd.nn.modules.normalization import LayerNorm
from retrograd.nn.modules.transformer import (Transformer, TransformerDecoder,
                                              TransformerDecoderLayer, TransformerEncoder,
                                              TransformerEncoderLayer)

D, HEADS, FF, N, S, T = 8, 2, 16, 3, 5, 4
BASE = {"d_model": D, "nhead": HEADS, "dim_feedforward": FF, "dropout": 0.0}
pytestmark = pytest.mark.filterwarnings(
    "ignore:enable_nested_tensor is True", "ignore:Support for mismatched key_padding_mask")


def frameworks(**options):
    """Constructor options for (retrograd, PyTorch); 'gelu module' stands for each one's
    GELU layer."""
    if options.get("activation") == "gelu module":
        return {**options, "activation": GELU()}, {**options, "activation": torch.nn.GELU()}
    return options, options


def sequence(length, layout, seed):
    """(length, N, D), (N, length, D) with batch_first, or (length, D) unbatched."""
    if layout == "unbatched":
        return randn(length, D, seed=seed)
    return randn(N, length, D, seed=seed) if layout == "batch_first" else randn(length, N, D,
                                                                                 seed=seed)


def causal(length):
    return np.triu(np.full((length, length), -np.inf), 1)


def masks(kinds, target, source, seed):
    """Named masks: kinds maps argument names to 'causal' or an ``attention_mask`` kind."""
    return {name: causal(target) if kind == "causal" else
            attention_mask(kind, N, target, source, seed=seed + i, heads=HEADS)
            for i, (name, kind) in enumerate(kinds.items())}


def run_parity(rg_cls, torch_cls, options, sequences, mask_kinds, call_options, layout,
               eval_mode=False):
    """Parity of ``rg_cls(**options)`` and ``torch_cls(**options)`` called with the given
    sequences (positional) and masks (keyword)."""
    torch.manual_seed(0)
    rg_options, torch_options = frameworks(**options)
    if layout == "batch_first":
        rg_options, torch_options = ({**o, "batch_first": True} for o in (rg_options,
                                                                           torch_options))
    rg_module, torch_module = rg_cls(**rg_options), torch_cls(**torch_options)
    if eval_mode:
        rg_module.eval()
        torch_module.eval()
    names = list(mask_kinds)
    mask_arrays = [mask_kinds[name] for name in names]
    if layout == "unbatched":  # padding masks lose their batch dimension
        mask_arrays = [m[0] if "padding" in name else m for name, m in zip(names, mask_arrays)]

    def forward(module, *tensors):
        inputs, given_masks = tensors[:len(sequences)], tensors[len(sequences):]
        return module(*inputs, **dict(zip(names, given_masks)), **call_options)

    check_module_parity(rg_module, torch_module, forward, *sequences, *mask_arrays)


# name: (constructor options, masks, call options, layout)
ENCODER_CASES = {
    "post-norm relu": ({}, {}, {}, "seq_first"),
    "pre-norm": ({"norm_first": True}, {}, {}, "seq_first"),
    "gelu": ({"activation": "gelu"}, {}, {}, "seq_first"),
    "gelu module": ({"activation": "gelu module"}, {}, {}, "seq_first"),
    "no bias": ({"bias": False}, {}, {}, "seq_first"),
    "layer_norm_eps": ({"layer_norm_eps": 1e-2}, {}, {}, "seq_first"),
    "batch_first": ({}, {}, {}, "batch_first"),
    "unbatched": ({}, {}, {}, "unbatched"),
    "bool src_mask": ({}, {"src_mask": "bool attn"}, {}, "seq_first"),
    "float src_mask": ({"norm_first": True}, {"src_mask": "float attn"}, {}, "batch_first"),
    "key padding": ({}, {"src_key_padding_mask": "bool padding"}, {}, "batch_first"),
    "both masks": ({}, {"src_mask": "bool attn", "src_key_padding_mask": "bool padding"}, {},
                   "seq_first"),
    "causal": ({}, {"src_mask": "causal"}, {"is_causal": True}, "seq_first"),
}


@requires_torch
@pytest.mark.parametrize("name", ENCODER_CASES)
def test_encoder_layer_parity(name):
    options, mask_kinds, call_options, layout = ENCODER_CASES[name]
    run_parity(TransformerEncoderLayer, torch.nn.TransformerEncoderLayer, {**BASE, **options},
               [sequence(S, layout, 0)], masks(mask_kinds, S, S, 10), call_options, layout)


@requires_torch
def test_encoder_layer_parity_in_eval_mode_with_dropout():
    mask_kinds = masks({"src_key_padding_mask": "bool padding"}, S, S, 3)
    run_parity(TransformerEncoderLayer, torch.nn.TransformerEncoderLayer,
               {**BASE, "dropout": 0.2}, [sequence(S, "batch_first", 0)], mask_kinds, {},
               "batch_first", eval_mode=True)


DECODER_CASES = {
    "post-norm relu": ({}, {}, {}, "seq_first"),
    "pre-norm gelu": ({"norm_first": True, "activation": "gelu"}, {}, {}, "seq_first"),
    "no bias": ({"bias": False}, {}, {}, "batch_first"),
    "unbatched": ({}, {"tgt_mask": "causal"}, {}, "unbatched"),
    "causal tgt_mask": ({}, {"tgt_mask": "causal"}, {"tgt_is_causal": True}, "seq_first"),
    "all masks": ({}, {"tgt_mask": "causal", "memory_mask": "bool attn",
                       "tgt_key_padding_mask": "bool padding",
                       "memory_key_padding_mask": "bool padding"}, {}, "batch_first"),
    "float memory mask": ({"norm_first": True}, {"memory_mask": "float attn",
                                                 "memory_key_padding_mask": "float padding"},
                          {}, "seq_first"),
}


def decoder_masks(mask_kinds, seed):
    """Each mask sized for its attention: tgt masks (T, T), memory masks (T, S)."""
    named = {}
    for i, (name, kind) in enumerate(mask_kinds.items()):
        source = S if name.startswith("memory") else T
        named.update(masks({name: kind}, T, source, seed + 10 * i))
    return named


@requires_torch
@pytest.mark.parametrize("name", DECODER_CASES)
def test_decoder_layer_parity(name):
    options, mask_kinds, call_options, layout = DECODER_CASES[name]
    run_parity(TransformerDecoderLayer, torch.nn.TransformerDecoderLayer, {**BASE, **options},
               [sequence(T, layout, 0), sequence(S, layout, 1)], decoder_masks(mask_kinds, 20),
               call_options, layout)


def rg_encoder(**options):
    return TransformerEncoder(TransformerEncoderLayer(**options), 2, LayerNorm(D))


def torch_encoder(**options):
    return torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**options), 2,
                                       torch.nn.LayerNorm(D), enable_nested_tensor=False)


@requires_torch
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_parity(norm_first):
    mask_kinds = masks({"mask": "bool attn", "src_key_padding_mask": "bool padding"}, S, S, 4)
    run_parity(rg_encoder, torch_encoder, {**BASE, "norm_first": norm_first},
               [sequence(S, "seq_first", 0)], mask_kinds, {}, "seq_first")


@requires_torch
def test_decoder_stack_parity():
    def decoder(layer_cls, stack_cls, norm_cls):
        return lambda **options: stack_cls(layer_cls(**options), 2, norm_cls(D))

    mask_kinds = decoder_masks({"tgt_mask": "causal",
                                "memory_key_padding_mask": "bool padding"}, 5)
    run_parity(decoder(TransformerDecoderLayer, TransformerDecoder, LayerNorm),
               decoder(torch.nn.TransformerDecoderLayer, torch.nn.TransformerDecoder,
                       torch.nn.LayerNorm),
               BASE, [sequence(T, "batch_first", 0), sequence(S, "batch_first", 1)],
               mask_kinds, {"tgt_is_causal": True}, "batch_first")


TRANSFORMER = {"d_model": D, "nhead": HEADS, "num_encoder_layers": 2, "num_decoder_layers": 1,
               "dim_feedforward": FF, "dropout": 0.0}


@requires_torch
@pytest.mark.parametrize("layout,options", [("seq_first", {}),
                                            ("batch_first", {"norm_first": True}),
                                            ("unbatched", {"activation": "gelu"})])
def test_transformer_parity(layout, options):
    mask_kinds = {"tgt_mask": causal(T)}
    if layout != "unbatched":
        mask_kinds.update({"src_key_padding_mask": attention_mask("bool padding", N, S, S, 1),
                           "memory_key_padding_mask": attention_mask("bool padding", N, T, S,
                                                                     1)})
    run_parity(Transformer, torch.nn.Transformer, {**TRANSFORMER, **options},
               [sequence(S, layout, 0), sequence(T, layout, 1)], mask_kinds, {}, layout)


@requires_torch
def test_state_dict_keys_match_pytorch():
    ours = Transformer(**TRANSFORMER).state_dict()
    theirs = torch.nn.Transformer(**TRANSFORMER).state_dict()
    assert list(ours) == list(theirs)
    assert all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours)
    layer_options = {**BASE, "bias": False}
    assert (list(TransformerDecoderLayer(**layer_options).state_dict())
            == list(torch.nn.TransformerDecoderLayer(**layer_options).state_dict()))
    assert ([name for name, _ in TransformerDecoderLayer(**BASE).named_children()]
            == [name for name, _ in torch.nn.TransformerDecoderLayer(**BASE).named_children()])


def test_stacked_layers_are_independent_copies():
    layer = TransformerEncoderLayer(**BASE)
    encoder = TransformerEncoder(layer, 3)
    weights = [m.linear1.weight for m in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight
                                                      for w in weights)
    np.testing.assert_array_equal(weights[0].detach().numpy(), layer.linear1.weight.numpy(
        force=True))
    with rg.no_grad():
        weights[0].fill_(1.0)
    assert not np.all(weights[1].detach().numpy() == 1.0)
    assert encoder.num_layers == 3 and encoder.norm is None


def test_transformer_initialisation_is_xavier_uniform():
    model = Transformer(**TRANSFORMER)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()  # (FF, D)
    assert np.abs(weight).max() <= np.sqrt(6 / (FF + D))
    np.testing.assert_array_equal(model.decoder.norm.weight.detach().numpy(), 1.0)


@requires_torch
@pytest.mark.parametrize("size,dtype", [(1, None), (4, None), (3, rg.float64)])
def test_generate_square_subsequent_mask(size, dtype):
    mask = Transformer.generate_square_subsequent_mask(size, dtype=dtype)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(
        size, dtype=None if dtype is None else torch.float64)
    assert mask.dtype == expected.numpy().dtype
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())


def test_training_mode_dropout_changes_outputs():
    layer = TransformerEncoderLayer(D, HEADS, FF, dropout=0.5)
    x = rg.tensor(randn(S, N, D, dtype=np.float32))
    first, second = layer(x), layer(x)
    assert not np.allclose(first.detach().numpy(), second.detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        TransformerEncoderLayer(D, HEADS, activation="tanh")
    with pytest.raises(TypeError, match="activation should be"):
        TransformerEncoderLayer(D, HEADS, activation=3)
    model = Transformer(**TRANSFORMER)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        model(rg.zeros(S, N, D), rg.zeros(T, N + 1, D))
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal"):
        model(rg.zeros(S, N, D), rg.zeros(T, N, D + 1))
    with pytest.raises(RuntimeError, match="need attn_mask"):
        TransformerEncoderLayer(**BASE)(rg.zeros(S, N, D), is_causal=True)
