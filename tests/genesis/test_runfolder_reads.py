"""The run folder's one bounded read, its hash check, and the report's inside-the-folder rule."""

import os

import pytest

from genesis import GenesisError
from genesis.runfolder import RunFolder, is_hash, read_bytes_bounded, read_jsonl
from visualize.runs import RunData


def test_read_bytes_bounded_reads_a_regular_file(tmp_path):
    (tmp_path / "a").write_bytes(b"12345")
    assert read_bytes_bounded(tmp_path / "a", 5) == b"12345"
    with pytest.raises(GenesisError, match="holds 5 bytes, more than the 4"):
        read_bytes_bounded(tmp_path / "a", 4)
    with pytest.raises(FileNotFoundError):
        read_bytes_bounded(tmp_path / "missing", 4)


@pytest.mark.parametrize("kind", ["symlink", "dev-zero", "fifo", "folder"])
def test_read_bytes_bounded_refuses_what_is_not_a_regular_file(tmp_path, kind):
    (tmp_path / "real").write_text("{}")
    path = tmp_path / "x"
    if kind == "symlink":
        path.symlink_to(tmp_path / "real")
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)  # opened without blocking: no writer needed for the refusal
    else:
        path.mkdir()
    match = {
        "symlink": "symbolic link",
        "dev-zero": "symbolic link",
        "fifo": "not a regular file \\(a FIFO\\)",
        "folder": "not a regular file \\(a folder\\)|cannot read",
    }[kind]
    with pytest.raises(GenesisError, match=match):
        read_bytes_bounded(path, 100)
    if kind == "dev-zero":
        with pytest.raises(GenesisError, match="a character device"):
            read_bytes_bounded("/dev/zero", 100)


def test_read_jsonl_is_bounded(tmp_path):
    log = tmp_path / "evaluations.jsonl"
    log.write_text('{"a": 1}\n' * 10)
    assert len(read_jsonl(log)[0]) == 10
    with pytest.raises(GenesisError, match="more than the 20"):
        read_jsonl(log, limit=20)
    values, problems = read_jsonl(log, strict=False, limit=20)
    assert values == [] and "was not read" in problems[0]
    log.write_bytes(b'{"a": 1}\n[[[' + b"[" * 100_000 + b"\n" + b"9" * 5000 + b"\n{}\n")
    values, problems = read_jsonl(log, strict=False)
    assert values == [{"a": 1}, {}] and len(problems) == 2  # too deep, an int too long
    log.write_bytes(b'{"a": 1}\n\xff\n')
    with pytest.raises(GenesisError, match="not UTF-8"):
        read_jsonl(log)


def test_state_and_read_json_refuse_wrong_files(tmp_path):
    folder = RunFolder(tmp_path)
    folder.state_path.write_text("[1, 2]")
    with pytest.raises(GenesisError, match="not a JSON object but a list"):
        folder.state()
    folder.state_path.unlink()
    folder.state_path.symlink_to("/dev/zero")
    with pytest.raises(GenesisError, match="symbolic link"):
        folder.state()
    problems = []
    assert folder.read_json("run.json", {}, problems) == {} and "symbolic link" in problems[0]


def test_is_hash():
    assert is_hash("0123456789abcdef0123") and is_hash("0123456789abcdef0123-89abcdef")
    for bad in ("0123456789ABCDEF0123", "0123456789abcdef012", "../x", "", None, 5, ["a"]):
        assert not is_hash(bad), bad
    assert not is_hash("0123456789abcdef0123\n")


def test_inside_admits_only_regular_files_inside_the_folder(tmp_path):
    run = tmp_path / "run"
    (run / "architectures").mkdir(parents=True)
    (run / "architectures" / "a.json").write_text("{}")
    (tmp_path / "secret.json").write_text("{}")
    (run / "link.json").symlink_to(run / "architectures" / "a.json")
    (run / "out").symlink_to(tmp_path)
    data = RunData(run)
    assert data.inside("architectures/a.json") == run / "architectures" / "a.json"
    for bad in (
        "../secret.json",
        str(tmp_path / "secret.json"),
        "out/secret.json",
        "link.json",
        "architectures",
        "architectures/missing.json",
        "javascript:alert(1)",
        "architectures//a.json",
        "./architectures/a.json",
        "architectures/a.json?x",
        None,
        7,
    ):
        assert data.inside(bad) is None, bad
