"""scaled_dot_product_attention and masked_softmax: gradcheck (float64) with every kind of mask,
parity with PyTorch (float32, forward and the gradients of query, key, value and float masks),
fully masked rows, dropout, grouped-query attention, double backward, dtypes and errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch
from retrograd.ops.attention import (attention_with_weights, masked_softmax,
                                     scaled_dot_product_attention as sdpa)

if torch is not None:
    import torch.nn.functional as TF


def bool_mask(*shape, seed=5, dead_row=False):
    """A random boolean mask (True = attend); ``dead_row`` excludes every key of query 0."""
    mask = np.random.default_rng(seed).random(shape) > 0.35
    if dead_row:
        mask[..., 0, :] = False
    return mask


def float_mask(*shape, seed=6):
    """A random additive mask with some -inf entries and one fully -inf row."""
    mask = randn(*shape, seed=seed)
    mask[np.random.default_rng(seed).random(shape) < 0.2] = -np.inf
    mask[..., -1, :] = -np.inf
    return mask


# (query, key, value shapes, mask array or None, keyword arguments)
CASES = {
    "4d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    "3d": ((3, 4, 5), (3, 6, 5), (3, 6, 5), None, {}),
    "2d": ((4, 5), (6, 5), (6, 3), None, {}),
    "batch broadcast": ((2, 3, 4, 5), (1, 3, 6, 5), (2, 1, 6, 7), None, {}),
    "size-1 dims": ((1, 1, 1, 5), (1, 1, 1, 5), (1, 1, 1, 1), None, {}),
    "bool mask 2d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), bool_mask(4, 6), {}),
    "bool mask 4d, dead row": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7),
                               bool_mask(2, 3, 4, 6, dead_row=True), {}),
    "bool mask per key": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), bool_mask(2, 1, 1, 6), {}),
    "float mask 2d": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), float_mask(4, 6), {}),
    "float mask broadcast": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), float_mask(2, 1, 4, 6),
                             {}),
    "causal L < S": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"is_causal": True}),
    "causal L > S": ((2, 6, 5), (2, 4, 5), (2, 4, 3), None, {"is_causal": True}),
    "causal square": ((2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4), None, {"is_causal": True}),
    "scale": ((2, 4, 5), (2, 6, 5), (2, 6, 3), None, {"scale": 0.7}),
    "gqa": ((2, 6, 4, 5), (2, 2, 6, 5), (2, 3, 6, 7), None, {"enable_gqa": True}),
    "gqa causal": ((6, 4, 5), (3, 4, 5), (1, 4, 5), None, {"enable_gqa": True,
                                                           "is_causal": True}),
    "empty L": ((2, 0, 5), (2, 6, 5), (2, 6, 3), None, {}),
    "empty S": ((2, 4, 5), (2, 0, 5), (2, 0, 3), None, {}),
    "empty batch": ((0, 4, 5), (0, 6, 5), (0, 6, 3), None, {}),
}


def case_arrays(name, seed=0):
    q_shape, k_shape, v_shape, mask, kwargs = CASES[name]
    arrays = [randn(*q_shape, seed=seed), randn(*k_shape, seed=seed + 1),
              randn(*v_shape, seed=seed + 2)]
    return (arrays + ([] if mask is None else [mask])), kwargs


def with_mask(fn, **kwargs):
    """``fn(q, k, v[, mask])`` with the mask passed as attn_mask."""
    return lambda q, k, v, *mask: fn(q, k, v, attn_mask=mask[0] if mask else None, **kwargs)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    arrays, kwargs = case_arrays(name)
    check_grad(with_mask(sdpa, **kwargs), *arrays)


@requires_torch
@pytest.mark.parametrize("name", CASES)
def test_parity(name):
    arrays, kwargs = case_arrays(name, seed=3)
    check_parity(with_mask(sdpa, **kwargs), with_mask(TF.scaled_dot_product_attention, **kwargs),
                 *arrays)


@requires_torch
@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), length=st.integers(1, 5),
       source=st.integers(1, 5), embed=st.integers(1, 6), value_embed=st.integers(1, 4),
       mask_kind=st.sampled_from([None, "bool", "float", "causal"]), seed=st.integers(0, 50))
def test_parity_random_shapes(batch, length, source, embed, value_embed, mask_kind, seed):
    batch = tuple(batch)
    arrays = [randn(*batch, length, embed, seed=seed, scale=2.0),
              randn(*batch, source, embed, seed=seed + 1),
              randn(*batch, source, value_embed, seed=seed + 2)]
    kwargs = {"is_causal": mask_kind == "causal"}
    if mask_kind == "bool":
        arrays.append(bool_mask(length, source, seed=seed))
    elif mask_kind == "float":
        arrays.append(float_mask(*batch, length, source, seed=seed))
    check_parity(with_mask(sdpa, **kwargs), with_mask(TF.scaled_dot_product_attention, **kwargs),
                 *arrays)


# ------------------------------------------------------------------------- fully masked rows
@pytest.mark.parametrize("mask", [np.zeros((3, 4), bool), np.full((3, 4), -np.inf)],
                         ids=["bool", "float"])
def test_fully_masked_rows_give_zeros_and_zero_gradient(mask):
    q, k, v = (rg.tensor(randn(2, n, 5, seed=i), requires_grad=True)
               for i, n in enumerate((3, 4, 4)))
    mask = mask.copy()
    mask[1] = True if mask.dtype == bool else 0.0  # query 1 may attend to every key
    out = sdpa(q, k, v, attn_mask=rg.tensor(mask))
    assert np.all(out.detach().numpy()[:, [0, 2]] == 0)
    assert np.all(np.isfinite(out.detach().numpy()))
    out.sum().backward()
    assert np.all(q.grad.numpy()[:, [0, 2]] == 0)
    assert np.all(np.isfinite(k.grad.numpy())) and np.all(np.isfinite(v.grad.numpy()))


def test_large_scores_stay_finite():
    q = rg.tensor(randn(2, 3, 4, scale=1e4, dtype=np.float32), requires_grad=True)
    k = rg.tensor(randn(2, 5, 4, seed=1, scale=1e4, dtype=np.float32))
    v = rg.tensor(randn(2, 5, 4, seed=2, dtype=np.float32))
    out = sdpa(q, k, v)
    out.sum().backward()
    assert np.all(np.isfinite(out.detach().numpy())) and np.all(np.isfinite(q.grad.numpy()))


def test_empty_embedding_gives_uniform_weights():
    q, k, v = rg.zeros(2, 3, 0), rg.zeros(2, 4, 0), rg.tensor(randn(2, 4, 5, dtype=np.float32))
    out = sdpa(q, k, v)
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(v.numpy().mean(1, keepdims=True),
                                                            (2, 3, 5)))


# ------------------------------------------------------------------------- double backward
@pytest.mark.parametrize("name", ["4d", "bool mask 4d, dead row", "float mask 2d",
                                  "causal L > S", "gqa causal"])
def test_double_backward(name):
    arrays, kwargs = case_arrays(name)
    inputs = [rg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert rg.autograd.gradgradcheck(with_mask(sdpa, **kwargs), tuple(inputs))


@requires_torch
def test_double_backward_parity():
    """d/d(q, k, v) of |d(out . g)/d(q, k, v)|^2, against PyTorch's math kernel."""
    arrays, _ = case_arrays("bool mask 4d, dead row", seed=7)
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]
    seed_grad = randn(2, 3, 4, 7, seed=9, dtype=np.float32)

    def second_order(lib, grad_fn, fn):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays[:3]]
        out = fn(*inputs, attn_mask=lib.tensor(arrays[3]))
        firsts = grad_fn((out * lib.tensor(seed_grad)).sum(), inputs, create_graph=True)
        sum(f.pow(2).sum() for f in firsts).backward()
        return [t.grad.numpy() for t in inputs]

    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        expected = second_order(torch, torch.autograd.grad, TF.scaled_dot_product_attention)
    actual = second_order(rg, rg.autograd.grad, sdpa)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------- dropout
def test_dropout_drops_weights_and_rescales_the_rest():
    q, k, v = (rg.tensor(randn(4, 8, 6, seed=i, dtype=np.float32)) for i in range(3))
    rg.manual_seed(0)
    out, weights = attention_with_weights(q, k, v, dropout_p=0.25)
    full = attention_with_weights(q, k, v)[1].numpy()
    kept = weights.numpy() != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(weights.numpy()[kept], full[kept] / 0.75, rtol=1e-6)
    np.testing.assert_allclose(out.numpy(), weights.numpy() @ v.numpy(), rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32


def test_dropout_is_repeatable_from_the_seed():
    q, k, v = (rg.tensor(randn(3, 5, 4, seed=i)) for i in range(3))
    rg.manual_seed(3)
    first = sdpa(q, k, v, dropout_p=0.5).numpy()
    rg.manual_seed(3)
    np.testing.assert_array_equal(sdpa(q, k, v, dropout_p=0.5).numpy(), first)


def test_dropout_gradient_flows_through_kept_weights_only():
    q, k, v = (rg.tensor(randn(2, 4, 3, seed=i), requires_grad=True) for i in range(3))

    def fixed_dropout(q, k, v):
        rg.manual_seed(11)  # the same mask at every evaluation of the finite differences
        return sdpa(q, k, v, dropout_p=0.4)

    assert rg.autograd.gradcheck(fixed_dropout, (q, k, v))


def test_dropout_one_gives_zeros():
    q, k, v = (rg.tensor(randn(2, 4, 3, seed=i)) for i in range(3))
    assert not np.any(sdpa(q, k, v, dropout_p=1.0).numpy())


# -------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    q, k, v = (rg.tensor(randn(2, 4, 3, seed=i, dtype=dtype), requires_grad=True)
               for i in range(3))
    mask = rg.tensor(randn(4, 4, seed=4, dtype=dtype), requires_grad=True)
    out = sdpa(q, k, v, attn_mask=mask, scale=np.float64(0.3))
    out.sum().backward()
    assert out.dtype == dtype
    assert all(t.grad.dtype == dtype for t in (q, k, v, mask))


@requires_torch
def test_float32_mask_with_float64_query_like_pytorch():
    arrays = [randn(2, 4, 3, seed=i) for i in range(3)] + [randn(4, 4, dtype=np.float32)]
    out = with_mask(sdpa)(*(rg.tensor(a) for a in arrays))
    expected = with_mask(TF.scaled_dot_product_attention)(*(torch.tensor(a) for a in arrays))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


# -------------------------------------------------------------------------------- errors
def _qkv(q_shape=(2, 4, 3), k_shape=(2, 5, 3), v_shape=(2, 5, 3), dtypes=(np.float32,) * 3):
    return tuple(rg.tensor(randn(*s, dtype=d)) for s, d in zip((q_shape, k_shape, v_shape),
                                                                dtypes))


@pytest.mark.parametrize("args,kwargs,error,message", [
    (_qkv((3,), (3,), (3,)), {}, RuntimeError, "at least 2 dims"),
    (_qkv(dtypes=(np.float32, np.float64, np.float32)), {}, RuntimeError, "one floating dtype"),
    (_qkv(dtypes=(np.int64,) * 3), {}, RuntimeError, "one floating dtype"),  # as in PyTorch
    (_qkv(k_shape=(2, 5, 4)), {}, RuntimeError, "same embedding size"),
    (_qkv(v_shape=(2, 6, 3)), {}, RuntimeError, "same sequence length"),
    (_qkv(k_shape=(3, 5, 3)), {}, RuntimeError, "do not broadcast"),
    (_qkv(), {"attn_mask": rg.ones(4, 5, dtype=rg.bool), "is_causal": True}, RuntimeError,
     "should not be set when is_causal"),
    (_qkv(), {"attn_mask": rg.ones(3, 5, dtype=rg.bool)}, RuntimeError,
     r"attn_mask of shape \(3, 5\) does not broadcast"),
    (_qkv(), {"attn_mask": rg.ones(3, 2, 4, 5, dtype=rg.bool)}, RuntimeError,
     "does not broadcast"),
    (_qkv(), {"attn_mask": rg.ones(4, 5, dtype=rg.int64)}, RuntimeError, "dtype bool, float32"),
    (_qkv(), {"attn_mask": rg.ones(4, 5, dtype=rg.float64)}, RuntimeError,
     "dtype bool, float32"),
    (_qkv(), {"dropout_p": 1.5}, ValueError, "between 0 and 1"),
    (_qkv((2, 6, 4, 3), (2, 4, 5, 3), (2, 4, 5, 3)), {"enable_gqa": True}, RuntimeError,
     "multiple of the key and value heads"),
    (_qkv((4, 3), (5, 3), (5, 3)), {"enable_gqa": True}, RuntimeError, "heads dim"),
])
def test_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        sdpa(*args, **kwargs)


# --------------------------------------------------------------------------- masked_softmax
@pytest.mark.parametrize("shape,mask", [
    ((3, 5), None),
    ((3, 5), bool_mask(3, 5, dead_row=True)),
    ((2, 3, 5), bool_mask(5)),
    ((2, 3, 5), float_mask(3, 5)),
    ((4,), float_mask(1, 4)[0]),
    ((3, 0), None),
])
def test_masked_softmax_gradcheck(shape, mask):
    arrays = [randn(*shape)] + ([] if mask is None else [mask])
    check_grad(lambda x, *m: masked_softmax(x, *m), *arrays)


@requires_torch
@pytest.mark.parametrize("mask", [bool_mask(3, 5), float_mask(2, 3, 5)], ids=["bool", "float"])
def test_masked_softmax_parity(mask):
    def torch_masked_softmax(x, m):
        logits = x.masked_fill(~m, -math.inf) if m.dtype == torch.bool else x + m
        return torch.softmax(logits, -1).nan_to_num()  # PyTorch: NaN on the fully masked row

    arrays = [randn(2, 3, 5, scale=3.0), mask]
    if mask.dtype == bool:
        check_parity(masked_softmax, torch_masked_softmax, *arrays)
    else:  # NaN gradients in PyTorch's fully masked row: compare the others
        x = rg.tensor(arrays[0].astype(np.float32))
        out = masked_softmax(x, rg.tensor(mask.astype(np.float32)))
        expected = torch_masked_softmax(torch.tensor(arrays[0], dtype=torch.float32),
                                        torch.tensor(mask, dtype=torch.float32))
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


def test_masked_softmax_rows_sum_to_one_or_zero():
    mask = bool_mask(4, 6, dead_row=True)
    probs = masked_softmax(rg.tensor(randn(4, 6, scale=50.0)), rg.tensor(mask)).numpy()
    np.testing.assert_allclose(probs.sum(-1), [0, 1, 1, 1], rtol=1e-12)
    assert np.all(probs[~mask] == 0)


def test_masked_softmax_errors():
    with pytest.raises(RuntimeError, match="floating point input"):
        masked_softmax(rg.ones(3, dtype=rg.int64))
    with pytest.raises(RuntimeError, match=r"shape \(4,\) does not broadcast"):
        masked_softmax(rg.ones(3), rg.ones(4, dtype=rg.bool))
