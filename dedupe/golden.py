"""Golden records from clusters: survivorship (rules in `dedupe.survivorship`) and stable ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from dedupe.survivorship import Pin, SurvivorshipRules, apply
from dedupe.types import Cluster, GoldenValues, MatchRecord, MemberDecision

__all__ = ["MANUAL", "assign_golden_ids", "honour_manual", "survive"]

MANUAL = "manual"  # the link method of a decision a person made (a merge, a split)


def survive(records: Sequence[MatchRecord], rules: SurvivorshipRules | None = None,
            pins: Mapping[str, Pin] | None = None) -> GoldenValues:
    """The golden values of one customer's records; by default the most recent non-empty value
    wins and lists are the union, newest first (see `dedupe.survivorship` for the other rules)."""
    return apply(records, rules, pins)


def honour_manual(
    clusters: Sequence[Cluster],
    manual: Mapping[int, str],
    cannot_link: Iterable[tuple[int, int]] = (),
) -> tuple[list[Cluster], list[str | None]]:
    """Clusters with people's decisions applied, and per cluster the golden id a person fixed.

    A source record a person linked by hand (`manual`: record key → golden id) stays in that
    golden record. The engine's cluster around it joins that golden record too, unless the
    cluster also holds records a person put in another one, or a member is cannot-linked to
    the golden record's records; then only the hand-linked records move and the rest stays a
    cluster of its own.
    """
    forbidden: dict[int, set[int]] = {}
    for a, b in cannot_link:
        forbidden.setdefault(a, set()).add(b)
        forbidden.setdefault(b, set()).add(a)
    groups: dict[str, list[MemberDecision]] = {}
    joining: list[tuple[str, list[MemberDecision]]] = []
    free: list[Cluster] = []
    for cluster in clusters:
        fixed = {manual[m.key] for m in cluster.members if m.key in manual}
        rest = [m for m in cluster.members if m.key not in manual]
        for member in cluster.members:
            if member.key in manual:
                groups.setdefault(manual[member.key], []).append(
                    MemberDecision(member.key, MANUAL, 1.0, "linked by a person"))
        if len(fixed) == 1 and rest:
            joining.append((fixed.pop(), rest))
        elif rest:
            free.append(Cluster(tuple(rest)))
    for golden_id, rest in joining:
        held = {m.key for m in groups[golden_id]}
        if any(forbidden.get(m.key, set()) & held for m in rest):
            free.append(Cluster(tuple(rest)))
        else:
            groups[golden_id].extend(rest)
    result = [Cluster(tuple(members)) for members in groups.values()] + free
    return result, [*groups, *([None] * len(free))]


def assign_golden_ids(
    clusters: Sequence[Cluster],
    previous: Mapping[int, str],
    new_id: Callable[[], str],
    fixed: Sequence[str | None] | None = None,
) -> list[str]:
    """One golden id per cluster, reusing the id most of its members already had.

    Larger clusters choose first, so when a golden record splits, its biggest part keeps the id.
    `fixed` gives ids a person decided (None where the cluster is free to choose); nobody else gets those.
    """
    fixed = list(fixed) if fixed is not None else [None] * len(clusters)
    taken: set[str] = {gid for gid in fixed if gid is not None}
    result: dict[int, str] = {i: gid for i, gid in enumerate(fixed) if gid is not None}
    order = sorted((i for i in range(len(clusters)) if fixed[i] is None),
                   key=lambda i: (-len(clusters[i].members), min(clusters[i].keys)))
    for index in order:
        votes = Counter(previous[k] for k in clusters[index].keys if k in previous)
        candidates = sorted(votes, key=lambda gid: (-votes[gid], gid))
        chosen = next((gid for gid in candidates if gid not in taken), None) or new_id()
        taken.add(chosen)
        result[index] = chosen
    return [result[i] for i in range(len(clusters))]
