"""save/load: round trips of nested checkpoints, atomic writes, refusing foreign files, and
converting torch.save'd state dicts."""
import collections
import io
import json
import math
import os
import pathlib
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.serialization import load, load_torch_state_dict, save

try:
    import torch
except ImportError:
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is not "
                                    "installed")


def assert_same(a, b):
    """Equal values and exactly the same types, all the way down."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, rg.Tensor):
        assert (a.dtype, a.shape, a.requires_grad) == (b.dtype, b.shape, b.requires_grad)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert (a.dtype, a.shape) == (b.dtype, b.shape)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b]
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def round_trip(obj):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer)


def _array(dtype, shape=(2, 3)):
    return (np.arange(int(np.prod(shape))) % 5 - 2).reshape(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32,
                                   np.uint8, np.bool_, np.complex64])
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 4), (1, 1, 5)])
def test_tensor_round_trip_keeps_dtype_and_shape(dtype, shape):
    assert_same(round_trip(rg.tensor(_array(dtype, shape))), rg.tensor(_array(dtype, shape)))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_requires_grad_flag_round_trips_without_grad(requires_grad):
    t = rg.tensor([[1.0, -2.0]], requires_grad=requires_grad)
    if requires_grad:
        (t * 3).sum().backward()
    loaded = round_trip(t)
    assert loaded.requires_grad == requires_grad and loaded.is_leaf and loaded.grad is None


def test_views_are_saved_by_value():
    base = rg.tensor(_array(np.float32, (3, 4)))
    view = rg.Tensor._make(base.array.T[::2])
    assert_same(round_trip(view), rg.tensor(np.ascontiguousarray(view.array)))


_CHECKPOINTS = {
    "state dict": collections.OrderedDict(
        [("fc.weight", rg.randn(3, 2)), ("fc.bias", rg.zeros(3)), ("bn.num", rg.tensor(7))]),
    "optimizer": {"state": {0: {"step": rg.tensor(3.0), "exp_avg": rg.ones(2, 2)},
                            1: {"step": rg.tensor(3.0), "exp_avg": rg.zeros(4)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                    "amsgrad": False, "params": [0, 1], "name": None}]},
    "scalars": [0, -1, 2 ** 130, -(2 ** 70), 1.5, -0.0, 1e308, True, False, None, "text",
                "ünïcode", ""],
    "non-finite": (math.inf, -math.inf, math.nan, 1 + 2j, complex(math.inf, -1)),
    "numpy": {"array": _array(np.int16), "scalar32": np.float32(0.25), "int": np.int64(-4),
              "flag": np.bool_(True), "record": np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")])},
    "mixed keys": {1: "one", "1": "string one", 2.5: "float", False: "bool", None: "none"},
    "empty": [{}, [], (), collections.OrderedDict()],
    "nested": [[(rg.tensor([1, 2]), {"deep": [rg.tensor([[True]])]})]],
}


@pytest.mark.parametrize("name", sorted(_CHECKPOINTS))
def test_nested_checkpoints_round_trip(name):
    assert_same(round_trip(_CHECKPOINTS[name]), _CHECKPOINTS[name])


def test_random_generator_state_round_trips():
    generator = rg.Generator().manual_seed(123)
    generator.rng.standard_normal(5)
    state = round_trip({"rng": generator.get_state()})["rng"]
    assert_same(state, generator.get_state())
    expected = generator.rng.standard_normal(4)
    generator.set_state(state)
    np.testing.assert_array_equal(generator.rng.standard_normal(4), expected)
    legacy = np.random.RandomState(5).get_state(legacy=False)  # holds a uint32 key array
    assert_same(round_trip(legacy), legacy)


def test_shared_tensors_load_as_one_tensor():
    weight = rg.randn(4, 4)
    loaded = round_trip({"encoder.weight": weight, "decoder.weight": weight,
                         "copy": rg.tensor(weight.numpy())})
    assert loaded["encoder.weight"] is loaded["decoder.weight"]
    assert loaded["copy"] is not loaded["encoder.weight"]


def test_namedtuples_load_as_tuples():
    pair = collections.namedtuple("Pair", "values indices")(rg.ones(2), rg.zeros(2))
    loaded = round_trip(pair)
    assert type(loaded) is tuple
    assert_same(loaded, tuple(pair))


_leaves = (st.none() | st.booleans() | st.integers() | st.text(max_size=5)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.builds(lambda v, d: rg.tensor(np.asarray(v, dtype=d)),
                       st.lists(st.integers(-3, 3), max_size=4), st.sampled_from(["i8", "f4"])))
_keys = st.text(max_size=4) | st.integers(-5, 5)
_trees = st.recursive(_leaves, lambda children: (
    st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(_keys, children, max_size=3)), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(_trees)
def test_random_trees_round_trip(tree):
    assert_same(round_trip(tree), tree)


# -------------------------------------------------------------------------- paths and files
@pytest.mark.parametrize("name", ["checkpoint", "model.pt", "weights.npz", "run.ckpt.tmp"])
@pytest.mark.parametrize("as_path", [str, os.fsencode, pathlib.Path])
def test_path_is_used_exactly_as_given(tmp_path, name, as_path):
    target = tmp_path / name
    save({"w": rg.ones(3)}, as_path(str(target)))
    assert os.listdir(tmp_path) == [name]
    assert_same(load(as_path(str(target))), {"w": rg.ones(3)})


def test_checkpoint_is_an_npz_archive(tmp_path):
    save([rg.tensor([1.5, 2.5]), np.arange(3)], tmp_path / "c")
    with np.load(tmp_path / "c", allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["array_0"], np.array([1.5, 2.5], np.float32))
        np.testing.assert_array_equal(archive["array_1"], np.arange(3))


def test_file_objects_including_unseekable_ones(tmp_path):
    with open(tmp_path / "c", "wb") as f:
        save({"a": rg.ones(2)}, f)

    class Unseekable(io.RawIOBase):
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buffer):
            return self.inner.readinto(buffer)

    with open(tmp_path / "c", "rb") as f:
        assert_same(load(f), {"a": rg.ones(2)})
    assert_same(load(Unseekable((tmp_path / "c").read_bytes())), {"a": rg.ones(2)})


def test_saving_over_a_checkpoint_replaces_it(tmp_path):
    save({"epoch": 1}, tmp_path / "c")
    save({"epoch": 2}, tmp_path / "c")
    assert load(tmp_path / "c") == {"epoch": 2}
    assert os.listdir(tmp_path) == ["c"]


# ------------------------------------------------------------------------------ atomicity
@pytest.mark.parametrize("bad, error, match", [
    ({"model": [rg.ones(2), object()]}, TypeError, r"the object\['model'\]\[1\].*object"),
    ({("a", 1): rg.ones(2)}, TypeError, "dict keys"),
    ({"x": np.array([None, 1])}, TypeError, "dtype object"),
    ({"s": {1, 2}}, TypeError, "set"),
])
def test_unsupported_objects_fail_before_touching_the_file(tmp_path, bad, error, match):
    save({"epoch": 1}, tmp_path / "c")
    with pytest.raises(error, match=match):
        save(bad, tmp_path / "c")
    assert load(tmp_path / "c") == {"epoch": 1}
    assert os.listdir(tmp_path) == ["c"]


def test_reference_cycles_are_refused():
    looped = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ValueError, match="contains itself"):
        save(looped, io.BytesIO())


def test_a_failure_while_writing_keeps_the_previous_file(tmp_path, monkeypatch):
    save({"epoch": 1}, tmp_path / "c")
    real_write_array = np.lib.format.write_array
    written = []

    def fail_on_second_array(*args, **kwargs):
        if written:
            raise OSError("disk full")
        written.append(1)
        return real_write_array(*args, **kwargs)
    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        save({"a": rg.ones(1000), "b": rg.ones(1000)}, tmp_path / "c")
    monkeypatch.undo()
    assert load(tmp_path / "c") == {"epoch": 1}
    assert os.listdir(tmp_path) == ["c"]


# --------------------------------------------------------------------------- foreign files
def _zip_with(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("make", ["random bytes", "empty file", "plain zip", "npz",
                                  "torch-like zip", "other json"])
def test_foreign_files_are_refused_clearly(tmp_path, make):
    path = tmp_path / "foreign"
    if make == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(300))
    elif make == "empty file":
        path.write_bytes(b"")
    elif make == "plain zip":
        _zip_with(path, {"readme.txt": "hello"})
    elif make == "npz":
        with open(path, "wb") as f:
            np.savez(f, a=np.ones(2))
    elif make == "torch-like zip":
        _zip_with(path, {"archive/data.pkl": b"\x80\x02", "archive/version": "3"})
    else:
        _zip_with(path, {"retrograd.json": json.dumps({"format": "something else"})})
    with pytest.raises(RuntimeError, match="not a retrograd checkpoint") as info:
        load(path)
    message = str(info.value)
    assert "non-pickle" in message and "load_torch_state_dict(path)" in message
    assert ("PyTorch (pickle) checkpoint" in message) == (make == "torch-like zip")


@requires_torch
def test_a_real_torch_checkpoint_is_refused_with_the_way_out(tmp_path):
    torch.save(torch.nn.Linear(2, 3).state_dict(), tmp_path / "model.pt")
    with pytest.raises(RuntimeError, match=r"PyTorch \(pickle\).*load_torch_state_dict"):
        load(tmp_path / "model.pt")


@pytest.mark.parametrize("header, match", [
    ({"format": "retrograd-checkpoint", "version": 99, "object": None}, "newer retrograd"),
    ({"format": "retrograd-checkpoint", "version": 1, "object": {"type": "code"}}, "corrupt"),
])
def test_newer_or_corrupt_checkpoints(tmp_path, header, match):
    _zip_with(tmp_path / "c", {"retrograd.json": json.dumps(header)})
    with pytest.raises(RuntimeError, match=match):
        load(tmp_path / "c")


# --------------------------------------------------------------------- load's arguments
@pytest.mark.parametrize("map_location", [None, "cpu", rg.device("cpu"), {"cuda:0": "cpu"},
                                          lambda storage, location: storage,
                                          lambda storage, location: None])
@pytest.mark.parametrize("weights_only", [None, True, False])
def test_map_location_and_weights_only_are_accepted(map_location, weights_only):
    buffer = io.BytesIO()
    save({"w": rg.ones(2)}, buffer)
    buffer.seek(0)
    assert_same(load(buffer, map_location=map_location, weights_only=weights_only),
                {"w": rg.ones(2)})


def test_map_location_callable_can_replace_tensors():
    buffer = io.BytesIO()
    save([rg.ones(2), rg.zeros(1)], buffer)
    buffer.seek(0)
    loaded = load(buffer, map_location=lambda t, location: t * 2)
    assert loaded[0].tolist() == [2.0, 2.0]


@pytest.mark.parametrize("map_location, error", [("cuda", RuntimeError),
                                                 ({"cpu": "cuda:0"}, RuntimeError),
                                                 (3, TypeError)])
def test_bad_map_location(map_location, error):
    buffer = io.BytesIO()
    save(1, buffer)
    buffer.seek(0)
    with pytest.raises(error, match="load"):
        load(buffer, map_location=map_location)


# ------------------------------------------------------------------ torch.save'd state dicts
@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "bool"])
def test_load_torch_state_dict(tmp_path, dtype):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    state = {name: (t * 3).to(getattr(torch, dtype)) for name, t in model.state_dict().items()}
    torch.save(collections.OrderedDict(state), tmp_path / "model.pt")
    loaded = load_torch_state_dict(tmp_path / "model.pt")
    assert type(loaded) is collections.OrderedDict and list(loaded) == list(state)
    for name, value in state.items():
        assert_same(loaded[name], rg.tensor(value.numpy()))
    assert_same(round_trip(loaded), loaded)  # converted once, then saved without torch


@requires_torch
def test_load_torch_state_dict_widens_bfloat16(tmp_path):
    torch.save({"w": torch.tensor([1.5, -2.0], dtype=torch.bfloat16)}, tmp_path / "m.pt")
    loaded = load_torch_state_dict(tmp_path / "m.pt")
    assert loaded["w"].dtype == np.float32 and loaded["w"].tolist() == [1.5, -2.0]


@requires_torch
@pytest.mark.parametrize("saved, match", [({"model": {"w": 1}}, "entry 'model' is a dict"),
                                          ([1, 2], "holds a list")])
def test_load_torch_state_dict_needs_a_state_dict(tmp_path, saved, match):
    torch.save(saved, tmp_path / "m.pt")
    with pytest.raises(TypeError, match=match):
        load_torch_state_dict(tmp_path / "m.pt")


def test_load_torch_state_dict_without_torch(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="needs PyTorch"):
        load_torch_state_dict(tmp_path / "m.pt")
