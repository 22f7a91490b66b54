"""Basic layers against PyTorch: Linear stacks, Bilinear, Embedding, Dropout, Flatten, the
activation and loss modules; plus gradchecks of the embedding op and its accumulation paths."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
import retrograd.nn as nn
import retrograd.ops.embedding as embedding_module
from helpers import check_grad, check_parity, randn, requires_torch, torch
from retrograd.ops.embedding import embedding


def load_from_torch(model, torch_model):
    """Copies a PyTorch model's state_dict, converted to NumPy arrays, into ``model``."""
    model.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    return model


def assert_same_model(model, torch_model, *inputs, rtol=1e-5, atol=1e-6, seed=1):
    """Same outputs, input gradients and parameter gradients (by name) as the PyTorch model
    whose weights ``model`` holds, for float inputs (made to require grad) and integer ones."""
    ours = [rg.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out, expected = model(*ours), torch_model(*theirs)
    assert out.dtype == expected.detach().numpy().dtype
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    seed_grad = np.random.default_rng(seed).standard_normal(expected.shape).astype(
        expected.detach().numpy().dtype)
    out.backward(rg.tensor(seed_grad))
    expected.backward(torch.tensor(seed_grad))
    for a, b in zip(ours, theirs):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    torch_params = dict(torch_model.named_parameters())
    for name, param in model.named_parameters():
        expected_grad = torch_params[name].grad
        if expected_grad is None:
            assert param.grad is None or not param.grad.numpy().any(), name
        else:
            assert param.grad.dtype == expected_grad.numpy().dtype, name
            np.testing.assert_allclose(param.grad.numpy(), expected_grad.numpy(), rtol=rtol,
                                       atol=atol, err_msg=name)


def f32(*shape, seed=0, **kwargs):
    return randn(*shape, seed=seed, dtype=np.float32, **kwargs)


# ------------------------------------------------------------------------------ Linear
def mlp(framework, bias):
    return framework.Sequential(framework.Linear(5, 7, bias=bias), framework.ReLU(),
                                framework.Linear(7, 4), framework.Tanh(),
                                framework.Linear(4, 3, bias=bias))


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (2, 3, 5), (0, 5), (1, 5)])
def test_linear_stack_matches_pytorch(bias, shape):
    reference = mlp(torch.nn, bias)
    model = load_from_torch(mlp(nn, bias), reference)
    assert_same_model(model, reference, f32(*shape))


@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 1, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(shape, bias):
    layer = nn.Linear(3, 2, bias=bias).double()
    params = [layer.weight.detach().numpy()] + ([layer.bias.detach().numpy()] if bias else [])

    def forward(x, weight, *maybe_bias):
        return rg.nn.functional.linear(x, weight, *maybe_bias)

    check_grad(forward, randn(*shape), *params)


def test_linear_attributes_dtype_and_shapes():
    layer = nn.Linear(3, 2, bias=False, dtype=rg.float64)
    assert layer.weight.shape == (2, 3) and layer.bias is None
    assert layer.weight.dtype == np.float64
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"
    assert nn.Linear(3, 2)(rg.ones(4, 3)).dtype == np.float32
    assert nn.Identity(5, key="ignored")(layer.weight) is layer.weight


# ---------------------------------------------------------------------------- Bilinear
@requires_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(4,), (2, 3), ()])
def test_bilinear_matches_pytorch(bias, batch):
    reference = torch.nn.Bilinear(3, 2, 4, bias=bias)
    model = load_from_torch(nn.Bilinear(3, 2, 4, bias=bias), reference)
    assert repr(model) == repr(reference)
    assert_same_model(model, reference, f32(*batch, 3), f32(*batch, 2, seed=1))


# --------------------------------------------------------------------------- Embedding
@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"scale_grad_by_freq": True, "padding_idx": 2},
                                    {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
def test_embedding_matches_pytorch(kwargs, index_dtype):
    reference = torch.nn.Embedding(6, 4, **kwargs)
    model = load_from_torch(nn.Embedding(6, 4, **kwargs), reference)
    assert repr(model) == repr(reference)
    indices = np.array([[0, 2, 2, 5], [5, 5, 1, 0], [2, 3, 2, 5]], dtype=index_dtype)
    assert_same_model(model, reference, indices)
    # max_norm renormalises the weight in place: both weights must have changed alike.
    np.testing.assert_allclose(model.weight.detach().numpy(),
                               reference.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_embedding_inside_a_model_matches_pytorch():
    def build(framework):
        return framework.Sequential(framework.Embedding(10, 3, padding_idx=1),
                                    framework.Flatten(), framework.Linear(12, 2))

    reference = build(torch.nn)
    model = load_from_torch(build(nn), reference)
    assert_same_model(model, reference, np.array([[1, 4, 4, 9], [0, 1, 1, 1]]))


def test_embedding_init_and_padding_row():
    rg.manual_seed(0)
    layer = nn.Embedding(4000, 50, padding_idx=3)
    weight = layer.weight.detach().numpy()
    assert weight.dtype == np.float32 and not weight[3].any()
    others = np.delete(weight, 3, axis=0)
    assert abs(others.mean()) < 0.01 and abs(others.std() - 1) < 0.01
    out = layer(rg.tensor([[3, 3, 0]]))
    out.sum().backward()
    grad = layer.weight.grad.numpy()
    assert not grad[3].any() and np.all(grad[0] == 1) and not grad[1].any()


def test_embedding_padding_row_ignores_non_finite_gradients():
    weight = rg.ones(3, 2, requires_grad=True)
    out = embedding(rg.tensor([0, 1]), weight, padding_idx=1)
    out.backward(rg.tensor([[1.0, 1.0], [np.inf, np.nan]]))
    assert np.array_equal(weight.grad.numpy(), [[1, 1], [0, 0], [0, 0]])


def test_embedding_from_pretrained_shares_and_freezes():
    table = rg.randn(5, 3)
    frozen = nn.Embedding.from_pretrained(table)
    assert frozen.weight.array is table.array and not frozen.weight.requires_grad
    assert repr(frozen) == "Embedding(5, 3)"
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    np.testing.assert_array_equal(frozen(rg.tensor([4, 0])).numpy(), table.numpy()[[4, 0]])
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(rg.ones(3))
    with pytest.raises(ValueError, match="does not match"):
        nn.Embedding(4, 3, _weight=rg.ones(3, 3))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 3, padding_idx=4)


def test_embedding_errors():
    weight = rg.ones(4, 2, requires_grad=True)
    with pytest.raises(IndexError, match=r"\[0, 4\).*\[-1, 2\]"):
        embedding(rg.tensor([-1, 2]), weight)
    with pytest.raises(IndexError, match="out of range"):
        embedding(rg.tensor([4]), weight)
    with pytest.raises(RuntimeError, match="integer dtype"):
        embedding(rg.tensor([1.0]), weight)
    with pytest.raises(RuntimeError, match="must be 2-D"):
        embedding(rg.tensor([0]), rg.ones(4))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(4, 2, sparse=True)(rg.tensor([0]))


def _squared_lookup(indices, **kwargs):
    def lookup(weight):
        out = embedding(rg.tensor(indices), weight, **kwargs)
        return out * out  # non-linear, so that the second derivative is not zero
    return lookup


@pytest.mark.parametrize("shape", [(5,), (2, 3), (0,), ()])
def test_embedding_gradcheck_and_double_backward(shape):
    lookup = _squared_lookup(np.random.default_rng(0).integers(0, 3, size=shape))
    check_grad(lookup, randn(3, 4))
    assert rg.autograd.gradgradcheck(lookup, (rg.tensor(randn(3, 4), requires_grad=True),))


@pytest.mark.parametrize("kwargs", [{"padding_idx": 1}, {"padding_idx": -3},
                                    {"scale_grad_by_freq": True},
                                    {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_gradient_options_double_backward(kwargs):
    """With padding_idx or scale_grad_by_freq the weight's gradient is by definition not the
    derivative of the lookup (PyTorch parity covers it); what double backward needs is the
    derivative of that gradient with respect to the output gradient, checked here."""
    indices = rg.tensor(np.array([[0, 1, 1], [2, 1, 0]]))
    weight = rg.tensor(randn(3, 4), requires_grad=True)

    def weight_gradient(output_grad):
        out = embedding(indices, weight, **kwargs)
        return rg.autograd.grad(out, weight, output_grad, create_graph=True)[0]

    check_grad(weight_gradient, randn(2, 3, 4, seed=1))


@pytest.fixture(params=["scipy", "numpy"])
def accumulation_path(request, monkeypatch):
    """Runs a test with SciPy's sparse product and with the NumPy-only fallback."""
    if request.param == "numpy":
        monkeypatch.setattr(embedding_module, "_sparse", None)
    elif embedding_module._sparse is None:
        pytest.skip("SciPy is not installed")
    return request.param


@settings(max_examples=25, deadline=None)
@given(num_rows=st.integers(1, 40), width=st.integers(1, 6),
       index_shape=st.lists(st.integers(0, 5), max_size=3), seed=st.integers(0, 2 ** 16),
       dtype=st.sampled_from([np.float32, np.float64, np.float16]))
def test_accumulate_rows_sums_repeated_indices(num_rows, width, index_shape, seed, dtype):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num_rows, size=index_shape).reshape(-1)
    rows = rng.standard_normal((indices.size, width)).astype(dtype)
    expected = np.zeros((num_rows, width))
    np.add.at(expected, indices, rows.astype(np.float64))
    for sparse in (embedding_module._sparse, None):
        original = embedding_module._sparse
        embedding_module._sparse = sparse
        try:
            result = embedding_module.accumulate_rows(rows, indices, num_rows)
        finally:
            embedding_module._sparse = original
        assert result.dtype == dtype and result.shape == (num_rows, width)
        np.testing.assert_allclose(result, expected, rtol=1e-2 if dtype == np.float16 else 1e-5,
                                   atol=1e-2 if dtype == np.float16 else 1e-5)


@requires_torch
def test_embedding_gradient_on_a_large_table_matches_pytorch(accumulation_path):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((10000, 128)).astype(np.float32)
    indices = rng.integers(0, 10000, size=(32, 100))
    indices[:, :10] = 7  # a frequent token
    check_parity(lambda w, i: embedding(i, w, padding_idx=0),
                 lambda w, i: torch.nn.functional.embedding(i, w, padding_idx=0),
                 table, indices)


# ----------------------------------------------------------------------------- Dropout
@requires_torch
@pytest.mark.parametrize("layer", ["Dropout", "Dropout2d"])
def test_dropout_in_eval_mode_is_the_identity(layer):
    x = f32(2, 3, 4, 4)
    module = getattr(nn, layer)(0.7).eval()
    assert repr(module) == repr(getattr(torch.nn, layer)(0.7))
    check_parity(lambda t: module(t), lambda t: t * 1, x)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_zeroes_and_scales_elements(p):
    rg.manual_seed(0)
    x = rg.ones(200, 500, requires_grad=True)
    out = nn.Dropout(p)(x)
    values = out.detach().numpy()
    assert values.dtype == np.float32
    kept = values != 0
    assert abs(1 - kept.mean() - p) < 0.01
    if p < 1:
        np.testing.assert_allclose(values[kept], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)


@pytest.mark.parametrize("shape", [(64, 50, 3, 4), (2000, 2, 3)])
def test_dropout2d_zeroes_whole_channels(shape):
    rg.manual_seed(0)
    p = 0.4
    x = rg.ones(*shape, requires_grad=True)
    out = nn.Dropout2d(p)(x)
    values = out.detach().numpy()
    per_channel = values.reshape(*shape[:-2], -1)
    assert np.all(per_channel == per_channel[..., :1])  # a channel is kept or dropped whole
    kept = per_channel[..., 0] != 0
    assert abs(1 - kept.mean() - p) < 4 * np.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(per_channel[kept], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)


def test_dropout_rejects_bad_probabilities_and_inputs():
    for layer in (nn.Dropout, nn.Dropout2d):
        with pytest.raises(ValueError, match="between 0 and 1"):
            layer(1.5)
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        nn.Dropout2d()(rg.ones(2, 3))


def test_dropout_is_reproducible_under_manual_seed():
    x = rg.ones(10, 10)
    rg.manual_seed(3)
    first = nn.Dropout()(x).numpy()
    rg.manual_seed(3)
    assert np.array_equal(first, nn.Dropout()(x).numpy())


# -------------------------------------------------------------------- Flatten, Unflatten
@requires_torch
@pytest.mark.parametrize("args, shape", [((), (2, 3, 4, 5)), ((0, -1), (2, 3, 4)),
                                         ((1, 2), (2, 3, 4, 5)), ((-3, -2), (2, 3, 4, 5)),
                                         ((), (2, 3))])
def test_flatten_matches_pytorch(args, shape):
    ours, theirs = nn.Flatten(*args), torch.nn.Flatten(*args)
    assert repr(ours) == repr(theirs)
    check_parity(ours, theirs, f32(*shape))


@requires_torch
@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 5), (3, 10)), (-1, [2, -1], (3, 4, 6)),
                                               (0, (1, 3), (3, 2))])
def test_unflatten_matches_pytorch(dim, sizes, shape):
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs)
    check_parity(ours, theirs, f32(*shape))


def test_unflatten_rejects_bad_sizes():
    with pytest.raises(TypeError, match="tuple or list of ints"):
        nn.Unflatten(1, 6)


# ------------------------------------------------------------------------- activations
ACTIVATIONS = [("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}),
               ("Hardtanh", (-0.5, 0.8), {}), ("LeakyReLU", (0.2,), {}),
               ("LeakyReLU", (), {"inplace": True}), ("ELU", (), {"alpha": 0.5}),
               ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
               ("Tanh", (), {}), ("Sigmoid", (), {}), ("LogSigmoid", (), {}),
               ("Softplus", (), {}), ("Softplus", (2.0, 1.0), {}), ("Softmax", (1,), {}),
               ("Softmax", (), {"dim": -1}), ("LogSoftmax", (1,), {}),
               ("LogSoftmax", (), {"dim": 0})]


@requires_torch
@pytest.mark.parametrize("name, args, kwargs", ACTIVATIONS)
def test_activation_modules_match_pytorch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = f32(4, 5, scale=3.0)
    x[0, :3] = [0.0, 30.0, -30.0]  # the kink and both saturated ends
    # PyTorch's in-place forms need a non-leaf input; the results are the same.
    check_parity(ours, lambda t: theirs(t * 1), x)


@requires_torch
@pytest.mark.parametrize("shape, dim", [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_softmax_without_dim_uses_pytorch_implicit_choice(shape, dim):
    x = f32(*shape)
    with pytest.warns(UserWarning):
        out = nn.Softmax()(rg.tensor(x))
    np.testing.assert_allclose(out.numpy(), torch.softmax(torch.tensor(x), dim).numpy(),
                               rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------ losses
def class_targets(*shape, classes=4, seed=3):
    return np.random.default_rng(seed).integers(0, classes, size=shape)


def probabilities(*shape, seed=4):
    return np.random.default_rng(seed).uniform(0.05, 0.95, size=shape).astype(np.float32)


LOSSES = [
    ("CrossEntropyLoss", {}, lambda: (f32(6, 4), class_targets(6))),
    ("CrossEntropyLoss", {"reduction": "sum", "label_smoothing": 0.1},
     lambda: (f32(6, 4), class_targets(6))),
    ("CrossEntropyLoss", {"weight": "class_weight", "ignore_index": 2},
     lambda: (f32(6, 4, 3), class_targets(6, 3))),
    ("CrossEntropyLoss", {"reduction": "none"},
     lambda: (f32(6, 4), np.random.default_rng(0).dirichlet(np.ones(4), 6).astype(
         np.float32))),
    ("NLLLoss", {}, lambda: (f32(6, 4), class_targets(6))),
    ("NLLLoss", {"weight": "class_weight", "reduction": "sum", "ignore_index": 0},
     lambda: (f32(6, 4), class_targets(6))),
    ("MSELoss", {}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("MSELoss", {"reduction": "none"}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("L1Loss", {"reduction": "sum"}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("SmoothL1Loss", {"beta": 0.0}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("HuberLoss", {"delta": 0.3, "reduction": "sum"}, lambda: (f32(3, 5), f32(3, 5, seed=1))),
    ("BCELoss", {}, lambda: (probabilities(3, 4), probabilities(3, 4, seed=5))),
    ("BCELoss", {"weight": "element_weight", "reduction": "none"},
     lambda: (probabilities(3, 4), probabilities(3, 4, seed=5))),
    ("BCEWithLogitsLoss", {}, lambda: (f32(3, 4, scale=5.0), probabilities(3, 4))),
    ("BCEWithLogitsLoss", {"pos_weight": "class_weight", "weight": "element_weight"},
     lambda: (f32(3, 4, scale=5.0), probabilities(3, 4))),
    ("KLDivLoss", {"reduction": "batchmean"},
     lambda: (np.log(probabilities(3, 4)), probabilities(3, 4, seed=5))),
    ("KLDivLoss", {"reduction": "sum", "log_target": True},
     lambda: (np.log(probabilities(3, 4)), np.log(probabilities(3, 4, seed=5)))),
]

WEIGHTS = {"class_weight": np.array([0.5, 1.0, 2.0, 1.5], dtype=np.float32),
           "element_weight": np.array([[1.0, 0.5, 2.0, 0.0]], dtype=np.float32)}


@requires_torch
@pytest.mark.parametrize("name, kwargs, make_inputs", LOSSES)
def test_loss_modules_match_pytorch(name, kwargs, make_inputs):
    def build(framework, make_tensor):
        options = {k: make_tensor(WEIGHTS[v]) if v in WEIGHTS else v
                   for k, v in kwargs.items()}
        return getattr(framework, name)(**options)

    ours, theirs = build(nn, rg.tensor), build(torch.nn, torch.tensor)
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction
    input, target = make_inputs()
    # gradients with respect to the input and to floating-point targets
    check_parity(ours, theirs, input, target)


@requires_torch
def test_loss_module_weights_are_buffers_and_legacy_arguments_work():
    weight = np.array([1.0, 2.0], dtype=np.float32)
    ours = nn.CrossEntropyLoss(weight=rg.tensor(weight))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert ours.double().weight.dtype == np.float64
    with pytest.warns(UserWarning):
        legacy = nn.MSELoss(size_average=False)
    assert legacy.reduction == "sum"
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="average")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
