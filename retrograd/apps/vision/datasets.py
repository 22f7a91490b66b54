"""Image datasets: MNIST and Fashion-MNIST from their canonical IDX files, and scikit-learn's
8x8 digits as an offline default.

IDX is a tiny binary format: a big-endian header (two zero bytes, a type code, the number of
dimensions, then each dimension's size as a 32-bit integer) followed by the raw values. MNIST's
images are (N, 28, 28) unsigned bytes and its labels (N,) unsigned bytes.

The loaders look for the files under ``<root>/<name>/`` (``root`` from ``--data-dir`` or
``$RETROGRAD_DATA``, else ~/.cache/retrograd), download them when they are missing, and check
the SHA-256 of their decompressed content, which is the same however the .gz was packed. A
download is checked before it is moved into place, so a bad one leaves nothing behind.
"""
import gzip
import hashlib
import os
import shutil
import tempfile

import numpy as np

import retrograd as rg
from retrograd.data import Dataset, download_url

from .. import data_root

__all__ = ["read_idx", "parse_idx", "IDXClassification", "MNIST", "FashionMNIST", "Digits",
           "DATASETS"]

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
              0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (gzip-compressed or not) into a NumPy array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return parse_idx(raw, path)


def parse_idx(raw, name="IDX data"):
    """The array held by the bytes ``raw`` of an IDX file (``name`` appears in errors)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {name} is not an IDX file (bad magic number "
                         f"{raw[:4].hex() or 'empty'})")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {name} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", ndim, offset=4))
    count = int(np.prod(shape)) if shape else 1
    if len(raw) != header + count * dtype.itemsize:
        raise ValueError(f"read_idx: {name} holds {len(raw) - header} bytes of data, but its "
                         f"header announces shape {shape} ({count * dtype.itemsize} bytes)")
    return np.frombuffer(raw, dtype, count, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


def _content_sha256(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return hashlib.sha256(raw).hexdigest()


class IDXClassification(Dataset):
    """A (images, labels) pair of IDX files per split, as MNIST and Fashion-MNIST ship.

    Items are (image, label): a float32 tensor (1, 28, 28), normalized with the training
    set's mean and standard deviation, and an int. ``images`` and ``targets`` hold the whole
    split as tensors (``TensorDataset(ds.images, ds.targets)`` batches fastest).
    ``validation_size`` is how many of the last training images the applications hold out.
    """

    name = None
    urls = ()            # mirrors, tried in order
    files = {}           # split -> (images file, labels file)
    content_sha256 = {}  # file -> SHA-256 of its decompressed bytes
    mean = std = None
    classes = ()
    validation_size = 5000

    def __init__(self, root=None, train=True, download=True, normalize=True):
        self.root = os.path.join(data_root(root), self.name)
        self.train = train
        image_file, label_file = self.files["train" if train else "test"]
        images = read_idx(self._locate(image_file, download))
        labels = read_idx(self._locate(label_file, download))
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {len(images)} images but "
                             f"{len(labels)} labels in {self.root}")
        pixels = images.astype(np.float32) / 255.0
        if normalize:
            pixels = (pixels - self.mean) / self.std
        self.images = rg.from_numpy(pixels[:, None])
        self.targets = rg.from_numpy(labels.astype(np.int64))

    def _locate(self, filename, download):
        path = os.path.join(self.root, filename)
        if not os.path.exists(path):
            if not download:
                raise FileNotFoundError(self._missing_message(filename))
            self._download(filename)
        elif not self._holds_expected_content(path):
            raise ValueError(f"{type(self).__name__}: {path} does not hold the expected data "
                             f"(SHA-256 of its content differs); delete it to download it again")
        return path

    def _holds_expected_content(self, path):
        expected = self.content_sha256.get(os.path.basename(path))
        return expected is None or _content_sha256(path) == expected

    def _download(self, filename):
        """Tries each mirror in turn; a file is moved into ``root`` only once its content is
        checked, so neither a failed nor a wrong download leaves anything there."""
        os.makedirs(self.root, exist_ok=True)
        errors = []
        for base in self.urls:
            staging = tempfile.mkdtemp(prefix=".download-", dir=self.root)
            try:
                fetched = download_url(base + filename, staging, filename)
                if self._holds_expected_content(fetched):
                    os.replace(fetched, os.path.join(self.root, filename))
                    return
                errors.append(f"{base + filename}: the SHA-256 of its content is not "
                              f"{self.content_sha256[filename]}")
            except Exception as error:  # try the next mirror, report all at the end
                errors.append(f"{base + filename}: {error}")
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        raise FileNotFoundError(self._missing_message(filename) + "\nDownload attempts "
                                "failed:\n  " + "\n  ".join(errors))

    def _missing_message(self, filename):
        return (f"{type(self).__name__}: {filename} not found. Put the files "
                f"{', '.join(f for pair in self.files.values() for f in pair)} in {self.root} "
                f"(the canonical IDX .gz files, e.g. from {self.urls[0]}), or point --data-dir / "
                "RETROGRAD_DATA at a folder that holds them in a subfolder "
                f"'{self.name}/'.")

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], int(self.targets.array[index])


_MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class MNIST(IDXClassification):
    """Handwritten digits (LeCun, Cortes and Burges): 60,000 training and 10,000 test images."""

    name = "mnist"
    urls = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/")
    files = _MNIST_FILES
    content_sha256 = {
        "train-images-idx3-ubyte.gz":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }
    mean, std = 0.1307, 0.3081
    classes = tuple(str(d) for d in range(10))


class FashionMNIST(IDXClassification):
    """Zalando's article images in MNIST's format: 10 classes of clothing."""

    name = "fashion-mnist"
    urls = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    files = _MNIST_FILES
    content_sha256 = {
        "train-images-idx3-ubyte.gz":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }
    mean, std = 0.2860, 0.3530
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


class Digits(Dataset):
    """scikit-learn's 1,797 8x8 handwritten digits (shipped with the package: no download),
    upsampled to 28x28 so that the MNIST models apply. A fixed 80/20 split."""

    name = "digits"
    classes = tuple(str(d) for d in range(10))
    mean, std = 0.3054, 0.3246  # of the upsampled training split
    validation_size = 0.1

    def __init__(self, root=None, train=True, download=True, normalize=True):
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ImportError("the offline digits set comes with scikit-learn: "
                              "pip install 'retrograd[vision]'") from None
        digits = load_digits()
        order = np.random.default_rng(0).permutation(len(digits.target))
        cut = int(0.8 * len(order))
        chosen = order[:cut] if train else order[cut:]
        small = rg.tensor(digits.images[chosen].astype(np.float32)[:, None] / 16.0)
        with rg.no_grad():
            images = rg.nn.functional.interpolate(small, size=(28, 28), mode="bilinear",
                                                  align_corners=False)
        if normalize:
            images = (images - self.mean) / self.std
        self.images = images
        self.targets = rg.tensor(digits.target[chosen].astype(np.int64))

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], int(self.targets.array[index])


DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "digits": Digits}
