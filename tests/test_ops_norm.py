"""Normalization ops (batch_norm, layer_norm, group_norm, instance_norm): gradcheck (float64)
and parity with PyTorch (float32: outputs, input/weight/bias gradients and the updated running
statistics) in training and eval mode, with and without affine parameters; the running-stats
formula (momentum, unbiased variance), numerically hard inputs, dtypes and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, positive, randn, torch


def functional(lib):
    return rg if lib is rg else torch.nn.functional


def affine_arrays(channels, affine, seed=10):
    """[weight, bias] for ``affine``, else []."""
    if not affine:
        return []
    return [randn(channels, seed=seed, shift=1.0), randn(channels, seed=seed + 1)]


# ---------------------------------------------------------------------------- batch_norm
class RunningStats:
    """The same running statistics in both libraries (float32), to compare after an op."""

    def __init__(self, channels, seed=20):
        self.mean = randn(channels, seed=seed).astype(np.float32)
        self.var = positive(channels, seed=seed + 1).astype(np.float32)
        self.ours = (rg.tensor(self.mean.copy()), rg.tensor(self.var.copy()))
        self.theirs = (torch.tensor(self.mean.copy()), torch.tensor(self.var.copy())) \
            if torch is not None else None

    def of(self, lib):
        return self.ours if lib is rg else self.theirs

    def assert_same(self, rtol=1e-5, atol=1e-6):
        for ours, theirs in zip(self.ours, self.theirs):
            assert ours.dtype == np.float32
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)


BATCH_SHAPES = [(4, 3), (5, 3, 4), (2, 3, 4, 5), (1, 3, 2, 1), (2, 3, 1, 1, 2)]


@pytest.mark.parametrize("shape", BATCH_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5, 0.0, 1.0])
def test_batch_norm_training_matches_pytorch(shape, affine, momentum):
    """Batch statistics normalize; the running ones move by ``momentum`` towards the batch's
    mean and unbiased variance."""
    stats = RunningStats(shape[1])

    def make(lib):
        def fn(x, *params):
            return functional(lib).batch_norm(x, *stats.of(lib), *params, training=True,
                                              momentum=momentum, eps=1e-5)
        return fn

    arrays = [randn(*shape, scale=3.0, shift=1.0)] + affine_arrays(shape[1], affine)
    check_parity(make(rg), make(torch), *arrays, rtol=1e-4, atol=1e-5)
    stats.assert_same()


@pytest.mark.parametrize("shape", BATCH_SHAPES + [(1, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_matches_pytorch(shape, affine):
    """Eval mode normalizes with the running statistics (even a single sample) and leaves them
    alone."""
    stats = RunningStats(shape[1])

    def make(lib):
        return lambda x, *params: functional(lib).batch_norm(x, *stats.of(lib), *params,
                                                             training=False)

    arrays = [randn(*shape)] + affine_arrays(shape[1], affine)
    check_parity(make(rg), make(torch), *arrays)
    stats.assert_same()
    np.testing.assert_array_equal(stats.ours[0].numpy(), stats.mean)


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_without_running_stats_matches_pytorch(affine):
    def make(lib):
        return lambda x, *params: functional(lib).batch_norm(x, None, None, *params,
                                                             training=True)
    check_parity(make(rg), make(torch), randn(4, 3, 5), *affine_arrays(3, affine))


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4), (2, 2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(shape, affine, training):
    running = (rg.tensor(randn(shape[1], seed=3)), rg.tensor(positive(shape[1], seed=4)))

    def fn(x, *params):
        return rg.batch_norm(x, *running, *params, training=training, momentum=0.0)

    check_grad(fn, randn(*shape, scale=2.0), *affine_arrays(shape[1], affine))


def test_batch_norm_running_stats_formula():
    """running_mean <- (1 - m) running_mean + m mean, running_var <- (1 - m) running_var +
    m var_unbiased, per channel over the batch and spatial dims."""
    x = randn(4, 2, 3)
    mean, var = np.zeros(2), np.ones(2)
    running_mean, running_var = rg.tensor(mean.copy()), rg.tensor(var.copy())
    for step in range(3):
        batch = x * (step + 1)
        rg.batch_norm(rg.tensor(batch), running_mean, running_var, training=True, momentum=0.3)
        mean = 0.7 * mean + 0.3 * batch.mean(axis=(0, 2))
        var = 0.7 * var + 0.3 * batch.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(running_mean.numpy(), mean, rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), var, rtol=1e-12)


def test_batch_norm_updates_running_stats_in_place_without_recording_them():
    running_mean, running_var = rg.zeros(3, dtype=rg.float64), rg.ones(3, dtype=rg.float64)
    x = rg.tensor(randn(4, 3, shift=2.0), requires_grad=True)
    out = rg.batch_norm(x, running_mean, running_var, training=True)
    out.sum().backward()
    for running in (running_mean, running_var):
        assert not running.requires_grad and running.grad_fn is None
    np.testing.assert_allclose(running_mean.numpy(), 0.1 * x.detach().numpy().mean(axis=0))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)])
def test_batch_norm_needs_more_than_one_value_per_channel_when_training(shape):
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel "
                                         r"when training, got input of shape"):
        rg.batch_norm(rg.ones(*shape), rg.zeros(3), rg.ones(3), training=True)
    out = rg.batch_norm(rg.ones(*shape), rg.zeros(3), rg.ones(3), training=False)
    assert out.shape == shape


# ------------------------------------------------------------------- layer and group norm
LAYER_CASES = [((4, 3), 3), ((4, 3), (3,)), ((2, 3, 4), (4,)), ((2, 3, 4), [3, 4]),
               ((2, 3, 4), (2, 3, 4)), ((5,), (5,)), ((2, 0, 3), (3,))]


@pytest.mark.parametrize("shape, normalized_shape", LAYER_CASES)
@pytest.mark.parametrize("weight, bias", [(True, True), (True, False), (False, False),
                                          (False, True)])
def test_layer_norm_matches_pytorch(shape, normalized_shape, weight, bias):
    param_shape = (normalized_shape,) if isinstance(normalized_shape, int) \
        else tuple(normalized_shape)
    arrays = [randn(*shape, scale=2.0, shift=5.0)]
    arrays.append(randn(*param_shape, seed=1, shift=1.0) if weight else None)
    arrays.append(randn(*param_shape, seed=2) if bias else None)
    present = [a for a in arrays if a is not None]
    torch_shape = list(param_shape)  # PyTorch wants a list or tuple, not an int

    def make(lib):
        shape_arg = normalized_shape if lib is rg else torch_shape

        def fn(x, *params):
            params = iter(params)
            w = next(params) if weight else None
            b = next(params) if bias else None
            return functional(lib).layer_norm(x, shape_arg, w, b, eps=1e-5)
        return fn

    check_parity(make(rg), make(torch), *present, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, normalized_shape", [((3, 4), (4,)), ((2, 2, 3), (2, 3)),
                                                     ((2, 3), (3,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(shape, normalized_shape, affine):
    params = [randn(*normalized_shape, seed=1, shift=1.0), randn(*normalized_shape, seed=2)] \
        if affine else []
    check_grad(lambda x, *p: rg.layer_norm(x, normalized_shape, *p), randn(*shape), *params)


GROUP_CASES = [((2, 6, 5), 3), ((2, 6, 5), 1), ((2, 6, 5), 6), ((2, 4, 3, 3), 2), ((3, 4), 2),
               ((2, 4, 1), 2), ((2, 4, 2, 1, 2), 2)]


@pytest.mark.parametrize("shape, groups", GROUP_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_pytorch(shape, groups, affine):
    def make(lib):
        return lambda x, *params: functional(lib).group_norm(x, groups, *params)
    check_parity(make(rg), make(torch), randn(*shape, scale=2.0, shift=-3.0),
                 *affine_arrays(shape[1], affine), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, groups", [((2, 4, 3), 2), ((1, 3, 2, 2), 3), ((2, 2, 3), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_gradcheck(shape, groups, affine):
    check_grad(lambda x, *p: rg.group_norm(x, groups, *p), randn(*shape),
               *affine_arrays(shape[1], affine))


def test_group_norm_of_single_values_raises_like_pytorch():
    with pytest.raises(ValueError, match=r"group_norm: expected more than 1 value per channel"):
        rg.group_norm(rg.ones(1, 4, 1), 4)


# --------------------------------------------------------------------------- instance_norm
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (1, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("running", [True, False])
def test_instance_norm_with_input_stats_matches_pytorch(shape, affine, running):
    """Each sample's channels normalize over their own positions; running statistics (if
    given) move towards the batch average of the per-sample ones."""
    stats = RunningStats(shape[1]) if running else None

    def make(lib):
        given = stats.of(lib) if running else (None, None)
        return lambda x, *params: functional(lib).instance_norm(
            x, *given, *params, use_input_stats=True, momentum=0.2)

    check_parity(make(rg), make(torch), randn(*shape, scale=2.0),
                 *affine_arrays(shape[1], affine), rtol=1e-4, atol=1e-5)
    if running:
        stats.assert_same()


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_with_running_stats_matches_pytorch(affine):
    stats = RunningStats(3)

    def make(lib):
        return lambda x, *params: functional(lib).instance_norm(
            x, *stats.of(lib), *params, use_input_stats=False)

    check_parity(make(rg), make(torch), randn(2, 3, 5), *affine_arrays(3, affine))
    stats.assert_same()


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_gradcheck(affine):
    check_grad(lambda x, *p: rg.instance_norm(x, None, None, *p), randn(2, 2, 4),
               *affine_arrays(2, affine))


def test_instance_norm_needs_more_than_one_spatial_value():
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element"):
        rg.instance_norm(rg.ones(2, 3, 1))


# -------------------------------------------------------------------- random shapes (fuzz)
@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 4), channels=st.integers(1, 4),
       spatial=st.lists(st.integers(1, 4), max_size=2), affine=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_batch_norm_random_shapes_match_pytorch(batch, channels, spatial, affine, seed):
    shape = (batch, channels, *spatial)
    if batch * int(np.prod(spatial)) < 2:
        return

    def make(lib):
        return lambda x, *params: functional(lib).batch_norm(x, None, None, *params,
                                                             training=True)
    # Tolerances as for layer_norm's random shapes below (variances near eps).
    check_parity(make(rg), make(torch), randn(*shape, seed=seed),
                 *affine_arrays(channels, affine, seed=seed + 1), rtol=1e-3, atol=1e-4)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), data=st.data())
def test_layer_norm_random_shapes_match_pytorch(shape, data):
    k = data.draw(st.integers(1, len(shape)))
    normalized = tuple(shape[-k:])
    if np.prod(normalized) < 2:
        return  # one value: PyTorch's gradient is rounding noise around 0
    seed = data.draw(st.integers(0, 2 ** 16))

    def make(lib):
        return lambda x, w, b: functional(lib).layer_norm(x, list(normalized), w, b)
    # Looser than elsewhere: a few random values can have a variance near eps, where the
    # gradient (~1/sqrt(var + eps)) is ill-conditioned in float32 for both libraries.
    check_parity(make(rg), make(torch), randn(*shape, seed=seed),
                 randn(*normalized, seed=seed + 1), randn(*normalized, seed=seed + 2),
                 rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------- numerics, dtypes, graph
NORMALIZERS = {
    "batch_norm": lambda x: rg.batch_norm(x, None, None, training=True),
    "layer_norm": lambda x: rg.layer_norm(x, x.shape[1:]),
    "group_norm": lambda x: rg.group_norm(x, 1),
    "instance_norm": lambda x: rg.instance_norm(x),
}


def _reference(x, axes, eps=1e-5):
    x = x.astype(np.float64)
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


REFERENCE_AXES = {"batch_norm": (0, 2), "layer_norm": (1, 2), "group_norm": (1, 2),
                  "instance_norm": (2,)}


@pytest.mark.parametrize("name", NORMALIZERS)
@pytest.mark.parametrize("offset, spread", [(1e4, 1.0), (1e3, 1e-2), (-5e5, 10.0),
                                            (0.0, 1e-30)])
def test_large_offsets_and_tiny_spreads_stay_accurate(name, offset, spread):
    """Statistics are accumulated in float64 about the mean, so a large common offset does not
    wipe out a small spread (float32 input, float64 reference)."""
    x = (randn(4, 3, 16) * spread + offset).astype(np.float32)
    out = NORMALIZERS[name](rg.tensor(x)).numpy()
    assert out.dtype == np.float32 and np.isfinite(out).all()
    # float32 input can only carry the spread to ~1e-7 of the offset
    tolerance = max(1e-4, 4e-7 * abs(offset) / spread) if spread > 1e-20 else 1e-4
    np.testing.assert_allclose(out, _reference(x, REFERENCE_AXES[name]), atol=tolerance)


@pytest.mark.parametrize("name", NORMALIZERS)
def test_constant_input_gives_zeros_and_finite_gradients(name):
    x = rg.full((4, 3, 5), 7.0, requires_grad=True)
    out = NORMALIZERS[name](x)
    assert not out.detach().numpy().any()
    out.backward(rg.tensor(randn(4, 3, 5, dtype=np.float32)))
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("name", NORMALIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(name, dtype):
    x = rg.tensor(randn(4, 3, 5, dtype=dtype), requires_grad=True)
    out = NORMALIZERS[name](x)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("name", NORMALIZERS)
def test_double_backward_raises_a_clear_error(name):
    x = rg.tensor(randn(4, 3, 5), requires_grad=True)
    (gx,) = rg.autograd.grad((NORMALIZERS[name](x) ** 3).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="does not support double backward"):
        gx.sum().backward()


# --------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, error, match", [
    (lambda: rg.batch_norm(rg.ones(4, 3), rg.zeros(2), rg.ones(2)), RuntimeError,
     r"batch_norm: running_mean of shape \(2,\) does not match the 3 channels of input "
     r"\(4, 3\)"),
    (lambda: rg.batch_norm(rg.ones(4, 3), None, None, rg.ones(4), training=True),
     RuntimeError, r"batch_norm: weight of shape \(4,\) does not match the 3 channels"),
    (lambda: rg.batch_norm(rg.ones(4), None, None, training=True), ValueError,
     r"batch_norm: expected input of at least 2 dimensions \(N, C, ...\), got shape \(4,\)"),
    (lambda: rg.batch_norm(rg.ones(4, 3), None, None, training=False), RuntimeError,
     r"batch_norm: running_mean and running_var are needed in eval mode"),
    (lambda: rg.layer_norm(rg.ones(2, 3), (4,)), RuntimeError,
     r"layer_norm: normalized_shape \(4,\) does not match the last dimensions of input of "
     r"shape \(2, 3\)"),
    (lambda: rg.layer_norm(rg.ones(2, 3), (3,), rg.ones(2)), RuntimeError,
     r"layer_norm: weight of shape \(2,\) does not match normalized_shape \(3,\)"),
    (lambda: rg.group_norm(rg.ones(2, 6, 3), 4), RuntimeError,
     r"group_norm: num_groups=4 must divide the 6 channels of input \(2, 6, 3\)"),
    (lambda: rg.instance_norm(rg.ones(2, 3)), ValueError,
     r"instance_norm: expected input of at least 3 dimensions"),
])
def test_errors_name_the_op_and_the_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_layer_norm_of_one_value_is_zero():
    """Over a single value x - mean is exactly 0 (PyTorch's float32 kernel leaves rounding
    noise of ~1e-5 in its gradient there; retrograd's is exact)."""
    x = rg.tensor(randn(3, 1), requires_grad=True)
    out = rg.layer_norm(x, (1,))
    assert not out.detach().numpy().any()
    out.backward(rg.tensor(randn(3, 1, seed=1)))
    assert not x.grad.numpy().any()
