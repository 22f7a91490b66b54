"""Recurrent ops: the composed cells (gradcheck, parity with PyTorch's cell functions) and the
fused layer nodes (gradcheck in float64, agreement with a loop of composed cells, parity with
PyTorch, packed layouts, extreme values, dtypes, errors)."""
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import retrograd as rg
from retrograd.ops import rnn as R
from helpers import check_grad, check_parity, randn, requires_torch, torch

MODES = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
CELLS = {"lstm": R.lstm_cell, "gru": R.gru_cell, "rnn_tanh": R.rnn_tanh_cell,
         "rnn_relu": R.rnn_relu_cell}
LAYERS = {"lstm": R.lstm_layer, "gru": R.gru_layer, "rnn_tanh": R.rnn_tanh_layer,
          "rnn_relu": R.rnn_relu_layer}


def weight_arrays(mode, input_size, hidden, bias=True, seed=1, scale=0.5):
    gate_size = GATES[mode] * hidden
    shapes = [(gate_size, input_size), (gate_size, hidden)]
    if bias:
        shapes += [(gate_size,), (gate_size,)]
    return [randn(*shape, seed=seed + k, scale=scale) for k, shape in enumerate(shapes)]


def state_arrays(mode, batch, hidden, seed=7):
    count = 2 if mode == "lstm" else 1
    return [randn(batch, hidden, seed=seed + k) for k in range(count)]


def pack_states(mode, states):
    return tuple(states) if mode == "lstm" else states[0]


def layer_outputs(mode, x, states, weights, batch_sizes=None, reverse=False):
    """The fused layer's outputs as a flat tuple (output, h_n[, c_n])."""
    out, final = LAYERS[mode](x, pack_states(mode, states), *weights,
                              batch_sizes=batch_sizes, reverse=reverse)
    return (out,) + (tuple(final) if mode == "lstm" else (final,))


def batch_sizes_of(lengths):
    """PyTorch's batch_sizes for lengths sorted longest first."""
    return [sum(n > t for n in lengths) for t in range(max(lengths))]


def reference_outputs(mode, data, states, weights, lengths, reverse=False):
    """The same layer as a Python loop of composed cells, sequence by sequence, over packed
    ``data``; returns (output in packed order, h_n[, c_n])."""
    sizes = batch_sizes_of(lengths)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    cell = CELLS[mode]
    outputs, packed_rows, finals = [], [], [[] for _ in states]
    for b, length in enumerate(lengths):
        state = tuple(s[b:b + 1] for s in states)
        steps = range(length - 1, -1, -1) if reverse else range(length)
        for t in steps:
            row = int(offsets[t]) + b
            new = cell(data[row:row + 1], pack_states(mode, state), *weights)
            state = tuple(new) if mode == "lstm" else (new,)
            outputs.append(state[0])
            packed_rows.append(row)
        for collected, s in zip(finals, state):
            collected.append(s)
    order = np.argsort(packed_rows)  # back to packed order
    output = rg.cat(outputs, 0)[rg.tensor(order)]
    return (output,) + tuple(rg.cat(collected, 0) for collected in finals)


def tensors(arrays, requires_grad=True):
    return [rg.tensor(a, requires_grad=requires_grad) for a in arrays]


# ------------------------------------------------------------------------------ cells
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_gradcheck(mode, bias):
    x, weights = randn(3, 4), weight_arrays(mode, 4, 5, bias)
    states = state_arrays(mode, 3, 5)

    def fn(x, *rest):
        n = len(states)
        return CELLS[mode](x, pack_states(mode, rest[:n]), *rest[n:])

    check_grad(fn, x, *states, *weights)


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
def test_cell_parity(mode, bias):
    x, weights = randn(3, 4), weight_arrays(mode, 4, 5, bias)
    states = state_arrays(mode, 3, 5)
    n = len(states)
    torch_cell = getattr(torch, mode + "_cell")

    def rg_fn(x, *rest):
        return CELLS[mode](x, pack_states(mode, rest[:n]), *rest[n:])

    def torch_fn(x, *rest):
        return torch_cell(x, pack_states(mode, rest[:n]), *rest[n:])

    check_parity(rg_fn, torch_fn, x, *states, *weights)


def test_cells_are_differentiable_twice():
    x, weights = randn(2, 3), weight_arrays("gru", 3, 4)
    inputs = tensors([x, randn(2, 4)] + weights)
    assert rg.autograd.gradgradcheck(R.gru_cell, tuple(inputs))


# ------------------------------------------------------------------------- fused layers
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_gradcheck_padded(mode, reverse, bias):
    x, weights = randn(4, 2, 3), weight_arrays(mode, 3, 3, bias)
    states = state_arrays(mode, 2, 3)
    n = len(states)
    check_grad(lambda x, *rest: layer_outputs(mode, x, rest[:n], rest[n:], reverse=reverse),
               x, *states, *weights)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [[4, 2, 2, 1], [3, 3, 1], [1], [2, 2]])
def test_layer_gradcheck_packed(mode, reverse, lengths):
    weights = weight_arrays(mode, 2, 3)
    data, states = randn(sum(lengths), 2), state_arrays(mode, len(lengths), 3)
    sizes, n = batch_sizes_of(lengths), len(states)
    check_grad(lambda d, *rest: layer_outputs(mode, d, rest[:n], rest[n:], sizes, reverse),
               data, *states, *weights)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [[5, 5, 5], [5, 3, 3, 1], [2, 1, 1, 1, 1]])
def test_layer_matches_loop_of_cells(mode, reverse, lengths):
    """The fused node against the composed reference: values and every gradient (float64)."""
    weights = tensors(weight_arrays(mode, 3, 4))
    data = rg.tensor(randn(sum(lengths), 3), requires_grad=True)
    states = tensors(state_arrays(mode, len(lengths), 4))
    leaves = [data, *states, *weights]
    fused = layer_outputs(mode, data, states, weights, batch_sizes_of(lengths), reverse)
    reference = reference_outputs(mode, data, states, weights, lengths, reverse)
    seeds = [rg.tensor(randn(*out.shape, seed=20 + k)) for k, out in enumerate(fused)]
    fused_grads = rg.autograd.grad(fused, leaves, seeds)
    reference_grads = rg.autograd.grad(reference, leaves, seeds)
    for got, want in zip(fused + fused_grads, reference + reference_grads):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_layer_matches_loop_of_cells_random_lengths(data):
    mode = data.draw(st.sampled_from(MODES))
    lengths = sorted(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)),
                     reverse=True)
    reverse = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 1000))
    weights = tensors(weight_arrays(mode, 2, 3, seed=seed))
    packed = rg.tensor(randn(sum(lengths), 2, seed=seed), requires_grad=True)
    states = tensors(state_arrays(mode, len(lengths), 3, seed=seed))
    fused = layer_outputs(mode, packed, states, weights, batch_sizes_of(lengths), reverse)
    reference = reference_outputs(mode, packed, states, weights, lengths, reverse)
    total = sum((out * out).sum() for out in fused)
    expected = sum((out * out).sum() for out in reference)
    leaves = [packed, *states, *weights]
    for got, want in zip(rg.autograd.grad(total, leaves), rg.autograd.grad(expected, leaves)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


def _torch_network(mode, input_size, hidden, bias, bidirectional):
    if mode in ("lstm", "gru"):
        return getattr(torch.nn, mode.upper())(input_size, hidden, bias=bias,
                                               bidirectional=bidirectional)
    return torch.nn.RNN(input_size, hidden, nonlinearity=mode[4:], bias=bias,
                        bidirectional=bidirectional)


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_parity(mode, reverse, bias):
    """Forward values and all input gradients (input, initial states, weights) vs PyTorch,
    whose reverse direction is the second half of a bidirectional layer."""
    seq_len, batch, input_size, hidden = 7, 3, 4, 5
    states = state_arrays(mode, batch, hidden)
    weights = weight_arrays(mode, input_size, hidden, bias)
    n = len(states)
    net = _torch_network(mode, input_size, hidden, bias, reverse)
    suffix = "_l0_reverse" if reverse else "_l0"
    names = [name + suffix for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def torch_fn(x, *rest):
        params = dict(net.named_parameters())
        params.update(zip(names, rest[n:]))
        hx = [torch.stack([torch.zeros_like(s), s]) if reverse else s[None]
              for s in rest[:n]]
        out, finals = torch.func.functional_call(
            net, params, (x, tuple(hx) if mode == "lstm" else hx[0]))
        finals = finals if mode == "lstm" else (finals,)
        return (out[..., hidden:] if reverse else out,) + tuple(f[-1] for f in finals)

    check_parity(lambda x, *rest: layer_outputs(mode, x, rest[:n], rest[n:], reverse=reverse),
                 torch_fn, randn(seq_len, batch, input_size, scale=1.5), *states, *weights)


@pytest.mark.parametrize("mode", MODES)
def test_float32_in_float32_out(mode):
    x = rg.tensor(randn(3, 2, 4, dtype=np.float32), requires_grad=True)
    weights = tensors([w.astype(np.float32) for w in weight_arrays(mode, 4, 3)])
    outputs = layer_outputs(mode, x, [rg.zeros(2, 3)] * len(state_arrays(mode, 1, 1)), weights)
    assert all(out.dtype == rg.float32 for out in outputs)
    sum(out.sum() for out in outputs).backward()
    assert all(t.grad.dtype == rg.float32 for t in [x, *weights])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_saturated_gates_stay_finite(mode, scale):
    """Huge preactivations saturate every gate: no NaN, no inf, no overflow warning."""
    x = rg.tensor(randn(5, 2, 3, dtype=np.float32, scale=scale), requires_grad=True)
    weights = tensors([w.astype(np.float32) for w in weight_arrays(mode, 3, 4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outputs = layer_outputs(mode, x, [rg.zeros(2, 4)] * len(state_arrays(mode, 1, 1)),
                                weights)
        sum(out.sum() for out in outputs).backward()
    for t in list(outputs) + [x.grad] + [w.grad for w in weights]:
        array = t.detach().numpy()
        assert np.all(np.isfinite(array))
    if mode != "rnn_relu":
        assert np.all(np.abs(outputs[0].detach().numpy()) <= 1)


@pytest.mark.parametrize("mode", MODES)
def test_empty_batch(mode):
    x = rg.tensor(np.zeros((3, 0, 2)), requires_grad=True)
    weights = tensors(weight_arrays(mode, 2, 4))
    outputs = layer_outputs(mode, x, [rg.zeros(0, 4, dtype=rg.float64)] * len(
        state_arrays(mode, 1, 1)), weights)
    assert outputs[0].shape == (3, 0, 4) and outputs[1].shape == (0, 4)
    sum(out.sum() for out in outputs).backward()
    assert x.grad.shape == (3, 0, 2) and not np.any(weights[0].grad.numpy())


@pytest.mark.parametrize("mode", MODES)
def test_initial_state_defaults_to_zeros(mode):
    x, weights = tensors([randn(4, 2, 3)]), tensors(weight_arrays(mode, 3, 5))
    zeros = [rg.zeros(2, 5, dtype=rg.float64)] * len(state_arrays(mode, 1, 1))
    implicit = LAYERS[mode](x[0], None, *weights)
    explicit = LAYERS[mode](x[0], pack_states(mode, zeros), *weights)
    np.testing.assert_array_equal(implicit[0].detach().numpy(), explicit[0].detach().numpy())


def test_one_node_per_layer_and_direction():
    x = rg.tensor(randn(50, 2, 3), requires_grad=True)
    out, (h, c) = R.lstm_layer(x, None, *tensors(weight_arrays("lstm", 3, 4)))
    assert out.grad_fn is h.grad_fn is c.grad_fn
    assert all(edge is None or not isinstance(edge[0], type(out.grad_fn))
               for edge in out.grad_fn.next_edges)


def test_double_backward_raises():
    x = rg.tensor(randn(3, 2, 2), requires_grad=True)
    out, _ = R.gru_layer(x, None, *tensors(weight_arrays("gru", 2, 3)))
    (grad,) = rg.autograd.grad(out.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="double backward"):
        grad.sum().backward()


def test_backward_twice_needs_retain_graph():
    x = rg.tensor(randn(3, 2, 2), requires_grad=True)
    out, _ = R.rnn_tanh_layer(x, None, *tensors(weight_arrays("rnn_tanh", 2, 3)))
    loss = out.sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_weights_changed_in_place_before_backward_raise():
    weights = tensors(weight_arrays("lstm", 2, 3))
    out, _ = R.lstm_layer(rg.tensor(randn(3, 2, 2)), None, *weights)
    with rg.no_grad():
        weights[1].add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


# --------------------------------------------------------------------------------- errors
def _lstm_args(seq_len=3, batch=2, input_size=4, hidden=5):
    return (rg.tensor(randn(seq_len, batch, input_size)), None,
            *tensors(weight_arrays("lstm", input_size, hidden)))


def test_error_input_size_mismatch():
    x, hx, w_ih, *rest = _lstm_args()
    with pytest.raises(RuntimeError, match=r"lstm_layer: input of shape \(3, 2, 7\)"):
        R.lstm_layer(rg.tensor(randn(3, 2, 7)), hx, w_ih, *rest)


def test_error_weight_shapes():
    x, hx, w_ih, w_hh, b_ih, b_hh = _lstm_args()
    with pytest.raises(RuntimeError, match=r"4 \* hidden"):
        R.lstm_layer(x, hx, w_ih, w_hh[:, :3], b_ih, b_hh)
    with pytest.raises(RuntimeError, match="b_ih must have shape"):
        R.lstm_layer(x, hx, w_ih, w_hh, b_ih[:4], b_hh)
    with pytest.raises(RuntimeError, match="both b_ih and b_hh"):
        R.lstm_layer(x, hx, w_ih, w_hh, b_ih, None)


def test_error_state_shape():
    x, _, *weights = _lstm_args()
    h0, c0 = rg.zeros(2, 5, dtype=rg.float64), rg.zeros(3, 5, dtype=rg.float64)
    with pytest.raises(RuntimeError, match=r"expected c0 of shape \(2, 5\), got \(3, 5\)"):
        R.lstm_layer(x, (h0, c0), *weights)


def test_error_state_count():
    x, _, *weights = _lstm_args()
    with pytest.raises(RuntimeError, match=r"hx must be a pair \(h0, c0\)"):
        R.lstm_layer(x, rg.zeros(2, 5, dtype=rg.float64), *weights)
    with pytest.raises(RuntimeError, match="expected 2 initial state tensor"):
        R.lstm_layer(x, (rg.zeros(2, 5, dtype=rg.float64),), *weights)


def test_error_dtype_mismatch():
    x, hx, *weights = _lstm_args()
    with pytest.raises(RuntimeError, match="one floating dtype"):
        R.lstm_layer(x.float(), hx, *weights)


def test_error_empty_sequence_and_bad_rank():
    _, hx, *weights = _lstm_args()
    with pytest.raises(RuntimeError, match="larger than 0"):
        R.lstm_layer(rg.tensor(np.zeros((0, 2, 4))), hx, *weights)
    with pytest.raises(RuntimeError, match="must have 3 dimensions"):
        R.lstm_layer(rg.tensor(np.zeros((2, 4))), hx, *weights)


@pytest.mark.parametrize("sizes", [[2, 3], [2, 0], [[2, 1]]])
def test_error_bad_batch_sizes(sizes):
    _, hx, *weights = _lstm_args()
    with pytest.raises(RuntimeError, match="batch_sizes"):
        R.lstm_layer(rg.tensor(randn(5, 4)), hx, *weights, batch_sizes=sizes)


def test_error_batch_sizes_do_not_match_rows():
    _, hx, *weights = _lstm_args()
    with pytest.raises(RuntimeError, match="batch_sizes sum to 5"):
        R.lstm_layer(rg.tensor(randn(6, 4)), hx, *weights, batch_sizes=[3, 2])


def test_numpy_benchmark_reference_matches():
    """The benchmark's hand-written NumPy forward/backward computes the same gradients."""
    from benchmarks.lstm import numpy_gru, numpy_lstm
    for mode, reference in (("lstm", numpy_lstm), ("gru", numpy_gru)):
        x = randn(6, 3, 4)
        weights = weight_arrays(mode, 4, 5)
        leaves = tensors([x] + weights)
        out = LAYERS[mode](leaves[0], None, *leaves[1:])[0]
        loss = (out * out).mean()
        for got, want in zip(rg.autograd.grad(loss, leaves), reference(x, *weights)):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("used", ["output", "final states"])
def test_gradients_when_only_some_outputs_are_used(mode, used):
    """The unused outputs' gradients reach the fused node as None, not as zeros
    (``set_materialize_grads(False)``): the same gradients as the loop of cells."""
    seq_len, batch, input_size, hidden = 5, 3, 4, 6
    arrays = [randn(seq_len, batch, input_size), *state_arrays(mode, batch, hidden),
              *weight_arrays(mode, input_size, hidden, True)]
    n = len(state_arrays(mode, batch, hidden))

    def gradients(layer):
        inputs = tensors(arrays)
        outputs = layer(inputs[0], inputs[1:1 + n], inputs[1 + n:])
        picked = outputs[:1] if used == "output" else outputs[1:]
        sum((p * p).sum() for p in picked).backward()
        return [t.grad.numpy() for t in inputs]

    fused = gradients(lambda x, states, weights: layer_outputs(mode, x, states, weights))
    looped = gradients(lambda x, states, weights: reference_outputs(
        mode, x.reshape(-1, input_size), states, weights, [seq_len] * batch))
    for ours, expected in zip(fused, looped):
        np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)



@pytest.mark.parametrize("mode", MODES)
def test_a_retained_graph_gives_the_same_gradients_twice(mode):
    """Backward writes the gate gradients over the saved gate activations only when the graph
    is not retained: a second backward through a retained graph needs them intact."""
    x = rg.tensor(randn(4, 3, 2), requires_grad=True)
    weights = tensors(weight_arrays(mode, 2, 5))
    out, _ = LAYERS[mode](x, None, *weights)
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in [x, *weights]]
    loss.backward()
    for t, grad in zip([x, *weights], first):
        np.testing.assert_allclose(t.grad.numpy(), 2 * grad, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_backward_writes_gate_gradients_over_the_saved_gates(mode):
    """Without a retained graph, the backward pass makes no gate-sized array of its own: its
    peak is lower by the size of the gates than when the graph is retained."""
    def backward_peak(retain_graph):
        x = rg.tensor(randn(50, 8, 16), requires_grad=True)
        out, _ = LAYERS[mode](x, None, *tensors(weight_arrays(mode, 16, 32)))
        loss = (out * out).sum()
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            loss.backward(retain_graph=retain_graph)
            return tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()
    gate_bytes = 50 * 8 * GATES[mode] * 32 * 8
    saved = backward_peak(retain_graph=True) - backward_peak(retain_graph=False)
    assert saved >= 0.9 * gate_bytes, f"{saved} B less at the peak, gates {gate_bytes} B"
