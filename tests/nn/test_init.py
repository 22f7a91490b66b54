"""nn.init: gains and fans equal to PyTorch's, the distributions' statistics on large tensors,
in-place behaviour, reproducibility, and the layers' default initialisation."""
import math

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.init as init
from helpers import requires_torch, torch

BIG = (500, 400)  # 200,000 draws: sample mean and std within ~0.5% of the truth


def assert_stats(values, mean, std, rel=0.01):
    """Sample mean and std agree with the distribution's (tolerances ~5 standard errors)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert abs(values.std() - std) < rel * std


# ------------------------------------------------------------------------ gains and fans
@requires_torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)),
    ("selu", None)])
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_rejects_unknown_inputs():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@requires_torch
@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (8, 4, 5), (16, 3, 3, 5), (4, 2, 3, 3, 3),
                                   (5, 0), (0, 4, 3, 3)])
def test_fan_in_and_fan_out_match_pytorch(shape):
    assert init._calculate_fan_in_and_fan_out(rg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def test_fans_need_two_dimensions_and_a_valid_mode():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(rg.zeros(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(rg.zeros(3, 3), mode="fan_avg")


# -------------------------------------------------------------------------- distributions
def test_uniform_and_normal():
    t = init.uniform_(rg.empty(*BIG), -2.0, 3.0)
    values = t.numpy()
    assert values.min() >= -2.0 and values.max() <= 3.0
    assert_stats(values, 0.5, 5 / math.sqrt(12))
    assert_stats(init.normal_(rg.empty(*BIG), 1.5, 0.3).numpy(), 1.5, 0.3)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0),
                                             (1.0, 2.0, 0.5, 6.0), (0.0, 1.0, 1.0, 1.5)])
@pytest.mark.parametrize("without_scipy", [False, True])
def test_trunc_normal_statistics_and_bounds(mean, std, a, b, without_scipy, monkeypatch):
    if without_scipy:
        monkeypatch.setattr(init, "_erfinv", None)
    values = init.trunc_normal_(rg.empty(*BIG, dtype=rg.float64), mean, std, a, b).numpy()
    assert values.min() >= a and values.max() <= b
    # moments of the normal distribution truncated to [alpha, beta] (in stds)
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    mass = (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2))) / 2
    shift = (pdf(alpha) - pdf(beta)) / mass
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - shift ** 2
    assert_stats(values, mean + std * shift, std * math.sqrt(variance))


def test_trunc_normal_rejects_empty_interval():
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(rg.empty(3), a=1.0, b=1.0)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    shape = (400, 100, 3, 3)  # fan_in = 900, fan_out = 3600
    std = gain * math.sqrt(2 / (900 + 3600))
    values = init.xavier_uniform_(rg.empty(*shape), gain=gain).numpy()
    assert np.abs(values).max() <= math.sqrt(3) * std
    assert_stats(values, 0.0, std)
    assert_stats(init.xavier_normal_(rg.empty(*shape), gain=gain).numpy(), 0.0, std)


@pytest.mark.parametrize("a, mode, nonlinearity", [(0, "fan_in", "leaky_relu"),
                                                   (math.sqrt(5), "fan_in", "leaky_relu"),
                                                   (0, "fan_out", "relu"),
                                                   (0.1, "FAN_OUT", "leaky_relu"),
                                                   (0, "fan_in", "tanh")])
def test_kaiming(a, mode, nonlinearity):
    shape = (300, 200, 2, 2)  # fan_in = 800, fan_out = 1200
    fan = 800 if mode == "fan_in" else 1200
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = init.kaiming_uniform_(rg.empty(*shape), a=a, mode=mode,
                                   nonlinearity=nonlinearity).numpy()
    assert np.abs(values).max() <= math.sqrt(3) * std
    assert_stats(values, 0.0, std)
    assert_stats(init.kaiming_normal_(rg.empty(*shape), a=a, mode=mode,
                                      nonlinearity=nonlinearity).numpy(), 0.0, std)


def test_kaiming_on_an_empty_tensor_warns_and_does_nothing():
    t = rg.empty(0, 3)
    with pytest.warns(UserWarning, match="no-op"):
        assert init.kaiming_uniform_(t) is t


@pytest.mark.parametrize("shape, gain", [((6, 6), 1.0), ((4, 9), 2.0), ((9, 4), 1.0),
                                         ((3, 2, 2, 2), 0.5)])
def test_orthogonal(shape, gain):
    matrix = init.orthogonal_(rg.empty(*shape, dtype=rg.float64), gain=gain).numpy()
    flat = matrix.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(rg.empty(3))


def test_orthogonal_is_uniform_over_rotations():
    """Without the sign correction, QR's Q has a positive diagonal bias; with it the diagonal
    entries of many draws average to zero."""
    rg.manual_seed(0)
    diagonals = [np.diag(init.orthogonal_(rg.empty(4, 4)).numpy()) for _ in range(2000)]
    assert abs(np.mean(diagonals)) < 0.03


def test_constant_ones_zeros_eye():
    t = rg.empty(3, 4, dtype=rg.float64)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25)
    assert np.all(init.ones_(t).numpy() == 1) and not init.zeros_(t).numpy().any()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(rg.empty(2, 2, 2))


# --------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("fill", [
    lambda t: init.uniform_(t), lambda t: init.normal_(t), lambda t: init.trunc_normal_(t),
    lambda t: init.constant_(t, 2.0), lambda t: init.ones_(t), lambda t: init.zeros_(t),
    lambda t: init.eye_(t), lambda t: init.xavier_uniform_(t), lambda t: init.xavier_normal_(t),
    lambda t: init.kaiming_uniform_(t), lambda t: init.kaiming_normal_(t),
    lambda t: init.orthogonal_(t)])
@pytest.mark.parametrize("dtype", [rg.float32, rg.float64])
def test_init_is_in_place_keeps_dtype_and_records_nothing(fill, dtype):
    param = nn.Parameter(rg.zeros(5, 4, dtype=dtype))
    array = param.array
    assert fill(param) is param
    assert param.array is array and param.dtype == dtype
    assert param.is_leaf and param.requires_grad and param.grad_fn is None


def test_generator_argument_and_manual_seed_make_draws_repeatable():
    first = init.normal_(rg.empty(10), generator=rg.Generator().manual_seed(7)).numpy().copy()
    again = init.normal_(rg.empty(10), generator=rg.Generator().manual_seed(7)).numpy()
    assert np.array_equal(first, again)
    rg.manual_seed(1)
    model_a = nn.Sequential(nn.Linear(4, 3), nn.Embedding(5, 2))
    rg.manual_seed(1)
    model_b = nn.Sequential(nn.Linear(4, 3), nn.Embedding(5, 2))
    rg.manual_seed(2)
    model_c = nn.Sequential(nn.Linear(4, 3), nn.Embedding(5, 2))
    for a, b, c in zip(model_a.parameters(), model_b.parameters(), model_c.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
        assert not np.array_equal(a.detach().numpy(), c.detach().numpy())


# ------------------------------------------------------------------- layers' defaults
def test_linear_default_init_is_pytorch_s():
    rg.manual_seed(0)
    layer = nn.Linear(1000, 300)
    bound = 1 / math.sqrt(1000)  # kaiming_uniform_(a=sqrt(5)) reduces to this bound
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert_stats(weight, 0.0, bound / math.sqrt(3))
    assert np.abs(bias).max() > 0.9 * bound and abs(bias.mean()) < 0.1 * bound


def test_bilinear_default_init_is_pytorch_s():
    layer = nn.Bilinear(400, 30, 20)
    bound = 1 / math.sqrt(400)
    weight = layer.weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound
    assert_stats(weight, 0.0, bound / math.sqrt(3))


def test_reset_parameters_redraws():
    layer = nn.Linear(3, 3)
    before = layer.weight.detach().numpy().copy()
    weight = layer.weight
    layer.reset_parameters()
    assert layer.weight is weight and not np.array_equal(before, weight.detach().numpy())
    with pytest.warns(UserWarning, match="no-op"):  # as PyTorch, for the empty weight
        empty_input = nn.Linear(0, 3)
    assert not empty_input.bias.detach().numpy().any()  # a zero fan_in gives a zero bound
