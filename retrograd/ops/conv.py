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


def _pair(value, op, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


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
        ctx.cols = cols if ctx.needs_input_grad[1] else None
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
            dw = Tensor._make(_conv_weight_grad(g, ctx.cols, ctx.w.shape, groups))
        if ctx.needs_input_grad[2]:
            db = Tensor._make(g.sum(axis=(0, 2, 3)))
        ctx.cols = None
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


def _check_conv_args(op, x, weight, bias, groups, spatial_dims, out_channels):
    if x.ndim not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(f"{op}: expected a {spatial_dims + 1}-D (unbatched) or "
                           f"{spatial_dims + 2}-D (batched) input, got shape {tuple(x.shape)}")
    if weight.ndim != spatial_dims + 2:
        raise RuntimeError(f"{op}: expected a {spatial_dims + 2}-D weight, got shape "
                           f"{tuple(weight.shape)}")
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the weight's first dimension "
                           f"{weight.shape[0]}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(f"{op}: bias of shape {tuple(bias.shape)} does not match "
                           f"{out_channels} output channels")


def _batched(x, spatial_dims):
    """Adds a batch dimension to unbatched input; returns (input, whether it was added)."""
    if x.ndim == spatial_dims + 1:
        return x.unsqueeze(0), True
    return x, False


def _same_padding(kernel, dilation):
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) of (N, C, H, W) input with
    (O, C/groups, KH, KW) weights; ``padding`` is an int, a pair, 'valid' or 'same'."""
    _check_conv_args("conv2d", input, weight, bias, groups, 2, weight.shape[0])
    x, added = _batched(input, 2)
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"conv2d: input of shape {tuple(input.shape)} has {x.shape[1]} "
                           f"channels, but the weight of shape {tuple(weight.shape)} with "
                           f"groups={groups} expects {weight.shape[1] * groups}")
    stride = _pair(stride, "conv2d", "stride")
    dilation = _pair(dilation, "conv2d", "dilation")
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
        pads = _same_padding(weight.shape[2:], dilation)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        ph, pw = _pair(padding, "conv2d", "padding")
        pads = (ph, ph, pw, pw)
    for size, kernel, d, p in zip(x.shape[2:], weight.shape[2:], dilation,
                                  (pads[0] + pads[1], pads[2] + pads[3])):
        if size + p < d * (kernel - 1) + 1:
            raise RuntimeError(f"conv2d: the (padded) input of shape {tuple(input.shape)} is "
                               f"smaller than the (dilated) kernel of shape "
                               f"{tuple(weight.shape)}")
    out = Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)
    return out.squeeze(0) if added else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d: (N, C_in, H, W) input, (C_in, C_out/groups, KH, KW) weights."""
    _check_conv_args("conv_transpose2d", input, weight, bias, groups, 2,
                     weight.shape[1] * groups)
    x, added = _batched(input, 2)
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"conv_transpose2d: input of shape {tuple(input.shape)} has "
                           f"{x.shape[1]} channels, but the weight of shape "
                           f"{tuple(weight.shape)} expects {weight.shape[0]}")
    stride = _pair(stride, "conv_transpose2d", "stride")
    dilation = _pair(dilation, "conv_transpose2d", "dilation")
    ph, pw = _pair(padding, "conv_transpose2d", "padding")
    oph, opw = _pair(output_padding, "conv_transpose2d", "output_padding")
    if oph >= max(stride[0], dilation[0]) or opw >= max(stride[1], dilation[1]):
        raise RuntimeError("conv_transpose2d: output padding must be smaller than either "
                           "stride or dilation")
    kh, kw = weight.shape[2:]
    out_size = ((x.shape[2] - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1,
                (x.shape[3] - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1)
    # output_padding adds rows/columns at the bottom/right that no input pixel reaches.
    pads = (ph, ph - oph, pw, pw - opw)
    out = ConvTranspose2d.apply(x, weight, bias, stride, pads, dilation, groups, out_size)
    return out.squeeze(0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) input with (O, C/groups, K) weights (a conv2d of height 1)."""
    _check_conv_args("conv1d", input, weight, bias, groups, 1, weight.shape[0])
    x, added = _batched(input, 1)
    if not isinstance(padding, str):
        padding = (0, int(padding[0] if isinstance(padding, (tuple, list)) else padding))
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride=(1, _single(stride)),
                 padding=padding, dilation=(1, _single(dilation)), groups=groups).squeeze(2)
    return out.squeeze(0) if added else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv1d (a conv_transpose2d of height 1)."""
    x, added = _batched(input, 1)
    out = conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias,
                           stride=(1, _single(stride)), padding=(0, _single(padding)),
                           output_padding=(0, _single(output_padding)), groups=groups,
                           dilation=(1, _single(dilation))).squeeze(2)
    return out.squeeze(0) if added else out


def _single(value):
    return int(value[0] if isinstance(value, (tuple, list)) else value)
