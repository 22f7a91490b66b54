"""Optional numba kernels for the memory-bound passes of stride-1 convolution: building its
"wide" patch matrices (im2col, see ``conv.py``) and adding their gradients back (col2im).

NumPy runs every copy and addition on one core; these kernels do the same work split over the
(sample, channel) planes with ``prange``, so they use the threads ``retrograd.set_num_threads``
allows, and they read each plane once for all kernel offsets while it is in cache (also faster
on one thread). Each plane is written by one thread only, so no kernel needs atomics, and the
results are the NumPy path's exactly (the same additions in the same order per element).
Kernels for strided patches (stride > 1, or more output channels than C*KH*KW) and for max
pooling were measured too and left out: on one thread NumPy's strided copies beat them.

This module imports numba at the top: ``retrograd.backends.numba.kernels()`` imports it only
when asked, and returns None where numba is missing or switched off (``RETROGRAD_NUMBA=0``),
so the callers keep their NumPy path. ``cache=True`` keeps the compiled code on disk, so it is
compiled once per machine and dtype rather than once per process.

Arrays must be C-contiguous; ``xp3``/``dxp3`` are (N, C, H*W) views of 4-D arrays, so that a
plane is one flat run that each kernel offset shifts.
"""
from numba import njit, prange


@njit(parallel=True, cache=True)
def patches_wide(xp3, cols, kh, kw, shift_h, shift_w):
    """cols (n, C, KH, KW, positions)[s, c, i, j] = plane (s, c) of xp3 shifted by
    i*shift_h + j*shift_w, zeros past its end (NumPy's zero row)."""
    n, c, size = xp3.shape
    positions = cols.shape[4]
    for p in prange(n * c):
        s, ch = p // c, p % c
        plane = xp3[s, ch]
        for i in range(kh):
            for j in range(kw):
                shift = i * shift_h + j * shift_w
                run = min(positions, size - shift)
                # Slices of 1-D views, not element loops: numba copies them several times
                # faster (measured).
                target = cols[s, ch, i, j]
                target[:run] = plane[shift:shift + run]
                target[run:] = 0


@njit(parallel=True, cache=True)
def add_patches_wide(dcols, dxp3, kh, kw, shift_h, shift_w):
    """The adjoint of ``patches_wide``: adds dcols (n, C, KH, KW, positions) into the planes of
    dxp3, which hold the extra row that the largest shift reaches."""
    n, c = dxp3.shape[:2]
    positions = dcols.shape[4]
    for p in prange(n * c):
        s, ch = p // c, p % c
        plane = dxp3[s, ch]
        for i in range(kh):
            for j in range(kw):
                shift = i * shift_h + j * shift_w
                plane[shift:shift + positions] += dcols[s, ch, i, j]
