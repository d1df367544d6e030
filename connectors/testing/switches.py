"""The connector suite's fault switches for emulators that route requests themselves.

`Emulator` (connectors/testing/emulator.py) gives these switches to emulators built on it; the
Bitrix24 and RetailCRM emulators dispatch their own requests and mix in `SuiteSwitches` instead.
A "group" is whatever the emulator names a request by: Bitrix24's REST method, RetailCRM's
"GET /api/v5/customers/history" route.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["RANDOM_FAULT_KINDS", "SUITE_FAULTS", "Faults", "SuiteSwitches", "Targeted"]

SUITE_FAULTS = ("429", "503", "500", "502", "timeout", "drop")  # what the shared connector suite injects
RANDOM_FAULT_KINDS = ("503", "500", "timeout", "drop", "drop_before")  # what `Faults.rate` draws from


@dataclass
class Targeted:
    """`count` faults of one kind for one request group (None: any), as the connector suite injects them."""

    kind: str
    count: int
    group: str | None
    retry_after: float | None = None


@dataclass
class Faults:
    """Targeted faults, a queue of forced faults ("none" lets one request through) and a random rate."""

    targeted: deque[Targeted] = field(default_factory=deque)
    queued: deque[str] = field(default_factory=deque)
    rate: float = 0.0
    kinds: tuple[str, ...] = RANDOM_FAULT_KINDS
    seed: int = 3
    rng: random.Random = field(init=False)
    fired: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def take_targeted(self, group: str) -> Targeted | None:
        """The first targeted fault for `group`, counted down (and dropped when spent)."""
        for fault in self.targeted:
            if fault.group in (None, group):
                fault.count -= 1
                if fault.count <= 0:
                    self.targeted.remove(fault)
                self.fired[fault.kind] += 1
                return fault
        return None

    def next(self) -> str | None:
        """The next queued fault, else a random one at `rate`, else None."""
        fault = self.queued.popleft() if self.queued else (
            self.rng.choice(self.kinds) if self.rate and self.rng.random() < self.rate else None)
        if not fault or fault == "none":
            return None
        self.fired[fault] += 1
        return fault


class _Settings(Protocol):
    stall_seconds: float


class SuiteSwitches:
    """inject / limit_rate / clear_faults / count for an emulator holding these attributes."""

    settings: _Settings
    faults: Faults
    calls: Counter[str]
    _lock: threading.RLock
    _windows: list[tuple[int, float, str | None, deque[float]]]

    def inject(self, kind: str, *, count: int = 1, retry_after: float | None = None, delay: float = 5.0,
               group: str | None = None) -> None:
        """Fail the next `count` requests of `group` (None: any) with `kind`, one of SUITE_FAULTS.

        "429" answers with the API's own rate-limit refusal, with Retry-After when given; "timeout"
        holds the answer back `delay` seconds.
        """
        if kind not in SUITE_FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(SUITE_FAULTS)}")
        with self._lock:
            if kind == "timeout":
                self.settings.stall_seconds = delay
            self.faults.targeted.append(Targeted(kind, count, group, retry_after))

    def limit_rate(self, limit: int, window: float = 1.0, group: str | None = None) -> None:
        """Refuse requests (of `group`, or any) beyond `limit` per `window` seconds, as over the API limit."""
        with self._lock:
            self._windows.append((limit, window, group, deque()))

    def clear_faults(self) -> None:
        """Drop pending faults and the limits limit_rate() added (the API's own limit stays)."""
        with self._lock:
            self.faults.targeted.clear()
            self.faults.queued.clear()
            self.faults.rate = 0.0
            self._windows.clear()

    def count(self, group: str | None = None) -> int:
        """Requests admitted (of `group`, or all)."""
        with self._lock:
            return self.calls[group] if group else sum(self.calls.values())

    def _within_windows(self, group: str, now: float) -> bool:
        """Whether a request of `group` fits every limit_rate() window; if so it is counted in them."""
        for limit, window, limited, hits in self._windows:
            if limited in (None, group):
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    return False
        for _limit, _window, limited, hits in self._windows:
            if limited in (None, group):
                hits.append(now)
        return True

