"""The order of a reviewer's title/abstract queue: random, relevance or mixed (issue 15).

``screening.order`` says which; the ranking itself is the pure kernel ``screening.ranking`` (TF-IDF
and a linear classifier). This module reads what the kernel needs from the review, in one session,
and gives back plain data, so the screening screen can train in a worker thread and never wait:

- ``queue_state`` reads the reviewer's queue (``service.screening_queue``: their own shuffle, seeded
  by ``screening.order_seed``), their training set and the texts of every reference at the stage;
- ``fit`` trains the relevance model on that state (None while the order in effect is random);
- ``arrange`` orders the queue with a model (or none) and says which order is in effect;
- ``ranked_queue`` does all three (``screen next``), ``vote_stamp`` gives the ``QueueStamp`` a vote
  is stored with (``screen decide``, the screen).

Blinding: the training set of a reviewer (``training_set``) is their own current votes and, only
where the stage is not blind to them (``access.Sight.sees_others``: unblinded, or an owner or
adjudicator), the final decisions (agreed or adjudicated) of the stage, which take precedence over
their own vote on the same reference. Another reviewer's open votes never enter it; while the stage
is blind to the reviewer nothing of anyone else's does (not even a final decision, which at a blind
stage would tell them how the others voted). So one reviewer's votes cannot change another's queue
before the stage is unblinded (``tests/test_prioritisation.py``).

Mixed order: the reviewer's n-th vote (n = votes they have cast at the stage, from 0) is drawn at
random when ⌊(n+1)·f⌋ > ⌊n·f⌋ for f = ``screening.random_fraction`` (the kernel's rule for place n
of a queue), else from the relevance order. Counting from the reviewer's own votes, not from the
head of a queue recomputed after each vote, keeps one in every 1/f records random however often the
queue is rebuilt; those votes are stamped ``mixed-random`` and form the random sample a statistical
stopping rule needs (``screening.stop``).

While a calibration round is open (``screening.calibration``) the queue is the pilot sample only,
stamped ``calibration``; while screening is stopped (``screening.stop``) the references it set aside
leave the queue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlmodel import Session, col, select

from reviewtool.access import roles_of, sight
from reviewtool.domain import PERMISSIONS, Action, Decision, QueueStamp, Stage
from reviewtool.errors import InvalidInput
from reviewtool.screening import calibration, stop
from reviewtool.screening.ranking import DEFAULT_MODEL
from reviewtool.screening.rules import parse_stage
from reviewtool.screening.worklist import screening_queue
from reviewtool.storage.models import Member, Record, Reference, ScreeningDecision
from reviewtool.storage.queries import setting, stage_outcomes
from reviewtool.text import counted

if TYPE_CHECKING:
    from reviewtool.screening.ranking import RelevanceModel, TextFeatures

RANDOM = "random"
RELEVANCE = "relevance"
MIXED = "mixed"
CALIBRATION = "calibration"
MIXED_RANDOM = "mixed-random"
MIXED_RELEVANCE = "mixed-relevance"
#: Every value ``screening_decision.queue_order`` can hold.
QUEUE_ORDERS = (RANDOM, RELEVANCE, MIXED_RANDOM, MIXED_RELEVANCE, CALIBRATION)


@dataclass(frozen=True)
class OrderSettings:
    """The queue-order settings of a review (``domain.SETTINGS``, ``screening.*``)."""

    order: str
    seed: int
    random_fraction: float
    min_includes: int
    min_excludes: int
    model: str = DEFAULT_MODEL


def order_settings(session: Session) -> OrderSettings:
    """The review's ``screening.order``, ``order_seed``, ``random_fraction``, ``min_includes``
    and ``min_excludes``."""
    return OrderSettings(
        order=str(setting(session, "screening.order")),
        seed=int(cast(int, setting(session, "screening.order_seed"))),
        random_fraction=float(cast(float, setting(session, "screening.random_fraction"))),
        min_includes=int(cast(int, setting(session, "screening.min_includes"))),
        min_excludes=int(cast(int, setting(session, "screening.min_excludes"))),
        model=str(setting(session, "screening.model")),
    )


@dataclass(frozen=True)
class TrainingSet:
    """What one reviewer's model learns from: reference ids and labels (True: include or maybe),
    ascending by id."""

    ids: tuple[int, ...]
    labels: tuple[bool, ...]

    @property
    def includes(self) -> int:
        """Labels that are includes."""
        return sum(self.labels)

    @property
    def excludes(self) -> int:
        """Labels that are excludes."""
        return len(self.labels) - self.includes


def training_set(session: Session, *, actor: str, stage: str) -> TrainingSet:
    """``actor``'s training set at ``stage``: their own current votes, and the final decisions of
    the stage only where it is not blind to them (see the module docstring). A final decision
    replaces their own vote on the same reference."""
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    labels: dict[int, bool] = {}
    if seen.member is not None:
        rows = session.exec(
            select(ScreeningDecision.reference_id, ScreeningDecision.decision).where(
                ScreeningDecision.member_id == seen.member.id,
                ScreeningDecision.stage == parsed.value,
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
        for ref, decision in rows:
            labels[ref] = labels.get(ref, False) or decision != Decision.EXCLUDE
    if seen.sees_others(parsed.value):
        for ref, outcome in stage_outcomes(session, parsed.value).items():
            if outcome.final:
                labels[ref] = outcome.goes_on
    ids = tuple(sorted(labels))
    return TrainingSet(ids, tuple(labels[r] for r in ids))


def reference_texts(session: Session, ids: Sequence[int] | None = None) -> dict[int, str]:
    """reference id -> the text it is ranked on (``ranking.record_text`` of its primary record:
    title, abstract, keywords); every reference when ``ids`` is None."""
    from reviewtool.screening.ranking import record_text

    query = select(Record.reference_id, Record.title, Record.abstract, Record.keywords).where(
        col(Record.duplicate_of).is_(None)
    )
    wanted = None if ids is None else set(ids)
    out: dict[int, str] = {}
    for ref, title, abstract, keywords in session.exec(query):
        if ref is None or (wanted is not None and ref not in wanted):
            continue
        words = json.loads(keywords) if keywords else []
        out[ref] = record_text(title, abstract, words)
    return out


@dataclass(frozen=True)
class QueueState:
    """Everything ``fit`` and ``arrange`` need, read in one session (plain data: safe to hand to a
    worker thread).

    :ivar todo: the references still in ``actor``'s queue, in their seeded random order.
    :ivar votes_cast: ``actor``'s current votes at the stage (n of the mixed rule).
    :ivar corpus: reference id -> text, every reference at the stage (empty when no model is needed).
    :ivar calibration_round: the open calibration round's id (its pilot is ``todo``), or None.
    :ivar set_aside: references left out because screening stopped.
    """

    actor: str
    stage: str
    settings: OrderSettings
    training: TrainingSet
    todo: tuple[int, ...]
    votes_cast: int
    corpus: dict[int, str]
    calibration_round: int | None = None
    set_aside: int = 0

    @property
    def ordering(self) -> str:
        """The order in effect: ``calibration`` while a round is open; random at full text, and
        until the reviewer knows ``min_includes`` includes and ``min_excludes`` excludes
        (``ranking.effective_ordering``); else ``screening.order``."""
        from reviewtool.screening.ranking import effective_ordering

        if self.calibration_round is not None:
            return CALIBRATION
        if self.stage != Stage.TITLE_ABSTRACT.value:
            return RANDOM
        return effective_ordering(
            self.settings.order,
            known_includes=self.training.includes,
            known_excludes=self.training.excludes,
            min_includes=self.settings.min_includes,
            min_excludes=self.settings.min_excludes,
        )


def queue_state(
    session: Session,
    *,
    actor: str,
    stage: str,
    label: str | None = None,
    corpus: dict[int, str] | None = None,
) -> QueueState:
    """Read ``actor``'s queue at ``stage`` and what ranking it needs (see ``QueueState``).

    ``corpus``: the texts read before (the screen keeps them), else read here when a model is
    needed. Errors as ``service.screening_queue`` (PermissionDenied, StageOrderError).
    """
    parsed = parse_stage(stage)
    todo = screening_queue(session, actor=actor, stage=parsed.value, label=label)
    settings = order_settings(session)
    training = training_set(session, actor=actor, stage=parsed.value)
    round_ = calibration.open_round(session) if parsed is Stage.TITLE_ABSTRACT else None
    set_aside = 0
    if round_ is not None:
        pilot = set(round_.sample)
        todo = [r for r in todo if r in pilot]
    elif parsed is Stage.TITLE_ABSTRACT:
        stopped = stop.set_aside(session)
        before = len(todo)
        todo = [r for r in todo if r not in stopped]
        set_aside = before - len(todo)
    seen = sight(session, actor)
    member_id = seen.member.id if seen.member is not None else None
    votes_cast = len(
        session.exec(
            select(ScreeningDecision.id).where(
                ScreeningDecision.member_id == member_id,
                ScreeningDecision.stage == parsed.value,
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
    )
    state = QueueState(
        actor=actor,
        stage=parsed.value,
        settings=settings,
        training=training,
        todo=tuple(todo),
        votes_cast=votes_cast,
        corpus={},
        calibration_round=round_.id if round_ is not None else None,
        set_aside=set_aside,
    )
    if state.ordering in (RELEVANCE, MIXED) and todo:
        texts = corpus if corpus is not None else stage_texts(session, parsed.value)
        state = QueueState(**{**state.__dict__, "corpus": texts})
    return state


def stage_texts(session: Session, stage: str) -> dict[int, str]:
    """reference id -> text for every reference at ``stage`` (title/abstract: every reference not
    removed before screening): the corpus the features are fitted on, the same for every reviewer."""
    from reviewtool.screening.worklist import eligible

    ids = eligible(session, parse_stage(stage))
    texts = reference_texts(session, ids)
    return {r: texts.get(r, "") for r in ids}


def fit_features(state: QueueState) -> TextFeatures | None:
    """TF-IDF features fitted on ``state.corpus`` (None when it is empty): fit once, reuse while
    the references at the stage do not change."""
    from reviewtool.screening.ranking import fit_features as fit

    if not state.corpus:
        return None
    return fit([state.corpus[r] for r in sorted(state.corpus)])


def fit(state: QueueState, features: TextFeatures | None = None) -> RelevanceModel | None:
    """Train ``state.actor``'s relevance model (``state.settings.model`` on TF-IDF, ``ranking``), or
    None when the order in effect needs none. ``features``: from ``fit_features`` on the same
    corpus (fitted here when None). Pure: no database, so it may run in a worker thread."""
    from reviewtool.screening.ranking import train_rows

    if state.ordering not in (RELEVANCE, MIXED) or not state.corpus or not state.todo:
        return None
    features = features if features is not None else fit_features(state)
    if features is None:
        return None
    row_of = {r: i for i, r in enumerate(sorted(state.corpus))}
    pairs = [(r, y) for r, y in zip(state.training.ids, state.training.labels, strict=True)]
    pairs = [(r, y) for r, y in pairs if r in row_of]
    return train_rows(
        features,
        [row_of[r] for r, _ in pairs],
        [y for _, y in pairs],
        model=state.settings.model,
        seed=state.settings.seed,
        ids=[r for r, _ in pairs],
    )


def model_label(model: RelevanceModel) -> str:
    """How a vote names the model that ranked it: ``<classifier>:<version>``
    (``svm:1a2b...``; the version is ``ranking.RelevanceModel.version``, SHA-256)."""
    return f"{model.model}:{model.version}"


def random_place(n: int, fraction: float) -> bool:
    """True when a reviewer's n-th vote (from 0) under mixed order is drawn at random:
    ⌊(n+1)·f⌋ > ⌊n·f⌋ (one in every 1/f, the first at ⌈1/f⌉ − 1)."""
    return math.floor((n + 1) * fraction) > math.floor(n * fraction)


@dataclass(frozen=True)
class RankedQueue:
    """A reviewer's queue in the order in effect.

    :ivar ids: the references still to screen, next first.
    :ivar requested: ``screening.order``; ``ordering``: the order in effect (``QueueState.ordering``).
    :ivar model_version: the relevance model that ranked it (``model_label``), or None.
    :ivar includes, excludes: the labels the reviewer's model knows (their own votes at a blind stage).
    :ivar next_stamp: the stamp the reviewer's next vote is stored with.
    """

    ids: tuple[int, ...]
    requested: str
    ordering: str
    model_version: str | None
    includes: int
    excludes: int
    min_includes: int
    min_excludes: int
    next_stamp: QueueStamp
    set_aside: int = 0

    def describe(self) -> str:
        """One line for the screen and ``screen next``: the order in effect and why."""
        if self.ordering == CALIBRATION:
            return "calibration round: the pilot sample, in random order"
        known = self.includes >= self.min_includes and self.excludes >= self.min_excludes
        if self.ordering == RANDOM and self.requested != RANDOM and known:
            return f"random until the {self.requested} model is trained"
        if self.ordering == RANDOM and self.requested != RANDOM:
            return (
                f"random until you have {counted(self.min_includes, 'include')} and "
                f"{counted(self.min_excludes, 'exclude')} (now {self.includes} and "
                f"{self.excludes}), then {self.requested}"
            )
        model = f", model {self.model_version[:21]}" if self.model_version else ""
        return f"{self.ordering} order{model}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ids": list(self.ids),
            "requested": self.requested,
            "ordering": self.ordering,
            "model_version": self.model_version,
            "includes": self.includes,
            "excludes": self.excludes,
            "min_includes": self.min_includes,
            "min_excludes": self.min_excludes,
            "next_order": self.next_stamp.order,
            "set_aside": self.set_aside,
        }


def stamp_of(state: QueueState, model: RelevanceModel | None, votes_cast: int) -> QueueStamp:
    """The stamp of a vote cast as the reviewer's ``votes_cast``-th under ``state``'s order."""
    ordering = state.ordering
    if ordering == MIXED and model is not None:
        drawn = random_place(votes_cast, state.settings.random_fraction)
        return QueueStamp(MIXED_RANDOM if drawn else MIXED_RELEVANCE, model_label(model))
    if ordering == RELEVANCE and model is not None:
        return QueueStamp(RELEVANCE, model_label(model))
    return QueueStamp(CALIBRATION if ordering == CALIBRATION else RANDOM)


def arrange(state: QueueState, model: RelevanceModel | None) -> RankedQueue:
    """``state.todo`` in the order in effect: random (as read), relevance (``ranking.rank`` by the
    model's scores, ties in the random order) or mixed (the next place drawn at random or from the
    relevance order by ``random_place``, then alternating the same way). Pure."""
    from reviewtool.screening.ranking import rank

    ordering = state.ordering
    ids = list(state.todo)
    if ordering in (RELEVANCE, MIXED) and model is not None and ids:
        row_of = {r: i for i, r in enumerate(sorted(state.corpus))}
        known = [r for r in ids if r in row_of]
        scores = model.scores_of_rows([row_of[r] for r in known])
        ranked = rank(known, scores) + [r for r in ids if r not in row_of]
        if ordering == RELEVANCE:
            ids = ranked
        else:
            ids = _interleave(ids, ranked, state.votes_cast, state.settings.random_fraction)
    elif ordering in (RELEVANCE, MIXED) and ids:
        ordering = RANDOM  # no model (yet): the screen shows the random order meanwhile
    return RankedQueue(
        ids=tuple(ids),
        requested=state.settings.order,
        ordering=ordering,
        model_version=model_label(model) if model is not None and ordering != RANDOM else None,
        includes=state.training.includes,
        excludes=state.training.excludes,
        min_includes=state.settings.min_includes,
        min_excludes=state.settings.min_excludes,
        next_stamp=stamp_of(state, model if ordering != RANDOM else None, state.votes_cast),
        set_aside=state.set_aside,
    )


def _interleave(shuffled: list[int], ranked: list[int], start: int, fraction: float) -> list[int]:
    """Places ``start``, ``start`` + 1 ... taken from ``shuffled`` where ``random_place`` says so,
    else from ``ranked``; each reference once."""
    out: list[int] = []
    taken: set[int] = set()
    sources = (iter(shuffled), iter(ranked))
    for k in range(len(shuffled)):
        source = sources[0] if random_place(start + k, fraction) else sources[1]
        for ref in source:
            if ref not in taken:
                taken.add(ref)
                out.append(ref)
                break
    return out


def ranked_queue(
    session: Session, *, actor: str, stage: str, label: str | None = None
) -> RankedQueue:
    """``actor``'s queue at ``stage`` in the order in effect, training their model now when it
    needs one (``screen next``). Errors as ``service.screening_queue``."""
    state = queue_state(session, actor=actor, stage=stage, label=label)
    return arrange(state, fit(state))


def vote_stamp(
    session: Session, *, actor: str, stage: str, record_id: int | None = None
) -> QueueStamp | None:
    """The stamp a vote ``actor`` casts now at ``stage`` is stored with (``screen decide``): the
    order in effect for them and the version of the model that would rank their queue. None when
    they may not screen there (the vote is then refused by ``service.cast_vote`` in its own words,
    so nothing here records a refusal).

    With ``record_id``, at title/abstract: InvalidInput when a calibration round is open and the
    reference is not in its pilot, or when a stop in force set it aside (one line, naming the
    command that changes it)."""
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    if seen.member is None or not seen.stage_open(parsed.value):
        return None
    if not roles_of(session, seen.member) & PERMISSIONS[Action.SCREEN]:
        return None
    if record_id is not None and parsed is Stage.TITLE_ABSTRACT:
        ref = session.exec(select(Record.reference_id).where(Record.id == record_id)).first()
        round_ = calibration.open_round(session)
        if ref is not None and round_ is not None and ref not in round_.sample:
            raise InvalidInput(
                f"record {record_id} is not in the calibration round's pilot: screening proper "
                "opens once an owner closes the round (`reviewtool screen calibrate`)"
            )
        if ref is not None and ref in stop.set_aside(session):
            raise InvalidInput(
                f"record {record_id} was set aside when screening stopped; an owner brings it "
                "back with `reviewtool screen stop --undo --reason R`"
            )
    return ranked_queue(session, actor=actor, stage=parsed.value).next_stamp


def reference_ids(session: Session) -> list[int]:
    """Every reference id, ascending."""
    return [r for r in session.exec(select(Reference.id).order_by(col(Reference.id))) if r]


def reference_titles(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """reference id -> its primary record's title ("" when it has none)."""
    wanted = set(ids)
    rows = session.exec(
        select(Record.reference_id, Record.title).where(col(Record.duplicate_of).is_(None))
    ).all()
    return {ref: title or "" for ref, title in rows if ref in wanted}


def vote_orders(session: Session, stage: str) -> dict[int, str]:
    """reference id -> the queue orders its current votes at ``stage`` were cast in, one
    ``reviewer: order`` per vote (with ``model <classifier>:<first 12 hex digits>`` when a model ranked it),
    ``; ``-joined in reviewer order (``screen export``). Votes with no stamp say ``-``."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    d = ScreeningDecision
    columns: list[Any] = [d.reference_id, d.member_id, d.queue_order, d.model_version]
    rows = session.exec(
        select(*columns).where(d.stage == parse_stage(stage).value, col(d.superseded_at).is_(None))
    ).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for ref, member_id, order, model in rows:
        said = order or "-"
        if model:
            said += f" model {model[:21]}"
        found.setdefault(ref, []).append((names.get(member_id, f"#{member_id}"), said))
    return {
        ref: "; ".join(f"{who}: {said}" for who, said in sorted(set(votes)))
        for ref, votes in found.items()
    }
