"""Fetching a data file once.

``download_url`` leaves a file that is already there (with the right SHA-256, when one is
given) alone. Otherwise it streams the URL into a temporary file in the target's directory,
checks the hash and only then renames it into place: the rename is atomic, so the target path
never holds a partial or corrupt download, even after a crash.
"""
import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid

__all__ = ["download_url"]

_CHUNK_BYTES = 1 << 20
_TIMEOUT_S = 60  # longest silence from the server before the download counts as failed


def _sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def update(self, n):
        pass


def _progress_bar(total, label):
    """A tqdm bar in bytes when tqdm is installed (it is optional), else a silent stand-in."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label)


def _fetch(url, destination, label):
    """Streams ``url`` into the new file ``destination``; returns the bytes' SHA-256."""
    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "retrograd"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, \
            open(destination, "xb") as out:
        expected = response.length
        with _progress_bar(expected, label) as bar:
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client ends a body cut short by the server silently: compare with Content-Length.
    if expected is not None and received != expected:
        raise ConnectionError(f"the connection closed after {received} of {expected} bytes")
    return digest.hexdigest()


def _reason(exc):
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}"


def download_url(url, root, filename=None, sha256=None):
    """Downloads ``url`` to ``root/filename`` (default: the URL's last path component) unless
    it is already there, and returns that path. With ``sha256`` (hex digest) an existing file
    must match it to be kept, and a download that does not match is discarded with an error.
    A failed download raises a ``RuntimeError`` naming the URL and the path where the file can
    be put by hand."""
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(urllib.parse.urlparse(url).path)
    if not filename:
        raise ValueError(f"download_url: cannot tell a file name from the URL {url!r}; pass "
                         "filename=")
    path = os.path.join(root, filename)
    expected = sha256.lower() if sha256 is not None else None
    if os.path.isfile(path) and (expected is None or _sha256_of_file(path) == expected):
        return path
    os.makedirs(root, exist_ok=True)
    partial = os.path.join(root, f".{filename}.{uuid.uuid4().hex[:12]}.part")
    try:
        try:
            digest = _fetch(url, partial, filename)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            checksum = f" (its sha256 must be {expected})" if expected else ""
            raise RuntimeError(
                f"download_url: could not download {url} ({_reason(exc)}). If this machine is "
                f"offline, download that URL elsewhere and put the file at {path}{checksum}; "
                "it is then used without any download") from exc
        if expected is not None and digest != expected:
            raise RuntimeError(
                f"download_url: checksum mismatch for {url}: expected sha256 {expected}, got "
                f"{digest}; the download was discarded and {path} left as it was")
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path
