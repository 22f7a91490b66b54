"""Shape operations: reshaping, permuting, flipping, rolling, repeating, padding, joining and
splitting tensors.

None of these ops computes anything: each output entry is a copy of one input entry (or a
padding constant), so the op is a linear map ``y = P x`` with a 0/1 matrix ``P`` and its backward
is the transpose, ``dL/dx = P^T dL/dy``. That transpose is again a shape op of this module:
 - reshape, permute, flip and roll are invertible, and ``P^T`` is the inverse op;
 - cropping (narrow, split, unbind, negative padding) and zero padding are adjoint to each
   other, so ``cat`` and ``split``, ``stack`` and ``unbind``, ``narrow`` and ``pad`` are each
   other's backward;
 - replication (repeat, tile, replicate/reflect/circular padding) sends each copy's gradient
   back to its source, where the copies add up.
Every backward is written with the ops of this module, so gradients of gradients work.

Views: as in PyTorch, reshape/view, permute/transpose, narrow, split, chunk and unbind return
arrays that share memory with their input whenever NumPy can make them views; flip, roll,
repeat, pad, cat and stack always copy.
"""
import builtins
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from ._util import coerce, normalize_dim, shape_arg
from .conversion import expand, sum_to_size
from .creation import zeros

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "swapaxes", "swapdims", "t", "permute", "movedim", "repeat", "tile", "flip", "roll",
           "narrow", "pad", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "split",
           "chunk", "unbind"]


# ---------------------------------------------------------------------- argument checking
def _int_tuple(value):
    """An int or a sequence of ints as a tuple of ints."""
    if isinstance(value, (builtins.int, np.integer)):
        return (builtins.int(value),)
    return tuple(builtins.int(v) for v in value)


def _distinct_dims(dims, ndim, op):
    """``dims`` (int or sequence) as non-negative axes, in the given order, each at most once."""
    axes = tuple(normalize_dim(d, ndim, op) for d in _int_tuple(dims))
    repeated = sorted({a for a in axes if axes.count(a) > 1})
    if repeated:
        raise RuntimeError(f"{op}: dim {repeated[0]} appears more than once in dims "
                           f"{list(_int_tuple(dims))}")
    return axes if ndim else ()


def _infer_shape(shape, numel, op, source=None):
    """``shape`` with its one ``-1`` (if any) replaced so that it holds ``numel`` entries."""
    source = source or f"input of size {numel}"
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"{op}: invalid size {n} at index {i} of shape {list(shape)}")
    inferred = [i for i, n in enumerate(shape) if n == -1]
    if len(inferred) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    known = math.prod(n for n in shape if n != -1)
    if inferred:
        if known == 0:
            raise RuntimeError(f"{op}: cannot infer the -1 in shape {list(shape)} for "
                               f"{source}: with a zero-size dimension it could be anything")
        if numel % known == 0:
            shape = shape[:inferred[0]] + (numel // known,) + shape[inferred[0] + 1:]
    if -1 in shape or math.prod(shape) != numel:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for {source}")
    return shape


# ------------------------------------------------------------------------ reshape and views
class Reshape(Function):
    """d reshape(x) = reshape(dx) back to x's shape"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.array.shape
        return x.array.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.input_shape), None


def reshape(x, *shape):
    """``x`` with the same entries in row-major order and a new shape (one size may be -1)."""
    return Reshape.apply(x, _infer_shape(shape_arg(shape), x.array.size, "reshape"))


def view(x, *shape):
    """Same as ``reshape``: NumPy shares memory wherever the strides allow it."""
    return Reshape.apply(x, _infer_shape(shape_arg(shape), x.array.size, "view"))


def flatten(x, start_dim=0, end_dim=-1):
    """Merges dims ``start_dim..end_dim`` into one; a 0-d tensor becomes shape (1,)."""
    if x.ndim == 0:
        return Reshape.apply(x, (1,))
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim}) for a tensor of {x.ndim} dims")
    shape = x.shape
    return Reshape.apply(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


def unflatten(x, dim, sizes):
    """Splits dim ``dim`` into ``sizes`` (one size may be -1)."""
    dim = normalize_dim(dim, x.ndim, "unflatten")
    sizes = _int_tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    sizes = _infer_shape(sizes, x.shape[dim], "unflatten",
                         source=f"dim {dim} of size {x.shape[dim]} of a tensor of shape "
                                f"{tuple(x.shape)}")
    return Reshape.apply(x, x.shape[:dim] + sizes + x.shape[dim + 1:])


def squeeze(x, dim=None):
    """Removes size-1 dims: all of them, or those among ``dim`` (other sizes are kept)."""
    dims = range(x.ndim) if dim is None else _distinct_dims(dim, x.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(x.shape) if not (n == 1 and i in dims))
    return Reshape.apply(x, shape)


def unsqueeze(x, dim):
    """Inserts a size-1 dim at position ``dim`` of the result."""
    dim = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, x.shape[:dim] + (1,) + x.shape[dim:])


def _at_least(x, ndim):
    """``x`` with leading size-1 dims added up to ``ndim`` dims (``atleast_1d``/``_2d``)."""
    if x.ndim >= ndim:
        return x
    return Reshape.apply(x, (1,) * (ndim - x.ndim) + x.shape)


# ------------------------------------------------------------------------------ permuting
class Permute(Function):
    """d permute(x, dims) = permute(dx, inverse of dims)"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims).tolist())
        return np.transpose(x.array, dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, ctx.inverse), None


def permute(x, *dims):
    """Reorders the dims: result dim ``i`` is input dim ``dims[i]``."""
    dims = shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims {list(dims)} for a tensor of "
                           f"{x.ndim} dims (shape {tuple(x.shape)})")
    return Permute.apply(x, _distinct_dims(dims, x.ndim, "permute"))


def transpose(x, dim0, dim1):
    """Swaps dims ``dim0`` and ``dim1``."""
    i, j = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    order = list(range(x.ndim))
    if x.ndim:  # a 0-d tensor accepts dims 0 and -1 and has nothing to swap
        order[i], order[j] = order[j], order[i]
    return Permute.apply(x, tuple(order))


swapaxes = transpose
swapdims = transpose


def t(x):
    """Transposes a matrix; 0-d and 1-D tensors are returned as they are (as a new tensor)."""
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but got shape "
                           f"{tuple(x.shape)} ({x.ndim}-D); use transpose or mT")
    return transpose(x, 0, -1)


def movedim(x, source, destination):
    """Moves dims ``source`` to positions ``destination``; the others keep their order."""
    src = _distinct_dims(source, x.ndim, "movedim")
    dst = _distinct_dims(destination, x.ndim, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {list(_int_tuple(source))} and destination "
                           f"{list(_int_tuple(destination))} must name as many dims")
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    return Permute.apply(x, tuple(s if s is not None else next(rest) for s in order))


# ------------------------------------------------------------------ flipping and rolling
class Flip(Function):
    """d flip(x) = flip(dx)"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x.array, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None


def flip(x, dims):
    """Reverses the order of entries along each of ``dims``."""
    return Flip.apply(x, _distinct_dims(dims, x.ndim, "flip"))


class Roll(Function):
    """d roll(x, shifts) = roll(dx, -shifts)"""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x.array, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def roll(x, shifts, dims=None):
    """Shifts entries cyclically by ``shifts[i]`` along ``dims[i]`` (a repeated dim adds up its
    shifts); without ``dims``, rolls the flattened tensor and restores the shape."""
    shifts = _int_tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, expects one shift, got shifts "
                               f"{list(shifts)}")
        return Roll.apply(x, shifts, None)
    dims = tuple(normalize_dim(d, x.ndim, "roll") for d in _int_tuple(dims))
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dims must align, got {len(shifts)} shifts "
                           f"{list(shifts)} and {len(dims)} dims {list(dims)}")
    if x.ndim == 0:  # a single entry rolls onto itself
        return Roll.apply(x, (0,), None)
    return Roll.apply(x, shifts, dims)


# ----------------------------------------------------------------------------- repeating
class Repeat(Function):
    """d repeat(x) = the sum of dx over all copies of each entry"""

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape = x.array.shape
        ctx.repeats = repeats
        return np.tile(x.array, repeats)

    @staticmethod
    def backward(ctx, grad):
        # Output dim i has size repeats[i] * size[i] and is laid out copy-major, so splitting
        # it into (repeats[i], size[i]) puts the copies on their own axis, summed away.
        sizes = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        copies_apart = tuple(k for r, n in zip(ctx.repeats, sizes) for k in (r, n))
        one_copy = tuple(k for n in sizes for k in (1, n))
        summed = sum_to_size(Reshape.apply(grad, copies_apart), one_copy)
        return Reshape.apply(summed, ctx.input_shape), None


def _repeat(x, repeats, op):
    if builtins.any(r < 0 for r in repeats):
        raise RuntimeError(f"{op}: repeats must be non-negative, got {list(repeats)}")
    return Repeat.apply(x, repeats)


def repeat(x, *sizes):
    """Tiles ``x`` ``sizes[i]`` times along dim i; extra leading sizes add new dims."""
    sizes = shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: got {len(sizes)} repeats {list(sizes)} for a tensor of "
                           f"{x.ndim} dims (shape {tuple(x.shape)}); give at least one per dim")
    return _repeat(x, sizes, "repeat")


def tile(x, dims):
    """``repeat`` where fewer sizes than dims repeat the trailing dims (the others once)."""
    dims = _int_tuple(dims)
    return _repeat(x, (1,) * (x.ndim - len(dims)) + dims, "tile")


# ---------------------------------------------------------------- cropping and padding
class ConstantPad(Function):
    """d pad(x, widths) = pad(dx, -widths): the padding's gradient is dropped, and a crop's
    gradient is zero where the crop cut entries off"""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        array = x.array
        crop = tuple(slice(-builtins.min(before, 0), n + builtins.min(after, 0))
                     for n, (before, after) in zip(array.shape, widths))
        cropped = array[crop]
        if builtins.all(before <= 0 and after <= 0 for before, after in widths):
            return cropped  # a view, like PyTorch's narrow
        shape = tuple(n + before + after for n, (before, after) in zip(array.shape, widths))
        out = np.full(shape, value, dtype=array.dtype)
        out[tuple(slice(builtins.max(before, 0), builtins.max(before, 0) + n)
                  for n, (before, _) in zip(cropped.shape, widths))] = cropped
        return out

    @staticmethod
    def backward(ctx, grad):
        return ConstantPad.apply(grad, tuple((-b, -a) for b, a in ctx.widths), 0), None, None


def _pad_along(ndim, dim, before, after):
    """All-zero padding widths except ``(before, after)`` for ``dim``."""
    return tuple((before, after) if i == dim else (0, 0) for i in range(ndim))


def narrow(x, dim, start, length):
    """Entries ``start .. start + length - 1`` along ``dim`` (``start`` may be negative)."""
    if x.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    dim = normalize_dim(dim, x.ndim, "narrow")
    size = x.shape[dim]
    start, length = builtins.int(start), builtins.int(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {size}")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) is outside dim {dim} "
                           f"of size {size} (shape {tuple(x.shape)})")
    return ConstantPad.apply(x, _pad_along(x.ndim, dim, -start, start + length - size), 0)


_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x, pad, mode="constant", value=None):
    """PyTorch's ``F.pad``: ``pad = (left, right, top, bottom, front, back, ...)`` gives the
    widths for the last dim, then the one before, and so on. Negative widths crop.

    ``constant`` fills with ``value`` (default 0); ``reflect`` mirrors without repeating the
    edge entry; ``replicate`` repeats the edge entry; ``circular`` wraps around. The
    non-constant modes crop first and then pad the cropped tensor, as PyTorch does.
    """
    pad = _int_tuple(pad)
    if mode not in _MODES:
        raise ValueError(f"pad: unknown mode {mode!r}, expected one of {list(_MODES)}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {list(pad)}")
    padded_dims = len(pad) // 2
    if padded_dims > x.ndim:
        raise RuntimeError(f"pad: padding {list(pad)} covers {padded_dims} dims but the input "
                           f"has shape {tuple(x.shape)}")
    widths = ((0, 0),) * (x.ndim - padded_dims) + tuple(
        (pad[2 * k], pad[2 * k + 1]) for k in reversed(range(padded_dims)))
    for dim, (n, (before, after)) in enumerate(zip(x.shape, widths)):
        if n + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) of dim {dim} (size {n}, input "
                               f"shape {tuple(x.shape)}) gives a negative output size")
    if mode == "constant":
        return ConstantPad.apply(x, widths, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"pad: mode {mode!r} doesn't take a value argument, got {value}")
    if builtins.any(before < 0 or after < 0 for before, after in widths):
        x = ConstantPad.apply(x, tuple((builtins.min(b, 0), builtins.min(a, 0))
                                       for b, a in widths), 0)
    for dim, (before, after) in enumerate(widths):
        before, after = builtins.max(before, 0), builtins.max(after, 0)
        if before or after:
            x = _EDGE_PADDERS[mode](x, dim, before, after)
    return x


def _reflect_pad(x, dim, before, after):
    size = x.shape[dim]
    if before >= size or after >= size:
        raise RuntimeError(f"pad: reflect padding ({before}, {after}) must be less than the "
                           f"size {size} of dim {dim} (input shape {tuple(x.shape)})")
    return _cat((flip(narrow(x, dim, 1, before), dim), x,
                 flip(narrow(x, dim, size - 1 - after, after), dim)), dim)


def _replicate_pad(x, dim, before, after):
    size = x.shape[dim]
    if size == 0:
        raise RuntimeError(f"pad: replicate padding needs a non-empty dim {dim} (input shape "
                           f"{tuple(x.shape)})")

    def edge(start, width):
        return expand(narrow(x, dim, start, 1), x.shape[:dim] + (width,) + x.shape[dim + 1:])
    return _cat((edge(0, before), x, edge(size - 1, after)), dim)


def _circular_pad(x, dim, before, after):
    size = x.shape[dim]
    if before > size or after > size:
        raise RuntimeError(f"pad: circular padding ({before}, {after}) wraps around dim {dim} of "
                           f"size {size} more than once (input shape {tuple(x.shape)})")
    return _cat((narrow(x, dim, size - before, before), x, narrow(x, dim, 0, after)), dim)


_EDGE_PADDERS = {"reflect": _reflect_pad, "replicate": _replicate_pad,
                 "circular": _circular_pad}


# ------------------------------------------------------------------------------ joining
def _tensor_list(tensors, op):
    """The tensors to join, checked and promoted to their common dtype."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}: expected a sequence of tensors, got a single Tensor")
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got "
                            f"{type(x).__name__} at position {i}")
    return coerce(*tensors)


def _grads_for_inputs(ctx, grads):
    """``(None for dim, grad per tensor)``, None where a tensor needs no gradient."""
    return (None,) + tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad[1:]))


def _is_legacy_empty(x):
    """PyTorch's cat skips 1-D empty tensors, whatever the other inputs' shapes."""
    return x.array.shape == (0,)


class Cat(Function):
    """d cat(x1, x2, ...) = (dx1, dx2, ...): the output gradient split back into the pieces"""

    @staticmethod
    def forward(ctx, dim, *tensors):
        joined = [x.array for x in tensors if not _is_legacy_empty(x)]
        ctx.dim = dim
        ctx.sizes = [None if _is_legacy_empty(x) else x.array.shape[dim] for x in tensors]
        return np.concatenate(joined or [x.array for x in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(_split(grad, [s for s in ctx.sizes if s is not None], ctx.dim))
        grads = [zeros(0, dtype=grad.dtype) if s is None else next(pieces) for s in ctx.sizes]
        return _grads_for_inputs(ctx, grads)


def _cat(tensors, dim):
    return Cat.apply(dim, *tensors)


def cat(tensors, dim=0):
    """Joins tensors along an existing dim; all other sizes must agree. The dtype is the
    promoted dtype of all inputs. Tensors of shape (0,) are skipped (PyTorch's legacy rule)."""
    tensors = _tensor_list(tensors, "cat")
    for i, x in enumerate(tensors):
        if x.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    joined = [x for x in tensors if not _is_legacy_empty(x)] or tensors[:1]
    first = joined[0]
    dim = normalize_dim(dim, first.ndim, "cat")
    for x in joined[1:]:
        if x.ndim != first.ndim:
            raise RuntimeError(f"cat: tensors must have the same number of dimensions, got "
                               f"{tuple(first.shape)} and {tuple(x.shape)}")
        if x.shape[:dim] + x.shape[dim + 1:] != first.shape[:dim] + first.shape[dim + 1:]:
            raise RuntimeError(f"cat: tensors must have the same shape except in dim {dim}, "
                               f"got {tuple(first.shape)} and {tuple(x.shape)}")
    return _cat(tensors, dim)


concat = cat
concatenate = cat


class Stack(Function):
    """d stack(x1, x2, ...) = unbind(dx)"""

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        return np.stack([x.array for x in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _grads_for_inputs(ctx, Unbind.apply(grad, ctx.dim))


def stack(tensors, dim=0):
    """Joins equally shaped tensors along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    first = tensors[0]
    for i, x in enumerate(tensors[1:], 1):
        if x.shape != first.shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got "
                               f"{tuple(first.shape)} at entry 0 and {tuple(x.shape)} at "
                               f"entry {i}")
    return Stack.apply(normalize_dim(dim, first.ndim + 1, "stack"), *tensors)


def hstack(tensors):
    """Joins along dim 1, or along dim 0 when the (at least 1-D) tensors are 1-D."""
    tensors = [_at_least(x, 1) for x in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Joins along dim 0 after turning 0-d and 1-D tensors into rows."""
    return cat([_at_least(x, 2) for x in _tensor_list(tensors, "vstack")], 0)


# ---------------------------------------------------------------------------- splitting
class Split(Function):
    """d split(x) = cat(dx1, dx2, ...)"""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        ends = np.cumsum(sizes)
        prefix = (slice(None),) * dim
        return tuple(x.array[prefix + (slice(end - size, end),)]
                     for size, end in zip(sizes, ends.tolist()))

    @staticmethod
    def backward(ctx, *grads):
        return _cat(grads, ctx.dim), None, None


def _split(x, sizes, dim):
    return Split.apply(x, tuple(sizes), dim)


def _split_dim(x, dim, op):
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expects at least a 1-dimensional tensor")
    return normalize_dim(dim, x.ndim, op)


def _equal_sizes(total, size):
    """Pieces of ``size`` covering ``total``, the last one smaller if needed."""
    return [size] * (total // size) + ([total % size] if total % size else [])


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``split_size_or_sections`` entries along ``dim`` (the last one may be
    smaller), or pieces of the listed sizes, which must add up to the dim's size."""
    dim = _split_dim(x, dim, "split")
    total = x.shape[dim]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        size = builtins.int(split_size_or_sections)
        if size < 0 or (size == 0 and total):
            raise RuntimeError(f"split: split_size must be positive (0 only for an empty dim), "
                               f"got {size} for dim {dim} of size {total}")
        return _split(x, _equal_sizes(total, size) if total else [0], dim)
    sizes = _int_tuple(split_size_or_sections)
    if builtins.any(s < 0 for s in sizes) or builtins.sum(sizes) != total:
        raise RuntimeError(f"split: split sizes {list(sizes)} must be non-negative and add up "
                           f"to the size {total} of dim {dim} (shape {tuple(x.shape)})")
    return _split(x, sizes, dim)


def chunk(x, chunks, dim=0):
    """Splits into ``chunks`` pieces of ``ceil(size / chunks)`` entries (the last one smaller);
    so there may be fewer than ``chunks`` pieces. An empty dim gives ``chunks`` empty pieces."""
    dim = _split_dim(x, dim, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects chunks to be greater than 0, got {chunks}")
    total = x.shape[dim]
    if total == 0:
        return _split(x, [0] * chunks, dim)
    return _split(x, _equal_sizes(total, -(-total // chunks)), dim)


class Unbind(Function):
    """d unbind(x) = stack(dx1, dx2, ...)"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(np.moveaxis(x.array, dim, 0))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(ctx.dim, *grads), None


def unbind(x, dim=0):
    """The slices along ``dim``, each without that dim."""
    return Unbind.apply(x, _split_dim(x, dim, "unbind"))
