"""The one-line refusal and the bounded stream read that the dataset readers share."""

from __future__ import annotations

from typing import BinaryIO

from genesis.files import Refused

__all__: list[str] = []


def _refusal(what: str, shown: str, why: Refused, cap: str, limit: int) -> str:
    """The one line for a :class:`~genesis.files.Refused` read of a dataset file."""
    if why.kind == "link":
        return (
            f"{what} {shown!r} is a symbolic link; genesis follows none in a dataset folder "
            "(refused)"
        )
    if why.kind == "irregular":
        return (
            f"cannot read {what} {shown!r}: irregular file ({why.detail}); only regular files "
            "are read"
        )
    if why.kind == "size":
        has = f"it has {why.detail} bytes" if why.detail is not None else "it grew while read"
        return f"cannot read {what} {shown!r}: {has}; the cap is {cap} = {limit}"
    return f"cannot read {what} {shown!r}: {why.detail}"


def _read_upto(stream: BinaryIO, n: int) -> bytes:
    """At most ``n`` bytes of ``stream``, fewer only at its end."""
    chunks, size = [], 0
    while size < n:
        chunk = stream.read(min(n - size, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
