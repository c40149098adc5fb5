"""The run folder on its own: creation, the append-only log, checkpoints, the logbook."""

from __future__ import annotations

import json
import pickle

import pytest

from evolve.config import EvolveConfig, SearchConfig, load_config
from genesis import GenesisError
from genesis.runfolder import LOGBOOK_FIELDS, RunFolder


@pytest.fixture
def folder(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.create(EvolveConfig(search=SearchConfig(population=3, seed=7)))
    return run


def test_create_writes_config_state_and_logbook_header(folder):
    assert load_config(folder.config_path) == EvolveConfig(
        search=SearchConfig(population=3, seed=7)
    )
    assert load_config(folder.check()) == load_config(folder.config_path)
    assert folder.state()["status"] == "running"
    assert folder.logbook_path.read_text().strip() == ",".join(LOGBOOK_FIELDS)
    assert (folder.path / "architectures").is_dir()
    assert folder.read_evaluations() == []
    assert folder.load_checkpoint() is None


def test_create_accepts_an_empty_folder_and_refuses_anything_else(tmp_path):
    (tmp_path / "empty").mkdir()
    RunFolder(tmp_path / "empty").create(EvolveConfig())
    with pytest.raises(GenesisError, match="already exists and is not empty; resume it"):
        RunFolder(tmp_path / "empty").create(EvolveConfig())
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenesisError, match="already exists and is not empty"):
        RunFolder(tmp_path / "file").create(EvolveConfig())
    assert (tmp_path / "file").read_text() == "x"


def test_open_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(GenesisError, match="does not exist"):
        RunFolder(tmp_path / "none").check()
    with pytest.raises(GenesisError, match=r"is not a genesis run folder \(no config.toml\)"):
        RunFolder(tmp_path).check()


def test_write_state_keeps_earlier_fields(folder):
    folder.write_state("running", started=1.5, note="a")
    folder.write_state("finished", trained=4)
    state = folder.state()
    assert (state["status"], state["started"], state["note"], state["trained"]) == (
        "finished",
        1.5,
        "a",
        4,
    )


def test_a_damaged_state_file_is_named(folder):
    (folder.path / "run.json").write_text("{")
    with pytest.raises(GenesisError, match=r"run\.json' is damaged"):
        folder.state()


# -- the evaluation log ----------------------------------------------------------------------------
def _entries(n):
    return [{"generation": 0, "index": i, "kind": "train"} for i in range(n)]


def test_log_round_trip(folder):
    for e in _entries(3):
        folder.append_evaluation(e)
    assert folder.read_evaluations() == _entries(3)
    assert folder.log_path.read_text().count("\n") == 3


def test_an_unfinished_last_line_is_dropped_and_repaired(folder):
    for e in _entries(2):
        folder.append_evaluation(e)
    with open(folder.log_path, "a") as f:
        f.write('{"generation": 0, "ind')
    assert folder.read_evaluations() == _entries(2)
    folder.repair_log()
    assert folder.log_path.read_text().endswith("}\n")
    folder.append_evaluation({"generation": 1})
    assert folder.read_evaluations() == [*_entries(2), {"generation": 1}]


@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_damaged_complete_line_is_an_error_naming_file_and_line(folder, where):
    for e in _entries(3):
        folder.append_evaluation(e)
    lines = folder.log_path.read_text().splitlines()
    lines[where] = lines[where][:7]
    folder.log_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GenesisError, match=rf"evaluations\.jsonl' line {where + 1} is damaged"):
        folder.read_evaluations()


def test_blank_lines_are_ignored(folder):
    folder.log_path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert folder.read_evaluations() == [{"a": 1}, {"a": 2}]


# -- checkpoints -----------------------------------------------------------------------------------
def test_checkpoints_keep_the_one_before(folder):
    folder.save_checkpoint({"generation": 0, "x": 1})
    assert not (folder.path / "checkpoint.prev.pkl").exists()
    folder.save_checkpoint({"generation": 1, "x": 2})
    assert folder.load_checkpoint() == {"generation": 1, "x": 2}
    with open(folder.path / "checkpoint.prev.pkl", "rb") as f:
        assert pickle.load(f) == {"generation": 0, "x": 1}
    assert sorted(p.name for p in folder.path.iterdir() if p.name.startswith(".")) == []


def test_a_damaged_checkpoint_names_itself_and_the_previous_one(folder):
    folder.save_checkpoint({"generation": 0})
    data = folder.checkpoint_path.read_bytes()
    folder.checkpoint_path.write_bytes(data[:10])
    with pytest.raises(GenesisError, match="damaged") as info:
        folder.load_checkpoint()
    assert "prev" not in str(info.value)  # there is no previous one yet
    folder.save_checkpoint({"generation": 1})
    folder.checkpoint_path.write_bytes(data[:10])
    with pytest.raises(GenesisError, match=r"checkpoint.prev.pkl holds the generation before"):
        folder.load_checkpoint()


def test_a_pickle_that_is_not_a_checkpoint_is_refused(folder):
    folder.checkpoint_path.write_bytes(pickle.dumps(["not", "a", "state"]))
    with pytest.raises(GenesisError, match=r"checkpoint '.*checkpoint\.pkl' is damaged"):
        folder.load_checkpoint()


# -- summaries -------------------------------------------------------------------------------------
def test_trim_logbook_keeps_the_header_and_the_first_generations(folder):
    for g in range(4):
        folder.append_logbook({"generation": g, "trained": 3 * (g + 1), "seconds": 0.5})
    folder.trim_logbook(2)
    rows = folder.logbook_path.read_text().splitlines()
    assert rows[0] == ",".join(LOGBOOK_FIELDS)
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1"]
    assert rows[2].split(",")[2] == "6"


def test_write_json_is_readable(folder):
    folder.write_json("pareto.json", [{"hash": "abc", "accuracy": 0.5}])
    assert json.loads((folder.path / "pareto.json").read_text()) == [
        {"hash": "abc", "accuracy": 0.5}
    ]
