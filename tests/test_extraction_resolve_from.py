"""``extract resolve ... --from NAME`` and ``extract resolve STUDY --all --from NAME`` (issue 11).

The adjudicator (carol) settles a disagreement by taking one extractor's value with its
provenance (source kind, source, form version), recorded as an adjudicator's consensus in an
``extraction-consensus`` event like any resolution; or takes one extractor's values at every
open disagreement of a study (places where that extractor has no value stay open).
Separation of duties (``adjudication.separate_duties``) holds: an adjudicator who also extracted
a value at a place may not resolve it, and ``--all`` is then refused as a whole.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from reviewtool.domain import Role
from reviewtool.errors import InvalidInput, PermissionDenied
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import cli, review_fixtures, verify_problems
from tests.extraction_builder import run as _run

MELD4 = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
CLI_MELD4 = ["--arm", "MSC", "--outcome", "meld", "--time", "4 weeks"]


template, db = review_fixtures("resolve_from")


def _set(db: str, who: str, field: str, value: str, source: str, **where: Any) -> None:
    _run(
        db,
        x.set_value,
        actor=who,
        study="Suk 2016",
        field=field,
        value=value,
        source=source,
        **where,
    )


def _disagree(db: str) -> None:
    """alice and bob differ on country and the MSC arm's MELD SD at 4 weeks (alice's converted
    from an SE); only alice gave the route; they agree on the MSC n."""
    _set(db, "alice", "country", "Korea", "report 1, p. 2")
    _set(db, "bob", "country", "South Korea", "report 1, abstract")
    _set(db, "alice", "route", "intravenous", "report 1, Methods")
    for who in ("alice", "bob"):
        _set(db, who, "n", "25", "report 1, Table 2", **MELD4)
    _run(
        db,
        x.set_converted,
        actor="alice",
        study="Suk 2016",
        fields=["sd"],
        conversion="se 1.2",
        **MELD4,
    )
    _set(db, "bob", "sd", "6.2", "report 1, Table 2", **MELD4)


def _consensus(db: str) -> dict[str, x.ConsensusView]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            sheet = x.study_sheet(s, actor="carol", study="Suk 2016")
        return {k.field: c for k, c in sheet.consensus.items()}
    finally:
        review.close()


def _open(db: str) -> list[str]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            return [d.field for d in x.compare(s, actor="carol", study="Suk 2016")]
    finally:
        review.close()


def _consensus_events(db: str) -> list[tuple[str, dict[str, Any]]]:
    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    try:
        rows = conn.execute(
            "SELECT actor, payload FROM audit_event WHERE action = 'extraction-consensus' "
            "ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    return [(actor, json.loads(payload)) for actor, payload in rows]


def test_resolve_from_takes_the_extractors_value_with_its_provenance(db: str) -> None:
    _disagree(db)
    assert _open(db) == ["country", "route", "sd"]
    done = cli(
        db, "extract", "resolve", "Suk 2016", "sd", "--from", "alice", *CLI_MELD4, who="carol"
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        "Suk 2016: arm 'MSC', meld at '4 weeks': sd = 6 (adjudicated, from alice)."
    )
    sd = _consensus(db)["sd"]
    assert (sd.value, sd.how, sd.by, sd.source_kind) == ("6", "adjudicator", "carol", "converted")
    assert json.loads(sd.source)["inputs"] == {"se": 1.2, "n": 25}  # alice's provenance
    actor, event = _consensus_events(db)[-1]
    assert (actor, event["change"]) == ("carol", "adjudicator")
    assert event["state"]["extraction_consensus"] == {
        "1|MSC|meld|4 weeks|sd": [
            "6",
            1,
            "converted",
            sd.source,
            "adjudicator",
            "carol",
            None,
            None,
        ]
    }
    assert _open(db) == ["country", "route"]

    done = cli(db, "extract", "resolve", "Suk 2016", "country", "--from", "bob", who="carol")
    assert done.exit_code == 0, done.output
    country = _consensus(db)["country"]
    assert (country.value, country.source) == ("South Korea", "report 1, abstract")
    assert verify_problems(db) == []


def test_resolve_all_from_one_extractor_leaves_open_where_they_have_no_value(db: str) -> None:
    _disagree(db)
    done = cli(db, "extract", "resolve", "Suk 2016", "--all", "--from", "bob", who="carol")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Suk 2016: country = South Korea (adjudicated, from bob).",
        "Suk 2016: arm 'MSC', meld at '4 weeks': sd = 6.2 (adjudicated, from bob).",
        "Suk 2016: route left open (bob has no value there).",
        "2 disagreements resolved from bob, 1 left open.",
    ]
    agreed = _consensus(db)
    assert {f: (c.value, c.how, c.by) for f, c in agreed.items()} == {
        "country": ("South Korea", "adjudicator", "carol"),
        "n": ("25", "agreement", "bob"),
        "sd": ("6.2", "adjudicator", "carol"),
    }
    assert (agreed["sd"].source_kind, agreed["sd"].source) == ("reported", "report 1, Table 2")
    assert _open(db) == ["route"]
    assert [e["change"] for _, e in _consensus_events(db)[-2:]] == ["adjudicator"] * 2

    done = cli(db, "extract", "resolve", "Suk 2016", "--all", "--from", "alice", who="carol")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "1 disagreement resolved from alice, 0 left open."
    assert _consensus(db)["route"].value == "intravenous"
    assert _open(db) == []
    assert verify_problems(db) == []


def test_a_reopened_consensus_is_resolved_from_an_extractor_too(db: str) -> None:
    for who in ("alice", "bob"):
        _set(db, who, "country", "Korea", "report 1")
    _set(db, "alice", "country", "Republic of Korea", "report 1, p. 3")  # reopens
    assert _consensus(db)["country"].open
    view = _run(db, x.resolve_all_from, actor="carol", study="Suk 2016", take="alice")
    assert [v.value for v in view.resolved] == ["Republic of Korea"]
    country = _consensus(db)["country"]
    assert (country.value, country.open, country.source) == (
        "Republic of Korea",
        False,
        "report 1, p. 3",
    )


@pytest.mark.parametrize(
    ("args", "who", "message"),
    [
        (["country", "--from", "alice"], "bob", "needs the role adjudicator"),
        (["route", "--from", "bob"], "carol", "'bob' has no value for study Suk 2016, route"),
        (["country", "--from", "zed"], "carol", "'zed' is not a member of this review"),
        (["country", "Korea", "--from", "alice"], "carol", "give either VALUE"),
        (["country", "--all", "--from", "alice"], "carol", "STUDY --all --from NAME"),
        (["--all"], "carol", "STUDY --all --from NAME"),
        (["country"], "carol", "give the consensus VALUE, or --from NAME"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    db: str, args: list[str], who: str, message: str
) -> None:
    _disagree(db)
    before = _consensus_events(db)
    done = cli(db, "extract", "resolve", "Suk 2016", *args, who=who)
    assert done.exit_code != 0
    assert message in done.output, done.output
    assert len(done.output.strip().splitlines()) == 1 and "Traceback" not in done.output
    assert _consensus_events(db) == before


def test_separation_of_duties_holds_for_one_place_and_refuses_all_as_a_whole(
    db: str,
) -> None:
    from reviewtool.members.service import grant_role

    _run(db, grant_role, actor="olga", name="carol", role=Role.REVIEWER)
    _disagree(db)
    _set(db, "carol", "route", "intrahepatic", "report 1, Methods")  # carol extracted the route
    with pytest.raises(PermissionDenied) as refused:
        _run(db, x.resolve_from, actor="carol", study="Suk 2016", field="route", take="alice")
    assert str(refused.value).startswith(
        "carol extracted a value for study Suk 2016 (1), route, so carol may not resolve its "
        "consensus value (separation of duties)"
    )
    before = _consensus_events(db)
    with pytest.raises(PermissionDenied, match="carol extracted a value for study Suk 2016"):
        _run(db, x.resolve_all_from, actor="carol", study="Suk 2016", take="alice")
    assert _consensus_events(db) == before  # not even country, which carol did not extract
    view = _run(db, x.resolve_from, actor="carol", study="Suk 2016", field="country", take="alice")
    assert (view.value, view.by) == ("Korea", "carol")  # a place carol did not extract


def test_a_value_taken_must_fit_the_rules_across_values_with_the_consensus(db: str) -> None:
    survival = {"arm": "MSC", "outcome": "survival", "time_point": "24 weeks"}
    for who, total in (("alice", "30"), ("bob", "26")):
        _set(db, who, "events", "25", "report 1, Table 3", **survival)
        _set(db, who, "total", total, "report 1, Table 3", **survival)
    _run(db, x.resolve, actor="carol", study="Suk 2016", field="events", value="28", **survival)
    before = _consensus_events(db)
    with pytest.raises(InvalidInput) as refused:
        _run(
            db,
            x.resolve_from,
            actor="carol",
            study="Suk 2016",
            field="total",
            take="bob",
            **survival,
        )
    assert str(refused.value) == (
        "study Suk 2016 (1), arm 'MSC', survival at '24 weeks': events (28) exceed total (26)"
    )
    assert _consensus_events(db) == before
    taken = _run(
        db, x.resolve_from, actor="carol", study="Suk 2016", field="total", take="alice", **survival
    )
    assert (taken.value, taken.source) == ("30", "report 1, Table 3")
