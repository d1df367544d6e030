"""A set of record ids that saves as compact ranges ("101-250,252,260-300") inside a stream's state."""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["IdRanges"]


class IdRanges:
    """Integer ids; `dumps()` writes runs of consecutive ids as `first-last`, so a state stays small."""

    def __init__(self, ids: set[int] | None = None) -> None:
        self._ids: set[int] = set(ids or ())

    @classmethod
    def loads(cls, text: str | None) -> IdRanges:
        """Read what `dumps` wrote; a malformed part raises ValueError naming it."""
        ids: set[int] = set()
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            first, _, last = part.partition("-")
            try:
                low, high = int(first), int(last or first)
            except ValueError:
                raise ValueError(f"saved id ranges: {part!r} is not an id or a range of ids") from None
            ids.update(range(low, high + 1))
        return cls(ids)

    def dumps(self) -> str:
        """Runs of consecutive ids as `first-last`, single ids alone, comma-separated, ascending."""
        parts: list[str] = []
        run: list[int] = []
        for value in sorted(self._ids):
            if run and value == run[-1] + 1:
                run[-1] = value
                continue
            if run:
                parts.append(f"{run[0]}-{run[1]}" if run[1] != run[0] else str(run[0]))
            run = [value, value]
        if run:
            parts.append(f"{run[0]}-{run[1]}" if run[1] != run[0] else str(run[0]))
        return ",".join(parts)

    def add(self, value: int) -> None:
        self._ids.add(value)

    def discard(self, value: int) -> None:
        self._ids.discard(value)

    def __contains__(self, value: object) -> bool:
        return value in self._ids

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._ids))

    def __len__(self) -> int:
        return len(self._ids)
