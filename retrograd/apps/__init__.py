"""Applications built on retrograd's public API, each reachable from the ``retrograd`` command.

They are written as users of the framework: read them as tutorials."""
import os

import retrograd as rg


def data_root(data_dir=None):
    """Where datasets live: ``--data-dir``, else ``$RETROGRAD_DATA``, else ~/.cache/retrograd."""
    return (data_dir or os.environ.get("RETROGRAD_DATA")
            or os.path.join(os.path.expanduser("~"), ".cache", "retrograd"))


def load_best_model(run_dir, make_model, unfinished="the run has not finished an epoch"):
    """The model ``make_model()`` builds, in eval mode, with the weights of ``run_dir``'s
    best.ckpt; ``unfinished`` says why that file may be missing. The file is looked for
    first, since the config.json of a run that never got that far may not describe a model."""
    checkpoint = os.path.join(run_dir, "best.ckpt")
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"{checkpoint} not found: {unfinished}")
    model = make_model()
    model.load_state_dict(rg.load(checkpoint))
    model.eval()
    return model
