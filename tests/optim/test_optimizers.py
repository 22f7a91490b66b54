"""Optimizers against PyTorch: the same parameters after 20 steps on the same objective (float32
and float64), parameter groups, state_dict round trips and layout, and the base class's
behaviour (zero_grad, closures, generators, errors)."""
import itertools

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from helpers import requires_torch, torch

STEPS = 20


def objective(u, v):
    """A Rosenbrock valley coupling two tensors, ``v`` broadcast over the rows of ``u``; the
    same code runs in both frameworks."""
    return (1 - u) ** 2 + 2 * (v - u ** 2) ** 2


def initial_arrays(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]


def train(lib, params, optimizer, steps=STEPS):
    """``steps`` steps of ``optimizer`` (of framework ``lib``) on the objective, or on its
    negative when the optimizer maximizes (so that every run stays in the valley)."""
    sign = -1 if optimizer.defaults.get("maximize") else 1
    for _ in range(steps):
        optimizer.zero_grad()
        out = objective(*params) * sign
        out.backward(lib.ones_like(out))
        optimizer.step()
    return params


def make(lib, name, arrays, **kwargs):
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    return params, getattr(lib.optim, name)(params, **kwargs)


def values(params):
    return [p.detach().numpy() for p in params]


def _grid(name, **choices):
    """All combinations of the hyperparameter ``choices`` for optimizer ``name``."""
    return [(name, dict(zip(choices, combo))) for combo in itertools.product(*choices.values())]


CONFIGS = (
    _grid("SGD", lr=[1e-3], momentum=[0, 0.9], weight_decay=[0, 0.1], maximize=[False, True])
    + [("SGD", dict(lr=1e-3, momentum=0.9, dampening=0.3)),
       ("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True)),
       ("SGD", dict(lr=1e-3, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True)),
       ("SGD", dict())]
    + _grid("Adam", lr=[0.01], amsgrad=[False, True], weight_decay=[0, 0.1],
            maximize=[False, True])
    + [("Adam", dict()), ("Adam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3))]
    + _grid("AdamW", lr=[0.01], amsgrad=[False, True], weight_decay=[0, 0.01, 0.5],
            maximize=[False, True])
    + _grid("RMSprop", lr=[1e-3], centered=[False, True], momentum=[0, 0.9],
            weight_decay=[0, 0.1], maximize=[False, True])
    + [("RMSprop", dict()), ("RMSprop", dict(alpha=0.5, eps=1e-4, centered=True))]
    + _grid("Adagrad", lr_decay=[0, 0.1], weight_decay=[0, 0.1],
            initial_accumulator_value=[0, 0.5], maximize=[False, True])
    + [("Adagrad", dict(lr=0.1, eps=1e-3))]
    + _grid("Adadelta", rho=[0.9, 0.5], weight_decay=[0, 0.1], maximize=[False, True])
    + [("Adadelta", dict(lr=0.5, eps=1e-4))]
)


def _config_id(config):
    name, kwargs = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


# float32: rounding differences (PyTorch fuses some multiply-adds) grow over 20 steps, most in
# ill-conditioned updates (centered RMSprop); float64 checks the algorithms themselves.
TOLERANCES = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-13)}


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS, ids=[_config_id(c) for c in CONFIGS])
def test_matches_torch_after_20_steps(config, dtype):
    name, kwargs = config
    arrays = initial_arrays(dtype)
    ours = train(rg, *make(rg, name, arrays, **kwargs))
    theirs = train(torch, *make(torch, name, arrays, **kwargs))
    for mine, reference, start in zip(values(ours), values(theirs), arrays):
        assert mine.dtype == dtype
        assert np.all(np.isfinite(reference))
        assert not np.allclose(reference, start)  # the run did move the parameters
        np.testing.assert_allclose(mine, reference, **TOLERANCES[dtype])


# one configuration per optimizer that exercises all of its state
STATEFUL = [("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True)),
            ("Adam", dict(lr=0.01, amsgrad=True)),
            ("AdamW", dict(lr=0.01, amsgrad=True)),
            ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True)),
            ("Adagrad", dict(lr_decay=0.1, initial_accumulator_value=0.1)),
            ("Adadelta", dict(weight_decay=0.1))]
STATEFUL_IDS = [name for name, _ in STATEFUL]


SHAPES = [(), (0,), (1,), (2, 0, 3), (1, 1, 1), (5, 7)]


@requires_torch
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("regularized", [False, True], ids=["plain", "decay-maximize"])
@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=STATEFUL_IDS)
def test_parameters_of_any_shape_match_torch(name, kwargs, shape, regularized):
    rng = np.random.default_rng(1)
    start, target = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    if regularized:
        kwargs = dict(kwargs, weight_decay=0.1, maximize=True)
    results = []
    for lib in (rg, torch):
        param = lib.tensor(start, requires_grad=True)
        optimizer = getattr(lib.optim, name)([param], **kwargs)
        for _ in range(5):
            optimizer.zero_grad()
            out = (param - lib.tensor(target)) ** 2 * (-1 if regularized else 1)
            out.backward(lib.ones_like(out))
            optimizer.step()
        results.append(param.detach().numpy())
    assert results[0].shape == shape and results[0].dtype == np.float32
    np.testing.assert_allclose(*results, rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_with_their_own_hyperparameters(name):
    arrays = initial_arrays()
    runs = []
    for lib in (rg, torch):
        u, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        groups = [{"params": [u], "lr": 0.05, "weight_decay": 0.1}, {"params": v}]
        extra = {"momentum": 0.5} if name in ("SGD", "RMSprop") else {}
        optimizer = getattr(lib.optim, name)(groups, lr=0.01, **extra)
        runs.append(values(train(lib, [u, v], optimizer)))
    for mine, reference in zip(*runs):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=STATEFUL_IDS)
def test_state_dict_round_trip_continues_exactly(name, kwargs):
    arrays = initial_arrays()
    straight = values(train(rg, *make(rg, name, arrays, **kwargs), steps=20))

    first, first_optimizer = make(rg, name, arrays, **kwargs)
    train(rg, first, first_optimizer, steps=10)
    saved = first_optimizer.state_dict()
    resumed, resumed_optimizer = make(rg, name, values(first), **kwargs)
    resumed_optimizer.load_state_dict(saved)
    train(rg, resumed, resumed_optimizer, steps=10)
    for mine, reference in zip(values(resumed), straight):
        np.testing.assert_array_equal(mine, reference)


def _as_numpy(value):
    if isinstance(value, dict):
        return {k: _as_numpy(v) for k, v in value.items()}
    return value.detach().numpy() if hasattr(value, "detach") else value


@requires_torch
@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=STATEFUL_IDS)
def test_state_dict_layout_matches_torch(name, kwargs):
    arrays = initial_arrays()
    ours_params, ours = make(rg, name, arrays, **kwargs)
    theirs_params, theirs = make(torch, name, arrays, **kwargs)
    train(rg, ours_params, ours, steps=3)
    train(torch, theirs_params, theirs, steps=3)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert mine["state"].keys() == reference["state"].keys() == {0, 1}
    for index, entries in reference["state"].items():
        assert mine["state"][index].keys() == entries.keys()
        for key, value in entries.items():
            ours_value = mine["state"][index][key]
            assert isinstance(ours_value, rg.Tensor)
            assert ours_value.shape == tuple(value.shape)
            assert ours_value.dtype == value.detach().numpy().dtype
            np.testing.assert_allclose(ours_value.numpy(), value.numpy(), rtol=1e-5, atol=1e-6)
    torch_only = {"foreach", "fused", "differentiable", "capturable"}
    for our_group, their_group in zip(mine["param_groups"], reference["param_groups"]):
        assert our_group.keys() == their_group.keys() - torch_only
        assert our_group == {k: v for k, v in their_group.items() if k not in torch_only}


@requires_torch
@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=STATEFUL_IDS)
def test_loading_a_torch_state_dict_as_ndarrays_continues_like_torch(name, kwargs):
    arrays = initial_arrays()
    theirs_params, theirs = make(torch, name, arrays, **kwargs)
    train(torch, theirs_params, theirs, steps=10)
    saved = theirs.state_dict()
    ours_params, ours = make(rg, name, values(theirs_params), **kwargs)
    ours.load_state_dict({"state": _as_numpy(saved["state"]),
                          "param_groups": saved["param_groups"]})
    train(torch, theirs_params, theirs, steps=10)
    train(rg, ours_params, ours, steps=10)
    for mine, reference in zip(values(ours_params), values(theirs_params)):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)


def test_load_state_dict_copies_and_casts_the_state():
    arrays = initial_arrays()
    params, optimizer = make(rg, "Adam", arrays, lr=0.01)
    train(rg, params, optimizer, steps=2)
    saved = optimizer.state_dict()
    saved_exp_avg = saved["state"][0]["exp_avg"].numpy().copy()
    params64, optimizer64 = make(rg, "Adam", [a.astype(np.float64) for a in arrays], lr=0.01)
    optimizer64.load_state_dict(saved)
    loaded = optimizer64.state[params64[0]]
    assert loaded["exp_avg"].dtype == np.float64
    assert loaded["step"].dtype == np.float32 and loaded["step"].item() == 2
    train(rg, params64, optimizer64, steps=1)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), saved_exp_avg)


def test_load_state_dict_rejects_mismatched_groups():
    arrays = initial_arrays()
    _, two_params = make(rg, "SGD", arrays)
    one_param = optim.SGD([rg.tensor(arrays[0], requires_grad=True)])
    with pytest.raises(ValueError, match="has 2 parameters, the optimizer's has 1"):
        one_param.load_state_dict(two_params.state_dict())
    u, v = (rg.tensor(a, requires_grad=True) for a in arrays)
    two_groups = optim.SGD([{"params": [u]}, {"params": [v]}])
    with pytest.raises(ValueError, match="1 parameter groups, the optimizer has 2"):
        two_groups.load_state_dict(two_params.state_dict())


@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=STATEFUL_IDS)
def test_float32_stays_float32_and_grads_are_left_untouched(name, kwargs):
    kwargs = dict(kwargs, weight_decay=0.1, maximize=True) if name != "SGD" else dict(
        kwargs, weight_decay=0.1)
    params, optimizer = make(rg, name, initial_arrays(np.float32), **kwargs)
    out = objective(*params)
    out.backward(rg.ones_like(out))
    grads = [p.grad.numpy().copy() for p in params]
    versions = [p._version for p in params]
    optimizer.step()
    for p, grad, version in zip(params, grads, versions):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.grad.numpy(), grad)
        assert p._version == version + 1
        for value in optimizer.state[p].values():
            assert value.dtype == np.float32


def test_adagrad_state_exists_before_the_first_step():
    params, optimizer = make(rg, "Adagrad", initial_arrays(), initial_accumulator_value=0.25)
    state = optimizer.state_dict()["state"]
    assert state.keys() == {0, 1}
    assert state[0]["step"].item() == 0
    np.testing.assert_array_equal(state[1]["sum"].numpy(), np.full(4, 0.25, np.float32))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adadelta"])
def test_parameters_without_grad_are_skipped(name):
    arrays = initial_arrays()
    u, v = (rg.tensor(a, requires_grad=True) for a in arrays)
    unused = rg.tensor(np.ones(5, np.float32), requires_grad=True)
    optimizer = getattr(optim, name)([u, unused, v], lr=0.01)
    train(rg, [u, v], optimizer, steps=3)
    np.testing.assert_array_equal(unused.detach().numpy(), np.ones(5, np.float32))
    assert unused not in optimizer.state
    assert 1 not in optimizer.state_dict()["state"]


def test_sgd_without_momentum_keeps_no_state():
    params, optimizer = make(rg, "SGD", initial_arrays(), lr=0.01)
    train(rg, params, optimizer, steps=2)
    assert optimizer.state_dict()["state"] == {}


def test_zero_grad_sets_to_none_by_default():
    params, optimizer = make(rg, "SGD", initial_arrays())
    out = objective(*params)
    out.backward(rg.ones_like(out))
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_can_zero_in_place():
    params, optimizer = make(rg, "SGD", initial_arrays())
    out = objective(*params)
    out.backward(rg.ones_like(out))
    grads = [p.grad for p in params]
    optimizer.zero_grad(set_to_none=False)
    for p, grad in zip(params, grads):
        assert p.grad is grad and not p.grad.requires_grad
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape, np.float32))


def test_zero_grad_detaches_a_grad_that_has_a_graph():
    params, optimizer = make(rg, "SGD", initial_arrays())
    out = objective(*params)
    out.backward(rg.ones_like(out), create_graph=True)
    assert params[0].grad.grad_fn is not None
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad.grad_fn is None and not params[0].grad.requires_grad


def test_step_with_closure_recomputes_under_grad_mode_and_returns_the_loss():
    params, optimizer = make(rg, "SGD", initial_arrays(), lr=1e-3)
    before = [value.copy() for value in values(params)]

    def closure():
        optimizer.zero_grad()
        out = objective(*params)
        out.backward(rg.ones_like(out))
        return out

    with rg.no_grad():
        loss = optimizer.step(closure)
    assert loss.shape == (3, 4)
    assert not np.allclose(values(params)[0], before[0])


def test_generators_of_parameters_work_and_can_feed_two_optimizers():
    arrays = initial_arrays()
    params = [rg.tensor(a, requires_grad=True) for a in arrays]

    def parameters():
        yield from params

    first, second = optim.SGD(parameters(), lr=0.1), optim.Adam(parameters())
    assert first.param_groups[0]["params"] == params
    assert second.param_groups[0]["params"] == params
    assert len(first.param_groups[0]["params"]) == 2


def test_named_parameters_are_recorded():
    u, v = (rg.tensor(a, requires_grad=True) for a in initial_arrays())
    optimizer = optim.Adam([("weight", u), ("bias", v)])
    assert optimizer.param_groups[0]["params"] == [u, v]
    assert optimizer.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_add_param_group_fills_defaults_and_is_used():
    u, v = (rg.tensor(a, requires_grad=True) for a in initial_arrays())
    optimizer = optim.SGD([u], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": v, "lr": 0.0})
    assert optimizer.param_groups[1]["momentum"] == 0.9
    assert optimizer.param_groups[1]["params"] == [v]
    before = v.detach().numpy().copy()
    train(rg, [u, v], optimizer, steps=2)
    np.testing.assert_array_equal(v.detach().numpy(), before)  # lr 0 in its group


def test_required_hyperparameter_of_a_custom_optimizer():
    class Custom(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, {"lr": lr})

    u = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Custom([u])
    assert Custom([{"params": [u], "lr": 0.1}]).param_groups[0]["lr"] == 0.1


def test_repr_lists_groups_and_hyperparameters():
    u = rg.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([u], lr=0.5))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5\n" in text


@pytest.mark.parametrize("params, error, match", [
    ([], ValueError, "empty parameter list"),
    (rg.tensor([1.0], requires_grad=True), TypeError, "got a Tensor of shape"),
    ({rg.tensor([1.0], requires_grad=True)}, TypeError, "ordered collections"),
    ([{"params": {rg.tensor([1.0], requires_grad=True)}}], TypeError, "ordered collections"),
    ([{"lr": 0.1}], ValueError, "no 'params' entry"),
    ([1.0], TypeError, "can only optimize Tensors"),
])
def test_bad_parameter_lists_raise(params, error, match):
    with pytest.raises(error, match=match):
        optim.SGD(params)


def test_non_leaf_parameters_raise():
    u = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD: can't optimize a non-leaf Tensor .*shape \\(2,\\)"):
        optim.SGD([u * 2])


def test_a_parameter_in_two_groups_raises():
    u = rg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [u]}, {"params": [u]}])


def test_a_parameter_twice_in_one_group_warns():
    u = rg.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="more than once"):
        optim.SGD([u, u])


@pytest.mark.parametrize("name, kwargs, match", [
    ("SGD", dict(lr=-1.0), "SGD: invalid learning_rate value: -1.0"),
    ("SGD", dict(momentum=-0.1), "invalid momentum"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "zero dampening"),
    ("Adam", dict(betas=(1.0, 0.999)), "Adam: invalid beta parameter at index 0: 1.0"),
    ("AdamW", dict(betas=(0.9, -0.5)), "AdamW: invalid beta parameter at index 1"),
    ("Adam", dict(eps=-1e-8), "invalid epsilon"),
    ("AdamW", dict(weight_decay=float("nan")), "invalid weight_decay"),
    ("RMSprop", dict(alpha=-0.5), "invalid alpha"),
    ("Adagrad", dict(lr_decay=-1), "invalid lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), "invalid initial_accumulator_value"),
    ("Adadelta", dict(rho=1.5), "invalid rho value: 1.5"),
])
def test_invalid_hyperparameters_raise(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([rg.tensor([1.0], requires_grad=True)], **kwargs)


def test_a_gradient_of_the_wrong_shape_raises():
    u = rg.tensor([1.0, 2.0], requires_grad=True)
    u.grad = rg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="gradient of shape \\(3,\\) doesn't match its "
                                           "parameter of shape \\(2,\\)"):
        optim.SGD([u]).step()


def test_adamw_is_adam_with_decoupled_weight_decay():
    arrays = initial_arrays(np.float64)
    adamw = values(train(rg, *make(rg, "AdamW", arrays, lr=0.01, weight_decay=0.1)))
    adam = values(train(rg, *make(rg, "Adam", arrays, lr=0.01, weight_decay=0.1,
                                  decoupled_weight_decay=True)))
    for a, b in zip(adamw, adam):
        np.testing.assert_array_equal(a, b)
