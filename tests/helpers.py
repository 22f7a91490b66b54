"""Shared checks for op tests: gradcheck in float64 and parity with PyTorch in float32."""
import numpy as np
import pytest

import retrograd as rg

try:
    import torch
except ImportError:  # the oracle is optional: parity tests skip with a visible reason
    torch = None

requires_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch (the test oracle) is not installed: pip install -e '.[oracle]'")


def randn(*shape, seed=0, scale=1.0, shift=0.0, dtype=np.float64):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(dtype)


def positive(*shape, seed=0, low=0.5, high=2.0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_grad(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, grad_mask=None):
    """gradcheck ``fn`` at float64 copies of ``arrays``. Integer arrays (indices) and entries
    with ``grad_mask[i] == False`` are passed as constants."""
    inputs = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        wants = a.dtype.kind == "f" and (grad_mask is None or grad_mask[i])
        t = rg.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, requires_grad=wants)
        inputs.append(t)
    assert rg.autograd.gradcheck(fn, tuple(inputs), eps=eps, atol=atol, rtol=rtol)


def check_parity(rg_fn, torch_fn, *arrays, rtol=1e-5, atol=1e-6, grad_mask=None, seed=1):
    """Same forward values and input gradients as PyTorch for float32 copies of ``arrays``.

    The backward pass is seeded with the same random output gradient in both frameworks."""
    if torch is None:
        pytest.skip("PyTorch (the test oracle) is not installed")
    rg_inputs, torch_inputs = [], []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(np.float32)
        wants = a.dtype.kind == "f" and (grad_mask is None or grad_mask[i])
        rg_inputs.append(rg.tensor(a, requires_grad=wants))
        torch_inputs.append(torch.tensor(a, requires_grad=wants))
    rg_outs = _as_list(rg_fn(*rg_inputs))
    torch_outs = _as_list(torch_fn(*torch_inputs))
    assert len(rg_outs) == len(torch_outs)
    rng = np.random.default_rng(seed)
    rg_seeds, torch_seeds, rg_diff, torch_diff = [], [], [], []
    for r, t in zip(rg_outs, torch_outs):
        t_np = t.detach().numpy()
        assert tuple(r.shape) == tuple(t_np.shape), (r.shape, t_np.shape)
        assert r.dtype == t_np.dtype, (r.dtype, t_np.dtype)
        np.testing.assert_allclose(r.detach().numpy(), t_np, rtol=rtol, atol=atol)
        if t.requires_grad:
            assert r.requires_grad
            g = rng.standard_normal(t_np.shape).astype(t_np.dtype)
            rg_diff.append(r)
            torch_diff.append(t)
            rg_seeds.append(rg.tensor(g))
            torch_seeds.append(torch.tensor(g))
    if not torch_diff:
        return
    rg.autograd.backward(rg_diff, rg_seeds)
    torch.autograd.backward(torch_diff, torch_seeds)
    for r, t in zip(rg_inputs, torch_inputs):
        if t.requires_grad:
            if t.grad is None:
                assert r.grad is None or not np.any(r.grad.numpy())
                continue
            assert r.grad is not None, "retrograd produced no gradient where PyTorch did"
            assert r.grad.dtype == t.grad.numpy().dtype
            assert tuple(r.grad.shape) == tuple(t.grad.shape), (r.grad.shape, t.grad.shape)
            np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
