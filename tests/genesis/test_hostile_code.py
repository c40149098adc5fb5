"""Hostile input, round 2: a file from someone else never becomes code, and no export destroys
a file that was there before.

An architecture's free text (its name, ``meta``, a stage's ``origin``) is one printable line
when it is read, and reaches generated source only as the ``repr()`` of a validated value:
docstring, comment, string and newline breakouts and unicode line separators are tried here,
through the API and the command line. Every export writes its file only once its check passed.
"""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genesis import Architecture, GenesisError, save_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.presets import build_architecture
from genesis.standalone import export_python, python_source

#: Marker files a payload would create if it ever ran.
MARK = "PWNED"


def _payloads(mark: Path) -> list[str]:
    """Names that try to leave the string they are put in (each one printable)."""
    code = f"__import__('pathlib').Path({str(mark)!r}).write_text('x')"
    return [
        f'"""; {code}; """',  # close the module docstring
        f"'''; {code}; '''",
        f"'; {code}; '",  # close a single-quoted string
        f'"; {code}; "',
        f"# {code}",  # a comment that a wrapped line would turn into code
        f"\\\\'; {code}; #",  # a backslash that eats the closing quote
        f"{{{code}}}",  # an f-string or str.format field
        f"%(x)s {code}",
        f'\\N{{LATIN SMALL LETTER A}}"""{code}',
        f"x\\u2028{code}",  # the escape as text, not the character
    ]


#: Characters that end a line somewhere (Python, editors, terminals) or hide text.
BREAKERS = [
    "\n",
    "\r",
    "\r\n",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1b[2J",
    "\u202e",
    "\t",
]


def _arch(name: str = "fashion-mnist", **meta) -> Architecture:
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=4, channels=4)
    return arch.replace(name=name, meta={**arch.meta, **meta})


def _hostile_file(tmp_path: Path, name: str, where: str = "name") -> Path:
    """An architecture file whose ``where`` field holds ``name`` (written as raw JSON)."""
    data = json.loads(_arch().to_json())
    if where == "name":
        data["name"] = name
    elif where == "meta":
        data["meta"] = {"note": name}
    elif where == "meta-key":
        data["meta"] = {name: 1}
    else:
        data["stages"][0]["origin"] = {"family": name}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("where", ["name", "meta", "meta-key", "origin"])
@pytest.mark.parametrize("breaker", BREAKERS, ids=[repr(b) for b in BREAKERS])
def test_a_line_breaker_in_free_text_is_refused_when_read(tmp_path, where, breaker):
    path = _hostile_file(tmp_path, f'x"""{breaker}import os{breaker}"""', where)
    with pytest.raises(GenesisError, match="one line of printable characters"):
        Architecture.from_json(path.read_text())


def test_free_text_is_bounded_in_length_and_depth(tmp_path):
    with pytest.raises(GenesisError, match="MAX_NAME_CHARS"):
        Architecture.from_json(_hostile_file(tmp_path, "n" * 201).read_text())
    with pytest.raises(GenesisError, match="MAX_TEXT_CHARS"):
        Architecture.from_json(_hostile_file(tmp_path, "n" * 1001, "meta").read_text())
    deep: object = "leaf"
    for _ in range(20):
        deep = {"k": deep}
    with pytest.raises(GenesisError, match="MAX_META_DEPTH"):
        _arch().replace(meta={"deep": deep})


@pytest.mark.parametrize("breaker", ["\n", "\u2028", "\x1b[2J"])
def test_export_python_of_a_breaker_name_exits_2_and_writes_nothing(tmp_path, capsys, breaker):
    mark = tmp_path / MARK
    name = f'x"""{breaker}__import__("pathlib").Path({str(mark)!r}).write_text("x"){breaker}"""'
    src = _hostile_file(tmp_path, name)
    out = tmp_path / "model.py"
    assert main(["export", str(src), "--python", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "printable" in err and "Traceback" not in err
    assert not out.exists() and not mark.exists()


def _source_shape(source: str) -> str:
    """The module's AST with the NAME constant's value blanked: what a name could change."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "NAME"
        ]:
            node.value = ast.Constant("")
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "ARCHITECTURE"
        ]:
            node.value = ast.Constant("")
    return ast.dump(tree)


def test_a_printable_payload_name_only_ever_becomes_a_string_constant(tmp_path):
    mark = tmp_path / MARK
    plain = _arch()
    model = compile_architecture(plain)
    shape = _source_shape(python_source(model, plain))
    for payload in _payloads(mark):
        arch = _arch(payload, note=payload)
        source = python_source(model, arch)
        tree = ast.parse(source)
        # the same program as for a plain name, the payload in NAME (and the JSON) alone
        assert _source_shape(source) == shape, payload
        names = {
            t.id: n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
        }
        assert names["NAME"] == payload
        assert json.loads(names["ARCHITECTURE"])["name"] == payload
        assert payload not in ast.get_docstring(tree)
        namespace: dict = {"__name__": "hostile"}
        exec(compile(source, "model.py", "exec"), namespace)  # what importing the file runs
        namespace["build_model"]()
        assert not mark.exists(), payload


def test_fuzzed_printable_names_never_change_the_program(tmp_path):
    rng = random.Random(25)
    alphabet = "\"'\\#{}%$()[];:,.=+-*/<>!?@`~^|&_ abcxyz019\u00e9\u4e2d\U0001f600"
    arch0 = _arch()
    model = compile_architecture(arch0)
    shape = _source_shape(python_source(model, arch0))
    for _ in range(300):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        source = python_source(model, _arch(name))
        assert _source_shape(source) == shape, name


def test_export_python_writes_and_checks_without_running_the_file_on_disk(tmp_path, monkeypatch):
    """The check runs the source genesis generated in memory: a file swapped on disk between
    the write and the check is never imported."""
    import importlib.util

    def refuse(*args, **kwargs):
        raise AssertionError("export_python imported a file")

    monkeypatch.setattr(importlib.util, "spec_from_file_location", refuse)
    arch = _arch()
    diff = export_python(compile_architecture(arch), arch, tmp_path / "m.py")
    assert diff is not None and diff <= 1e-5


def _failing_check(monkeypatch, module, *names):
    for name in names:
        monkeypatch.setattr(module, name, -1.0)  # no difference can pass a negative tolerance


@pytest.mark.parametrize("kind", ["python", "onnx", "program"])
def test_a_failed_export_check_leaves_the_users_file_as_it_was(tmp_path, monkeypatch, kind):
    import genesis.export as export
    import genesis.standalone as standalone

    arch = _arch()
    model = compile_architecture(arch)
    out = tmp_path / {"python": "m.py", "onnx": "m.onnx", "program": "m.pt2"}[kind]
    out.write_bytes(b"the user's own file")
    if kind == "python":
        _failing_check(monkeypatch, standalone, "STANDALONE_ATOL", "STANDALONE_RTOL")
        call = lambda: export_python(model, arch, out)  # noqa: E731
    else:
        pytest.importorskip("onnxruntime")
        call = (
            (lambda: export.export_onnx(model, arch, out, atol=-1.0, rtol=0.0))
            if kind == "onnx"
            else (lambda: export.export_program(model, arch, out, atol=-1.0, rtol=0.0))
        )
    with pytest.raises(GenesisError, match="nothing written"):
        call()
    assert out.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


def test_the_cli_says_what_differed_and_keeps_the_file(tmp_path, monkeypatch, capsys):
    import genesis.standalone as standalone

    src = tmp_path / "a.json"
    save_architecture(_arch(), src)
    out = tmp_path / "model.py"
    out.write_text("# mine\n")
    _failing_check(monkeypatch, standalone, "STANDALONE_ATOL", "STANDALONE_RTOL")
    assert main(["export", str(src), "--python", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "differ" in err and "by up to" in err
    assert out.read_text() == "# mine\n"


def test_a_channels_last_model_checks_against_its_standalone_file(tmp_path):
    """The final step's model is left in channels_last by training. The file is compared in
    that format (the same kernels run), within float32's tolerance relative to the outputs'
    size; compared contiguous, as it was, float noise alone went past the old absolute 1e-6,
    and the file was deleted."""
    arch = build_architecture("fashion-mnist", seed=3, nodes=8, channels=16)
    model = compile_architecture(arch, seed=1).to(memory_format=torch.channels_last)
    with torch.no_grad():  # trained-like: features that are not near zero, logits of ~15
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.bias.fill_(0.5)
        model.head[-1].weight.mul_(100)
    x = torch.randn(3, *arch.input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        contiguous = compile_architecture(arch, seed=1)
        contiguous.load_state_dict(model.state_dict())
        old = (model.eval()(x) - contiguous.eval()(x)).abs().max().item()
        scale = model(x).abs().max().item()
    assert scale > 10 and old > 1e-6  # what the old check saw: past its 1e-6
    diff = export_python(model, arch, tmp_path / "m.py")
    assert diff <= 1e-5 + 1.3e-6 * scale


# -- the cost cap ----------------------------------------------------------------------------


def _huge(tmp_path: Path) -> Path:
    """Within every graph and width cap, 4.29G parameters: one stage of 256 separable-conv
    nodes of width 4096 (the attacker's 12 KB file)."""
    import networkx as nx

    from genesis.genome import Stage, StemLayer

    n = 256
    G = nx.DiGraph(input=0, output=n + 1)
    G.add_node(0)
    G.add_node(n + 1)
    for v in range(1, n + 1):
        G.add_node(v, op="sep_conv_3x3")
        G.add_edge(v - 1, v)
    G.add_edge(n, n + 1)
    arch = Architecture(
        input_shape=(1, 28, 28),
        num_classes=10,
        stem=(StemLayer(16),),
        stages=(Stage(G, channels=4096, stride=1),),
    )
    path = tmp_path / "huge.json"
    save_architecture(arch, path)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "{a}", "--costs"],
        ["export", "{a}", "--onnx", "{t}/x.onnx"],
        ["export", "{a}", "--python", "{t}/x.py"],
        ["render", "{a}", "--weights", "{t}/w.pt", "-o", "{t}/x.svg"],
        ["train", "{a}", "--dataset", "synthetic", "--epochs", "1"],
    ],
    ids=["info-costs", "export-onnx", "export-python", "render-weights", "train"],
)
def test_every_verb_that_compiles_refuses_a_network_over_the_cost_cap(tmp_path, capsys, argv):
    path = _huge(tmp_path)
    torch.save({}, tmp_path / "w.pt")
    argv = [a.format(a=path, t=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MAX_PARAMS" in err, err
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "x.py").exists()


def _peak_rss(argv: list[str], cwd: Path) -> tuple[int, str, int]:
    """Exit code, stderr and peak resident bytes of ``genesis ARGV`` in a fresh process."""
    import os

    with open(cwd / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "genesis", *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, err.read(), usage.ru_maxrss * 1024


def test_the_cost_cap_holds_memory_under_2_gib(tmp_path):
    path = _huge(tmp_path)
    for argv in (["info", str(path), "--costs"], ["export", str(path), "--onnx", "x.onnx"]):
        code, err, peak = _peak_rss(argv, tmp_path)
        assert code == 2, err[-2000:]
        assert "Traceback" not in err and "MAX_PARAMS" in err
        assert peak < 2 * 2**30, f"{argv[0]} peaked at {peak / 2**30:.2f} GiB"


def test_the_cost_cap_admits_the_papers_largest_network():
    from genesis.complexity import check_costs

    cx = check_costs(build_architecture("randwire-regular", seed=0, channels=154))
    assert 62e6 < cx.params < 63e6
