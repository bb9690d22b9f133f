"""Loading the assistant's models before anyone waits, and agent assist while they load.

The first prediction of a process loads sentence encoders and a language model
(seconds; far more on a busy machine). ``engine.warm_up`` loads them up front;
until it has run, agent assist answers "loading" at once and the console asks again.
"""

import logging

import pytest
from django.urls import reverse

from comptoir.assistant import engine
from comptoir.assistant.models import TrainedModel
from comptoir.assistant.nlu import encoders
from tests.factories import ingest_chat, make_brand
from tests.test_assistant import setup_assistant


@pytest.fixture
def cold_process():
    """This process as before any warm-up; warmed up again afterwards for the other tests."""
    engine.forget_warm_up()
    yield
    if not engine.models_ready():
        engine.warm_up()


def test_warm_up_loads_the_encoders_and_the_enabled_brands_classifiers(
    brand, django_assert_num_queries
):
    setup_assistant(brand)
    switched_off = make_brand("Switched off")
    setup_assistant(switched_off, enabled=False)
    untrained = make_brand("Untrained")
    setup_assistant(untrained)
    TrainedModel.objects.filter(brand=untrained).update(data=None, trained_at=None)
    engine.forget_classifiers()
    encoders._encoder.cache_clear()  # as in a new process (training loaded them here)

    report = engine.warm_up()

    assert engine.models_ready()
    assert report.encoders == encoders.installed_encoders()
    assert encoders._encoder.cache_info().currsize == len(report.encoders)
    assert report.brand_ids == [brand.pk]  # on and trained: nothing to load for the others
    assert report.failures == []
    with django_assert_num_queries(1):  # its trained_at only: the classifier is in memory
        assert engine.classifier_for(brand.pk) is not None


def test_a_second_warm_up_reloads_nothing(brand, django_assert_num_queries):
    setup_assistant(brand)
    engine.warm_up()
    loaded = {name: encoders.get_encoder(name) for name in encoders.installed_encoders()}
    classifier = engine.classifier_for(brand.pk)

    # The brands with the assistant on, then each one's trained_at: no model bytes read.
    with django_assert_num_queries(2):
        report = engine.warm_up()

    assert report.brand_ids == [brand.pk]
    assert engine.classifier_for(brand.pk) is classifier
    assert {name: encoders.get_encoder(name) for name in loaded} == loaded


def test_a_broken_model_is_one_warning_and_the_rest_still_loads(brand, caplog):
    broken = make_brand("Broken")
    setup_assistant(broken)
    TrainedModel.objects.filter(brand=broken).update(data=b"not a model")
    setup_assistant(brand)
    engine.forget_classifiers()
    caplog.set_level(logging.INFO, logger="comptoir.assistant.engine")

    report = engine.warm_up()

    assert engine.models_ready()
    assert report.brand_ids == [brand.pk]
    assert [failure.split(":")[0] for failure in report.failures] == [
        f"brand {broken.pk}'s classifier"
    ]
    ours = [r for r in caplog.records if r.name == engine.logger.name]
    warnings = [r for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and f"brand {broken.pk}'s classifier" in warnings[0].getMessage()
    assert warnings[0].exc_info is None


@pytest.mark.django_db(transaction=True)
def test_warm_up_in_background_runs_one_daemon_thread_at_a_time(cold_process):
    thread = engine.warm_up_in_background()
    again = engine.warm_up_in_background()

    assert thread.daemon
    assert again is thread or not thread.is_alive()  # a second one only once the first ended
    thread.join(timeout=300)
    again.join(timeout=300)
    assert engine.models_ready()


@pytest.mark.django_db(transaction=True)
def test_agent_assist_says_loading_until_the_models_are_loaded(cold_process, brand, agent_client):
    setup_assistant(brand)
    message = ingest_chat(brand, "What are your opening hours?")
    url = reverse("assistant:assist", args=[message.conversation_id])

    waiting = agent_client.get(url)

    assert waiting.status_code == 200
    assert waiting.json() == {
        "loading": True,
        "message": "",
        "language": "",
        "suggestions": [],
        "passages": [],
    }
    # The request started the warm-up (a server usually has already): wait for it to end.
    engine.warm_up_in_background().join(timeout=300)
    assert engine.models_ready()
    ready = agent_client.get(url).json()
    assert ready["loading"] is False
    assert "Monday to Saturday" in ready["suggestions"][0]["text"]
