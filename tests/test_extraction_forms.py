"""The extraction form's TOML layout (issue 11): parsing, and the check of each value type.

The layout is the one the issue brief fixes (docs/extraction.md); the values are what a person
types in a form cell or a long-layout file.
"""

from __future__ import annotations

import pytest

from reviewtool.errors import InvalidInput
from reviewtool.extraction.forms import ValueKey, consensus_id, parse_form, value_id
from tests.extraction_builder import FORM

# The brief's example (its "; " separators written as new lines, as TOML needs).
BRIEF_EXAMPLE = """
[form]
name = "Liu 2022 extraction"
[[field]]
key = "country"
label = "Country"
type = "text"
[arms]
fields = [ {key="name", type="text"}, {key="intervention", type="text"}, {key="n_randomised", type="integer", min=1} ]
[[outcome]]
key = "meld"
label = "MELD score"
kind = "continuous"
unit = "points"
direction = "lower_is_better"
time_points = ["4 weeks", "12 weeks", "24 weeks", "48 weeks"]
"""


@pytest.fixture(scope="module")
def form():
    return parse_form(FORM)


def test_the_form_keeps_its_fields_arms_and_outcomes_in_order(form) -> None:
    assert form.name == "Test extraction"
    assert [f.key for f in form.fields] == [
        "country",
        "follow_up",
        "route",
        "adverse_events",
        "blinded",
        "published",
    ]
    assert form.fields[1].unit == "weeks" and (form.fields[1].minimum, form.fields[1].maximum) == (
        0,
        520,
    )
    assert [f.key for f in form.arm_fields] == ["name", "intervention", "n_randomised"]
    meld, survival = form.outcomes
    assert (meld.kind, meld.direction, meld.fields) == (
        "continuous",
        "lower_is_better",
        ("mean", "sd", "n"),
    )
    assert meld.time_points == ("4 weeks", "12 weeks", "24 weeks")
    assert survival.fields == ("events", "total")
    assert len(form.sha256) == 64


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        (ValueKey("country"), "  Korea ", "Korea"),
        (ValueKey("follow_up"), "48", "48"),
        (ValueKey("follow_up"), "12.50", "12.5"),
        (ValueKey("route"), "intravenous", "intravenous"),
        (ValueKey("adverse_events"), "rash; fever;fever", "fever; rash"),
        (ValueKey("blinded"), "Yes", "yes"),
        (ValueKey("blinded"), "0", "no"),
        (ValueKey("published"), "2016-03-01", "2016-03-01"),
        (ValueKey("n_randomised", arm="MSC"), "20", "20"),
        (ValueKey("mean", "MSC", "meld", "4 weeks"), "13.0", "13"),
        (ValueKey("sd", "MSC", "meld", "4 weeks"), "0.5", "0.5"),
        (ValueKey("events", "MSC", "survival", "24 weeks"), "0", "0"),
    ],
)
def test_values_are_stored_normalised(form, key: ValueKey, typed: str, stored: str) -> None:
    assert form.check_value(key, typed) == stored


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [
        (ValueKey("follow_up"), "a year", "follow_up: 'a year' is not a number"),
        (ValueKey("follow_up"), "600", "follow_up: 600 is above the maximum 520"),
        (ValueKey("follow_up"), "-1", "follow_up: -1 is below the minimum 0"),
        (ValueKey("follow_up"), "nan", "follow_up: 'nan' is not a finite number"),
        (ValueKey("route"), "oral", "route: 'oral' is not one of intravenous, intra-arterial"),
        (ValueKey("adverse_events"), "fever; itch", "adverse_events: itch not among fever"),
        (ValueKey("blinded"), "maybe", "blinded: 'maybe' is not yes or no"),
        (ValueKey("published"), "1 March 2016", "published: '1 March 2016' is not a date"),
        (ValueKey("country"), "  ", "country: no value given"),
        (
            ValueKey("n_randomised", arm="MSC"),
            "20.5",
            "arm 'MSC': n_randomised: '20.5' is not an integer",
        ),
        (ValueKey("n_randomised", arm="MSC"), "0", "n_randomised: 0 is below the minimum 1"),
        (
            ValueKey("sd", "MSC", "meld", "4 weeks"),
            "0",
            "arm 'MSC', meld at '4 weeks': sd: SD must be greater than 0, not 0",
        ),
        (ValueKey("sd", "MSC", "meld", "4 weeks"), "-2.1", "SD must be greater than 0, not -2.1"),
        (ValueKey("n", "MSC", "meld", "4 weeks"), "0", "n: 0 is below the minimum 1"),
        (
            ValueKey("events", "MSC", "survival", "24 weeks"),
            "-1",
            "events: -1 is below the minimum 0",
        ),
        (
            ValueKey("mean", "MSC", "meld", "5 weeks"),
            "1",
            "time point '5 weeks' is not one of outcome meld's (4 weeks, 12 weeks, 24 weeks)",
        ),
        (
            ValueKey("events", "MSC", "meld", "4 weeks"),
            "1",
            "'events' is not a statistic of continuous outcome meld",
        ),
        (ValueKey("mean", "MSC", "alt", "4 weeks"), "1", "outcome 'alt' is not on the form"),
        (ValueKey("mean", "", "meld", "4 weeks"), "1", "meld's mean needs an arm"),
        (ValueKey("country", arm="MSC"), "Korea", "'country' is a study field: give no arm"),
        (ValueKey("n_randomised"), "20", "'n_randomised' is an arm field: name the arm"),
        (ValueKey("mean"), "1", "'mean' is an outcome statistic: name the outcome and time"),
        (ValueKey("age"), "1", "field 'age' is not on the form"),
        (ValueKey("name", arm="A|B"), "x", "arm name 'A|B' may not contain '|'"),
    ],
)
def test_every_rule_is_checked_with_a_message_naming_the_place(
    form, key: ValueKey, typed: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        form.check_value(key, typed)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[form\nname = 1", "f.toml: not valid TOML: "),
        ("[[field]]\nkey='a'", "f.toml: a [form] table with name = ... is required"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\ntype="float"', "type 'float' is not one of"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\ntype="single_choice"', "needs choices = [...]"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\ntype="text"\nmin=1', "min applies to integer"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\ntype="number"\nmin=5\nmax=1', "min is above max"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\n[[field]]\nkey="a"', "key a is given twice"),
        ('[form]\nname="x"\n[[field]]\nkey="mean"', "'mean' is reserved for outcome statistics"),
        ('[form]\nname="x"\n[[field]]\nkey="a"\ncolour="red"', "unknown setting colour"),
        (
            '[form]\nname="x"\n[[outcome]]\nkey="m"\nkind="ordinal"\ntime_points=["1"]',
            "kind 'ordinal' is not one of continuous, dichotomous",
        ),
        (
            '[form]\nname="x"\n[[outcome]]\nkey="m"\nkind="continuous"\ntime_points=[]',
            "time_points must be a non-empty list",
        ),
        (
            '[form]\nname="x"\n[[outcome]]\nkey="m"\nkind="continuous"\ndirection="up"\n'
            'time_points=["1"]',
            "direction 'up' is not one of lower_is_better, higher_is_better",
        ),
    ],
)
def test_a_bad_form_is_refused_naming_the_file_and_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_form(text, source="f.toml")
    assert str(error.value).startswith("f.toml: ")
    assert message in str(error.value)


def test_the_brief_s_inline_example_parses() -> None:
    form = parse_form(BRIEF_EXAMPLE)
    assert (form.name, form.fields[0].key, form.fields[0].label) == (
        "Liu 2022 extraction",
        "country",
        "Country",
    )
    assert form.arm_fields[2].minimum == 1
    assert form.outcomes[0].time_points[-1] == "48 weeks"
    assert form.outcomes[0].unit == "points"


def test_ledger_ids_name_study_member_and_place() -> None:
    key = ValueKey("mean", "MSC", "meld", "4 weeks")
    assert value_id(7, "alice", key) == "7|alice|MSC|meld|4 weeks|mean"
    assert consensus_id(7, ValueKey("country")) == "7||||country"
