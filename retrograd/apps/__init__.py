"""Applications built on retrograd's public API, each reachable from the ``retrograd`` command.

They are written as users of the framework: read them as tutorials."""
import os


def data_root(data_dir=None):
    """Where datasets live: ``--data-dir``, else ``$RETROGRAD_DATA``, else ~/.cache/retrograd."""
    return (data_dir or os.environ.get("RETROGRAD_DATA")
            or os.path.join(os.path.expanduser("~"), ".cache", "retrograd"))
