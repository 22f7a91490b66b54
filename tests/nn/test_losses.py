"""Loss functions: gradcheck (float64), parity with PyTorch (float32) for values and every input
gradient, across reductions, weights, ignore_index, label smoothing, probability targets,
K-dimensional inputs, extreme logits, double backward and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import retrograd as rg
import retrograd.nn.functional as F
from helpers import check_grad, check_parity, positive, randn, requires_torch, torch

TF = torch.nn.functional if torch is not None else None
REDUCTIONS = ["mean", "sum", "none"]


def _labels(shape, num_classes, seed=0, ignored=()):
    labels = np.random.default_rng(seed).integers(0, num_classes, shape)
    for index in ignored:
        labels[index] = -100
    return labels


# (input shape, target builder) for class-index targets: (C,), (N, C), (N, C, d1), (N, C, d1, d2)
INDEX_CASES = [
    ((4,), lambda: np.array(2)),
    ((4,), lambda: np.array(-100)),
    ((5, 4), lambda: _labels((5,), 4, ignored=[(1,)])),
    ((3, 4, 2), lambda: _labels((3, 2), 4, ignored=[(0, 1)])),
    ((2, 3, 2, 2), lambda: _labels((2, 2, 2), 3, seed=1)),
    ((1, 1), lambda: np.array([0])),
    ((0, 3), lambda: np.zeros((0,), dtype=np.int64)),
]
# (loss, options) for class-index targets; "weight": True means class weights are passed.
INDEX_LOSSES = [("cross_entropy", options) for options in (
    {},
    {"weight": True},
    {"label_smoothing": 0.2},
    {"weight": True, "label_smoothing": 0.1},
    {"ignore_index": 1},
)] + [("nll_loss", options) for options in ({}, {"weight": True}, {"ignore_index": 0})]


def _index_loss(module, name, target, options, reduction, weight_array):
    """A closure over the constant target (and class weights) for one framework."""
    as_tensor = rg.tensor if module is F else torch.tensor
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    if options.get("weight"):
        kwargs["weight"] = as_tensor(weight_array)
    if "ignore_index" in options:  # the rows marked -100 use the custom value instead
        target = np.where(target == -100, options["ignore_index"], target)
    loss = getattr(module, name)
    return lambda x: loss(x, as_tensor(target), reduction=reduction, **kwargs)


def _class_weight(input_shape, dtype=np.float64):
    return positive(input_shape[0 if len(input_shape) == 1 else 1], seed=3, dtype=dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,options", INDEX_LOSSES)
@pytest.mark.parametrize("shape,make_target", INDEX_CASES)
def test_index_target_losses_gradcheck(shape, make_target, name, options, reduction):
    loss = _index_loss(F, name, make_target(), options, reduction, _class_weight(shape))
    if np.isnan(loss(rg.tensor(randn(*shape))).numpy()).any():
        # A mean over no counted target (empty, or all ignored) is 0 / 0, as in PyTorch.
        assert reduction == "mean"
        return
    check_grad(loss, randn(*shape, scale=2.0))


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,options", INDEX_LOSSES)
@pytest.mark.parametrize("shape,make_target", INDEX_CASES)
def test_index_target_losses_parity(shape, make_target, name, options, reduction):
    target, weight = make_target(), _class_weight(shape, np.float32)
    check_parity(_index_loss(F, name, target, options, reduction, weight),
                 _index_loss(TF, name, target, options, reduction, weight),
                 randn(*shape, scale=2.0))


PROBABILITY_SHAPES = [(4,), (5, 4), (3, 4, 2), (2, 3, 2, 2)]


def _probabilities(shape, seed=4):
    return positive(*shape, seed=seed, low=0.0, high=1.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True, "label_smoothing": 0.3}])
@pytest.mark.parametrize("shape", PROBABILITY_SHAPES)
def test_cross_entropy_probability_targets_gradcheck(shape, options, reduction):
    class_dim = 0 if len(shape) == 1 else 1
    weight = rg.tensor(positive(shape[class_dim], seed=3)) if options.get("weight") else None
    smoothing = options.get("label_smoothing", 0.0)
    # Gradients flow to the logits and to the (soft) targets.
    check_grad(lambda x, t: F.cross_entropy(x, t, weight=weight, reduction=reduction,
                                            label_smoothing=smoothing),
               randn(*shape), _probabilities(shape))


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True, "label_smoothing": 0.3}])
@pytest.mark.parametrize("shape", PROBABILITY_SHAPES)
def test_cross_entropy_probability_targets_parity(shape, options, reduction):
    class_dim = 0 if len(shape) == 1 else 1
    weight = positive(shape[class_dim], seed=3, dtype=np.float32)
    smoothing = options.get("label_smoothing", 0.0)

    def call(module, as_tensor):
        w = as_tensor(weight) if options.get("weight") else None
        return lambda x, t: module.cross_entropy(x, t, weight=w, reduction=reduction,
                                                 label_smoothing=smoothing)

    check_parity(call(F, rg.tensor), call(TF, torch.tensor), randn(*shape), _probabilities(shape))


@requires_torch
@settings(max_examples=30, deadline=None)
@given(data=st.data(), batch=st.integers(0, 3), classes=st.integers(1, 4),
       extra=st.lists(st.integers(1, 3), max_size=2),
       reduction=st.sampled_from(REDUCTIONS), smoothing=st.sampled_from([0.0, 0.25]))
def test_cross_entropy_random_shapes_parity(data, batch, classes, extra, reduction, smoothing):
    shape = (batch, classes, *extra)
    labels = data.draw(hnp.arrays(np.int64, (batch, *extra),
                                  elements=st.sampled_from(list(range(classes)) + [-100])))
    if reduction == "mean" and not (labels != -100).any():
        labels = np.zeros_like(labels)  # an all-ignored mean is NaN: tested on its own above
    check_parity(lambda x: F.cross_entropy(x, rg.tensor(labels), reduction=reduction,
                                           label_smoothing=smoothing),
                 lambda x: TF.cross_entropy(x, torch.tensor(labels), reduction=reduction,
                                            label_smoothing=smoothing),
                 randn(*shape, seed=data.draw(st.integers(0, 50)), scale=3.0))


@pytest.mark.parametrize("target", [np.array([0, 3, 1, 2]), _probabilities((4, 4))])
def test_cross_entropy_double_backward(target):
    x = rg.tensor(randn(4, 4), requires_grad=True)
    t = rg.tensor(target)
    assert rg.autograd.gradgradcheck(
        lambda logits: F.cross_entropy(logits, t, label_smoothing=0.1), (x,))


def test_cross_entropy_gradient_penalty():
    # The norm of the input gradient, differentiated again (as in WGAN-GP): against PyTorch.
    if torch is None:
        pytest.skip("PyTorch (the test oracle) is not installed")
    logits, labels = randn(3, 5, dtype=np.float32), np.array([1, 0, 4])
    x = rg.tensor(logits, requires_grad=True)
    (g,) = rg.autograd.grad(F.cross_entropy(x, rg.tensor(labels)), x, create_graph=True)
    (g * g).sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    (tg,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor(labels)), tx, create_graph=True)
    (tg * tg).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("target,options,node", [
    (np.array([0, 1, 2]), {}, "IndexCrossEntropy"),
    (np.array([0, 1, 2]), {"label_smoothing": 0.1}, "CrossEntropy"),
    (np.full((3, 4), 0.25), {}, "CrossEntropy"),
])
def test_cross_entropy_is_one_node(target, options, node):
    x = rg.tensor(randn(3, 4), requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor(target), **options)
    assert type(loss.grad_fn).__name__ == node
    assert loss.grad_fn.next_edges[0][0] is x


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,labels", [((4, 4), [0, 3, -100, 2]),
                                          ((2, 3, 2), [[0, -100], [2, 1]]),
                                          ((3,), 1)])
def test_cross_entropy_class_indices_double_backward(shape, labels, reduction):
    # The plain class-index case has a node of its own, with its own recorded backward.
    x = rg.tensor(randn(*shape), requires_grad=True)
    t = rg.tensor(np.array(labels))

    def loss(logits):
        return F.cross_entropy(logits, t, reduction=reduction)

    assert rg.autograd.gradgradcheck(loss, (x,))
    out = loss(x)
    g = rg.tensor(randn(*out.shape, seed=5))
    (recorded,) = rg.autograd.grad(out, x, g, create_graph=True)
    (plain,) = rg.autograd.grad(loss(x), x, g)
    np.testing.assert_allclose(recorded.detach().numpy(), plain.numpy(), rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_extreme_logits(reduction, smoothing):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], dtype=np.float32)
    labels = np.array([1, 2, 2])
    x = rg.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, rg.tensor(labels), reduction=reduction, label_smoothing=smoothing)
    assert loss.dtype == rg.float32 and np.isfinite(loss.detach().numpy()).all()
    loss.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    check_parity(lambda t: F.cross_entropy(t, rg.tensor(labels), reduction=reduction,
                                           label_smoothing=smoothing),
                 lambda t: TF.cross_entropy(t, torch.tensor(labels), reduction=reduction,
                                            label_smoothing=smoothing),
                 logits, rtol=1e-5, atol=1e-2)


@requires_torch
def test_cross_entropy_masked_logits_stay_finite():
    logits = np.array([[0.5, -np.inf, 2.0], [-np.inf, 1.0, -np.inf]], dtype=np.float32)
    labels = np.array([2, 1])
    check_parity(lambda t: F.cross_entropy(t, rg.tensor(labels)),
                 lambda t: TF.cross_entropy(t, torch.tensor(labels)), logits)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_all_ignored_mean_is_nan_with_zero_gradient(smoothing):
    # As in PyTorch: a batch of padding only must not put NaN into the parameters.
    x = rg.tensor(randn(2, 3, dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quietly
        loss = F.cross_entropy(x, rg.tensor([-100, -100]), label_smoothing=smoothing)
        loss.backward()
    assert np.isnan(loss.item())
    assert x.grad.tolist() == [[0.0] * 3] * 2


@requires_torch
def test_cross_entropy_legacy_reduction_arguments():
    x, labels = randn(3, 4, dtype=np.float32), np.array([0, 1, 2])
    with pytest.warns(UserWarning, match="deprecated"):
        ours = F.cross_entropy(rg.tensor(x), rg.tensor(labels), size_average=False)
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(labels), reduction="sum")
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)


@pytest.mark.parametrize("input_shape,target,error,message", [
    ((3, 4), [0, 4, 1], IndexError, "cross_entropy: target 4 is out of bounds for 4 classes"),
    ((3, 4), [0, -2, 1], IndexError, "cross_entropy: target -2 is out of bounds for 4 classes"),
    ((3, 4), [0, 1], ValueError, r"expected a target of shape \(3,\) for an input of shape "
                                 r"\(3, 4\), got \(2,\)"),
    ((3, 4), np.ones((3, 3), dtype=np.float32), ValueError,
     r"probability targets must have the input's shape \(3, 4\), got \(3, 3\)"),
    ((3, 4), [True, False, True], TypeError, "expected integer class indices or floating"),
])
def test_cross_entropy_target_errors(input_shape, target, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(rg.zeros(input_shape), rg.tensor(target))


@pytest.mark.parametrize("kwargs,error,message", [
    ({"reduction": "avg"}, ValueError, "cross_entropy: reduction must be one of 'none', 'mean', "
                                       "'sum', got 'avg'"),
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing must be between 0.0 and 1.0"),
    ({"weight": rg.ones(3)}, RuntimeError, r"weight must have shape \(4,\) for 4 classes"),
    ({"weight": rg.ones(4, requires_grad=True)}, RuntimeError,
     "gradient with respect to 'weight' is not supported"),
])
def test_cross_entropy_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(rg.zeros(3, 4), rg.tensor([0, 1, 2]), **kwargs)


# ------------------------------------------------------------------------------------ nll_loss
@requires_torch
def test_nll_loss_of_log_softmax_equals_cross_entropy():
    x, labels = randn(4, 5, dtype=np.float32), rg.tensor([4, 0, 2, 2])
    logits = rg.tensor(x)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(logits, dim=1), labels).item(),
                               F.cross_entropy(logits, labels).item(), rtol=1e-6)


def test_nll_loss_ignores_minus_inf_of_other_classes():
    x = rg.tensor([[-np.inf, -0.5, -1.0]], requires_grad=True)
    loss = F.nll_loss(x, rg.tensor([1]))
    loss.backward()
    assert loss.item() == 0.5 and x.grad.tolist() == [[0.0, -1.0, 0.0]]


def test_nll_loss_rejects_probability_targets():
    with pytest.raises(TypeError, match="nll_loss: expected integer class indices"):
        F.nll_loss(rg.zeros(2, 3), rg.zeros(2, 3))


def test_nll_loss_double_backward():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda t: F.nll_loss(t, rg.tensor([3, 0, 1])), (x,))


# --------------------------------------------------------------------------- regression losses
REGRESSION = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.5}),
    ("huber_loss", {"delta": 2.0}),
]


def _regression_arrays(shape=(3, 4)):
    x, t = randn(*shape, seed=1, scale=1.5), randn(*shape, seed=2)
    return x, t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", REGRESSION)
def test_regression_gradcheck(name, kwargs, reduction):
    check_grad(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **kwargs),
               *_regression_arrays())


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", REGRESSION)
def test_regression_parity(name, kwargs, reduction):
    x, t = _regression_arrays()
    x[0, :2] = t[0, :2]  # zero differences: the subgradient convention must match
    check_parity(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
                 lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kwargs), x, t)


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weight_parity(name, reduction):
    x, t = _regression_arrays()
    weight = positive(3, 4, seed=5)
    check_parity(lambda a, b, w: getattr(F, name)(a, b, reduction=reduction, weight=w),
                 lambda a, b, w: getattr(TF, name)(a, b, reduction=reduction, weight=w),
                 x, t, weight)


@requires_torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_broadcast_target_warns_and_matches(name):
    x, t = randn(3, 4, seed=1), randn(4, seed=2)
    with pytest.warns(UserWarning, match="different to the input size"):
        check_parity(lambda a, b: getattr(F, name)(a, b), lambda a, b: getattr(TF, name)(a, b),
                     x, t)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weight_shape_must_match(name):
    with pytest.raises(ValueError, match=rf"{name}: weight must have the input's shape"):
        getattr(F, name)(rg.zeros(3, 4), rg.zeros(3, 4), weight=rg.ones(4))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "kl_div"])
def test_bad_reduction_raises(name):
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        getattr(F, name)(rg.zeros(2), rg.zeros(2), reduction="average")


def test_mean_of_empty_is_nan_and_float32_stays_float32():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = F.mse_loss(rg.zeros(0), rg.zeros(0))
    assert loss.dtype == rg.float32 and np.isnan(loss.item())
    assert F.l1_loss(rg.ones(3), rg.zeros(3), reduction="sum").dtype == rg.float32


def test_double_backward_through_regression_losses():
    x, t = (rg.tensor(a, requires_grad=True) for a in _regression_arrays())
    assert rg.autograd.gradgradcheck(lambda a, b: F.mse_loss(a, b), (x, t))
    assert rg.autograd.gradgradcheck(lambda a, b: F.huber_loss(a, b, delta=0.5), (x, t))


# ------------------------------------------------------------------------------ binary losses
def _bce_arrays(shape=(3, 4)):
    return positive(*shape, seed=1, low=0.05, high=0.95), positive(*shape, seed=2, low=0.0,
                                                                    high=1.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weight", [False, True])
def test_binary_cross_entropy_gradcheck(reduction, with_weight):
    weight = rg.tensor(positive(4, seed=3)) if with_weight else None
    check_grad(lambda x, t: F.binary_cross_entropy(x, t, weight=weight, reduction=reduction),
               *_bce_arrays())


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weight", [False, True])
def test_binary_cross_entropy_parity(reduction, with_weight):
    weight = positive(4, seed=3, dtype=np.float32)

    def call(module, as_tensor):
        w = as_tensor(weight) if with_weight else None
        return lambda x, t: module.binary_cross_entropy(x, t, weight=w, reduction=reduction)

    check_parity(call(F, rg.tensor), call(TF, torch.tensor), *_bce_arrays())


@requires_torch
def test_binary_cross_entropy_at_0_and_1_is_clamped_like_pytorch():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.3], dtype=np.float32)
    check_parity(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
                 lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), x, t,
                 grad_mask=[True, False])


def test_binary_cross_entropy_double_backward():
    x, t = (rg.tensor(a, requires_grad=True) for a in _bce_arrays())
    assert rg.autograd.gradgradcheck(F.binary_cross_entropy, (x, t))


def test_binary_cross_entropy_errors():
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(rg.tensor([1.5]), rg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target size \(2,\) must be the input size \(3,\)"):
        F.binary_cross_entropy(rg.zeros(3), rg.zeros(2))


LOGIT_OPTIONS = [{}, {"weight": True}, {"pos_weight": True}, {"weight": True, "pos_weight": True}]


def _logits_call(module, as_tensor, options, reduction):
    weight = positive(3, 1, seed=3, dtype=np.float32) if options.get("weight") else None
    pos_weight = positive(4, seed=4, dtype=np.float32) if options.get("pos_weight") else None
    return lambda x, t: module.binary_cross_entropy_with_logits(
        x, t, reduction=reduction,
        weight=None if weight is None else as_tensor(weight),
        pos_weight=None if pos_weight is None else as_tensor(pos_weight))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", LOGIT_OPTIONS)
def test_binary_cross_entropy_with_logits_gradcheck(options, reduction):
    check_grad(_logits_call(F, rg.tensor, options, reduction), randn(3, 4, scale=3.0),
               positive(3, 4, low=0.0, high=1.0))


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", LOGIT_OPTIONS)
def test_binary_cross_entropy_with_logits_parity(options, reduction):
    check_parity(_logits_call(F, rg.tensor, options, reduction),
                 _logits_call(TF, torch.tensor, options, reduction), randn(3, 4, scale=3.0),
                 positive(3, 4, low=0.0, high=1.0))


@requires_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_extreme(reduction):
    x = np.array([-1e4, -1e4, 1e4, 1e4, 0.0, 30.0, -30.0], dtype=np.float32)
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1.0, 1.0], dtype=np.float32)
    rx = rg.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(rx, rg.tensor(t), reduction=reduction)
    assert np.isfinite(loss.detach().numpy()).all()
    loss.sum().backward()
    assert np.isfinite(rx.grad.numpy()).all()
    # Losses near 1e4 are exact to float32 resolution there.
    check_parity(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                 lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                 x, t, rtol=1e-5, atol=1e-6)


def test_binary_cross_entropy_with_logits_double_backward():
    x = rg.tensor(randn(3, 4), requires_grad=True)
    t = rg.tensor(positive(3, 4, low=0.0, high=1.0))
    assert rg.autograd.gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t), (x,))


# ------------------------------------------------------------------------------------ kl_div
KL_REDUCTIONS = REDUCTIONS + ["batchmean"]


def _kl_arrays(log_target):
    x = np.log(positive(3, 4, seed=1, low=0.05, high=1.0))
    t = positive(3, 4, seed=2, low=0.05, high=1.0)
    return x, (np.log(t) if log_target else t)


@pytest.mark.filterwarnings("ignore:kl_div")
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradcheck(reduction, log_target):
    check_grad(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
               *_kl_arrays(log_target))


@requires_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_parity(reduction, log_target):
    check_parity(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                 lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
                 *_kl_arrays(log_target))


@requires_torch
def test_kl_div_zero_target_contributes_nothing():
    x, t = _kl_arrays(False)
    t[0, :2] = 0.0
    check_parity(lambda a, b: F.kl_div(a, b, reduction="sum"),
                 lambda a, b: TF.kl_div(a, b, reduction="sum"), x, t, grad_mask=[True, False])


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(rg.zeros(2, 3), rg.ones(2, 3))
