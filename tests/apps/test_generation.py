"""The text-generation application: character streams, truncated backpropagation through time,
the ``retrograd train shakespeare`` / ``generate`` / ``evaluate`` commands end to end on a
small generated corpus, and sampling."""
import argparse
import io
import json
import math
import os

import numpy as np
import pytest

import retrograd as rg
from retrograd.apps.text import cli_generation, generation
from retrograd.apps.text.shakespeare import (char_vocab, encode_text, load_shakespeare,
                                             parallel_streams, split_stream, stream_chunks)

WORDS = ["to be", "or not", "that is", "the question", "ROMEO:", "JULIET:", "my lord", "\n"]
TINY = dict(hidden_size=16, num_layers=2, embedding_dim=8, seq_len=16, batch_size=4)


def corpus(n_words=600, seed=0):
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n_words))


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data" / "tinyshakespeare"
    folder.mkdir(parents=True)
    (folder / "input.txt").write_text(corpus(), encoding="utf-8")
    return str(tmp_path / "data")


def run_cli(argv):
    """Runs a command through a parser holding only this application's commands."""
    parser = argparse.ArgumentParser(prog="retrograd")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_generation.register(commands.add_parser("train").add_subparsers(dest="dataset"))
    cli_generation.register_commands(commands)
    evaluate = commands.add_parser("evaluate")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--data-dir", default=None)
    evaluate.set_defaults(run=cli_generation.evaluate)
    args = parser.parse_args([str(arg) for arg in argv])
    return args.run(args)


def tiny_model(vocab_size, seed=0):
    rg.manual_seed(seed)
    return generation.CharLM(vocab_size, embedding_dim=8, hidden_size=16, num_layers=2)


# ------------------------------------------------------------------------------------ data
def test_char_vocab_is_sorted_and_has_no_specials():
    vocab = char_vocab("banana!")
    assert vocab.tokens == ["!", "a", "b", "n"]
    np.testing.assert_array_equal(encode_text(vocab, "nab"), [3, 1, 2])


def test_encode_text_names_unknown_characters():
    with pytest.raises(ValueError, match=r"'xz'"):
        encode_text(char_vocab("abc"), "axbz", "prompt")


def test_split_stream_by_position():
    train, val = split_stream(np.arange(100), 0.1)
    np.testing.assert_array_equal(train, np.arange(90))
    np.testing.assert_array_equal(val, np.arange(90, 100))
    with pytest.raises(ValueError, match="val_fraction"):
        split_stream(np.arange(10), 1.5)


def test_parallel_streams_are_contiguous_rows():
    streams = parallel_streams(np.arange(23), 4)
    np.testing.assert_array_equal(streams, np.arange(20).reshape(4, 5))
    with pytest.raises(ValueError, match="too few"):
        parallel_streams(np.arange(5), 4)


@pytest.mark.parametrize("seq_len", [1, 3, 4, 10])
def test_stream_chunks_continue_each_row_and_shift_targets(seq_len):
    streams = np.arange(40).reshape(2, 20)
    chunks = list(stream_chunks(streams, seq_len))
    inputs = np.concatenate([x.numpy() for x, _ in chunks], axis=1)
    targets = np.concatenate([y.numpy() for _, y in chunks], axis=1)
    np.testing.assert_array_equal(inputs, streams[:, :-1])   # every character read once
    np.testing.assert_array_equal(targets, streams[:, 1:])   # predicting the next one
    assert all(x.shape[1] <= seq_len and x.dtype == rg.int64 for x, _ in chunks)


def test_load_shakespeare_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="tinyshakespeare"):
        load_shakespeare(str(tmp_path))


# ---------------------------------------------------------------------- truncated backprop
@rg.no_grad()
def test_carried_state_reads_chunks_as_one_sequence():
    """Why the state is passed from chunk to chunk: two chunks with the state carried give
    exactly the scores of one pass over their concatenation."""
    model = tiny_model(10).eval()
    ids = rg.randint(0, 10, (3, 12))
    whole, _ = model(ids)
    first, state = model(ids[:, :5])
    second, _ = model(ids[:, 5:], tuple(s.detach() for s in state))
    np.testing.assert_allclose(rg.cat([first, second], dim=1).numpy(), whole.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_detached_state_stops_backprop_at_the_chunk():
    model = tiny_model(10)
    ids = rg.randint(0, 10, (2, 6))
    embedded = model.embedding(ids).detach().requires_grad_()
    _, state = model.lstm(embedded[:, :3])
    outputs, _ = model.lstm(embedded[:, 3:], tuple(s.detach() for s in state))
    outputs.sum().backward()
    grad = embedded.grad.numpy()
    assert np.all(grad[:, :3] == 0) and np.any(grad[:, 3:] != 0)


# ---------------------------------------------------------------------------- application
def test_train_generate_evaluate_end_to_end(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(["train", "shakespeare", "--hidden-size", 16, "--layers", 2,
                    "--embedding-dim", 8, "--seq-len", 16, "--batch-size", 4, "--epochs", 1,
                    "--eval-every", 20, "--lr", 0.01, "--data-dir", data_dir, "--out", out,
                    "--no-progress"]) == 0
    for name in ("config.json", "vocab.json", "best.ckpt", "history.json", "history.csv"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["app"] == "generation" and config["model"]["hidden_size"] == 16
    history = json.loads((out / "history.json").read_text())
    assert len(history) >= 2 and history[-1]["epoch"] == 1.0
    for row in history:
        assert row["val_bpc"] == pytest.approx(row["val_loss"] / math.log(2))
    assert history[-1]["val_loss"] < history[0]["val_loss"] < math.log(len(set(corpus())))
    assert config["results"]["val_loss"] == min(row["val_loss"] for row in history)
    capsys.readouterr()

    assert run_cli(["generate", out, "--prompt", "ROMEO:", "--length", 50, "--seed", 3,
                    "--top-k", 5]) == 0
    text = capsys.readouterr().out
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 50 + 1
    assert set(text[:-1]) <= set(corpus())

    assert run_cli(["evaluate", out]) == 0
    line = capsys.readouterr().out
    assert f"{config['results']['val_loss']:.4f} nats/char" in line


def test_generate_streams_each_character_as_it_is_drawn(data_dir, tmp_path, monkeypatch):
    out = tmp_path / "run"
    generation.train(str(out), data_dir=data_dir, progress=False, epochs=1, **TINY)

    class Terminal(io.StringIO):
        """Records what had been written at each flush."""
        def __init__(self):
            super().__init__()
            self.flushed = []

        def flush(self):
            self.flushed.append(self.getvalue())

    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    run_cli(["generate", out, "--prompt", "to", "--length", 20, "--temperature", 0.5])
    # the prompt, then one more character at every flush
    assert [len(shown) for shown in terminal.flushed[:21]] == list(range(2, 23))


def test_max_minutes_stops_training_and_validates(data_dir, tmp_path):
    config = generation.train(str(tmp_path / "run"), data_dir=data_dir, progress=False,
                              epochs=50, max_minutes=1e-6, **TINY)
    results = config["results"]
    assert results["stopped_by_time"] and results["steps"] == 1
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [row["step"] for row in history] == [1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow being tested
def test_non_finite_loss_stops_before_the_update(data_dir, tmp_path):
    with pytest.raises(FloatingPointError, match="--lr"):
        generation.train(str(tmp_path / "run"), data_dir=data_dir, progress=False,
                         epochs=3, lr=1e30, clip_grad_norm=1e30, **TINY)


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(TypeError, match="hiden_size"):
        generation.train(str(tmp_path), hiden_size=3)


# -------------------------------------------------------------------------------- sampling
@pytest.fixture(scope="module")
def model_and_vocab():
    vocab = char_vocab(corpus())
    return tiny_model(len(vocab)), vocab


def test_sample_length_and_characters(model_and_vocab):
    model, vocab = model_and_vocab
    characters = generation.sample(model, vocab, "to be", 30, temperature=1.0)
    assert not isinstance(characters, (list, str))  # an iterator: characters come one by one
    text = "".join(characters)
    assert len(text) == 30 and set(text) <= set(vocab.tokens)


def test_sample_is_repeatable_with_a_seeded_generator(model_and_vocab):
    model, vocab = model_and_vocab

    def draw(seed):
        return "".join(generation.sample(model, vocab, "my", 40, 1.0,
                                         generator=rg.Generator().manual_seed(seed)))
    assert draw(1) == draw(1)
    assert draw(1) != draw(2)


@rg.no_grad()
def test_top_k_1_and_temperature_0_take_the_likeliest(model_and_vocab):
    model, vocab = model_and_vocab
    greedy = "".join(generation.sample(model, vocab, "that", 25, temperature=0))
    top_1 = "".join(generation.sample(model, vocab, "that", 25, temperature=2.0, top_k=1))
    assert greedy == top_1
    # by hand: feed the whole text, the next character is the argmax of the last scores
    ids = encode_text(vocab, "that" + greedy[:10])
    scores, _ = model(rg.from_numpy(ids[None]))
    assert vocab.lookup_token(int(scores[0, -1].argmax().item())) == greedy[10]


@rg.no_grad()
def test_top_k_draws_only_among_the_k_best(model_and_vocab):
    model, vocab = model_and_vocab
    ids = encode_text(vocab, "or")
    scores, _ = model(rg.from_numpy(ids[None]))
    best_three = set(np.argsort(-scores[0, -1].numpy())[:3])
    generator = rg.Generator().manual_seed(0)
    draws = {generation._next_id(scores[0, -1], 5.0, 3, generator) for _ in range(200)}
    assert draws <= best_three and len(draws) > 1


@pytest.mark.parametrize("prompt, kwargs, message", [
    ("", {}, "at least one character"),
    ("to", {"temperature": -1}, "temperature"),
    ("to", {"top_k": 0}, "top_k"),
    ("to~", {}, "'~'"),
])
def test_sample_checks_its_arguments_at_once(model_and_vocab, prompt, kwargs, message):
    model, vocab = model_and_vocab
    with pytest.raises(ValueError, match=message):
        generation.sample(model, vocab, prompt, 5, **kwargs)


def test_generate_of_a_directory_without_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        run_cli(["generate", tmp_path])
    os.makedirs(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text(json.dumps({"app": "generation"}))
    with pytest.raises(FileNotFoundError, match="best.ckpt"):
        run_cli(["generate", tmp_path / "empty"])
    (tmp_path / "empty" / "config.json").write_text(json.dumps({"app": "translation"}))
    with pytest.raises(ValueError, match="'translation' application"):
        run_cli(["generate", tmp_path / "empty"])


def test_the_retrograd_command_has_the_application():
    from retrograd import cli
    if "generation" not in cli.APPS:
        pytest.skip("retrograd/cli.py does not list the generation application yet")
    parser = cli.build_parser()
    args = parser.parse_args(["train", "shakespeare", "--max-minutes", "45"])
    assert args.run is cli_generation.train and args.max_minutes == 45
    args = parser.parse_args(["generate", "runs/x", "--prompt", "ROMEO:", "--top-k", "20"])
    assert args.run is cli_generation.generate and args.top_k == 20
