"""From a strategy's proposals to candidates: each counted once (MACs, params), checked
against the caps, and told apart from a network the run evaluated before (cached: its record
is reused) or is training now (a duplicate: it waits for nothing).

Two proposals with one canonical hash are the same network only if an exact isomorphism check
says so; after a Weisfeiler-Lehman collision the second gets the hash and 8 hex digits of its
content's digest, and is trained on its own.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from evolve.config import EvolveConfig
from evolve.fitness import Individual
from evolve.space import SearchSpace
from evolve.state import Candidate
from evolve.strategies import Proposal
from evolve.tune import HyperSpace
from genesis import Architecture, architecture_hash, load_architecture
from genesis.complexity import count_complexity
from genesis.fingerprint import same_architecture
from genesis.runfolder import RunFolder

__all__ = ["MAX_DRAWS_PER_SLOT", "Draws", "make_space"]

#: Draws that are duplicates or over a budget tolerated, per member of the population, before
#: the search takes the space to be spent.
MAX_DRAWS_PER_SLOT = 25


def make_space(cfg: EvolveConfig, folder: RunFolder) -> SearchSpace | HyperSpace:
    """The space a run searches: architectures, or one fixed architecture's hyperparameters."""
    if cfg.tune.architecture:
        return HyperSpace(load_architecture(folder.path / cfg.tune.architecture), cfg.tune)
    if cfg.proxy.fitness == "lookup":  # the space is the recorded table's members
        from evolve.lookup import PoolSpace, load_table

        return PoolSpace(cfg.space, load_table(cfg.proxy.lookup))
    return SearchSpace(cfg.space)


class Draws:
    """The candidates of a run's proposals (see the module docstring)."""

    def __init__(self, cfg: EvolveConfig, folder: RunFolder, space: Any = None):
        self.cfg, self.folder, self.space = cfg, folder, space
        self._memory: dict[str, float] = {}  # hash -> peak inference memory (KiB)

    def init_proposals(self) -> Iterator[Proposal]:
        """The warm start's architectures, in the config's order (origin ``init``)."""
        for h in self.cfg.search.init:
            yield Proposal(load_architecture(self.folder.arch_path(h)), origin="init")

    def candidate(
        self,
        p: Proposal,
        rng: random.Random,
        cache: dict[str, Individual],
        training: dict[str, Candidate],
    ) -> Candidate:
        """The candidate of proposal ``p``: to train, cached (evaluated before), a duplicate
        (of one still training) or skipped (over a budget). Searching a lookup table, a
        proposal outside it stands for its nearest member (:meth:`PoolSpace.snap`)."""
        if hasattr(self.space, "snap"):
            p = replace(p, arch=self.space.snap(p.arch, p.parents))
        cx = count_complexity(p.arch)
        text = p.arch.to_json()
        h = architecture_hash(p.arch)
        known = cache[h].arch if h in cache else self.arch(training[h]) if h in training else None
        if known is not None and not same_architecture(p.arch, known):
            # a Weisfeiler-Lehman collision: another network under the same hash must not
            # reuse its result; the content digest tells the two apart
            h = f"{h}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
        c = Candidate(
            h, cx.macs, cx.params, rng.randrange(2**31), p.parents, p.origin, p.tag, text=text
        )
        c.arch = p.arch
        s = self.cfg.search
        if h in cache:
            c.kind, c.result = "cached", cache[h].result
        elif h in training:
            c.kind = "duplicate"
        elif s.max_macs is not None and c.macs > s.max_macs:
            c.kind, c.reason = "skipped", f"macs {c.macs} > max_macs {s.max_macs:g}"
        elif s.max_params is not None and c.params > s.max_params:
            c.kind, c.reason = "skipped", f"params {c.params} > max_params {s.max_params}"
        elif s.measures("memory"):
            c.memory_kb = self._peak_memory(h, p.arch)
            if s.max_memory_kb is not None and c.memory_kb > s.max_memory_kb:
                c.kind = "skipped"
                c.reason = f"memory_kb {c.memory_kb:g} > max_memory_kb {s.max_memory_kb:g}"
        return c

    def _peak_memory(self, h: str, arch: Architecture) -> float:
        """Peak inference memory (KiB), traced once per architecture (genesis.cost)."""
        if h not in self._memory:
            from genesis.cost import peak_memory

            self._memory[h] = round(peak_memory(arch).kb, 3)
        return self._memory[h]

    def text(self, c: Candidate) -> str:
        """A candidate's JSON: kept since it was drawn, or (after a resume) its file's."""
        if c.text is None:
            c.text = self.folder.arch_path(c.hash).read_text(encoding="utf-8")
        return c.text

    def arch(self, c: Candidate) -> Architecture:
        """A candidate's parsed architecture, parsed at most once."""
        if c.arch is None:
            c.arch = Architecture.from_json(self.text(c))
        return c.arch
