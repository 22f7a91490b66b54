"""Checkpoints: ``save(obj, f)`` and ``load(f)`` without pickle.

A checkpoint is a zip archive in NumPy's ``.npz`` layout: one ``.npy`` entry per array and
one JSON entry describing the saved object. JSON holds the structure directly - lists, str,
int (exact at any size, e.g. a random generator's state), finite float, bool, None - and
tagged objects for the rest: ``{"type": "tensor", "array": 3, "requires_grad": true}``,
tuples, dicts (keys kept with their type, so an optimizer's integer keys come back as ints),
ordered dicts, arrays, NumPy scalars, non-finite floats and complex numbers.

Loading therefore never runs code from the file: it only reads arrays (``allow_pickle=False``)
and JSON. A tensor or array referenced several times is stored once and loads as one object,
which keeps tied weights tied. Namedtuples are saved as plain tuples.

``load_torch_state_dict`` converts a state dict written by ``torch.save`` (PyTorch's pickle
format) when PyTorch is installed.
"""
import collections
import collections.abc
import io
import json
import math
import os
import uuid
import zipfile

import numpy as np

from .device import check_device, device
from .tensor import Tensor

__all__ = ["save", "load", "load_torch_state_dict"]

_FORMAT = "retrograd-checkpoint"
_VERSION = 1
_HEADER_ENTRY = "retrograd.json"
_KEY_TYPES = (str, int, float, bool, type(None))  # JSON scalars: they round-trip exactly

_NOT_A_CHECKPOINT = (
    "retrograd checkpoints are a safe, non-pickle format (a zip of .npy arrays plus a JSON "
    "description) written by retrograd.save(). For a state dict written by torch.save(), "
    "use retrograd.load_torch_state_dict(path), which needs PyTorch installed.")


def _array_entry(index):
    return f"array_{index}.npy"


# -------------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object into a JSON tree, collecting its arrays in ``arrays``."""

    def __init__(self):
        self.arrays = []
        self._array_nodes = {}  # id(tensor or ndarray) -> its node, to store each once
        self._open_containers = set()  # ids of the containers being encoded (cycle check)

    def _array_node(self, obj, array, node):
        if id(obj) not in self._array_nodes:
            if array.dtype.hasobject:
                raise TypeError(f"save: arrays of dtype {array.dtype} cannot be saved (they "
                                "would need pickle)")
            node["array"] = len(self.arrays)
            self.arrays.append(array)
            self._array_nodes[id(obj)] = node
        return self._array_nodes[id(obj)]

    def encode(self, obj, where):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic):  # before int/float: np.float64 is a float subclass
            return self._array_node(obj, np.asarray(obj), {"type": "numpy_scalar"})
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"type": "float", "value": repr(obj)}
        if isinstance(obj, complex):
            return {"type": "complex", "real": self.encode(obj.real, where),
                    "imag": self.encode(obj.imag, where)}
        if isinstance(obj, Tensor):
            return self._array_node(obj, obj.array,
                                    {"type": "tensor", "requires_grad": obj.requires_grad})
        if isinstance(obj, np.ndarray):
            return self._array_node(obj, obj, {"type": "ndarray"})
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open_containers:
                raise ValueError(f"save: {where} contains itself; a checkpoint must be a tree")
            self._open_containers.add(id(obj))
            try:
                return self._encode_container(obj, where)
            finally:
                self._open_containers.discard(id(obj))
        raise TypeError(f"save: cannot save {where}, an object of type {type(obj).__name__}; "
                        "checkpoints hold tensors, NumPy arrays and scalars, Python numbers, "
                        "str, bool, None, and dicts, lists and tuples of them")

    def _encode_container(self, obj, where):
        if isinstance(obj, list):
            return [self.encode(item, f"{where}[{i}]") for i, item in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"type": "tuple",
                    "items": [self.encode(item, f"{where}[{i}]") for i, item in enumerate(obj)]}
        items = []
        for key, value in obj.items():
            if type(key) not in _KEY_TYPES:
                raise TypeError(f"save: dict keys must be str, int, float, bool or None, got "
                                f"{type(key).__name__} key {key!r} in {where}")
            items.append([self.encode(key, where), self.encode(value, f"{where}[{key!r}]")])
        kind = "ordered_dict" if isinstance(obj, collections.OrderedDict) else "dict"
        return {"type": kind, "items": items}


def _write_checkpoint(f, header, arrays):
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_HEADER_ENTRY, header)
        for index, array in enumerate(arrays):
            with zf.open(_array_entry(index), mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _path_of(f):
    """``f`` as a str path, or None when it is a file object."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(os.fspath(f))
    return None


def save(obj, f):
    """Writes ``obj`` (e.g. a ``state_dict()``, or a dict of model and optimizer state, epoch
    and random state) to ``f``: a path, used exactly as given, or a binary file object.

    A path is written through a temporary file in the same directory that replaces it only
    once complete, so an interrupted save leaves any previous checkpoint intact."""
    encoder = _Encoder()
    tree = encoder.encode(obj, "the object")
    header = json.dumps({"format": _FORMAT, "version": _VERSION, "object": tree},
                        allow_nan=False)
    path = _path_of(f)
    if path is None:
        _write_checkpoint(f, header, encoder.arrays)
        return
    directory, name = os.path.split(os.path.abspath(path))
    partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(partial, "xb") as out:
            _write_checkpoint(out, header, encoder.arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


# -------------------------------------------------------------------------------- decoding
def _tensor_placement(map_location):
    """A function applied to each loaded tensor, from ``map_location`` as ``torch.load`` takes
    it: None, a device or its name, a dict from saved to wanted locations, or a callable
    ``(tensor, location) -> tensor or None``. Tensors are saved from the CPU, so only the CPU
    is a valid target."""
    if map_location is None:
        return lambda t: t
    if isinstance(map_location, (str, device)):
        check_device(map_location, "load")
        return lambda t: t
    if isinstance(map_location, dict):
        check_device(map_location.get("cpu", "cpu"), "load")
        return lambda t: t
    if callable(map_location):
        def place(t):
            moved = map_location(t, "cpu")
            return t if moved is None else moved
        return place
    raise TypeError(f"load: map_location should be None, a device, a str, a dict or a "
                    f"callable, got {type(map_location).__name__}")


class _Decoder:
    def __init__(self, zf, place):
        self._zf = zf
        self._place = place
        self._objects = {}  # array index -> loaded tensor/array/scalar, for shared references

    def _array(self, index):
        with self._zf.open(_array_entry(index)) as entry:
            return np.lib.format.read_array(entry, allow_pickle=False)

    def _shared(self, node, build):
        index = node["array"]
        if index not in self._objects:
            self._objects[index] = build(self._array(index))
        return self._objects[index]

    def _tensor(self, array, requires_grad):
        t = Tensor._make(array)
        if requires_grad:
            t.requires_grad_(True)
        return self._place(t)

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind == "tensor":
            return self._shared(node, lambda a: self._tensor(a, node["requires_grad"]))
        if kind == "ndarray":
            return self._shared(node, lambda a: a)
        if kind == "numpy_scalar":
            return self._shared(node, lambda a: a[()])
        if kind == "tuple":
            return tuple(self.decode(item) for item in node["items"])
        if kind in ("dict", "ordered_dict"):
            pairs = ((self.decode(k), self.decode(v)) for k, v in node["items"])
            return dict(pairs) if kind == "dict" else collections.OrderedDict(pairs)
        if kind == "float":
            return float(node["value"])
        if kind == "complex":
            return complex(self.decode(node["real"]), self.decode(node["imag"]))
        raise RuntimeError(f"load: corrupt checkpoint: unknown entry type {kind!r}")


def _read_header(zf, described):
    names = zf.namelist()
    if _HEADER_ENTRY not in names:
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise RuntimeError(f"load: {described} is a PyTorch (pickle) checkpoint, not a "
                               f"retrograd checkpoint. {_NOT_A_CHECKPOINT}")
        raise RuntimeError(f"load: {described} is not a retrograd checkpoint. "
                           f"{_NOT_A_CHECKPOINT}")
    header = json.loads(zf.read(_HEADER_ENTRY))
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise RuntimeError(f"load: {described} is not a retrograd checkpoint. "
                           f"{_NOT_A_CHECKPOINT}")
    if header.get("version", 0) > _VERSION:
        raise RuntimeError(f"load: {described} was written by a newer retrograd (format "
                           f"version {header['version']}; this one reads up to {_VERSION})")
    return header


def load(f, map_location=None, weights_only=None):
    """Reads an object written by ``save`` from a path or a binary file object; tensors come
    back as tensors with their dtype and ``requires_grad`` flag.

    ``weights_only`` is accepted for compatibility: loading never runs code from the file, so
    every checkpoint is as safe as PyTorch's ``weights_only=True``."""
    place = _tensor_placement(map_location)
    path = _path_of(f)
    described = "the file" if path is None else repr(path)
    source = f if path is None else path
    if path is None and not f.seekable():
        source = io.BytesIO(f.read())  # reading a zip needs random access
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise RuntimeError(f"load: {described} is not a retrograd checkpoint. "
                           f"{_NOT_A_CHECKPOINT}") from None
    with zf:
        header = _read_header(zf, described)
        return _Decoder(zf, place).decode(header["object"])


# --------------------------------------------------------------------------- from PyTorch
def _torch_to_array(value):
    import torch
    value = value.detach().cpu()
    if value.dtype == torch.bfloat16:  # NumPy has no bfloat16; float32 holds it exactly
        value = value.float()
    return value.numpy().copy()


def load_torch_state_dict(path):
    """A state dict written by ``torch.save(model.state_dict(), path)`` as an ``OrderedDict``
    of retrograd tensors (bfloat16 becomes float32). Needs PyTorch; reads with
    ``weights_only=True``, so the file cannot run code either."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError("load_torch_state_dict: reading a torch.save() file needs PyTorch "
                          "(pip install torch); retrograd.load() reads retrograd checkpoints "
                          "without it") from exc
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, collections.abc.Mapping):
        raise TypeError(f"load_torch_state_dict: {path!r} holds a {type(state).__name__}, not "
                        "a state dict (a mapping from names to tensors)")
    converted = collections.OrderedDict()
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"load_torch_state_dict: {path!r} is not a plain state dict: entry "
                            f"{name!r} is a {type(value).__name__}, not a tensor (a training "
                            "checkpoint keeps its state dict under a key such as 'model': "
                            "torch.save that entry alone)")
        tensor = Tensor._make(_torch_to_array(value))
        if value.requires_grad:
            tensor.requires_grad_(True)
        converted[name] = tensor
    return converted
