"""Multi30k (Task 1): English descriptions of Flickr images and their German translations.

    english, german = load_multi30k("train", data_dir)      # 29,000 pairs of raw sentences

The files are ``<data_dir>/multi30k/{train,val,test_2016_flickr}.{en,de}.gz``; line ``i`` of
``X.en.gz`` is translated by line ``i`` of ``X.de.gz``. The text is raw: mixed case, not
tokenized ("Two young, White males are outside near many bushes.").

``detokenize`` turns the tokens a model writes back into ordinary text, the form the
references have, so that BLEU can be computed by sacrebleu on detokenized output against the
raw references, as is the standard for reporting it.
"""
import gzip
import os
import re

from retrograd.apps import data_root

__all__ = ["SPLITS", "load_multi30k", "detokenize"]

SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}

# No space before closing marks, none after opening ones.
_SPACE_BEFORE_CLOSING = re.compile(r" +([.,!?;:%)\]}]|\.\.\.)")
_SPACE_AFTER_OPENING = re.compile(r"([(\[{]) +")
_QUOTED = re.compile(r'" *([^"]*?) *"')


def load_multi30k(split, data_dir=None):
    """``(english, german)``: the sentences of ``split`` ('train', 'val' or 'test', the 2016
    Flickr test set), as lists of str, pair ``i`` at position ``i`` of both."""
    if split not in SPLITS:
        raise ValueError(f"load_multi30k: split must be one of {', '.join(SPLITS)}, got "
                         f"{split!r}")
    folder = os.path.join(data_root(data_dir), "multi30k")
    sentences = []
    for language in ("en", "de"):
        path = os.path.join(folder, f"{SPLITS[split]}.{language}.gz")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} not found: point --data-dir (or $RETROGRAD_DATA) "
                                    "at the folder that holds multi30k/")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            sentences.append(f.read().splitlines())
    english, german = sentences
    if len(english) != len(german):
        raise ValueError(f"load_multi30k: the {split} files do not pair up: {len(english)} "
                         f"English and {len(german)} German lines")
    return english, german


def detokenize(tokens):
    """Tokens -> text: joined by spaces, except before closing marks (``. , ! ? ; : ) %``),
    after opening ones (``(``) and inside pairs of double quotes."""
    text = " ".join(tokens)
    text = _SPACE_BEFORE_CLOSING.sub(r"\1", text)
    text = _SPACE_AFTER_OPENING.sub(r"\1", text)
    return _QUOTED.sub(r'"\1"', text)
