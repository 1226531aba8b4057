"""The duplicate_of invariant, union-find, and order-independence of clustering (hypothesis)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.dedup.clusters import (
    InvariantError,
    UnionFind,
    check_invariant,
    choose_primary,
    groups_from_duplicate_of,
    normalize_duplicate_of,
)
from reviewtool.dedup.engine import DedupInput, find_duplicates


def test_invariant_accepts_roots_and_direct_pointers() -> None:
    check_invariant({"A": None, "B": "A", "C": "A", "D": None})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"A": None, "B": "A", "C": "B"}, "chain"),
        ({"A": "A"}, "cycle"),
        ({"A": "B", "B": "A"}, "chain"),
        ({"A": "Z"}, "unknown"),
    ],
)
def test_invariant_rejects_chains_cycles_and_dangling(
    mapping: dict[str, str | None], message: str
) -> None:
    with pytest.raises(InvariantError, match=message):
        check_invariant(mapping)


def test_normalize_flattens_chain_and_breaks_cycle() -> None:
    assert normalize_duplicate_of({"A": None, "B": "A", "C": "B"}) == {
        "A": None,
        "B": "A",
        "C": "A",
    }
    assert normalize_duplicate_of({"A": "B", "B": "A"}) == {"A": None, "B": "A"}
    # An existing root keeps its place even if its id sorts later.
    assert normalize_duplicate_of({"Z": None, "A": "Z"}) == {"Z": None, "A": "Z"}


def test_normalize_refuses_dangling_target() -> None:
    with pytest.raises(InvariantError):
        normalize_duplicate_of({"A": "missing"})


def test_groups_from_duplicate_of() -> None:
    groups = groups_from_duplicate_of({"A": None, "B": "A", "C": None})
    assert [(g.primary, g.members) for g in groups] == [("A", ("A", "B"))]
    assert len(groups_from_duplicate_of({"A": None, "C": None}, include_singletons=True)) == 2


def test_choose_primary_prefers_complete_then_smallest_id() -> None:
    assert choose_primary(["b", "a", "c"], {"a": 3, "b": 5, "c": 5}) == "b"


ids = st.lists(st.sampled_from("ABCDEFGHIJ"), min_size=1, max_size=10, unique=True)


@st.composite
def id_pairs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    nodes = draw(ids)
    edges = draw(st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=15))
    return nodes, edges


@given(id_pairs(), st.randoms())
def test_union_find_is_order_independent_and_satisfies_invariant(
    data: tuple[list[str], list[tuple[str, str]]], rnd: random.Random
) -> None:
    nodes, edges = data
    first = UnionFind(nodes)
    for x, y in edges:
        first.union(x, y)
    shuffled = list(edges)
    rnd.shuffle(shuffled)
    second = UnionFind(reversed(nodes))
    for x, y in shuffled:
        second.union(y, x)
    mapping = first.duplicate_of()
    check_invariant(mapping)
    assert mapping == second.duplicate_of()
    # idempotent: rebuilding from its own output changes nothing
    assert normalize_duplicate_of(mapping) == mapping


@given(
    st.dictionaries(
        st.sampled_from("ABCDEFGH"), st.one_of(st.none(), st.sampled_from("ABCDEFGH"))
    ).filter(lambda m: all(v is None or v in m for v in m.values()))
)
def test_normalize_always_satisfies_invariant(mapping: dict[str, str | None]) -> None:
    out = normalize_duplicate_of(mapping)
    check_invariant(out)
    assert normalize_duplicate_of(out) == out


# ----------------------------------------------------------- find_duplicates as a whole

BASE = [
    DedupInput(id="r1", title="Aspirin for the prevention of stroke in atrial fibrillation",
               authors=("Smith, J", "Jones, K"), year=2001, journal="Lancet", volume="358",
               pages="100-108", doi="10.1016/s0140-1"),
    DedupInput(id="r2", title="ASPIRIN FOR THE PREVENTION OF STROKE IN ATRIAL FIBRILLATION.",
               authors=("Smith J", "Jones K"), year=2001, journal="Lancet", volume="358",
               pages="100-8"),
    DedupInput(id="r3", title="Aspirin for the prevention of stroke in atrial fibrillation: part 2",
               authors=("Smith J", "Jones K"), year=2001, journal="Lancet", volume="358",
               pages="109-115"),
    DedupInput(id="r4", title="Warfarin versus aspirin in atrial fibrillation",
               authors=("Brown, A",), year=2003, journal="N Engl J Med", volume="349",
               pages="1019-1026"),
    DedupInput(id="r5", title="Warfarin versus aspirin in atrial fibrilation",
               authors=("Brown A",), year=2003, journal="New England Journal of Medicine",
               volume="349", pages="1019-26"),
    DedupInput(id="r6", title="Erratum: Warfarin versus aspirin in atrial fibrillation",
               authors=("Brown A",), year=2003, journal="N Engl J Med", volume="349",
               pages="1500"),
]  # fmt: skip


def _signature(records: list[DedupInput]) -> tuple[object, ...]:
    result = find_duplicates(records)
    check_invariant(result.duplicate_of)
    return (
        tuple((g.primary, g.members) for g in result.groups),
        tuple((p.a, p.b, p.decision) for p in result.review_queue),
    )


def test_base_groups() -> None:
    result = find_duplicates(BASE)
    assert [g.members for g in result.groups] == [("r1", "r2"), ("r4", "r5")]


@settings(max_examples=25, deadline=None)
@given(st.permutations(BASE))
def test_find_duplicates_is_independent_of_input_order(records: list[DedupInput]) -> None:
    assert _signature(records) == _signature(BASE)


@settings(max_examples=10, deadline=None)
@given(st.permutations(BASE))
def test_find_duplicates_is_idempotent(records: list[DedupInput]) -> None:
    """Running again on the primaries finds nothing more to merge; rerunning all gives the same."""
    result = find_duplicates(records)
    primaries = [r for r in records if result.duplicate_of[r.id] is None]
    again = find_duplicates(primaries)
    assert again.groups == ()
    assert _signature(records) == _signature(list(reversed(records)))
