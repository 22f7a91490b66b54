"""``Function``: one differentiable operation, forward and backward side by side.

Every op in retrograd is a subclass::

    class Mul(Function):
        '''d(x*y) = y dx + x dy'''

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x.array * y.array          # arrays in, arrays out: fast

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x         # tensor ops: differentiable again

``forward`` receives the op's arguments as given (tensors stay tensors) and returns NumPy arrays
(or tensors, as user-defined functions in PyTorch's style do). ``backward`` receives one gradient
tensor per output and returns one gradient per forward argument (``None`` where there is none).
Because ``backward`` is written with tensor operations, the engine can run it with recording on
(``create_graph=True``) and obtain gradients of gradients for free.

The instance created by ``apply`` is both PyTorch's ``ctx`` and the graph node (``grad_fn``):
it holds the edges to its inputs, what ``forward`` saved, and nothing else. It never references
its outputs, so dropping the last output frees the whole graph behind it.
"""
import numpy as np

from . import grad_mode

class Function:
    """Base class of differentiable operations (see the module docstring)."""

    # Set per node by ``apply``:
    #   _edges             one entry per argument: None if it wants no gradient, else
    #                      (target, output_nr, shape, dtype, target_is_node), where target is the
    #                      node that produced the argument or the leaf tensor itself, and
    #                      shape/dtype are the argument's, to which the engine reduces each
    #                      incoming gradient (broadcasting and type promotion undone here once)
    #   needs_input_grad   which arguments want a gradient (ops may skip the others)
    #   num_outputs        how many tensors forward produced
    # True for ops whose backward computes on raw arrays: with create_graph=True their gradients
    # are marked so that differentiating them again raises instead of giving wrong zeros.
    once_differentiable = False
    # Ops whose backward can work in place on its incoming gradient set reuses_grad; the
    # engine then sets grad_is_exclusive while backward runs (not recorded) with a gradient
    # whose array nothing else refers to, which backward may overwrite and return.
    reuses_grad = False
    grad_is_exclusive = False
    # Likewise, ops whose backward can overwrite what forward saved set reuses_saved; the engine
    # sets saved_is_disposable while backward runs when the graph is not retained (the saved
    # tensors are dropped right after it).
    reuses_saved = False
    saved_is_disposable = False
    # False (``set_materialize_grads``): backward receives None for an unused output's gradient.
    materialize_grads = True
    _pre_hooks = None  # {output_nr: [hook]} from Tensor.register_hook on an output
    _retained = None   # {output_nr: weakref to output} from Tensor.retain_grad
    _saved = _saved_versions = ()
    _edges = ()

    def set_materialize_grads(self, value):
        """PyTorch's ``ctx.set_materialize_grads``: with False, the gradient of an output that
        was not used reaches backward as None instead of a tensor of zeros."""
        self.materialize_grads = bool(value)

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = [None if t is None else t._version for t in tensors]

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time (or "
                "to use saved tensors after they were freed). The graph's saved tensors are freed "
                "after backward(); call backward(retain_graph=True) the first time if you need to "
                "backward through it again.")
        for t, version in zip(saved, self._saved_versions):
            if version is not None and t._version != version:
                raise RuntimeError(
                    f"{type(self).__name__}: one of the tensors needed for gradient computation "
                    f"(shape {tuple(t.shape)}) has been modified by an in-place operation: it was "
                    f"saved at version {version} and is now at version {t._version}. Use an "
                    "out-of-place operation (e.g. x = x + 1 instead of x += 1).")
        return saved

    def save_output(self, array, output_nr=0):
        """Keeps an output's array for backward (e.g. exp, tanh, sigmoid reuse their result).

        The node keeps the array, not the output tensor: a tensor refers to its node, so a node
        referring to its tensor would be a reference cycle that delays freeing the graph.
        """
        self._output = (array, output_nr)

    @property
    def saved_output(self):
        """The saved output as a tensor. When backward itself is being recorded
        (``create_graph=True``) it is attached to this node, so that gradients of the gradient
        flow through it back to the inputs."""
        if self._saved is None:
            self.saved_tensors  # raises the freed-graph error
        array, output_nr = self._output
        if grad_mode._state.enabled:
            return Tensor._make(array, self, output_nr)
        return Tensor._make(array)

    def mark_non_differentiable(self, *tensors):
        """PyTorch's ctx API: integer and boolean outputs are non-differentiable anyway."""
        self._non_differentiable = {id(t) for t in tensors}

    def release(self):
        """Drops saved tensors after backward; the node can no longer run backward."""
        self._saved = None
        self._output = None

    @property
    def next_edges(self):
        """(node or leaf, output_nr) for each argument wanting a gradient, else None."""
        return tuple(None if e is None else (e[0], e[1]) for e in self._edges)

    @property
    def next_functions(self):
        return tuple(edge if edge is not None else (None, 0) for edge in self.next_edges)

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    # Subclasses define these two.
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # This runs for every op, so it is written for speed rather than brevity: one and two
        # arguments, the common cases, are unrolled.
        node = cls.__new__(cls)
        arity = len(args)
        if arity == 2:
            a, b = args
            needs = (isinstance(a, Tensor) and a._requires_grad,
                     isinstance(b, Tensor) and b._requires_grad)
        elif arity == 1:
            a = args[0]
            needs = (isinstance(a, Tensor) and a._requires_grad,)
        else:
            needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
        node.needs_input_grad = needs
        state = grad_mode._state
        if state.enabled:
            # Forward never records: a user-defined forward may use tensor ops, which must
            # not build a graph of their own.
            state.enabled = False
            try:
                raw = cls.forward(node, *args, **kwargs)
            finally:
                state.enabled = True
            record = True in needs
        else:
            raw = cls.forward(node, *args, **kwargs)
            record = False

        if not record:
            if type(raw) is np.ndarray:
                return Tensor._make(raw)
            if type(raw) is tuple:
                return tuple(_wrap_output(r, None, i) for i, r in enumerate(raw))
            return _wrap_output(raw, None, 0)

        if arity == 2:
            node._edges = (_edge(a) if needs[0] else None, _edge(b) if needs[1] else None)
        elif arity == 1:
            node._edges = (_edge(a),)
        else:
            node._edges = tuple([_edge(a) if need else None for a, need in zip(args, needs)])
        if type(raw) is tuple:
            node.num_outputs = len(raw)
            node.output_meta = tuple((_array_of(r).shape, _array_of(r).dtype) for r in raw)
            return tuple(_wrap_output(r, node, i) for i, r in enumerate(raw))
        node.num_outputs = 1
        if type(raw) is np.ndarray and raw.dtype.kind in "fc":
            return Tensor._make(raw, node, 0)
        return _wrap_output(raw, node, 0)


def _edge(tensor):
    """The edge to an argument that wants a gradient (see ``Function._edges``)."""
    array = tensor.array
    if tensor.grad_fn is not None:
        return (tensor.grad_fn, tensor._output_nr, array.shape, array.dtype, True)
    return (tensor, 0, array.shape, array.dtype, False)


def _array_of(raw):
    return raw.array if isinstance(raw, Tensor) else np.asarray(raw)


def _wrap_output(raw, node, output_nr):
    if raw is None:
        return None
    data = raw.array if isinstance(raw, Tensor) else raw
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    differentiable = (node is not None and data.dtype.kind in "fc"
                      and id(raw) not in getattr(node, "_non_differentiable", ()))
    if differentiable:
        return Tensor._make(data, node, output_nr)
    return Tensor._make(data, None, 0)


from ..tensor import Tensor  # noqa: E402  (tensor.py imports this module's users lazily)
