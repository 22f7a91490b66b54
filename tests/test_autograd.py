"""The engine's contract: chain rule, graph order and freeing, hooks, modes, errors."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import retrograd as rg
from helpers import requires_torch, torch


def leaf(values, dtype=np.float64):
    return rg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def backward_sum(y):
    """Backpropagates from the sum of y's elements (only elementwise ops needed)."""
    rg.autograd.backward(y, rg.ones_like(y))


# ------------------------------------------------------------------------ the chain rule
def test_chain_rule_by_hand():
    x = leaf([0.5, -1.0, 2.0])
    y = (x * x + 3.0 * x).exp()                  # dy/dx = (2x + 3) exp(x^2 + 3x)
    backward_sum(y)
    a = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), (2 * a + 3) * np.exp(a * a + 3 * a))


def test_reused_nonleaf_accumulates():
    a = leaf([3.0])
    b = a + a          # b = 2a
    c = b * b          # c = 4a^2, dc/da = 8a
    c.backward(rg.ones_like(c))
    assert a.grad.item() == 24.0


def test_diamond_graph_runs_each_node_once():
    calls = []

    class Spy(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.array * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad

    x = leaf([1.0, 2.0])
    s = Spy.apply(x)
    y = s * 2.0 + s * 3.0
    backward_sum(y)
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    backward_sum(x * 2.0)
    backward_sum(x * 3.0)
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_leaves_get_independent_grad_arrays():
    a, b = leaf([1.0]), leaf([2.0])
    backward_sum(a + b)            # Add passes the same gradient object to both inputs
    a.grad.mul_(10.0)
    assert b.grad.item() == 1.0


def test_long_chain_is_iterative():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    backward_sum(y)
    assert x.grad.item() == 1.0


# ----------------------------------------------------------------- broadcasting in the engine
@pytest.mark.parametrize("shape_a,shape_b", [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)),
                                             ((5, 1, 1), (1, 1)), ((0, 3), (3,))])
def test_broadcast_gradients_are_reduced_to_input_shapes(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = leaf(rng.standard_normal(shape_a))
    b = leaf(rng.standard_normal(shape_b))
    backward_sum(a * b)
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    expected_a = np.broadcast_to(b.detach().numpy(), out_shape)
    expected_b = np.broadcast_to(a.detach().numpy(), out_shape)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad.numpy(), _sum_to(expected_a, shape_a))
    np.testing.assert_allclose(b.grad.numpy(), _sum_to(expected_b, shape_b))


def _sum_to(array, shape):
    lead = array.ndim - len(shape)
    array = array.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and array.shape[i] != 1)
    return array.sum(axis=axes, keepdims=True).reshape(shape)


def test_mixed_dtype_gradient_comes_back_in_input_dtype():
    a = rg.tensor([1.0, 2.0], dtype=rg.float32, requires_grad=True)
    b = rg.tensor([3.0, 4.0], dtype=rg.float64, requires_grad=True)
    y = a * b
    assert y.dtype == rg.float64
    backward_sum(y)
    assert a.grad.dtype == rg.float32 and b.grad.dtype == rg.float64


# -------------------------------------------------------------------- freeing the graph
def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = x * x
    backward_sum(y)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        backward_sum(y)


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = x * x
    rg.autograd.backward(y, rg.ones_like(y), retain_graph=True)
    backward_sum(y)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_graph_is_freed_by_reference_counting():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = (x * x).exp()
        node = weakref.ref(y.grad_fn)
        inner = weakref.ref(y.grad_fn.next_edges[0][0])
        del y
        assert node() is None and inner() is None
    finally:
        gc.enable()


def test_training_loop_memory_stays_flat():
    rng = np.random.default_rng(0)
    w = leaf(rng.standard_normal(64), dtype=np.float32)
    x = rg.tensor(rng.standard_normal(64).astype(np.float32))

    def step():
        loss = ((w * x).tanh() - 0.5) ** 2
        backward_sum(loss)
        with rg.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None

    for _ in range(200):
        step()
    tracemalloc.start()
    for _ in range(2_000):
        step()
    start, _ = tracemalloc.get_traced_memory()
    for _ in range(8_000):
        step()
    end, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert end - start < 64 * 1024, f"memory grew by {end - start} bytes over 8,000 steps"


# ------------------------------------------------------------------------- errors
def test_backward_on_non_scalar_needs_gradient():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()


def test_backward_gradient_shape_must_match():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(rg.ones(3, dtype=rg.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rg.tensor([1.0]).backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        rg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        rg.tensor([1, 2]).requires_grad_()


def test_in_place_change_of_saved_tensor_raises_at_backward():
    x = leaf([1.0, 2.0])
    c = rg.tensor([3.0, 4.0], dtype=rg.float64)
    y = x * c
    c.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul.*modified by an in-place operation"):
        backward_sum(y)


def test_in_place_on_leaf_requiring_grad_raises_but_works_under_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(1.0)
    with rg.no_grad():
        w.add_(1.0)
    np.testing.assert_allclose(w.detach().numpy(), [2.0, 3.0])
    assert w.is_leaf and w.requires_grad


def test_in_place_on_non_leaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y += x                    # y = 3x
    y *= 3.0                  # y = 9x
    assert y.grad_fn is not None and not y.is_leaf
    backward_sum(y)
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 9.0])


def test_in_place_overwriting_a_value_backward_needs_raises():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y *= y                    # Mul saved y's old value, which the update replaces
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        backward_sum(y)


def test_non_leaf_cannot_stop_requiring_grad():
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


# -------------------------------------------------------------------- modes and hooks
def test_no_grad_records_nothing():
    x = leaf([1.0])
    with rg.no_grad():
        y = x * 2.0
    assert y.grad_fn is None and not y.requires_grad
    with rg.no_grad():
        with rg.enable_grad():
            z = x * 2.0
    assert z.requires_grad


def test_grad_mode_decorators():
    @rg.no_grad()
    def f(x):
        return x * 2.0

    @rg.no_grad
    def g(x):
        return x * 2.0

    x = leaf([1.0])
    assert not f(x).requires_grad and not g(x).requires_grad
    assert rg.is_grad_enabled()
    with rg.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert rg.is_grad_enabled()
    with rg.inference_mode():
        assert not (x * 2.0).requires_grad


def test_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 10.0)
    backward_sum(y)
    np.testing.assert_allclose(seen[0], [30.0, 30.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    backward_sum(x * 3.0)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    y.retain_grad()
    z = y * y
    backward_sum(z)
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.detach().numpy())
    assert (x * 2.0).grad is None


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x.detach() * x
    backward_sum(y)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


# ------------------------------------------------------------------- autograd.grad
def test_autograd_grad_leaves_dot_grad_alone():
    x = leaf([1.0, 2.0])
    y = x * x * x
    (g,) = rg.autograd.grad(y, x, rg.ones_like(y))
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert x.grad is None


def test_autograd_grad_with_respect_to_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    y = h * h
    (g,) = rg.autograd.grad(y, h, rg.ones_like(y))
    np.testing.assert_allclose(g.numpy(), 2 * h.detach().numpy())


def test_autograd_grad_unused_input():
    x, unused = leaf([1.0]), leaf([1.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        rg.autograd.grad(x * 2.0, [x, unused], rg.ones(1, dtype=rg.float64), retain_graph=True)
    gx, gu = rg.autograd.grad(x * 2.0, [x, unused], rg.ones(1, dtype=rg.float64),
                              allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_second_derivative_by_hand():
    x = leaf([0.3, -0.7])
    y = (x * x * x).sin()
    (g,) = rg.autograd.grad(y, x, rg.ones_like(y), create_graph=True)
    assert g.requires_grad
    (h,) = rg.autograd.grad(g, x, rg.ones_like(g))
    a = x.detach().numpy()
    # d/dx [3x^2 cos(x^3)] = 6x cos(x^3) - 9x^4 sin(x^3)
    np.testing.assert_allclose(h.numpy(), 6 * a * np.cos(a ** 3) - 9 * a ** 4 * np.sin(a ** 3))


@requires_torch
def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(1)
    xs, vs = rng.standard_normal(5), rng.standard_normal(5)

    def f(lib, x):
        return ((x * x).exp() * x.tanh() + x * x * x).sum()

    x = rg.tensor(xs, requires_grad=True)
    (g,) = rg.autograd.grad(f(rg, x), x, create_graph=True)
    (hv,) = rg.autograd.grad((g * rg.tensor(vs)).sum(), x)
    xt = torch.tensor(xs, requires_grad=True)
    (gt,) = torch.autograd.grad(f(torch, xt), xt, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(vs)).sum(), xt)
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-10)


@requires_torch
def test_gradient_penalty_matches_torch():
    rng = np.random.default_rng(2)
    ws, xs = rng.standard_normal((3, 4)), rng.standard_normal((5, 3))

    def penalty(w, x, lib, grad):
        x = x.clone().requires_grad_(True) if lib is torch else x.clone()
        out = ((x @ w).tanh() ** 2).sum()
        (gx,) = grad(out, x, create_graph=True)
        return ((gx * gx).sum(1).sqrt() - 1.0).pow(2).mean()

    w = rg.tensor(ws, requires_grad=True)
    x = rg.tensor(xs, requires_grad=True)
    penalty(w, x, rg, rg.autograd.grad).backward()
    wt = torch.tensor(ws, requires_grad=True)
    penalty(wt, torch.tensor(xs), torch, torch.autograd.grad).backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------ custom Functions
class Cube(rg.autograd.Function):
    """d x^3 = 3 x^2 dx, written PyTorch-style: tensors in, tensors out."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


def test_custom_function():
    x = leaf([1.0, -2.0])
    y = Cube.apply(x)
    assert isinstance(y.grad_fn, Cube) and y.grad_fn.needs_input_grad == (True,)
    backward_sum(y)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert rg.autograd.gradcheck(Cube.apply, (leaf([0.3, 1.1]),))
    assert rg.autograd.gradgradcheck(Cube.apply, (leaf([0.3, 1.1]),))


def test_gradcheck_reports_the_worst_element():
    class Wrong(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.array * 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 3.0

    with pytest.raises(rg.autograd.GradcheckError, match=r"analytical 3\.0, numerical 2\b"):
        rg.autograd.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),))
    assert not rg.autograd.gradcheck(Wrong.apply, (leaf([1.0]),), raise_exception=False)


def test_gradcheck_warns_for_float32():
    with pytest.warns(UserWarning, match="float64"):
        rg.autograd.gradcheck(lambda x: x * 2.0, (leaf([1.0], dtype=np.float32),),
                              eps=1e-3, atol=1e-2)


# ---------------------------------------------------------------------------- dtypes
def test_float32_stays_float32():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == rg.float32
    y = (x * 2.5 + np.float64(1.0)) / 3
    assert y.dtype == rg.float32
    backward_sum(y)
    assert x.grad.dtype == rg.float32


def test_set_materialize_grads_passes_none_for_unused_outputs():
    seen = []

    class Halves(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, twice, thrice):
            seen.append((twice, thrice))
            return twice * 2.0, None

    for materialize in (True, False):
        x = rg.tensor([1.0, 2.0], requires_grad=True)
        Halves.apply(x, materialize)[0].sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    (_, zeros), (_, none) = seen
    np.testing.assert_array_equal(zeros.numpy(), [0.0, 0.0])
    assert none is None
