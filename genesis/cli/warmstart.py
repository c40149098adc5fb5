"""The warm start of ``genesis evolve``: ``--init`` architecture files and ``--init-run``
folders' Pareto fronts, read as hostile data, fitted to the search space, deduplicated."""

from __future__ import annotations

from typing import Any

from graphs import GenesisError

__all__ = ["front_architectures", "warm_start"]


def front_architectures(folder: str) -> list[tuple[str, Any]]:
    """The Pareto front of someone else's run folder, as data: ``pareto.json`` and each
    member's ``architectures/H.json``, nothing else (no config, no log, no checkpoint), each
    read bounded from a regular file inside the folder (never through a link), validated as
    any architecture file, and refused unless its canonical hash is the hash it is filed
    under.

    Returns
    -------
    list of tuple
        ``("<folder> <hash>", Architecture)`` per ok member of the front.

    Raises
    ------
    GenesisError
        Naming the folder and what in it is missing, linked, unreadable or inconsistent.
    """
    from genesis.fingerprint import architecture_hash
    from genesis.genome import Architecture
    from genesis.runfolder import MAX_JSON_BYTES, RunFolder, is_hash, read_bytes_bounded

    run = RunFolder(folder)
    if not run.path.is_dir():
        raise GenesisError(f"--init-run {folder!r} is not a run folder")
    if (run.path / "architectures").is_symlink():
        raise GenesisError(f"--init-run {folder!r}: architectures/ is a link; not read")
    members = run.read_json(run.pareto_path.name, None)
    if not isinstance(members, list):
        raise GenesisError(f"--init-run {folder!r}: pareto.json is missing or not a JSON list")
    ok = [m for m in members if isinstance(m, dict) and m.get("status") in (None, "ok")]
    if not ok:
        raise GenesisError(f"--init-run {folder!r}: the run has no Pareto front to start from")
    out = []
    for m in ok:
        h = m.get("hash")
        if not is_hash(h):
            raise GenesisError(f"--init-run {folder!r}: pareto.json names an invalid hash")
        ref = run.arch_ref(h)
        try:
            text = read_bytes_bounded(run.path / ref, MAX_JSON_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GenesisError(f"--init-run {folder!r}: {ref} cannot be read ({exc})") from None
        arch = Architecture.from_json(text, source=f"--init-run {folder!r}: {ref}")
        if architecture_hash(arch) != h.split("-")[0]:
            raise GenesisError(
                f"--init-run {folder!r}: {ref} holds another network (its hash is "
                f"{architecture_hash(arch)})"
            )
        out.append((f"{folder} {h}", arch))
    return out


def warm_start(cfg, files: list[str], runs: list[str]) -> dict[str, Any]:
    """Hash -> architecture of a warm start: each ``--init`` file, then each ``--init-run``
    folder's Pareto front (:func:`front_architectures`), deduplicated by canonical hash, each
    fitting the search space's input and classes."""
    from genesis.fingerprint import architecture_hash
    from genesis.genome import load_architecture
    from genesis.presets import get_preset

    found: list[tuple[str, Any]] = [(f, load_architecture(f)) for f in files]
    for d in runs:
        found.extend(front_architectures(d))
    preset = get_preset(cfg.space.preset)
    out: dict[str, Any] = {}
    for where, arch in found:
        if tuple(arch.input_shape) != tuple(preset.input_shape) or (
            arch.num_classes != cfg.space.num_classes
        ):
            raise GenesisError(
                f"warm start {where}: input {tuple(arch.input_shape)} and {arch.num_classes} "
                f"classes do not fit the search's {tuple(preset.input_shape)} and "
                f"{cfg.space.num_classes} (preset {cfg.space.preset})"
            )
        out.setdefault(architecture_hash(arch), arch)
    if len(out) > cfg.search.population:
        raise GenesisError(
            f"the warm start holds {len(out)} distinct architectures; the first generation "
            f"takes {cfg.search.population} (raise --population)"
        )
    return out
