"""nn.utils: gradient clipping and parameter/vector conversion, against PyTorch."""
import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
from helpers import randn, requires_torch, torch
from retrograd.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                                vector_to_parameters)

SHAPES = [(3, 4), (4,), (2, 2, 3), (0, 2)]


def paired_parameters(scale=1.0, dtype=np.float32, shapes=SHAPES):
    """The same parameters with the same gradients in retrograd and in PyTorch."""
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        value, grad = randn(*shape, seed=i, dtype=dtype), randn(*shape, seed=10 + i,
                                                                scale=scale, dtype=dtype)
        p = nn.Parameter(rg.tensor(value))
        p.grad = rg.tensor(grad)
        q = torch.nn.Parameter(torch.tensor(value))
        q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    # PyTorch refuses the inf-norm of an empty gradient (no identity); retrograd counts it as 0
    shapes = SHAPES if float(norm_type) != float("inf") else SHAPES[:-1]
    ours, theirs = paired_parameters(scale=2.0, shapes=shapes)
    total = clip_grad_norm_(iter(ours), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, rg.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-5)
    for p, q in zip(ours, theirs):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


@requires_torch
def test_clip_grad_norm_on_one_tensor_and_skips_missing_grads():
    ours, theirs = paired_parameters()
    ours[1].grad = theirs[1].grad = None
    np.testing.assert_allclose(clip_grad_norm_(ours, 1.0).item(),
                               torch.nn.utils.clip_grad_norm_(theirs, 1.0).item(), rtol=1e-5)
    single = ours[0]
    single.grad = rg.full((3, 4), 3.0)
    assert clip_grad_norm_(single, 1.0).item() == pytest.approx(3 * np.sqrt(12))
    np.testing.assert_allclose(np.linalg.norm(single.grad.numpy()), 1.0, rtol=1e-5)


def test_clip_grad_norm_of_a_model_after_backward():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    model(rg.ones(5, 4, dtype=rg.float64)).sum().backward()
    total = clip_grad_norm_(model.parameters(), 0.1)
    assert total.dtype == np.float64 and total.item() > 0.1
    clipped = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert clipped == pytest.approx(0.1, rel=1e-5)


def test_clip_grad_norm_edge_cases():
    assert clip_grad_norm_([], 1.0).item() == 0.0
    assert clip_grad_norm_([nn.Parameter(rg.ones(2))], 1.0).dtype == np.float32
    empty = nn.Parameter(rg.ones(0))
    empty.grad = rg.ones(0)
    assert clip_grad_norm_([empty], 1.0, norm_type="inf").item() == 0.0
    p = nn.Parameter(rg.ones(2))
    p.grad = rg.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):  # inf * 0, as in PyTorch
        assert np.isinf(clip_grad_norm_([p], 1.0).item())
    assert np.isnan(p.grad.numpy()[0]) and p.grad.numpy()[1] == 0


@requires_torch
@pytest.mark.parametrize("clip_value", [0.3, 5])
def test_clip_grad_value_matches_pytorch(clip_value):
    ours, theirs = paired_parameters()
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


@requires_torch
def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = paired_parameters()
    vector = parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vector.detach().numpy(), expected.detach().numpy())
    seed = randn(vector.shape[0], seed=5, dtype=np.float32)
    vector.backward(rg.tensor(seed))
    expected.backward(torch.tensor(seed))
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())

    new = randn(vector.shape[0], seed=6, dtype=np.float32)
    new_tensor = rg.tensor(new)
    vector_to_parameters(new_tensor, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, q in zip(ours, theirs):
        assert isinstance(p, nn.Parameter) and p.requires_grad and p.shape == tuple(q.shape)
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    new_tensor.array[0] = 42.0  # the parameters view the vector, as in PyTorch
    assert ours[0].array[0, 0] == 42.0


def test_vector_to_parameters_errors():
    params = [nn.Parameter(rg.ones(2, 2))]
    with pytest.raises(TypeError, match="expected a Tensor"):
        vector_to_parameters(np.ones(4), params)
    with pytest.raises(RuntimeError, match="too few"):
        vector_to_parameters(rg.ones(3), params)
