"""Match apply: run the dedupe stage over the store's records and persist golden records and links."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dedupe import Matcher, MatchRecord
from dedupe.golden import MANUAL, assign_golden_ids, honour_manual, survive
from dedupe.survivorship import Pin, SurvivorshipRules
from mappings import Customer, content_hash
from sync.store import (
    ConflictError,
    LinkIn,
    Store,
    SuggestionIn,
    append_audit,
    append_personal_audit,
    attach_interactions,
    current_links,
    load_cannot_links,
    load_customer_records,
    load_golden,
    load_pins,
    lock_for_match,
    manual_links,
    quarantine_returning,
    reopen_rejected,
    replace_pending_suggestions,
    retire_golden,
    review_generation,
    save_golden,
    set_links,
)

__all__ = ["MatchReport", "match_store"]

log = logging.getLogger(__name__)
_ATTEMPTS = 3


@dataclass
class MatchReport:
    """What one matching pass changed."""

    records: int = 0
    golden_total: int = 0
    golden_new: int = 0
    golden_changed: int = 0
    golden_unchanged: int = 0
    golden_retired: int = 0
    links_changed: int = 0
    merged_clusters: int = 0  # golden records built from more than one source record
    merged_records: int = 0  # source records in those
    interactions_attached: int = 0
    suggestions_pending: int = 0  # merge suggestions waiting for a person
    suggestions_new: int = 0
    suggestions_reopened: int = 0  # rejected pairs asked again because one side gained a record
    engine: dict[str, Any] = field(default_factory=dict)  # settings, trained model, blocking figures
    survivorship: dict[str, Any] = field(default_factory=dict)  # the rules golden values were built with
    erased_flagged: int = 0  # re-ingested records of erased people, quarantined instead of matched


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


class _PeopleChanged(RuntimeError):
    """A person merged, split, pinned or rejected while this run was matching."""


def match_store(store: Store, matcher: Matcher, *, run_id: str | None = None,
                survivorship: SurvivorshipRules | None = None) -> MatchReport:
    """Cluster every live customer record, keep golden ids stable, write only what changed.

    People's decisions win: records a person merged or split stay where they put them, pins
    hold, rejected pairs stay apart. If a person changes golden records while the engine runs,
    the run starts over (up to three times) rather than write over their work.
    """
    rules = survivorship or SurvivorshipRules()
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _match_once(store, matcher, run_id, rules)
        except _PeopleChanged:
            log.info("match: golden records were changed by a person during attempt %d; matching again", attempt)
    raise ConflictError(f"people changed golden records during each of {_ATTEMPTS} match attempts; run match again")


def _flag_erased(store: Store, run_id: str | None, actor: str) -> int:
    """Re-ingested records of erased people go to quarantine, not into golden records."""
    now = datetime.now(UTC)
    with store.session() as session:
        flagged = quarantine_returning(session, now=now)
        for key in flagged:
            append_audit(session, actor=actor, action="erasure.flagged", entity_type="source_record", entity_id=key,
                         run_id=run_id, reason="re-ingested record of an erased person: quarantined, not restored",
                         at=now)
    if flagged:
        log.warning("match: %d re-ingested record(s) of erased people quarantined", len(flagged))
    return len(flagged)


def _match_once(store: Store, matcher: Matcher, run_id: str | None, rules: SurvivorshipRules) -> MatchReport:
    report = MatchReport(survivorship=rules.to_dict())
    actor = f"flow:{run_id}" if run_id else "system"
    report.erased_flagged = _flag_erased(store, run_id, actor)
    now = datetime.now(UTC)
    with store.session() as session:
        generation = review_generation(session)
        # Links of deleted source records are kept on purpose: if the record comes back, it votes
        # for its old golden id and the id survives the round trip.
        stored = load_customer_records(session)
        records = [
            MatchRecord(row.pk, Customer.model_validate(row.canonical), row.first_seen_at) for row in stored
        ]
        by_key = {r.key: r for r in records}
        cannot_link = load_cannot_links(session)
        manual = {key: golden_id for key, golden_id in manual_links(session).items() if key in by_key}
        resolution = matcher.resolve(records, cannot_link)
        clusters, fixed = honour_manual(resolution.clusters, manual, cannot_link)
        report.engine = dict(getattr(matcher, "report", {}) or {})
        if lock_for_match(session) != generation:
            raise _PeopleChanged
        golden_ids = assign_golden_ids(clusters, current_links(session), lambda: str(uuid.uuid4()), fixed)
        existing = load_golden(session)
        pins = {golden_id: {f: Pin(p.value, p.pinned_by, p.pinned_at) for f, p in fields.items()}
                for golden_id, fields in load_pins(session).items()}
        report.records = len(records)
        links: list[LinkIn] = []
        audit: list[dict[str, Any]] = []
        by_phone: dict[str, str] = {}
        by_email: dict[str, str] = {}
        golden_of: dict[int, str] = {}
        for cluster, golden_id in zip(clusters, golden_ids, strict=True):
            values = survive([by_key[k] for k in cluster.keys], rules, pins.get(golden_id))
            digest = content_hash({"fields": values.fields, "provenance": values.provenance})
            outcome = save_golden(session, golden_id, fields=values.fields, provenance=values.provenance,
                                  content_hash=digest, now=now)
            if outcome == "new":
                report.golden_new += 1
                audit.append({"actor": actor, "action": "golden.create", "entity_id": golden_id,
                              "after": values.fields, "run_id": run_id,
                              "reason": f"{len(cluster.members)} source record(s)"})
            elif outcome == "changed":
                report.golden_changed += 1
                previous = existing[golden_id].fields if golden_id in existing else {}
                before, after = _diff(previous, values.fields)
                audit.append({"actor": actor, "action": "golden.update", "entity_id": golden_id, "before": before,
                              "after": after, "run_id": run_id,
                              "reason": None if after else "same values; their provenance changed"})
            else:
                report.golden_unchanged += 1
            if len(cluster.members) > 1:
                report.merged_clusters += 1
                report.merged_records += len(cluster.members)
            for member in cluster.members:
                golden_of[member.key] = golden_id
                if member.method == MANUAL:
                    continue  # a person's link stays exactly as they made it
                links.append(LinkIn(source_record_pk=member.key, golden_id=golden_id, score=member.score,
                                    method=member.method,
                                    explanation={"sentence": member.explanation, **member.evidence},
                                    decided_by="system"))
            for phone in values.fields.get("phones", []):
                by_phone.setdefault(phone, golden_id)
            for email in values.fields.get("emails", []):
                by_email.setdefault(email, golden_id)
        report.links_changed = set_links(session, links, now=now)
        suggestions = [
            SuggestionIn(golden_of[s.record_a], golden_of[s.record_b], s.probability,
                         {"sentence": s.explanation, "reason": s.reason, "record_a": s.record_a,
                          "record_b": s.record_b, **s.evidence})
            for s in resolution.suggestions if golden_of[s.record_a] != golden_of[s.record_b]
        ]
        # A rejected pair is suggested again only through a record that was not part of the rejection
        # (the rejection cannot-linked every pair it covered): one side changed, so ask again.
        reopened = reopen_rejected(session, [(s.golden_a, s.golden_b) for s in suggestions])
        for suggestion_id in reopened:
            append_audit(session, actor=actor, action="suggestion.reopen", entity_type="merge_suggestion",
                         entity_id=str(suggestion_id), run_id=run_id,
                         reason="one side gained a source record since the rejection")
        report.suggestions_reopened = len(reopened)
        report.suggestions_new, _ = replace_pending_suggestions(session, suggestions, now=now)
        report.suggestions_pending = len({tuple(sorted((s.golden_a, s.golden_b))) for s in suggestions})
        for golden_id in sorted(set(existing) - set(golden_ids)):
            retire_golden(session, golden_id, now=now)
            audit.append({"actor": actor, "action": "golden.retire", "entity_id": golden_id,
                          "before": existing[golden_id].fields, "run_id": run_id,
                          "reason": "no source records left in it"})
            report.golden_retired += 1
        append_personal_audit(session, audit, now=now)  # personal values sealed: erasure can make them unreadable
        report.interactions_attached = attach_interactions(session, by_phone, by_email)
        report.golden_total = len(clusters)
    log.info("match: %d records → %d golden (%d new, %d changed, %d retired)", report.records,
             report.golden_total, report.golden_new, report.golden_changed, report.golden_retired)
    return report
