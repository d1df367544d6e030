"""Pins and survivorship rules through match runs, and a match run racing a person's change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from dedupe.survivorship import FieldRule, SurvivorshipRules
from dedupe.types import MatchRecord, Resolution
from sync.review import ReviewError, merge, pin, show_golden, unpin
from sync.store import Store, get_run, read_audit, start_run
from tests.review.conftest import ScriptedMatcher, golden_of, run_match

ANN = "user:ann"


def test_a_pin_holds_through_match_runs_until_unpinned(matched: Store, matcher: ScriptedMatcher) -> None:
    ann = golden_of(matched, "crm", "1")
    assert show_golden(matched, ann).golden.fields["full_name"] == "Ann Lee"
    row = pin(matched, ann, "full_name", "Ann B. Lee", actor=ANN, reason="customer asked")
    assert row.fields["full_name"] == "Ann B. Lee"
    pin(matched, ann, "emails", "ANN@X.COM", actor=ANN)  # normalised, and made the primary e-mail
    pin(matched, ann, "address.city", "Boston", actor=ANN)
    report = run_match(matched, matcher)
    assert report.golden_unchanged == 5  # the run computes the same pinned values
    view = show_golden(matched, ann)
    assert view.golden.fields["full_name"] == "Ann B. Lee"
    assert view.golden.fields["emails"][0] == "ann@x.com"
    assert view.golden.fields["address"]["city"] == "Boston"
    assert view.golden.provenance["full_name"]["pinned_by"] == ANN
    assert set(view.pins) == {"full_name", "emails", "address.city"}

    unpin(matched, ann, "full_name", actor=ANN)
    run_match(matched, matcher)
    assert show_golden(matched, ann).golden.fields["full_name"] == "Ann Lee"
    with matched.session() as session:
        entries = [(e.action, e.before.get("pin"), e.after.get("pin")) for e in read_audit(session, entity_id=ann)
                   if e.action in ("golden.pin", "golden.unpin")]
    assert ("golden.pin", {"full_name": None}, {"full_name": "Ann B. Lee"}) in entries
    assert ("golden.unpin", {"full_name": "Ann B. Lee"}, {"full_name": None}) in entries


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sources", "x", "cannot pin 'sources'"), ("address", "x", "pin one part of 'address'"),
    ("emails", "not-an-email", "cannot pin emails"), ("phones", "12", "cannot pin phones"),
    ("consent.email", "maybe", "consent is yes or no"), ("nickname", "x", "cannot pin 'nickname'"),
    ("company", "  ", "unpin the field instead"),
])
def test_pins_refuse_bad_fields_and_values(matched: Store, field: str, value: str, message: str) -> None:
    with pytest.raises(ReviewError, match=message):
        pin(matched, golden_of(matched, "crm", "1"), field, value, actor=ANN)


def test_unpinning_what_is_not_pinned_says_so(matched: Store) -> None:
    with pytest.raises(ReviewError, match="is not pinned"):
        unpin(matched, golden_of(matched, "crm", "1"), "company", actor=ANN)


def test_match_runs_apply_the_configured_rules_and_record_them(matched: Store, matcher: ScriptedMatcher) -> None:
    ann = golden_of(matched, "crm", "1")
    assert show_golden(matched, ann).golden.fields["emails"][0] == "ann.lee@y.com"  # the newest record's
    rules = SurvivorshipRules(source_priority=("crm",), fields={"emails": FieldRule("union", primary="source_priority")})
    report = run_match(matched, matcher, survivorship=rules)
    assert report.survivorship == rules.to_dict()
    assert report.golden_changed == 5  # every record's e-mail provenance now names the rule
    with matched.session() as session:
        updates = [e for e in read_audit(session, run_id=None) if e.action == "golden.update"]
    assert [e.entity_id for e in updates if e.after] == [ann]  # only Ann's values changed
    assert {e.reason for e in updates if not e.after} == {"same values; their provenance changed"}
    golden = show_golden(matched, ann).golden
    assert golden.fields["emails"] == ["ann@x.com", "ann.lee@y.com"]
    assert golden.provenance["emails"]["rule"] == "source_priority"


class RacingMatcher(ScriptedMatcher):
    """Merges two golden records by hand, as a person would, while the engine is running."""

    store: Store | None = None
    merges: list[tuple[str, str]] = []

    def resolve(self, records: Sequence[MatchRecord], cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution:
        if self.merges and self.store is not None:
            survivor, loser = self.merges.pop()
            merge(self.store, survivor, loser, actor=ANN)
        return super().resolve(records, cannot_link)


def test_a_match_run_never_writes_over_a_change_made_while_it_ran(matched: Store, matcher: ScriptedMatcher) -> None:
    bob, cy = golden_of(matched, "web", "4"), golden_of(matched, "crm", "6")
    racing = RacingMatcher(matcher.suggest)
    racing.store, racing.merges = matched, [(bob, cy)]
    with matched.session() as session:
        run_id = start_run(session, "match")
    report = run_match(matched, racing, run_id=run_id)
    assert report.golden_total == 4 and golden_of(matched, "crm", "6") == bob
    assert show_golden(matched, cy).golden.status == "retired"
    with matched.session() as session:
        assert get_run(session, run_id) is not None
