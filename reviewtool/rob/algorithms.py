"""The published risk-of-bias algorithms: RoB 2 domain and overall judgements, RoB 1 overall rules.

Pure functions over plain mappings; no database. Sources (``shared/spec/rob_prisma.md``):

- **RoB 2 domains** (spec §2.2): the decision diagrams of the RoB 2 guidance of 22 Aug 2019 for
  individually randomized parallel-group trials, as transcribed by the corates decision diagrams
  and the eagent question bank, and summarised in Handbook v6 ch. 8 and PMC8191126 Table 2.
  ``Y`` and ``PY`` count the same, as do ``N`` and ``PN``.
- **RoB 2 overall** (spec §2.3): Low if every domain is Low; High if any is High; otherwise Some
  concerns. The guidance also allows High for "Some concerns in multiple domains in a way that
  substantially lowers confidence in the result"; that is a reviewer's judgement, so by default it
  is **not** automated: the reviewer records it as an override with a justification. A review may
  instead set a threshold (``escalate_at``, e.g. 3 domains with Some concerns → High); the spec
  marks that threshold as our own parameter, not part of RoB 2, and the result names the rule used.
- **RoB 1 overall** (spec §1.5): RoB 1 has no official overall score, so the overall rating is a
  rule chosen by the review (setting ``rob1.overall_rule``); see :data:`ROB1_OVERALL_RULES`. The
  default is ``"worst_domain"`` (spec §1.5 V2; the spec recommends defaulting to V1 or V2, and V2 is
  the one that needs no further choice by the team). The seed review's "3 high-quality, 7
  moderate-quality, 2 low-quality studies" (seed paper, Results, "Quality assessment of included
  studies") are the labels of ``"count_unmet"`` (spec §1.5 V3); the paper does not state its rule.

Completeness: a RoB 2 domain has a judgement only when every question asked (given the answers so
far) has an answer; otherwise the result is *incomplete* and names the unanswered questions. An
``NA`` answer to a question that *is* asked counts as unanswered, except for variant 2b's
"[If applicable]" questions 2.3-2.5, whose flowchart branches name NA explicitly. Answers to
questions that are not asked are ignored; unless they are ``NA``, a warning says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from reviewtool.errors import InvalidInput
from reviewtool.rob.tools import (
    EFFECT_ADHERING,
    EFFECT_ASSIGNMENT,
    NO,
    ROB1_DOMAINS,
    ROB1_JUDGEMENT_ORDER,
    ROB2_DOMAIN_BY_ID,
    ROB2_DOMAIN_CODES,
    ROB2_JUDGEMENT_ORDER,
    YES,
    Rob1Judgement,
    Rob2Domain,
    Rob2Judgement,
    parse_rob1_judgement,
    parse_rob2_judgement,
    rob1_domain,
    rob2_domains,
)

LOW = Rob2Judgement.LOW
SOME = Rob2Judgement.SOME_CONCERNS
HIGH = Rob2Judgement.HIGH

INCOMPLETE = "incomplete"
"""The status of a judgement that cannot be made yet because answers are missing."""

# Questions whose NA answer the algorithm reads as a branch even when they are asked (spec §2.2,
# "Handling NA": the 2b flowchart labels "NA/Y/PY" for 2.3 and "both NA/N/PN" for 2.4 and 2.5).
_NA_IS_AN_ANSWER: Mapping[str, frozenset[str]] = {"D2b": frozenset({"2.3", "2.4", "2.5"})}


# ---------------------------------------------------------------------------------------------
# RoB 2 domains


@dataclass(frozen=True)
class Rob2Result:
    """The algorithm's judgement of one RoB 2 domain for one result.

    ``judgement`` is ``None`` when answers are missing; ``missing`` then lists the asked questions
    without a usable answer, in question order. ``path`` lists the questions the algorithm read,
    in the order it read them (empty when incomplete). ``warnings`` are one-line notes about
    answers that were ignored (given to questions that are not asked, or NA to an asked question).
    """

    domain_id: str
    judgement: Rob2Judgement | None
    missing: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when the algorithm gave a judgement."""
        return self.judgement is not None

    @property
    def status(self) -> str:
        """The judgement's text, or ``"incomplete"``."""
        return INCOMPLETE if self.judgement is None else self.judgement.value

    def describe(self) -> str:
        """One line for people: "Low" or "incomplete: answer 1.2, 1.3"."""
        if self.judgement is not None:
            return self.judgement.value
        return f"{INCOMPLETE}: answer {', '.join(self.missing)}"


class _Reader:
    """Gives the algorithm the effective answer to a question and records the path."""

    def __init__(self, domain_id: str, effective: Mapping[str, str]) -> None:
        self.domain_id = domain_id
        self.effective = effective
        self.path: list[str] = []

    def __call__(self, question_id: str) -> str:
        self.path.append(question_id)
        value = self.effective.get(question_id)
        # validate_answers/the completeness check guarantee an answer here; a None would mean the
        # pseudocode reads a question the tool's conditions do not ask, which the tests rule out.
        if value is None:  # pragma: no cover - guarded by the completeness check
            raise AssertionError(f"{self.domain_id} read unanswered question {question_id}")
        return value


def _worst(*judgements: Rob2Judgement) -> Rob2Judgement:
    return max(judgements, key=ROB2_JUDGEMENT_ORDER.index)


def _d1(a: Callable[[str], str]) -> Rob2Judgement:
    q12 = a("1.2")
    if q12 in NO:
        return HIGH
    if q12 in YES:
        if a("1.1") in NO:
            return SOME
        return SOME if a("1.3") in YES else LOW
    # 1.2 is NI
    return HIGH if a("1.3") in YES else SOME


def _d2a_part1(a: Callable[[str], str]) -> Rob2Judgement:
    q21, q22 = a("2.1"), a("2.2")
    if q21 in NO and q22 in NO:
        return LOW
    q23 = a("2.3")
    if q23 in NO:
        return LOW
    if q23 == "NI":
        return SOME
    if a("2.4") in NO:
        return SOME
    return SOME if a("2.5") in YES else HIGH


def _d2a_part2(a: Callable[[str], str]) -> Rob2Judgement:
    if a("2.6") in YES:
        return LOW
    return SOME if a("2.7") in NO else HIGH


def _d2a(a: Callable[[str], str]) -> Rob2Judgement:
    return _worst(_d2a_part1(a), _d2a_part2(a))


def _d2b(a: Callable[[str], str]) -> Rob2Judgement:
    q21, q22 = a("2.1"), a("2.2")
    check_26 = False
    if not (q21 in NO and q22 in NO) and a("2.3") not in YES | {"NA"}:
        check_26 = True
    if not check_26:
        q24, q25 = a("2.4"), a("2.5")
        if q24 in NO | {"NA"} and q25 in NO | {"NA"}:
            return LOW
    return SOME if a("2.6") in YES else HIGH


def _d3(a: Callable[[str], str]) -> Rob2Judgement:
    if a("3.1") in YES:
        return LOW
    if a("3.2") in YES:
        return LOW
    if a("3.3") in NO:
        return LOW
    return SOME if a("3.4") in NO else HIGH


def _d4(a: Callable[[str], str]) -> Rob2Judgement:
    if a("4.1") in YES:
        return HIGH
    q42 = a("4.2")
    if q42 in YES:
        return HIGH
    base = LOW if q42 in NO else SOME
    if a("4.3") in NO:
        return base
    if a("4.4") in NO:
        return base
    return SOME if a("4.5") in NO else HIGH


def _d5(a: Callable[[str], str]) -> Rob2Judgement:
    q52, q53 = a("5.2"), a("5.3")
    if q52 in YES or q53 in YES:
        return HIGH
    if q52 == "NI" or q53 == "NI":
        return SOME
    return LOW if a("5.1") in YES else SOME


_ALGORITHMS: Mapping[str, Callable[[Callable[[str], str]], Rob2Judgement]] = {
    "D1": _d1,
    "D2a": _d2a,
    "D2b": _d2b,
    "D3": _d3,
    "D4": _d4,
    "D5": _d5,
}


def _domain(domain_id: str) -> Rob2Domain:
    try:
        return ROB2_DOMAIN_BY_ID[domain_id]
    except KeyError:
        raise InvalidInput(
            f"{domain_id!r} is not a RoB 2 domain; use one of {', '.join(ROB2_DOMAIN_BY_ID)}"
        ) from None


def validate_answers(domain_id: str, answers: Mapping[str, str]) -> None:
    """Check that every answer to this domain's questions is one the question allows.

    Keys that are not questions of the domain are ignored. Raises ``InvalidInput`` naming the
    domain, the question, the answer and the allowed answers (e.g. 3.2 has no ``NI``).
    """
    domain = _domain(domain_id)
    for q in domain.questions:
        value = answers.get(q.id)
        if value is not None and value not in q.answers:
            raise InvalidInput(
                f"{domain_id} question {q.id}: {value!r} is not an allowed answer "
                f"(allowed: {', '.join(q.answers)})"
            )


def rob2_domain_judgement(domain_id: str, answers: Mapping[str, str]) -> Rob2Result:
    """Apply a RoB 2 domain's published algorithm to the signalling-question answers.

    ``domain_id``: ``"D1"``, ``"D2a"`` (effect of assignment), ``"D2b"`` (effect of adhering),
    ``"D3"``, ``"D4"`` or ``"D5"``. ``answers``: question id → answer code (``Y``, ``PY``, ``PN``,
    ``N``, ``NI``, ``NA``); for D2b also ``"deviations"`` → the ``;``-separated deviations addressed
    (see :data:`reviewtool.rob.tools.ROB2_PRELIMINARY`). A missing key is "not answered".

    Returns a :class:`Rob2Result`: Low / Some concerns / High with the path read, or incomplete
    naming every asked question still unanswered. Raises ``InvalidInput`` for an unknown domain or
    an answer the question does not allow. Algorithms: spec §2.2 (module docstring).
    """
    domain = _domain(domain_id)
    validate_answers(domain_id, answers)
    effective: dict[str, str] = {k: v for k, v in answers.items()}
    na_ok = _NA_IS_AN_ANSWER.get(domain_id, frozenset())
    missing: list[str] = []
    warnings: list[str] = []
    for q in domain.questions:
        given = answers.get(q.id)
        if not q.asked(effective):
            if given is not None and given != "NA":
                warnings.append(
                    f"{q.id} is not asked (asked when {q.condition.text}); "
                    f"its answer {given} is ignored"
                )
            effective[q.id] = "NA"
            continue
        if given is None:
            missing.append(q.id)
        elif given == "NA" and q.id not in na_ok:
            missing.append(q.id)
            warnings.append(f"{q.id} is asked ({q.condition.text}), so NA is not an answer")
            del effective[q.id]
    if missing:
        return Rob2Result(domain_id, None, tuple(missing), (), tuple(warnings))
    reader = _Reader(domain_id, effective)
    judgement = _ALGORITHMS[domain_id](reader)
    return Rob2Result(domain_id, judgement, (), tuple(reader.path), tuple(warnings))


# ---------------------------------------------------------------------------------------------
# RoB 2 overall

ROB2_OVERALL_WORST = "worst_domain"
"""Overall = worst domain (spec §2.3); escalation for several Some concerns is left to the reviewer."""


@dataclass(frozen=True)
class Rob2Overall:
    """The algorithm's overall RoB 2 judgement for one result.

    ``rule`` names the rule: ``"worst_domain"`` or ``"worst_domain+escalate_at_N"``. ``missing``
    lists the domain codes (D1-D5) without a judgement, in order; ``judgement`` is then ``None``.
    ``escalated`` is true when the threshold turned Some concerns into High.
    ``some_concerns`` counts the domains judged Some concerns.
    """

    judgement: Rob2Judgement | None
    rule: str
    missing: tuple[str, ...] = ()
    escalated: bool = False
    some_concerns: int = 0

    @property
    def status(self) -> str:
        """The judgement's text, or ``"incomplete"``."""
        return INCOMPLETE if self.judgement is None else self.judgement.value


def rob2_overall_rule_name(escalate_at: int | None = None) -> str:
    """The name stored with an overall judgement for this escalation setting."""
    if escalate_at is None:
        return ROB2_OVERALL_WORST
    return f"{ROB2_OVERALL_WORST}+escalate_at_{escalate_at}"


def _as_rob2(value: Rob2Judgement | str | Rob2Result | None) -> Rob2Judgement | None:
    if value is None:
        return None
    if isinstance(value, Rob2Result):
        return value.judgement
    if isinstance(value, Rob2Judgement):
        return value
    if value == INCOMPLETE:
        return None
    try:
        return parse_rob2_judgement(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def rob2_overall(
    domain_judgements: Mapping[str, Rob2Judgement | str | Rob2Result | None],
    *,
    escalate_at: int | None = None,
) -> Rob2Overall:
    """Overall RoB 2 judgement from the five domain judgements (spec §2.3).

    ``domain_judgements``: domain → judgement, keyed by code ``"D1"`` … ``"D5"`` (``"D2a"`` and
    ``"D2b"`` count as ``"D2"``); values may be judgements, their text, ``Rob2Result``\\ s, ``None``
    or ``"incomplete"``. Use the *final* domain judgements (after any reviewer override).

    Low if all five are Low; High if any is High; otherwise Some concerns. With ``escalate_at = k``
    (k ≥ 2), Some concerns in k or more domains gives High: the guidance's "Some concerns in
    multiple domains in a way that substantially lowers confidence", automated at a threshold the
    review chose (not part of RoB 2). Without it (the default) that escalation is the reviewer's
    override. Missing domains give an incomplete result naming them. Raises ``InvalidInput`` for an
    unknown domain key, a value that is not a judgement, or ``escalate_at < 2``.
    """
    if escalate_at is not None and escalate_at < 2:
        raise InvalidInput(f"escalate_at must be at least 2 (multiple domains), not {escalate_at}")
    by_code: dict[str, Rob2Judgement | None] = {}
    for key, value in domain_judgements.items():
        code = "D2" if key in ("D2a", "D2b") else key
        if code not in ROB2_DOMAIN_CODES:
            raise InvalidInput(f"{key!r} is not a RoB 2 domain; use D1, D2, D3, D4 or D5")
        by_code[code] = _as_rob2(value)
    rule = rob2_overall_rule_name(escalate_at)
    missing = tuple(c for c in ROB2_DOMAIN_CODES if by_code.get(c) is None)
    if missing:
        return Rob2Overall(None, rule, missing)
    values = [j for j in by_code.values() if j is not None]
    worst = _worst(*values)
    some = sum(1 for j in values if j is SOME)
    if worst is SOME and escalate_at is not None and some >= escalate_at:
        return Rob2Overall(HIGH, rule, (), True, some)
    return Rob2Overall(worst, rule, (), False, some)


@dataclass(frozen=True)
class Rob2Assessment:
    """The algorithm's judgements of all five domains of one result, and overall."""

    effect_of_interest: str
    domains: tuple[Rob2Result, ...]
    overall: Rob2Overall


def rob2_assessment(
    answers: Mapping[str, str], *, escalate_at: int | None = None
) -> Rob2Assessment:
    """Run every domain's algorithm and the overall rule on one result's answers.

    ``answers`` holds all signalling-question answers and the preliminary considerations
    (``"effect_of_interest"``: ``"assignment"`` (default when absent) or ``"adhering"``;
    ``"deviations"`` for the latter). The same question id (e.g. ``"2.1"``) belongs to the domain
    2 variant of the chosen effect. Raises ``InvalidInput`` as :func:`rob2_domain_judgement`.
    """
    effect = answers.get("effect_of_interest") or EFFECT_ASSIGNMENT
    if effect not in (EFFECT_ASSIGNMENT, EFFECT_ADHERING):
        raise InvalidInput(
            f"effect_of_interest must be {EFFECT_ASSIGNMENT!r} or {EFFECT_ADHERING!r}, not {effect!r}"
        )
    results = tuple(rob2_domain_judgement(d.id, answers) for d in rob2_domains(effect))
    overall = rob2_overall(
        {d.code: r for d, r in zip(rob2_domains(effect), results, strict=True)},
        escalate_at=escalate_at,
    )
    return Rob2Assessment(effect, results, overall)


# ---------------------------------------------------------------------------------------------
# RoB 1 overall


@dataclass(frozen=True)
class Rob1OverallRule:
    """A rule that turns RoB 1 domain judgements into one overall study rating (spec §1.5).

    ``kind``: ``"worst"`` (worst of ``domains``), ``"count_unmet"`` (count domains not Low),
    ``"count_low"`` (count domains Low). ``domains`` are the domain letters the rule reads (all
    seven, or the key domains). ``levels`` are the ratings from best to worst; ``risk`` maps each
    to the RoB 1 risk level it stands for (used to colour it and for "exclude high risk").
    ``thresholds`` (count rules): for ``count_unmet`` the largest unmet count still rated
    ``levels[0]``, then ``levels[1]``; for ``count_low`` the smallest low count rated ``levels[0]``,
    then ``levels[1]``. ``source`` cites where the rule comes from.
    """

    name: str
    kind: str
    domains: tuple[str, ...]
    levels: tuple[str, str, str]
    description: str
    source: str
    thresholds: tuple[int, int] = (0, 0)
    risk: tuple[Rob1Judgement, Rob1Judgement, Rob1Judgement] = (
        Rob1Judgement.LOW,
        Rob1Judgement.UNCLEAR,
        Rob1Judgement.HIGH,
    )


_ALL = tuple(d.id for d in ROB1_DOMAINS)
_RISK_LEVELS = ("Low", "Unclear", "High")

ROB1_KEY_DOMAINS_DEFAULT: tuple[str, ...] = ("A", "B", "C", "D")
"""Default key domains: sequence generation, allocation concealment and both blinding domains.

Spec §1.5 V6 (the common shortcut: "sequence generation, allocation concealment and blinding");
Handbook 5.1 Table 8.7.a leaves the choice to the review team, so it is a parameter.
"""

ROB1_OVERALL_RULES: Mapping[str, Rob1OverallRule] = {
    rule.name: rule
    for rule in (
        Rob1OverallRule(
            name="worst_domain",
            kind="worst",
            domains=_ALL,
            levels=_RISK_LEVELS,
            description=(
                "Worst domain over all seven: all Low -> Low; any High -> High; otherwise Unclear."
            ),
            source="spec rob_prisma.md §1.5 V2 (worst-domain rule used in published reviews)",
        ),
        Rob1OverallRule(
            name="key_domains",
            kind="worst",
            domains=ROB1_KEY_DOMAINS_DEFAULT,
            levels=_RISK_LEVELS,
            description=(
                "Key domains only: Low in all key domains -> Low; High in any key domain -> "
                "High; otherwise Unclear."
            ),
            source=(
                "Cochrane Handbook 5.1 Table 8.7.a (spec §1.5 V1); default key domains A-D "
                "from spec §1.5 V6"
            ),
        ),
        Rob1OverallRule(
            name="count_unmet",
            kind="count_unmet",
            domains=_ALL,
            levels=("high quality", "moderate quality", "low quality"),
            thresholds=(1, 3),
            description=(
                "Count the domains not judged Low ('criteria not fulfilled'): 0-1 -> high "
                "quality; 2-3 -> moderate quality; more than 3 -> low quality."
            ),
            source=(
                "spec rob_prisma.md §1.5 V3 (count of unmet criteria, one published example); "
                "the labels of the seed review's 'high / moderate / low quality'"
            ),
        ),
        Rob1OverallRule(
            name="count_low",
            kind="count_low",
            domains=_ALL,
            levels=("good", "fair", "poor"),
            thresholds=(3, 2),
            description=(
                "Count the domains judged Low: at least 3 -> good; exactly 2 -> fair; fewer -> "
                "poor (thresholds configurable; some papers use 4 of 7 for the best level)."
            ),
            source="spec rob_prisma.md §1.5 V4 (count of low-risk domains, one published example)",
        ),
    )
}
"""The selectable RoB 1 overall rules by name (the values of the ``rob1.overall_rule`` setting)."""

ROB1_OVERALL_DEFAULT = "worst_domain"
"""Default ``rob1.overall_rule``: spec §1.5 says to default to V1 or V2; V2 needs no key domains."""


def rob1_overall_rule(
    name: str = ROB1_OVERALL_DEFAULT,
    *,
    key_domains: Sequence[str] | None = None,
    thresholds: tuple[int, int] | None = None,
) -> Rob1OverallRule:
    """The named rule, with the review's key domains or thresholds if given.

    ``key_domains`` (only for ``"key_domains"``): letters or names of RoB 1 domains. ``thresholds``
    (only for the count rules): see :class:`Rob1OverallRule`. Raises ``InvalidInput`` naming the
    rules for an unknown name, and for parameters the rule does not take or that are impossible.
    """
    try:
        rule = ROB1_OVERALL_RULES[name]
    except KeyError:
        raise InvalidInput(
            f"{name!r} is not a RoB 1 overall rule; use one of {', '.join(ROB1_OVERALL_RULES)}"
        ) from None
    if key_domains is not None:
        if rule.name != "key_domains":
            raise InvalidInput(f"rule {name} does not take key domains")
        try:
            letters = tuple(dict.fromkeys(rob1_domain(k).id for k in key_domains))
        except KeyError as exc:
            raise InvalidInput(str(exc.args[0])) from None
        if not letters:
            raise InvalidInput("key_domains needs at least one domain")
        rule = replace(rule, domains=tuple(d for d in _ALL if d in letters))
    if thresholds is not None:
        first, second = thresholds
        if rule.kind == "count_unmet" and not 0 <= first <= second < len(rule.domains):
            raise InvalidInput(
                f"count_unmet thresholds must satisfy 0 <= first <= second < 7, not {thresholds}"
            )
        if rule.kind == "count_low" and not 0 < second <= first <= len(rule.domains):
            raise InvalidInput(
                f"count_low thresholds must satisfy 0 < second <= first <= 7, not {thresholds}"
            )
        if rule.kind not in ("count_unmet", "count_low"):
            raise InvalidInput(f"rule {name} does not take thresholds")
        rule = replace(rule, thresholds=(first, second))
    return rule


@dataclass(frozen=True)
class Rob1Overall:
    """An overall RoB 1 study rating and how it was reached.

    ``judgement`` is one of the rule's ``levels`` (e.g. ``"High"`` or ``"moderate quality"``), or
    ``None`` when domains the rule needs are missing (listed in ``missing``). ``rule`` is the rule's
    name; ``rank`` 0 (best) to 2 (worst); ``risk`` the RoB 1 level it stands for; ``count`` the
    number the count rules counted (unmet or low domains).
    """

    judgement: str | None
    rule: str
    rank: int | None = None
    risk: Rob1Judgement | None = None
    missing: tuple[str, ...] = ()
    count: int | None = None

    @property
    def status(self) -> str:
        """The judgement, or ``"incomplete"``."""
        return INCOMPLETE if self.judgement is None else self.judgement


def _as_rob1(
    domain: str, value: str | Rob1Judgement | Sequence[str] | None
) -> Rob1Judgement | None:
    if value is None:
        return None
    if isinstance(value, Rob1Judgement):
        return value
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        return None
    parsed: list[Rob1Judgement] = []
    for item in items:
        try:
            parsed.append(
                item if isinstance(item, Rob1Judgement) else parse_rob1_judgement(str(item))
            )
        except ValueError as exc:
            raise InvalidInput(f"domain {domain}: {exc}") from None
    return max(parsed, key=ROB1_JUDGEMENT_ORDER.index)


def rob1_overall(
    judgements: Mapping[str, str | Rob1Judgement | Sequence[str] | None],
    rule: str | Rob1OverallRule = ROB1_OVERALL_DEFAULT,
) -> Rob1Overall:
    """Overall RoB 1 study rating under a rule from :data:`ROB1_OVERALL_RULES`.

    ``judgements``: domain (letter A-G, RevMan label, name or robvis header) → ``Low`` /
    ``Unclear`` / ``High``. A domain judged per outcome group may map to a sequence of
    judgements, or appear once per group under RevMan's suffixed labels (``"Blinding of outcome
    assessment (detection bias): Objective outcomes"``); the worst of them counts (a study-level
    rating must hold for every outcome group; pass one group's judgement to rate one outcome). ``rule``: a rule name or a rule from
    :func:`rob1_overall_rule` (with the review's key domains or thresholds).

    Returns a :class:`Rob1Overall` carrying the rule's name; incomplete (naming the missing
    letters) when a domain the rule reads has no judgement. Raises ``InvalidInput`` for an unknown
    rule or domain, or a value that is not a RoB 1 judgement.
    """
    chosen = rule if isinstance(rule, Rob1OverallRule) else rob1_overall_rule(rule)
    by_letter: dict[str, Rob1Judgement | None] = {}
    for key, value in judgements.items():
        try:
            letter = rob1_domain(key).id
        except KeyError as exc:
            raise InvalidInput(str(exc.args[0])) from None
        judgement = _as_rob1(letter, value)
        earlier = by_letter.get(letter)
        if letter in by_letter and (earlier is None or judgement is None):
            by_letter[letter] = None  # one outcome group not judged yet: the domain is incomplete
        elif earlier is not None and judgement is not None:
            by_letter[letter] = max(earlier, judgement, key=ROB1_JUDGEMENT_ORDER.index)
        else:
            by_letter[letter] = judgement
    missing = tuple(d for d in chosen.domains if by_letter.get(d) is None)
    if missing:
        return Rob1Overall(None, chosen.name, missing=missing)
    values = [by_letter[d] for d in chosen.domains]
    count: int | None = None
    if chosen.kind == "worst":
        rank = max(ROB1_JUDGEMENT_ORDER.index(v) for v in values if v is not None)
    elif chosen.kind == "count_unmet":
        count = sum(1 for v in values if v is not Rob1Judgement.LOW)
        first, second = chosen.thresholds
        rank = 0 if count <= first else 1 if count <= second else 2
    elif chosen.kind == "count_low":
        count = sum(1 for v in values if v is Rob1Judgement.LOW)
        first, second = chosen.thresholds
        rank = 0 if count >= first else 1 if count >= second else 2
    else:  # pragma: no cover - the rules above are the only kinds
        raise AssertionError(chosen.kind)
    return Rob1Overall(chosen.levels[rank], chosen.name, rank, chosen.risk[rank], (), count)
