"""Match apply: run the dedupe stage over the store's records and persist golden records and links."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dedupe import Matcher, MatchRecord
from dedupe.engine import ProbabilisticMatcher
from dedupe.features import build_features
from dedupe.golden import MANUAL, assign_golden_ids, honour_manual, survive
from dedupe.incremental import IncrementalIndex
from dedupe.model import MatchModel
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
from sync.store.match_state import (
    active_golden_ids,
    calls_with_phone,
    changed_since,
    deleted_linked,
    last_version_id,
    load_leads,
    load_match_state,
    save_leads,
    save_match_state,
)
from sync.store.review import list_suggestion_rows

__all__ = ["MatchReport", "match_store", "settings_fingerprint"]

log = logging.getLogger(__name__)
_ATTEMPTS = 3
# records versioned this long before the last match began are matched again: an ingest that was
# committing while that match read the store is not missed (matching a record twice is harmless)
_WATERMARK_SLACK = timedelta(minutes=2)
_STATE_VERSION = 1  # bump when what is saved, or how features are built, changes: forces a full run


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
    mode: str = "full"  # 'full' (every record clustered) or 'incremental' (only new and changed records)
    dry_run: bool = False  # nothing was written: the counts say what a real run would change
    records_moved: int = 0  # linked source records now in another golden record
    leads_new: int = 0  # golden records made for calls from numbers no customer has
    leads_merged: int = 0  # leads retired because a customer with their phone arrived
    records_matched: int = 0  # records the engine placed this run (all of them on a full run)
    timings: dict[str, float] = field(default_factory=dict)


def settings_fingerprint(matcher: Matcher, rules: SurvivorshipRules) -> str | None:
    """What decides clusters and golden values, hashed; None for matchers without saved state."""
    if not isinstance(matcher, ProbabilisticMatcher):
        return None
    text = json.dumps({"v": _STATE_VERSION, "settings": asdict(matcher.settings), "survivorship": rules.to_dict()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


class _DryRun(Exception):  # noqa: N818 - not an error: it carries the report out and rolls the session back
    def __init__(self, report: MatchReport) -> None:
        super().__init__("dry run")
        self.report = report


class _PeopleChanged(RuntimeError):
    """A person merged, split, pinned or rejected while this run was matching."""


def match_store(store: Store, matcher: Matcher, *, run_id: str | None = None,
                survivorship: SurvivorshipRules | None = None, full: bool = False,
                dry_run: bool = False) -> MatchReport:
    """Match the store's customer records into golden records, keep golden ids stable, write only what changed.

    With the probabilistic engine, only new and changed records are matched against the existing
    golden records (with the model the last full run trained); the first run, a run after the
    matching or survivorship settings changed, and `full=True` cluster every record.

    People's decisions win: records a person merged or split stay where they put them, pins
    hold, rejected pairs stay apart. If a person changes golden records while the engine runs,
    the run starts over (up to three times) rather than write over their work.

    `dry_run` (full runs only) works out the same result and writes nothing: the report says how
    many golden records would be created, changed or retired and how many records would move.
    """
    rules = survivorship or SurvivorshipRules()
    if dry_run:
        try:
            _match_once(store, matcher, run_id, rules, dry_run=True)
        except _DryRun as done:
            return done.report
        raise AssertionError("a dry run always ends in _DryRun")  # pragma: no cover
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            if not full:
                report = _match_incremental(store, matcher, run_id, rules)
                if report is not None:
                    return report
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


def _match_once(store: Store, matcher: Matcher, run_id: str | None, rules: SurvivorshipRules, *,
                dry_run: bool = False) -> MatchReport:
    report = MatchReport(survivorship=rules.to_dict(), dry_run=dry_run)
    actor = f"flow:{run_id}" if run_id else "system"
    if not dry_run:
        report.erased_flagged = _flag_erased(store, run_id, actor)
    now = datetime.now(UTC)
    with store.session() as session:
        generation = review_generation(session)
        last_version = last_version_id(session)
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
        previous_links = current_links(session)
        golden_ids = assign_golden_ids(clusters, previous_links, lambda: str(uuid.uuid4()), fixed)
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
                moved_from = previous_links.get(member.key)
                if moved_from is not None and moved_from != golden_id:
                    report.records_moved += 1
                    audit.append({"actor": actor, "action": "link.move", "entity_id": golden_id,
                                  "before": {"source_record": member.key, "golden_id": moved_from},
                                  "after": {"source_record": member.key, "golden_id": golden_id},
                                  "run_id": run_id, "reason": member.explanation})
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
        leads = set(load_leads(session).values())  # leads stand without source records of their own
        for golden_id in sorted(set(existing) - set(golden_ids) - leads):
            retire_golden(session, golden_id, now=now)
            audit.append({"actor": actor, "action": "golden.retire", "entity_id": golden_id,
                          "before": existing[golden_id].fields, "run_id": run_id,
                          "reason": "no source records left in it"})
            report.golden_retired += 1
        append_personal_audit(session, audit, now=now)  # personal values sealed: erasure can make them unreadable
        report.interactions_attached = _attach_with_leads(session, by_phone, by_email, actor, run_id, now, report)
        report.golden_total = len(clusters)
        report.records_matched = len(records)
        if dry_run:
            raise _DryRun(report)  # leaving the session by an exception rolls every write back
        _save_state(session, matcher, rules, now, last_version)
    log.info("match: %d records → %d golden (%d new, %d changed, %d retired)", report.records,
             report.golden_total, report.golden_new, report.golden_changed, report.golden_retired)
    return report


def _save_state(session: Any, matcher: Matcher, rules: SurvivorshipRules, started: datetime,
                last_version: int) -> None:
    """After a match: what the next incremental run starts from (model, fingerprint, watermarks)."""
    fingerprint = settings_fingerprint(matcher, rules)
    model = getattr(matcher, "model", None)
    if fingerprint is None or model is None:
        return
    save_match_state(session, {"fingerprint": fingerprint, "model": model.to_dict(),
                               "watermark": (started - _WATERMARK_SLACK).isoformat(),
                               "last_version": last_version,
                               "deleted": sorted(deleted_linked(session))})


def _match_incremental(store: Store, matcher: Matcher, run_id: str | None,
                       rules: SurvivorshipRules) -> MatchReport | None:
    """Place only new and changed records; None when a full run is needed instead."""
    fingerprint = settings_fingerprint(matcher, rules)
    if fingerprint is None:
        return None
    assert isinstance(matcher, ProbabilisticMatcher)
    with store.session() as session:
        state = load_match_state(session)
    if not state or state.get("fingerprint") != fingerprint:
        return None  # first run, or the settings changed: cluster everything
    report = MatchReport(survivorship=rules.to_dict(), mode="incremental")
    actor = f"flow:{run_id}" if run_id else "system"
    report.erased_flagged = _flag_erased(store, run_id, actor)
    now = datetime.now(UTC)
    mark = time.perf_counter()
    with store.session() as session:
        generation = review_generation(session)
        stored = {row.pk: row for row in load_customer_records(session)}
        links = current_links(session)
        manual = manual_links(session)
        active = active_golden_ids(session)
        last_version = last_version_id(session)
        changed = changed_since(session, datetime.fromisoformat(state["watermark"]),
                                int(state.get("last_version", 0))) & stored.keys()
        previously_deleted = set(state.get("deleted", []))
        deleted_now = deleted_linked(session)
        restored = previously_deleted & stored.keys()
        gone = deleted_now - previously_deleted
        # records to place: never linked, changed since, back from deletion, or linked to a retired record
        todo = sorted(pk for pk in stored if pk not in manual and (
            pk not in links or pk in changed or pk in restored or links[pk] not in active))
        touched = {links[pk] for pk in (set(todo) | changed | restored | gone) if pk in links}
        placed_pks = set(todo)
        existing = [pk for pk in stored if pk in links and pk not in placed_pks and links[pk] in active]
        report.records = len(stored)
        report.timings["load"] = time.perf_counter() - mark
        if not todo and not touched:
            report.interactions_attached = _attach(session, stored, links, actor, run_id, now, report)
            report.golden_total = len(active_golden_ids(session) - set(load_leads(session).values()))
            report.golden_unchanged = report.golden_total
            _save_state(session, matcher, rules, now, last_version)
            return report
        mark = time.perf_counter()
        matcher.model = MatchModel(**state["model"])
        ids = sorted({links[pk] for pk in existing})
        label_of = {golden_id: i for i, golden_id in enumerate(ids)}
        table = build_features([_customer(stored[pk]) for pk in existing], existing,
                               identifiers=matcher.settings.identifiers)
        index = IncrementalIndex(matcher, table, [label_of[links[pk]] for pk in existing])
        if [c.name for c in index.comparisons] != matcher.model.comparisons:
            return None  # the data no longer has the fields the model was trained on: train again
        report.timings["index"] = time.perf_counter() - mark
        mark = time.perf_counter()
        cannot_link = load_cannot_links(session)
        placements, suggested = index.add([MatchRecord(pk, _customer(stored[pk]), stored[pk].first_seen_at)
                                           for pk in todo], cannot_link)
        report.timings["add"] = time.perf_counter() - mark
        report.records_matched = len(todo)
        # a new cluster keeps the golden id most of its records had, if that id has no other records left
        fresh: dict[int, list[int]] = defaultdict(list)
        for placement in placements:
            if placement.cluster >= len(ids):
                fresh[placement.cluster].append(placement.key)
        taken = set(ids)
        golden_of_label = dict(enumerate(ids))
        for label, keys in sorted(fresh.items(), key=lambda item: (-len(item[1]), min(item[1]))):
            votes = Counter(links[k] for k in keys if k in links and links[k] not in taken)
            chosen = min(votes, key=lambda g: (-votes[g], g)) if votes else str(uuid.uuid4())
            taken.add(chosen)
            golden_of_label[label] = chosen
        if lock_for_match(session) != generation:
            raise _PeopleChanged
        new_links = dict(links)
        link_rows: list[LinkIn] = []
        for placement in placements:
            golden_id = golden_of_label[placement.cluster]
            new_links[placement.key] = golden_id
            touched.add(golden_id)
            method = "probabilistic" if placement.probability > 0 else "new"
            link_rows.append(LinkIn(source_record_pk=placement.key, golden_id=golden_id,
                                    score=round(placement.probability, 6) if method != "new" else 1.0,
                                    method=method, explanation={"sentence": placement.explanation},
                                    decided_by="system"))
        # golden records first: links point at them
        _rebuild_golden(session, sorted(touched), stored, new_links, rules, actor, run_id, now, report)
        report.links_changed = set_links(session, link_rows, now=now)
        # new suggestions join the pending queue; the ones already waiting stay
        pending = list_suggestion_rows(session, {"pending"})
        items = [SuggestionIn(row.golden_a, row.golden_b, row.score, row.explanation) for row in pending]
        fresh_items = [SuggestionIn(new_links[a], new_links[b], round(p, 6), {"sentence": why, "reason": "uncertain",
                                                                            "record_a": a, "record_b": b})
                       for a, b, p, why in suggested if a in new_links and b in new_links
                       and new_links[a] != new_links[b]]
        reopened = reopen_rejected(session, [(s.golden_a, s.golden_b) for s in fresh_items])
        for suggestion_id in reopened:
            append_audit(session, actor=actor, action="suggestion.reopen", entity_type="merge_suggestion",
                         entity_id=str(suggestion_id), run_id=run_id,
                         reason="one side gained a source record since the rejection")
        report.suggestions_reopened = len(reopened)
        report.suggestions_new, _ = replace_pending_suggestions(session, items + fresh_items, now=now)
        report.suggestions_pending = len({tuple(sorted((s.golden_a, s.golden_b))) for s in items + fresh_items})
        report.interactions_attached = _attach(session, stored, new_links, actor, run_id, now, report)
        report.golden_total = len(active_golden_ids(session) - set(load_leads(session).values()))
        # as on a full run: every golden record this run did not create or change is unchanged
        report.golden_unchanged = report.golden_total - report.golden_new - report.golden_changed
        report.engine = {"mode": "incremental", "records_placed": len(todo), "timings": dict(report.timings),
                         "settings": asdict(matcher.settings), "model": state["model"]}
        _save_state(session, matcher, rules, now, last_version)
    log.info("match (incremental): %d new or changed of %d records; %d golden new, %d changed, %d retired",
             len(todo), report.records, report.golden_new, report.golden_changed, report.golden_retired)
    return report


def _customer(row: Any) -> Customer:
    return Customer.model_validate(row.canonical)


def _rebuild_golden(session: Any, golden_ids: list[str], stored: dict[int, Any], links: dict[int, str],
                    rules: SurvivorshipRules, actor: str, run_id: str | None, now: datetime,
                    report: MatchReport) -> None:
    """Survivorship again for the golden records whose members changed; retire the emptied ones."""
    wanted = set(golden_ids)
    members: dict[str, list[int]] = defaultdict(list)
    for pk, golden_id in links.items():
        if golden_id in wanted and pk in stored:
            members[golden_id].append(pk)
    existing = load_golden(session, golden_ids)
    pins = {golden_id: {f: Pin(p.value, p.pinned_by, p.pinned_at) for f, p in fields.items()}
            for golden_id, fields in load_pins(session, golden_ids).items()}
    audit: list[dict[str, Any]] = []
    for golden_id in golden_ids:
        keys = sorted(members.get(golden_id, []))
        if not keys:
            if golden_id in existing:
                retire_golden(session, golden_id, now=now)
                audit.append({"actor": actor, "action": "golden.retire", "entity_id": golden_id,
                              "before": existing[golden_id].fields, "run_id": run_id,
                              "reason": "no source records left in it"})
                report.golden_retired += 1
            continue
        records = [MatchRecord(pk, _customer(stored[pk]), stored[pk].first_seen_at) for pk in keys]
        values = survive(records, rules, pins.get(golden_id))
        digest = content_hash({"fields": values.fields, "provenance": values.provenance})
        outcome = save_golden(session, golden_id, fields=values.fields, provenance=values.provenance,
                              content_hash=digest, now=now)
        if outcome == "new":
            report.golden_new += 1
            audit.append({"actor": actor, "action": "golden.create", "entity_id": golden_id,
                          "after": values.fields, "run_id": run_id, "reason": f"{len(keys)} source record(s)"})
        elif outcome == "changed":
            report.golden_changed += 1
            previous = existing[golden_id].fields if golden_id in existing else {}
            before, after = _diff(previous, values.fields)
            audit.append({"actor": actor, "action": "golden.update", "entity_id": golden_id, "before": before,
                          "after": after, "run_id": run_id,
                          "reason": None if after else "same values; their provenance changed"})
        else:
            report.golden_unchanged += 1
    append_personal_audit(session, audit, now=now)


def _attach(session: Any, stored: dict[int, Any], links: dict[int, str], actor: str, run_id: str | None,
            now: datetime, report: MatchReport) -> int:
    """Interactions to golden records by the phones and e-mails of their live source records."""
    by_phone: dict[str, str] = {}
    by_email: dict[str, str] = {}
    for pk in sorted(stored):
        golden_id = links.get(pk)
        if golden_id is None:
            continue
        canonical = stored[pk].canonical
        for phone in canonical.get("phones") or []:
            by_phone.setdefault(phone, golden_id)
        for email in canonical.get("emails") or []:
            by_email.setdefault(email, golden_id)
    return _attach_with_leads(session, by_phone, by_email, actor, run_id, now, report)


def _attach_with_leads(session: Any, by_phone: dict[str, str], by_email: dict[str, str], actor: str,
                       run_id: str | None, now: datetime, report: MatchReport) -> int:
    """Attach interactions; a call from a number no customer has makes a lead (one per number).

    A lead is a golden record of its own (source 'telephony': the phone and when it first
    called). When a customer with that phone arrives, the lead merges into the customer: its
    calls move there and the lead is retired, with an audit entry naming the customer.
    """
    leads = load_leads(session)
    audit: list[dict[str, Any]] = []
    for phone, lead_id in sorted(leads.items()):
        customer = by_phone.get(phone)
        if customer is None or customer == lead_id:
            continue
        retire_golden(session, lead_id, now=now)
        audit.append({"actor": actor, "action": "lead.merge", "entity_id": lead_id, "run_id": run_id,
                      "before": {"phones": [phone], "lead": True}, "after": {"merged_into": customer},
                      "reason": f"a customer with this phone arrived: merged into {customer}"})
        del leads[phone]
        report.leads_merged += 1
    for call in calls_with_phone(session):
        if call.phone in by_phone or call.phone in leads or (call.email and call.email in by_email):
            continue
        lead_id = str(uuid.uuid4())
        first_seen = (call.occurred_at or now).isoformat()
        fields = {"phones": [call.phone], "lead": True, "lead_source": "telephony", "first_seen_at": first_seen}
        provenance = {name: {"source": "telephony", "rule": "unknown caller", "at": first_seen}
                      for name in ("phones", "lead", "lead_source", "first_seen_at")}
        save_golden(session, lead_id, fields=fields, provenance=provenance,
                    content_hash=content_hash({"fields": fields, "provenance": provenance}), now=now)
        audit.append({"actor": actor, "action": "golden.create", "entity_id": lead_id, "after": fields,
                      "run_id": run_id, "reason": "lead: a call from a number no customer has"})
        leads[call.phone] = lead_id
        report.leads_new += 1
    save_leads(session, leads)
    append_personal_audit(session, audit, now=now)
    return attach_interactions(session, {**leads, **by_phone}, by_email)
