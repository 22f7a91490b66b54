"""Your own pictures in the training data's layout, so that a trained model can read them.

MNIST's digits are white on black, scaled to fit a 20x20 box and placed in a 28x28 frame
with their centre of mass in the middle; Fashion-MNIST's articles fill the frame. A photo or a
drawing becomes that: greyscale (transparency shown over white), inverted when its border is
bright (dark ink on paper), cropped to the ink, scaled to the box and centred, then normalized
with the training set's mean and standard deviation.
"""
import os

import numpy as np

__all__ = ["LAYOUTS", "read_greyscale", "to_training_layout", "load_image"]

FRAME = 28
# How each dataset placed its pictures in the frame: (content box side, centring).
LAYOUTS = {
    "mnist": {"box": 20, "centre": "mass"},
    "fashion-mnist": {"box": 28, "centre": "box"},
    "digits": {"box": 28, "centre": "box"},
}
_INK_THRESHOLD = 0.1  # fraction of the brightest pixel below which a pixel counts as background


def _pillow():
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:
        raise ImportError("reading images needs Pillow: pip install 'retrograd[vision]'") from None
    return Image, ImageOps, UnidentifiedImageError


def read_greyscale(path):
    """The picture at ``path`` as float32 greyscale in [0, 1], white = 1."""
    Image, ImageOps, UnidentifiedImageError = _pillow()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with Image.open(path) as picture:
            picture = ImageOps.exif_transpose(picture)
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                backdrop = Image.new("RGBA", picture.size, "white")
                picture = Image.alpha_composite(backdrop, picture.convert("RGBA"))
            grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path} is not an image that can be read (PNG, JPEG, BMP, GIF, TIFF, "
                         f"... are): {error}") from None
    return grey


def _resize(pixels, height, width):
    Image, _, _ = _pillow()
    resized = Image.fromarray(pixels.astype(np.float32)).resize(  # float32: mode "F"
        (width, height), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _border(pixels):
    return np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


def to_training_layout(grey, box=20, centre="mass"):
    """A (28, 28) float32 picture in [0, 1], white ink on black, laid out as ``box`` and
    ``centre`` ('mass' or 'box') say."""
    ink = 1.0 - grey if _border(grey).mean() > 0.5 else grey
    ink = np.clip(ink - np.median(_border(ink)), 0.0, None)  # the background becomes 0
    if ink.max() <= 0:  # a blank picture: nothing to crop or centre
        return np.zeros((FRAME, FRAME), np.float32)
    ink /= ink.max()
    rows = np.flatnonzero((ink > _INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > _INK_THRESHOLD).any(axis=0))
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = box / max(ink.shape)
    height = max(1, round(ink.shape[0] * scale))
    width = max(1, round(ink.shape[1] * scale))
    content = _resize(ink, height, width)
    if centre == "mass":
        weights = content / content.sum()
        centre_y = (weights.sum(axis=1) * np.arange(height)).sum()
        centre_x = (weights.sum(axis=0) * np.arange(width)).sum()
    else:
        centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    # Top-left corner that puts the chosen centre in the frame's middle, kept inside it.
    top = int(np.clip(round((FRAME - 1) / 2 - centre_y), 0, FRAME - height))
    left = int(np.clip(round((FRAME - 1) / 2 - centre_x), 0, FRAME - width))
    frame = np.zeros((FRAME, FRAME), np.float32)
    frame[top:top + height, left:left + width] = content
    return frame


def load_image(path, layout, mean, std):
    """The picture at ``path`` as the model's input: a float32 (1, 28, 28) array, laid out as
    ``layout`` (an entry of ``LAYOUTS``) says and normalized with ``mean`` and ``std``."""
    pixels = to_training_layout(read_greyscale(path), **layout)
    return ((pixels - np.float32(mean)) / np.float32(std))[None]
