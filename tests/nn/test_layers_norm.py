"""Normalization layers against PyTorch: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm and
GroupNorm. With a PyTorch layer's state loaded, several training steps give the same outputs,
gradients and running statistics (momentum, and momentum=None's cumulative average counted in
num_batches_tracked), then eval mode gives the same outputs; plus attributes, buffers,
state_dict keys, repr, input checks and errors."""
import numpy as np
import pytest

import retrograd as rg
from helpers import randn, requires_torch, torch
from retrograd.nn.modules import batchnorm, normalization


def layer(name, *args, **kwargs):
    module = batchnorm if name in batchnorm.__all__ else normalization
    return getattr(module, name)(*args, **kwargs)


def twins(name, *args, **kwargs):
    """(PyTorch layer, retrograd layer with the same state)."""
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    with torch.no_grad():  # non-trivial affine parameters and running statistics
        for i, tensor in enumerate(theirs.state_dict().values()):
            if tensor.is_floating_point():
                tensor.add_(torch.tensor(randn(*tensor.shape, seed=100 + i, scale=0.3,
                                               dtype=np.float32)).abs_())
    mine = layer(name, *args, **kwargs)
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return theirs, mine


def assert_same_state(theirs, mine):
    expected = theirs.state_dict()
    assert list(mine.state_dict()) == list(expected)
    for key, value in mine.state_dict().items():
        assert value.dtype == expected[key].numpy().dtype, key
        np.testing.assert_allclose(value.numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def step(theirs, mine, x, rtol=1e-4, atol=1e-5):
    """One forward and backward in both: same output, input and parameter gradients."""
    x = x.astype(np.float32)
    x_theirs, x_ours = torch.tensor(x, requires_grad=True), rg.tensor(x, requires_grad=True)
    expected, out = theirs(x_theirs), mine(x_ours)
    assert out.dtype == np.float32 and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    seed = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(np.float32)
    expected.backward(torch.tensor(seed))
    out.backward(rg.tensor(seed))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=rtol, atol=atol)
    torch_params = dict(theirs.named_parameters())
    for name, param in mine.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)
        param.grad = None
        torch_params[name].grad = None


def train_then_eval(theirs, mine, shape, steps=3):
    """``steps`` training steps on different batches, comparing everything after each; then
    the same eval output."""
    for i in range(steps):
        step(theirs, mine, randn(*shape, seed=i, scale=1.0 + i, shift=float(i)))
        assert_same_state(theirs, mine)
    theirs.eval()
    mine.eval()
    step(theirs, mine, randn(*shape, seed=steps, scale=2.0))
    assert_same_state(theirs, mine)


# -------------------------------------------------------------------------------- BatchNorm
BATCH_NORMS = [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 5)),
               ("BatchNorm3d", (2, 3, 2, 3, 2))]


@requires_torch
@pytest.mark.parametrize("name, shape", BATCH_NORMS)
@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(), id="default"),
    pytest.param(dict(momentum=0.3, eps=1e-3), id="momentum0.3"),
    pytest.param(dict(momentum=None), id="cumulative-average"),
    pytest.param(dict(affine=False), id="no-affine"),
    pytest.param(dict(bias=False), id="no-bias"),
    pytest.param(dict(track_running_stats=False), id="no-running-stats"),
])
def test_batch_norm_training_steps_then_eval_match_pytorch(name, shape, kwargs):
    theirs, mine = twins(name, 3, **kwargs)
    train_then_eval(theirs, mine, shape)


def test_momentum_none_is_a_cumulative_average():
    """momentum=None: after t batches the running mean is the plain average of the t batch
    means (the initial value is forgotten at the first step, momentum 1/1)."""
    bn = batchnorm.BatchNorm1d(2, momentum=None).double()
    batches = [randn(5, 2, seed=i, shift=float(i)) for i in range(4)]
    for batch in batches:
        bn(rg.tensor(batch))
    assert bn.num_batches_tracked.item() == 4
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0),
                               rtol=1e-12)


def test_running_var_is_unbiased_and_momentum_weighs_the_batch():
    bn = batchnorm.BatchNorm1d(2, momentum=0.25).double()
    x = randn(6, 2, scale=3.0)
    bn(rg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.25 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.75 + 0.25 * x.var(axis=0, ddof=1),
                               rtol=1e-12)


def test_eval_mode_uses_and_keeps_the_running_statistics():
    bn = batchnorm.BatchNorm2d(2)
    bn.running_mean.copy_(rg.tensor([1.0, -1.0]))
    bn.running_var.copy_(rg.tensor([4.0, 0.25]))
    bn.eval()
    x = rg.tensor(randn(3, 2, 2, 2, dtype=np.float32))
    out = bn(x).detach().numpy()
    expected = (x.numpy() - np.array([1, -1]).reshape(1, 2, 1, 1)) / np.sqrt(
        np.array([4, 0.25]).reshape(1, 2, 1, 1) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 0
    assert bn.running_mean.tolist() == [1.0, -1.0]


@requires_torch
def test_buffers_attributes_and_state_dict():
    theirs, mine = torch.nn.BatchNorm2d(4), batchnorm.BatchNorm2d(4)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert mine.num_batches_tracked.dtype == np.int64 and mine.num_batches_tracked.shape == ()
    assert [name for name, _ in mine.named_buffers()] == ["running_mean", "running_var",
                                                         "num_batches_tracked"]
    assert mine.weight.tolist() == [1.0] * 4 and mine.bias.tolist() == [0.0] * 4
    for attribute in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
        assert getattr(mine, attribute) == getattr(theirs, attribute)
    mine.double()
    assert mine.running_mean.dtype == np.float64
    assert mine.num_batches_tracked.dtype == np.int64  # counters are not cast
    untracked = batchnorm.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert untracked.running_mean is None and untracked.weight is None
    assert not untracked.state_dict()


def test_reset_running_stats_and_parameters():
    bn = batchnorm.BatchNorm1d(3)
    bn(rg.tensor(randn(4, 3, dtype=np.float32, shift=2.0)))
    with rg.no_grad():
        bn.weight.mul_(3.0)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.item() == 0 and bn.weight.tolist() == [3.0] * 3
    bn.reset_parameters()
    assert bn.weight.tolist() == [1.0] * 3


@requires_torch
@pytest.mark.parametrize("name, shape, expected", [
    ("BatchNorm1d", (2, 3, 4, 5), r"BatchNorm1d: expected 2D or 3D input \(got 4D input of "
                                  r"shape \(2, 3, 4, 5\)\)"),
    ("BatchNorm2d", (2, 3, 4), r"BatchNorm2d: expected 4D input \(got 3D input"),
    ("BatchNorm3d", (2, 3, 4, 5), r"BatchNorm3d: expected 5D input \(got 4D input"),
    ("InstanceNorm1d", (2, 3, 4, 5), r"InstanceNorm1d: expected 2D or 3D input"),
    ("InstanceNorm2d", (3, 4), r"InstanceNorm2d: expected 3D or 4D input \(got 2D input"),
])
def test_input_rank_is_checked_like_pytorch(name, shape, expected):
    with pytest.raises(ValueError, match=expected):
        layer(name, 3)(rg.ones(*shape))
    with pytest.raises(ValueError):
        getattr(torch.nn, name)(3)(torch.ones(*shape))


def test_one_value_per_channel_raises_in_training_only():
    bn = batchnorm.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when "
                                         r"training, got input of shape \(1, 3\)"):
        bn(rg.ones(1, 3))
    bn.eval()
    assert bn(rg.ones(1, 3)).shape == (1, 3)


def test_channel_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean of shape \(3,\) does not "
                                           r"match the 4 channels of input \(2, 4\)"):
        batchnorm.BatchNorm1d(3)(rg.ones(2, 4))


# ----------------------------------------------------------------------------- InstanceNorm
@requires_torch
@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (2, 3, 6)), ("InstanceNorm1d", (3, 6)),
                                         ("InstanceNorm2d", (2, 3, 4, 4)),
                                         ("InstanceNorm2d", (3, 4, 5)),
                                         ("InstanceNorm3d", (2, 3, 2, 2, 3))])
@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(), id="default"),
    pytest.param(dict(affine=True), id="affine"),
    pytest.param(dict(track_running_stats=True, momentum=0.3), id="running-stats"),
    pytest.param(dict(affine=True, track_running_stats=True, bias=False), id="all-no-bias"),
])
def test_instance_norm_training_steps_then_eval_match_pytorch(name, shape, kwargs):
    theirs, mine = twins(name, 3, **kwargs)
    train_then_eval(theirs, mine, shape)


def test_instance_norm_channel_mismatch():
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected input's size at dim=1 to "
                                         r"match num_features \(3\), but got: 4"):
        batchnorm.InstanceNorm1d(3, affine=True)(rg.ones(2, 4, 5))
    with pytest.warns(UserWarning, match="num_features is not used because affine=False"):
        out = batchnorm.InstanceNorm1d(3)(rg.tensor(randn(2, 4, 5, dtype=np.float32)))
    assert out.shape == (2, 4, 5)


# --------------------------------------------------------------------- LayerNorm, GroupNorm
@requires_torch
@pytest.mark.parametrize("args, kwargs, shape", [
    ((5,), {}, (4, 5)),
    ((5,), dict(eps=1e-3), (2, 3, 5)),
    (([3, 5],), {}, (2, 3, 5)),
    (((3, 5),), dict(elementwise_affine=False), (2, 3, 5)),
    ((5,), dict(bias=False), (3, 5)),
])
def test_layer_norm_matches_pytorch(args, kwargs, shape):
    theirs, mine = twins("LayerNorm", *args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert mine.normalized_shape == theirs.normalized_shape
    train_then_eval(theirs, mine, shape, steps=1)


@requires_torch
@pytest.mark.parametrize("args, kwargs, shape", [
    ((2, 4), {}, (3, 4, 5)),
    ((1, 4), {}, (2, 4, 3, 3)),
    ((4, 4), dict(eps=1e-3), (2, 4, 6)),
    ((2, 6), dict(affine=False), (2, 6, 2, 2)),
    ((3, 6), dict(bias=False), (2, 6)),
])
def test_group_norm_matches_pytorch(args, kwargs, shape):
    theirs, mine = twins("GroupNorm", *args, **kwargs)
    assert repr(mine) == repr(theirs)
    train_then_eval(theirs, mine, shape, steps=1)


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels=6 must be divisible by "
                                         r"num_groups=4"):
        normalization.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"GroupNorm: expected input of shape \(N, 6, \*\), "
                                           r"got \(2, 4, 3\)"):
        normalization.GroupNorm(3, 6)(rg.ones(2, 4, 3))


def test_layer_norm_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"layer_norm: normalized_shape \(4,\) does not match "
                                           r"the last dimensions of input of shape \(2, 3\)"):
        normalization.LayerNorm(4)(rg.ones(2, 3))


# ------------------------------------------------------------------------------------- repr
@requires_torch
@pytest.mark.parametrize("name, args, kwargs", [
    ("BatchNorm1d", (3,), {}),
    ("BatchNorm2d", (3,), dict(momentum=None, affine=False, track_running_stats=False)),
    ("BatchNorm3d", (5,), dict(eps=1e-3, bias=False)),
    ("InstanceNorm1d", (3,), {}),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True)),
    ("LayerNorm", (3,), {}),
    ("LayerNorm", ((3, 4),), dict(elementwise_affine=False)),
    ("GroupNorm", (2, 4), dict(affine=False)),
])
def test_repr_parameters_and_state_dict_keys_match_pytorch(name, args, kwargs):
    theirs, mine = getattr(torch.nn, name)(*args, **kwargs), layer(name, *args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert mine.state_dict()[key].shape == tuple(value.shape), key
