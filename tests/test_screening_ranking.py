"""Relevance ranking and queue order (reviewtool.screening.ranking): deterministic, and it ranks."""

from __future__ import annotations

import numpy as np
import pytest

from reviewtool.errors import InvalidInput
from reviewtool.screening import ranking

ON_TOPIC = [
    "Mesenchymal stem cell therapy for decompensated liver cirrhosis: a randomised trial",
    "Autologous bone marrow mesenchymal stem cells in cirrhosis patients improve liver function",
    "Umbilical cord mesenchymal stem cell infusion in liver cirrhosis, randomised controlled trial",
    "Stem cell transplantation for liver failure in cirrhosis: controlled trial",
]
OFF_TOPIC = [
    "Albumin infusion after large-volume paracentesis in ascites",
    "Beta blockers for primary prevention of variceal bleeding",
    "Hepatitis C direct-acting antivirals: cost-effectiveness",
    "Rifaximin for hepatic encephalopathy: a trial",
    "Transjugular intrahepatic portosystemic shunt for refractory ascites",
    "Terlipressin in hepatorenal syndrome",
    "Nutritional supplementation in alcoholic hepatitis",
    "Statins and portal hypertension in compensated cirrhosis",
]
TEXTS = ON_TOPIC + OFF_TOPIC
LABELS = [True] * 4 + [False] * 8
UNSEEN = [
    "Mesenchymal stem cells for liver cirrhosis: randomised trial of cell therapy",  # relevant
    "Paracentesis and albumin for tense ascites",
    "Antivirals for hepatitis C in cirrhosis",
]


def test_record_text_joins_title_abstract_keywords():
    assert ranking.record_text("Title", None, ["a", "b"]) == "Title\n\na; b"
    assert ranking.record_text(" T ", "Abstract", "k1; k2") == "T\n\nAbstract\n\nk1; k2"
    assert ranking.record_text(None, "", None) == ""


@pytest.mark.parametrize("model", ranking.MODELS)
def test_each_model_ranks_the_relevant_unseen_record_first(model):
    trained = ranking.train(TEXTS, LABELS, model=model, seed=7, corpus=TEXTS + UNSEEN)
    scores = trained.scores(UNSEEN)
    assert scores.shape == (3,) and scores.dtype == np.float64
    assert ranking.rank(["relevant", "ascites", "antivirals"], scores)[0] == "relevant"
    assert trained.n_includes == 4 and trained.n_excludes == 8


def test_same_inputs_same_scores_and_version_order_does_not_matter():
    ids = list(range(12))
    a = ranking.train(TEXTS, LABELS, seed=3, ids=ids)
    b = ranking.train(TEXTS, LABELS, seed=3, ids=ids)
    assert a.version == b.version and len(a.version) == 64
    np.testing.assert_array_equal(a.scores(UNSEEN), b.scores(UNSEEN))
    features = ranking.fit_features(TEXTS)
    forward = ranking.train_rows(features, range(12), LABELS, seed=3, ids=ids)
    backward = ranking.train_rows(
        features, list(reversed(range(12))), list(reversed(LABELS)), seed=3, ids=ids[::-1]
    )
    assert forward.version == backward.version
    np.testing.assert_allclose(forward.scores_of_rows(), backward.scores_of_rows(), rtol=1e-12)


def test_version_names_labels_model_seed_and_features():
    ids = list(range(12))
    base = ranking.train(TEXTS, LABELS, seed=3, ids=ids).version
    flipped = [*LABELS[:-1], True]
    assert ranking.train(TEXTS, flipped, seed=3, ids=ids).version != base
    assert ranking.train(TEXTS, LABELS, seed=4, ids=ids).version != base
    assert ranking.train(TEXTS, LABELS, seed=3, ids=ids, model="logistic").version != base
    assert ranking.train(TEXTS, LABELS, seed=3, ids=ids, corpus=TEXTS + UNSEEN).version != base


def test_cached_rows_score_as_the_texts_do():
    features = ranking.fit_features(TEXTS + UNSEEN)
    model = ranking.train_rows(features, range(12), LABELS, seed=1)
    np.testing.assert_allclose(model.scores_of_rows([12, 13, 14]), model.scores(UNSEEN), rtol=1e-12)
    assert model.scores_of_rows().shape == (15,)


def test_training_needs_both_classes_and_a_known_model():
    with pytest.raises(InvalidInput, match="at least one of each"):
        ranking.train(TEXTS[:4], [True] * 4, seed=1)
    with pytest.raises(InvalidInput, match="unknown relevance model"):
        ranking.train(TEXTS, LABELS, seed=1, model="bert")
    with pytest.raises(InvalidInput):
        ranking.train(TEXTS, LABELS[:3], seed=1)
    with pytest.raises(InvalidInput, match="no words"):
        ranking.fit_features(["", "  "])


def test_rank_keeps_ties_in_given_order_and_refuses_nan():
    assert ranking.rank(["a", "b", "c", "d"], [0.5, 0.9, 0.5, 0.1]) == ["b", "a", "c", "d"]
    with pytest.raises(InvalidInput):
        ranking.rank(["a", "b"], [0.1, float("nan")])
    with pytest.raises(InvalidInput):
        ranking.rank(["a", "b"], [0.1])


def test_random_order_is_seeded_and_stable_when_records_leave():
    ids = list(range(100))
    first = ranking.random_order(ids, seed=11)
    assert first == ranking.random_order(ids, seed=11)
    assert first != ranking.random_order(ids, seed=12)
    assert sorted(first) == ids
    remaining = [i for i in ids if i % 3]
    assert ranking.random_order(remaining, seed=11) == [i for i in first if i % 3]


def _queue(ordering, *, includes=5, excludes=5, fraction=0.25):
    ids = list("abcdefgh")
    scores = [0.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    return ranking.order_queue(
        ids,
        scores,
        ordering=ordering,
        seed=5,
        random_fraction=fraction,
        min_includes=2,
        min_excludes=2,
        known_includes=includes,
        known_excludes=excludes,
    )


def test_order_queue_relevance_random_and_the_minimum():
    shuffled = ranking.random_order(list("abcdefgh"), seed=5)
    assert _queue("relevance") == list("bcdefgha")
    assert _queue("random") == shuffled
    assert _queue("relevance", includes=1) == shuffled  # too few includes: random
    assert _queue("mixed", excludes=0) == shuffled
    assert (
        ranking.effective_ordering(
            "relevance", known_includes=2, known_excludes=1, min_includes=2, min_excludes=2
        )
        == "random"
    )


def test_order_queue_mixed_takes_every_fourth_place_from_random():
    shuffled = ranking.random_order(list("abcdefgh"), seed=5)
    order = _queue("mixed", fraction=0.25)
    assert sorted(order) == list("abcdefgh")
    # places 3 and 7 (0-based) come from the random order, the rest from the relevance order
    relevance = iter("bcdefgha")
    expected: list[str] = []
    random_iter = iter(shuffled)
    for k in range(8):
        source = random_iter if k in (3, 7) else relevance
        expected.append(next(r for r in source if r not in expected))
    assert order == expected
    assert _queue("mixed", fraction=0.0) == list("bcdefgha")


def test_order_queue_refuses_bad_input():
    with pytest.raises(InvalidInput):
        _queue("alphabetical")
    with pytest.raises(InvalidInput):
        _queue("mixed", fraction=1.5)
    with pytest.raises(InvalidInput, match="needs relevance scores"):
        ranking.order_queue(
            ["a"],
            None,
            ordering="relevance",
            seed=1,
            random_fraction=0.1,
            min_includes=1,
            min_excludes=1,
            known_includes=1,
            known_excludes=1,
        )


def test_include_weights_follow_asreview_balanced_ratio():
    # ASReview's Balanced(ratio): includes weigh 1, excludes R/(ratio·E); scaled to sum to n
    y = np.array([1, 0, 0, 0, 1, 0])
    w = ranking._ratio_weights(y, 9.8)
    assert w.sum() == pytest.approx(6.0)
    assert w[y == 1].sum() / w[y == 0].sum() == pytest.approx(9.8)
    assert ranking.MODEL_PARAMETERS["logistic"]["include_ratio"] == 9.8


def test_features_follow_asreview_elas_u4_min_df_1_max_df_095():
    # ELAS u4 (asreview/models/models.py, ASReview 2-3): TF-IDF uni+bigrams, sublinear tf,
    # min_df 1, max_df 0.95. A term in 58 of 60 records (96.7 %) is dropped; one in a single
    # record is kept, with its bigrams.
    texts = [f"cirrhosis cohort record{i}" for i in range(58)] + ["rare word", "other text"]
    vocabulary = ranking.fit_features(texts).vectoriser.vocabulary_
    assert "cirrhosis" not in vocabulary and "cohort" not in vocabulary
    assert {"rare", "word", "rare word", "record7", "cohort record7"} <= set(vocabulary)
    # below SMALL_CORPUS records max_df is 1.0: a word in every record stays
    assert "cirrhosis" in ranking.fit_features(texts[:10]).vectoriser.vocabulary_
    # accents kept, as ASReview's TfidfVectorizer (no strip_accents): two spellings, two terms
    assert {"canción", "cancion"} <= set(
        ranking.fit_features(["canción popular", "cancion infantil"]).vectoriser.vocabulary_
    )
    assert ranking.DEFAULT_MODEL == "svm"
    assert ranking.MODEL_PARAMETERS["svm"]["C"] == 0.11
