"""The documentation: README.md and docs/ build, link, and say what the code does.

The site is built with ``mkdocs build --strict`` (warnings are errors: a broken link or anchor,
a page missing from the nav, an API object mkdocstrings cannot render). The references are held
to the code: every verb and flag of ``genesis.cli.build_parser()`` is in docs/reference/cli.md,
every config field (with its default) in docs/reference/config.md, every named cap in the table
of docs/security.md. The README's two commands are the ones ``.ci/run`` runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import genesis.cli
from evolve.config import EvolveConfig, load_config
from evolve.oneshot import OneshotRunConfig
from evolve.studyconfig import StudyRunConfig
from evolve.studysettings import Setting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

#: The marker of a shell block a newcomer can run as written (see ``runnable_blocks``).
RUNNABLE = "<!-- runnable -->"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _fenced(text: str, lang: str) -> list[str]:
    """The bodies of the ```lang blocks of a Markdown text, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def _prose(text: str) -> str:
    """``text`` without its fenced blocks and code spans (where a link is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def runnable_blocks(text: str) -> list[list[str]]:
    """The lines of every ```sh block right after a ``<!-- runnable -->`` line."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() == RUNNABLE:
            assert lines[i + 1] == "```sh", f"{RUNNABLE} must stand right before a ```sh fence"
            end = lines.index("```", i + 2)
            blocks.append(lines[i + 2 : end])
    return blocks


def test_mkdocs_build_strict(tmp_path):
    """The CI step that builds the docs with warnings as errors (CI runs only pytest)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "api" / "genesis" / "index.html").is_file()
    # a figure a page links where it lies in the repository is part of the site (docs/hooks.py)
    bars = "benchmarks/results/study-cpu-2026-12-02/study_bars.png"
    assert (tmp_path / "site" / bars).is_file()


def test_readme_is_at_most_200_lines():
    assert len(_text(README).splitlines()) <= 200


def test_readme_two_commands_are_what_ci_runs():
    ci = [
        line.strip()
        for line in _text(ROOT / ".ci" / "run").splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert ci == ["./setup.sh --test && .venv/bin/python -m pytest -q"]
    section = _text(README).split("## Two commands", 1)[1].split("\n## ", 1)[0]
    assert [b.strip() for b in _fenced(section, "sh")] == [
        "./setup.sh && .venv/bin/genesis evolve",
        ci[0],
    ]


def _verbs(parser: argparse.ArgumentParser, prefix: str = ""):
    """(verb path, its parser) of every verb and sub-verb, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = f"{prefix} {name}".strip()
                yield path, sub
                yield from _verbs(sub, path)


def test_cli_reference_lists_every_verb_and_flag():
    """A heading per verb, and a table row per flag under it (not only the usage line)."""
    text = _text(DOCS / "reference" / "cli.md")
    verbs = list(_verbs(genesis.cli.build_parser()))
    assert {"study generators", "study ops", "study damage"} <= {v for v, _ in verbs}
    missing = []
    for verb, parser in verbs:
        heading = re.search(rf"^#+ `genesis {verb}`$", text, flags=re.M)
        if heading is None:
            missing.append(f"genesis {verb}")
            continue
        section = re.split(r"\n#+ `genesis ", text[heading.end() :], maxsplit=1)[0]
        rows = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
        for action in parser._actions:
            for flag in action.option_strings:
                if flag in ("-h", "--help"):
                    continue
                if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", rows):
                    missing.append(f"genesis {verb} {flag}")
    assert not missing, f"not in docs/reference/cli.md: {missing}"


def _field_default(f: dataclasses.Field):
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _tables() -> list[tuple[str, type, dict]]:
    """(heading of a table in config.md, the dataclass, the defaults the table must show)."""
    evolve, study = EvolveConfig(), StudyRunConfig()
    tables = []
    for section in [f.name for f in dataclasses.fields(evolve)]:
        obj = getattr(evolve, section)
        if section == "strategy":  # one table per strategy: [strategy.<name>]
            for name, params in obj.items():
                tables.append((f"### `[strategy.{name}]`", params, dataclasses.asdict(params)))
            continue
        tables.append((f"### `[{section}]`", obj, dataclasses.asdict(obj)))
    for heading, obj in (("### `[study]`", study.study), ("### A study's `[proxy]`", study.proxy)):
        tables.append((heading, obj, dataclasses.asdict(obj)))
    oneshot = OneshotRunConfig()
    for heading, obj in (
        ("### `[oneshot]`", oneshot.oneshot),
        ("### A oneshot run's `[proxy]`", oneshot.proxy),
        ("### A oneshot run's `[final]`", oneshot.final),
    ):
        tables.append((heading, obj, dataclasses.asdict(obj)))
    setting = {f.name: _field_default(f) for f in dataclasses.fields(Setting)}
    tables.append(("### A setting", Setting, setting))
    return tables


def _as_toml(value):
    """A config value as TOML reads it back (None is "none", tuples are lists)."""
    if value is None:
        return "none"
    if isinstance(value, (tuple, list)):
        return [_as_toml(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_toml(v) for k, v in value.items()}
    return value


def test_config_reference_lists_every_field_with_its_default():
    """Every field of every config dataclass has a row, and the row's default is the field's."""
    text = _text(DOCS / "reference" / "config.md")
    problems = []
    for heading, kind, defaults in _tables():
        assert heading in text, f"config.md has no table {heading!r}"
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        rows = {
            m["key"]: m["default"].strip()
            for m in re.finditer(r"^\| `(?P<key>\w+)` \| (?P<default>[^|]*?) \|", section, re.M)
        }
        for f in dataclasses.fields(kind):
            if f.name not in rows:
                problems.append(f"{heading}: no row for {f.name}")
            elif rows[f.name] not in ("(required)", "the default grid"):
                shown = tomllib.loads(f"x = {rows[f.name].strip('`')}")["x"]
                if shown != _as_toml(defaults[f.name]):
                    problems.append(f"{heading}: {f.name} shows {rows[f.name]}")
    assert not problems, problems


_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in _LINK.findall(_prose(_text(page))):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor of the page itself (mkdocs checks anchors)
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: links to missing files {broken}"


def test_runnable_blocks_are_plain_genesis_commands_that_parse(capsys):
    """A marked block holds one ``genesis`` command a line (comments allowed), no shell, and
    every command's verb and flags parse."""
    parser = genesis.cli.build_parser()
    found = 0
    for page in [README, *PAGES]:
        for block in runnable_blocks(_text(page)):
            for line in block:
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                found += 1
                where = f"{page.relative_to(ROOT)}: {line!r}"
                assert line.startswith("genesis "), where
                assert not re.search(r"[|;&<>`$\\]|^\s*(for|while|if)\b", line), where
                args = shlex.split(line, comments=True)[1:]
                try:
                    parser.parse_args(args)
                except SystemExit:
                    pytest.fail(f"{where} does not parse: {capsys.readouterr().err.strip()}")
    assert found >= 20  # the tour, train, datasets, export, search, reports, compare, tune


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_toml_examples_load(path, tmp_path):
    """Every TOML block is a config genesis reads: a study's, a oneshot run's or a search's."""
    for i, body in enumerate(_fenced(_text(path), "toml")):
        file = tmp_path / f"example{i}.toml"
        file.write_text(body, encoding="utf-8")
        kind = StudyRunConfig if "[study]" in body else EvolveConfig
        kind = OneshotRunConfig if "[oneshot]" in body else kind
        assert isinstance(load_config(file, kind=kind), kind)


_EXAMPLES = _fenced(_text(DOCS / "concepts" / "extending.md"), "python")


@pytest.mark.parametrize("index", range(len(_EXAMPLES)))
def test_extension_examples_run(index, tmp_path):
    """Each example of docs/concepts/extending.md runs as the script it says it is."""
    assert len(_EXAMPLES) == 4  # an op, a graph family, a strategy, a preset
    script = tmp_path / f"example{index}.py"
    script.write_text(_EXAMPLES[index], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


#: Where the code names its caps: ``MAX_<NAME> = value`` or ``GENERATOR_<NAME> = value`` at the
#: top level of a module.
_CAP = re.compile(r"^((?:MAX|GENERATOR)_[A-Z_]+)\s*=", re.M)


def test_every_cap_is_in_the_limits_table():
    text = _text(DOCS / "security.md")
    table = text.split("### Every cap", 1)[1].split("\n### ", 1)[0]
    named = {
        name
        for package in ("graphs", "genesis", "evolve", "visualize")
        for module in (ROOT / package).rglob("*.py")
        for name in _CAP.findall(_text(module))
    }
    assert {"MAX_NODES", "MAX_PARAMS", "MAX_DECODED_BYTES", "MAX_COMPARE_RUNS"} <= named
    missing = sorted(n for n in named if f"`{n}`" not in table)
    assert not missing, f"caps missing from the table of docs/security.md: {missing}"


@pytest.mark.parametrize("package", ["graphs", "genesis", "evolve", "visualize"])
def test_every_module_has_its_api_page_entry(package):
    """A module added without its ``::: module`` line would be missing from the API pages."""
    have = {
        line.split()[1]
        for line in _text(DOCS / "api" / f"{package}.md").splitlines()
        if line.startswith(":::")
    }
    missing = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        private = name.startswith("genesis.cli") or parts[-1].startswith("_")
        if not private and name not in have:
            missing.append(name)
    assert missing == []
