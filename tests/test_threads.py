"""retrograd's threads (retrograd/threads.py) and its allocator setting (retrograd/_malloc.py)."""
import ctypes
import os
import select
import signal
import subprocess
import sys
import threading

import pytest

import retrograd as rg
from retrograd import _malloc, threads


@pytest.fixture
def restore_threads():
    previous = rg.get_num_threads()
    yield
    rg.set_num_threads(previous)


def blas_handles():
    handles = threads._blas_libraries()
    if not handles:
        pytest.skip("threadpoolctl is not installed")
    return handles


def test_set_num_threads_sets_blas_too(restore_threads):
    rg.set_num_threads(3)
    assert rg.get_num_threads() == 3
    assert all(lib.num_threads == 3 for lib in blas_handles())
    rg.set_num_threads(1)
    assert all(lib.num_threads == 1 for lib in blas_handles())


@pytest.mark.parametrize("bad", [0, -2])
def test_set_num_threads_refuses_non_positive_counts(bad):
    with pytest.raises(ValueError, match="set_num_threads: expected a positive number"):
        rg.set_num_threads(bad)


def test_in_parallel_runs_the_shares_at_once_and_in_order(restore_threads):
    blas_handles()
    rg.set_num_threads(3)
    assert threads.worker_count(10, 30, 1) == 3 and threads.worker_count(2, 30, 1) == 2
    assert threads.worker_count(10, 30, 15) == 2 and threads.worker_count(10, 30, 16) == 1
    arrived = threading.Barrier(3, timeout=10)  # only passes if all three run at the same time
    seen = {}

    def share(k):
        seen[k] = (threading.get_ident(), [lib.num_threads for lib in threads._blas_libraries()])
        arrived.wait()
        assert threads.worker_count(5, 30, 1) == 1  # no nesting inside a worker
        return k * k
    assert threads.in_parallel(share, [1, 2, 3]) == [1, 4, 9]
    assert len({ident for ident, _ in seen.values()}) == 3
    assert all(counts == [1] * len(counts) for _, counts in seen.values())  # BLAS held to one
    assert all(lib.num_threads == 3 for lib in threads._blas_libraries())  # and restored


def test_in_parallel_raises_a_share_s_error_after_all_shares_ended(restore_threads):
    blas_handles()
    rg.set_num_threads(2)
    ended = []

    def share(k):
        if k == 0:
            raise ValueError("share 0 failed")
        ended.append(k)
    with pytest.raises(ValueError, match="share 0 failed"):
        threads.in_parallel(share, [0, 1])
    assert ended == [1]
    assert all(lib.num_threads == 2 for lib in threads._blas_libraries())


def _run_python(code, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k != "OPENBLAS_THREAD_TIMEOUT" and not k.startswith("MALLOC_")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, check=True)
    return done.stdout.strip()


SPIN = ("import numpy, ctypes, retrograd as rg\n"
        "lib = [l for l in rg.threads._blas_libraries() if l.internal_api == 'openblas']\n"
        "print(ctypes.CDLL(lib[0].filepath).openblas_thread_timeout() if lib else 'none')")


@pytest.mark.parametrize("env, expected", [({}, str(threads.BLAS_SPIN_LOG2_CYCLES)),
                                           ({"OPENBLAS_THREAD_TIMEOUT": "25"}, "25")])
def test_openblas_spin_is_shortened_unless_set(env, expected):
    """NumPy is imported first, so OpenBLAS's threads run already and must be restarted."""
    blas_handles()
    result = _run_python(SPIN, **env)
    if result == "none":
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    assert result == expected


def test_keep_freed_memory_respects_the_environment(monkeypatch):
    for name in [n for n in os.environ if n.startswith("MALLOC_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.setenv("RETROGRAD_KEEP_FREED_MEMORY", "0")
    assert not _malloc.keep_freed_memory()
    monkeypatch.delenv("RETROGRAD_KEEP_FREED_MEMORY")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert not _malloc.keep_freed_memory()
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    try:
        ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    assert _malloc.keep_freed_memory()


IDLE_CPU = ("import numpy as np, time\n"
            "a = np.ones((600, 600)); a @ a\n"
            "import retrograd as rg\n"
            "rg.set_num_threads(2)\n"
            "a @ a\n"
            "start = time.process_time(); time.sleep(0.4)\n"
            "print(time.process_time() - start)")


def test_openblas_threads_stop_spinning_soon_after_a_product():
    """OpenBLAS's default would keep one thread spinning for about 0.1 s of CPU here."""
    blas_handles()
    assert float(_run_python(IDLE_CPU)) < 0.05


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_gets_worker_threads_of_its_own(restore_threads):
    blas_handles()
    rg.set_num_threads(2)
    assert threads.in_parallel(lambda k: k + 1, [1, 2]) == [2, 3]  # the parent's pool exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread is not here
        os.close(read)
        try:
            result = threads.in_parallel(lambda k: k * 10, [1, 2])
            os.write(write, repr(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 20)
    if not ready:  # the child hangs waiting for a worker that does not exist
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        assert ready and pipe.read() == "[10, 20]"
