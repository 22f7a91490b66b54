"""download_url against a local HTTP server: download, cache, checksum and failure messages."""
import functools
import hashlib
import http.server
import os
import socket
import sys
import threading
import types

import pytest

from retrograd.data import download_url

PAYLOAD = bytes(range(256)) * 5000  # ~1.2 MB: several read chunks
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder, records each request, and on /truncated promises more bytes
    than it sends."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "data.bin").write_bytes(PAYLOAD)
    handler = functools.partial(_RecordingHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


@pytest.mark.parametrize("sha256", [None, PAYLOAD_SHA256, PAYLOAD_SHA256.upper()])
@pytest.mark.parametrize("filename", [None, "renamed.bin"])
def test_download_then_cached(server, tmp_path, sha256, filename):
    root = tmp_path / "cache" / "nested"
    path = download_url(f"{server.url}/data.bin", root, filename=filename, sha256=sha256)
    assert path == os.path.join(str(root), filename or "data.bin")
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    assert _leftovers(root) == []
    assert server.requests == ["/data.bin"]
    assert download_url(f"{server.url}/data.bin", str(root), filename=filename,
                        sha256=sha256) == path
    assert server.requests == ["/data.bin"]  # the second call made no request


def test_existing_file_with_the_wrong_checksum_is_replaced(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(b"stale")
    path = download_url(f"{server.url}/data.bin", tmp_path, sha256=PAYLOAD_SHA256)
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    assert server.requests == ["/data.bin"]


@pytest.mark.parametrize("previous", [None, b"older contents"])
def test_checksum_mismatch_leaves_nothing_behind(server, tmp_path, previous):
    root = tmp_path / "root"
    root.mkdir()
    if previous is not None:
        (root / "data.bin").write_bytes(previous)
    with pytest.raises(RuntimeError, match="checksum mismatch") as info:
        download_url(f"{server.url}/data.bin", root, sha256="0" * 64)
    assert PAYLOAD_SHA256 in str(info.value)
    assert _leftovers(root) == []
    if previous is None:
        assert not (root / "data.bin").exists()
    else:
        assert (root / "data.bin").read_bytes() == previous


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("where, reason", [("missing.bin", "HTTP 404"),
                                           ("truncated", "after 10 of 1000 bytes"),
                                           ("refused", "refused")])
def test_failures_say_where_to_put_the_file_by_hand(server, tmp_path, where, reason):
    url = (f"http://127.0.0.1:{_free_port()}/data.bin" if where == "refused"
           else f"{server.url}/{where}")
    with pytest.raises(RuntimeError) as info:
        download_url(url, tmp_path, filename="target.bin", sha256=PAYLOAD_SHA256)
    message = str(info.value)
    assert url in message and reason.lower() in message.lower()
    assert f"put the file at {os.path.join(str(tmp_path), 'target.bin')}" in message
    assert PAYLOAD_SHA256 in message
    assert os.listdir(tmp_path) == ["served"]


def test_a_url_without_a_file_name_needs_filename(tmp_path):
    with pytest.raises(ValueError, match="filename="):
        download_url("http://127.0.0.1/", tmp_path)


def test_progress_bar_when_tqdm_is_installed(server, tmp_path, monkeypatch):
    bars = []

    class FakeBar:
        def __init__(self, total, **options):
            self.total, self.options, self.done = total, options, 0
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return False

        def update(self, n):
            self.done += n

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeBar))
    download_url(f"{server.url}/data.bin", tmp_path)
    assert len(bars) == 1
    assert bars[0].total == bars[0].done == len(PAYLOAD)
    assert bars[0].options["desc"] == "data.bin"
