"""Run folders from others are data, never a way in: symlinks, injected markup, unbounded files.

Each test plants what an attacker would put in a run folder someone sends you, then runs
``genesis report`` (and ``compare``) on it and checks that nothing outside the folder is
written or read, that no script runs in a real browser, and that every read is bounded.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from browser import dump_dom, snapshot

from genesis.cli import main
from genesis.runfolder import MAX_JSON_BYTES, MAX_LOG_BYTES
from visualize.plots import lineage_graph
from visualize.report import write_report
from visualize.runs import read_run

# An injected script would leave these traces: a changed title and a new element.
SCRIPT = (
    "<script>document.title='PWNED';var d=document.createElement('div');d.id='pwned';"
    "document.body.appendChild(d)</script>"
)
ATTR = "'\"><img src=x onerror=\"document.title='PWNED'\">"
OUTSIDE_NAME = "OUTSIDE-ARCHITECTURE-NAME"


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, make_run):
    return make_run(tmp_path_factory.mktemp("base") / "run")


def _copy(base_run, tmp_path, name="run"):
    run = tmp_path / name
    shutil.copytree(base_run, run)
    (run / "report.html").unlink(missing_ok=True)
    return run


def _pareto(run):
    return json.loads((run / "pareto.json").read_text())


def _log(run):
    return [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]


def _write_log(run, entries):
    (run / "evaluations.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))


# -- symlinks ------------------------------------------------------------------------------------
def test_symlink_planted_run_folder_reads_and_writes_nothing_outside(base_run, tmp_path):
    run = _copy(base_run, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    member = _pareto(run)[0]["hash"]
    # a valid architecture outside the folder, planted under a Pareto member's name
    arch = json.loads((run / "architectures" / f"{member}.json").read_text())
    (outside / "arch.json").write_text(json.dumps({**arch, "name": OUTSIDE_NAME}))
    (run / "architectures" / f"{member}.json").unlink()
    (run / "architectures" / f"{member}.json").symlink_to(outside / "arch.json")
    # the output and the names the old report wrote through
    (run / "report.html").symlink_to(outside / "victim.txt")
    for name in (f".report.html.tmp{os.getpid()}", ".report.html.tmp", "report.html.tmp"):
        (run / name).symlink_to(outside / f"planted{len(name)}.py")
    # links out of the folder from the Pareto and final records
    pareto = _pareto(run)
    pareto[1]["architecture"] = "../outside/arch.json"
    (run / "pareto.json").write_text(json.dumps(pareto))
    final = json.loads((run / "final.json").read_text())
    final[0].update(weights=str(outside / "victim.txt"), onnx="../../outside/victim.txt")
    (run / "final.json").write_text(json.dumps(final))
    before = snapshot(outside)

    assert main(["report", str(run)]) == 0
    assert snapshot(outside) == before  # nothing written (or created) outside
    report = run / "report.html"
    assert report.is_file() and not report.is_symlink()
    text = report.read_text()
    assert OUTSIDE_NAME not in text  # the architecture outside was not read
    assert f"architectures/{member}.json is not a regular file" in text  # ...and it says so
    hrefs = re.findall(r"href='([^']*)'", text)
    assert hrefs and all((run / h).resolve().is_relative_to(run.resolve()) for h in hrefs)
    assert not any("outside" in h for h in hrefs)


def test_output_may_not_replace_a_run_file(base_run, tmp_path, capsys):
    run = _copy(base_run, tmp_path)
    log = (run / "evaluations.jsonl").read_bytes()
    for bad in ("evaluations.jsonl", "config.toml", "architectures/x.html", "pareto.json"):
        assert main(["report", str(run), "-o", str(run / bad)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "inside the run folder" in err, err
    assert (run / "evaluations.jsonl").read_bytes() == log
    assert not (run / "architectures" / "x.html").exists()
    # another run folder's files are protected too
    other = _copy(base_run, tmp_path, "other")
    assert main(["report", str(run), "-o", str(other / "run.json")]) == 2
    assert json.loads((other / "run.json").read_text())["status"] == "finished"
    # an .html file at a run folder's top, or anywhere outside run folders, is fine
    assert main(["report", str(run), "-o", str(run / "mine.html")]) == 0
    assert main(["report", str(run), "-o", str(tmp_path / "elsewhere.html")]) == 0
    assert (tmp_path / "elsewhere.html").read_text().startswith("<!DOCTYPE html>")


# -- injected markup -----------------------------------------------------------------------------
def _xss_run(base_run, tmp_path):
    """A run folder with markup in every string field and a DOT-injecting parent hash."""
    run = _copy(base_run, tmp_path, "xss")
    entries = _log(run)
    best = dict(entries[0])
    best["result"] = {**best["result"], "accuracy": 0.999}
    dot_injection = 'x" [URL="javascript:alert(1)" label="pwn'
    best.update(hash=SCRIPT, origin=ATTR, parents=[dot_injection, entries[1]["hash"]])
    second = dict(entries[1])
    second["result"] = {**second["result"], "accuracy": 0.998, "status": ATTR}
    second.update(origin=SCRIPT, parents=[dot_injection, "x\\", "a:b"], generation=ATTR)
    _write_log(run, [*entries, best, second])
    (run / "javascript:document.title='PWNED'").write_text("a file the old report linked")
    pareto = _pareto(run)
    pareto[0]["architecture"] = "javascript:document.title='PWNED'"
    pareto[1].update(origin=SCRIPT, accuracy=ATTR, macs=SCRIPT)
    pareto.append({**pareto[2], "hash": SCRIPT, "architecture": SCRIPT})
    (run / "pareto.json").write_text(json.dumps(pareto))
    final = json.loads((run / "final.json").read_text())
    final[0].update(status=SCRIPT, weights="javascript:alert(1)", onnx="/etc/passwd")
    final.append({**final[0], "hash": SCRIPT})
    (run / "final.json").write_text(json.dumps(final))
    state = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**state, "status": SCRIPT}))
    member = pareto[1]["hash"]
    path = run / "architectures" / f"{member}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "name": SCRIPT + ATTR}))
    with open(run / "config.toml", "a") as f:
        f.write(f"\n[evil]\n{json.dumps(SCRIPT)} = {json.dumps(SCRIPT + ATTR)}\n")
    return run, dot_injection


def test_xss_laden_run_folder_runs_no_script_in_chromium(base_run, tmp_path):
    run, dot_injection = _xss_run(base_run, tmp_path)
    assert main(["report", str(run)]) == 0
    report = run / "report.html"
    text = report.read_text()
    assert "<script>document" not in text and "<img src=x" not in text
    assert not [h for h in re.findall(r"href='([^']*)'", text) if "javascript" in h.lower()]
    profile = tmp_path / "profile"
    dom = dump_dom(report, profile)
    assert "data-images=" in dom  # the report's own script ran: the page loaded
    assert "<title>genesis run xss</title>" in dom  # no injected script changed the title
    assert '<div id="pwned">' not in dom
    for href in re.findall(r"""href=["']([^"']*)["']""", dom):
        assert not href.lower().startswith("javascript:"), href
        assert "://" not in href and not href.startswith("/"), href
        assert (run / href).resolve().is_relative_to(run.resolve()), href
    # the lineage drawing's DOT source: no attribute from a parent name
    source = lineage_graph(read_run(run), read_run(run).pareto[0]["hash"]).source
    assert "URL" not in source and "javascript" not in source and dot_injection not in source


def test_dot_source_quotes_every_string_from_files(base_run, tmp_path):
    run, _ = _xss_run(base_run, tmp_path)
    data = read_run(run)
    assert all(not e["hash"].startswith("<") for e in data.evaluations)
    for e in data.evaluations:
        source = lineage_graph(data, e["hash"]).source
        assert "URL=" not in source
    from visualize.render import architecture_graph

    arch = data.architecture(data.pareto[1]["hash"])
    assert arch is not None and arch.name.startswith("<script>")
    source = architecture_graph(arch).source
    assert "label=<" not in source  # never an HTML-like label
    assert '\\"' in source  # the name's quotes stay inside one quoted string


# -- bounded reads -------------------------------------------------------------------------------
def _plant(run, target, kind):
    target.unlink(missing_ok=True)
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    else:  # a sparse file just over the cap
        cap = MAX_LOG_BYTES if target.name == "evaluations.jsonl" else MAX_JSON_BYTES
        with open(target, "wb") as f:
            f.truncate(cap + 1)


@pytest.mark.parametrize(
    "where, kind",
    [
        ("evaluations.jsonl", "dev-zero"),
        ("evaluations.jsonl", "fifo"),
        ("evaluations.jsonl", "oversized"),
        ("architecture", "dev-zero"),
        ("architecture", "fifo"),
        ("architecture", "oversized"),
        ("pareto.json", "fifo"),
        ("run.json", "dev-zero"),
    ],
)
def test_unbounded_files_are_refused_quickly(base_run, tmp_path, where, kind):
    run = _copy(base_run, tmp_path)
    if where == "architecture":
        target = run / "architectures" / f"{_pareto(run)[0]['hash']}.json"
    else:
        target = run / where
    _plant(run, target, kind)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.monotonic()

    def limit_memory():  # an unbounded read fails here instead of exhausting the machine
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    proc = subprocess.run(
        [sys.executable, "-m", "genesis", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        preexec_fn=limit_memory,
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 60
    text = (run / "report.html").read_text()
    note = {
        "dev-zero": "symbolic link" if where != "architecture" else "not a regular file",
        "fifo": "not a regular file",
        "oversized": "more than the",
    }[kind]
    assert note in text, text[:3000]


# -- damaged folders -----------------------------------------------------------------------------
DAMAGE = {
    "run.json a list": ("run.json", b"[1, 2, 3]"),
    "run.json NaN hypervolume": ("run.json", b'{"status": "finished", "hypervolume": NaN}'),
    "run.json overhead text": ("run.json", b'{"status": "finished", "overhead": "abc"}'),
    "pareto entry without a hash": ("pareto.json", b'[{"accuracy": 0.5, "macs": 3}]'),
    "pareto a dict": ("pareto.json", b'{"hash": 1}'),
    "pareto wrong types": (
        "pareto.json",
        b'[{"hash": "0123456789abcdef0123", "accuracy": "x", "macs": [], "architecture": 5}]',
    ),
    "final entry wrong types": ("final.json", b'[{"hash": ["a"]}, 7, {"hash": null}]'),
    "non-UTF-8 log": ("evaluations.jsonl", b'{"hash": "\xff\xfe"}\n\x80\x81\n'),
    "log with wrong types": (
        "evaluations.jsonl",
        b'{"hash": 5, "result": {}}\n{"hash": "0123456789abcdef0123", "result": {"macs": "x"}}\n'
        b'{"hash": "0123456789abcdef0123", "result": {"macs": 1e999, "accuracy": NaN}}\n'
        b'{"hash": "0123456789abcdef0123", "result": {"macs": 5, "accuracy": 1e400},'
        b' "parents": "abc", "generation": "x", "origin": 3}\n[[[[[[[[[[[[[[[[\n',
    ),
    "log nested too deep": ("evaluations.jsonl", b"[" * 100000 + b"\n{}\n"),
    "log with a huge integer": ("evaluations.jsonl", b'{"hash": ' + b"7" * 5000 + b"}\n{}\n"),
    "config not TOML": ("config.toml", b"[search\nstrategy = "),
    "config wrong types": ("config.toml", b'search = 3\n[final]\ntop_k = "x"\n'),
    "config strategy a table": ("config.toml", b'[search.strategy]\nx = "$\\\\frac{"\n'),
    "logbook damaged": ("logbook.csv", b"generation,hypervolume\nnan,inf\nx,1\n\x00\n,,,,,\n"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_folder_gives_a_report_with_a_note(base_run, tmp_path, capsys, case):
    run = _copy(base_run, tmp_path)
    name, data = DAMAGE[case]
    (run / name).write_bytes(data)
    assert main(["report", str(run)]) == 0
    assert main(["compare", str(run), str(base_run)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and all(line.startswith("warning:") for line in err.splitlines())
    text = (run / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "Not shown (could not be read)" in text


def test_write_report_on_a_partial_folder_names_what_is_missing(base_run, tmp_path):
    run = _copy(base_run, tmp_path)
    member = _pareto(run)[0]["hash"]
    (run / "architectures" / f"{member}.json").unlink()
    text = write_report(run).read_text()
    assert f"architectures/{member}.json is missing" in text
