"""``Module``: the base class of layers and models.

A module is a function with state. Its state is a tree: each module holds its own parameters
(learnable ``Parameter`` tensors), buffers (tensors that are state but not learned, e.g. running
statistics) and child modules, all registered by plain attribute assignment
(``self.fc = Linear(2, 3)``). Walking that tree gives ``parameters()``, ``state_dict()`` (keys are
the dotted paths from the root, ``features.0.weight``), ``train()``/``eval()``, dtype conversion
and the nested ``repr``. Calling a module runs its ``forward`` between the registered hooks.
"""
import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import _dtype
from ...autograd.grad_mode import no_grad
from ...device import check_device, device as _device
from ...tensor import Tensor
from ..parameter import Parameter

__all__ = ["Module"]


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook; also a context
    manager that removes it on exit."""

    _ids = itertools.count()

    def __init__(self, *hook_dicts):
        self._hook_dicts = hook_dicts
        self.id = next(RemovableHandle._ids)

    def remove(self):
        for hooks in self._hook_dicts:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _indent_after_first_line(text, spaces):
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


def _check_member_name(module, kind, name, registry):
    """Names of parameters, buffers and submodules: non-empty strings without dots that do not
    shadow another attribute."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name must not contain ".", got {name}')
    if name == "":
        raise KeyError(f'{kind} name must not be the empty string ""')
    if hasattr(module, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


def _target_dtype(args, kwargs):
    """The dtype asked of ``Module.to`` (None if none), from ``to(device)``, ``to(dtype)``,
    ``to(device, dtype)``, ``to(tensor)`` or keywords; the device is checked."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str, _device)):
            device = arg
        elif isinstance(arg, bool):  # the positional non_blocking flag
            continue
        elif arg is not None:
            dtype = arg
    dtype = _dtype.as_dtype(dtype)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                        f"desired dtype=retrograd.{_dtype.name_of(dtype)}")
    check_device(device, "Module.to")
    return dtype


def _as_array(value):
    """A state_dict value (tensor, NumPy array, or anything exposing ``__array__``) as an
    array, or None when it is none of these."""
    if isinstance(value, Tensor):
        return value.array
    if hasattr(value, "__array__"):
        return np.asarray(value)
    return None


class Module:
    """Base class of all layers and models: subclasses call ``super().__init__()`` first, assign
    parameters and submodules as attributes, and define ``forward``."""

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"{args!r} {kwargs!r}")
        # object.__setattr__: our own __setattr__ relies on these dicts existing.
        set_attribute = super().__setattr__
        set_attribute("training", True)
        set_attribute("_parameters", OrderedDict())
        set_attribute("_buffers", OrderedDict())
        set_attribute("_non_persistent_buffers_set", set())
        set_attribute("_modules", OrderedDict())
        set_attribute("_forward_pre_hooks", OrderedDict())
        set_attribute("_forward_pre_hooks_with_kwargs", {})
        set_attribute("_forward_hooks", OrderedDict())
        set_attribute("_forward_hooks_with_kwargs", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ------------------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Adds ``param`` (a ``Parameter`` or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_member_name(self, "parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (retrograd.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Adds a tensor that is state but not a parameter (e.g. running statistics); a
        non-persistent buffer is left out of ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_member_name(self, "buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (retrograd Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Adds a child module (or None, a placeholder) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        _check_member_name(self, "module", name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` (``''`` is this module)."""
        module = self
        for name in target.split(".") if target else ():
            if name not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
            module = module._modules[name]
            if not isinstance(module, Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
        return module

    # -------------------------------------------------------------------- attribute access
    def __setattr__(self, name, value):
        members = self.__dict__
        params = members.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(retrograd.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if members.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in members.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (retrograd.nn.Module or None expected)")
            self._modules[name] = None
        elif name in members.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(retrograd.Tensor or None expected)")
            self._buffers[name] = value
        else:
            super().__setattr__(name, value)

    def _forget(self, name, keep):
        """Removes ``name`` from the places an attribute can live before it is registered in
        ``keep`` (left alone, so that replacing an entry keeps its position)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: parameters, buffers and modules live in their
        # registries, not in the instance dict.
        members = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            found = members.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    def __dir__(self):
        names = itertools.chain(dir(type(self)), self.__dict__, self._parameters,
                                self._modules, self._buffers)
        # Container children are named 0, 1, ...: not valid attribute names.
        return sorted({name for name in names if not name[:1].isdigit()})

    # ---------------------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                changed = hook(self, args, kwargs)
                if changed is not None:
                    if not (isinstance(changed, tuple) and len(changed) == 2):
                        raise RuntimeError("forward pre-hook registered with with_kwargs=True "
                                           f"must return None or (args, kwargs), got {changed!r}")
                    args, kwargs = changed
            else:
                changed = hook(self, args)
                if changed is not None:
                    args = changed if isinstance(changed, tuple) else (changed,)
        result = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                changed = hook(self, args, kwargs, result)
            else:
                changed = hook(self, args, result)
            if changed is not None:
                result = changed
        return result

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``) runs
        before ``forward``; a non-None return replaces the arguments."""
        return self._add_hook(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs,
                              hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``) runs after
        ``forward``; a non-None return replaces the output."""
        return self._add_hook(self._forward_hooks, self._forward_hooks_with_kwargs,
                              hook, prepend, with_kwargs)

    @staticmethod
    def _add_hook(hooks, with_kwargs_ids, hook, prepend, with_kwargs):
        handle = RemovableHandle(hooks, with_kwargs_ids)
        hooks[handle.id] = hook
        if with_kwargs:
            with_kwargs_ids[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # --------------------------------------------------------------------- tree traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """This module and all below it as ``(dotted name, module)``, each module once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        """Tensors of one registry (``_parameters`` or ``_buffers``) of this module, or of the
        whole tree, with dotted names; a tensor shared by several modules comes once."""
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_prefix, owner in owners:
            for name, tensor in getattr(owner, registry).items():
                if tensor is None or (remove_duplicate and id(tensor) in seen):
                    continue
                seen.add(id(tensor))
                yield owner_prefix + ("." if owner_prefix else "") + name, tensor

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Calls ``fn`` on every submodule (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --------------------------------------------------------------------- training state
    def train(self, mode=True):
        """Sets training mode (dropout active, batch statistics used) here and below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all parameters: to None (the default) or to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_()
                param.grad.zero_()

    # ------------------------------------------------------------------ dtype and device
    def _apply(self, fn):
        """Converts every parameter, gradient and buffer with ``fn``. Parameters keep their
        identity (only their data changes), so optimizers holding them keep working."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                converted = fn(param)
                if converted is not param:
                    param.data = converted
                if param.grad is not None:
                    converted = fn(param.grad)
                    if converted is not param.grad:
                        param.grad.data = converted
            for name, buffer in self._buffers.items():
                if buffer is not None:
                    self._buffers[name] = fn(buffer)
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(tensor)``, in place;
        only floating-point parameters and buffers change dtype."""
        dtype = _target_dtype(args, kwargs)
        if dtype is None:
            return self
        return self._apply(lambda t: t.to(dtype) if t.dtype.kind in "fc" else t)

    def _cast_floating(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self._cast_floating(_dtype.float32)

    def double(self):
        return self._cast_floating(_dtype.float64)

    def half(self):
        return self._cast_floating(_dtype.float16)

    def cpu(self):
        return self

    def cuda(self, device=None):
        check_device("cuda" if device is None else device, "Module.cuda")
        return self

    # ------------------------------------------------------------------------ state_dict
    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers of the whole tree under dotted names, as detached
        tensors sharing the modules' arrays (``keep_vars=True``: the tensors themselves)."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, tensor in self._local_state().items():
            destination[prefix + name] = tensor if keep_vars else tensor.detach()

    def _local_state(self):
        """This module's own parameters and persistent buffers (those that are not None)."""
        state = {name: p for name, p in self._parameters.items() if p is not None}
        state.update((name, b) for name, b in self._buffers.items()
                     if b is not None and name not in self._non_persistent_buffers_set)
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies ``state_dict`` (tensors or NumPy arrays under ``state_dict()``'s keys) into
        the parameters and buffers in place. Missing and unexpected keys raise when ``strict``;
        shape mismatches always raise. Returns ``(missing_keys, unexpected_keys)``.
        ``assign=True`` makes the loaded tensors the parameters instead of copying."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        for prefix, module in self.named_modules(remove_duplicate=False):
            module._load_from_state_dict(state_dict, prefix + "." if prefix else "", {}, True,
                                         missing, unexpected, errors, assign)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{key}"' for key in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{key}"' for key in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        """Loads this module's own entries (those under ``prefix``). PyTorch's signature, so that
        subclasses that changed their layout can override it to convert old checkpoints
        (``local_metadata`` is always empty here: no versions are recorded)."""
        local_state = self._local_state()
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            array = _as_array(state_dict[key])
            if array is None:
                error_msgs.append(f'While copying the parameter named "{key}", expected a Tensor '
                                  f"or array from checkpoint but received "
                                  f"{type(state_dict[key])}")
            elif array.shape != current.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{tuple(array.shape)} from checkpoint, the shape in current "
                                  f"model is {tuple(current.shape)}.")
            elif assign:
                self._assign_loaded(name, current, array)
            else:
                with no_grad():
                    current.copy_(Tensor._make(array))
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                name = key[len(prefix):].split(".", 1)[0]
                if name not in self._modules and name not in local_state:
                    unexpected_keys.append(key)

    def _assign_loaded(self, name, current, array):
        if isinstance(current, Parameter):
            self._parameters[name] = Parameter(array, requires_grad=current.requires_grad)
        else:
            self._buffers[name] = Tensor._make(array)

    # ----------------------------------------------------------------------------- repr
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module's own settings, shown inside its ``repr`` (e.g. ``in_features=2``)."""
        return ""

    def _repr_lines(self):
        """The lines inside the parentheses of ``repr``: settings, then one per child."""
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _indent_after_first_line(repr(module), 2))
        return lines

    def __repr__(self):
        lines = self._repr_lines()
        if not lines:
            return self._get_name() + "()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
