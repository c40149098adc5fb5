"""What the CLI imports: the architecture verbs never load the search (DEAP) nor ray.

Each check runs in a fresh interpreter, since this test session has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Heavy search dependencies no architecture verb may import.
SEARCH_MODULES = ("deap", "ray")

PROBE = """
import json, sys
from genesis.cli import main
codes = [main(argv) for argv in json.loads(sys.argv[1])]
print(json.dumps({"codes": codes, "loaded": sorted(m for m in %r if m in sys.modules)}))
"""


def _probe(argvs: list[list[str]], modules=SEARCH_MODULES) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (modules,), json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_generate_info_render_import_neither_deap_nor_ray(tmp_path):
    arch = str(tmp_path / "a.json")
    argvs = [
        ["generate", "ws", "--seed", "1", "-o", arch],
        ["info", arch],
        ["info", "--json", arch],
        ["render", arch, "-o", str(tmp_path / "a.dot")],
    ]
    result = _probe(argvs)
    assert result["codes"] == [0, 0, 0, 0]
    assert result["loaded"] == []
    assert (tmp_path / "a.dot").read_text().startswith("digraph")


def test_the_probe_sees_a_verb_that_imports_the_search(tmp_path):
    """The same probe reports DEAP after a (synthetic) ``genesis evolve``: it can fail."""
    argv = ["evolve", "--fitness", "synthetic", "--population", "2", "--generations", "0"]
    argv += ["--final-top-k", "0", "--out", str(tmp_path / "run")]
    result = _probe([argv], modules=("deap",))
    assert result == {"codes": [0], "loaded": ["deap"]}


def test_evolve_config_alone_imports_no_deap():
    code = "import sys, evolve.config; print('deap' in sys.modules, 'evolve.search' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("name", __import__("evolve").__all__)
def test_every_lazy_evolve_name_resolves(name):
    import evolve

    assert getattr(evolve, name) is not None
    assert name in dir(evolve)


def test_an_unknown_evolve_name_is_an_attribute_error():
    import evolve

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        evolve.nope  # noqa: B018
