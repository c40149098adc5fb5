"""Graph damage over a generator study: every trained network of a study folder, node by node
and edge by edge (``genesis study damage --study DIR``, RandWire's Figure 5 pooled by family).

Each network of the study that finished and kept its weights (``weights/<key>.pt``) is rebuilt
from its architecture file, loaded (``torch.load(weights_only=True)``: no code runs) and scored
by :func:`genesis.damage.damage_rows` on the split its training was scored on, normalised as
that training was (validation; the official test split for a ``final`` study, whose networks
trained on the whole training set). Nothing is retrained.

Results go into the folder's ``damage/`` subfolder, never elsewhere:

- ``damage/config.json``: how the scores were taken (examples, removals, split); a later call
  with other settings is refused rather than mixed in;
- ``damage/damage.jsonl``: one line per network (its key, setting and rows), appended and
  flushed as each finishes, so a killed run resumes without scoring a finished network again.

The folder may come from someone else: keys and hashes must have the study's form (no path
can be smuggled in), every architecture file must hash to the hash its log entry names
(:func:`genesis.architecture_hash`; otherwise the folder pairs weights with another network and
is refused, naming the key, before anything is scored), files are read bounded and only as
regular files, ``architectures/``, ``weights/``, ``damage/`` and their files must not be links,
and the rows of an earlier call (``damage.jsonl``) are read back as plain values of the damage
table's columns only.

What it trusts: the study's ``config.toml``, validated as a fresh study's config is
(:meth:`evolve.studyconfig.StudyRunConfig.from_dict`: types, ranges and caps; its ``[execution]``
table is not used): it names the dataset the networks are scored on (a built-in name, or a path
on this machine, as ``--dataset`` would), read with the dataset loader's own bounds, and the
split, subset and validation size that loader cuts. A line on stderr says which dataset it is.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genesis import GenesisError
from genesis.runfolder import (
    MAX_JSON_BYTES,
    MAX_WEIGHTS_BYTES,
    RunFolder,
    is_hash,
    read_bytes_bounded,
    read_jsonl,
)

__all__ = ["KEY_PATTERN", "DAMAGE_DIR", "study_damage"]

#: A study training's key (:class:`evolve.study.StudyJob`): setting, op (an ops study), graph
#: instance, train seed.
KEY_PATTERN = re.compile(r"s\d{1,6}(-o\d{1,3})?-g\d{1,6}-t\d{1,6}")

#: The subfolder of a study folder that damage results go to.
DAMAGE_DIR = "damage"

#: Columns a study's damage rows carry before :data:`genesis.damage.DAMAGE_COLUMNS`.
STUDY_COLUMNS = ("key", "setting", "family", "graph_seed", "train_seed", "recorded_accuracy")


def _subfolder(folder: Path) -> Path:
    out = folder / DAMAGE_DIR
    if os.path.islink(out) or (out.exists() and not out.is_dir()):
        raise GenesisError(f"{str(out)!r} is not a plain folder; nothing written")
    out.mkdir(exist_ok=True)
    return out


def _append(path: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line and flush it to disk; a link at ``path`` is refused."""
    line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise GenesisError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _settings_file(out: Path, settings: dict[str, Any]) -> None:
    """Write ``config.json`` the first time; later, refuse other settings."""
    from genesis.files import atomic_write

    path = out / "config.json"
    try:
        before = json.loads(read_bytes_bounded(path, MAX_JSON_BYTES))
    except FileNotFoundError:
        atomic_write(path, (json.dumps(settings, indent=2) + "\n").encode())
        return
    except ValueError:
        raise GenesisError(f"{str(path)!r} is damaged (not JSON); remove {DAMAGE_DIR}/") from None
    if before != settings:
        raise GenesisError(
            f"{str(out)!r} holds damage scores taken with other settings ({before}); give the "
            f"same ({settings} now) or remove {DAMAGE_DIR}/ to start over"
        )


#: Most characters of a name (setting label, family) in a damage row.
_NAME_LIMIT = 80


def _plain(value: Any) -> Any:
    """A cell of a damage row read back: a finite number, a name (cut to :data:`_NAME_LIMIT`
    characters), a bool or None; anything else (a table, a list, NaN) is None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:_NAME_LIMIT]
    return None


def _done(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Key -> rows of every network already in ``damage.jsonl`` (a damaged line is an error),
    each row cut to the damage table's columns, each cell a plain value (:func:`_plain`)."""
    from genesis.damage import DAMAGE_COLUMNS

    columns = (*STUDY_COLUMNS, *DAMAGE_COLUMNS, "split")
    values, _ = read_jsonl(path, strict=True)
    done = {}
    for v in values:
        if (
            isinstance(v, dict)
            and isinstance(v.get("key"), str)
            and KEY_PATTERN.fullmatch(v["key"])
            and isinstance(v.get("rows"), list)
        ):
            done[v["key"]] = [
                {c: _plain(r.get(c)) for c in columns} for r in v["rows"] if isinstance(r, dict)
            ]
    return done


def _seed(value: Any) -> int | None:
    """A seed from the log: an integer, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _architecture(folder: RunFolder, entry: dict[str, Any]):
    """The entry's architecture, or None with the reason it is skipped.

    Raises
    ------
    GenesisError
        When the file is another network than the one the log names (its own hash differs):
        the folder pairs weights with a network they were not trained as.
    """
    from genesis import architecture_hash
    from genesis.genome import Architecture

    key, h = entry.get("key"), entry.get("hash")
    if not (isinstance(key, str) and KEY_PATTERN.fullmatch(key)) or not is_hash(h):
        return None, "not a study entry (bad key or hash)"
    if os.path.islink(folder.path / "architectures"):
        return None, "architectures/ is a link; refused"
    try:
        arch = Architecture.from_json(read_bytes_bounded(folder.arch_path(h), MAX_JSON_BYTES))
    except FileNotFoundError:
        return None, f"architectures/{h}.json is missing"
    except (GenesisError, ValueError) as exc:
        return None, f"architectures/{h}.json: {exc}"
    own = architecture_hash(arch)
    if h != own:
        raise GenesisError(
            f"study entry {key}: architectures/{h}.json is another network (it hashes to {own}, "
            f"the log names {h}); refused: nothing of this folder was scored"
        )
    return arch, None


def _load(folder: RunFolder, entry: dict[str, Any], arch: Any, device: Any):
    """The entry's trained model (on ``device``) with ``arch``, or None with the reason."""
    import torch

    from genesis.compiler import compile_architecture

    key = entry["key"]
    path = folder.path / "weights" / f"{key}.pt"
    if os.path.islink(folder.path / "weights"):
        return None, "weights/ is a link; refused"
    try:
        data = read_bytes_bounded(path, MAX_WEIGHTS_BYTES)
    except FileNotFoundError:
        return None, f"weights/{key}.pt is missing (a study run with --no-weights?)"
    except GenesisError as exc:
        return None, str(exc)
    model = compile_architecture(arch)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise GenesisError(f"it holds {type(state).__name__}, not a state_dict")
        model.load_state_dict(state)
    except Exception as exc:  # refused unpickling, a corrupt archive, a state that does not fit
        first = " ".join(str(exc).split())[:200]
        return None, f"weights/{key}.pt: {type(exc).__name__}: {first}"
    return model.to(device), None


def study_damage(
    path: str | os.PathLike,
    *,
    device: str | None = None,
    examples: int | None = None,
    nodes: bool = True,
    edges: bool = True,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Score the damage of every trained network of the study folder ``path``.

    Parameters
    ----------
    path : path-like
        A study folder (``genesis study generators``), with weights.
    device : str, optional
        Where to evaluate (default: CUDA when present).
    examples : int, optional
        Score on only the first that many examples of the split (all by default).
    nodes, edges : bool
        Which removals to make.
    log : callable
        Receives one line per network.

    Returns
    -------
    list of dict
        Every network's rows (:data:`STUDY_COLUMNS` then
        :data:`genesis.damage.DAMAGE_COLUMNS`), those of earlier calls included, in study order.

    Raises
    ------
    GenesisError
        When ``path`` is not a study folder, ``damage/`` holds scores taken otherwise, or no
        network of the study could be scored.
    """
    from evolve.config import load_config
    from evolve.studyconfig import StudyRunConfig
    from genesis.damage import damage_rows
    from genesis.data import load_dataset, make_splits
    from genesis.train import resolve_device, scorer

    folder = RunFolder(path)
    config = folder.check()
    # validated as a fresh study's config (types, ranges, caps); [execution] is not used here,
    # so a study run with many workers elsewhere is checked with one
    cfg = load_config(config, {"execution": {"workers": 1}}, kind=StudyRunConfig)
    final = cfg.study.final
    split = "test" if final else "val"
    if examples is not None and examples < 1:
        raise GenesisError(f"examples must be a positive number, got {examples}")
    entries, problems = read_jsonl(folder.log_path, strict=False)
    trained = [
        e
        for e in entries
        if isinstance(e, dict)
        and e.get("kind") == "train"
        and isinstance(e.get("result"), dict)
        and e["result"].get("status") == "ok"
    ]
    if not trained:
        raise GenesisError(f"{str(folder.path)!r} holds no finished training to damage")
    # every architecture against the hash its entry names, before any data is read
    archs, skipped = {}, {}
    for e in trained:
        arch, why = _architecture(folder, e)
        if arch is None:
            skipped[id(e)] = why
        else:
            archs[id(e)] = arch
    dev = resolve_device(device)
    with folder.locked():
        out = _subfolder(folder.path)
        settings = {"examples": examples, "nodes": nodes, "edges": edges, "split": split}
        _settings_file(out, settings)
        done = _done(out / "damage.jsonl")
        todo = [e for e in trained if e.get("key") not in done]
        if done and todo:
            log(f"resuming: {len(done)} of {len(trained)} networks are scored")
        score = None
        scored = len(done)
        for e in todo:
            if id(e) in skipped:
                log(f"{e.get('key')}: skipped, {skipped[id(e)]}")
                continue
            arch = archs[id(e)]
            loaded, why = _load(folder, e, arch, dev)
            if loaded is None:
                log(f"{e.get('key')}: skipped, {why}")
                continue
            if score is None:  # the data once, for every network (one training recipe)
                p = cfg.proxy
                log(f"scoring on the {split} split of dataset {p.dataset!r} (the study's config)")
                splits = make_splits(
                    load_dataset(p.dataset, p.resolution),
                    val_size=p.val_size,
                    split_seed=p.split_seed,
                    subset=None if final else p.subset,
                    holdout=p.holdout,
                )
                score = scorer(splits, final=final, device=dev, examples=examples)
            model = loaded
            key = e["key"]

            def progress(done: int, total: int, key: str = key) -> None:
                if done % 25 == 0 and done < total:
                    log(f"  {key}: {done}/{total} removals scored")

            rows = damage_rows(arch, model, score, nodes=nodes, edges=edges, progress=progress)
            recorded = e["result"].get("accuracy")
            head = {
                "key": e["key"],
                "setting": str(e.get("label", ""))[:_NAME_LIMIT],
                "family": str(e.get("family", ""))[:_NAME_LIMIT],
                "graph_seed": _seed(e.get("graph_seed")),
                "train_seed": _seed(e.get("train_seed")),
                "recorded_accuracy": _plain(recorded),
            }
            rows = [{**head, **r, "split": split} for r in rows]
            _append(out / "damage.jsonl", {"key": e["key"], "rows": rows})
            done[e["key"]] = rows
            scored += 1
            base = rows[0]["accuracy"]
            check = ""
            if examples is None and isinstance(recorded, (int, float)):
                check = (
                    ", as recorded"
                    if abs(base - recorded) < 1e-6
                    else f", recorded {recorded:.4f}: not the network that was scored?"
                )
            worst = max(rows[1:], key=lambda r: r["drop"], default=None)
            log(
                f"[{scored}/{len(trained)}] {head['setting']} graph {head['graph_seed']}: "
                f"{split} acc {base:.4f} undamaged{check}; {len(rows) - 1} removals"
                + (f", worst drop {100 * worst['drop']:.2f} pt ({worst['kind']})" if worst else "")
            )
    for p in problems:
        log(f"note: {p}")
    order = {e["key"]: i for i, e in enumerate(trained)}
    keys = sorted(done, key=lambda k: order.get(k, len(order)))
    if not keys:
        raise GenesisError(f"no network of {str(folder.path)!r} could be scored (see above)")
    return [r for k in keys for r in done[k]]
