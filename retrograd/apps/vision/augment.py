"""On-the-fly augmentation: small random rotations and shifts of each training image.

A layer that is active only in training mode, so that the model itself carries it and eval
mode sees the images unchanged. Each output pixel samples the input at the rotated and shifted
position with bilinear interpolation (zeros outside), all images at once.
"""

import numpy as np

import retrograd as rg
import retrograd.nn as nn
from retrograd.random import rng

__all__ = ["RandomAffine", "random_affine", "bilinear_sample"]


class RandomAffine(nn.Module):
    """Random rotation (up to ``max_degrees``) and shift (up to ``max_shift`` pixels) of each
    training image; the background fill defaults to the batch's smallest value."""

    def __init__(self, max_degrees=10.0, max_shift=2.0, fill=None):
        super().__init__()
        self.max_degrees, self.max_shift, self.fill = max_degrees, max_shift, fill

    def extra_repr(self):
        return f"max_degrees={self.max_degrees}, max_shift={self.max_shift}"

    def forward(self, images):
        if not self.training:
            return images
        return rg.from_numpy(random_affine(images.detach().numpy(), self.max_degrees,
                                           self.max_shift, self.fill))


def random_affine(batch, max_degrees, max_shift, fill=None):
    """Rotates each (C, H, W) image of ``batch`` by U(-max_degrees, max_degrees) about its
    centre and shifts it by U(-max_shift, max_shift) pixels along each axis."""
    n, c, h, w = batch.shape
    g = rng()
    angle = np.deg2rad(g.uniform(-max_degrees, max_degrees, n))
    shift = g.uniform(-max_shift, max_shift, (n, 2))
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    ys, xs = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
    # Inverse map: where in the source each output pixel comes from.
    src_y = cos * (ys - shift[:, 0, None, None]) - sin * (xs - shift[:, 1, None, None])
    src_x = sin * (ys - shift[:, 0, None, None]) + cos * (xs - shift[:, 1, None, None])
    src_y += (h - 1) / 2
    src_x += (w - 1) / 2
    background = batch.min() if fill is None else fill
    return bilinear_sample(batch, src_y, src_x, background)


def bilinear_sample(batch, src_y, src_x, background):
    """``batch`` (N, C, H, W) read at the fractional positions ``src_y``, ``src_x`` (N, H, W):
    each output pixel mixes its four neighbours, ``background`` where they fall outside."""
    n, c, h, w = batch.shape
    y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
    wy, wx = (src_y - y0).astype(batch.dtype), (src_x - x0).astype(batch.dtype)
    out = np.zeros_like(batch)
    images = np.arange(n)[:, None, None]
    for dy, weight_y in ((0, 1 - wy), (1, wy)):
        for dx, weight_x in ((0, 1 - wx), (1, wx)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            values = batch[images, :, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
            values = np.where(inside[..., None], values, background)  # (n, h, w, c)
            out += (weight_y * weight_x)[:, None] * np.moveaxis(values, -1, 1)
    return out


