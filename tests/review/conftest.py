"""A store with customers matched by a scripted matcher, so review tests do not depend on model training."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dedupe.types import Cluster, MatchRecord, MemberDecision, Resolution, Suggestion
from mappings import content_hash
from sync.match import MatchReport, match_store
from sync.store import SourceRecordIn, Store, load_golden, upsert_source_records

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
EVIDENCE = {"comparisons": {"family_name": {"level": "exact", "bits": 6.2},
                            "email": {"level": "different", "bits": -3.1},
                            "phone": {"level": "missing", "bits": 0.0}}}


@dataclass
class ScriptedMatcher:
    """Clusters by the `person` custom field; suggests the listed person pairs, honouring cannot-links."""

    suggest: dict[tuple[str, str], float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def resolve(self, records: Sequence[MatchRecord], cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution:
        forbidden = {tuple(sorted(p)) for p in cannot_link}
        people: dict[str, list[int]] = {}
        for r in records:
            people.setdefault(r.customer.custom.get("person", str(r.key)), []).append(r.key)
        names = sorted(people)
        clusters = [Cluster(tuple(MemberDecision(k, "new" if len(people[n]) == 1 else "probabilistic",
                                                 1.0 if len(people[n]) == 1 else 0.99, "same person")
                                  for k in people[n])) for n in names]
        suggestions = []
        for (p, q), probability in sorted(self.suggest.items()):
            if p not in people or q not in people:
                continue
            pair = next(((x, y) for x in people[p] for y in people[q] if tuple(sorted((x, y))) not in forbidden), None)
            if pair is not None:
                suggestions.append(Suggestion(names.index(p), names.index(q), pair[0], pair[1], probability,
                                              "uncertain", "same surname; e-mail differs", EVIDENCE))
        return Resolution(clusters, suggestions)


def customer(source: str, rid: str, person: str, *, name: str, emails: Sequence[str] = (),
             phones: Sequence[str] = (), company: str | None = None, updated: int = 0) -> SourceRecordIn:
    canonical: dict[str, Any] = {
        "ref": {"source": source, "stream": "contacts", "source_record_id": rid},
        "source_updated_at": (T0 + timedelta(days=updated)).isoformat(), "full_name": name,
        "emails": list(emails), "phones": list(phones), "company": company, "custom": {"person": person}}
    return SourceRecordIn(source=source, stream="contacts", source_record_id=rid, entity="customer",
                          raw={"name": name}, canonical=canonical, content_hash=content_hash(canonical),
                          source_updated_at=T0 + timedelta(days=updated))


PEOPLE = [
    customer("crm", "1", "ann", name="Ann Lee", emails=["ann@x.com"], phones=["+14155550101"], company="Acme"),
    customer("sheet", "2", "ann", name="Ann Lee", emails=["ann.lee@y.com"], updated=2),
    customer("sheet", "3", "anne", name="Anne Lee", emails=["anne@z.com"], company="Acme Inc", updated=1),
    customer("web", "4", "bob", name="Bob Stone", emails=["bob@x.com"]),
    customer("web", "5", "rob", name="Rob Stone", emails=["rob@x.com"], phones=["+14155550199"]),
    customer("crm", "6", "cy", name="Cy Young", emails=["cy@x.com"]),
]


def ingest(store: Store, records: Sequence[SourceRecordIn], at: datetime = T0) -> None:
    with store.session() as session:
        upsert_source_records(session, list(records), seen_at=at, pass_id=None)


def run_match(store: Store, matcher: ScriptedMatcher, **kwargs: Any) -> MatchReport:
    return match_store(store, matcher, **kwargs)


def golden_of(store: Store, source: str, rid: str) -> str:
    """The golden id the record (source, 'contacts', rid) is in, via the provenance of full_name or links."""
    from sync.store import current_links, source_record_pks

    with store.session() as session:
        pk = source_record_pks(session, [(source, "contacts", rid)])[(source, "contacts", rid)]
        return current_links(session)[pk]


def pk_of(store: Store, source: str, rid: str) -> int:
    from sync.store import source_record_pks

    with store.session() as session:
        return source_record_pks(session, [(source, "contacts", rid)])[(source, "contacts", rid)]


@pytest.fixture
def matcher() -> ScriptedMatcher:
    """Ann/Anne suggested at 0.55 (uncertain), Bob/Rob at 0.90."""
    return ScriptedMatcher({("ann", "anne"): 0.55, ("bob", "rob"): 0.90})


@pytest.fixture
def matched(store: Store, matcher: ScriptedMatcher) -> Store:
    """The six records ingested and matched: five golden records, two pending suggestions."""
    ingest(store, PEOPLE)
    report = run_match(store, matcher)
    assert report.golden_total == 5 and report.suggestions_pending == 2
    with store.session() as session:
        assert len(load_golden(session)) == 5
    return store
