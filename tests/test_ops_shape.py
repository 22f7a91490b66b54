"""Shape operations: gradcheck, second derivatives, parity with PyTorch, errors, round trips.

Each case is ``fn(lib, *tensors)`` written once for both libraries (``lib`` is ``retrograd`` or
``torch``; their shape ops share names and signatures), with the shapes of its inputs.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from helpers import check_grad, check_parity, randn, requires_torch, torch


def pad_of(lib):
    return rg.pad if lib is rg else torch.nn.functional.pad


def case(fn, *shapes, id):
    return pytest.param(fn, shapes, id=id)


CASES = [
    # reshape and views
    case(lambda lib, x: lib.reshape(x, (4, -1)), (2, 3, 4), id="reshape-infer"),
    case(lambda lib, x: lib.reshape(x, (2, 3)), (6,), id="reshape-1d"),
    case(lambda lib, x: lib.reshape(x, ()), (1,), id="reshape-to-0d"),
    case(lambda lib, x: lib.reshape(x, (1, 1)), (), id="reshape-from-0d"),
    case(lambda lib, x: lib.reshape(x, (3, 0)), (0, 3), id="reshape-empty"),
    case(lambda lib, x: x.reshape(-1), (2, 3), id="reshape-method"),
    case(lambda lib, x: x.view(2, 12), (2, 3, 4), id="view-varargs"),
    case(lambda lib, x: x.view((3, 2)), (2, 3), id="view-tuple"),
    case(lambda lib, x: x.view(-1, 1), (2, 3), id="view-infer"),
    case(lambda lib, x: lib.flatten(x), (2, 3, 4), id="flatten"),
    case(lambda lib, x: lib.flatten(x, 1), (2, 3, 4), id="flatten-start"),
    case(lambda lib, x: lib.flatten(x, 0, 1), (2, 3, 4), id="flatten-range"),
    case(lambda lib, x: lib.flatten(x, -2, -1), (2, 3, 4), id="flatten-negative"),
    case(lambda lib, x: lib.flatten(x), (), id="flatten-0d"),
    case(lambda lib, x: lib.flatten(x, 1), (2, 0, 3), id="flatten-empty"),
    case(lambda lib, x: lib.unflatten(x, 1, (3, -1)), (2, 12), id="unflatten-infer"),
    case(lambda lib, x: lib.unflatten(x, -1, (2, 2, 3)), (2, 12), id="unflatten-negative"),
    case(lambda lib, x: lib.unflatten(x, 1, (2, 3)), (0, 6), id="unflatten-empty"),
    case(lambda lib, x: lib.squeeze(x), (1, 2, 1, 3), id="squeeze-all"),
    case(lambda lib, x: lib.squeeze(x, 0), (1, 2, 1, 3), id="squeeze-dim"),
    case(lambda lib, x: lib.squeeze(x, -2), (1, 2, 1, 3), id="squeeze-negative"),
    case(lambda lib, x: lib.squeeze(x, (0, 2)), (1, 2, 1, 3), id="squeeze-tuple"),
    case(lambda lib, x: lib.squeeze(x, 1), (1, 2, 1, 3), id="squeeze-not-one-noop"),
    case(lambda lib, x: lib.squeeze(x, 0), (), id="squeeze-0d"),
    case(lambda lib, x: lib.squeeze(x), (1, 0, 1), id="squeeze-empty"),
    case(lambda lib, x: lib.unsqueeze(x, 0), (2, 3), id="unsqueeze-front"),
    case(lambda lib, x: lib.unsqueeze(x, 2), (2, 3), id="unsqueeze-end"),
    case(lambda lib, x: lib.unsqueeze(x, -1), (2, 3), id="unsqueeze-negative-end"),
    case(lambda lib, x: lib.unsqueeze(x, -3), (2, 3), id="unsqueeze-negative-front"),
    case(lambda lib, x: lib.unsqueeze(x, 0), (), id="unsqueeze-0d"),
    # permuting
    case(lambda lib, x: lib.transpose(x, 0, 2), (2, 3, 4), id="transpose"),
    case(lambda lib, x: lib.transpose(x, -1, 0), (2, 3, 4), id="transpose-negative"),
    case(lambda lib, x: lib.transpose(x, 1, 1), (2, 3, 4), id="transpose-same-dim"),
    case(lambda lib, x: lib.transpose(x, 0, 2), (2, 0, 3), id="transpose-empty"),
    case(lambda lib, x: lib.transpose(x, 0, -1), (), id="transpose-0d"),
    case(lambda lib, x: lib.swapaxes(x, 0, 1), (2, 3), id="swapaxes"),
    case(lambda lib, x: lib.swapdims(x, -2, -1), (2, 3, 4), id="swapdims"),
    case(lambda lib, x: x.swapaxes(0, 1), (2, 3), id="swapaxes-method"),
    case(lambda lib, x: lib.t(x), (2, 3), id="t"),
    case(lambda lib, x: lib.t(x), (3,), id="t-1d"),
    case(lambda lib, x: lib.t(x), (), id="t-0d"),
    case(lambda lib, x: x.T, (2, 3), id="T"),
    case(lambda lib, x: x.mT, (2, 3, 4), id="mT"),
    case(lambda lib, x: lib.permute(x, (2, 0, 1)), (2, 3, 4), id="permute"),
    case(lambda lib, x: lib.permute(x, (-1, 0, 1)), (2, 3, 4), id="permute-negative"),
    case(lambda lib, x: lib.permute(x, (3, 0, 2, 1)), (1, 2, 3, 1), id="permute-size-1"),
    case(lambda lib, x: lib.permute(x, (1, 0)), (0, 3), id="permute-empty"),
    case(lambda lib, x: x.permute(1, 0), (2, 3), id="permute-method-varargs"),
    case(lambda lib, x: x.permute((1, 0)), (2, 3), id="permute-method-tuple"),
    case(lambda lib, x: lib.movedim(x, 0, -1), (2, 3, 4), id="movedim"),
    case(lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), (2, 3, 4), id="movedim-tuple"),
    case(lambda lib, x: lib.movedim(x, (-1, 0), (0, -1)), (2, 3, 4, 5), id="movedim-negative"),
    # flipping and rolling
    case(lambda lib, x: lib.flip(x, (0,)), (2, 3, 4), id="flip"),
    case(lambda lib, x: lib.flip(x, (0, 2)), (2, 3, 4), id="flip-two"),
    case(lambda lib, x: lib.flip(x, (-1,)), (2, 3, 4), id="flip-negative"),
    case(lambda lib, x: lib.flip(x, (1,)), (0, 3), id="flip-empty"),
    case(lambda lib, x: x.flip(0), (2, 3), id="flip-method-int"),
    case(lambda lib, x: lib.roll(x, 1, 0), (2, 3, 4), id="roll"),
    case(lambda lib, x: lib.roll(x, (1, -2), (0, 2)), (2, 3, 4), id="roll-two"),
    case(lambda lib, x: lib.roll(x, 7), (2, 3), id="roll-flat"),
    case(lambda lib, x: lib.roll(x, (1, 1), (1, 1)), (2, 3), id="roll-repeated-dim"),
    case(lambda lib, x: lib.roll(x, -4, -1), (2, 3), id="roll-negative"),
    case(lambda lib, x: lib.roll(x, 1, 0), (0, 3), id="roll-empty"),
    # repeating
    case(lambda lib, x: x.repeat(2, 1), (2, 3), id="repeat"),
    case(lambda lib, x: x.repeat(2, 1, 2), (2, 3), id="repeat-new-dims"),
    case(lambda lib, x: x.repeat((3, 1)), (1, 2), id="repeat-size-1"),
    case(lambda lib, x: x.repeat(3), (), id="repeat-0d"),
    case(lambda lib, x: x.repeat(0, 2), (2, 3), id="repeat-zero"),
    case(lambda lib, x: lib.tile(x, (2,)), (2, 3), id="tile-fewer"),
    case(lambda lib, x: lib.tile(x, (2, 1, 2)), (2, 3), id="tile-more"),
    case(lambda lib, x: lib.tile(x, ()), (2, 3), id="tile-none"),
    # cropping and padding
    case(lambda lib, x: lib.narrow(x, 0, 1, 2), (4, 5), id="narrow"),
    case(lambda lib, x: lib.narrow(x, -1, -2, 2), (4, 5), id="narrow-negative"),
    case(lambda lib, x: lib.narrow(x, 1, 5, 0), (4, 5), id="narrow-empty"),
    case(lambda lib, x: pad_of(lib)(x, (1, 2)), (2, 3), id="pad-constant"),
    case(lambda lib, x: pad_of(lib)(x, (1, 0, 2, 1)), (2, 3, 4), id="pad-constant-2d"),
    case(lambda lib, x: pad_of(lib)(x, (0, 0, 0, 0, 1, 1)), (2, 3, 4), id="pad-constant-3d"),
    case(lambda lib, x: pad_of(lib)(x, (-1, 1)), (2, 3), id="pad-constant-crop"),
    case(lambda lib, x: pad_of(lib)(x, (-1, -2)), (2, 3), id="pad-constant-crop-all"),
    case(lambda lib, x: pad_of(lib)(x, (1, 1, 1, 1), value=2.5), (2, 3), id="pad-value"),
    case(lambda lib, x: pad_of(lib)(x, (1, 1)), (0, 3), id="pad-empty"),
    case(lambda lib, x: pad_of(lib)(x, (2, 1), mode="reflect"), (2, 3, 5), id="reflect-1d"),
    case(lambda lib, x: pad_of(lib)(x, (1, 2, 3, 0), mode="reflect"), (1, 2, 4, 5),
         id="reflect-2d"),
    case(lambda lib, x: pad_of(lib)(x, (1, 1, 2, 0, 1, 2), mode="reflect"), (1, 1, 3, 4, 5),
         id="reflect-3d"),
    case(lambda lib, x: pad_of(lib)(x, (-1, 2), mode="reflect"), (2, 6), id="reflect-crop-left"),
    case(lambda lib, x: pad_of(lib)(x, (2, -1), mode="reflect"), (2, 6), id="reflect-crop-right"),
    case(lambda lib, x: pad_of(lib)(x, (3, 1), mode="replicate"), (2, 3, 4), id="replicate-1d"),
    case(lambda lib, x: pad_of(lib)(x, (2, 2, 1, 3), mode="replicate"), (1, 2, 3, 4),
         id="replicate-2d"),
    case(lambda lib, x: pad_of(lib)(x, (1, 0, 2, 1, 3, 0), mode="replicate"), (1, 1, 2, 3, 2),
         id="replicate-3d"),
    case(lambda lib, x: pad_of(lib)(x, (2, -1), mode="replicate"), (2, 6), id="replicate-crop"),
    case(lambda lib, x: pad_of(lib)(x, (2, 4), mode="circular"), (2, 3, 4), id="circular-1d"),
    case(lambda lib, x: pad_of(lib)(x, (1, 2, 3, 0), mode="circular"), (1, 2, 3, 4),
         id="circular-2d"),
    case(lambda lib, x: pad_of(lib)(x, (1, 1, 1, 1, 1, 1), mode="circular"), (1, 1, 2, 3, 4),
         id="circular-3d"),
    case(lambda lib, x: pad_of(lib)(x, (-1, 2), mode="circular"), (2, 6), id="circular-crop"),
    # joining
    case(lambda lib, x, y: lib.cat([x, y]), (2, 3), (4, 3), id="cat"),
    case(lambda lib, x, y, z: lib.cat([x, y, z], 1), (2, 3), (2, 1), (2, 0), id="cat-dim1"),
    case(lambda lib, x, y: lib.cat([x, y], -1), (2, 3), (2, 5), id="cat-negative"),
    case(lambda lib, x, y: lib.cat([x, y], 1), (0,), (2, 3), id="cat-skips-legacy-empty"),
    case(lambda lib, x, y, z: lib.cat([x, y, z]), (3,), (0,), (2,), id="cat-1d-empty"),
    case(lambda lib, x, y: lib.cat([x, y]), (0,), (0,), id="cat-all-empty"),
    case(lambda lib, x: lib.cat([x], 2), (2, 3, 4), id="cat-single"),
    case(lambda lib, x, y: lib.cat((x, x, y)), (1, 2), (2, 2), id="cat-repeated-input"),
    case(lambda lib, x, y: lib.concat([x, y], 0), (2, 3), (1, 3), id="concat"),
    case(lambda lib, x, y: lib.concatenate([x, y], 1), (2, 3), (2, 1), id="concatenate"),
    case(lambda lib, x, y: lib.stack([x, y]), (2, 3), (2, 3), id="stack"),
    case(lambda lib, x, y: lib.stack([x, y], 2), (2, 3), (2, 3), id="stack-last"),
    case(lambda lib, x, y: lib.stack([x, y], -1), (2, 3), (2, 3), id="stack-negative"),
    case(lambda lib, x, y: lib.stack([x, y, x], -3), (2, 3), (2, 3), id="stack-repeated-input"),
    case(lambda lib, x, y: lib.stack([x, y]), (), (), id="stack-0d"),
    case(lambda lib, x, y: lib.stack([x, y], 1), (0, 3), (0, 3), id="stack-empty"),
    case(lambda lib, x, y: lib.hstack([x, y]), (2, 3), (2, 1), id="hstack"),
    case(lambda lib, x, y: lib.hstack([x, y]), (3,), (2,), id="hstack-1d"),
    case(lambda lib, x, y: lib.hstack([x, y]), (), (2,), id="hstack-0d"),
    case(lambda lib, x, y: lib.vstack([x, y]), (3,), (2, 3), id="vstack"),
    case(lambda lib, x, y: lib.vstack([x, y]), (2, 3, 2), (1, 3, 2), id="vstack-3d"),
    # splitting
    case(lambda lib, x: lib.split(x, 2), (5, 3), id="split"),
    case(lambda lib, x: lib.split(x, [2, 0, 3]), (5, 3), id="split-sections"),
    case(lambda lib, x: lib.split(x, 2, -1), (3, 5), id="split-negative"),
    case(lambda lib, x: lib.split(x, 2), (0, 3), id="split-empty"),
    case(lambda lib, x: lib.split(x, 7), (5, 3), id="split-larger"),
    case(lambda lib, x: x.split([1, 2], 1), (2, 3), id="split-method"),
    case(lambda lib, x: lib.split(x, 2)[1], (5, 3), id="split-one-output-used"),
    case(lambda lib, x: lib.chunk(x, 3), (5, 3), id="chunk"),
    case(lambda lib, x: lib.chunk(x, 4), (6, 2), id="chunk-fewer-pieces"),
    case(lambda lib, x: lib.chunk(x, 3, 1), (2, 7), id="chunk-dim"),
    case(lambda lib, x: lib.chunk(x, 5, -1), (2, 1), id="chunk-size-1"),
    case(lambda lib, x: lib.chunk(x, 3), (0, 3), id="chunk-empty"),
    case(lambda lib, x: lib.unbind(x), (3, 4), id="unbind"),
    case(lambda lib, x: lib.unbind(x, -1), (3, 4), id="unbind-negative"),
    case(lambda lib, x: lib.unbind(x, 1), (2, 3, 4), id="unbind-middle"),
    case(lambda lib, x: lib.unbind(x, 1), (2, 1), id="unbind-size-1"),
    case(lambda lib, x: lib.unbind(x)[2], (3, 2), id="unbind-one-output-used"),
    # compositions: gradients from several paths into one tensor
    case(lambda lib, x: lib.cat(lib.split(x, 2, 1)[::-1], 1), (2, 5), id="split-cat-swap"),
    case(lambda lib, x: lib.stack(lib.unbind(x, 1), 0), (2, 3), id="unbind-stack"),
    case(lambda lib, x: lib.cat([x, lib.flip(x, (0,)), lib.roll(x, 1, 0)]), (3, 2),
         id="cat-of-views"),
]


def _inputs(shapes, dtype=np.float64):
    return [randn(*shape, seed=i, dtype=dtype) for i, shape in enumerate(shapes)]


def _rg(fn):
    return lambda *xs: fn(rg, *xs)


def _squared(fn):
    """Each output times itself: makes the first derivative depend on the input, so that the
    second derivative runs every backward of ``fn`` inside a recorded graph."""
    def squared(*xs):
        out = fn(rg, *xs)
        return tuple(o * o for o in out) if isinstance(out, tuple) else out * out
    return squared


@pytest.mark.parametrize("fn, shapes", CASES)
def test_gradcheck(fn, shapes):
    check_grad(_rg(fn), *_inputs(shapes))


@pytest.mark.parametrize("fn, shapes", CASES)
def test_second_derivative(fn, shapes):
    inputs = tuple(rg.tensor(a, requires_grad=True) for a in _inputs(shapes))
    assert rg.autograd.gradgradcheck(_squared(fn), inputs)


@requires_torch
@pytest.mark.parametrize("fn, shapes", CASES)
def test_parity(fn, shapes):
    check_parity(_rg(fn), lambda *xs: fn(torch, *xs), *_inputs(shapes))


INTEGER_CASES = [
    case(lambda lib, x: lib.reshape(x, (3, 2)), (2, 3), id="reshape"),
    case(lambda lib, x: lib.permute(x, (1, 0)), (2, 3), id="permute"),
    case(lambda lib, x: lib.flip(x, (1,)), (2, 3), id="flip"),
    case(lambda lib, x: lib.roll(x, 1, 1), (2, 3), id="roll"),
    case(lambda lib, x: x.repeat(2, 2), (2, 3), id="repeat"),
    case(lambda lib, x: pad_of(lib)(x, (1, 1), value=2.7), (2, 3), id="pad-value-truncates"),
    case(lambda lib, x: pad_of(lib)(x, (2, 1), mode="reflect"), (2, 3), id="pad-reflect"),
    case(lambda lib, x, y: lib.cat([x, y], 1), (2, 3), (2, 2), id="cat"),
    case(lambda lib, x, y: lib.stack([x, y]), (2, 3), (2, 3), id="stack"),
    case(lambda lib, x: lib.chunk(x, 2), (3, 2), id="chunk"),
]


# PyTorch has no reflection padding for bool tensors.
INTEGER_AND_BOOL_CASES = [
    pytest.param(*c.values, dtype, id=f"{c.id}-{np.dtype(dtype).name}")
    for dtype in (np.int64, np.int32, np.bool_) for c in INTEGER_CASES
    if not (dtype == np.bool_ and c.id == "pad-reflect")]


@requires_torch
@pytest.mark.parametrize("fn, shapes, dtype", INTEGER_AND_BOOL_CASES)
def test_integer_parity(fn, shapes, dtype):
    arrays = [(a * 3).astype(dtype) for a in _inputs(shapes)]
    check_parity(_rg(fn), lambda *xs: fn(torch, *xs), *arrays)
    out = fn(rg, *[rg.tensor(a) for a in arrays])
    for o in out if isinstance(out, tuple) else (out,):
        assert not o.requires_grad


@requires_torch
@pytest.mark.parametrize("op", ["cat", "stack"])
@pytest.mark.parametrize("dtypes, expected", [
    ((np.float32, np.float64), np.float64),
    ((np.int32, np.int64), np.int64),
    ((np.bool_, np.int32), np.int32),
    ((np.uint8, np.int8), np.int16),
    ((np.int64, np.float32), np.float32),
    ((np.int64, np.float16), np.float16),
])
def test_join_promotes_dtypes(op, dtypes, expected):
    arrays = [np.ones((2, 3), dtype=d) for d in dtypes]
    out = getattr(rg, op)([rg.tensor(a) for a in arrays])
    reference = getattr(torch, op)([torch.tensor(a) for a in arrays])
    assert out.dtype == expected == reference.numpy().dtype


def test_join_gradients_keep_each_input_dtype():
    x = rg.tensor(randn(2, 3, dtype=np.float32), requires_grad=True)
    y = rg.tensor(randn(1, 3, dtype=np.float64), requires_grad=True)
    out = rg.cat([x, y])
    assert out.dtype == np.float64
    out.backward(rg.ones(3, 3, dtype=rg.float64))
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)
    assert y.grad.dtype == np.float64 and y.grad.shape == (1, 3)


@requires_torch
def test_cat_skipped_empty_tensor_promotes_and_gets_an_empty_gradient():
    def run(lib):
        empty = lib.zeros(0, dtype=lib.float64, requires_grad=True)
        x = lib.ones(2, 3, requires_grad=True)
        out = lib.cat([empty, x], 1)
        out.backward(lib.ones(2, 3, dtype=lib.float64))
        return out, empty.grad, x.grad

    ours, theirs = run(rg), run(torch)
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape) and a.dtype == b.detach().numpy().dtype


def test_float32_stays_float32():
    x = rg.tensor(randn(2, 3, 4, dtype=np.float32), requires_grad=True)
    outs = [rg.reshape(x, (4, 6)), rg.permute(x, (2, 1, 0)), rg.flip(x, 0), rg.roll(x, 1, 2),
            x.repeat(2, 1, 1), rg.pad(x, (1, 1), mode="reflect"), rg.pad(x, (1, 1), value=3.0),
            rg.cat([x, x]), rg.stack([x, x]), *rg.split(x, 2, 2), *rg.unbind(x)]
    for out in outs:
        assert out.dtype == np.float32
        out.backward(rg.ones(*out.shape))
        assert x.grad.dtype == np.float32


def test_multi_output_ops_are_one_node():
    x = rg.tensor(randn(6, 2), requires_grad=True)
    for pieces in (rg.split(x, 2), rg.chunk(x, 3), rg.unbind(x), rg.split(x, [1, 5])):
        assert isinstance(pieces, tuple)
        assert len({id(p.grad_fn) for p in pieces}) == 1
        assert [p._output_nr for p in pieces] == list(range(len(pieces)))


@requires_torch
def test_unused_outputs_get_zero_gradient():
    check_parity(lambda x: rg.chunk(x, 3)[1] * 2.0, lambda x: torch.chunk(x, 3)[1] * 2.0,
                 randn(6, 2))


def test_repeated_input_gradients_accumulate():
    x = rg.tensor(randn(2, 3), requires_grad=True)
    rg.cat([x, x, rg.flip(x, (1,))]).backward(rg.ones(6, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))


def test_views_share_memory_like_pytorch():
    x = rg.tensor(np.arange(6.0))
    with rg.no_grad():
        rg.narrow(x, 0, 1, 2).fill_(-1.0)
        rg.split(x, 3)[1].fill_(7.0)
    np.testing.assert_array_equal(x.numpy(), [0, -1, -1, 7, 7, 7])
    flipped = rg.flip(x, 0)
    flipped.fill_(0.0)  # flip copies
    assert x.numpy()[0] == 0 and x.numpy()[3] == 7


def test_pad_value_ignored_only_when_zero_for_edge_modes():
    x = rg.tensor(randn(1, 2, 3))
    assert rg.pad(x, (1, 1), mode="reflect", value=0.0).shape == (1, 2, 5)
    with pytest.raises(RuntimeError, match="pad: mode 'reflect' doesn't take a value"):
        rg.pad(x, (1, 1), mode="reflect", value=1.0)


def test_pad_edge_modes_accept_any_leading_dims():
    # PyTorch restricts the non-constant modes to (batch,) channel, spatial inputs; here any
    # number of leading dims works and gives the same values as adding them one by one.
    x = randn(3, 4)
    out = rg.pad(rg.tensor(x), (1, 2), mode="reflect").numpy()
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (1, 2)), mode="reflect"))
    out = rg.pad(rg.tensor(x[0]), (2, 1), mode="replicate").numpy()
    np.testing.assert_array_equal(out, np.pad(x[0], (2, 1), mode="edge"))
    out = rg.pad(rg.tensor(randn(2, 1, 1, 3, 4)), (1, 1), mode="circular")
    assert out.shape == (2, 1, 1, 3, 6)


# ------------------------------------------------------------------------- Tensor methods
def test_tensor_methods():
    x = rg.tensor(randn(6))
    assert x.view(2, 3).shape == (2, 3)
    assert x.view((2, 3)).shape == (2, 3)
    assert x.view(-1, 2).shape == (3, 2)
    m = x.view(2, 3)
    assert m.permute(1, 0).shape == (3, 2)
    assert m.permute((1, 0)).shape == (3, 2)
    np.testing.assert_array_equal(m.T.numpy(), m.numpy().T)
    np.testing.assert_array_equal(m.mT.numpy(), m.numpy().T)
    batch = rg.tensor(randn(4, 2, 3))
    np.testing.assert_array_equal(batch.mT.numpy(), np.swapaxes(batch.numpy(), -1, -2))
    np.testing.assert_array_equal(batch.T.numpy(), batch.numpy().T)
    assert m.reshape_as(rg.zeros(3, 2)).shape == (3, 2)
    assert m.view_as(rg.zeros(6)).shape == (6,)
    assert m.flatten().shape == (6,)
    assert m.unflatten(1, (3, 1)).shape == (2, 3, 1)
    assert m.unsqueeze(0).squeeze().shape == (2, 3)
    assert m.t().shape == m.transpose(0, 1).shape == m.swapdims(0, 1).shape == (3, 2)
    assert m.movedim(0, 1).shape == (3, 2)
    assert m.tile((2,)).shape == (2, 6)
    assert m.roll(1).shape == m.flip(0).shape == (2, 3)
    assert len(m.split(1)) == len(m.chunk(2)) == len(m.unbind()) == 2


def test_inplace_squeeze_and_unsqueeze():
    x = rg.tensor(randn(2, 1, 3))
    x.squeeze_(1)
    assert x.shape == (2, 3)
    x.unsqueeze_(-1)
    assert x.shape == (2, 3, 1)


# ------------------------------------------------------------------------------- errors
ERRORS = [
    (lambda x: rg.reshape(x, (4, -1)), RuntimeError,
     r"reshape: shape \[4, -1\] is invalid for input of size 6"),
    (lambda x: x.view(5), RuntimeError, r"view: shape \[5\] is invalid for input of size 6"),
    (lambda x: rg.reshape(x, (-1, -1)), RuntimeError, "reshape: only one dimension can be"),
    (lambda x: rg.reshape(x, (-2, 3)), RuntimeError, r"reshape: invalid size -2 at index 0"),
    (lambda x: rg.reshape(rg.zeros(2, 0), (0, -1)), RuntimeError,
     r"reshape: cannot infer the -1 in shape \[0, -1\]"),
    (lambda x: rg.flatten(rg.zeros(2, 3, 4), 2, 1), RuntimeError,
     r"flatten: start_dim \(2\) cannot come after end_dim \(1\)"),
    (lambda x: rg.unflatten(x, 1, (2, -1)), RuntimeError,
     r"unflatten: shape \[2, -1\] is invalid for dim 1 of size 3 of a tensor of shape \(2, 3\)"),
    (lambda x: rg.unflatten(x, 1, ()), RuntimeError, "unflatten: sizes must be non-empty"),
    (lambda x: rg.squeeze(x, 2), IndexError, r"squeeze: dimension out of range .* got 2"),
    (lambda x: rg.squeeze(x, (0, -2)), RuntimeError, r"squeeze: dim 0 appears more than once"),
    (lambda x: rg.unsqueeze(x, 3), IndexError, r"unsqueeze: dimension out of range"),
    (lambda x: rg.transpose(x, 0, 2), IndexError, r"transpose: dimension out of range"),
    (lambda x: rg.t(rg.zeros(2, 3, 4)), RuntimeError,
     r"t: expects a tensor with <= 2 dimensions, but got shape \(2, 3, 4\)"),
    (lambda x: rg.permute(x, (0,)), RuntimeError,
     r"permute: got 1 dims \[0\] for a tensor of 2 dims \(shape \(2, 3\)\)"),
    (lambda x: rg.permute(x, (1, -1)), RuntimeError, r"permute: dim 1 appears more than once"),
    (lambda x: rg.movedim(x, (0, 1), (1,)), RuntimeError,
     r"movedim: source \[0, 1\] and destination \[1\] must name as many dims"),
    (lambda x: rg.movedim(x, (0, 0), (0, 1)), RuntimeError, "movedim: dim 0 appears more"),
    (lambda x: x.repeat(2), RuntimeError, r"repeat: got 1 repeats \[2\] for a tensor of 2 dims"),
    (lambda x: x.repeat(2, -1), RuntimeError, r"repeat: repeats must be non-negative"),
    (lambda x: rg.tile(x, (-1,)), RuntimeError, r"tile: repeats must be non-negative"),
    (lambda x: rg.flip(x, (0, 0)), RuntimeError, "flip: dim 0 appears more than once"),
    (lambda x: rg.roll(x, (1, 2), (0,)), RuntimeError,
     r"roll: shifts and dims must align, got 2 shifts \[1, 2\] and 1 dims \[0\]"),
    (lambda x: rg.roll(x, (1, 2)), RuntimeError, "roll: without dims, expects one shift"),
    (lambda x: rg.narrow(x, 1, 2, 2), RuntimeError,
     r"narrow: start \(2\) \+ length \(2\) is outside dim 1 of size 3 \(shape \(2, 3\)\)"),
    (lambda x: rg.narrow(x, 1, -4, 1), IndexError, "narrow: start -4 is out of range"),
    (lambda x: rg.narrow(rg.tensor(1.0), 0, 0, 1), RuntimeError, "narrow: cannot be applied"),
    (lambda x: rg.pad(x, (1, 1, 1)), RuntimeError, "pad: padding length must be divisible by 2"),
    (lambda x: rg.pad(x, (1,) * 6), RuntimeError,
     r"pad: padding \[1, 1, 1, 1, 1, 1\] covers 3 dims but the input has shape \(2, 3\)"),
    (lambda x: rg.pad(x, (-2, -2)), RuntimeError,
     r"pad: padding \(-2, -2\) of dim 1 \(size 3, input shape \(2, 3\)\) gives a negative"),
    (lambda x: rg.pad(x, (1, 1), mode="wrap"), ValueError, "pad: unknown mode 'wrap'"),
    (lambda x: rg.pad(x, (3, 0), mode="reflect"), RuntimeError,
     r"pad: reflect padding \(3, 0\) must be less than the size 3 of dim 1"),
    (lambda x: rg.pad(x, (0, 4), mode="circular"), RuntimeError,
     r"pad: circular padding \(0, 4\) wraps around dim 1 of size 3 more than once"),
    (lambda x: rg.pad(rg.zeros(2, 0), (1, 0), mode="replicate"), RuntimeError,
     r"pad: replicate padding needs a non-empty dim 1"),
    (lambda x: rg.cat([x, rg.zeros(4, 5)], 1), RuntimeError,
     r"cat: tensors must have the same shape except in dim 1, got \(2, 3\) and \(4, 5\)"),
    (lambda x: rg.cat([x, rg.zeros(3)]), RuntimeError,
     r"cat: tensors must have the same number of dimensions, got \(2, 3\) and \(3,\)"),
    (lambda x: rg.cat([]), ValueError, "cat: expected a non-empty sequence of tensors"),
    (lambda x: rg.cat(x), TypeError, "cat: expected a sequence of tensors, got a single"),
    (lambda x: rg.cat([x, np.zeros((2, 3))]), TypeError,
     "cat: expected a sequence of tensors, got ndarray at position 1"),
    (lambda x: rg.cat([rg.tensor(1.0)]), RuntimeError,
     r"cat: zero-dimensional tensor \(at position 0\) cannot be concatenated"),
    (lambda x: rg.cat([x], 2), IndexError, "cat: dimension out of range"),
    (lambda x: rg.stack([x, rg.zeros(3, 2)]), RuntimeError,
     r"stack: expects each tensor to be equal size, but got \(2, 3\) at entry 0 and \(3, 2\) at "
     r"entry 1"),
    (lambda x: rg.stack([x], 3), IndexError, "stack: dimension out of range"),
    (lambda x: rg.stack([]), ValueError, "stack: expected a non-empty sequence"),
    (lambda x: rg.split(x, 0), RuntimeError,
     r"split: split_size must be positive \(0 only for an empty dim\), got 0 for dim 0 of size 2"),
    (lambda x: rg.split(x, [1, 1], 1), RuntimeError,
     r"split: split sizes \[1, 1\] must be non-negative and add up to the size 3 of dim 1"),
    (lambda x: rg.split(x, [4, -1], 1), RuntimeError, r"split: split sizes \[4, -1\] must be"),
    (lambda x: rg.split(rg.tensor(1.0), 1), RuntimeError,
     "split: expects at least a 1-dimensional tensor"),
    (lambda x: rg.chunk(x, 0), RuntimeError, "chunk: expects chunks to be greater than 0, got 0"),
    (lambda x: rg.unbind(rg.tensor(1.0)), RuntimeError, "unbind: expects at least a 1-dim"),
    (lambda x: rg.unbind(x, 2), IndexError, "unbind: dimension out of range"),
]


@pytest.mark.parametrize("fn, error, message", ERRORS)
def test_errors(fn, error, message):
    with pytest.raises(error, match=message):
        fn(rg.zeros(2, 3))


# ------------------------------------------------------------------- random round trips
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=5).map(tuple)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, data=st.data())
def test_permute_round_trip(shape, data):
    x = rg.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape),
                  requires_grad=True)
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    out = rg.permute(x, dims)
    np.testing.assert_array_equal(out.detach().numpy(), np.transpose(x.detach().numpy(), dims))
    back = rg.permute(out, tuple(np.argsort(dims).tolist()))
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())
    seed = randn(*out.shape)
    out.backward(rg.tensor(seed))
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(seed, np.argsort(dims)))


@settings(max_examples=60, deadline=None)
@given(shape=shapes, data=st.data())
def test_reshape_round_trip(shape, data):
    numel = int(np.prod(shape))
    x = rg.tensor(np.arange(numel, dtype=np.float64).reshape(shape), requires_grad=True)
    # A random factorisation of numel, with one factor possibly left to -1.
    new_shape = []
    rest = numel
    for _ in range(data.draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0] or [0]
        new_shape.append(data.draw(st.sampled_from(divisors)))
        rest = rest // new_shape[-1] if new_shape[-1] else 0
    new_shape.append(rest)
    if numel and data.draw(st.booleans()):
        new_shape[data.draw(st.integers(0, len(new_shape) - 1))] = -1
    out = rg.reshape(x, new_shape)
    np.testing.assert_array_equal(out.detach().numpy().ravel(), np.arange(numel))
    back = rg.reshape(out, shape)
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())
    seed = randn(*out.shape)
    out.backward(rg.tensor(seed))
    np.testing.assert_array_equal(x.grad.numpy(), seed.reshape(shape))


@settings(max_examples=40, deadline=None)
@given(shape=shapes.filter(lambda s: len(s) > 0), data=st.data())
def test_split_cat_and_unbind_stack_round_trips(shape, data):
    x = rg.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1, 5))
    np.testing.assert_array_equal(rg.cat(rg.split(x, size, dim), dim).numpy(), x.numpy())
    chunks = data.draw(st.integers(1, 5))
    np.testing.assert_array_equal(rg.cat(rg.chunk(x, chunks, dim), dim).numpy(), x.numpy())
    if shape[dim]:
        np.testing.assert_array_equal(rg.stack(rg.unbind(x, dim), dim).numpy(), x.numpy())


@settings(max_examples=40, deadline=None)
@given(shape=shapes.filter(lambda s: len(s) > 0), data=st.data())
def test_movedim_matches_numpy(shape, data):
    x = rg.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    count = data.draw(st.integers(0, len(shape)))
    axes = st.permutations(range(-len(shape), 0)).map(lambda p: p[:count])
    source, destination = data.draw(axes), data.draw(axes)
    np.testing.assert_array_equal(rg.movedim(x, source, destination).numpy(),
                                  np.moveaxis(x.numpy(), source, destination))
