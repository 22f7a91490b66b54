"""Backpropagation: run the recorded graph backwards, applying the chain rule.

Given root tensors ``y`` and their gradients ``dL/dy``, every node ``f`` (a ``Function``) turns
the gradients of its outputs into gradients of its inputs with ``f.backward``; gradients that
reach the same tensor along several paths are summed (the multivariable chain rule).

Order: a node may run only once every node that uses its outputs has run, because only then is
the gradient of its outputs complete. We count, for each node reachable from the roots, how many
edges point at it (its dependencies) and run nodes whose count has dropped to zero: a
topological order found with an explicit stack and queue, never with recursion, so a chain of
100,000 ops needs no deep Python stack.

Freeing: unless ``retain_graph`` is true, each node drops its saved tensors as soon as its
backward has run; the nodes themselves are freed by reference counting when the last output
tensor that refers to them goes away.

Exclusive gradients: a leaf's ``.grad`` must not share memory with anything else (an in-place
update of one ``.grad`` must not change another tensor), so a gradient is copied into ``.grad``
unless it is provably the engine's alone: its array owns its memory (it is no view) and nothing
but the engine refers to the gradient tensor or its array. CPython's reference counts prove it,
as PyTorch's use counts do for its own gradient stealing: a gradient sent along two edges, kept
by a hook or by the caller, or wrapping another tensor's array, always has one reference more.
(Where reference counts are not exact, gradients are always copied.) The same test tells a node
whose op can use it (``Function.reuses_grad``) that its incoming gradient is exclusive, so that
backward may overwrite that array instead of allocating a new one
(``Function.grad_is_exclusive``). Similarly, a node that asks (``Function.reuses_saved``) is told
when its saved tensors will be dropped after its backward (``Function.saved_is_disposable``), so
that backward may use their memory for its own results.
"""
import sys

import numpy as np

from . import grad_mode
from .function import Function
from ..tensor import Tensor


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(sum of tensors * grad_tensors)/d(leaf) into each leaf's ``.grad``."""
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    roots = _roots("backward", tensors, grad_tensors, create_graph)
    _run(roots, retain_graph=create_graph if retain_graph is None else retain_graph,
         create_graph=create_graph, capture=None, only_inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Returns d(sum of outputs * grad_outputs)/d(input) for each input, leaving ``.grad``
    untouched (PyTorch's ``torch.autograd.grad``)."""
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("autograd.grad: one of the inputs does not require grad")
    roots = _roots("autograd.grad", outputs, grad_outputs, create_graph)
    capture = {}
    _run(roots, retain_graph=create_graph if retain_graph is None else retain_graph,
         create_graph=create_graph, capture=capture, only_inputs=inputs)
    results = []
    for t in inputs:
        g = capture.get(_key_of(t))
        if g is None and not allow_unused:
            raise RuntimeError("autograd.grad: one of the differentiated tensors appears to not "
                               "have been used in the graph; set allow_unused=True if this is "
                               "the desired behavior")
        results.append(g)
    return tuple(results)


def _key_of(tensor):
    """Identifies where a tensor's gradient appears: its (node, output) or the leaf itself."""
    if tensor.grad_fn is not None:
        return (id(tensor.grad_fn), tensor._output_nr)
    return (id(tensor), 0)


def _roots(caller, tensors, grads, create_graph):
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None:
        grads = [None] * len(tensors)
    elif isinstance(grads, Tensor):
        grads = [grads]
    roots = []
    for t, g in zip(tensors, grads):
        if not t.requires_grad:
            raise RuntimeError(f"{caller}: element of the tensors does not require grad and "
                               "does not have a grad_fn (was it computed under no_grad(), or "
                               "from tensors that don't require grad?)")
        if g is None:
            if t.array.size != 1:
                raise RuntimeError(f"{caller}: grad can be implicitly created only for scalar "
                                   f"outputs; this output has shape {tuple(t.shape)}, so pass "
                                   "a gradient of that shape (e.g. backward(torch.ones_like(y)))")
            g = Tensor._make(np.ones_like(t.array))
        elif not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=t.dtype))
        if g.shape != t.shape:
            raise RuntimeError(f"{caller}: gradient has shape {tuple(g.shape)} but the output "
                               f"has shape {tuple(t.shape)}")
        if not create_graph:
            g = g.detach()
        roots.append((t, g))
    return roots


def _count_dependencies(roots):
    """{node: number of edges pointing at it} for every node reachable from ``roots``."""
    deps = dict.fromkeys(roots, 0)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for edge in node._edges:
            if edge is None or not edge[4]:
                continue
            child = edge[0]
            if child in deps:
                deps[child] += 1
            else:
                deps[child] = 1
                stack.append(child)
    return deps


# CPython up to 3.13 counts every reference exactly; later versions may leave some out.
_EXACT_REFCOUNTS = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _exclusive(grad, holders):
    """Whether the gradient tensor ``grad`` and its array belong to the engine alone (see the
    module docstring); ``holders``: the references to ``grad`` that the caller knows of."""
    array = grad.array
    return (_EXACT_REFCOUNTS and array.base is None
            # the tensor's attribute, ``array`` here, getrefcount's argument
            and sys.getrefcount(array) <= 3
            # the caller's holders, ``grad`` here, getrefcount's argument
            and sys.getrefcount(grad) <= holders + 2)


def _accumulate(buffer, key, grad):
    previous = buffer.get(key)
    buffer[key] = grad if previous is None else previous + grad


def _run(roots, retain_graph, create_graph, capture, only_inputs):
    """The backward pass proper. ``capture`` (for ``autograd.grad``) receives the gradients of
    the tensors in ``only_inputs`` instead of accumulating into leaves' ``.grad``.

    Per-pass bookkeeping: ``deps`` (each node's consumers still to run) and ``pending``
    (each node's {output_nr: gradient so far}), dictionaries dropped at the end of the pass."""
    wanted = None if only_inputs is None else {_key_of(t) for t in only_inputs}
    leaf_grads = {}       # id(leaf) -> (leaf, grad so far)
    root_nodes = []
    for tensor, g in roots:
        if tensor.grad_fn is None:
            _accumulate_leaf(leaf_grads, tensor, g)
        elif tensor.grad_fn not in root_nodes:
            root_nodes.append(tensor.grad_fn)
    deps = _count_dependencies(root_nodes)
    pending = {}
    for tensor, g in roots:
        if tensor.grad_fn is not None:
            _accumulate(pending.setdefault(tensor.grad_fn, {}), tensor._output_nr, g)
    ready = [n for n in root_nodes if deps[n] == 0]
    state = grad_mode._state
    prev_mode = state.enabled
    state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            grads_by_output = pending.pop(node, None)
            input_grads = ()
            if grads_by_output:  # else no gradient reached this node: nothing to propagate
                if node.reuses_saved:
                    node.saved_is_disposable = not retain_graph
                if (node.num_outputs == 1 and capture is None and node._pre_hooks is None
                        and node._retained is None):
                    g = grads_by_output[0]  # held by grads_by_output and g
                    if node.reuses_grad and not create_graph and _exclusive(g, holders=2):
                        node.grad_is_exclusive = True
                        input_grads = node.backward(node, g)
                        node.grad_is_exclusive = False
                    else:
                        input_grads = node.backward(node, g)
                else:
                    input_grads = node.backward(
                        node, *_output_grads(node, grads_by_output, capture, wanted))
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if create_graph and node.once_differentiable:
                    input_grads = tuple(_not_differentiable_again(g, node) for g in input_grads)
            if not retain_graph:
                node._saved = node._output = None  # Function.release, inlined (hot loop)
            edges = node._edges
            if len(input_grads) != len(edges):  # a backward may leave out trailing Nones
                input_grads = (input_grads + (None,) * len(edges))[:len(edges)]
            for edge, g in zip(edges, input_grads):
                if edge is None:
                    continue
                target, output_nr, shape, dtype, is_node = edge
                if g is not None:
                    array = g.array if type(g) is Tensor else None
                    if array is None or array.shape != shape or (
                            array.dtype is not dtype and array.dtype != dtype):
                        g = _fit(node, g, shape, dtype)
                if is_node:
                    if g is not None:
                        slot = pending.get(target)
                        if slot is None:
                            pending[target] = {output_nr: g}
                        else:
                            _accumulate(slot, output_nr, g)
                    remaining = deps[target] - 1
                    deps[target] = remaining
                    if remaining == 0:
                        ready.append(target)
                elif g is not None:
                    _accumulate_leaf(leaf_grads, target, g)
            # No stale references when the next node's gradient is tested for exclusivity.
            input_grads = array = None
    finally:
        state.enabled = prev_mode
    input_grads = grads_by_output = array = None  # the leaves' gradients are theirs alone

    for key in list(leaf_grads):
        leaf, g = leaf_grads.pop(key)  # popped, so that a copied original is freed at once
        for hook in leaf._hooks or ():
            replaced = hook(g)
            if replaced is not None:
                g = replaced
        if capture is not None:
            if (id(leaf), 0) in wanted:
                capture[(id(leaf), 0)] = g
        elif wanted is None or (id(leaf), 0) in wanted:
            exclusive = _exclusive(g, holders=1)  # held by g only
            _store_grad(leaf, g, create_graph, copy=not exclusive)


def _output_grads(node, grads_by_output, capture, wanted):
    """The gradient of each output of ``node`` (zeros where an output was unused, or None if
    the node asked so: ``Function.set_materialize_grads``), after the tensors' hooks ran; also
    retains or captures them where asked."""
    hooks = node._pre_hooks
    retained = node._retained
    grad_outputs = []
    for i in range(node.num_outputs):
        g = grads_by_output.get(i)
        if hooks and g is not None:
            for hook in hooks.get(i, ()):
                replaced = hook(g)
                if replaced is not None:
                    g = replaced
        if retained and g is not None and i in retained:
            owner = retained[i]()
            if owner is not None:
                _store_grad(owner, g, grad_mode.is_grad_enabled())
        if capture is not None and g is not None and (id(node), i) in wanted:
            capture[(id(node), i)] = g
        if g is None and node.materialize_grads:  # an unused output contributes zero
            shape, dtype = node.output_meta[i]
            g = Tensor._make(np.zeros(shape, dtype))
        grad_outputs.append(g)
    return grad_outputs


def _fit(node, grad, shape, dtype):
    """Reduces a gradient to its input's shape (undoing broadcasting) and dtype."""
    if not isinstance(grad, Tensor):
        grad = Tensor._make(np.asarray(grad))
    if grad.shape != shape:
        try:
            grad = grad.sum_to_size(shape)
        except ValueError:
            raise RuntimeError(f"{type(node).__name__}.backward returned a gradient of shape "
                               f"{tuple(grad.shape)} for an input of shape {tuple(shape)}")
    if grad.dtype != dtype:
        grad = grad.to(dtype)
    return grad


class _DelayedError(Function):
    """Stands behind gradients computed by a backward that is not itself differentiable, so
    that differentiating them again fails loudly instead of silently giving zero."""

    def __init__(self, op_name):
        self.op_name = op_name
        self._edges, self.num_outputs = (), 1

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"{ctx.op_name}: this operation's backward is not differentiable, so "
                           "it does not support double backward (create_graph=True)")


def _not_differentiable_again(grad, node):
    if grad is None:
        return None
    array = grad.array if isinstance(grad, Tensor) else np.asarray(grad)
    return Tensor._make(array, _DelayedError(type(node).__name__), 0)


def _accumulate_leaf(leaf_grads, leaf, grad):
    entry = leaf_grads.get(id(leaf))
    leaf_grads[id(leaf)] = (leaf, grad if entry is None else entry[1] + grad)


def _store_grad(tensor, grad, create_graph, copy=True):
    if not create_graph and copy:
        # A fresh array: the same gradient object may have reached several leaves, and
        # in-place updates of one .grad (clipping, zero_) must not touch the others.
        grad = Tensor._make(np.array(grad.array, copy=True))
    if tensor.grad is None:
        tensor.grad = grad
    elif create_graph:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad.array += grad.array
