"""Relevance ranking for prioritised title/abstract screening (a pure kernel: no database).

A reference's text is its title, abstract and keywords (`record_text`). Features are TF-IDF weights of
word unigrams and bigrams with sublinear term frequency (1 + log tf), every term kept except those in
more than 95 % of the records, lower case, accents kept (ASReview's ELAS u4 feature settings:
``min_df`` 1, ``max_df`` 0.95, no accent stripping),
fitted on every text of the review (labelled or not: the vocabulary and the inverse document
frequencies use no label), so the fitted `TextFeatures` and its document-term matrix can be cached
and only the classifier retrained as decisions arrive. The classifier is linear:

* ``"svm"`` (default, `DEFAULT_MODEL`): a linear support vector machine (``LinearSVC``, squared hinge
  loss, C = 0.11: ASReview's default model ELAS u4, asreview/models/models.py in ASReview 2–3);
* ``"logistic"``: L2-regularised logistic regression (liblinear, dual coordinate descent, fastest
  here with far more terms than records, C = 1);

both weighted so that the includes together weigh ``include_ratio`` = 9.8 times the excludes
(sample weights scaled to sum to the number of records: ASReview's "balanced" weights with ELAS u4's
ratio), so the few includes are not drowned by the excludes;
* ``"naive_bayes"``: multinomial naive Bayes on the TF-IDF weights (ASReview's former default model,
  smoothing α = 3.822 as in ASReview).

Scores: higher means more likely to be included. For logistic regression and naive Bayes they are the
predicted probability of inclusion in [0, 1]; for the SVM the signed distance to the margin (unbounded).
Only the order of scores of one model means anything.

Everything is deterministic for a given seed: the same texts, labels and parameters give the same scores
and the same `RelevanceModel.version`, a SHA-256 of the training ids and labels, the parameters and the
feature set (so a decision can name the model that ordered the queue it came from).

`order_queue` turns scores into a queue order for one reviewer: random with a seed (stable as the queue
shrinks: a record's place depends only on the seed and its id), relevance, or mixed (every
1/``random_fraction``-th place taken by the random order, to keep the model honest); until at least
``min_includes`` includes and ``min_excludes`` excludes are known the order is random whatever is asked
(`effective_ordering`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from reviewtool.errors import InvalidInput
from reviewtool.text import counted

if TYPE_CHECKING:  # heavy: imported inside the functions that need them
    import numpy as np
    from scipy.sparse import csr_matrix

ModelName = Literal["logistic", "svm", "naive_bayes"]
Ordering = Literal["random", "relevance", "mixed"]
MODELS: tuple[str, ...] = ("logistic", "svm", "naive_bayes")
#: The classifier used unless a review's ``screening.model`` setting names another.
DEFAULT_MODEL = "svm"
ORDERINGS: tuple[str, ...] = ("random", "relevance", "mixed")

#: TF-IDF parameters (scikit-learn ``TfidfVectorizer``), part of every version hash.
FEATURE_PARAMETERS: dict[str, Any] = {
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "lowercase": True,
    "min_df": 1,
    "max_df": 0.95,
    "norm": "l2",
}
#: Below this many texts ``max_df`` is 1.0 (a term in every record is kept: a handful of records
#: may share every word).
SMALL_CORPUS = 50
#: Classifier parameters per model, part of every version hash.
MODEL_PARAMETERS: dict[str, dict[str, Any]] = {
    "logistic": {"C": 1.0, "solver": "liblinear", "dual": True, "include_ratio": 9.8},
    "svm": {"C": 0.11, "max_iter": 5000, "include_ratio": 9.8},
    "naive_bayes": {"alpha": 3.822},
}

Id = TypeVar("Id", bound=Hashable)


def record_text(
    title: str | None, abstract: str | None, keywords: str | Sequence[str] | None
) -> str:
    """The text a reference is ranked on: title, abstract and keywords joined by blank lines.

    Missing parts are left out; keywords may be one string or a sequence of strings.
    """
    words = keywords if isinstance(keywords, str) or keywords is None else "; ".join(keywords)
    return "\n\n".join(part.strip() for part in (title, abstract, words) if part and part.strip())


def _digest(payload: Any) -> str:
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class TextFeatures:
    """A TF-IDF vectoriser fitted on a corpus, with the corpus's document-term matrix cached.

    ``matrix`` has shape (len(corpus), n_terms), rows L2-normalised, in corpus order. ``version`` is a
    SHA-256 of the corpus texts and `FEATURE_PARAMETERS`.
    """

    vectoriser: Any
    matrix: csr_matrix
    version: str

    @property
    def n_documents(self) -> int:
        """Number of corpus texts (rows of ``matrix``)."""
        return int(self.matrix.shape[0])

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """TF-IDF rows (shape (len(texts), n_terms)) of new texts in this corpus's vocabulary."""
        return self.vectoriser.transform(list(texts))


def fit_features(corpus: Sequence[str]) -> TextFeatures:
    """Fit the TF-IDF features on every text of a review (labels are not used).

    Raises `InvalidInput` when the corpus is empty or holds no word at all.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [str(t) for t in corpus]
    if not texts:
        raise InvalidInput("cannot rank: there are no records to learn the vocabulary from")
    params = dict(FEATURE_PARAMETERS)
    if len(texts) < SMALL_CORPUS:  # a handful of records: every term counts
        params["max_df"] = 1.0
    used = dict(params)
    params["ngram_range"] = tuple(params["ngram_range"])
    vectoriser = TfidfVectorizer(dtype=_float64(), **params)
    try:
        matrix = vectoriser.fit_transform(texts).tocsr()
    except ValueError as exc:  # "empty vocabulary"
        raise InvalidInput(f"cannot rank: the records hold no words ({exc})") from None
    version = _digest({"texts": _digest(texts), "params": used})
    return TextFeatures(vectoriser=vectoriser, matrix=matrix, version=version)


def _float64() -> Any:
    import numpy as np

    return np.float64


@dataclass(frozen=True, eq=False)
class RelevanceModel:
    """A trained relevance classifier over `TextFeatures`.

    ``version``: SHA-256 of the training (id, label) pairs (sorted by id), the model name, its
    parameters, the seed, the scikit-learn version and the features' version.
    """

    model: str
    seed: int
    version: str
    features: TextFeatures
    classifier: Any
    n_includes: int
    n_excludes: int
    parameters: dict[str, Any] = field(default_factory=dict)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Relevance scores of texts, shape (len(texts),), float64; higher = more likely included."""
        return self.scores_of_matrix(self.features.transform(texts))

    def scores_of_rows(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """Scores of rows of the cached corpus matrix (all rows when None), shape (len(rows),)."""
        import numpy as np

        matrix = self.features.matrix
        if rows is not None:
            matrix = matrix[np.asarray(rows, dtype=np.intp)]
        return self.scores_of_matrix(matrix)

    def scores_of_matrix(self, matrix: Any) -> np.ndarray:
        """Scores of TF-IDF rows already in this model's vocabulary, shape (n_rows,)."""
        import numpy as np

        if matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        if self.model == "svm":
            return np.asarray(self.classifier.decision_function(matrix), dtype=np.float64)
        positive = list(self.classifier.classes_).index(1)
        return np.asarray(self.classifier.predict_proba(matrix)[:, positive], dtype=np.float64)


def _classifier(model: str, seed: int) -> Any:
    params = {k: v for k, v in MODEL_PARAMETERS[model].items() if k != "include_ratio"}
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(random_state=seed, **params)
    if model == "svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(random_state=seed, **params)
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB(**params)


def _ratio_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Sample weights giving the includes together ``ratio`` times the weight of the excludes,
    scaled to sum to the number of records (ASReview's "balanced" sample weights)."""
    import numpy as np

    includes = int(y.sum())
    excludes = int(y.size - includes)
    weights = np.where(y == 1, 1.0, includes / (ratio * excludes))
    return np.asarray(weights * (y.size / weights.sum()), dtype=np.float64)


def _id_key(record_id: Hashable) -> str:
    """An id as JSON (its canonical sort key); ``str`` for a plain int, the same text, faster."""
    if type(record_id) is int:
        return str(record_id)
    return json.dumps(record_id, default=str)


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise InvalidInput(f"unknown relevance model {model!r} (choose one of {', '.join(MODELS)})")


def train_rows(
    features: TextFeatures,
    rows: Sequence[int],
    labels: Sequence[bool],
    *,
    model: str = DEFAULT_MODEL,
    seed: int,
    ids: Sequence[Hashable] | None = None,
) -> RelevanceModel:
    """Train the classifier on cached rows of ``features.matrix`` (the vectoriser is not refitted).

    ``rows[i]`` is the corpus row of the i-th training record, ``labels[i]`` True when it was included;
    ``ids`` name the records for the version hash (default: the rows). The training set is put in the
    canonical order of its ids first, so the same set in any order gives the same model and version.
    Raises `InvalidInput` for an unknown model, unequal lengths, a row out of range, or when the labels
    do not hold at least one include and one exclude.
    """
    import numpy as np
    import sklearn

    _check_model(model)
    names: list[Hashable] = list(ids) if ids is not None else [int(r) for r in rows]
    if not (len(rows) == len(labels) == len(names)):
        raise InvalidInput(
            f"cannot train: {counted(len(rows), 'record')}, {counted(len(labels), 'label')} "
            f"and {counted(len(names), 'id')} differ in number"
        )
    n_includes = sum(1 for label in labels if label)
    n_excludes = len(labels) - n_includes
    if n_includes == 0 or n_excludes == 0:
        raise InvalidInput(
            f"cannot train a relevance model on {counted(n_includes, 'include')} and "
            f"{counted(n_excludes, 'exclude')}: "
            "it needs at least one of each"
        )
    keyed = sorted(zip(names, rows, labels, strict=True), key=lambda t: _id_key(t[0]))
    row_index = np.asarray([r for _, r, _ in keyed], dtype=np.intp)
    if row_index.size and (row_index.min() < 0 or row_index.max() >= features.n_documents):
        raise InvalidInput(
            f"cannot train: a row is outside the {features.n_documents} records of the corpus"
        )
    y = np.asarray([1 if label else 0 for _, _, label in keyed], dtype=np.int64)
    classifier = _classifier(model, seed)
    ratio = MODEL_PARAMETERS[model].get("include_ratio")
    if ratio:
        classifier.fit(features.matrix[row_index], y, sample_weight=_ratio_weights(y, ratio))
    else:
        classifier.fit(features.matrix[row_index], y)
    parameters = dict(MODEL_PARAMETERS[model])
    version = _digest(
        {
            "training": [[name, bool(label)] for name, _, label in keyed],
            "model": model,
            "parameters": parameters,
            "seed": seed,
            "sklearn": sklearn.__version__,
            "features": features.version,
        }
    )
    return RelevanceModel(
        model=model,
        seed=seed,
        version=version,
        features=features,
        classifier=classifier,
        n_includes=n_includes,
        n_excludes=n_excludes,
        parameters=parameters,
    )


def train(
    texts: Sequence[str],
    labels: Sequence[bool],
    *,
    model: str = DEFAULT_MODEL,
    seed: int,
    ids: Sequence[Hashable] | None = None,
    corpus: Sequence[str] | None = None,
) -> RelevanceModel:
    """Fit features on ``corpus`` (default: ``texts``) and train a relevance model on (texts, labels).

    ``texts[i]`` is a training record's `record_text`, ``labels[i]`` True when it was included; ``ids``
    name them for the version hash (default: the texts themselves). With a ``corpus`` (every text of
    the review, unlabelled too) the training texts are transformed in its vocabulary. For repeated
    retraining fit `fit_features` once and call `train_rows`. Errors as `train_rows`.
    """
    if len(texts) != len(labels):
        raise InvalidInput(
            f"cannot train: {counted(len(texts), 'text')} but {counted(len(labels), 'label')}"
        )
    names: list[Hashable] = list(ids) if ids is not None else list(texts)
    if corpus is None:
        features = fit_features(texts)
        return train_rows(features, range(len(texts)), labels, model=model, seed=seed, ids=names)
    from scipy.sparse import vstack

    base = fit_features(corpus)
    extra = base.transform(texts)
    joined = TextFeatures(
        vectoriser=base.vectoriser,
        matrix=vstack([base.matrix, extra]).tocsr(),
        version=base.version,
    )
    start = base.n_documents
    trained = train_rows(
        joined, range(start, start + len(texts)), labels, model=model, seed=seed, ids=names
    )
    return RelevanceModel(
        model=trained.model,
        seed=trained.seed,
        version=trained.version,
        features=base,
        classifier=trained.classifier,
        n_includes=trained.n_includes,
        n_excludes=trained.n_excludes,
        parameters=trained.parameters,
    )


def rank(ids: Sequence[Id], scores: Sequence[float] | np.ndarray) -> list[Id]:
    """``ids`` from the highest score to the lowest; equal scores keep their given order.

    Raises `InvalidInput` when the lengths differ or a score is not finite.
    """
    import numpy as np

    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(ids),):
        raise InvalidInput(
            f"cannot rank {counted(len(ids), 'record')} by {counted(values.size, 'score')}"
        )
    if not np.all(np.isfinite(values)):
        raise InvalidInput("cannot rank: a relevance score is not a finite number")
    order = np.argsort(-values, kind="stable")
    return [ids[int(i)] for i in order]


@functools.lru_cache(maxsize=1 << 17, typed=True)
def random_key(seed: int, record_id: Hashable) -> str:
    """A record's place in the seeded random order: SHA-256 of ``"<seed>:<id as JSON>"`` (hex).

    It depends only on the seed and the id, so the random order of a queue does not change as other
    records leave it (a screened record does not reshuffle the rest).
    """
    text = f"{seed}:{json.dumps(record_id, default=str)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def random_order(ids: Sequence[Id], *, seed: int) -> list[Id]:
    """``ids`` in the seeded random order of `random_key` (deterministic, stable under removal)."""
    return sorted(ids, key=lambda i: random_key(seed, i))


def effective_ordering(
    ordering: str,
    *,
    known_includes: int,
    known_excludes: int,
    min_includes: int,
    min_excludes: int,
) -> str:
    """The ordering actually used: ``ordering``, or ``"random"`` until the model may be trusted.

    Relevance and mixed orderings need at least ``min_includes`` known includes and ``min_excludes``
    known excludes (and never fewer than one of each, without which no model can be trained).
    Raises `InvalidInput` for an unknown ordering.
    """
    if ordering not in ORDERINGS:
        raise InvalidInput(
            f"unknown queue ordering {ordering!r} (choose one of {', '.join(ORDERINGS)})"
        )
    if ordering == "random":
        return "random"
    enough = known_includes >= max(1, min_includes) and known_excludes >= max(1, min_excludes)
    return ordering if enough else "random"


def order_queue(
    ids: Sequence[Id],
    scores: Sequence[float] | np.ndarray | None,
    *,
    ordering: Literal["random", "relevance", "mixed"],
    seed: int,
    random_fraction: float,
    min_includes: int,
    min_excludes: int,
    known_includes: int,
    known_excludes: int,
) -> list[Id]:
    """The queue order of ``ids`` (records still to screen) for one reviewer.

    ``scores[i]`` is the relevance of ``ids[i]`` (None when no model exists yet). The ordering in
    effect is `effective_ordering` (random until ``known_includes`` ≥ ``min_includes`` and
    ``known_excludes`` ≥ ``min_excludes``):

    * random: `random_order` with ``seed``;
    * relevance: `rank` by score (ties in seeded random order);
    * mixed: place k (0-based) is taken from the random order when ⌊(k+1)·f⌋ > ⌊k·f⌋ for
      f = ``random_fraction`` (so one place in every 1/f, evenly spaced, the first at ⌈1/f⌉ − 1), every
      other place from the relevance order; a record appears once.

    Raises `InvalidInput` for an unknown ordering, ``random_fraction`` outside [0, 1], or scores that
    are missing (for a relevance or mixed ordering in effect), of another length or not finite.
    """
    if not 0.0 <= random_fraction <= 1.0 or math.isnan(random_fraction):
        raise InvalidInput(f"random fraction must be between 0 and 1, not {random_fraction}")
    used = effective_ordering(
        ordering,
        known_includes=known_includes,
        known_excludes=known_excludes,
        min_includes=min_includes,
        min_excludes=min_excludes,
    )
    shuffled = random_order(ids, seed=seed)
    if used == "random":
        return shuffled
    if scores is None:
        raise InvalidInput(f"a {used} ordering needs relevance scores (no model has been trained)")
    import numpy as np

    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(ids),):
        raise InvalidInput(
            f"cannot order {counted(len(ids), 'record')} by {counted(values.size, 'score')}"
        )
    position = {record: k for k, record in enumerate(shuffled)}
    by_random_place = sorted(range(len(ids)), key=lambda i: position[ids[i]])
    ranked = rank([ids[i] for i in by_random_place], values[by_random_place])
    if used == "relevance":
        return ranked
    order: list[Id] = []
    taken: set[Id] = set()
    next_ranked = iter(ranked)
    next_random = iter(shuffled)
    for k in range(len(ids)):
        source = (
            next_random
            if math.floor((k + 1) * random_fraction) > math.floor(k * random_fraction)
            else next_ranked
        )
        for record in source:
            if record not in taken:
                taken.add(record)
                order.append(record)
                break
    return order
