"""Extraction forms: the TOML layout, its parser and the check of every value against a form.

A pure kernel (no database): ``parse_form(text)`` gives a ``Form``; ``Form.check_value`` turns the
text a person typed into the value stored (or raises InvalidInput saying why). The layout
(docs/extraction.md)::

    [form]
    name = "Liu 2022 extraction"
    characteristics = ["country", ...]   # optional: the columns of the study-characteristics table
    [[field]]                            # study-level fields, in order
    key = "country"; label = "Country"; type = "text"
    [arms]                               # every study has arms with these fields
    fields = [{key="name", type="text"}, {key="n_randomised", type="integer", min=1}]
    [[outcome]]
    key = "meld"; label = "MELD score"; kind = "continuous"; unit = "points"
    direction = "lower_is_better"; time_points = ["4 weeks", "12 weeks"]

Field types: text, long_text, integer, number (``unit``, ``min``, ``max``), single_choice and
multiple_choice (``choices``), yes_no, date (ISO 8601, YYYY-MM-DD). An outcome's values are per
arm and time point: mean, sd, n (continuous) or events, total (dichotomous).
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from reviewtool.errors import InvalidInput

FIELD_TYPES = (
    "text",
    "long_text",
    "integer",
    "number",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "date",
)
OUTCOME_KINDS = ("continuous", "dichotomous")
DIRECTIONS = ("lower_is_better", "higher_is_better")
CONTINUOUS_FIELDS = ("mean", "sd", "n")
DICHOTOMOUS_FIELDS = ("events", "total")
SOURCE_KINDS = ("reported", "converted", "digitised")
RANDOMISED = "n_randomised"
"""The arm field an outcome's n (or total) may not exceed."""
SEPARATOR = "|"
"""Joins the parts of a value's ledger key; refused inside keys, arm names and time points."""
YES, NO = "yes", "no"
_YES_NO = {"yes": YES, "y": YES, "true": YES, "1": YES, "no": NO, "n": NO, "false": NO, "0": NO}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: study-level, arm-level or an outcome's statistic.

    :ivar key: the field's key (``country``, ``n_randomised``, ``mean``).
    :ivar label: what a person reads (the key when none is given).
    :ivar type: one of ``FIELD_TYPES``.
    :ivar unit: the unit of a number (free text), or "".
    :ivar minimum: the smallest value allowed (numbers, integers), or None.
    :ivar maximum: the largest value allowed, or None.
    :ivar choices: the choices of a choice field.
    :ivar required: whether a study's extraction is complete only with it.
    :ivar positive: a value must be > 0 (an SD).
    """

    key: str
    label: str
    type: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    positive: bool = False


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome: continuous (mean, sd, n per arm and time point) or dichotomous (events, total).

    :ivar direction: ``lower_is_better`` or ``higher_is_better``.
    :ivar time_points: the time points values may be given at, in order.
    """

    key: str
    label: str
    kind: str
    unit: str
    direction: str
    time_points: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """The statistics given per arm and time point."""
        return CONTINUOUS_FIELDS if self.kind == "continuous" else DICHOTOMOUS_FIELDS


# The statistics of an outcome, as fields (checked like any other field).
STATISTICS: dict[str, FieldSpec] = {
    "mean": FieldSpec("mean", "mean", "number"),
    "sd": FieldSpec("sd", "SD", "number", positive=True),
    "n": FieldSpec("n", "n", "integer", minimum=1),
    "events": FieldSpec("events", "events", "integer", minimum=0),
    "total": FieldSpec("total", "total", "integer", minimum=1),
}


class ValueKey(NamedTuple):
    """Where one value goes: a study field (arm, outcome, time point empty), an arm field (arm),
    or an outcome's statistic (arm, outcome, time point). A tuple: hundreds of thousands are
    hashed in a bulk import."""

    field: str
    arm: str = ""
    outcome: str = ""
    time_point: str = ""

    @property
    def level(self) -> str:
        """``study``, ``arm`` or ``outcome``."""
        return "outcome" if self.outcome else "arm" if self.arm else "study"

    def describe(self) -> str:
        """``field`` / ``arm A: field`` / ``arm A, meld at 4 weeks: mean`` (for messages)."""
        if self.outcome:
            return f"arm {self.arm!r}, {self.outcome} at {self.time_point!r}: {self.field}"
        if self.arm:
            return f"arm {self.arm!r}: {self.field}"
        return self.field


@dataclass(frozen=True)
class Form:
    """A parsed extraction form (see the module docstring for the layout).

    :ivar sha256: of the TOML text as given (a form added twice unchanged is one version).
    """

    name: str
    fields: tuple[FieldSpec, ...]
    arm_fields: tuple[FieldSpec, ...]
    outcomes: tuple[OutcomeSpec, ...]
    text: str
    sha256: str
    characteristics: tuple[str, ...] = ()
    _study: dict[str, FieldSpec] = field(default_factory=dict, compare=False, repr=False)
    _arm: dict[str, FieldSpec] = field(default_factory=dict, compare=False, repr=False)
    _outcome: dict[str, OutcomeSpec] = field(default_factory=dict, compare=False, repr=False)
    _ranks: dict[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._study.update({f.key: f for f in self.fields})
        self._arm.update({f.key: f for f in self.arm_fields})
        self._outcome.update({o.key: o for o in self.outcomes})

    def outcome(self, key: str) -> OutcomeSpec:
        """The outcome ``key``; InvalidInput naming the known ones."""
        found = self._outcome.get(key)
        if found is None:
            known = ", ".join(self._outcome) or "none"
            raise InvalidInput(f"outcome {key!r} is not on the form (outcomes: {known})")
        return found

    def spec(self, key: ValueKey) -> FieldSpec:
        """The field a value of ``key`` must satisfy; InvalidInput when the form has no such place
        (unknown field, outcome or time point; an arm missing or given where none belongs)."""
        if key.outcome or key.time_point:
            outcome = self.outcome(key.outcome)
            if key.time_point not in outcome.time_points:
                raise InvalidInput(
                    f"time point {key.time_point!r} is not one of outcome {key.outcome}'s "
                    f"({', '.join(outcome.time_points)})"
                )
            if key.field not in outcome.fields:
                raise InvalidInput(
                    f"{key.field!r} is not a statistic of {outcome.kind} outcome {key.outcome} "
                    f"(use {', '.join(outcome.fields)})"
                )
            if not key.arm:
                raise InvalidInput(f"outcome {key.outcome}'s {key.field} needs an arm (--arm)")
            return STATISTICS[key.field]
        if key.field in self._study:
            if key.arm:
                raise InvalidInput(f"{key.field!r} is a study field: give no arm")
            return self._study[key.field]
        if key.field in self._arm:
            if not key.arm:
                raise InvalidInput(f"{key.field!r} is an arm field: name the arm (--arm)")
            return self._arm[key.field]
        if key.field in STATISTICS:
            raise InvalidInput(f"{key.field!r} is an outcome statistic: name the outcome and time")
        known = ", ".join([*self._study, *self._arm]) or "none"
        raise InvalidInput(f"field {key.field!r} is not on the form (fields: {known})")

    def check_value(self, key: ValueKey, text: str) -> str:
        """The value stored for ``text`` at ``key`` (numbers normalised: "12.50" -> "12.5"),
        or InvalidInput naming the field and the rule broken."""
        try:
            _check_name(key.arm, "arm name")
            return check_field(self.spec(key), text)
        except InvalidInput as error:
            raise InvalidInput(f"{key.describe()}: {error}") from None

    def order(self, key: ValueKey, arm_rank: int = 0) -> tuple[int, int, int, int, int]:
        """Sort key in the form's order: study fields; then each arm's fields (arms by
        ``arm_rank``, e.g. the order they were first entered); then outcomes by time point, each
        arm's statistics together (mean, sd, n / events, total)."""
        ranks = self._ranks
        if not ranks:
            ranks.update({("study", f.key): i for i, f in enumerate(self.fields)})
            ranks.update({("arm", f.key): i for i, f in enumerate(self.arm_fields)})
            for i, o in enumerate(self.outcomes):
                ranks[("outcome", o.key)] = i
                ranks.update({(o.key, t): j for j, t in enumerate(o.time_points)})
            ranks.update({("statistic", f): i for i, f in enumerate(CONTINUOUS_FIELDS)})
            ranks.update({("statistic", f): i for i, f in enumerate(DICHOTOMOUS_FIELDS)})
        field, arm, outcome, time_point = key
        if outcome:
            return (
                2,
                ranks.get(("outcome", outcome), 999),
                ranks.get((outcome, time_point), 999),
                arm_rank,
                ranks.get(("statistic", field), 9),
            )
        if arm:
            return (1, arm_rank, ranks.get(("arm", field), 999), 0, 0)
        return (0, ranks.get(("study", field), 999), 0, 0, 0)


def check_field(spec: FieldSpec, text: str) -> str:
    """The stored form of ``text`` for a field of ``spec`` (see ``Form.check_value``)."""
    value = str(text).strip()
    if value == "":
        raise InvalidInput("no value given")
    kind = spec.type
    if kind in ("text", "long_text"):
        return value
    if kind in ("integer", "number"):
        number = _number(value, integer=kind == "integer")
        if spec.positive and number <= 0:
            raise InvalidInput(f"{spec.label} must be greater than 0, not {value}")
        if spec.minimum is not None and number < spec.minimum:
            raise InvalidInput(f"{value} is below the minimum {_show(spec.minimum)}")
        if spec.maximum is not None and number > spec.maximum:
            raise InvalidInput(f"{value} is above the maximum {_show(spec.maximum)}")
        if kind == "integer" or (number.is_integer() and abs(number) < 1e15):
            return str(int(number))
        return repr(number)
    if kind == "single_choice":
        if value not in spec.choices:
            raise InvalidInput(f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    if kind == "multiple_choice":
        picked = sorted({v.strip() for v in value.split(";") if v.strip()})
        wrong = [v for v in picked if v not in spec.choices]
        if wrong:
            raise InvalidInput(f"{', '.join(wrong)} not among {', '.join(spec.choices)}")
        return "; ".join(picked)
    if kind == "yes_no":
        answer = _YES_NO.get(value.lower())
        if answer is None:
            raise InvalidInput(f"{value!r} is not yes or no")
        return answer
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise InvalidInput(f"unknown field type {kind!r}")


def _number(value: str, *, integer: bool) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not {'an integer' if integer else 'a number'}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{value!r} is not a finite number")
    if integer and not number.is_integer():
        raise InvalidInput(f"{value!r} is not an integer")
    return number


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _check_name(name: str, what: str) -> None:
    if SEPARATOR in name:
        raise InvalidInput(f"{what} {name!r} may not contain {SEPARATOR!r}")


def _string(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise InvalidInput(f"{where}: {key!r} must be a text value")
    return value


def _field(raw: Any, where: str) -> FieldSpec:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: a field must be a table (key = ..., type = ...)")
    key = _string(raw, "key", where)
    where = f"{where} {key!r}"
    _check_name(key, "field key")
    if key in STATISTICS:
        raise InvalidInput(f"{where}: {key!r} is reserved for outcome statistics")
    kind = _string(raw, "type", where, "text")
    if kind not in FIELD_TYPES:
        raise InvalidInput(f"{where}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
    choices = raw.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise InvalidInput(f"{where}: choices must be a list of texts")
    if kind in ("single_choice", "multiple_choice") and not choices:
        raise InvalidInput(f"{where}: a {kind} field needs choices = [...]")
    bounds: list[float | None] = []
    for bound in ("min", "max"):
        value = raw.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInput(f"{where}: {bound} must be a number")
        if value is not None and kind not in ("integer", "number"):
            raise InvalidInput(f"{where}: {bound} applies to integer and number fields only")
        bounds.append(None if value is None else float(value))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise InvalidInput(f"{where}: min is above max")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise InvalidInput(f"{where}: required must be true or false")
    known = {"key", "label", "type", "unit", "min", "max", "choices", "required"}
    extra = sorted(set(raw) - known)
    if extra:
        raise InvalidInput(f"{where}: unknown setting {', '.join(extra)}")
    return FieldSpec(
        key=key,
        label=_string(raw, "label", where, key) or key,
        type=kind,
        unit=_string(raw, "unit", where, ""),
        minimum=bounds[0],
        maximum=bounds[1],
        choices=tuple(choices),
        required=required,
    )


def _outcome(raw: Any, where: str) -> OutcomeSpec:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: an outcome must be a table")
    key = _string(raw, "key", where)
    where = f"{where} {key!r}"
    _check_name(key, "outcome key")
    kind = _string(raw, "kind", where)
    if kind not in OUTCOME_KINDS:
        raise InvalidInput(f"{where}: kind {kind!r} is not one of {', '.join(OUTCOME_KINDS)}")
    direction = _string(raw, "direction", where, "lower_is_better")
    if direction not in DIRECTIONS:
        raise InvalidInput(
            f"{where}: direction {direction!r} is not one of {', '.join(DIRECTIONS)}"
        )
    times = raw.get("time_points")
    if not isinstance(times, list) or not times or not all(isinstance(t, str) for t in times):
        raise InvalidInput(f"{where}: time_points must be a non-empty list of texts")
    if len(set(times)) != len(times):
        raise InvalidInput(f"{where}: a time point is listed twice")
    for t in times:
        _check_name(t, "time point")
    extra = sorted(set(raw) - {"key", "label", "kind", "unit", "direction", "time_points"})
    if extra:
        raise InvalidInput(f"{where}: unknown setting {', '.join(extra)}")
    return OutcomeSpec(
        key=key,
        label=_string(raw, "label", where, key) or key,
        kind=kind,
        unit=_string(raw, "unit", where, ""),
        direction=direction,
        time_points=tuple(times),
    )


def parse_form(text: str, *, source: str = "form") -> Form:
    """Parse and check a form's TOML text; InvalidInput names ``source`` and what is wrong
    (a TOML syntax error with its line and column)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"{source}: not valid TOML: {error}") from None
    try:
        return _build(data, text)
    except InvalidInput as error:
        raise InvalidInput(f"{source}: {error}") from None


def _build(data: dict[str, Any], text: str) -> Form:
    head = data.get("form")
    if not isinstance(head, dict):
        raise InvalidInput("a [form] table with name = ... is required")
    name = _string(head, "name", "[form]")
    extra = sorted(set(data) - {"form", "field", "arms", "outcome"})
    if extra:
        raise InvalidInput(f"unknown table {', '.join(extra)}")
    raw_fields = data.get("field", [])
    if not isinstance(raw_fields, list):
        raise InvalidInput("[[field]] must be an array of tables")
    fields = tuple(_field(f, f"[[field]] {i + 1}") for i, f in enumerate(raw_fields))
    arms = data.get("arms", {})
    if not isinstance(arms, dict) or not isinstance(arms.get("fields", []), list):
        raise InvalidInput("[arms] must hold fields = [...]")
    arm_fields = tuple(
        _field(f, f"[arms] field {i + 1}") for i, f in enumerate(arms.get("fields", []))
    )
    raw_outcomes = data.get("outcome", [])
    if not isinstance(raw_outcomes, list):
        raise InvalidInput("[[outcome]] must be an array of tables")
    outcomes = tuple(_outcome(o, f"[[outcome]] {i + 1}") for i, o in enumerate(raw_outcomes))
    study_keys = [f.key for f in fields]
    arm_keys = [f.key for f in arm_fields]
    for keys, what in (
        (study_keys, "[[field]]"),
        (arm_keys, "[arms]"),
        ([o.key for o in outcomes], "[[outcome]]"),
    ):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise InvalidInput(f"{what}: key {', '.join(twice)} is given twice")
    both = sorted(set(study_keys) & set(arm_keys))
    if both:
        raise InvalidInput(f"key {', '.join(both)} is both a study field and an arm field")
    columns = head.get("characteristics", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput("[form] characteristics must be a list of column names")
    return Form(
        name=name,
        fields=fields,
        arm_fields=arm_fields,
        outcomes=outcomes,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        characteristics=tuple(columns),
    )


def value_id(study: int, member: str, key: ValueKey) -> str:
    """The ledger id of one extractor's value: ``study|member|arm|outcome|time point|field``."""
    return SEPARATOR.join((str(study), member, key.arm, key.outcome, key.time_point, key.field))


def consensus_id(study: int, key: ValueKey) -> str:
    """The ledger id of one consensus value: ``study|arm|outcome|time point|field``."""
    return SEPARATOR.join((str(study), key.arm, key.outcome, key.time_point, key.field))


__all__ = [
    "CONTINUOUS_FIELDS",
    "DICHOTOMOUS_FIELDS",
    "FIELD_TYPES",
    "SOURCE_KINDS",
    "FieldSpec",
    "Form",
    "OutcomeSpec",
    "ValueKey",
    "check_field",
    "consensus_id",
    "parse_form",
    "value_id",
]
