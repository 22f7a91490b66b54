"""Containers: modules that hold other modules or parameters so that they are registered.

``Sequential`` chains its children; ``ModuleList``/``ModuleDict`` and ``ParameterList``/
``ParameterDict`` are a list and a dict whose entries are registered under their index or key
(``layers.0.weight``, ``params.alpha``), which a plain Python list or dict would hide from
``parameters()`` and ``state_dict()``.
"""
import itertools
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module, _indent_after_first_line

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _absolute_index(idx, length):
    """``idx`` (possibly negative) as a position in ``range(length)``."""
    idx = operator.index(idx)
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range")
    return idx % length


class _ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: children keyed ``'0'``, ``'1'``, ... in
    order, addressed by position; deleting renumbers the rest."""

    def _key_at(self, idx):
        return list(self._modules)[_absolute_index(idx, len(self._modules))]

    def _from_slice(self, items):
        raise NotImplementedError

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._from_slice(list(self._modules.items())[idx])
        return self._modules[self._key_at(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key_at(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key_at(idx)]
        for key in keys:
            delattr(self, key)
        self._number(list(self._modules.values()))

    def _number(self, modules):
        """Makes ``modules`` the children, keyed by position."""
        self._modules.clear()
        self._modules.update((str(i), module) for i, module in enumerate(modules))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: expected a Module, got "
                            f"{type(module).__name__}")
        length = len(self._modules)
        if not -length <= index <= length:
            raise IndexError(f"Index out of range: {index}")
        index = index + length if index < 0 else index
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._number(modules)

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, "
                            f"but got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def pop(self, idx=-1):
        module = self[idx]
        del self[idx]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)


class Sequential(_ModuleSequence):
    """``Sequential(m1, m2, ...)`` or ``Sequential(OrderedDict(name=module))``: calling it feeds
    the input through each child in turn."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _from_slice(self, items):
        return type(self)(OrderedDict(items))  # keeps the children's keys, as PyTorch does

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other).__name__} is given.")
        return type(self)(*self, *other)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, registered as children ``0``, ``1``, ... (it has no ``forward``)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from_slice(self, items):
        return type(self)(module for _, module in items)

    def __add__(self, other):
        return type(self)(itertools.chain(self, other))

    def _repr_lines(self):
        """Runs of identical children collapse into one line: ``(0-2): 3 x Linear(...)``."""
        lines, position = [], 0
        for text, run in itertools.groupby(repr(module) for module in self):
            count = sum(1 for _ in run)
            label = (f"({position}): " if count == 1
                     else f"({position}-{position + count - 1}): {count} x ")
            lines.append(label + _indent_after_first_line(text, 2))
            position += count
        return lines


class ModuleDict(Module):
    """A dict of modules, registered as children under their keys (insertion order kept)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """From a mapping (its order) or an iterable of ``(key, module)`` pairs."""
        for key, module in _pairs("ModuleDict", modules, sort_plain_mappings=False):
            self[key] = module


def _pairs(container, entries, sort_plain_mappings):
    """The ``(key, value)`` pairs of a mapping or of an iterable of pairs, checked."""
    if isinstance(entries, (Mapping, ModuleDict, ParameterDict)):
        pairs = list(entries.items())
        if sort_plain_mappings and not isinstance(entries, (OrderedDict, ParameterDict)):
            pairs.sort(key=lambda pair: pair[0])
        return pairs
    if not isinstance(entries, Iterable):
        raise TypeError(f"{container}.update should be called with an iterable of key/value "
                        f"pairs, but got {type(entries).__name__}")
    pairs = []
    for position, pair in enumerate(entries):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{container} update sequence element #{position} should be "
                            f"Iterable; is {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{container} update sequence element #{position} has length "
                             f"{len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _as_parameter(value):
    """Tensors stored in parameter containers become parameters (other objects stay)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe_entries(labelled_values):
    """``repr`` lines of parameter containers: ``(0): Parameter containing: [retrograd.float32
    of size 2x3]``."""
    lines = []
    for label, value in labelled_values:
        if isinstance(value, Tensor):
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            size = "x".join(str(n) for n in value.shape)
            description = f"{kind} containing: [retrograd.{value.dtype.name} of size {size}]"
        else:
            description = f"Object of type: {type(value).__name__}"
        lines.append(f"  ({label}): {description}")
    return "\n".join(lines)


class ParameterList(Module):
    """A list of parameters registered as ``0``, ``1``, ... (tensors are made parameters)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(*idx.indices(len(self))))
        return getattr(self, str(_absolute_index(idx, len(self))))

    def __setitem__(self, idx, value):
        setattr(self, str(_absolute_index(idx, len(self))), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return _describe_entries(enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their (string) keys; tensors are made parameters.
    A plain ``dict`` given to the constructor or ``update`` is added in sorted key order, an
    ``OrderedDict`` in its own order (as in PyTorch)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _checked_key(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a "
                            f"string (type is '{type(key).__name__}').")
        return key

    def __getitem__(self, key):
        return getattr(self, self._checked_key(key))

    def __setitem__(self, key, value):
        setattr(self, self._checked_key(key), _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        return type(self)(OrderedDict(self.items()))

    def update(self, parameters):
        for key, value in _pairs("ParameterDict", parameters, sort_plain_mappings=True):
            self[key] = value

    def extra_repr(self):
        return _describe_entries(self.items())
