"""Convolutions as matrix products (im2col).

A 2-D convolution of x (N, C, H, W) with weights w (O, C, KH, KW) is, at every output pixel,
the dot product of w with the KH x KW patch of x under it. Gathering all patches into one
matrix ``cols`` of shape (C*KH*KW, N*OH*OW) turns the whole convolution into one GEMM,
``w.reshape(O, -1) @ cols`` — the form BLAS runs fastest. The patch matrix is built with
KH*KW strided slice copies (never a Python loop over pixels), and its adjoint ``col2im``
adds the patch gradients back with KH*KW strided additions.

Backward of out = W cols:  dW = dout cols^T,  dcols = W^T dout,  dx = col2im(dcols).
A transposed convolution is the adjoint of a convolution: its forward is a convolution's
input-gradient and its backward a convolution's forward, so it reuses the same two kernels.
With groups, channels split into independent blocks and the GEMMs become batched.
"""
import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


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


def im2col(xp, kernel, out_size, stride, dilation):
    """Patches of the padded input xp (N, C, Hp, Wp) as an array (C, KH, KW, N, OH, OW)."""
    n, c = xp.shape[:2]
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_size, stride, dilation
    cols = np.empty((c, kh, kw, n, oh, ow), dtype=xp.dtype)
    channels_first = xp.transpose(1, 0, 2, 3)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = channels_first[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols


def col2im(cols, padded_shape, stride, dilation):
    """The adjoint of im2col: adds patch values (C, KH, KW, N, OH, OW) back into an array of
    the padded input's shape (N, C, Hp, Wp)."""
    c, kh, kw, n, oh, ow = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = np.zeros((c, n) + tuple(padded_shape[2:]), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, i, j]
    return out.transpose(1, 0, 2, 3)


def _pad(x, pads):
    """Pads (top, bottom, left, right) with zeros; a negative amount crops instead."""
    if not any(pads):
        return x
    top, bottom, left, right = pads
    h, w = x.shape[2:]
    x = x[:, :, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    grow = [(0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    return np.pad(x, grow) if any(a or b for a, b in grow) else x


def _crop(xp, pads):
    """The adjoint of _pad: removes what _pad added (and pads back what it cropped)."""
    return _pad(xp, tuple(-p for p in pads))


def _conv_forward(x, w, groups, pads, stride, dilation):
    """out (N, O, OH, OW) and the patch matrix, grouped: (G, C/G*KH*KW, N*OH*OW)."""
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    xp = _pad(x, pads)
    oh = _output_size(xp.shape[2], kh, stride[0], 0, dilation[0])
    ow = _output_size(xp.shape[3], kw, stride[1], 0, dilation[1])
    cols = im2col(xp, (kh, kw), (oh, ow), stride, dilation)
    cols = cols.reshape(groups, cg * kh * kw, n * oh * ow)
    out = np.matmul(w.reshape(groups, o // groups, cg * kh * kw), cols)
    out = np.ascontiguousarray(out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3))
    return out, cols, xp.shape


def _conv_input_grad(grad, w, groups, padded_shape, pads, stride, dilation):
    """d(loss)/dx for out = conv(x, w): W^T dout, folded back by col2im."""
    o, cg, kh, kw = w.shape
    n, _, oh, ow = grad.shape
    g2 = grad.transpose(1, 0, 2, 3).reshape(groups, o // groups, n * oh * ow)
    wg = w.reshape(groups, o // groups, cg * kh * kw)
    dcols = np.matmul(wg.transpose(0, 2, 1), g2).reshape(cg * groups, kh, kw, n, oh, ow)
    return _crop(col2im(dcols, padded_shape, stride, dilation), pads)


def _conv_weight_grad(grad, cols, w_shape, groups):
    """d(loss)/dW for out = conv(x, w): dout cols^T."""
    o = w_shape[0]
    n, _, oh, ow = grad.shape
    g2 = grad.transpose(1, 0, 2, 3).reshape(groups, o // groups, n * oh * ow)
    return np.matmul(g2, cols.transpose(0, 2, 1)).reshape(w_shape)


class Conv2d(Function):
    """out = W * x + b; dW = dout cols^T, dx = col2im(W^T dout), db = sum of dout"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        out, cols, padded_shape = _conv_forward(x.array, w.array, groups, pads, stride,
                                                dilation)
        if b is not None:
            out += b.array.reshape(1, -1, 1, 1)
        # Saved (rather than kept as an attribute) so that the engine frees the patch matrix,
        # the largest array of the op, as soon as a backward that does not retain the graph
        # is done with it.
        ctx.save_for_backward(Tensor._make(cols) if ctx.needs_input_grad[1] else None)
        ctx.w = w.array
        ctx.geometry = (groups, padded_shape, pads, stride, dilation)
        return out

    @staticmethod
    def backward(ctx, grad):
        groups, padded_shape, pads, stride, dilation = ctx.geometry
        g = grad.array
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = Tensor._make(_conv_input_grad(g, ctx.w, groups, padded_shape, pads, stride,
                                               dilation))
        if ctx.needs_input_grad[1]:
            (cols,) = ctx.saved_tensors
            dw = Tensor._make(_conv_weight_grad(g, cols.array, ctx.w.shape, groups))
        if ctx.needs_input_grad[2]:
            db = Tensor._make(g.sum(axis=(0, 2, 3)))
        return dx, dw, db, None, None, None, None


class ConvTranspose2d(Function):
    """out = conv's input-gradient map applied to x (the adjoint of a convolution);
    dx = conv(dout, W), dW from the patches of dout and x"""

    once_differentiable = True

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups, out_size):
        a = x.array
        n = a.shape[0]
        cg_out, kh, kw = w.shape[1:]
        # For the adjoint view, the weight (C_in, C_out/G, KH, KW) acts as a convolution
        # weight mapping C_out channels to C_in channels.
        padded_shape = (n, cg_out * groups, out_size[0] + pads[0] + pads[1],
                        out_size[1] + pads[2] + pads[3])
        out = _conv_input_grad(a, w.array, groups, padded_shape, pads, stride, dilation)
        out = np.ascontiguousarray(out)
        if b is not None:
            out += b.array.reshape(1, -1, 1, 1)
        ctx.x, ctx.w = a, w.array
        ctx.geometry = (groups, pads, stride, dilation)
        return out

    @staticmethod
    def backward(ctx, grad):
        groups, pads, stride, dilation = ctx.geometry
        g = grad.array
        dx = dw = db = None
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        if needs_x or needs_w:
            dx_array, cols, _ = _conv_forward(g, ctx.w, groups, pads, stride, dilation)
            if needs_x:
                dx = Tensor._make(dx_array)
            if needs_w:
                # x plays the role of the convolution's output gradient.
                dw = Tensor._make(_conv_weight_grad(ctx.x, cols, ctx.w.shape, groups))
        if needs_b:
            db = Tensor._make(g.sum(axis=(0, 2, 3)))
        return dx, dw, db, None, None, None, None, None


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
    out = Conv2d.apply(x, w, bias, stride, pads, dilation, groups)
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
    out = ConvTranspose2d.apply(x, w, bias, stride, pads, dilation, groups, out_size)
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
