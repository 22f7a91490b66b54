"""Parity of a whole module with its PyTorch counterpart: same weights (PyTorch's state_dict
loaded as NumPy arrays), same outputs, same gradients for the inputs and every parameter."""
import contextlib

import numpy as np

import retrograd as rg
from helpers import torch


@contextlib.contextmanager
def mha_fastpath_disabled():
    """PyTorch's attention layers may take a fused inference path in eval mode whose results
    differ at padded positions; the reference here is the plain computation."""
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


def attention_mask(kind, batch, target, source, seed=0, heads=1):
    """A random mask in MultiheadAttention's convention (boolean True = ignore): ``kind`` is
    'bool attn' or 'float attn' (target, source), 'bool attn 3d' (batch * heads, target,
    source), 'bool padding' (each sequence padded after a random length) or 'float padding'
    (batch, source). Key 0 is never masked, so that no query is left without keys (PyTorch's
    weights would be NaN there)."""
    rng = np.random.default_rng(seed)
    if kind == "bool attn":
        mask = rng.random((target, source)) < 0.4
    elif kind == "float attn":
        mask = rng.standard_normal((target, source))
    elif kind == "bool attn 3d":
        mask = rng.random((batch * heads, target, source)) < 0.4
    elif kind == "bool padding":
        mask = np.arange(source) >= rng.integers(1, source + 1, size=(batch, 1))
    elif kind == "float padding":
        mask = np.where(rng.random((batch, source)) < 0.3, -np.inf,
                        rng.standard_normal((batch, source)))
    else:
        raise ValueError(f"unknown mask kind {kind!r}")
    mask[..., 0] = False if mask.dtype == bool else 0.0
    return mask


def _outputs(result):
    result = result if isinstance(result, (tuple, list)) else (result,)
    return [r for r in result if r is not None]


def check_module_parity(rg_module, torch_module, forward, *arrays, rtol=1e-5, atol=1e-5,
                        seed=1):
    """``forward(module, *tensors)`` in both frameworks on float32 copies of ``arrays`` (float
    arrays become inputs that require grad; others, e.g. boolean masks, stay constants)."""
    rg_module.load_state_dict({name: value.detach().numpy()
                               for name, value in torch_module.state_dict().items()})
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in map(np.asarray, arrays)]
    rg_inputs = [rg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    with mha_fastpath_disabled():
        torch_outs = _outputs(forward(torch_module, *torch_inputs))
    rg_outs = _outputs(forward(rg_module, *rg_inputs))
    assert len(rg_outs) == len(torch_outs)
    rng = np.random.default_rng(seed)
    rg_seeds, torch_seeds = [], []
    for r, t in zip(rg_outs, torch_outs):
        expected = t.detach().numpy()
        assert r.shape == expected.shape and r.dtype == expected.dtype
        np.testing.assert_allclose(r.detach().numpy(), expected, rtol=rtol, atol=atol)
        grad = rng.standard_normal(expected.shape).astype(np.float32)
        rg_seeds.append(rg.tensor(grad))
        torch_seeds.append(torch.tensor(grad))
    rg.autograd.backward(rg_outs, rg_seeds)
    torch.autograd.backward(torch_outs, torch_seeds)
    rg_params = dict(rg_module.named_parameters())
    torch_params = dict(torch_module.named_parameters())
    assert list(rg_params) == list(torch_params)
    pairs = [(f"input {i}", r, t) for i, (r, t) in enumerate(zip(rg_inputs, torch_inputs))
             if t.requires_grad]
    pairs += [(name, rg_params[name], t) for name, t in torch_params.items()]
    for name, r, t in pairs:
        if t.grad is None:
            assert r.grad is None or not np.any(r.grad.numpy()), name
            continue
        assert r.grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(r.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)
