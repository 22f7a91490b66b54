"""Devices. Arrays live in NumPy (the CPU); the ``device`` concept follows PyTorch's so that a
GPU backend can slot in behind the same names."""


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:0")`` or ``device("cuda", 0)``."""

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"device: expected one of cpu, cuda device type, got {type!r}")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def device_of(tensor):
    return CPU


def check_device(dev, op="to"):
    """Accepts the CPU; a CUDA device needs the GPU backend, which is not available here."""
    if dev is None:
        return CPU
    dev = device(dev) if not isinstance(dev, device) else dev
    if dev.type == "cuda":
        raise RuntimeError(f"{op}: device {dev} requested, but no CUDA backend is available "
                           "(retrograd.cuda.is_available() is False); use device='cpu'")
    return dev


class _CudaModule:
    """``retrograd.cuda``: reports no GPU until a GPU backend is installed."""

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def device_count():
        return 0

    @staticmethod
    def manual_seed(seed):
        pass

    manual_seed_all = manual_seed


class _AcceleratorModule:
    @staticmethod
    def is_available():
        return False

    @staticmethod
    def current_accelerator():
        return None


cuda = _CudaModule()
accelerator = _AcceleratorModule()
