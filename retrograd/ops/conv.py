"""Convolutions as matrix products (im2col).

A 2-D convolution of x (N, C, H, W) with weights w (O, C, KH, KW) is, at every output pixel,
the dot product of w with the KH x KW patch of x under it. Gathering one sample's patches into
a matrix ``cols`` of shape (C*KH*KW, OH*OW) turns its convolution into one GEMM,
``w.reshape(O, -1) @ cols``, whose result is already that sample's (O, OH, OW) output. The patch
matrices are built with strided copies (never a Python loop over pixels), and their adjoint
``col2im`` adds patch gradients back with strided additions.

Backward of out = W cols:  dW = sum over samples of dout cols^T,  dcols = W^T dout,
dx = col2im(dcols).

Measured choices that make this fast (see docs/performance.md):
 - The patch matrices are KH*KW times the size of the input, so they are built a slice of the
   batch at a time into one reused buffer of about 2 MiB, which stays in cache between being
   written and being multiplied; they are not kept for backward (the weight gradient builds
   them again), so a step's memory no longer holds them either.
 - With stride 1, kernel offset (i, j) shifts the whole flattened image plane by
   ``i * dilation * Wp + j * dilation``, so its patch row is one contiguous run of the plane
   ("wide" patches, computed at every column of the padded width Wp: the last Wp - OW columns
   of each output row wrap into the next row and are dropped). Long runs copy several times
   faster than OW-long pieces; the price is one extra copy of the output, so this layout is
   used where the patches outweigh the output (C*KH*KW >= O). All KH*KW runs are then one
   strided view of the plane, copied in one call; and col2im is one sum over a strided view
   of the patch gradients, which are kept between zero margins so that every kernel offset
   reads a value (zero where it does not reach) at every input position. One NumPy call
   instead of KH*KW matters most on several threads, which hand the interpreter lock to
   each other at every call.
 - groups == 1 multiplies one matrix by a stack (no batching over groups).
 - The scratch buffers (patches, products) are kept per thread and reused by the next call:
   a fresh multi-megabyte array costs a page fault per 4 KiB page when first written, which
   measured as much as the copies themselves on small batches.
 - The slices of the batch are independent, so with several threads (``set_num_threads``)
   they are shared out and run at once (retrograd/threads.py), each thread with buffers of its
   own. The weight gradient adds up the threads' parts in a fixed order: results depend on the
   thread count, never on timing.

A transposed convolution is the adjoint of a convolution: its forward is a convolution's
input-gradient and its backward a convolution's forward, so it reuses the same kernels.
With groups, channels split into independent blocks and the GEMMs are batched over them.
"""
import copy as _copy
import math
import threading
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import threads
from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

# Bytes of patch matrix built at a time (see the module docstring).
_CHUNK_BYTES = 2 ** 21
# Patch matrix per thread below which more threads are slower (measured on two: 8 MiB of
# patches were not worth splitting): waking a thread and handing the interpreter lock back and
# forth cost more than they save.
_BYTES_PER_WORKER = 2 * _CHUNK_BYTES


class _Workspace(threading.local):
    """Scratch buffers kept between calls, one per role and thread (see the module docstring).
    Buffers larger than a few chunks (one huge sample) are not kept."""

    largest_kept = 8 * _CHUNK_BYTES

    def __init__(self):
        self.buffers = {}

    def get(self, role, shape, dtype):
        """An uninitialized array of ``shape``, valid until ``role`` is asked for again."""
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        if size > self.largest_kept:
            return np.empty(shape, dtype)
        buffer = self.buffers.get(role)
        if buffer is None or buffer.nbytes < size:
            buffer = self.buffers[role] = np.empty(size, np.uint8)
        return buffer[:size].view(dtype).reshape(shape)


_workspace = _Workspace()


class _Geometry(NamedTuple):
    groups: int
    pads: tuple      # (top, bottom, left, right); negative amounts crop
    stride: tuple
    dilation: tuple


def _pair(value, op, name, minimum=None):
    """An int or a pair of ints as a pair, checked against ``minimum`` (strides, dilations and
    kernels must be positive, paddings non-negative)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair, got {value!r}")
        pair = int(value[0]), int(value[1])
    else:
        pair = int(value), int(value)
    if minimum is not None and min(pair) < minimum:
        raise RuntimeError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def _output_size(size, kernel, stride, pad_total, dilation):
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def _pad(x, pads):
    """Pads (top, bottom, left, right) with zeros; a negative amount crops instead."""
    if not any(pads):
        return x
    top, bottom, left, right = pads
    h, w = x.shape[2:]
    x = x[:, :, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    top, bottom, left, right = (max(p, 0) for p in pads)
    if not (top or bottom or left or right):
        return x
    # Zeros written to the border only, and the input into the middle: np.pad does the same
    # with about 0.1 ms of Python around it, once per convolution forward and backward.
    n, c, h, w = x.shape
    out = np.empty((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    out[:, :, :top] = 0
    out[:, :, top + h:] = 0
    out[:, :, top:top + h, :left] = 0
    out[:, :, top:top + h, left + w:] = 0
    out[:, :, top:top + h, left:left + w] = x
    return out


def _crop(xp, pads):
    """The adjoint of _pad: removes what _pad added (and pads back what it cropped)."""
    return _pad(xp, tuple(-p for p in pads))


def _pad_shape(shape, pads):
    n, c, h, w = shape
    return n, c, h + pads[0] + pads[1], w + pads[2] + pads[3]


class _Patches:
    """Patch matrices of a padded input of shape ``padded_shape`` (N, C, Hp, Wp), a slice of the
    batch at a time, as (n, G, C/G*KH*KW, positions) arrays. ``positions`` is OH*OW, or OH*Wp
    for wide patches (see the module docstring); ``spread`` and ``narrow`` convert gradients
    and outputs between (n, O, OH, OW) and that layout."""

    def __init__(self, padded_shape, w_shape, geometry, dtype):
        n, c, hp, wp = padded_shape
        o, cg, kh, kw = w_shape
        self.kernel, self.geometry, self.dtype = (kh, kw), geometry, np.dtype(dtype)
        self.out_size = tuple(_output_size(size, k, s, 0, d) for size, k, s, d in
                              zip((hp, wp), self.kernel, geometry.stride, geometry.dilation))
        self.wide = geometry.stride == (1, 1) and c * kh * kw >= o
        self.width = wp if self.wide else self.out_size[1]
        self.positions = self.out_size[0] * self.width
        self.rows = cg * kh * kw  # per group
        per_sample = c * kh * kw * self.positions * self.dtype.itemsize
        per = min(max(1, _CHUNK_BYTES // max(per_sample, 1)), max(n, 1))
        workers = threads.worker_count(n, n * per_sample, _BYTES_PER_WORKER)
        count = -(-n // per)
        count = -(-count // workers) * workers  # so that the threads get equal shares
        per = self.per = -(-n // count) if n else 1
        slices = [slice(start, min(start + per, n)) for start in range(0, n, per)]
        share = -(-len(slices) // workers) if slices else 1
        self.shares = [slices[start:start + share]
                       for start in range(0, len(slices), share)] or [[]]
        self._cols = None
        self._planes = None    # wide: one slice of the input, a zero row below each plane
        self._wide_grad = None  # wide: a slice of the output gradient, zeros where dropped
        self._dcols = None      # patch gradients (wide: between zero margins)

    def for_thread(self):
        """A copy with scratch buffers of its own, for another thread."""
        copy = _copy.copy(self)
        copy._cols = copy._planes = copy._wide_grad = copy._dcols = None
        return copy

    def in_parallel(self, run_share):
        """``[run_share(patches, slices) for each share of the batch's slices]``, the shares
        running at once on as many threads, each with its own patch buffers (the calling
        thread, which runs the first share, uses these)."""
        return threads.in_parallel(
            lambda numbered: run_share(self if numbered[0] == 0 else self.for_thread(),
                                       numbered[1]),
            list(enumerate(self.shares)))

    def build(self, xp, batch):
        """The patch matrices of xp[batch], valid until the next call."""
        count = batch.stop - batch.start
        c = xp.shape[1]
        if self._cols is None:
            self._cols = _workspace.get(
                "cols", (self.per, c) + self.kernel + (self.out_size[0], self.width), self.dtype)
        cols = self._cols[:count]
        if self.wide:
            hp, wp = xp.shape[2:]
            if self._planes is None:  # the zero row lets the largest shift run past the end
                self._planes = _workspace.get("planes", (self.per, c, hp + 1, wp), self.dtype)
                self._planes[:, :, hp:] = 0
            self._planes[:count, :, :hp] = xp[batch]
            flat = self._planes[:count].reshape(count, c, -1)
            # Every kernel offset's run of the plane at once, as one strided view.
            (dh, dw), step = self.geometry.dilation, flat.itemsize
            runs = as_strided(flat, (count, c) + self.kernel + (self.positions,),
                              flat.strides[:2] + (dh * wp * step, dw * step, step),
                              writeable=False)
            cols.reshape(runs.shape)[...] = runs
        else:
            source = xp[batch]
            for i in range(self.kernel[0]):
                for j in range(self.kernel[1]):
                    cols[:, :, i, j] = self._offset_view(source, i, j)
        return cols.reshape(count, self.geometry.groups, self.rows, self.positions)

    def _offset_view(self, array, i, j):
        """What kernel offset (i, j) sees of every output pixel: array[..., rows, cols]."""
        (sh, sw), (dh, dw), (oh, ow) = self.geometry.stride, self.geometry.dilation, self.out_size
        return array[..., i * dh:i * dh + sh * (oh - 1) + 1:sh,
                     j * dw:j * dw + sw * (ow - 1) + 1:sw]

    def _margin(self):
        """Wide patches: the largest shift of a kernel offset along the flattened plane."""
        (kh, kw), (dh, dw) = self.kernel, self.geometry.dilation
        return (kh - 1) * dh * self.width + (kw - 1) * dw

    def patch_gradients(self, count):
        """Where the patch gradients W^T dout of ``count`` samples go: (n, G, C/G*KH*KW,
        positions). Wide patches keep zeros on both sides of each row, for ``add_back``."""
        shape = (self.per, self.geometry.groups, self.rows)
        if not self.wide:
            if self._dcols is None:
                self._dcols = _workspace.get("dcols", shape + (self.positions,), self.dtype)
            return self._dcols[:count]
        margin = self._margin()
        if self._dcols is None:
            self._dcols = _workspace.get("dcols", shape + (self.positions + 2 * margin + 1,),
                                         self.dtype)
            self._dcols[..., :margin] = 0
            self._dcols[..., margin + self.positions:] = 0
        return self._dcols[:count, ..., margin:margin + self.positions]

    def add_back(self, dcols, dxp, batch):
        """col2im: dxp[batch] (the gradient of the padded input) from the patch gradients
        ``dcols`` that ``patch_gradients`` gave: every entry written (wide patches), or the
        patch gradients added into dxp, which starts at zero."""
        count = batch.stop - batch.start
        c = dxp.shape[1]
        if self.wide:
            # Input entry q of a plane collects dcols[i, j, q - shift(i, j)] over the kernel
            # offsets: one strided view reads all of them (the zero margins stand in for the
            # positions offset (i, j) does not reach), one sum adds them up.
            (kh, kw), (dh, dw), wp = self.kernel, self.geometry.dilation, self.width
            rows = self._dcols[:count].reshape(count, c, kh, kw, -1)
            n_stride, c_stride, i_stride, j_stride, step = rows.strides
            plane = dxp.shape[2] * dxp.shape[3]
            runs = as_strided(rows[..., self._margin():], (count, c, kh, kw, plane),
                              (n_stride, c_stride, i_stride - dh * wp * step,
                               j_stride - dw * step, step), writeable=False)
            np.sum(runs, axis=(2, 3), out=dxp[batch].reshape(count, c, plane))
        else:
            dcols = dcols.reshape((count, c) + self.kernel + self.out_size)
            target = dxp[batch]
            for i in range(self.kernel[0]):
                for j in range(self.kernel[1]):
                    self._offset_view(target, i, j)[...] += dcols[:, :, i, j]

    def spread(self, grad, batch):
        """grad[batch] (n, O, OH, OW) in the patches' layout (n, G, O/G, positions); wide
        patches get zeros in their dropped columns, so those contribute nothing."""
        count = batch.stop - batch.start
        o = grad.shape[1]
        groups = self.geometry.groups
        if not self.wide:
            return grad[batch].reshape(count, groups, o // groups, self.positions)
        if self._wide_grad is None:
            self._wide_grad = _workspace.get(
                "wide grad", (self.per, o, self.out_size[0], self.width), self.dtype)
            self._wide_grad[..., self.out_size[1]:] = 0
        wide = self._wide_grad[:count]
        wide[..., :self.out_size[1]] = grad[batch]
        return wide.reshape(count, groups, o // groups, self.positions)

    def narrow(self, result, count):
        """A result (n, G, O/G, positions) as (n, O, OH, OW) (a view unless wide)."""
        shaped = result.reshape((count, -1, self.out_size[0], self.width))
        return shaped[..., :self.out_size[1]] if self.wide else shaped


def _weight_blocks(w, groups):
    """The weight (O, C/G, KH, KW) as a matrix (O, C*KH*KW) (groups == 1: one GEMM against a
    stack of patch matrices) or G of them, (G, O/G, C/G*KH*KW)."""
    o, cg, kh, kw = w.shape
    rows = cg * kh * kw  # not -1: the weight may be empty
    return w.reshape(o, rows) if groups == 1 else w.reshape(groups, o // groups, rows)


def _as_patch_stack(array, groups):
    """(n, G, rows, positions) -> (n, rows, positions) when groups == 1, to match
    ``_weight_blocks``."""
    return array[:, 0] if groups == 1 else array


def _conv_forward(x, w, geometry):
    """out (N, O, OH, OW) = conv(x, w), one GEMM per slice of the batch."""
    xp = _pad(x, geometry.pads)
    patches = _Patches(xp.shape, w.shape, geometry, np.result_type(x, w))
    n, o = xp.shape[0], w.shape[0]
    out = np.empty((n, o) + patches.out_size, dtype=patches.dtype)
    w_blocks = _weight_blocks(w, geometry.groups)

    def run_share(patches, slices):
        result = None if not patches.wide else _workspace.get(
            "product", (patches.per, geometry.groups, o // geometry.groups, patches.positions),
            patches.dtype)
        for batch in slices:
            count = batch.stop - batch.start
            cols = _as_patch_stack(patches.build(xp, batch), geometry.groups)
            if patches.wide:
                product = result[:count]
                np.matmul(w_blocks, cols, out=_as_patch_stack(product, geometry.groups))
                out[batch] = patches.narrow(product, count)
            else:  # written straight into place
                target = out[batch].reshape(count, geometry.groups, o // geometry.groups, -1)
                np.matmul(w_blocks, cols, out=_as_patch_stack(target, geometry.groups))
    patches.in_parallel(run_share)
    return out


def _conv_backward(grad, x, w, geometry, padded_shape, input_grad, weight_grad):
    """(d(loss)/dx or None, d(loss)/dW or None) for out = conv(x, w) with x of padded shape
    ``padded_shape``: dx = col2im(W^T dout), dW = sum of dout cols^T (the patches of x built
    again), a slice of the batch at a time. ``x`` is only read for dW."""
    groups = geometry.groups
    patches = _Patches(padded_shape, w.shape, geometry, grad.dtype)
    w_blocks = _weight_blocks(w, groups)
    dxp = None if not input_grad else (np.empty if patches.wide else np.zeros)(padded_shape,
                                                                               grad.dtype)
    xp = _pad(x, geometry.pads) if weight_grad else None

    def run_share(patches, slices):
        """Writes the share's input gradients into dxp; returns its part of dW."""
        dw = np.zeros(w_blocks.shape, dtype=grad.dtype) if weight_grad else None
        for batch in slices:
            count = batch.stop - batch.start
            g = _as_patch_stack(patches.spread(grad, batch), groups)
            if weight_grad:
                cols = _as_patch_stack(patches.build(xp, batch), groups)
                dw += np.matmul(g, np.swapaxes(cols, -1, -2)).sum(axis=0)
            if input_grad:
                dcols = patches.patch_gradients(count)
                np.matmul(np.swapaxes(w_blocks, -1, -2), g,
                          out=_as_patch_stack(dcols, groups))
                patches.add_back(dcols, dxp, batch)
        return dw
    dw_parts = patches.in_parallel(run_share)
    dx = _crop(dxp, geometry.pads) if input_grad else None
    dw = sum(dw_parts[1:], dw_parts[0]).reshape(w.shape) if weight_grad else None
    return dx, dw


class Conv2d(Function):
    """out = W * x + b; dW = dout cols^T, dx = col2im(W^T dout), db = sum of dout"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, w, b, geometry):
        out = _conv_forward(x.array, w.array, geometry)
        if b is not None:
            out += b.array.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w)
        ctx.geometry, ctx.padded_shape = geometry, _pad_shape(x.shape, geometry.pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g = grad.array
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        dx, dw = _conv_backward(g, None if x is None else x.array, w.array, ctx.geometry,
                                ctx.padded_shape, needs_x, needs_w)
        db = g.sum(axis=(0, 2, 3)) if needs_b else None
        return (*(None if a is None else Tensor._make(a) for a in (dx, dw, db)), None)


class ConvTranspose2d(Function):
    """out = conv's input-gradient map applied to x (the adjoint of a convolution);
    dx = conv(dout, W), dW from the patches of dout and x"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, w, b, geometry, out_size):
        a = x.array
        # For the adjoint view, the weight (C_in, C_out/G, KH, KW) acts as a convolution
        # weight mapping C_out channels to C_in channels.
        padded_shape = _pad_shape((a.shape[0], w.shape[1] * geometry.groups) + tuple(out_size),
                                  geometry.pads)
        out, _ = _conv_backward(a, None, w.array, geometry, padded_shape, True, False)
        out = np.ascontiguousarray(out)
        if b is not None:
            out += b.array.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.geometry, ctx.padded_shape = geometry, padded_shape
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        g = grad.array
        dx = dw = db = None
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        if needs_x:
            dx = Tensor._make(_conv_forward(g, w.array, ctx.geometry))
        if needs_w:
            # x plays the role of the convolution's output gradient, dout its input.
            _, dw = _conv_backward(x.array, g, w.array, ctx.geometry, ctx.padded_shape, False,
                                   True)
            dw = Tensor._make(dw)
        if needs_b:
            db = Tensor._make(g.sum(axis=(0, 2, 3)))
        return dx, dw, db, None, None


def _spatial_pair(value, spatial_dims, op, name, minimum, leading):
    """A 1-D or 2-D geometry argument as the pair the 2-D kernels take: a 1-D convolution is a
    2-D one of height 1, whose leading entry is ``leading`` (stride/dilation 1, padding 0)."""
    if spatial_dims == 2:
        return _pair(value, op, name, minimum)
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return leading, _pair(value, op, name, minimum)[1]


def _check_conv_args(op, x, weight, bias, groups, spatial_dims, in_channels, out_channels):
    """Checks the weight's rank, groups, channels and dtypes before any work (the input's rank
    is checked by ``_as_4d``); ``in_channels`` and ``out_channels`` are what the weight
    implies."""
    if weight.ndim != spatial_dims + 2:
        raise RuntimeError(f"{op}: expected a {spatial_dims + 2}-D weight, got shape "
                           f"{tuple(weight.shape)}")
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the weight's first dimension "
                           f"{weight.shape[0]} (weight shape {tuple(weight.shape)})")
    channels = x.shape[-spatial_dims - 1]
    if channels != in_channels:
        raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} has {channels} channels, but "
                           f"the weight of shape {tuple(weight.shape)} with groups={groups} "
                           f"expects {in_channels}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}: bias of shape {tuple(bias.shape)} does not match "
                           f"{out_channels} output channels")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise RuntimeError(f"{op}: input ({x.dtype}) and {name} ({t.dtype}) must have the "
                               "same dtype")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")


def _as_4d(op, x, spatial_dims):
    """(N, C, H, W) from 2-D ops' (C, H, W) / (N, C, H, W) input or 1-D ops' (C, L) / (N, C, L)
    (a height of 1); returns the 4-D input and a function undoing the reshaping on outputs."""
    if x.ndim not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(f"{op}: expected a {spatial_dims + 1}-D (unbatched) or "
                           f"{spatial_dims + 2}-D (batched) input, got shape {tuple(x.shape)}")
    unbatched = x.ndim == spatial_dims + 1
    x4 = x.unsqueeze(0) if unbatched else x
    if spatial_dims == 1:
        x4 = x4.unsqueeze(2)

    def restore(out):
        if spatial_dims == 1:
            out = out.squeeze(2)
        return out.squeeze(0) if unbatched else out
    return x4, restore


def _same_padding(kernel, dilation):
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)


def _convolution(op, spatial_dims, input, weight, bias, stride, padding, dilation, groups):
    x, restore = _as_4d(op, input, spatial_dims)
    _check_conv_args(op, input, weight, bias, groups, spatial_dims,
                     weight.shape[1] * groups, weight.shape[0])
    w = weight.unsqueeze(2) if spatial_dims == 1 else weight
    stride = _spatial_pair(stride, spatial_dims, op, "stride", 1, 1)
    dilation = _spatial_pair(dilation, spatial_dims, op, "dilation", 1, 1)
    if isinstance(padding, str):
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 "convolutions")
            pads = _same_padding(w.shape[2:], dilation)
        elif padding == "valid":
            pads = (0, 0, 0, 0)
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "('valid', 'same')")
    else:
        ph, pw = _spatial_pair(padding, spatial_dims, op, "padding", 0, 0)
        pads = (ph, ph, pw, pw)
    for size, kernel, d, p in zip(x.shape[2:], w.shape[2:], dilation,
                                  (pads[0] + pads[1], pads[2] + pads[3])):
        if size + p < d * (kernel - 1) + 1:
            raise RuntimeError(f"{op}: the (padded) input of shape {tuple(input.shape)} is "
                               f"smaller than the (dilated) kernel of shape "
                               f"{tuple(weight.shape)}")
    out = Conv2d.apply(x, w, bias, _Geometry(groups, pads, stride, dilation))
    return restore(out)


def _transposed_convolution(op, spatial_dims, input, weight, bias, stride, padding,
                            output_padding, groups, dilation):
    x, restore = _as_4d(op, input, spatial_dims)
    _check_conv_args(op, input, weight, bias, groups, spatial_dims, weight.shape[0],
                     weight.shape[1] * groups)
    w = weight.unsqueeze(2) if spatial_dims == 1 else weight
    stride = _spatial_pair(stride, spatial_dims, op, "stride", 1, 1)
    dilation = _spatial_pair(dilation, spatial_dims, op, "dilation", 1, 1)
    ph, pw = _spatial_pair(padding, spatial_dims, op, "padding", 0, 0)
    oph, opw = _spatial_pair(output_padding, spatial_dims, op, "output_padding", 0, 0)
    if oph >= max(stride[0], dilation[0]) or opw >= max(stride[1], dilation[1]):
        raise RuntimeError(f"{op}: output_padding {output_padding!r} must be smaller than "
                           f"either stride {stride[2 - spatial_dims:]} or dilation "
                           f"{dilation[2 - spatial_dims:]}")
    kh, kw = w.shape[2:]
    out_size = ((x.shape[2] - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1,
                (x.shape[3] - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1)
    if min(out_size) < 0:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} with padding "
                           f"{padding!r} gives a negative output size {out_size}")
    # output_padding adds rows/columns at the bottom/right that no input pixel reaches.
    pads = (ph, ph - oph, pw, pw - opw)
    out = ConvTranspose2d.apply(x, w, bias, _Geometry(groups, pads, stride, dilation), out_size)
    return restore(out)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) of (N, C, H, W) or unbatched (C, H, W)
    input with (O, C/groups, KH, KW) weights; ``padding`` is an int, a pair, 'valid' or
    'same'."""
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) or unbatched (C, L) input with (O, C/groups, K) weights."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d: (N, C_in, H, W) input, (C_in, C_out/groups, KH, KW) weights."""
    return _transposed_convolution("conv_transpose2d", 2, input, weight, bias, stride, padding,
                                   output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv1d: (N, C_in, L) input, (C_in, C_out/groups, K) weights."""
    return _transposed_convolution("conv_transpose1d", 1, input, weight, bias, stride, padding,
                                   output_padding, groups, dilation)
