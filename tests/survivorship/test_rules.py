"""Survivorship rules, one by one, and pins; the defaults are today's 'most recent non-empty wins'."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dedupe.golden import survive
from dedupe.survivorship import FieldRule, Pin, SurvivorshipRules
from dedupe.types import MatchRecord
from mappings import Customer, SourceRef

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rec(key: int, source: str = "s", *, days: int = 0, **fields: Any) -> MatchRecord:
    customer = Customer(ref=SourceRef(source=source, stream="t", source_record_id=str(key)),
                        source_updated_at=T0 + timedelta(days=days), **fields)
    return MatchRecord(key=key, customer=customer, seen_at=T0)


def rules(**fields: FieldRule | str) -> SurvivorshipRules:
    return SurvivorshipRules(fields={n: r if isinstance(r, FieldRule) else FieldRule(rule=r)
                                     for n, r in fields.items()})


def test_most_recent_is_the_default_and_skips_empty_values() -> None:
    values = survive([rec(1, "crm", days=1, company="Old Co", job_title="CEO"),
                      rec(2, "web", days=5, company="New Co")])
    assert values.fields["company"] == "New Co"
    assert values.fields["job_title"] == "CEO"  # the newest record has none
    assert values.provenance["company"] == {"source": "web", "stream": "t", "source_record_id": "2",
                                            "updated_at": (T0 + timedelta(days=5)).isoformat()}
    assert "rule" not in values.provenance["company"]


def test_source_priority_global_and_per_field() -> None:
    records = [rec(1, "crm", days=1, company="Crm Co", job_title="Crm title"),
               rec(2, "web", days=9, company="Web Co", job_title="Web title"),
               rec(3, "sheet", days=5, company="Sheet Co")]
    chosen = survive(records, SurvivorshipRules(
        default="source_priority", source_priority=("crm", "sheet"),
        fields={"job_title": FieldRule(rule="source_priority", sources=("web", "crm"))}))
    assert chosen.fields["company"] == "Crm Co"
    assert chosen.fields["job_title"] == "Web title"  # the field's own order
    assert chosen.provenance["company"]["rule"] == "source_priority"
    # a source missing from the order ranks after the listed ones, newest first among themselves
    only_unlisted = survive(records[1:], SurvivorshipRules(default="source_priority", source_priority=("crm",)))
    assert only_unlisted.fields["company"] == "Web Co"
    # the top source has nothing: the next one in the order wins
    blank = survive([rec(1, "crm", company=None), rec(2, "sheet", company="Sheet Co")],
                    SurvivorshipRules(default="source_priority", source_priority=("crm", "sheet")))
    assert blank.fields["company"] == "Sheet Co"


def test_most_frequent_counts_case_insensitively_and_ties_go_to_the_newest() -> None:
    records = [rec(1, days=1, company="ACME"), rec(2, days=2, company="Acme"), rec(3, days=9, company="Other")]
    values = survive(records, rules(company="most_frequent"))
    assert values.fields["company"] == "Acme"  # two records agree; the newer spelling of them
    assert values.provenance["company"]["source_record_id"] == "2"
    tie = survive([rec(1, days=1, company="One"), rec(2, days=2, company="Two")], rules(company="most_frequent"))
    assert tie.fields["company"] == "Two"


def test_longest_value_wins() -> None:
    values = survive([rec(1, days=1, full_name="Ivan Ivanovich Petrov"), rec(2, days=2, full_name="I. Petrov")],
                     rules(full_name="longest"))
    assert values.fields["full_name"] == "Ivan Ivanovich Petrov"
    assert values.provenance["full_name"]["rule"] == "longest"


def test_most_complete_scalar_comes_from_the_fullest_record() -> None:
    full = rec(1, days=1, full_name="Ivan Petrov", company="Romashka", job_title="CFO", emails=["i@x.ru"])
    thin = rec(2, days=2, full_name="I Petrov")
    assert survive([full, thin], rules(full_name="most_complete")).fields["full_name"] == "Ivan Petrov"


def test_most_complete_address_is_taken_whole_never_mixed() -> None:
    street = rec(1, days=1, address={"street": "Lenina 1", "city": "Kazan", "postal_code": "420000"})
    city = rec(2, days=2, address={"city": "Moscow"})
    default = survive([street, city]).fields["address"]
    assert default == {"street": "Lenina 1", "city": "Moscow", "postal_code": "420000"}  # mixed, per part
    whole = survive([street, city], rules(address="most_complete"))
    assert whole.fields["address"] == {"street": "Lenina 1", "city": "Kazan", "postal_code": "420000"}
    assert {whole.provenance[f"address.{k}"]["source_record_id"] for k in ("street", "city")} == {"1"}


def test_group_parts_follow_per_part_rules() -> None:
    values = survive([rec(1, "crm", days=1, address={"city": "Kazan"}), rec(2, "web", days=2, address={"city": "Moscow"})],
                     SurvivorshipRules(source_priority=("crm",), fields={"address": FieldRule("source_priority")}))
    assert values.fields["address"]["city"] == "Kazan"


def test_union_keeps_every_value_with_a_chosen_primary() -> None:
    records = [rec(1, "crm", days=1, emails=["work@x.com", "home@x.com"]),
               rec(2, "web", days=5, emails=["web@x.com", "home@x.com"]),
               rec(3, "sheet", days=3, emails=["home@x.com"])]
    default = survive(records)
    assert default.fields["emails"] == ["web@x.com", "home@x.com", "work@x.com"]
    by_source = survive(records, SurvivorshipRules(source_priority=("crm",),
                                                   fields={"emails": FieldRule("union", primary="source_priority")}))
    assert by_source.fields["emails"] == ["work@x.com", "web@x.com", "home@x.com"]
    assert by_source.provenance["emails"]["source"] == "crm"
    frequent = survive(records, rules(emails=FieldRule("union", primary="most_frequent")))
    assert frequent.fields["emails"][0] == "home@x.com"
    assert sorted(frequent.fields["emails"]) == sorted(default.fields["emails"])
    assert frequent.provenance["emails[work@x.com]"]["source"] == "crm"  # every item keeps its origin


def test_a_verified_value_is_never_overwritten_by_an_unverified_one() -> None:
    verified = SurvivorshipRules(verified={"crm": ("company", "emails")})
    records = [rec(1, "crm", days=1, company="Checked Ltd", job_title="Old title", emails=["checked@x.com"]),
               rec(2, "web", days=9, company="Typo Ltdd", job_title="New title", emails=["typo@x.com"])]
    values = survive(records, verified)
    assert values.fields["company"] == "Checked Ltd"
    assert values.provenance["company"]["verified"] is True
    assert values.fields["job_title"] == "New title"  # not verified anywhere: the usual rule
    assert values.fields["emails"] == ["checked@x.com", "typo@x.com"]  # the verified one stays primary
    # even a rule that would prefer the other value cannot overrule verification
    longest = SurvivorshipRules(verified={"crm": ("*",)}, fields={"company": FieldRule("longest")})
    assert survive(records, longest).fields["company"] == "Checked Ltd"
    # with no verified value present, the rule decides
    assert survive(records[1:], verified).fields["company"] == "Typo Ltdd"


def test_pins_win_until_removed_and_say_who_pinned() -> None:
    records = [rec(1, days=1, full_name="Ivan Petrov", emails=["a@x.com"], address={"city": "Kazan"}),
               rec(2, days=2, full_name="Ivan Petroff", emails=["b@x.com"])]
    at = datetime(2025, 5, 1, tzinfo=UTC)
    pins = {"full_name": Pin("Ivan Petrov", "user:ann", at), "emails": Pin("a@x.com", "user:ann", at),
            "address.city": Pin("Kazan-2", "user:bob", at)}
    values = survive(records, SurvivorshipRules(verified={"s": ("*",)}), pins)
    assert values.fields["full_name"] == "Ivan Petrov"
    assert values.fields["emails"] == ["a@x.com", "b@x.com"]
    assert values.fields["address"]["city"] == "Kazan-2"
    assert values.provenance["full_name"] == {"source": "pin", "pinned_by": "user:ann",
                                              "pinned_at": at.isoformat(), "verified": True}
    assert values.provenance["address.city"]["pinned_by"] == "user:bob"
    # a pinned e-mail no source holds any more is still added, first
    new = survive(records, pins={"emails": Pin("c@x.com", "user:ann", at)})
    assert new.fields["emails"] == ["c@x.com", "b@x.com", "a@x.com"]
    # unpinned: back to the rule
    assert survive(records).fields["full_name"] == "Ivan Petroff"


def test_problems_name_the_field_and_the_fix() -> None:
    bad = SurvivorshipRules(default="newest", verified={"crm": ("emial",)},
                            fields={"phon": FieldRule(), "emails": FieldRule("longest"),
                                    "company": FieldRule("union"), "phones": FieldRule("union", primary="longest")})
    problems = "\n".join(bad.problems())
    assert "default: unknown rule 'newest'" in problems
    assert "fields.phon: not a customer field" in problems
    assert "fields.emails: a multi-valued field is always the union" in problems
    assert "fields.company: unknown rule 'union'" in problems
    assert "fields.phones.primary: unknown 'longest'" in problems
    assert "verified.crm: unknown field(s) ['emial']" in problems
    assert SurvivorshipRules().problems() == []


def test_rules_round_trip_as_plain_data() -> None:
    original = SurvivorshipRules(default="longest", source_priority=("crm",), verified={"crm": ("*",)},
                                 fields={"emails": FieldRule("union", primary="source_priority")})
    data = original.to_dict()
    assert data["fields"]["emails"] == {"rule": "union", "sources": [], "primary": "source_priority"}
    assert data["verified"] == {"crm": ["*"]}


# -------------------------------------------------------------- the defaults are yesterday's behaviour


def _old_survive(records: list[MatchRecord]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The survivorship crmsync had before rules (commit 1bc12db), kept here as the reference."""
    ordered = sorted(records, key=lambda r: (r.recency, r.customer.ref.key()), reverse=True)
    dumps = [(r, r.customer.model_dump(mode="json", exclude={"ref", "source_updated_at"})) for r in ordered]

    def origin(r: MatchRecord) -> dict[str, Any]:
        ref = r.customer.ref
        return {"source": ref.source, "stream": ref.stream, "source_record_id": ref.source_record_id,
                "updated_at": r.recency.isoformat()}

    fields: dict[str, Any] = {}
    provenance: dict[str, Any] = {}
    for name in dumps[0][1]:
        if name in ("emails", "phones", "tags"):
            merged: list[Any] = []
            for r, d in dumps:
                for item in d[name]:
                    if item not in merged:
                        merged.append(item)
                        provenance.setdefault(f"{name}[{item}]", origin(r))
            fields[name] = merged
            if merged:
                provenance[name] = provenance[f"{name}[{merged[0]}]"]
        elif name in ("address", "consent", "custom"):
            group: dict[str, Any] = {}
            for r, d in dumps:
                for key, value in (d[name] or {}).items():
                    if value not in (None, "") and key not in group:
                        group[key] = value
                        provenance[f"{name}.{key}"] = origin(r)
            fields[name] = group
        else:
            fields[name] = None
            for r, d in dumps:
                if d[name] not in (None, ""):
                    fields[name], provenance[name] = d[name], origin(r)
                    break
    fields["sources"] = sorted({r.customer.ref.source for r in ordered})
    return fields, provenance


@pytest.mark.parametrize("seed", range(40))
def test_default_rules_reproduce_the_old_survivorship_exactly(seed: int) -> None:
    rnd = random.Random(seed)
    pick = lambda *options: rnd.choice([None, "", *options])  # noqa: E731
    records = [rec(k, rnd.choice(["crm", "web", "sheet"]), days=rnd.randint(0, 3),
                   full_name=pick("Ann Lee", "A. Lee"), company=pick("Acme", "ACME Inc"),
                   emails=rnd.sample(["a@x.com", "b@x.com", "c@x.com"], rnd.randint(0, 2)),
                   phones=rnd.sample(["+14155550101", "+14155550102"], rnd.randint(0, 2)),
                   tags=rnd.sample(["vip", "lead"], rnd.randint(0, 2)),
                   address={"city": pick("Kazan", "Moscow"), "street": pick("Lenina 1")},
                   consent={"email": rnd.choice([None, True, False])},
                   custom={"k": pick("v1", "v2") or "v"})
               for k in range(1, rnd.randint(2, 5))]
    values = survive(records)
    assert (values.fields, values.provenance) == _old_survive(records)
