"""Convolution, pooling and upsampling layers against PyTorch: with a PyTorch layer's weights
loaded (as NumPy arrays) the same outputs, input gradients and parameter gradients; the same
constructor signatures, parameter names and shapes, state_dict keys, default initialisation
and repr; padding modes, ConvTranspose's output_size, unbatched input and constructor errors.
A small CNN built from these layers matches PyTorch end to end."""
import math

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
from helpers import randn, requires_torch, torch
from retrograd.nn.modules import batchnorm, conv, pooling, upsampling

# PyTorch notes that an asymmetric 'same' padding costs it a copy: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

LAYER_MODULES = (conv, pooling, upsampling, batchnorm)


def ours(name, *args, **kwargs):
    """The retrograd layer called ``name`` (looked up in this suite's layer modules)."""
    for module in LAYER_MODULES:
        if name in module.__all__:
            return getattr(module, name)(*args, **kwargs)
    raise LookupError(name)


def twins(name, *args, **kwargs):
    """(PyTorch layer, retrograd layer holding the same weights)."""
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    mine = ours(name, *args, **kwargs)
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return theirs, mine


def assert_same_forward_and_backward(theirs, mine, x, rtol=1e-4, atol=1e-5, **call_kwargs):
    """Same output(s), input gradient and parameter gradients (by name) for float32 ``x``."""
    x = x.astype(np.float32)
    x_theirs = torch.tensor(x, requires_grad=True)
    x_ours = rg.tensor(x, requires_grad=True)
    expected, out = theirs(x_theirs, **call_kwargs), mine(x_ours, **call_kwargs)
    if isinstance(expected, tuple):  # (values, indices)
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy())
        expected, out = expected[0], out[0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    seed = np.random.default_rng(1).standard_normal(tuple(expected.shape)).astype(np.float32)
    expected.backward(torch.tensor(seed))
    out.backward(rg.tensor(seed))
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=rtol, atol=atol)
    torch_params = dict(theirs.named_parameters())
    assert [name for name, _ in mine.named_parameters()] == list(torch_params)
    for name, param in mine.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)


# -------------------------------------------------------------------------- convolutions
CONV2D_CONFIGS = [
    pytest.param(dict(), id="default"),
    pytest.param(dict(stride=2, padding=1), id="stride2-pad1"),
    pytest.param(dict(padding=(2, 1), dilation=(1, 2)), id="pad-pair-dilation-pair"),
    pytest.param(dict(padding="same"), id="same"),
    pytest.param(dict(padding="same", dilation=2, bias=False), id="same-dilated-nobias"),
    pytest.param(dict(padding="valid", groups=2), id="valid-groups"),
    pytest.param(dict(groups=4, padding=1), id="depthwise"),
    pytest.param(dict(padding=1, padding_mode="reflect"), id="reflect"),
    pytest.param(dict(padding=(2, 1), padding_mode="replicate", stride=2), id="replicate"),
    pytest.param(dict(padding=1, padding_mode="circular", groups=2), id="circular"),
    pytest.param(dict(padding="same", padding_mode="reflect"), id="same-reflect"),
]


@requires_torch
@pytest.mark.parametrize("kwargs", CONV2D_CONFIGS)
@pytest.mark.parametrize("kernel_size", [3, (2, 3)])
@pytest.mark.parametrize("batched", [True, False])
def test_conv2d_matches_pytorch(kwargs, kernel_size, batched):
    theirs, mine = twins("Conv2d", 4, 8, kernel_size, **kwargs)
    x = randn(2, 4, 7, 6) if batched else randn(4, 7, 6)
    assert_same_forward_and_backward(theirs, mine, x)


@requires_torch
@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(), id="default"),
    pytest.param(dict(stride=2, padding=2, dilation=2), id="strided-dilated"),
    pytest.param(dict(padding="same", groups=2, bias=False), id="same-groups-nobias"),
    pytest.param(dict(padding=1, padding_mode="reflect"), id="reflect"),
    pytest.param(dict(padding=2, padding_mode="circular"), id="circular"),
    pytest.param(dict(padding=1, padding_mode="replicate"), id="replicate"),
])
@pytest.mark.parametrize("batched", [True, False])
def test_conv1d_matches_pytorch(kwargs, batched):
    theirs, mine = twins("Conv1d", 4, 6, 3, **kwargs)
    x = randn(2, 4, 9) if batched else randn(4, 9)
    assert_same_forward_and_backward(theirs, mine, x)


@requires_torch
@pytest.mark.parametrize("name, spatial", [("ConvTranspose2d", (4, 5)), ("ConvTranspose1d", (5,))])
@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(), id="default"),
    pytest.param(dict(stride=2, padding=1, output_padding=1), id="stride2-outpad"),
    pytest.param(dict(stride=3, dilation=2, output_padding=2, groups=2), id="dilated-groups"),
    pytest.param(dict(padding=1, bias=False), id="nobias"),
])
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose_matches_pytorch(name, spatial, kwargs, batched):
    theirs, mine = twins(name, 4, 6, 3, **kwargs)
    x = randn(2, 4, *spatial) if batched else randn(4, *spatial)
    assert_same_forward_and_backward(theirs, mine, x)


@requires_torch
@pytest.mark.parametrize("output_size", [(9, 11), (10, 12), [2, 6, 10, 11]])
def test_conv_transpose2d_output_size_matches_pytorch(output_size):
    """A stride-2 transposed convolution can produce two sizes per dim; output_size picks."""
    theirs, mine = twins("ConvTranspose2d", 4, 6, 3, stride=2, padding=1)
    assert_same_forward_and_backward(theirs, mine, randn(2, 4, 5, 6), output_size=output_size)
    assert mine(rg.tensor(randn(2, 4, 5, 6, dtype=np.float32)),
                output_size=output_size).shape[2:] == tuple(output_size[-2:])


@requires_torch
def test_conv_transpose1d_output_size_unbatched():
    theirs, mine = twins("ConvTranspose1d", 3, 2, 4, stride=3)
    assert_same_forward_and_backward(theirs, mine, randn(3, 5), output_size=[17])


@pytest.mark.parametrize("output_size, match", [
    ((8, 11), r"ConvTranspose2d: requested an output size of \(8, 11\), but valid sizes for "
              r"dim 0 range from 9 to 10 \(for an input of shape \(2, 4, 5, 6\)\)"),
    ((9,), r"ConvTranspose2d: output_size must have 2 or 4 entries for input of shape "
           r"\(2, 4, 5, 6\), got \(9,\)"),
])
def test_conv_transpose_output_size_errors(output_size, match):
    layer = conv.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match=match):
        layer(rg.ones(2, 4, 5, 6), output_size=output_size)


CONSTRUCTIONS = [
    ("Conv2d", (3, 6, 3), {}),
    ("Conv2d", (3, 6, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=3, bias=False,
                                    padding_mode="reflect")),
    ("Conv2d", (4, 4, 3), dict(padding="same")),
    ("Conv2d", (4, 4, [1, 3]), dict(padding="valid", stride=[2, 1])),
    ("Conv1d", (2, 5, 4), dict(padding=3, padding_mode="circular")),
    ("Conv1d", (4, 4, 3), dict(padding="same", groups=4)),
    ("ConvTranspose2d", (3, 6, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose2d", (4, 2, (2, 3)), dict(padding=(1, 0), groups=2, dilation=2, bias=False)),
    ("ConvTranspose1d", (3, 6, 3), dict(stride=3, output_padding=(2,))),
]


@requires_torch
@pytest.mark.parametrize("name, args, kwargs", CONSTRUCTIONS)
def test_conv_layers_have_pytorch_attributes_parameters_and_repr(name, args, kwargs):
    theirs, mine = getattr(torch.nn, name)(*args, **kwargs), ours(name, *args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert mine.state_dict()[key].shape == tuple(value.shape)
        assert mine.state_dict()[key].dtype == np.float32
    for attribute in ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                      "dilation", "transposed", "output_padding", "groups", "padding_mode"):
        assert getattr(mine, attribute) == getattr(theirs, attribute), attribute


@pytest.mark.parametrize("name, args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 64, 5)),
                                        ("ConvTranspose2d", (32, 16, 3)),
                                        ("Conv2d", (16, 32, 3, 1, 0, 1, 4))])
def test_default_init_is_pytorch_s(name, args):
    """kaiming_uniform_(a=sqrt(5)) weights and a bias, both U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    with fan_in = weight.shape[1] * prod(kernel_size)."""
    rg.manual_seed(0)
    layer = ours(name, *args)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    bound = 1 / math.sqrt(weight.shape[1] * math.prod(weight.shape[2:]))
    for values in (weight, bias):
        assert np.abs(values).max() <= bound
    assert np.abs(weight).max() > 0.95 * bound  # the whole range is used...
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.05 * bound  # ...uniformly
    assert weight.dtype == bias.dtype == np.float32


def test_dtype_argument_and_double():
    layer = conv.Conv2d(2, 3, 3, dtype=rg.float64)
    assert layer.weight.dtype == layer.bias.dtype == np.float64
    out = conv.Conv1d(2, 3, 3).double()(rg.ones(1, 2, 5, dtype=rg.float64))
    assert out.dtype == np.float64


@pytest.mark.parametrize("make, match", [
    (lambda: conv.Conv2d(3, 6, 3, groups=2), r"Conv2d: in_channels=3 must be divisible by "
                                             r"groups=2"),
    (lambda: conv.Conv2d(4, 6, 3, groups=4), r"Conv2d: out_channels=6 must be divisible by "
                                             r"groups=4"),
    (lambda: conv.Conv2d(4, 6, 3, groups=0), r"Conv2d: groups must be a positive integer"),
    (lambda: conv.Conv2d(4, 6, 3, padding="full"), r"Conv2d: invalid padding string 'full'"),
    (lambda: conv.Conv1d(4, 6, 3, padding="same", stride=2),
     r"Conv1d: padding='same' is not supported for strided convolutions"),
    (lambda: conv.Conv2d(4, 6, 3, padding_mode="mirror"), r"Conv2d: padding_mode must be one "
                                                          r"of"),
    (lambda: conv.Conv1d(4, 6, (3, 2)), r"Conv1d: kernel_size must be an int or a 1-tuple"),
    (lambda: conv.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
     r'ConvTranspose2d: only "zeros" padding mode is supported'),
    (lambda: conv.ConvTranspose1d(4, 6, 3, padding="same"),
     r"ConvTranspose1d: padding must be an int or a tuple, got 'same'"),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_channel_mismatch_in_forward_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"conv2d: input of shape \(2, 5, 8, 8\) has 5 "
                                           r"channels, but the weight of shape \(8, 3, 3, 3\)"):
        conv.Conv2d(3, 8, 3)(rg.ones(2, 5, 8, 8))


# ------------------------------------------------------------------------------ pooling
POOLS = [
    ("MaxPool2d", (2,), {}, (2, 3, 7, 6)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 7, 6)),
    ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, dilation=2, return_indices=True),
     (3, 7, 6)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, return_indices=True), (2, 3, 9)),
    ("MaxPool1d", (2,), dict(dilation=2, ceil_mode=True), (3, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 3, 7, 6)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (3, 6, 6)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool2d", (1,), {}, (3, 7, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, 4),), dict(return_indices=True), (2, 3, 7, 6)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
]


@requires_torch
@pytest.mark.parametrize("name, args, kwargs, shape", POOLS)
def test_pooling_layers_match_pytorch(name, args, kwargs, shape):
    theirs, mine = twins(name, *args, **kwargs)
    assert repr(mine) == repr(theirs)
    assert not list(mine.parameters()) and not mine.state_dict()
    data = np.random.default_rng(0).integers(0, 4, shape).astype(np.float32)  # with ties
    assert_same_forward_and_backward(theirs, mine, data)


# ----------------------------------------------------------------------------- upsampling
UPSAMPLERS = [
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", dict(size=(3, 7), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=(2, 3), mode="bilinear", align_corners=True), (1, 2, 3, 3)),
    ("Upsample", dict(size=8, mode="linear"), (2, 3, 5)),
    ("Upsample", dict(scale_factor=1.5, mode="nearest-exact"), (2, 3, 5)),
    ("Upsample", dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True),
     (1, 2, 3, 4)),
    ("UpsamplingNearest2d", dict(scale_factor=2), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", dict(size=(5, 6)), (1, 2, 3, 4)),
]


@requires_torch
@pytest.mark.parametrize("name, kwargs, shape", UPSAMPLERS)
def test_upsampling_layers_match_pytorch(name, kwargs, shape):
    theirs, mine = twins(name, **kwargs)
    assert repr(mine) == repr(theirs)
    assert mine.scale_factor == theirs.scale_factor and mine.size == theirs.size
    assert_same_forward_and_backward(theirs, mine, randn(*shape))


# ------------------------------------------------------------------------- a small CNN
def small_cnn(framework, layer):
    return framework.Sequential(
        layer("Conv2d", 3, 8, 3, padding=1), layer("BatchNorm2d", 8), framework.ReLU(),
        layer("MaxPool2d", 2), layer("Conv2d", 8, 8, 3, groups=2, padding="same", bias=False),
        framework.ReLU(), layer("Upsample", scale_factor=2, mode="bilinear"),
        layer("AvgPool2d", 2), layer("AdaptiveAvgPool2d", (2, 2)), framework.Flatten(),
        framework.Linear(32, 5))


@requires_torch
def test_a_small_cnn_matches_pytorch_in_training_and_eval():
    reference = small_cnn(torch.nn, lambda name, *a, **k: getattr(torch.nn, name)(*a, **k))
    model = small_cnn(nn, ours)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    assert list(model.state_dict()) == list(reference.state_dict())
    x = randn(4, 3, 8, 8)
    assert_same_forward_and_backward(reference, model, x)
    reference.eval()
    model.eval()
    np.testing.assert_allclose(model(rg.tensor(x.astype(np.float32))).detach().numpy(),
                               reference(torch.tensor(x.astype(np.float32))).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
