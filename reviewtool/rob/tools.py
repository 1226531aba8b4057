"""The Cochrane risk-of-bias tools as data: RoB 1's seven domains and RoB 2's questions.

Pure: no database, no I/O. Everything here is read from ``shared/spec/rob_prisma.md``:

- **RoB 1** (Higgins et al., BMJ 2011;343:d5928; Handbook 5.1 ch. 8; RevMan 5.3), spec §1.1–1.3:
  the seven domains A–G in RevMan's display order and with RevMan's labels, the level at which each
  is judged (study, or outcome / outcome group for C, D and E), and the Handbook 5.1 Table 8.5.d
  criteria for Low / High / Unclear as guidance. Judgements: ``Low`` / ``Unclear`` / ``High`` (RevMan
  shows them as "Low risk", "Unclear risk", "High risk").
- **RoB 2** for individually randomized parallel-group trials (Sterne et al., BMJ 2019;366:l4898,
  guidance of 22 Aug 2019), spec §2.0–2.1: the preliminary considerations, the five domains with
  every signalling question (id, wording, allowed answers, the condition under which it is asked),
  and the two variants of domain 2 (2a: effect of assignment; 2b: effect of adhering). The
  question wording is the spec's short wording; the guidance lines are ours, written from the spec
  (what the question asks, which answers lead where). The algorithms that turn answers into
  judgements are in :mod:`reviewtool.rob.algorithms`.

Conditions
----------
A question's "asked when" rule is a :class:`Condition`: an AND of OR-groups of :class:`Clause`\\ s,
each clause "field's answer is one of these values". Conditions only mention earlier questions of
the same domain and preliminary-consideration fields (RoB 2 variant 2b's "if applicable" questions
depend on which deviations the reviewer chose to address). An answer to a question that is not
asked counts as ``NA``: use :meth:`Rob2Domain.effective_answers` (or :meth:`Rob2Domain.asked`) so
that a stale answer to a question that is no longer asked cannot open a later one.

The answer mapping used everywhere is ``Mapping[str, str]``: question id (``"2.3"``) → answer code
(``"Y"``, ``"PY"``, ``"PN"``, ``"N"``, ``"NI"``, ``"NA"``), plus preliminary-consideration fields by
their ids (``"deviations"`` → ``"non_protocol_interventions;non_adherence"``). A missing key means
"not answered yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# ---------------------------------------------------------------------------------------------
# RoB 1


class Rob1Judgement(StrEnum):
    """A RoB 1 domain judgement (Handbook 5.1 §8.5; RevMan 5 shows "<value> risk")."""

    LOW = "Low"
    """Low risk of bias."""
    UNCLEAR = "Unclear"
    """Unclear risk: reporting insufficient, effect on bias unknown, or the entry does not apply."""
    HIGH = "High"
    """High risk of bias."""

    @property
    def label(self) -> str:
        """RevMan's wording: "Low risk", "Unclear risk", "High risk"."""
        return f"{self.value} risk"


ROB1_JUDGEMENT_ORDER: tuple[Rob1Judgement, ...] = (
    Rob1Judgement.LOW,
    Rob1Judgement.UNCLEAR,
    Rob1Judgement.HIGH,
)
"""Low < Unclear < High: the order "worst" uses."""


def parse_rob1_judgement(text: str) -> Rob1Judgement:
    """Read a RoB 1 judgement as people write it.

    Accepts, case-insensitively and ignoring surrounding spaces: ``Low``/``Low risk``,
    ``Unclear``/``Unclear risk``, ``High``/``High risk`` (and Handbook 5.0's ``Yes`` = low, ``No`` =
    high). Raises ``ValueError`` naming the allowed values otherwise.
    """
    key = " ".join(text.strip().lower().split())
    key = key.removesuffix(" risk of bias").removesuffix(" risk")
    mapping = {
        "low": Rob1Judgement.LOW,
        "yes": Rob1Judgement.LOW,
        "unclear": Rob1Judgement.UNCLEAR,
        "high": Rob1Judgement.HIGH,
        "no": Rob1Judgement.HIGH,
    }
    if key not in mapping:
        raise ValueError(f"{text!r} is not a RoB 1 judgement; use Low, Unclear or High")
    return mapping[key]


@dataclass(frozen=True)
class Rob1Domain:
    """One RoB 1 domain (spec §1.1).

    ``id`` is RevMan's letter (A–G, the forest-plot legend letters); ``label`` RevMan 5's full label,
    e.g. "Random sequence generation (selection bias)"; ``name`` the label without the bias type;
    ``bias`` the bias type; ``per_outcome_group`` whether RevMan lets the judgement be split by
    outcome group (C, D, E; the label then gets a suffix, see :meth:`label_for`). ``robvis_header``
    is the column header of robvis's generic RoB 1 example (``templates/robvis_data_rob1.csv``).
    ``question`` is what the judgement asks; ``low``, ``high``, ``unclear`` the Handbook 5.1
    Table 8.5.d criteria (paraphrased in the spec).
    """

    id: str
    label: str
    name: str
    bias: str
    per_outcome_group: bool
    robvis_header: str
    question: str
    low: str
    high: str
    unclear: str

    def label_for(self, outcome_group: str | None = None) -> str:
        """RevMan's label, with ": <outcome group>" appended when judged per outcome group.

        Raises ``ValueError`` if an outcome group is given for a study-level domain.
        """
        if outcome_group is None:
            return self.label
        if not self.per_outcome_group:
            raise ValueError(f"{self.name} is judged per study, not per outcome group")
        return f"{self.label}: {outcome_group}"


ROB1_DOMAINS: tuple[Rob1Domain, ...] = (
    Rob1Domain(
        id="A",
        label="Random sequence generation (selection bias)",
        name="Random sequence generation",
        bias="selection bias",
        per_outcome_group=False,
        robvis_header="Random.sequence.generation",
        question="Did the allocation sequence have a real random element?",
        low=(
            "A random component is described: random-number table, computer random number "
            "generator, coin toss, shuffled cards or envelopes, dice, drawing lots, minimisation."
        ),
        high=(
            "Non-random or systematic: odd/even date of birth, date or day of admission, record "
            "number; allocation by clinician judgement, participant preference, a laboratory test, "
            "or availability of the intervention."
        ),
        unclear="Not enough information about the sequence generation to judge.",
    ),
    Rob1Domain(
        id="B",
        label="Allocation concealment (selection bias)",
        name="Allocation concealment",
        bias="selection bias",
        per_outcome_group=False,
        robvis_header="Allocation.concealment",
        question=(
            "Could the people enrolling participants have known or foreseen the next assignment?"
        ),
        low=(
            "Central allocation (telephone, web, pharmacy); sequentially numbered drug containers "
            "of identical appearance; sequentially numbered, opaque, sealed envelopes."
        ),
        high=(
            "An open random list; envelopes without safeguards (unsealed, translucent, not "
            "numbered); alternation or rotation; date of birth; case-record number; any other "
            "unconcealed method."
        ),
        unclear=(
            "The method is not described in enough detail (e.g. envelopes mentioned without the "
            "safeguards)."
        ),
    ),
    Rob1Domain(
        id="C",
        label="Blinding of participants and personnel (performance bias)",
        name="Blinding of participants and personnel",
        bias="performance bias",
        per_outcome_group=True,
        robvis_header="Blinding.of.participants.and.personnel",
        question=(
            "Were participants and care staff unaware of the assigned arm? If not, is the outcome "
            "likely to be affected by that lack of blinding?"
        ),
        low=(
            "Blinded and unlikely to be broken; or not blinded but the outcome is unlikely to be "
            "influenced by the lack of blinding."
        ),
        high=(
            "Not blinded or blinding incomplete, and the outcome is likely to be influenced; or "
            "blinding probably broken."
        ),
        unclear="Not enough information, or the study did not address it.",
    ),
    Rob1Domain(
        id="D",
        label="Blinding of outcome assessment (detection bias)",
        name="Blinding of outcome assessment",
        bias="detection bias",
        per_outcome_group=True,
        robvis_header="Blinding.of.outcome.assessment",
        question=(
            "Were outcome assessors blinded? If not, could their knowledge have affected "
            "measurement?"
        ),
        low=(
            "Assessors blinded and blinding unlikely to be broken; or not blinded but measurement "
            "unlikely to be influenced."
        ),
        high="Not blinded and measurement likely influenced; or blinding probably broken.",
        unclear="Not enough information.",
    ),
    Rob1Domain(
        id="E",
        label="Incomplete outcome data (attrition bias)",
        name="Incomplete outcome data",
        bias="attrition bias",
        per_outcome_group=True,
        robvis_header="Incomplete.outcome.data",
        question=(
            "How much outcome data is missing, is it balanced across arms, what are the reasons, "
            "and how was it handled (ITT, imputation)?"
        ),
        low=(
            "No missing data; reasons unlikely to relate to the true outcome; missing data "
            "balanced with similar reasons; missing proportion too small to matter; appropriate "
            "imputation."
        ),
        high=(
            "Reasons likely related to the outcome, with imbalance in numbers or reasons; missing "
            "proportion large enough to cause clinically relevant bias; 'as-treated' analysis with "
            "substantial departure from assignment; inappropriate simple imputation."
        ),
        unclear=(
            "Attrition or exclusions not reported well enough (e.g. number randomised not stated, "
            "no reasons given)."
        ),
    ),
    Rob1Domain(
        id="F",
        label="Selective reporting (reporting bias)",
        name="Selective reporting",
        bias="reporting bias",
        per_outcome_group=False,
        robvis_header="Selective.reporting",
        question="Were all pre-specified or expected outcomes reported in the pre-specified way?",
        low=(
            "Protocol available and all pre-specified outcomes of interest reported as planned; or "
            "no protocol but clearly all expected outcomes reported."
        ),
        high=(
            "Some pre-specified primary outcomes not reported; outcomes reported with unplanned "
            "measures, analyses or subsets; an unplanned primary outcome without justification; a "
            "key outcome reported incompletely (cannot be meta-analysed); an expected key outcome "
            "missing."
        ),
        unclear="Not enough information (most studies end up here).",
    ),
    Rob1Domain(
        id="G",
        label="Other bias",
        name="Other bias",
        bias="other",
        per_outcome_group=False,
        robvis_header="Other.sources.of.bias",
        question=(
            "Anything else that threatens validity, e.g. baseline imbalance, early stopping, "
            "design-specific problems, or (by some groups) funding?"
        ),
        low="The study appears free of other sources of bias.",
        high=(
            "At least one important additional risk (design-specific bias, alleged fraud, extreme "
            "baseline imbalance, etc.)."
        ),
        unclear="A possible risk, but information or rationale is insufficient.",
    ),
)
"""RoB 1's seven domains in RevMan 5's display order (A→G)."""

ROB1_DOMAIN_BY_ID: Mapping[str, Rob1Domain] = {d.id: d for d in ROB1_DOMAINS}


def rob1_domain(key: str) -> Rob1Domain:
    """Find a RoB 1 domain by letter (``"E"``), RevMan label, name or robvis header.

    Case-insensitive. A RevMan label with an outcome group (``"Blinding of outcome assessment
    (detection bias): Objective outcomes"``, see :meth:`Rob1Domain.label_for`) finds its domain
    when the domain may be judged per outcome group. Raises ``KeyError`` naming the domains if
    nothing matches.
    """
    wanted = " ".join(key.strip().lower().split())
    for domain in ROB1_DOMAINS:
        names = (domain.id, domain.label, domain.name, domain.robvis_header)
        if wanted in {n.lower() for n in names}:
            return domain
    for domain in ROB1_DOMAINS:
        if domain.per_outcome_group and wanted.startswith(domain.label.lower() + ":"):
            return domain
    raise KeyError(
        f"{key!r} is not a RoB 1 domain; use one of "
        + ", ".join(f"{d.id} ({d.name})" for d in ROB1_DOMAINS)
    )


# ---------------------------------------------------------------------------------------------
# RoB 2: answers, judgements, directions


class Answer(StrEnum):
    """A RoB 2 signalling-question answer. For the algorithms Y≡PY and N≡PN."""

    Y = "Y"
    """Yes."""
    PY = "PY"
    """Probably yes."""
    PN = "PN"
    """Probably no."""
    N = "N"
    """No."""
    NI = "NI"
    """No information."""
    NA = "NA"
    """Not applicable (only for conditional questions)."""


ANSWER_LABELS: Mapping[str, str] = {
    "Y": "Yes",
    "PY": "Probably yes",
    "PN": "Probably no",
    "N": "No",
    "NI": "No information",
    "NA": "Not applicable",
}

YES: frozenset[str] = frozenset({"Y", "PY"})
NO: frozenset[str] = frozenset({"N", "PN"})
NI: frozenset[str] = frozenset({"NI"})
NA: frozenset[str] = frozenset({"NA"})
FIVE: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI")
"""The answers of a question that is always asked."""
SIX: tuple[str, ...] = ("NA", "Y", "PY", "PN", "N", "NI")
"""The answers of a conditional question (NA first, as the published form lists them)."""


def parse_answer(text: str) -> str:
    """Read an answer code or its words, case-insensitively: ``py``, ``Probably yes`` → ``"PY"``.

    Raises ``ValueError`` naming the allowed codes otherwise.
    """
    key = " ".join(text.strip().lower().replace("_", " ").split())
    for code, label in ANSWER_LABELS.items():
        if key in (code.lower(), label.lower()):
            return code
    if key == "n/a":
        return "NA"
    raise ValueError(f"{text!r} is not an answer; use Y, PY, PN, N, NI or NA")


class Rob2Judgement(StrEnum):
    """A RoB 2 judgement of a domain or of a result overall."""

    LOW = "Low"
    """Low risk of bias."""
    SOME_CONCERNS = "Some concerns"
    """Some concerns."""
    HIGH = "High"
    """High risk of bias."""


ROB2_JUDGEMENT_ORDER: tuple[Rob2Judgement, ...] = (
    Rob2Judgement.LOW,
    Rob2Judgement.SOME_CONCERNS,
    Rob2Judgement.HIGH,
)
"""Low < Some concerns < High: the order "worst" uses (spec §2.3)."""


def parse_rob2_judgement(text: str) -> Rob2Judgement:
    """Read ``Low``/``Low risk``, ``Some concerns``, ``High``/``High risk`` (case-insensitive).

    Raises ``ValueError`` naming the allowed values otherwise.
    """
    key = " ".join(text.strip().lower().split())
    key = key.removesuffix(" risk of bias").removesuffix(" risk")
    for judgement in Rob2Judgement:
        if key == judgement.value.lower():
            return judgement
    raise ValueError(f"{text!r} is not a RoB 2 judgement; use Low, Some concerns or High")


DIRECTIONS: tuple[str, ...] = (
    "NA",
    "Favours experimental",
    "Favours comparator",
    "Towards null",
    "Away from null",
    "Unpredictable",
)
"""The options for the predicted direction of bias, per domain and overall (spec §2)."""


def parse_direction(text: str) -> str:
    """Read a predicted direction of bias (case-insensitive); raise ``ValueError`` otherwise."""
    key = " ".join(text.strip().lower().split())
    for direction in DIRECTIONS:
        if key == direction.lower():
            return direction
    raise ValueError(f"{text!r} is not a direction of bias; use one of {', '.join(DIRECTIONS)}")


# ---------------------------------------------------------------------------------------------
# RoB 2: conditions and questions


@dataclass(frozen=True)
class Clause:
    """ "The answer to ``field`` is one of ``values``".

    With ``includes=True`` the field holds a ``;``-separated selection (a multi-choice preliminary
    field) and the clause holds when any selected item is in ``values``.
    """

    field: str
    values: frozenset[str]
    includes: bool = False

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Whether the clause is true for these answers (a missing answer makes it false)."""
        given = answers.get(self.field)
        if given is None:
            return False
        if self.includes:
            return any(item.strip() in self.values for item in given.split(";"))
        return given in self.values


@dataclass(frozen=True)
class Condition:
    """When a question is asked: every group holds, a group holding when any of its clauses does.

    ``groups == ()`` means "always". ``text`` is the spec's wording, e.g. "Y/PY/NI to 2.1 or 2.2".
    """

    groups: tuple[tuple[Clause, ...], ...] = ()
    text: str = "always"

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Whether the question is asked, given (effective) answers to the fields it refers to."""
        return all(any(c.holds(answers) for c in group) for group in self.groups)

    @property
    def fields(self) -> frozenset[str]:
        """The question ids and preliminary fields the condition reads."""
        return frozenset(c.field for group in self.groups for c in group)


ALWAYS = Condition()


def _on(field: str, values: frozenset[str]) -> Clause:
    return Clause(field, values)


@dataclass(frozen=True)
class Question:
    """One RoB 2 signalling question.

    ``id`` is the published number (``"2.3"``); ``text`` the spec's wording; ``guidance`` our short
    note on what the question asks and where answers lead; ``answers`` the allowed codes (a
    conditional question also allows ``NA``; 3.2 has no ``NI``); ``condition`` when it is asked;
    ``yes_means_risk`` whether Y/PY points towards more risk (spec §2.1 note; for UI colouring).
    """

    id: str
    text: str
    guidance: str
    answers: tuple[str, ...]
    condition: Condition
    yes_means_risk: bool

    def asked(self, answers: Mapping[str, str]) -> bool:
        """Whether the question is asked given the answers so far.

        ``answers`` should be *effective* answers (questions not asked count as ``NA``; see
        :meth:`Rob2Domain.effective_answers`), otherwise a stale answer to an earlier question that
        is no longer asked can open this one.
        """
        return self.condition.holds(answers)

    @property
    def conditional(self) -> bool:
        """True when the question is not always asked."""
        return bool(self.condition.groups)


@dataclass(frozen=True)
class Rob2Domain:
    """One RoB 2 domain (or domain 2's variant) with its signalling questions in order.

    ``id`` is ``"D1"``, ``"D2a"`` (effect of assignment), ``"D2b"`` (effect of adhering), ``"D3"``,
    ``"D4"`` or ``"D5"``; ``code`` the robvis column (``"D1"`` … ``"D5"``; both D2 variants are
    ``"D2"``); ``name`` the full domain name as robvis's summary plot writes it.
    """

    id: str
    code: str
    name: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        """The question with this id; ``KeyError`` naming the domain's questions otherwise."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(
            f"{self.id} has no question {question_id!r}; its questions are "
            + ", ".join(q.id for q in self.questions)
        )

    def effective_answers(self, answers: Mapping[str, str]) -> dict[str, str]:
        """The answers with every question that is not asked set to ``"NA"``.

        Walks the questions in order, deciding each one's condition on the effective answers of
        the earlier ones. Asked questions keep their answer, or stay absent when unanswered. Keys
        that are not questions of this domain (preliminary fields, other domains) are kept.
        """
        effective = dict(answers)
        for q in self.questions:
            if not q.asked(effective):
                effective[q.id] = "NA"
        return effective

    def asked(self, answers: Mapping[str, str]) -> tuple[Question, ...]:
        """The questions asked given these answers (raw answers; made effective here)."""
        effective = dict(answers)
        asked: list[Question] = []
        for q in self.questions:
            if q.asked(effective):
                asked.append(q)
            else:
                effective[q.id] = "NA"
        return tuple(asked)


# Preliminary considerations (spec §2.0) -------------------------------------------------------

DESIGN_PARALLEL = "individually randomized parallel-group"
DESIGN_CLUSTER = "cluster-randomized parallel-group"
DESIGN_CROSSOVER = "individually randomized cross-over (or other matched)"

EFFECT_ASSIGNMENT = "assignment"
EFFECT_ADHERING = "adhering"

DEVIATION_NON_PROTOCOL = "non_protocol_interventions"
DEVIATION_IMPLEMENTATION = "implementation_failures"
DEVIATION_NON_ADHERENCE = "non_adherence"


@dataclass(frozen=True)
class PreliminaryField:
    """One preliminary-consideration field of RoB 2 (spec §2.0).

    ``kind`` is ``"text"`` (free text), ``"choice"`` (one of ``choices``) or ``"multi"`` (any
    number of ``choices``, stored ``;``-separated). ``choice_labels`` give the words for display.
    ``condition`` says when the field applies.
    """

    id: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    condition: Condition = ALWAYS
    required: bool = True


ROB2_PRELIMINARY: tuple[PreliminaryField, ...] = (
    PreliminaryField(
        "design",
        "Study design",
        "choice",
        (DESIGN_PARALLEL, DESIGN_CLUSTER, DESIGN_CROSSOVER),
        (
            "Individually randomized parallel-group trial",
            "Cluster-randomized parallel-group trial",
            "Individually randomized cross-over (or other matched) trial",
        ),
    ),
    PreliminaryField("experimental", "Experimental intervention", "text"),
    PreliminaryField("comparator", "Comparator intervention", "text"),
    PreliminaryField("outcome", "Outcome being assessed", "text"),
    PreliminaryField(
        "numerical_result",
        "Numerical result being assessed (e.g. 'RR 1.52 (95% CI 0.83-2.77)', or a table/figure)",
        "text",
    ),
    PreliminaryField(
        "effect_of_interest",
        "Effect of interest",
        "choice",
        (EFFECT_ASSIGNMENT, EFFECT_ADHERING),
        (
            "Effect of assignment to intervention (intention-to-treat effect)",
            "Effect of adhering to intervention (per-protocol effect)",
        ),
    ),
    PreliminaryField(
        "deviations",
        "Deviations from intended interventions to address (at least one)",
        "multi",
        (DEVIATION_NON_PROTOCOL, DEVIATION_IMPLEMENTATION, DEVIATION_NON_ADHERENCE),
        (
            "Occurrence of non-protocol interventions",
            "Failures in implementing the intervention that could have affected the outcome",
            "Non-adherence to the assigned intervention by trial participants",
        ),
        condition=Condition(
            ((_on("effect_of_interest", frozenset({EFFECT_ADHERING})),),),
            "effect of interest is adhering",
        ),
    ),
    PreliminaryField(
        "sources",
        "Sources of information used",
        "multi",
        (
            "journal_article",
            "trial_protocol",
            "statistical_analysis_plan",
            "non_commercial_registry",
            "company_registry",
            "grey_literature",
            "conference_abstract",
            "regulatory_document",
            "ethics_application",
            "grant_database",
            "communication_trialist",
            "communication_sponsor",
        ),
        (
            "Journal article(s)",
            "Trial protocol",
            "Statistical analysis plan (SAP)",
            "Non-commercial trial registry record (e.g. ClinicalTrials.gov record)",
            "Company-owned trial registry record (e.g. GSK Clinical Study Register record)",
            "Grey literature (e.g. unpublished thesis)",
            "Conference abstract(s) about the trial",
            "Regulatory document (e.g. Clinical Study Report, Drug Approval Package)",
            "Research ethics application",
            "Grant database summary (e.g. NIH RePORTER or Research Councils UK Gateway to Research)",
            "Personal communication with trialist",
            "Personal communication with the sponsor",
        ),
        required=False,
    ),
)
"""RoB 2's preliminary considerations, in the published form's order."""


# The questions ------------------------------------------------------------------------------

_YES_NI = YES | NI
_NO_NI = NO | NI


def _q(
    qid: str,
    text: str,
    guidance: str,
    *,
    yes_means_risk: bool,
    condition: Condition = ALWAYS,
    answers: tuple[str, ...] | None = None,
) -> Question:
    if answers is None:
        answers = SIX if condition.groups else FIVE
    return Question(qid, text, guidance, answers, condition, yes_means_risk)


_D1 = Rob2Domain(
    id="D1",
    code="D1",
    name="Bias arising from the randomization process",
    questions=(
        _q(
            "1.1",
            "Was the allocation sequence random?",
            "Y/PY if a random component is described (computer-generated numbers, random-number "
            "table, minimization, coin toss, shuffled cards or envelopes, throwing dice, drawing "
            "lots). N/PN for a systematic method (alternation, dates, record numbers). NI if only "
            "'randomized' is stated without detail.",
            yes_means_risk=False,
        ),
        _q(
            "1.2",
            "Was the allocation sequence concealed until participants were enrolled and assigned "
            "to interventions?",
            "Y/PY for a remote or centrally administered method (web, phone, pharmacy) or "
            "sequentially numbered, sealed, opaque envelopes or identical containers. N/PN if "
            "recruiters could foresee assignments (open list, unsealed envelopes, alternation). "
            "NI if not described. N/PN here alone makes the domain High.",
            yes_means_risk=False,
        ),
        _q(
            "1.3",
            "Did baseline differences between intervention groups suggest a problem with the "
            "randomization process?",
            "Y/PY if imbalances are larger than chance would explain, or baseline differences in "
            "size or prognostic factors point to a subverted allocation. N/PN if baseline "
            "characteristics are compatible with chance. NI if no baseline data are reported.",
            yes_means_risk=True,
        ),
    ),
)

_AWARE_PARTICIPANTS = _q(
    "2.1",
    "Were participants aware of their assigned intervention during the trial?",
    "Y/PY if participants were not blinded or blinding was likely broken (e.g. by obvious side "
    "effects). N/PN if participants were effectively blinded.",
    yes_means_risk=True,
)
_AWARE_CARERS = _q(
    "2.2",
    "Were carers and people delivering the interventions aware of participants' assigned "
    "intervention during the trial?",
    "Y/PY if carers or those delivering the interventions knew the assignment (e.g. surgery "
    "versus drug). N/PN if they were effectively blinded.",
    yes_means_risk=True,
)
_AWARE_ANY = (_on("2.1", _YES_NI), _on("2.2", _YES_NI))

_D2A = Rob2Domain(
    id="D2a",
    code="D2",
    name="Bias due to deviations from intended interventions",
    questions=(
        _AWARE_PARTICIPANTS,
        _AWARE_CARERS,
        _q(
            "2.3",
            "Were there deviations from the intended intervention that arose because of the "
            "trial context?",
            "Asked if participants or carers were (or may have been) aware. Y/PY for deviations "
            "that would not happen outside the trial (e.g. extra co-interventions or switching "
            "prompted by knowing the assignment). Deviations that reflect usual practice do not "
            "count. NI makes the part 'Some concerns'.",
            yes_means_risk=True,
            condition=Condition((_AWARE_ANY,), "Y/PY/NI to 2.1 or 2.2"),
        ),
        _q(
            "2.4",
            "Were these deviations likely to have affected the outcome?",
            "Asked if 2.3 is Y/PY. Y/PY if the deviations could change the outcome; N/PN leads "
            "to 'Some concerns'.",
            yes_means_risk=True,
            condition=Condition(((_on("2.3", YES),),), "Y/PY to 2.3"),
        ),
        _q(
            "2.5",
            "Were these deviations from intended intervention balanced between groups?",
            "Asked if 2.4 is Y/PY/NI. Y/PY if the deviations affecting the outcome were similar "
            "in both groups ('Some concerns'); N/PN/NI gives High.",
            yes_means_risk=False,
            condition=Condition(((_on("2.4", _YES_NI),),), "Y/PY/NI to 2.4"),
        ),
        _q(
            "2.6",
            "Was an appropriate analysis used to estimate the effect of assignment to "
            "intervention?",
            "Y/PY for intention-to-treat analysis, or modified ITT excluding only participants "
            "with missing outcome data. N/PN for per-protocol or as-treated analyses, or "
            "exclusion of eligible randomized participants.",
            yes_means_risk=False,
        ),
        _q(
            "2.7",
            "Was there potential for a substantial impact (on the result) of the failure to "
            "analyse participants in the group to which they were randomized?",
            "Asked if 2.6 is N/PN/NI. Y/PY/NI if the number of participants analysed in the "
            "wrong group, or excluded, could change the result substantially (High); N/PN gives "
            "'Some concerns'.",
            yes_means_risk=True,
            condition=Condition(((_on("2.6", _NO_NI),),), "N/PN/NI to 2.6"),
        ),
    ),
)

_NON_PROTOCOL = Clause("deviations", frozenset({DEVIATION_NON_PROTOCOL}), includes=True)
_IMPLEMENTATION = Clause("deviations", frozenset({DEVIATION_IMPLEMENTATION}), includes=True)
_NON_ADHERENCE = Clause("deviations", frozenset({DEVIATION_NON_ADHERENCE}), includes=True)

_D2B = Rob2Domain(
    id="D2b",
    code="D2",
    name="Bias due to deviations from intended interventions",
    questions=(
        _AWARE_PARTICIPANTS,
        _AWARE_CARERS,
        _q(
            "2.3",
            "[If applicable] Were important non-protocol interventions balanced across "
            "intervention groups?",
            "Applies when non-protocol interventions are among the deviations addressed and "
            "participants or carers were (or may have been) aware. Y/PY if important "
            "co-interventions were balanced; N/PN/NI leads to question 2.6.",
            yes_means_risk=False,
            condition=Condition(
                ((_NON_PROTOCOL,), _AWARE_ANY),
                "non-protocol interventions addressed, and Y/PY/NI to 2.1 or 2.2",
            ),
        ),
        _q(
            "2.4",
            "[If applicable] Were there failures in implementing the intervention that could "
            "have affected the outcome?",
            "Applies when implementation failures are among the deviations addressed. Y/PY/NI "
            "if the intervention was not delivered as intended in a way that could change the "
            "outcome; that leads to question 2.6.",
            yes_means_risk=True,
            condition=Condition(((_IMPLEMENTATION,),), "failures in implementation addressed"),
        ),
        _q(
            "2.5",
            "[If applicable] Was there non-adherence to the assigned intervention regimen that "
            "could have affected participants' outcomes?",
            "Applies when non-adherence is among the deviations addressed. Y/PY/NI if "
            "participants did not adhere in a way that could change their outcomes; that leads "
            "to question 2.6.",
            yes_means_risk=True,
            condition=Condition(((_NON_ADHERENCE,),), "non-adherence addressed"),
        ),
        _q(
            "2.6",
            "Was an appropriate analysis used to estimate the effect of adhering to the "
            "intervention?",
            "Asked if 2.3 is N/PN/NI or 2.4 or 2.5 is Y/PY/NI. Y/PY for methods that can "
            "estimate the effect of adhering (e.g. instrumental variables, inverse probability "
            "weighting) - the domain is then 'Some concerns'; N/PN/NI (naive per-protocol or "
            "as-treated analyses) gives High. The domain cannot be Low once this is asked.",
            yes_means_risk=False,
            condition=Condition(
                ((_on("2.3", _NO_NI), _on("2.4", _YES_NI), _on("2.5", _YES_NI)),),
                "N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5",
            ),
        ),
    ),
)

_D3 = Rob2Domain(
    id="D3",
    code="D3",
    name="Bias due to missing outcome data",
    questions=(
        _q(
            "3.1",
            "Were data for this outcome available for all, or nearly all, participants randomized?",
            "Y/PY if outcome data are available for (nearly) all randomized participants; what "
            "'nearly all' means depends on the outcome (for a binary outcome, compared with the "
            "risk of the event). Y/PY makes the domain Low.",
            yes_means_risk=False,
        ),
        _q(
            "3.2",
            "Is there evidence that the result was not biased by missing outcome data?",
            "Asked if 3.1 is N/PN/NI. Y/PY if analyses correcting for bias or sensitivity "
            "analyses show the result is robust to the missing data. Imputation alone is not "
            "evidence. There is no NI answer.",
            yes_means_risk=False,
            condition=Condition(((_on("3.1", _NO_NI),),), "N/PN/NI to 3.1"),
            answers=("NA", "Y", "PY", "PN", "N"),
        ),
        _q(
            "3.3",
            "Could missingness in the outcome depend on its true value?",
            "Asked if 3.2 is N/PN. Y/PY/NI if reasons for missing data could relate to the "
            "participants' health status or the outcome itself; N/PN makes the domain Low.",
            yes_means_risk=True,
            condition=Condition(((_on("3.2", NO),),), "N/PN to 3.2"),
        ),
        _q(
            "3.4",
            "Is it likely that missingness in the outcome depended on its true value?",
            "Asked if 3.3 is Y/PY/NI. Y/PY/NI if, e.g., missing proportions or reasons differ "
            "between groups, or reasons point to the outcome (High); N/PN gives 'Some concerns'.",
            yes_means_risk=True,
            condition=Condition(((_on("3.3", _YES_NI),),), "Y/PY/NI to 3.3"),
        ),
    ),
)

_D4 = Rob2Domain(
    id="D4",
    code="D4",
    name="Bias in measurement of the outcome",
    questions=(
        _q(
            "4.1",
            "Was the method of measuring the outcome inappropriate?",
            "Y/PY if the measurement method is unsuitable or insensitive for the effect (e.g. an "
            "invalid scale, too short follow-up): the domain is then High.",
            yes_means_risk=True,
        ),
        _q(
            "4.2",
            "Could measurement or ascertainment of the outcome have differed between "
            "intervention groups?",
            "Y/PY if methods, timing or thresholds of measurement differed between groups (High). "
            "NI here means the domain can be at best 'Some concerns'.",
            yes_means_risk=True,
        ),
        _q(
            "4.3",
            "Were outcome assessors aware of the intervention received by study participants?",
            "Asked if 4.1 and 4.2 are N/PN/NI. Y/PY if assessors were not blinded; for "
            "participant-reported outcomes the assessor is the participant. N/PN makes the "
            "domain Low (or 'Some concerns' if 4.2 was NI).",
            yes_means_risk=True,
            condition=Condition(
                ((_on("4.1", _NO_NI),), (_on("4.2", _NO_NI),)), "N/PN/NI to 4.1 and 4.2"
            ),
        ),
        _q(
            "4.4",
            "Could assessment of the outcome have been influenced by knowledge of intervention "
            "received?",
            "Asked if 4.3 is Y/PY/NI. N/PN for outcomes that involve little judgement (e.g. "
            "all-cause mortality); Y/PY/NI for subjective outcomes.",
            yes_means_risk=True,
            condition=Condition(((_on("4.3", _YES_NI),),), "Y/PY/NI to 4.3"),
        ),
        _q(
            "4.5",
            "Is it likely that assessment of the outcome was influenced by knowledge of "
            "intervention received?",
            "Asked if 4.4 is Y/PY/NI. Y/PY/NI if there is reason to think assessors' beliefs "
            "about the interventions swayed the assessment (High); N/PN gives 'Some concerns'.",
            yes_means_risk=True,
            condition=Condition(((_on("4.4", _YES_NI),),), "Y/PY/NI to 4.4"),
        ),
    ),
)

_D5 = Rob2Domain(
    id="D5",
    code="D5",
    name="Bias in selection of the reported result",
    questions=(
        _q(
            "5.1",
            "Were the data that produced this result analysed in accordance with a pre-specified "
            "analysis plan that was finalized before unblinded outcome data were available for "
            "analysis?",
            "Y/PY if a protocol, registry entry or statistical analysis plan, finalized before "
            "unblinded data were available, specifies the analysis and it was followed. N/PN/NI "
            "makes 'Some concerns' the best result.",
            yes_means_risk=False,
        ),
        _q(
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on the basis of "
            "the results, from multiple eligible outcome measurements (e.g. scales, definitions, "
            "time points) within the outcome domain?",
            "Y/PY if several eligible measurements exist and the one reported looks chosen for "
            "its result (High). N/PN if there is no sign of that or only one eligible "
            "measurement exists. NI gives at best 'Some concerns'.",
            yes_means_risk=True,
        ),
        _q(
            "5.3",
            "Is the numerical result being assessed likely to have been selected, on the basis of "
            "the results, from multiple eligible analyses of the data?",
            "Y/PY if several eligible analyses (adjustments, transformations, handling of missing "
            "data) exist and the one reported looks chosen for its result (High). NI gives at "
            "best 'Some concerns'.",
            yes_means_risk=True,
        ),
    ),
)

ROB2_DOMAIN_BY_ID: Mapping[str, Rob2Domain] = {d.id: d for d in (_D1, _D2A, _D2B, _D3, _D4, _D5)}
"""Every RoB 2 domain by id, both variants of domain 2 included (``"D2a"``, ``"D2b"``)."""


def rob2_domains(effect_of_interest: str = EFFECT_ASSIGNMENT) -> tuple[Rob2Domain, ...]:
    """RoB 2's five domains in order, with domain 2's variant for the effect of interest.

    ``effect_of_interest`` is ``"assignment"`` (variant 2a) or ``"adhering"`` (variant 2b).
    Raises ``ValueError`` otherwise.
    """
    if effect_of_interest == EFFECT_ASSIGNMENT:
        d2 = _D2A
    elif effect_of_interest == EFFECT_ADHERING:
        d2 = _D2B
    else:
        raise ValueError(
            f"effect of interest must be {EFFECT_ASSIGNMENT!r} or {EFFECT_ADHERING!r}, "
            f"not {effect_of_interest!r}"
        )
    return (_D1, d2, _D3, _D4, _D5)


ROB2_DOMAINS: tuple[Rob2Domain, ...] = rob2_domains(EFFECT_ASSIGNMENT)
"""RoB 2's five domains for the effect of assignment (the usual case: D1, D2a, D3, D4, D5)."""

ROB2_DOMAIN_CODES: tuple[str, ...] = ("D1", "D2", "D3", "D4", "D5")
"""The domain codes robvis uses as column headers, in order."""

ROB2_DOMAIN_NAMES: Mapping[str, str] = {d.code: d.name for d in ROB2_DOMAINS}
"""Full names by code, as robvis's summary plot labels its bars."""
