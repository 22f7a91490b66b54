"""Tiny generated datasets in MNIST's file layout, for the vision application's tests."""
import gzip
import struct

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
                  np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
               "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def idx_bytes(array):
    """The IDX encoding of ``array``: magic (0, 0, type, ndim), big-endian sizes, values."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, IDX_TYPE_CODES[dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def write_idx(path, array, compress=True):
    raw = idx_bytes(array)
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0) if compress else raw)
    return raw


def class_images(labels, seed=0):
    """28x28 uint8 pictures a small network learns in a few steps: class k is a bright 6x6
    square at the k-th of ten fixed places, over faint noise."""
    g = np.random.default_rng(seed)
    images = (g.random((len(labels), 28, 28)) * 40).astype(np.uint8)
    for k in range(10):
        top, left = 3 + 12 * (k // 5), 1 + 5 * (k % 5)
        images[labels == k, top:top + 6, left:left + 6] = 255
    return images


def make_mnist_dir(root, name="mnist", train=60, test=20, seed=0):
    """Writes ``root/name/`` with the four MNIST files of ``train`` and ``test`` generated
    images; returns {file name: decompressed bytes}."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(seed)
    contents = {}
    for split, count in (("train", train), ("test", test)):
        labels = (np.arange(count) + g.integers(0, 10)) % 10  # every class, in a mixed order
        labels = g.permutation(labels).astype(np.uint8)
        image_file, label_file = MNIST_FILES[split]
        contents[image_file] = write_idx(folder / image_file, class_images(labels, seed))
        contents[label_file] = write_idx(folder / label_file, labels)
    return contents
