"""``Tensor``: a NumPy array plus what backpropagation needs to know about it.

A tensor produced by an operation on tensors that require gradients remembers the operation's
node in ``grad_fn``; following ``grad_fn.next_edges`` from a loss walks the whole computation
back to the leaves (tensors created by the user, e.g. parameters). ``backward()`` hands that
walk to ``retrograd.autograd.engine``.

The array is ``tensor.array`` (no copy). ``tensor.data`` is, as in PyTorch, a tensor that shares
the array but is cut off from the graph.

In-place operations (``add_``, ``x += y``, ``x[i] = v``, ...):
 - on a tensor that needs no gradient, or under ``no_grad()``, they modify the array in place;
 - on a leaf that requires grad, with recording on, they raise (as in PyTorch);
 - on a tensor inside a recorded graph, they compute the new value out of place and rebind
   the tensor to it (its ``grad_fn`` becomes the new op's).
Each in-place change bumps ``_version``; a node whose saved tensor changed refuses to run
backward and names itself (see ``Function.saved_tensors``).
"""
import weakref

import numpy as np

from . import _dtype


class Tensor:
    __slots__ = ("array", "grad", "grad_fn", "_requires_grad", "_output_nr", "_version",
                 "_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, *args, requires_grad=False):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` (uninitialised, here zeros) or
        ``Tensor(data)``, always of the default floating dtype. Prefer ``rg.tensor``."""
        if args and all(isinstance(a, (int, np.integer)) for a in args):
            array = np.zeros(args, dtype=_dtype.get_default_dtype())
        elif len(args) == 1:
            data = args[0].array if isinstance(args[0], Tensor) else args[0]
            array = np.array(data, dtype=_dtype.get_default_dtype())
        elif not args:
            array = np.zeros((0,), dtype=_dtype.get_default_dtype())
        else:
            raise TypeError(f"Tensor(): expected sizes or one array-like, got {args!r}")
        self._init(array, None, 0)
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, array, grad_fn, output_nr):
        self.array = array
        self.grad = None
        self.grad_fn = grad_fn
        self._requires_grad = grad_fn is not None
        self._output_nr = output_nr
        self._version = 0
        self._hooks = None

    @classmethod
    def _make(cls, array, grad_fn=None, output_nr=0):
        """Wraps an ndarray without copying (the fast path used by every op)."""
        t = object.__new__(cls)
        t.array = array
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._output_nr = output_nr
        t._version = 0
        t._hooks = None
        return t

    # ----------------------------------------------------------------- autograd attributes
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "requires_grad_: you can only change requires_grad flags of leaf tensors; "
                    "use .detach() to get a tensor that does not require grad")
            return self
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad_: only floating point tensors can require gradients, "
                f"got dtype {self.array.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        return Tensor._make(self.array)

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else np.asarray(value)
        self._version += 1

    def detach(self):
        return Tensor._make(self.array)

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagates from this tensor, accumulating into the ``.grad`` of leaves."""
        from .autograd import engine
        engine.backward([self], None if gradient is None else [gradient],
                        retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed; a
        returned tensor replaces the gradient."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self.grad_fn.__dict__.setdefault("_pre_hooks", {}).setdefault(
                self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that has "
                               "requires_grad=False")
        if self.grad_fn is not None:
            retained = self.grad_fn.__dict__.setdefault("_retained", {})
            retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        retained = getattr(self.grad_fn, "_retained", None)
        return bool(retained) and self._output_nr in retained

    # ------------------------------------------------------------------------- metadata
    @property
    def shape(self):
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def device(self):
        from .device import device_of
        return device_of(self)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def dim(self):
        return self.array.ndim

    def size(self, dim=None):
        if dim is None:
            return self.array.shape
        return self.array.shape[dim]

    def numel(self):
        return self.array.size

    def nelement(self):
        return self.array.size

    def element_size(self):
        return self.array.itemsize

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    # ---------------------------------------------------------------------- conversions
    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item(): a Tensor with {self.array.size} elements cannot be "
                               "converted to a Python scalar")
        return self.array.reshape(()).item()

    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("numpy(): can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy() instead")
        return self.array

    def tolist(self):
        return self.array.tolist()

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("can't convert a tensor that requires grad to a NumPy array; "
                               "use tensor.detach().numpy() instead")
        return self.array if dtype is None else self.array.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of a Tensor with {self.array.size} elements is "
                               "ambiguous")
        return bool(self.array.reshape(()))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        """PyTorch's layout: ``tensor([0.5000, 1.2500], dtype=retrograd.float64,
        grad_fn=<MulBackward>)``; the dtype is shown when the values do not imply it."""
        array, default = self.array, _dtype.get_default_dtype()
        extras = []
        if array.size == 0:
            body = "[]"
            if array.ndim != 1:
                extras.append(f"size={array.shape}")
            if array.dtype != default:
                extras.append(f"dtype=retrograd.{_dtype.name_of(array.dtype)}")
        else:
            body = np.array2string(array, separator=", ", prefix="tensor(", precision=4,
                                   threshold=1000, edgeitems=3, max_line_width=80,
                                   formatter=_element_formatter(array))
            implied = (default, np.promote_types(default, np.complex64), np.int64, np.bool_)
            if array.dtype not in implied:
                extras.append(f"dtype=retrograd.{_dtype.name_of(array.dtype)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only tensors created by the user (graph leaves) "
                               "support the deepcopy protocol; use .detach().clone()")
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new._init(self.array.copy(), None, 0)
        new._requires_grad = self._requires_grad
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def __getstate__(self):
        raise TypeError("retrograd tensors are not pickled; use retrograd.save(), which writes "
                        "a safe format")

    # --------------------------------------------------------------------- in-place ops
    def _check_inplace(self, op):
        if self.grad_fn is None and self._requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad is being used in an in-place "
                "operation; wrap it in `with retrograd.no_grad():` (e.g. for parameter updates)")

    def _inplace(self, op, compute, *others):
        """Runs ``compute`` (an out-of-place op) and stores its result in ``self``."""
        self._check_inplace(op)
        records = grad_mode.is_grad_enabled() and (
            self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad
                                       for o in others))
        result = compute()
        if records:
            self.array = result.array
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self._requires_grad = result._requires_grad
        else:
            if result.array.shape != self.array.shape:
                raise RuntimeError(f"{op}: output with shape {self.array.shape} doesn't match "
                                   f"the broadcast shape {result.array.shape}")
            if result.array.dtype != self.array.dtype and not np.can_cast(
                    result.array.dtype, self.array.dtype, "same_kind"):
                raise RuntimeError(f"{op}: result type {result.array.dtype} can't be cast to "
                                   f"the desired output type {self.array.dtype}")
            np.copyto(self.array, result.array, casting="unsafe")
        self._version += 1
        return self

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        self.array[...] = value.array if isinstance(value, Tensor) else value
        self._version += 1
        return self

    def copy_(self, src):
        return self._inplace("copy_", lambda: _ops.broadcast_to(
            _ops.as_tensor_like(src, self).to(self.array.dtype), self.array.shape), src)

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda: self + (other if alpha == 1 else other * alpha),
                             other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda: self - (other if alpha == 1 else other * alpha),
                             other)

    def mul_(self, other):
        return self._inplace("mul_", lambda: self * other, other)

    def div_(self, other):
        return self._inplace("div_", lambda: self / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda: self ** exponent, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda: _ops.clamp(self, min, max))

    clip_ = clamp_

    def neg_(self):
        return self._inplace("neg_", lambda: -self)

    def exp_(self):
        return self._inplace("exp_", lambda: _ops.exp(self))

    def sqrt_(self):
        return self._inplace("sqrt_", lambda: _ops.sqrt(self))

    def abs_(self):
        return self._inplace("abs_", lambda: _ops.abs(self))

    def relu_(self):
        return self._inplace("relu_", lambda: _ops.relu(self))

    def sigmoid_(self):
        return self._inplace("sigmoid_", lambda: _ops.sigmoid(self))

    def tanh_(self):
        return self._inplace("tanh_", lambda: _ops.tanh(self))

    def addcmul_(self, tensor1, tensor2, value=1):
        return self._inplace("addcmul_", lambda: self + tensor1 * tensor2 * value,
                             tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return self._inplace("addcdiv_", lambda: self + tensor1 / tensor2 * value,
                             tensor1, tensor2)

    def lerp_(self, end, weight):
        return self._inplace("lerp_", lambda: self + (end - self) * weight, end, weight)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda: _ops.masked_fill(self, mask, value), value)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .random import uniform_array
        return self._fill_random("uniform_", uniform_array(self.shape, a, b, generator))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .random import normal_array
        return self._fill_random("normal_", normal_array(self.shape, mean, std, generator))

    def bernoulli_(self, p=0.5, generator=None):
        from .random import uniform_array
        return self._fill_random("bernoulli_", uniform_array(self.shape, 0.0, 1.0, generator) < p)

    def _fill_random(self, op, values):
        self._check_inplace(op)
        self.array[...] = values
        self._version += 1
        return self

    def unsqueeze_(self, dim):
        return self._inplace_view("unsqueeze_", lambda: _ops.unsqueeze(self, dim))

    def squeeze_(self, dim=None):
        return self._inplace_view("squeeze_", lambda: _ops.squeeze(self, dim))

    def resize_(self, *shape):
        return self._inplace_view("resize_", lambda: _ops.reshape(self, *shape))

    def _inplace_view(self, op, compute):
        """Gives ``self`` the shape of ``compute()`` (a view op), keeping its identity."""
        self._check_inplace(op)
        result = compute()
        self.array = result.array
        if result.grad_fn is not None:
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self._version += 1
        return self

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __setitem__(self, index, value):
        self._inplace("__setitem__", lambda: _ops.index_put(self, index, value), value)

    # ------------------------------------------------------------------------ operators
    def __radd__(self, other):
        return _ops.add(other, self)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.logical_not(self) if self.dtype == np.bool_ else _ops.bitwise_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __xor__(self, other):
        return _ops.logical_xor(self, other)

    def __eq__(self, other):
        if other is None:
            return False
        return _ops.eq(self, other)

    def __ne__(self, other):
        if other is None:
            return True
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # ---------------------------------------------------------- methods (see retrograd.ops)
    def clone(self):
        return _ops.clone(self)

    def contiguous(self):
        return self

    def astype(self, dtype):
        return _ops.to_dtype(self, dtype)

    def to(self, *args, **kwargs):
        return _ops.to(self, *args, **kwargs)

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else _ops.to_dtype(self, dtype)

    def type_as(self, other):
        return _ops.to_dtype(self, other.dtype)

    def float(self):
        return _ops.to_dtype(self, np.float32)

    def double(self):
        return _ops.to_dtype(self, np.float64)

    def half(self):
        return _ops.to_dtype(self, np.float16)

    def long(self):
        return _ops.to_dtype(self, np.int64)

    def int(self):
        return _ops.to_dtype(self, np.int32)

    def bool(self):
        return _ops.to_dtype(self, np.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        return _ops.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return _ops.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return _ops.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return _ops.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        return _ops.full(size, fill_value, dtype=dtype or self.dtype,
                         requires_grad=requires_grad)

    # elementwise
    def add(self, other, alpha=1):
        return _ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other, rounding_mode=None):
        return _ops.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def neg(self):
        return _ops.neg(self)

    def exp(self):
        return _ops.exp(self)

    def expm1(self):
        return _ops.expm1(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def log2(self):
        return _ops.log2(self)

    def log10(self):
        return _ops.log10(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def square(self):
        return _ops.square(self)

    def abs(self):
        return _ops.abs(self)

    def sign(self):
        return _ops.sign(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, decimals=0):
        return _ops.round(self, decimals=decimals)

    def trunc(self):
        return _ops.trunc(self)

    def clamp(self, min=None, max=None):
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def softmax(self, dim, dtype=None):
        return _ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return _ops.log_softmax(self, dim, dtype=dtype)

    # comparisons and predicates (no gradient)
    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def equal(self, other):
        return _ops.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _ops.allclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def logical_not(self):
        return _ops.logical_not(self)

    def logical_and(self, other):
        return _ops.logical_and(self, other)

    def logical_or(self, other):
        return _ops.logical_or(self, other)

    # reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return _ops.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim=None, keepdim=False):
        return _ops.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _ops.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _ops.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return _ops.norm(self, p, dim, keepdim)

    def cumsum(self, dim):
        return _ops.cumsum(self, dim)

    def all(self, dim=None, keepdim=False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _ops.any(self, dim, keepdim)

    # shape
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return _ops.to_dtype(self, shape[0])  # view(dtype)
        return _ops.view(self, *shape)

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _ops.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return _ops.transpose(self, dim0, dim1)

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        return _ops.t(self)

    @property
    def T(self):
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        if self.ndim < 2:
            raise RuntimeError(f"mT: expected a matrix or a batch of matrices, got a tensor of "
                               f"shape {tuple(self.shape)}")
        return _ops.transpose(self, -2, -1)

    def permute(self, *dims):
        return _ops.permute(self, *dims)

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    def expand(self, *sizes):
        return _ops.expand(self, *sizes)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def sum_to_size(self, *size):
        return _ops.sum_to_size(self, *size)

    def repeat(self, *sizes):
        return _ops.repeat(self, *sizes)

    def tile(self, *dims):
        return _ops.tile(self, _ops.shape_arg(dims))

    def flip(self, *dims):
        return _ops.flip(self, _ops.shape_arg(dims))

    def narrow(self, dim, start, length):
        return _ops.narrow(self, dim, start, length)

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _ops.unbind(self, dim)

    # indexing
    def index_select(self, dim, index):
        return _ops.index_select(self, dim, index)

    def gather(self, dim, index):
        return _ops.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, value=None):
        return _ops.scatter(self, dim, index, src, value=value)

    def index_add(self, dim, index, source, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_put(self, indices, values, accumulate=False):
        return _ops.index_put(self, indices, values, accumulate=accumulate)

    def take(self, index):
        return _ops.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    def masked_select(self, mask):
        return _ops.masked_select(self, mask)

    def scatter_(self, dim, index, src=None, value=None):
        return self._inplace("scatter_", lambda: _ops.scatter(self, dim, index, src,
                                                              value=value), src)

    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda: _ops.scatter_add(self, dim, index, src),
                             src)

    def index_add_(self, dim, index, source, alpha=1):
        return self._inplace("index_add_", lambda: _ops.index_add(self, dim, index, source,
                                                                  alpha=alpha), source)

    def index_put_(self, indices, values, accumulate=False):
        return self._inplace("index_put_", lambda: _ops.index_put(
            self, indices, values, accumulate=accumulate), values)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.topk(self, k, dim, largest, sorted)

    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.argsort(self, dim, descending, stable=stable)

    def nonzero(self, as_tuple=False):
        return _ops.nonzero(self, as_tuple=as_tuple)

    # linear algebra
    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def bmm(self, other):
        return _ops.bmm(self, other)

    def dot(self, other):
        return _ops.dot(self, other)

    def outer(self, other):
        return _ops.outer(self, other)


def _element_formatter(array):
    """NumPy ``formatter`` printing elements as PyTorch does. Floats: integer values as ``3.``,
    values spanning more than three orders of magnitude (or beyond 1e8, or below 1e-4) as
    ``1.2346e+05``, others as ``0.1235``; padded to the width of the widest finite non-zero
    value. Booleans: padded only when there is a ``False``. None for other dtypes."""
    if array.dtype == np.bool_:
        width = 4 if array.all() else 5
        return {"bool": lambda value: str(value).rjust(width)}
    if array.dtype.kind != "f":
        return None
    finite = array[np.isfinite(array)].astype(np.float64)
    integral = bool(np.all(finite == np.round(finite)))
    nonzero = finite[finite != 0]
    magnitudes = np.abs(nonzero)
    scientific = bool(nonzero.size) and (
        magnitudes.max() / magnitudes.min() > 1000.0 or magnitudes.max() > 1e8
        or (not integral and magnitudes.min() < 1e-4))

    def text(value):
        if scientific:
            return f"{value:.4e}"
        if integral:
            return f"{value:.0f}." if np.isfinite(value) else f"{value:.0f}"
        return f"{value:.4f}"

    # The widest text is that of a value of largest or smallest magnitude, of either sign.
    candidates = [extreme(side) for side in (nonzero[nonzero > 0], nonzero[nonzero < 0])
                  if side.size for extreme in (np.min, np.max)]
    width = max([1] + [len(text(value)) for value in candidates])
    return {"float_kind": lambda value: text(value).rjust(width)}


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# Imported after the class: these modules build on Tensor, and Tensor's methods call them.
from .autograd import grad_mode  # noqa: E402
from . import ops as _ops  # noqa: E402

# The arithmetic operators are the op functions themselves: one Python call less on the
# hottest path of every model.
Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = (
    _ops.add, _ops.sub, _ops.mul, _ops.div)
