"""`train --stream` reads the CSV once into a column cache (.npy files) and sweeps that on
every epoch: the cache lives in its own folder (``--cache-dir``), is removed at the end and on
Ctrl-C, and a file that changes during the run is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest
from helpers import invoke, validate

from backtrace_cli.data.reader import CsvStream, load_csv
from backtrace_cli.errors import DataError
from backtrace_cli.train.loop import Settings, build_problem, train

ROWS = [(0.25 * i, 3.0 * (0.25 * i) - 1.0 + (0.05 if i % 3 else -0.04)) for i in range(40)]


def write_rows(path: Path, rows=ROWS) -> str:
    path.write_text("x,y\n" + "".join(f"{x!r},{y!r}\n" for x, y in rows))
    return str(path)


def folders(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_the_cache_is_one_npy_file_per_column_removed_on_close(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = write_rows(tmp_path / "data.csv")
    stream = CsvStream(path, chunk_rows=7, cache_dir=str(cache))
    (folder,) = folders(cache)
    assert folder.startswith("backtrace-stream-")
    assert folders(cache / folder) == ["0-x.float64.npy", "1-y.float64.npy"]
    # Plain .npy files that NumPy itself reads back: the parsed values, bit for bit.
    x = numpy.load(cache / folder / "0-x.float64.npy")
    assert x.dtype == numpy.float64 and x.tolist() == [row[0] for row in ROWS]
    assert numpy.array_equal(numpy.concatenate(list(stream.chunks())), load_csv(path).values)
    assert [first for first, _ in stream.column_chunks(16)] == [0, 16, 32]
    stream.close()
    assert folders(cache) == []
    with pytest.raises(ValueError, match="the stream is closed"):
        list(stream.column_chunks())


def test_float32_columns_are_made_once_and_round_as_in_memory(tmp_path):
    path = write_rows(tmp_path / "data.csv", [(0.1 * i, 1.0 / (i + 3)) for i in range(30)])
    with CsvStream(path, chunk_rows=8, cache_dir=str(tmp_path)) as stream:
        chunks = [columns["y"] for _, columns in stream.column_chunks(8, "float32")]
        assert all(chunk.dtype == numpy.float32 for chunk in chunks)
        expected = load_csv(path).column("y").astype(numpy.float32)
        assert numpy.concatenate(chunks).tobytes() == expected.tobytes()
        (folder,) = [name for name in folders(tmp_path) if name.startswith("backtrace-")]
        assert "1-y.float32.npy" in folders(tmp_path / folder)
    assert [name for name in folders(tmp_path) if name.startswith("backtrace-")] == []


@pytest.mark.parametrize("block_characters", [1, 5, 64, 4 * 1024 * 1024])
def test_blocks_of_any_size_read_the_same_rows_and_lines(tmp_path, monkeypatch,
                                                          block_characters):
    """The text is read in blocks of whole lines: a line split between two reads, CRLF split
    between "\\r" and "\\n", blank lines and a last line without a line break."""
    from backtrace_cli.data import stream as stream_module

    monkeypatch.setattr(stream_module, "BLOCK_CHARACTERS", block_characters)
    path = tmp_path / "data.csv"
    path.write_bytes(b"\n \r\nx,y\r\n1,2\r\n\r\n3.5,4e3\n\n  \n-5,6\r7,8")
    with CsvStream(str(path), cache_dir=str(tmp_path)) as stream:
        assert stream.rows == 4
        assert numpy.concatenate(list(stream.chunks())).tolist() == [
            [1.0, 2.0], [3.5, 4000.0], [-5.0, 6.0], [7.0, 8.0]]
    path.write_bytes(b"x,y\r\n1,2\r\n\r\n3,4\n5,six\n7,8\n")
    with pytest.raises(DataError) as caught:
        CsvStream(str(path), cache_dir=str(tmp_path))
    assert (caught.value.line, caught.value.column) == (5, 2)


def test_a_bad_cell_leaves_no_cache_behind(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "1,2\n" * 20 + "3,x7\n")
    with pytest.raises(DataError) as caught:
        CsvStream(str(path), chunk_rows=6, cache_dir=str(cache))
    assert (caught.value.line, caught.value.column) == (22, 2)
    assert folders(cache) == []


def test_ctrl_c_while_the_cache_is_written_leaves_no_cache_behind(tmp_path, monkeypatch):
    from backtrace_cli.data import stream as stream_module

    cache = tmp_path / "cache"
    cache.mkdir()
    path = write_rows(tmp_path / "data.csv")
    real = stream_module.chunk_values
    calls = []

    def interrupted_on_the_second_block(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(stream_module, "chunk_values", interrupted_on_the_second_block)
    monkeypatch.setattr(stream_module, "BLOCK_CHARACTERS", 64)  # a few lines per block
    with pytest.raises(KeyboardInterrupt) as caught:
        CsvStream(path, chunk_rows=8, cache_dir=str(cache))
    assert len(calls) == 2
    assert caught.traceback  # which keeps the half-made stream alive: removed all the same
    assert folders(cache) == []


def test_fit_removes_the_cache_of_the_stream_it_made(tmp_path):
    from backtrace_cli.train.run import fit as run_fit

    cache = tmp_path / "cache"
    cache.mkdir()
    path = write_rows(tmp_path / "data.csv")
    outcome = run_fit("w*x + b", path, Settings(lr=0.01, epochs=2, batch_size=None),
                      stream=True, cache_dir=str(cache))
    assert outcome.dataset.rows == len(ROWS)  # still referenced, and already removed
    assert folders(cache) == []
    assert outcome.result.updates == 2


def fit(source, epochs=3, on_epoch=None):
    problem = build_problem("w*x + b", "mse", ("x", "y"), "y")
    settings = Settings(lr=0.01, epochs=epochs, batch_size=None)
    return train(problem, source, {"w": 1.0, "b": 1.0}, settings, on_epoch=on_epoch)


def test_a_file_changed_during_training_is_refused(tmp_path):
    path = write_rows(tmp_path / "data.csv")
    epochs = []

    def change_the_file(record) -> None:
        epochs.append(record.epoch)
        with open(path, "a") as handle:
            handle.write("100,299\n")

    with CsvStream(path, chunk_rows=8, cache_dir=str(tmp_path)) as stream:
        with pytest.raises(DataError) as caught:
            fit(stream, epochs=5, on_epoch=change_the_file)
    assert epochs == [1]  # the second epoch refused to start on another file
    assert caught.value.path == path
    assert caught.value.message.startswith("the file changed while it was being used")
    assert "size or modification time" in caught.value.message


def test_a_file_touched_but_of_the_same_size_is_refused_too(tmp_path):
    path = write_rows(tmp_path / "data.csv")
    with CsvStream(path, cache_dir=str(tmp_path)) as stream:
        list(stream.chunks())
        status = os.stat(path)
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 5_000_000_000))
        with pytest.raises(DataError, match="the file changed while it was being used"):
            list(stream.chunks())


def test_cli_cache_dir_is_used_and_emptied(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    path = write_rows(tmp_path / "data.csv")
    args = ["train", path, "--model", "w*x + b", "--epochs", "4", "--batch-size", "5",
            "--format", "json"]
    streamed = invoke(*args, "--stream", "--cache-dir", str(cache))
    in_memory = invoke(*args, "--no-stream")
    assert streamed.exit_code == in_memory.exit_code == 0, streamed.stderr
    assert json.loads(streamed.stdout)["params"] == json.loads(in_memory.stdout)["params"]
    assert json.loads(streamed.stdout)["history"] == json.loads(in_memory.stdout)["history"]
    assert folders(cache) == []


def test_cli_cache_dir_that_does_not_exist(tmp_path):
    path = write_rows(tmp_path / "data.csv")
    missing = tmp_path / "missing"
    result = invoke("train", path, "--stream", "--cache-dir", str(missing))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"cannot make a folder for the column cache in {missing}" in result.stderr
    assert "No such file or directory" in result.stderr


def test_cli_a_changed_file_is_bad_input(tmp_path, monkeypatch):
    """The CLI's words and exit code when the file changes between two epochs."""
    path = write_rows(tmp_path / "data.csv")
    from backtrace_cli.data import stream as stream_module

    real = stream_module.CsvStream.column_chunks
    passes = []

    def change_after_the_first_pass(self, *args, **kwargs):
        passes.append(1)
        if len(passes) == 2:
            with open(path, "a") as handle:
                handle.write("1,2\n")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(stream_module.CsvStream, "column_chunks", change_after_the_first_pass)
    result = invoke("train", path, "--stream", "--batch-size", "full", "--epochs", "3",
                    "--cache-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: the file changed while it was being used" in result.stderr
    assert [name for name in folders(tmp_path) if name.startswith("backtrace-")] == []


# ----------------------------------------------------------------------------- Ctrl-C
def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "backtrace_cli", "train", *args], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out, err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_while_training_removes_the_cache(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    rows = [(i / 5000, 2 * i / 5000 + 0.5) for i in range(5000)]
    write_rows(tmp_path / "data.csv", rows)
    process = _start(tmp_path, "data.csv", "--model", "w*x + b", "--stream", "--cache-dir",
                     str(cache), "--epochs", "1000000", "--batch-size", "100",
                     "--format", "json")

    def training() -> bool:  # the cache is written: both columns, y after x
        found = folders(cache)
        return bool(found) and "1-y.float64.npy" in folders(cache / found[0])

    assert _wait_for(training), "the cache never appeared"
    time.sleep(0.3)
    assert process.poll() is None, "training ended before the interrupt"
    process.send_signal(signal.SIGINT)
    code, out, err = _finish(process)
    assert code == 130, err
    assert "Traceback" not in err
    document = json.loads(out)
    validate("train", document)
    assert document["interrupted"] is True
    assert folders(cache) == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_while_the_cache_is_written_removes_it(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    # Quoted cells are read by the exact parser, line by line: seconds for 300,000 rows.
    (tmp_path / "data.csv").write_text(
        "x,y\n" + "".join(f'"{i}","{2 * i}"\n' for i in range(300_000)))
    process = _start(tmp_path, "data.csv", "--stream", "--cache-dir", str(cache),
                     "--format", "json")
    assert _wait_for(lambda: bool(folders(cache)) or process.poll() is not None)
    assert process.poll() is None, "the run ended before the interrupt"
    process.send_signal(signal.SIGINT)
    code, out, err = _finish(process)
    assert code == 130, err
    assert err == "Interrupted.\n"
    assert out == ""  # nothing was finished: the data was still being read
    assert folders(cache) == []


def _resident_kb(path: str) -> int | None:
    """The resident size of this process's memory maps of ``path`` (Linux), else None."""
    try:
        with open("/proc/self/smaps", encoding="utf-8") as smaps:
            lines = smaps.read().splitlines()
    except OSError:
        return None
    total, inside = 0, False
    for line in lines:
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
            inside = fields[-1] == path
        elif inside and fields[:1] == ["Rss:"]:
            total += int(fields[1])
    return total


def test_swept_chunks_leave_the_process_memory(tmp_path):
    """Memory stays flat: each chunk's pages are let go of once it has been swept."""
    path = write_rows(tmp_path / "data.csv", [(i / 7, i / 3) for i in range(200_000)])
    with CsvStream(path, cache_dir=str(tmp_path)) as stream:
        (folder,) = [name for name in folders(tmp_path) if name.startswith("backtrace-")]
        cached = str(tmp_path / folder / "0-x.float64.npy")
        if _resident_kb(cached) is None:
            pytest.skip("no /proc/self/smaps here")
        total, resident = 0.0, []
        for first, columns in stream.column_chunks(10_000):
            total += float(columns["x"].sum())  # every page of the chunk is read
            if first == 150_000:
                resident.append(_resident_kb(cached))
        assert total == pytest.approx(sum(i / 7 for i in range(200_000)))
        # 1,200 kB of x values were read by then; a few chunks (80 kB each) are resident: the
        # one being swept, and what the kernel maps around a page fault (64 kB on Linux).
        assert resident[0] <= 640
        assert _resident_kb(cached) <= 64  # and after the pass, next to none
