"""The image-classification application on tiny generated data: IDX files, dataset loading and
downloading, preprocessing of user images, metrics, saliency, and the command line end to end
(train -> evaluate -> predict -> explain), plus the offline demo."""
import functools
import gzip
import hashlib
import http.server
import json
import os
import threading

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
from idx_fixtures import MNIST_FILES, class_images, idx_bytes, make_mnist_dir, write_idx
from retrograd.apps.vision import analysis, images
from retrograd.apps.vision.augment import RandomAffine
from retrograd.apps.vision.datasets import MNIST, FashionMNIST, parse_idx, read_idx
from retrograd.apps.vision.models import build_model
from retrograd.cli import build_parser, main

PIL = pytest.importorskip("PIL.Image", reason="the vision application reads images with "
                                             "Pillow: pip install -e '.[vision]'")


def sha256s(contents):
    return {name: hashlib.sha256(raw).hexdigest() for name, raw in contents.items()}


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """A data root holding a generated mnist/ folder (48 + 12 training, 20 test images), which
    the MNIST class accepts as its own."""
    root = tmp_path / "data"
    contents = make_mnist_dir(root, train=60, test=20)
    monkeypatch.setattr(MNIST, "content_sha256", sha256s(contents))
    return root


# ------------------------------------------------------------------------------------ IDX
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_every_type(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / "a.idx", array, compress=compress)
    loaded = read_idx(tmp_path / "a.idx")
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype.isnative and loaded.shape == (2, 3, 4)


def test_parse_idx_of_a_scalar_and_of_an_empty_array():
    assert parse_idx(bytes([0, 0, 0x08, 0, 7])) == 7
    assert parse_idx(idx_bytes(np.zeros((0, 28, 28), np.uint8))).shape == (0, 28, 28)


@pytest.mark.parametrize("raw, message", [
    (b"", "bad magic number empty"),
    (b"\x1f\x8b\x08\x00", "bad magic number 1f8b0800"),   # gzip inside gzip is not IDX
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "bad magic number 00004201"),
    (bytes([0, 0, 0x08, 3, 0, 0]), "truncated inside its header"),
    (idx_bytes(np.zeros((4, 5), np.uint8))[:-3],
     r"holds 17 bytes of data, but its header announces shape \(4, 5\) \(20 bytes\)"),
])
def test_parse_idx_rejects_bad_files_naming_them(raw, message):
    with pytest.raises(ValueError, match=f"read_idx: labels.idx .*{message}"):
        parse_idx(raw, "labels.idx")


def test_read_idx_of_a_truncated_gzip_file_names_it(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((3, 4), np.uint8)))[:-12])
    with pytest.raises((ValueError, EOFError, OSError)):
        read_idx(path)


# ---------------------------------------------------------------------------- datasets
def test_mnist_loads_and_normalizes_the_files_under_the_data_dir(mnist_dir):
    train, test = MNIST(root=mnist_dir, download=False), MNIST(root=mnist_dir, train=False)
    assert (len(train), len(test)) == (60, 20)
    assert train.images.shape == (60, 1, 28, 28) and train.images.dtype == rg.float32
    assert train.targets.dtype == rg.int64
    raw = read_idx(mnist_dir / "mnist" / MNIST_FILES["train"][0])
    expected = (raw[5] / np.float32(255) - MNIST.mean) / MNIST.std
    np.testing.assert_allclose(train[5][0].numpy()[0], expected, rtol=1e-6)
    assert train[5][1] == int(read_idx(mnist_dir / "mnist" / MNIST_FILES["train"][1])[5])


def test_root_defaults_to_the_environment_variable(mnist_dir, monkeypatch):
    monkeypatch.setenv("RETROGRAD_DATA", str(mnist_dir))
    assert len(MNIST(train=False, download=False)) == 20


def test_missing_files_give_a_helpful_message(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        FashionMNIST(root=tmp_path, download=False)
    message = str(error.value)
    for hint in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 str(tmp_path / "fashion-mnist"), "--data-dir", "RETROGRAD_DATA"):
        assert hint in message


def test_a_file_with_other_content_is_refused(mnist_dir, monkeypatch):
    monkeypatch.setitem(MNIST.content_sha256, MNIST_FILES["test"][0], "0" * 64)
    with pytest.raises(ValueError, match="does not hold the expected data"):
        MNIST(root=mnist_dir, train=False)


@pytest.fixture
def idx_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving generated MNIST files from tmp_path/served."""
    served = tmp_path / "served"
    contents = make_mnist_dir(served, name="files", train=30, test=10)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(served / "files"))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", contents
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_from_the_first_mirror_that_works(idx_server, tmp_path, monkeypatch):
    url, contents = idx_server
    monkeypatch.setattr(MNIST, "urls", (url + "missing/", url))
    monkeypatch.setattr(MNIST, "content_sha256", sha256s(contents))
    dataset = MNIST(root=tmp_path / "cache", train=False)
    assert len(dataset) == 10
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(MNIST_FILES["test"])


def test_a_download_with_the_wrong_content_leaves_nothing_behind(idx_server, tmp_path,
                                                                 monkeypatch):
    url, contents = idx_server
    monkeypatch.setattr(MNIST, "urls", (url,))
    wrong = dict(sha256s(contents), **{MNIST_FILES["test"][0]: "f" * 64})
    monkeypatch.setattr(MNIST, "content_sha256", wrong)
    with pytest.raises(FileNotFoundError, match="SHA-256 of its content is not f{64}"):
        MNIST(root=tmp_path / "cache", train=False)
    assert os.listdir(tmp_path / "cache" / "mnist") == []


def test_unreachable_mirrors_are_reported_with_the_missing_file_message(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "urls", ("http://127.0.0.1:9/",))  # the discard port: refused
    with pytest.raises(FileNotFoundError, match=r"(?s)t10k-images.*not found.*Download "
                                                r"attempts failed:\n  http://127.0.0.1:9/"):
        MNIST(root=tmp_path, train=False)


# ------------------------------------------------------------------ your own pictures
def _save_picture(path, pixels, mode="L"):
    PIL.fromarray(pixels.astype(np.uint8)).convert(mode).save(path)
    return str(path)


def test_dark_ink_on_paper_is_inverted_cropped_and_centred(tmp_path):
    paper = np.full((90, 60), 250)
    paper[20:70, 25:35] = 10   # a dark vertical stroke, off centre
    frame = images.to_training_layout(images.read_greyscale(
        _save_picture(tmp_path / "one.jpg", paper, "RGB")), box=20, centre="mass")
    assert frame.shape == (28, 28) and frame.dtype == np.float32
    assert frame.max() == pytest.approx(1.0, abs=0.05) and frame[0].max() < 0.05
    rows = np.flatnonzero(frame.max(axis=1) > 0.5)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21   # the stroke's height fills the 20-pixel box
    mass = frame / frame.sum()
    assert (mass.sum(axis=1) * np.arange(28)).sum() == pytest.approx(13.5, abs=0.6)
    assert (mass.sum(axis=0) * np.arange(28)).sum() == pytest.approx(13.5, abs=0.6)


def test_transparent_drawings_are_seen_over_white(tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 18:22] = (0, 0, 0, 255)   # a black stroke on a transparent background
    path = tmp_path / "drawn.png"
    PIL.fromarray(rgba).save(path)  # (H, W, 4) uint8: RGBA
    frame = images.to_training_layout(images.read_greyscale(str(path)))
    assert frame.max() > 0.9 and frame[:, :3].max() < 0.05


def test_a_blank_picture_gives_a_blank_frame(tmp_path):
    frame = images.to_training_layout(images.read_greyscale(
        _save_picture(tmp_path / "blank.png", np.full((10, 10), 255))))
    assert not frame.any()


def test_load_image_normalizes_and_names_bad_files(tmp_path):
    pixels = images.load_image(_save_picture(tmp_path / "x.png", np.zeros((28, 28))),
                               images.LAYOUTS["mnist"], 0.5, 0.25)
    assert pixels.shape == (1, 28, 28) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels, -2.0)
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(ValueError, match="notes.txt is not an image"):
        images.load_image(str(tmp_path / "notes.txt"), images.LAYOUTS["mnist"], 0, 1)
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        images.read_greyscale(str(tmp_path / "nowhere.png"))


# ------------------------------------------------------------------------------ analysis
def test_confusion_matrix_and_scores_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    g = np.random.default_rng(0)
    targets, predictions = g.integers(0, 4, 200), g.integers(0, 4, 200)
    predictions[predictions == 3] = 2          # class 3 is never predicted: precision 0
    confusion = analysis.confusion_matrix(targets, predictions, 4)
    np.testing.assert_array_equal(confusion, metrics.confusion_matrix(targets, predictions,
                                                                      labels=range(4)))
    scores = analysis.per_class_scores(confusion)
    expected = metrics.precision_recall_fscore_support(targets, predictions, labels=range(4),
                                                       zero_division=0)
    for name, reference in zip(("precision", "recall", "f1", "support"), expected):
        np.testing.assert_allclose(scores[name], reference)
    report = analysis.format_report(confusion, ["a", "b", "c", "d"])
    assert report.splitlines()[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert report.splitlines()[-1].split()[-1] == "200"


def test_saliency_is_the_numerical_gradient_of_the_top_score():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    image = np.random.default_rng(1).standard_normal((1, 3, 4))
    winner, probability, gradient = analysis.saliency(model, image)

    def score(pixels):
        with rg.no_grad():
            return model(rg.tensor(pixels[None]))[0, winner].item()

    scores = model(rg.tensor(image[None]))[0].detach().numpy()
    assert winner == scores.argmax()
    assert probability == pytest.approx(np.exp(scores[winner]) / np.exp(scores).sum())
    numerical = np.zeros_like(image)
    eps = 1e-6
    for index in np.ndindex(image.shape):
        step = np.zeros_like(image)
        step[index] = eps
        numerical[index] = (score(image + step) - score(image - step)) / (2 * eps)
    np.testing.assert_allclose(gradient, numerical, rtol=1e-6, atol=1e-9)


# -------------------------------------------------------------------------------- models
@pytest.mark.parametrize("name, augment", [("mlp", False), ("lenet5", False), ("cnn", True)])
def test_models_map_images_to_class_scores(name, augment):
    rg.manual_seed(0)
    model = build_model(name, num_classes=7, augment=augment)
    images_in = rg.randn(3, 1, 28, 28)
    scores = model(images_in)
    assert scores.shape == (3, 7) and scores.dtype == rg.float32
    scores.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_augmentation_acts_in_training_only():
    layer = RandomAffine(max_degrees=15, max_shift=2)
    batch = rg.tensor(class_images(np.arange(4)).astype(np.float32)[:, None])
    rg.manual_seed(0)
    moved = layer(batch)
    assert moved.shape == batch.shape and moved.dtype == rg.float32
    assert not np.array_equal(moved.numpy(), batch.numpy())
    layer.eval()
    assert layer(batch) is batch
    still = RandomAffine(max_degrees=0, max_shift=0)
    np.testing.assert_allclose(still(batch).numpy(), batch.numpy(), atol=1e-4)


# ------------------------------------------------------------------------- command line
def run_cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


TINY_TRAINING = ("--epochs", 1, "--batch-size", 24, "--val-size", 12, "--no-progress")


def test_train_evaluate_predict_explain_end_to_end(mnist_dir, tmp_path, capsys):
    run = tmp_path / "runs" / "tiny"
    status, out, _ = run_cli(capsys, "train", "mnist", "--model", "lenet5", "--lr", "0.01",
                             "--data-dir", mnist_dir, "--out", run, *TINY_TRAINING)
    assert status == 0
    assert "test accuracy" in out and str(run) in out
    for name in ("config.json", "best.ckpt", "last.ckpt", "history.json", "history.csv",
                 "curves.png", "confusion.png", "misclassified.png"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["app"] == "vision" and config["dataset"] == "mnist"
    assert config["split"] == {"train": 48, "validation": 12, "test": 20}
    assert config["hyperparameters"]["lr"] == 0.01
    assert rg.load(run / "last.ckpt")["step"] == 2   # 48 images in batches of 24
    assert 0 <= config["results"]["test_accuracy"] <= 1

    status, out, _ = run_cli(capsys, "evaluate", run)
    assert status == 0
    assert f"accuracy {config['results']['test_accuracy']:.2%}" in out
    assert "precision" in out and "true \\ predicted" in out

    pictures = class_images(np.array([3, 8]), seed=4)
    first = _save_picture(tmp_path / "three.png", 255 - pictures[0])   # dark on white
    second = _save_picture(tmp_path / "eight.jpg", pictures[1], "RGB")
    status, out, _ = run_cli(capsys, "predict", run, first, second)
    assert status == 0
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [first, second]
    percentages = [float(p.split()[-1].rstrip("%")) for p in lines[0].split(": ")[1].split(", ")]
    assert len(percentages) == 3 and percentages == sorted(percentages, reverse=True)

    status, out, _ = run_cli(capsys, "explain", run, first)
    assert status == 0
    assert (tmp_path / "three.saliency.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_errors_name_the_problem(mnist_dir, tmp_path, capsys):
    status, _, err = run_cli(capsys, "evaluate", tmp_path)
    assert status == 1 and "config.json not found" in err
    status, _, err = run_cli(capsys, "train", "mnist", "--data-dir", mnist_dir, "--out",
                             tmp_path / "run", "--val-size", 60, "--no-progress")
    assert status == 1 and "cannot hold out 60 of the 60 mnist training images" in err
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({
        "app": "vision", "model": "mlp", "augment": False, "classes": list("0123456789"),
        "layout": images.LAYOUTS["mnist"], "normalization": {"mean": 0.1, "std": 0.3}}))
    rg.save(build_model("mlp").state_dict(), run / "best.ckpt")
    (tmp_path / "notes.txt").write_text("hello")
    status, _, err = run_cli(capsys, "predict", run, tmp_path / "notes.txt")
    assert status == 1 and "notes.txt is not an image" in err


def test_train_registers_one_sub_command_per_dataset():
    parser = build_parser()
    args = parser.parse_args(["train", "fashion-mnist", "--model", "cnn"])
    assert (args.dataset, args.model, args.augment, args.val_size) == (
        "fashion-mnist", "cnn", None, 5000)
    assert parser.parse_args(["train", "digits"]).val_size == 0.1
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "imagenet"])


def test_same_seed_same_run(mnist_dir, tmp_path, capsys):
    """Initial weights, shuffling, dropout and augmentation all come from the seed."""
    def train(out):
        status, _, _ = run_cli(capsys, "train", "mnist", "--model", "cnn", "--augment",
                               "--data-dir", mnist_dir, "--out", out, *TINY_TRAINING)
        assert status == 0
        return json.loads((out / "config.json").read_text())["results"], rg.load(
            out / "best.ckpt")

    (first, first_weights), (second, second_weights) = train(tmp_path / "a"), train(
        tmp_path / "b")
    assert first["test_accuracy"] == second["test_accuracy"]
    assert first["val_accuracy"] == second["val_accuracy"]
    for name, weight in first_weights.items():
        np.testing.assert_array_equal(second_weights[name].numpy(), weight.numpy())


def test_demo_learns_the_offline_digits(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="the offline digits come with scikit-learn")
    status, out, _ = run_cli(capsys, "demo", "--out", tmp_path / "demo", "--no-progress")
    assert status == 0
    config = json.loads((tmp_path / "demo" / "config.json").read_text())
    assert config["results"]["test_accuracy"] > 0.8
    assert f"test accuracy {config['results']['test_accuracy']:.2%}" in out
    assert str(tmp_path / "demo" / "confusion.png") in out
