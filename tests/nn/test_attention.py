"""MultiheadAttention and AdditiveAttention: parity with PyTorch for every option and mask
(outputs, weights, gradients of inputs, float masks and all parameters), state_dict keys,
initialisation, dropout, fully masked queries and errors."""
import numpy as np
import pytest

import retrograd as rg
from helpers import check_grad, randn, requires_torch, torch
from module_parity import attention_mask, check_module_parity
from retrograd.nn.modules.attention import AdditiveAttention, MultiheadAttention

E, HEADS, L, S, N = 8, 2, 4, 5, 3


# name: (constructor options, forward options, masks (attn_mask, key_padding_mask), layout)
MHA_CASES = {
    "self-attention": ({}, {}, (None, None), {}),
    "cross-attention": ({}, {}, (None, None), {"cross": True}),
    "batch_first": ({"batch_first": True}, {}, (None, None), {"cross": True}),
    "unbatched": ({}, {}, (None, None), {"batched": False}),
    "unbatched batch_first": ({"batch_first": True}, {}, (None, None), {"batched": False}),
    "kdim vdim": ({"kdim": 6, "vdim": 7}, {}, (None, None), {"cross": True}),
    "kdim vdim batch_first padded": ({"kdim": 6, "vdim": 7, "batch_first": True}, {},
                                     (None, "bool padding"), {"cross": True}),
    "no bias": ({"bias": False}, {}, (None, None), {"cross": True}),
    "add_bias_kv": ({"add_bias_kv": True}, {}, (None, None), {"cross": True}),
    "add_zero_attn": ({"add_zero_attn": True}, {}, (None, None), {"cross": True}),
    "bias_kv, zero_attn and masks": ({"add_bias_kv": True, "add_zero_attn": True}, {},
                                     ("bool attn", "bool padding"), {"cross": True}),
    "bool attn_mask": ({}, {}, ("bool attn", None), {"cross": True}),
    "float attn_mask": ({}, {}, ("float attn", None), {"cross": True}),
    "3d attn_mask": ({}, {}, ("bool attn 3d", None), {"cross": True}),
    "unbatched 3d attn_mask": ({}, {}, ("bool attn 3d", None), {"batched": False}),
    "bool key_padding_mask": ({}, {}, (None, "bool padding"), {}),
    "float key_padding_mask": ({}, {}, (None, "float padding"), {"cross": True}),
    "both masks": ({"batch_first": True}, {}, ("float attn", "bool padding"), {"cross": True}),
    "per-head weights": ({}, {"average_attn_weights": False}, ("bool attn", None),
                         {"cross": True}),
    "no weights": ({}, {"need_weights": False}, (None, "bool padding"), {"cross": True}),
    "eval mode with dropout": ({"dropout": 0.3}, {}, (None, "bool padding"), {"eval": True}),
}


def mha_case(name, seed=0):
    """(rg module, torch module, forward(module, *tensors), arrays) for a case."""
    options, forward_options, mask_kinds, layout = MHA_CASES[name]
    batched, cross = layout.get("batched", True), layout.get("cross", False)
    batch_first = options.get("batch_first", False)
    source = S if cross else L
    batch = N if batched else 1

    def sequence(length, features, seed):
        if not batched:
            return randn(length, features, seed=seed)
        shape = (batch, length, features) if batch_first else (length, batch, features)
        return randn(*shape, seed=seed)

    arrays = [sequence(L, E, seed)]
    if cross:
        arrays += [sequence(S, options.get("kdim", E), seed + 1),
                   sequence(S, options.get("vdim", E), seed + 2)]
    names = []
    for mask_name, kind in zip(("attn_mask", "key_padding_mask"), mask_kinds):
        if kind is not None:
            mask = attention_mask(kind, batch, L, source, seed=seed + 3, heads=HEADS)
            arrays.append(mask if batched or mask_name == "attn_mask" else mask[0])
            names.append(mask_name)
    inputs = 3 if cross else 1

    def forward(module, *tensors):
        query, key, value = tensors[:3] if cross else tensors[:1] * 3
        masks = dict(zip(names, tensors[inputs:]))
        return module(query, key, value, **masks, **forward_options)

    rg_module = MultiheadAttention(E, HEADS, **options)
    torch_module = torch.nn.MultiheadAttention(E, HEADS, **options)
    if layout.get("eval"):
        rg_module.eval()
        torch_module.eval()
    return rg_module, torch_module, forward, arrays


@requires_torch
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask and attn_mask")
@pytest.mark.parametrize("name", MHA_CASES)
def test_multihead_attention_parity(name):
    torch.manual_seed(0)
    rg_module, torch_module, forward, arrays = mha_case(name)
    check_module_parity(rg_module, torch_module, forward, *arrays)


@requires_torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_causal_mask_parity(batch_first):
    torch.manual_seed(1)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(L).numpy()
    x = randn(N, L, E) if batch_first else randn(L, N, E)

    def forward(module, x, mask):
        return module(x, x, x, attn_mask=mask, is_causal=True)

    check_module_parity(MultiheadAttention(E, HEADS, batch_first=batch_first),
                        torch.nn.MultiheadAttention(E, HEADS, batch_first=batch_first),
                        forward, x, mask)


@requires_torch
def test_query_with_every_key_padded_gets_zeros_like_pytorch_without_weights():
    """PyTorch's need_weights=False path gives zeros there (need_weights=True gives NaN; here
    the weights are zeros too)."""
    torch.manual_seed(2)
    padding = np.zeros((N, S), bool)
    padding[1] = True

    def forward(module, query, key, padding):
        return module(query, key, key, key_padding_mask=padding, need_weights=False)

    check_module_parity(MultiheadAttention(E, HEADS), torch.nn.MultiheadAttention(E, HEADS),
                        forward, randn(L, N, E), randn(S, N, E, seed=1), padding)
    module = MultiheadAttention(E, HEADS)
    _, weights = module(rg.tensor(randn(L, N, E, dtype=np.float32)),
                        *[rg.tensor(randn(S, N, E, seed=1, dtype=np.float32))] * 2,
                        key_padding_mask=rg.tensor(padding))
    assert not np.any(weights.detach().numpy()[1])
    np.testing.assert_allclose(weights.detach().numpy()[[0, 2]].sum(-1), 1, rtol=1e-6)


def test_gradcheck_float64():
    module = MultiheadAttention(4, 2, add_bias_kv=True, kdim=3).double()
    mask = np.zeros((2, 3), bool)
    mask[1, 2] = True
    check_grad(lambda q, k, v: module(q, k, v, key_padding_mask=rg.tensor(mask))[0],
               randn(2, 2, 4), randn(3, 2, 3, seed=1), randn(3, 2, 4, seed=2))


@requires_torch
@pytest.mark.parametrize("options", [{}, {"kdim": 5, "vdim": 3, "add_bias_kv": True},
                                     {"bias": False}], ids=["packed", "separate", "no bias"])
def test_state_dict_keys_and_shapes_match_pytorch(options):
    ours = MultiheadAttention(E, HEADS, **options).state_dict()
    theirs = torch.nn.MultiheadAttention(E, HEADS, **options).state_dict()
    assert list(ours) == list(theirs)
    assert all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours)


def test_initialisation():
    rg.manual_seed(0)
    module = MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))  # Xavier-uniform over the stacked (192, 64) matrix
    weight = module.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert not np.any(module.in_proj_bias.detach().numpy())
    assert not np.any(module.out_proj.bias.detach().numpy())
    assert module.bias_k.shape == (1, 1, 64) and np.any(module.bias_k.detach().numpy())
    assert module.in_proj_weight.dtype == np.float32


def test_dropout_in_training_only():
    module = MultiheadAttention(E, HEADS, dropout=0.5)
    x = rg.tensor(randn(L, N, E, dtype=np.float32))
    rg.manual_seed(0)
    _, weights = module(x, x, x, average_attn_weights=False)
    assert np.mean(weights.detach().numpy() == 0) > 0.3
    module.eval()
    _, weights = module(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1, rtol=1e-6)


def test_self_attention_equals_attention_with_separate_copies():
    """The packed projection used when query, key and value are one tensor gives the same
    result as three separate projections."""
    module = MultiheadAttention(E, HEADS)
    x = rg.tensor(randn(L, N, E, dtype=np.float32))
    packed, _ = module(x, x, x)
    separate, _ = module(x, x.clone(), x.clone())
    np.testing.assert_allclose(packed.detach().numpy(), separate.detach().numpy(), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("call,message", [
    (lambda m, x: m(x[0, 0], x[0, 0], x[0, 0]), "unbatched 2D or batched 3D"),
    (lambda m, x: m(x, x[0], x), "expected key and value of 3 dims"),
    (lambda m, x: m(x, x[..., :4], x[..., :4]), "expected key with 8 features"),
    (lambda m, x: m(x, x, x[:2]), "does not match value shape"),
    (lambda m, x: m(x, x[:, :2], x[:, :2]), "different batch sizes"),
    (lambda m, x: m(x, x, x, attn_mask=rg.ones(3, 4, dtype=rg.bool)),
     r"2D attn_mask is \(3, 4\), but should be \(4, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=rg.ones(3, 4, 4, dtype=rg.bool)),
     r"should be \(6, 4, 4\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=rg.ones(3, 5, dtype=rg.bool)),
     r"key_padding_mask of shape \(3, 4\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=rg.ones(3, dtype=rg.bool)),
     "key_padding_mask of 2 dims"),
    (lambda m, x: m(x, x, x, key_padding_mask=rg.ones(3, 4, dtype=rg.int64)),
     "only bool and floating types of key_padding_mask"),
    (lambda m, x: m(x, x, x, is_causal=True), "need attn_mask"),
])
def test_forward_errors(call, message):
    x = rg.tensor(randn(L, N, E, dtype=np.float32))
    with pytest.raises(RuntimeError, match=message):
        call(MultiheadAttention(E, HEADS), x)


def test_constructor_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        MultiheadAttention(8, 0)


# ------------------------------------------------------------------------- AdditiveAttention
if torch is not None:
    class TorchAdditiveAttention(torch.nn.Module):
        """The reference formula in PyTorch, with the same parameter names."""

        def __init__(self, query_size, key_size, hidden_size):
            super().__init__()
            self.query_proj = torch.nn.Linear(query_size, hidden_size, bias=False)
            self.key_proj = torch.nn.Linear(key_size, hidden_size)
            self.score_proj = torch.nn.Linear(hidden_size, 1, bias=False)

        def forward(self, query, keys, values, mask):
            single = query.dim() == keys.dim() - 1
            query = query.unsqueeze(-2) if single else query
            hidden = torch.tanh(self.query_proj(query).unsqueeze(-2)
                                + self.key_proj(keys).unsqueeze(-3))
            scores = self.score_proj(hidden).squeeze(-1)
            if mask is not None:
                scores = scores.masked_fill(~mask.unsqueeze(-2), float("-inf"))
            weights = scores.softmax(-1)
            context = weights @ values
            return (context.squeeze(-2), weights.squeeze(-2)) if single else (context, weights)


ADDITIVE_SHAPES = {
    "one query per sequence": ((3, 6), (3, 5, 4), (3, 5, 7)),
    "several queries": ((3, 2, 6), (3, 5, 4), (3, 5, 7)),
    "unbatched": ((6,), (5, 4), (5, 7)),
    "extra batch dims": ((2, 3, 6), (2, 3, 5, 4), (2, 3, 5, 7)),
}


@requires_torch
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name", ADDITIVE_SHAPES)
def test_additive_attention_parity(name, masked):
    query_shape, key_shape, value_shape = ADDITIVE_SHAPES[name]
    arrays = [randn(*query_shape), randn(*key_shape, seed=1), randn(*value_shape, seed=2)]
    if masked:
        lengths = np.random.default_rng(3).integers(1, key_shape[-2] + 1,
                                                    size=key_shape[:-2] + (1,))
        arrays.append(np.arange(key_shape[-2]) < lengths)  # True = a real key
    torch.manual_seed(0)

    def forward(module, query, keys, values, mask=None):
        return module(query, keys, values, mask=mask)

    check_module_parity(AdditiveAttention(6, 4, 9), TorchAdditiveAttention(6, 4, 9), forward,
                        *arrays)


def test_additive_attention_gradcheck():
    module = AdditiveAttention(3, 2, 4).double()
    mask = rg.tensor(np.array([[True, True, False], [True, False, False]]))
    check_grad(lambda q, k, v: module(q, k, v, mask=mask)[0], randn(2, 3), randn(2, 3, 2, seed=1),
               randn(2, 3, 5, seed=2))


def test_additive_attention_weights_and_defaults():
    module = AdditiveAttention(6, 4, 9)
    query = rg.tensor(randn(3, 6, dtype=np.float32))
    keys = rg.tensor(randn(3, 5, 4, seed=1, dtype=np.float32))
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    mask[2] = False  # nothing to attend to
    context, weights = module(query, keys, mask=rg.tensor(mask))
    assert context.shape == (3, 4) and weights.shape == (3, 5)  # values default to the keys
    weights = weights.detach().numpy()
    assert np.all(weights[~mask] == 0)
    np.testing.assert_allclose(weights.sum(-1), [1, 1, 0], rtol=1e-6)
    assert not np.any(context.detach().numpy()[2])
    again, _ = module(query, keys, mask=rg.tensor(mask), projected_keys=module.key_proj(keys))
    np.testing.assert_allclose(again.detach().numpy(), context.detach().numpy(), rtol=1e-6)


def test_additive_attention_errors():
    module = AdditiveAttention(6, 4, 9)
    with pytest.raises(RuntimeError, match="expected keys"):
        module(rg.ones(6), rg.ones(3, 2, 5, 4))
    with pytest.raises(RuntimeError, match="must match keys"):
        module(rg.ones(3, 6), rg.ones(3, 5, 4), rg.ones(3, 4, 7))
    assert "query_size=6, key_size=4, hidden_size=9" in repr(module)
