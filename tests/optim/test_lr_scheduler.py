"""Learning-rate schedulers against PyTorch: the same rates (and cycled momenta) over 30 steps,
closed forms for explicit epochs, state_dict round trips, warnings and errors."""
import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim import lr_scheduler
from helpers import requires_torch, torch

STEPS = 30
GROUP_LRS = (0.1, 0.05)


def make_optimizer(lib, name="SGD", **kwargs):
    """An optimizer of framework ``lib`` with two parameter groups of different rates."""
    groups = [{"params": [lib.tensor(np.ones(2, np.float32), requires_grad=True)], "lr": lr}
              for lr in GROUP_LRS]
    return getattr(lib.optim, name)(groups, **kwargs)


def _plateau_metrics():
    """A loss that improves, stalls (exact ties included), improves a little, and worsens."""
    return [1.0, 0.9, 0.9, 0.9, 0.95, 0.89995, 0.8, 0.81, 0.82, 0.83, 0.7, 0.7, 0.69, 0.75,
            0.76, 0.77, 0.78, 0.5, 0.5, 0.51, 0.52, 0.53, 0.54, 0.4, 0.41, 0.42, 0.43, 0.44,
            0.45, 0.46]


def halve(epoch):
    return 0.5


def decay(epoch):
    return 0.9 ** epoch


class Warmup:
    """A callable object: its attributes are saved in the scheduler's state dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


# name -> (optimizer name and options, scheduler factory taking (scheduler module, optimizer))
CASES = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "StepLR-every-step": lambda s, o: s.StepLR(o, step_size=1),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-odd-period": lambda s, o: s.CosineAnnealingLR(o, T_max=7),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=8),
    "LinearLR-decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                              total_iters=12),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=20, power=2.0),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=decay),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, lr_lambda=[decay, Warmup(6)]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.95),
    "OneCycleLR-cos": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS + 1),
    "OneCycleLR-linear": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.3], epochs=4,
                                                   steps_per_epoch=8, anneal_strategy="linear",
                                                   pct_start=0.25),
    "OneCycleLR-three-phase": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1,
                                                        three_phase=True, div_factor=10.0,
                                                        base_momentum=[0.8, 0.7]),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1,
                                                        cycle_momentum=False),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.1, total_iters=5), s.ExponentialLR(o, gamma=0.9)],
        milestones=[5]),
    "SequentialLR-three": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=4), s.CosineAnnealingLR(o, T_max=10),
            s.StepLR(o, step_size=2, gamma=0.5)], milestones=[4, 14]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.1, total_iters=5), s.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-with-optimizer": lambda s, o: s.ChainedScheduler(
        [s.MultiStepLR(o, milestones=[3, 8]), s.LinearLR(o, start_factor=0.5)], optimizer=o),
}
OPTIMIZER_OF_CASE = {"OneCycleLR-cos": ("SGD", {"momentum": 0.9}),
                     "OneCycleLR-linear": ("Adam", {}),
                     "OneCycleLR-three-phase": ("SGD", {"momentum": 0.9}),
                     "OneCycleLR-no-momentum": ("Adam", {})}

PLATEAU_CASES = {
    "min-rel": dict(patience=2),
    "min-abs-cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    "max": dict(mode="max", patience=0, factor=0.5),
    "max-abs": dict(mode="max", patience=1, threshold=0.01, threshold_mode="abs"),
    "min-lrs": dict(patience=0, factor=0.5, min_lr=[0.02, 0.001]),
    "large-eps": dict(patience=0, factor=0.9, eps=0.004),
}


def build(lib, case):
    name, options = OPTIMIZER_OF_CASE.get(case, ("SGD", {}))
    optimizer = make_optimizer(lib, name, **options)
    return optimizer, CASES[case](lib.optim.lr_scheduler, optimizer)


def momenta(optimizer):
    return [group["betas"][0] if "betas" in group else group["momentum"]
            for group in optimizer.param_groups]


def record(optimizer, scheduler, steps=STEPS, metrics=None):
    """Rates (and momenta) in effect at each epoch: the initial ones, then after each step."""
    history = [(list(scheduler.get_last_lr()), momenta(optimizer))]
    for i in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        lrs = [group["lr"] for group in optimizer.param_groups]
        assert scheduler.get_last_lr() == lrs
        history.append((lrs, momenta(optimizer)))
    return history


def assert_same_history(mine, reference):
    assert len(mine) == len(reference)
    for epoch, ((lrs, moms), (ref_lrs, ref_moms)) in enumerate(zip(mine, reference)):
        assert lrs == pytest.approx(ref_lrs, rel=1e-13, abs=1e-16), f"epoch {epoch}"
        assert moms == pytest.approx(ref_moms, rel=1e-13), f"epoch {epoch}"


@requires_torch
@pytest.mark.parametrize("case", list(CASES))
def test_rates_match_torch_over_30_steps(case):
    assert_same_history(record(*build(rg, case)), record(*build(torch, case)))


@requires_torch
@pytest.mark.parametrize("case", list(PLATEAU_CASES))
def test_reduce_lr_on_plateau_matches_torch(case):
    histories = []
    for lib in (rg, torch):
        optimizer = make_optimizer(lib)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **PLATEAU_CASES[case])
        histories.append(record(optimizer, scheduler, metrics=_plateau_metrics()))
    assert_same_history(*histories)
    assert histories[0][-1][0] != histories[0][0][0]  # the rate did drop


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_continues_the_schedule(case):
    optimizer, scheduler = build(rg, case)
    record(optimizer, scheduler, steps=10)
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
    straight = record(optimizer, scheduler, steps=20)

    resumed_optimizer, resumed_scheduler = build(rg, case)
    resumed_scheduler.load_state_dict(saved_scheduler)  # before the optimizer's, as in PyTorch
    resumed_optimizer.load_state_dict(saved_optimizer)
    assert_same_history(record(resumed_optimizer, resumed_scheduler, steps=20), straight)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    metrics = _plateau_metrics()
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=1, cooldown=1)
    record(optimizer, scheduler, steps=10, metrics=metrics)
    saved_optimizer, saved_scheduler = optimizer.state_dict(), dict(scheduler.state_dict())
    straight = record(optimizer, scheduler, steps=20, metrics=metrics[10:])

    resumed_optimizer = make_optimizer(rg)
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_optimizer)
    resumed.load_state_dict(saved_scheduler)
    resumed_optimizer.load_state_dict(saved_optimizer)
    assert_same_history(record(resumed_optimizer, resumed, steps=20, metrics=metrics[10:]),
                        straight)


def test_callable_objects_keep_their_attributes_in_the_state_dict():
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.LambdaLR(optimizer, [decay, Warmup(6)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"epochs": 6}]
    other = lr_scheduler.LambdaLR(make_optimizer(rg), [decay, Warmup(2)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].epochs == 6


def test_initial_lr_and_base_lrs_are_recorded():
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    assert [group["initial_lr"] for group in optimizer.param_groups] == list(GROUP_LRS)
    assert scheduler.base_lrs == list(GROUP_LRS)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == list(GROUP_LRS)


def test_cosine_recursion_follows_the_closed_form():
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
    for epoch, (lrs, _) in enumerate(record(optimizer, scheduler, steps=45)):
        expected = [0.001 + (base - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
                    for base in GROUP_LRS]
        assert lrs == pytest.approx(expected, rel=1e-9, abs=1e-15)


@requires_torch
@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR", "PolynomialLR", "LambdaLR"])
def test_explicit_epochs_use_the_closed_form_and_warn(case):
    histories = []
    for lib in (rg, torch):
        optimizer, scheduler = build(lib, case)
        history = []
        for epoch in (3, 7, 1, 12, 2, 25):
            optimizer.step()
            with pytest.warns(UserWarning, match="epoch parameter"):
                scheduler.step(epoch)
            history.append(([group["lr"] for group in optimizer.param_groups], []))
        histories.append(history)
    assert_same_history(*histories)


@requires_torch
@pytest.mark.parametrize("case", ["CosineAnnealingLR", "ExponentialLR", "StepLR"])
def test_resuming_with_last_epoch_matches_torch(case):
    histories = []
    for lib in (rg, torch):
        optimizer = make_optimizer(lib)
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"] * 2
        factories = {
            "CosineAnnealingLR": lambda s: s.CosineAnnealingLR(optimizer, T_max=10,
                                                               last_epoch=4),
            "ExponentialLR": lambda s: s.ExponentialLR(optimizer, gamma=0.8, last_epoch=4),
            "StepLR": lambda s: s.StepLR(optimizer, step_size=3, last_epoch=4),
        }
        scheduler = factories[case](lib.optim.lr_scheduler)
        histories.append(record(optimizer, scheduler, steps=10))
    assert_same_history(*histories)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()


def test_no_warning_in_the_right_order(recwarn):
    optimizer = make_optimizer(rg)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    scheduler.step()
    assert not [w for w in recwarn if "optimizer.step" in str(w.message)]


def test_custom_optimizer_step_counts_as_a_step(recwarn):
    class PlainDescent(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            return None

    optimizer = PlainDescent([rg.tensor([1.0], requires_grad=True)])
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    optimizer.step()
    scheduler.step()
    assert not [w for w in recwarn if "optimizer.step" in str(w.message)]
    assert scheduler.get_last_lr() == [0.05]


def test_one_cycle_refuses_to_go_past_total_steps():
    optimizer = make_optimizer(rg, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    optimizer.step()
    scheduler.step()  # the last epoch, total_steps, is still allowed (as in PyTorch)
    with pytest.raises(ValueError, match="tried to step 4 times; the specified number of total "
                                         "steps is 3"):
        scheduler.step()


@pytest.mark.parametrize("factory, error, match", [
    (lambda o: lr_scheduler.StepLR("not an optimizer", 2), TypeError, "is not an Optimizer"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=3), KeyError, "initial_lr"),
    (lambda o: lr_scheduler.LambdaLR(o, [decay]), ValueError, "expected 2 lr_lambdas"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), TypeError, "should be a function"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "starting multiplicative"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "ending multiplicative"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor should be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up' is unknown"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "unknown"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=0), ValueError, "total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-1), ValueError,
     "steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=1), ValueError, "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda o: lr_scheduler.OneCycleLR(o, [1.0], 10), ValueError, "max_lr must have the same"),
    (lambda o: lr_scheduler.OneCycleLR(optim.Adagrad(o.param_groups[0]["params"]), 1.0, 10),
     ValueError, "must support momentum"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
     ValueError, "one more scheduler than milestones"),
    (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), ValueError, "at least one"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(o, 2)],
                                             optimizer=make_optimizer(rg)),
     ValueError, "same optimizer"),
])
def test_bad_arguments_raise(factory, error, match):
    with pytest.raises(error, match=match):
        factory(make_optimizer(rg))
