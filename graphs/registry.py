"""The one registry class: name -> part, in registration order (timm's model registry).

Ops (:data:`genesis.ops.OPS`), presets (:data:`genesis.presets.PRESETS`), graph families
(:mod:`graphs.families`) and search strategies (:mod:`evolve.strategies`) are each one
:class:`Registry`. Reading is a read-only mapping (``name in OPS``, ``OPS[name]``,
``OPS.items()``); writing goes through :meth:`Registry.register` and
:meth:`Registry.unregister`. A renamed part keeps its old name as an alias, so configs and
files that say the old name still resolve.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from graphs.errors import GenesisError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Parts of one kind by name, in registration order.

    Parameters
    ----------
    kind : str
        What a part is, for messages (``"op"``, ``"preset"``...).
    unknown : str
        The message for an unknown name, formatted with ``name`` (the name asked for, as its
        ``repr``) and ``known`` (the known names, comma-separated).
    sort : bool
        List known names sorted in that message (else in registration order).

    Examples
    --------
    >>> colours = Registry("colour", "unknown colour {name}; known: {known}")
    >>> colours.register("red", "#ff0000", aliases=("rouge",))
    '#ff0000'
    >>> colours.get("rouge"), list(colours), "red" in colours
    ('#ff0000', ['red'], True)
    >>> colours.get("blue")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: unknown colour 'blue'; known: red
    >>> colours.unregister("red"); len(colours)
    0
    """

    def __init__(self, kind: str, unknown: str, sort: bool = False):
        self.kind, self.unknown, self.sort = kind, unknown, sort
        self._parts: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, part: T, aliases: tuple[str, ...] = ()) -> T:
        """Register ``part`` under ``name`` (replacing a part of that name) and its old names;
        returns ``part``."""
        if not isinstance(name, str) or not name or name != name.strip():
            raise GenesisError(
                f"a {self.kind} name must be a non-empty string without spaces, got {name!r}"
            )
        self._parts[name] = part
        for old in aliases:
            self._aliases[old] = name
        return part

    def unregister(self, name: str) -> None:
        """Remove part ``name`` and its aliases (tests that register their own); unknown names
        raise."""
        name = self.resolve(name)
        del self._parts[name]
        self._aliases = {a: n for a, n in self._aliases.items() if n != name}

    def unalias(self, old: str) -> None:
        """Forget the old name ``old`` (the part it named stays)."""
        self._aliases.pop(old, None)

    def resolve(self, name: str) -> str:
        """The registered name ``name`` stands for (itself, or what an alias now names)."""
        if isinstance(name, str) and name in self._parts:
            return name
        if isinstance(name, str) and name in self._aliases:
            return self._aliases[name]
        known = sorted(self._parts) if self.sort else list(self._parts)
        raise GenesisError(self.unknown.format(name=repr(name), known=", ".join(known)))

    def get(self, name: str) -> T:  # type: ignore[override]
        """The part registered as ``name`` (or under an alias of it); an unknown name raises
        :class:`~graphs.errors.GenesisError` listing the known ones."""
        return self._parts[self.resolve(name)]

    def names(self) -> list[str]:
        """Registered names, in registration order (sorted with ``sort``)."""
        return sorted(self._parts) if self.sort else list(self._parts)

    def __getitem__(self, name: str) -> T:
        return self._parts[self._aliases.get(name, name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __contains__(self, name: object) -> bool:
        return name in self._parts or name in self._aliases

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._parts)})"
