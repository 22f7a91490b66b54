"""The files of a run directory shared by the text applications: config.json, written
atomically and read back with a check that it belongs to the expected application."""
import json
import os

__all__ = ["write_json", "read_config"]


def write_json(path, content):
    """Writes ``content`` as indented UTF-8 JSON, through a temporary file, so that an
    interrupted run never leaves a half-written file."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(content, f, indent=2, ensure_ascii=False)
    os.replace(partial, path)


def read_config(run_dir, app, train_command):
    """The config.json of ``run_dir``, which must be a run of the application ``app`` (written
    by ``retrograd train <train_command>``)."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir} holds no config.json: is it a directory written "
                                f"by `retrograd train {train_command}`?")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    if config.get("app") != app:
        raise ValueError(f"{run_dir} holds a run of the {config.get('app')!r} application, "
                         f"not a model written by `retrograd train {train_command}`")
    return config
