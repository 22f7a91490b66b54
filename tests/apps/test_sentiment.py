"""The sentiment-analysis application on tiny generated corpora: the treebank parser, the UCI
reader, the model (padding never changes a prediction; a trivially separable task is learned
to 100%) and the command line end to end (train -> evaluate -> predict-sentiment)."""
import json
import os
import random
import re

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.apps.text import sst, uci
from retrograd.apps.text.sentiment import SentimentClassifier, load_splits, predict_probabilities
from retrograd.cli import main
from retrograd.data import DataLoader
from retrograd.text import PadCollate, Vocab, WordTokenizer, pad_batch
from retrograd.train import accuracy, fit

NBSP = "\u00a0"
POSITIVE = ["good", "great", "funny", "gripping", "lovely"]
NEGATIVE = ["bad", "dull", "awful", "boring", "tedious"]
FILLER = ["the", "film", "is", "a", "movie", "very", "plot", "-LRB-", "-RRB-", "``", "''",
          "it", "'s", "n't", f"2{NBSP}1\\/2"]


# ------------------------------------------------------------------------ generated corpora
def right_branching_tree(words, sentiment_word, label):
    """A treebank line: leaves neutral except the sentiment word, and every phrase holding
    the sentiment word labelled like the sentence."""
    def leaf(word):
        return f"({label if word == sentiment_word else 2} {word})"
    tree = leaf(words[-1])
    for position in range(len(words) - 2, -1, -1):
        phrase_label = label if sentiment_word in words[position:] else 2
        tree = f"({phrase_label} {leaf(words[position])} {tree})"
    return tree


def sentiment_sentences(count, rng, neutral_share=0.0):
    """``count`` (words, label 0-4) pairs: a few filler words around one sentiment word."""
    sentences = []
    for _ in range(count):
        label = 2 if rng.random() < neutral_share else rng.choice([0, 1, 3, 4])
        word = rng.choice(POSITIVE if label >= 2 else NEGATIVE)
        words = rng.sample(FILLER, rng.randint(1, 5)) + [word]
        rng.shuffle(words)
        sentences.append((words, word, label))
    return sentences


def write_sst(root, sizes=(("train", 120), ("dev", 30), ("test", 30)), seed=0):
    rng = random.Random(seed)
    folder = root / "sst" / "trees"
    folder.mkdir(parents=True)
    for split, count in sizes:
        lines = [right_branching_tree(words, word, label)
                 for words, word, label in sentiment_sentences(count, rng, neutral_share=0.1)]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def write_uci(root, per_file=20, seed=0):
    rng = random.Random(seed)
    folder = root / "uci_sentiment_sentences" / "sentiment labelled sentences"
    folder.mkdir(parents=True)
    for name in uci.FILES.values():
        lines = [f"{' '.join(words).replace('-LRB-', '(')}  \t{int(label > 2)}"
                 for words, _, label in sentiment_sentences(per_file, rng)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# ----------------------------------------------------------------------------- tree parser
def test_parse_tree_labels_tokens_and_phrases():
    tree = sst.parse_tree("(3 (2 It) (4 (2 's) (4 good)))\n")
    assert tree.label == 3
    assert tree.tokens == ["It", "'s", "good"]
    assert tree.nodes.dtype == np.int64
    assert tree.nodes.tolist() == [[2, 0, 1], [2, 1, 2], [4, 2, 3], [4, 1, 3], [3, 0, 3]]


def test_parse_tree_unescapes_the_penn_treebank():
    tree = sst.parse_tree("(2 (2 -LRB-) (2 (2 ``) (2 (2 writer\\/director) (2 (2 '') (2 (2 \\*) "
                          "(2 (2 `) (2 -RRB-)))))))")
    assert tree.tokens == ["(", '"', "writer/director", '"', "*", "'", ")"]


def test_a_no_break_space_stays_inside_its_token():
    tree = sst.parse_tree(f"(2 (2 8) (2 1{NBSP}\\/2))")
    assert tree.tokens == ["8", f"1{NBSP}/2"]
    assert tree.nodes[-1].tolist() == [2, 0, 2]


def test_a_single_word_sentence():
    tree = sst.parse_tree("(4 Wow)")
    assert (tree.label, tree.tokens, tree.nodes.tolist()) == (4, ["Wow"], [[4, 0, 1]])


@pytest.mark.parametrize("line, why", [
    ("(2 (2 a) (2 b)", "the tree is not closed"),
    ("(2 a))", "unbalanced"),
    ("(5 a)", "expected '\\(' and a label 0-4"),
    ("(2 a) (2 b)", "text after the end of the tree"),
    ("a (2 b)", "a token outside the tree"),
    ("(2 )", "a node without tokens"),
    ("   ", "no tree"),
])
def test_malformed_trees_are_refused(line, why):
    with pytest.raises(ValueError, match=why):
        sst.parse_tree(line)


def test_read_trees_names_the_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("(3 (2 a) (3 b))\n\n(2 (2 a)\n")
    with pytest.raises(ValueError, match=r"train.txt, line 3: parse_tree: the tree is not "
                                         "closed"):
        sst.read_trees(path)


TREES = [sst.parse_tree(line) for line in [
    "(4 (2 It) (4 (2 's) (4 good)))",
    "(1 (2 It) (1 (2 's) (0 bad)))",
    "(2 (2 It) (2 (2 's) (2 fine)))",
    "(3 (2 It) (3 (2 's) (4 good)))",   # 's good again: its first label (4) is kept
]]


def test_sentences_sst2_drops_neutral_and_maps_labels():
    assert sst.sentences(TREES) == ([TREES[0].tokens, TREES[1].tokens, TREES[3].tokens],
                                    [1, 0, 1])


def test_sentences_sst5_keeps_every_label():
    assert sst.sentences(TREES, fine_grained=True)[1] == [4, 1, 2, 3]


def test_phrases_are_distinct_and_non_neutral():
    texts, labels = sst.phrases(TREES)
    assert dict(zip(map(tuple, texts), labels)) == {
        ("good",): 1, ("'s", "good"): 1, ("It", "'s", "good"): 1,
        ("bad",): 0, ("'s", "bad"): 0, ("It", "'s", "bad"): 0}


def test_phrases_sst5_keep_neutral_phrases():
    texts, labels = sst.phrases(TREES, fine_grained=True)
    assert len(texts) == 11 and labels.count(2) == 5   # It, 's, fine, 's fine, It 's fine


@pytest.mark.parametrize("label, binary", [(0, 0), (1, 0), (2, None), (3, 1), (4, 1)])
def test_binary_label(label, binary):
    assert sst.binary_label(label) == binary


def test_load_sst_trains_on_phrases_and_evaluates_on_sentences(tmp_path):
    write_sst(tmp_path)
    with_phrases = sst.load_sst(tmp_path)
    sentences_only = sst.load_sst(tmp_path, train_phrases=False)
    assert len(with_phrases["train"][0]) > len(sentences_only["train"][0])
    assert with_phrases["dev"] == sentences_only["dev"]
    assert set(with_phrases["test"][1]) == {0, 1}
    assert len(sst.load_sst(tmp_path, fine_grained=True)["test"][0]) == 30


def test_load_sst_says_which_files_to_put_where(tmp_path):
    (tmp_path / "sst" / "trees").mkdir(parents=True)
    (tmp_path / "sst" / "trees" / "train.txt").write_text("(2 a)\n")
    with pytest.raises(FileNotFoundError) as error:
        sst.load_sst(tmp_path)
    message = str(error.value)
    assert "dev.txt, test.txt not found in " + os.path.join(str(tmp_path), "sst", "trees") \
        in message
    assert "trainDevTestTrees_PTB.zip" in message and "--data-dir" in message


# -------------------------------------------------------------------------------------- UCI
@pytest.mark.parametrize("line, parsed", [
    ("A very slow-moving, aimless movie.  \t0\n", ("A very slow-moving, aimless movie.", 0)),
    ('He said "it rocks\tand rolls\t1\r\n', ('He said "it rocks\tand rolls', 1)),
    ("\t1", ("", 1)),
])
def test_parse_line_splits_on_the_last_tab(line, parsed):
    assert uci.parse_line(line) == parsed


@pytest.mark.parametrize("line", ["no tab at all 1", "good movie\t2", "good movie\t"])
def test_parse_line_refuses_lines_without_a_label(line):
    with pytest.raises(ValueError, match="expected 'sentence<TAB>0' or 'sentence<TAB>1'"):
        uci.parse_line(line)


def test_read_file_names_the_bad_line(tmp_path):
    path = tmp_path / "yelp_labelled.txt"
    path.write_text('Loved "it\t1\nOops\n')
    with pytest.raises(ValueError, match="yelp_labelled.txt, line 2"):
        uci.read_file(path)


def test_load_uci_splits_80_10_10_by_seed(tmp_path):
    write_uci(tmp_path, per_file=20)
    splits = uci.load_uci(tmp_path, split_seed=0)
    assert [len(splits[s][0]) for s in ("train", "dev", "test")] == [48, 6, 6]
    everything = [text for texts, _ in splits.values() for text in texts]
    assert len(everything) == 60
    assert splits == uci.load_uci(tmp_path, split_seed=0)
    assert splits["test"] != uci.load_uci(tmp_path, split_seed=1)["test"]


def test_load_uci_says_which_files_to_put_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="amazon_cells_labelled.txt, imdb_labelled.txt, "
                                                "yelp_labelled.txt not found in .*sentiment "
                                                "labelled sentences"):
        uci.load_uci(tmp_path)


def test_uci_sentences_are_tokenized_by_the_run_tokenizer(tmp_path):
    write_uci(tmp_path)
    tokenizer = WordTokenizer(lower=True, split_contractions=True)
    texts, _ = load_splits("uci", tokenizer, str(tmp_path))["train"]
    assert all(isinstance(tokens, list) for tokens in texts)
    assert {"(", "n't", "'s"} & {token for tokens in texts for token in tokens}


# ------------------------------------------------------------------------------------ model
@pytest.mark.parametrize("pooling", ["max", "last"])
def test_padding_never_changes_a_prediction(pooling):
    rg.manual_seed(0)
    model = SentimentClassifier(12, 2, embedding_dim=6, hidden_size=5, pooling=pooling).eval()
    sequences = [np.array([4, 5]), np.array([6, 7, 8, 9, 10, 11, 4]), np.array([11])]
    together = predict_probabilities(model, sequences, batch_size=3)
    alone = np.concatenate([predict_probabilities(model, [s]) for s in sequences])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    assert together.dtype == np.float32
    np.testing.assert_allclose(together.sum(axis=1), 1, rtol=1e-6)


def test_gradients_reach_every_parameter_and_skip_the_padding_row():
    rg.manual_seed(0)
    model = SentimentClassifier(12, 2, embedding_dim=6, hidden_size=5)
    batch = pad_batch([np.array([4, 5, 6]), np.array([7])])
    F.cross_entropy(model(batch), rg.tensor([1, 0])).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and np.isfinite(parameter.grad.numpy()).all(), name
    embedding_grad = model.embedding.weight.grad.numpy()
    assert not embedding_grad[0].any() and embedding_grad[4:8].any()


def test_the_unknown_word_vector_starts_at_zero_and_stays_there_without_unknown_words():
    rg.manual_seed(0)
    model = SentimentClassifier(12, 2, embedding_dim=6, hidden_size=5, unknown_idx=1)
    weight = model.embedding.weight
    assert not weight.detach().numpy()[1].any() and weight.detach().numpy()[4:].all()
    optimizer = rg.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(pad_batch([[4, 5, 6], [7, 8]])), rg.tensor([1, 0])).backward()
        optimizer.step()
    assert not weight.detach().numpy()[1].any()


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling must be 'max' or 'last', got 'mean'"):
        SentimentClassifier(10, 2, pooling="mean")


@pytest.mark.parametrize("pooling", ["max", "last"])
def test_a_tiny_model_learns_a_separable_task_to_100_percent(pooling):
    rng = random.Random(1)
    sentences = sentiment_sentences(240, rng)
    vocab = Vocab.build(words for words, _, _ in sentences)
    samples = [(vocab.encode(words), int(label > 2)) for words, _, label in sentences]
    rg.manual_seed(0)
    model = SentimentClassifier(len(vocab), 2, embedding_dim=16, hidden_size=12, dropout=0.1,
                                pooling=pooling)
    train = DataLoader(samples[:200], batch_size=20, shuffle=True, collate_fn=PadCollate())
    held_out = DataLoader(samples[200:], batch_size=40, collate_fn=PadCollate())
    history = fit(model, F.cross_entropy, rg.optim.Adam(model.parameters(), lr=0.02), train,
                  held_out, epochs=12, metrics={"accuracy": accuracy}, clip_grad_norm=5.0,
                  progress=False, verbose=False)
    assert history[-1]["val_accuracy"] == 1.0
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 4


# ------------------------------------------------------------------------ the command line
TINY = ["--epochs", "2", "--batch-size", "16", "--embedding-dim", "12", "--hidden-size", "8",
        "--no-progress"]


def test_train_sst_then_evaluate_then_predict_sentiment(tmp_path, capsys):
    data = write_sst(tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", "sst", "--data-dir", str(data), "--out", str(run), *TINY]) == 0
    for name in ("config.json", "vocab.json", "best.ckpt", "last.ckpt", "history.json",
                 "history.csv"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["app"] == "text" and config["dataset"] == "sst"
    assert config["classes"] == ["negative", "positive"]
    assert config["tokenizer"] == {"kind": "word", "lower": True, "split_contractions": True}
    assert config["split"]["dev"] == 30 - config_neutral(data, "dev")
    assert config["model"]["unknown_idx"] == 1 and config["model"]["padding_idx"] == 0
    assert 0 <= config["results"]["test_accuracy"] <= 1
    assert "test accuracy" in capsys.readouterr().out

    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"sst test set, .*: accuracy \d+\.\d\d% \(\d+ sentences\)", out)
    assert "true \\ predicted" in out

    assert main(["predict-sentiment", str(run), "a gripping, funny film", "Dull. Boring."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"(negative|positive) \d+\.\d%  a gripping, funny film", lines[0])
    assert re.fullmatch(r"(negative|positive) \d+\.\d%  Dull\. Boring\.", lines[1])


def config_neutral(root, split):
    return sum(tree.label == 2 for tree in sst.read_trees(root / "sst" / "trees" /
                                                          f"{split}.txt"))


def test_train_uci_and_predict(tmp_path, capsys):
    data = write_uci(tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", "uci", "--data-dir", str(data), "--out", str(run), "--split-seed",
                 "2", *TINY]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["split"] == {"train": 48, "dev": 6, "test": 6}
    assert config["settings"]["split_seed"] == 2
    capsys.readouterr()
    assert main(["predict-sentiment", str(run), "It's great!"]) == 0
    assert re.fullmatch(r"(negative|positive) \d+\.\d%  It's great!\n", capsys.readouterr().out)


def test_training_without_the_data_says_where_to_put_it(tmp_path, capsys):
    assert main(["train", "sst", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run"),
                 *TINY]) == 1
    assert "trainDevTestTrees_PTB.zip" in capsys.readouterr().err


def test_predict_sentiment_refuses_a_text_without_words(tmp_path, capsys):
    data = write_sst(tmp_path / "data")
    run = tmp_path / "run"
    assert main(["train", "sst", "--data-dir", str(data), "--out", str(run), "--epochs", "1",
                 *TINY[2:]]) == 0
    assert main(["predict-sentiment", str(run), "   "]) == 1
    assert "the text '   ' has no words to read" in capsys.readouterr().err


def test_predict_sentiment_needs_a_run_directory(tmp_path, capsys):
    assert main(["predict-sentiment", str(tmp_path), "fine"]) == 1
    assert "holds no config.json" in capsys.readouterr().err
