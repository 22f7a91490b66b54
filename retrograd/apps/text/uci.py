"""UCI's "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015): 3,000 review sentences
from Amazon, IMDb and Yelp, 500 positive (1) and 500 negative (0) from each site.

Each file has one ``sentence<TAB>label`` per line. A sentence may hold quotes that never close,
so a line is split on its last tab, never read as CSV. There is no official split: ``load_uci``
shuffles the sentences with a fixed seed and cuts them 80% / 10% / 10% into train / dev /
test, the same for every run with the same ``split_seed``.
"""
import os

import numpy as np

__all__ = ["parse_line", "read_file", "load_uci", "FOLDER", "FILES"]

FOLDER = os.path.join("uci_sentiment_sentences", "sentiment labelled sentences")
FILES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt",
         "yelp": "yelp_labelled.txt"}
SPLIT_FRACTIONS = {"train": 0.8, "dev": 0.1, "test": 0.1}


def parse_line(line):
    """``(sentence, label)`` of one line: the text before its last tab (spaces around it
    removed) and the 0 or 1 after it."""
    text, tab, label = line.rstrip("\r\n").rpartition("\t")
    if not tab or label.strip() not in ("0", "1"):
        raise ValueError(f"expected 'sentence<TAB>0' or 'sentence<TAB>1', got {line[:60]!r}")
    return text.strip(), int(label)


def read_file(path):
    """``(sentences, labels)`` of one file, skipping empty lines."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    text, label = parse_line(line)
                except ValueError as error:
                    raise ValueError(f"{path}, line {number}: {error}") from None
                texts.append(text)
                labels.append(label)
    return texts, labels


def load_uci(root, split_seed=0):
    """The splits ``{'train', 'dev', 'test'}`` -> ``(sentences, labels)`` of the three files
    in ``root/uci_sentiment_sentences/sentiment labelled sentences/``, shuffled together with
    ``split_seed`` and cut 80/10/10."""
    folder = os.path.join(root, FOLDER)
    missing = [name for name in FILES.values() if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        raise FileNotFoundError(
            f"uci: {', '.join(missing)} not found in {folder}; put the files of UCI's "
            f"'Sentiment Labelled Sentences' (the folder 'sentiment labelled sentences' of "
            f"its zip, https://archive.ics.uci.edu/dataset/331) there, or point --data-dir "
            f"(or $RETROGRAD_DATA) at the folder that holds uci_sentiment_sentences/")
    texts, labels = [], []
    for name in FILES.values():
        file_texts, file_labels = read_file(os.path.join(folder, name))
        texts += file_texts
        labels += file_labels
    order = np.random.default_rng(split_seed).permutation(len(texts))
    ends = np.cumsum([round(fraction * len(texts)) for fraction in SPLIT_FRACTIONS.values()])
    ends[-1] = len(texts)
    splits, start = {}, 0
    for split, end in zip(SPLIT_FRACTIONS, ends):
        chosen = order[start:end].tolist()
        splits[split] = ([texts[i] for i in chosen], [labels[i] for i in chosen])
        start = end
    return splits
