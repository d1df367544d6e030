"""Match apply: run the dedupe stage over the store's records and persist golden records and links."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dedupe import Matcher, MatchRecord, assign_golden_ids, survive
from mappings import Customer, content_hash
from sync.store import (
    LinkIn,
    Store,
    SuggestionIn,
    append_audit,
    attach_interactions,
    current_links,
    load_cannot_links,
    load_customer_records,
    load_golden,
    replace_pending_suggestions,
    retire_golden,
    save_golden,
    set_links,
)

__all__ = ["MatchReport", "match_store"]

log = logging.getLogger(__name__)


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
    engine: dict[str, Any] = field(default_factory=dict)  # settings, trained model, blocking figures


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def match_store(store: Store, matcher: Matcher, *, run_id: str | None = None) -> MatchReport:
    """Cluster every live customer record, keep golden ids stable, write only what changed."""
    report = MatchReport()
    now = datetime.now(UTC)
    actor = f"flow:{run_id}" if run_id else "system"
    with store.session() as session:
        # Links of deleted source records are kept on purpose: if the record comes back, it votes
        # for its old golden id and the id survives the round trip.
        stored = load_customer_records(session)
        records = [
            MatchRecord(row.pk, Customer.model_validate(row.canonical), row.first_seen_at) for row in stored
        ]
        by_key = {r.key: r for r in records}
        resolution = matcher.resolve(records, load_cannot_links(session))
        clusters = resolution.clusters
        report.engine = dict(getattr(matcher, "report", {}) or {})
        golden_ids = assign_golden_ids(clusters, current_links(session), lambda: str(uuid.uuid4()))
        existing = load_golden(session)
        report.records = len(records)
        links: list[LinkIn] = []
        by_phone: dict[str, str] = {}
        by_email: dict[str, str] = {}
        for cluster, golden_id in zip(clusters, golden_ids, strict=True):
            values = survive([by_key[k] for k in cluster.keys])
            digest = content_hash({"fields": values.fields, "provenance": values.provenance})
            outcome = save_golden(session, golden_id, fields=values.fields, provenance=values.provenance,
                                  content_hash=digest, now=now)
            if outcome == "new":
                report.golden_new += 1
                append_audit(session, actor=actor, action="golden.create", entity_type="golden_record",
                             entity_id=golden_id, after=values.fields, run_id=run_id,
                             reason=f"{len(cluster.members)} source record(s)")
            elif outcome == "changed":
                report.golden_changed += 1
                previous = existing[golden_id].fields if golden_id in existing else {}
                before, after = _diff(previous, values.fields)
                append_audit(session, actor=actor, action="golden.update", entity_type="golden_record",
                             entity_id=golden_id, before=before, after=after, run_id=run_id)
            else:
                report.golden_unchanged += 1
            if len(cluster.members) > 1:
                report.merged_clusters += 1
                report.merged_records += len(cluster.members)
            for member in cluster.members:
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
            SuggestionIn(golden_ids[s.cluster_a], golden_ids[s.cluster_b], s.probability,
                         {"sentence": s.explanation, "reason": s.reason, "record_a": s.record_a,
                          "record_b": s.record_b, **s.evidence})
            for s in resolution.suggestions
        ]
        report.suggestions_new, _ = replace_pending_suggestions(session, suggestions, now=now)
        report.suggestions_pending = len(suggestions)
        for golden_id in sorted(set(existing) - set(golden_ids)):
            retire_golden(session, golden_id, now=now)
            append_audit(session, actor=actor, action="golden.retire", entity_type="golden_record",
                         entity_id=golden_id, before=existing[golden_id].fields, run_id=run_id,
                         reason="no source records left in it")
            report.golden_retired += 1
        report.interactions_attached = attach_interactions(session, by_phone, by_email)
        report.golden_total = len(clusters)
    log.info("match: %d records → %d golden (%d new, %d changed, %d retired)", report.records,
             report.golden_total, report.golden_new, report.golden_changed, report.golden_retired)
    return report
