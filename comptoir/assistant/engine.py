"""Training a brand's classifier and serving its predictions from memory.

Training happens in a worker when intents changed (``configure.request_training``,
``listeners.retrain``). Predictions load the trained bytes once per process and
keep the classifier in memory, keyed by (brand, trained_at): a retrain
anywhere changes ``trained_at`` and the next prediction here reloads it.

The models behind a prediction (sentence encoders, language detector) take
seconds to load, once per process: ``warm_up`` loads them before anyone waits,
and ``models_ready`` tells whether it has run here.
"""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib import import_module
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from comptoir.assistant.models import AssistantSettings, Intent, TrainedModel

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_classifiers: dict[int, tuple[datetime, object]] = {}

_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None
_models_ready = threading.Event()
# Long enough for the language detector to use its model, not its short-text lexicon.
_WARM_UP_TEXT = "Bonjour, où en est ma commande ? Hello, where is my order?"


def training_examples(brand_id: int) -> tuple[list[tuple[str, str]], str]:
    """(text, intent name) pairs of the brand's intents, and a hash of everything that matters."""
    examples = []
    for name, fr, en in (
        Intent.objects.filter(brand_id=brand_id)
        .order_by("name")
        .values_list("name", "training_phrases_fr", "training_phrases_en")
    ):
        for phrase in [*(fr or []), *(en or [])]:
            if isinstance(phrase, str) and phrase.strip():
                examples.append((phrase.strip(), name))
    digest = hashlib.sha256(json.dumps(examples, ensure_ascii=False).encode()).hexdigest()
    return examples, digest


def train_brand(brand_id: int) -> TrainedModel:
    """Train the brand's classifier from its intents now (seconds) and store it."""
    from comptoir.assistant.nlu.classifier import IntentClassifier
    from comptoir.assistant.nlu.fixtures import GENERIC_OUT_OF_SCOPE

    started = timezone.now()
    examples, digest = training_examples(brand_id)
    model, _ = TrainedModel.objects.get_or_create(brand_id=brand_id)
    if model.data is not None and model.intents_hash == digest:
        TrainedModel.objects.filter(pk=model.pk).update(requested_at=None, last_error="")
        return model
    data: bytes | None = None
    error = ""
    if len({name for _, name in examples}) >= 2:
        try:
            # Generic small talk and unrelated questions teach it what is *not* a request.
            data = IntentClassifier.train(examples, oos_examples=GENERIC_OUT_OF_SCOPE).to_bytes()
        except Exception as exc:  # a bad phrase set must not stop the worker
            logger.exception("training the assistant of brand %s failed", brand_id)
            error = f"{type(exc).__name__}: {exc}"
    else:
        error = "at least two intents with training phrases are needed"
    with transaction.atomic():
        model = TrainedModel.objects.select_for_update().get(pk=model.pk)
        if error:
            model.last_error = error
        else:
            model.data = data
            model.trained_at = timezone.now()
            model.intents_hash = digest
            model.last_error = ""
        # A change made while training keeps the request: the next round trains again.
        if model.requested_at is None or model.requested_at <= started:
            model.requested_at = None
        model.save()
    return model


def classifier_for(brand_id: int):
    """The brand's classifier from memory (loaded once per training), or None if untrained."""
    trained_at = (
        TrainedModel.objects.filter(brand_id=brand_id, trained_at__isnull=False)
        .values_list("trained_at", flat=True)
        .first()
    )
    if trained_at is None:
        return None
    cached = _classifiers.get(brand_id)
    if cached is not None and cached[0] == trained_at:
        return cached[1]
    from comptoir.assistant.nlu.classifier import IntentClassifier

    data = TrainedModel.objects.filter(brand_id=brand_id).values_list("data", flat=True).first()
    if data is None:
        return None
    classifier = IntentClassifier.from_bytes(bytes(data))
    with _lock:
        _classifiers[brand_id] = (trained_at, classifier)
    return classifier


def forget_classifiers() -> None:
    with _lock:
        _classifiers.clear()


@dataclass
class WarmUpReport:
    """What ``warm_up`` loaded, and what it could not (with the reason)."""

    encoders: list[str] = field(default_factory=list)
    brand_ids: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def warm_up() -> WarmUpReport:
    """Load the assistant's models into this process: sentence encoders, language and
    sentiment models, and the classifier of every brand with the assistant switched on.

    Otherwise the first prediction pays for them (~5 s, far more on a busy
    machine) while a customer or an agent waits. Servers and workers call it at
    start, in the background (``warm_up_in_background``); never at import or in
    ``AppConfig.ready``, so that management commands and tests stay fast.

    Idempotent: loaded models stay loaded, so a second call costs one query and
    one prediction per brand. A model that is missing or fails to load is
    logged in one line and skipped; the rest still loads, and the look-up that
    needs it fails as it would have without the warm-up. ``models_ready`` is
    true afterwards either way: nothing would change by waiting longer.
    """
    started = time.monotonic()
    report = WarmUpReport()

    def attempt(what: str, load: Callable[[], Any]) -> Any:
        """``load()``, or None when it failed (logged in one line)."""
        try:
            return load()
        except Exception as error:  # a missing model must not stop a server from starting
            report.failures.append(f"{what}: {type(error).__name__}: {error}")
            logger.warning("assistant warm-up: %s not loaded: %s", what, error)
            return None

    try:
        from comptoir.assistant.nlu import encoders
        from comptoir.assistant.nlu.language import detect_language
        from comptoir.assistant.nlu.sentiment import sentiment

        # Its import alone takes seconds (scikit-learn), and classifier_for needs it.
        attempt("intent classifier", lambda: import_module("comptoir.assistant.nlu.classifier"))
        for name in encoders.installed_encoders():
            # Encoding loads the weights (some encoders load them lazily, on first use).
            embedding = attempt(f"sentence encoder {name}", partial(encoders.encode, name, ["ok"]))
            if embedding is not None:
                report.encoders.append(name)
        attempt("language detector", partial(detect_language, _WARM_UP_TEXT))
        for language in ("fr", "en"):
            attempt(f"sentiment lexicon ({language})", partial(sentiment, "ok", language))
        enabled = attempt("the brands with the assistant on", _enabled_brand_ids) or []
        for brand_id in enabled:
            load = partial(_load_classifier, brand_id)
            if attempt(f"brand {brand_id}'s classifier", load) is not None:
                report.brand_ids.append(brand_id)
    finally:
        _models_ready.set()
    report.seconds = time.monotonic() - started
    logger.info(
        "assistant models loaded in %.1f s (encoders: %s; brands: %s)",
        report.seconds,
        ", ".join(report.encoders) or "none",
        ", ".join(map(str, report.brand_ids)) or "none",
    )
    return report


def _enabled_brand_ids() -> list[int]:
    return list(
        AssistantSettings.objects.filter(enabled=True)
        .order_by("brand_id")
        .values_list("brand_id", flat=True)
    )


def _load_classifier(brand_id: int):
    """The brand's classifier, loaded and tried once (None while it is not trained)."""
    classifier = classifier_for(brand_id)
    if classifier is not None:
        classifier.predict(_WARM_UP_TEXT)  # runs its encoders and whatever it builds on first use
    return classifier


def warm_up_in_background() -> threading.Thread:
    """Start ``warm_up`` in a daemon thread and return at once (with that thread).

    One at a time: while a warm-up runs, this returns the running one. A daemon,
    so that a server stopping during the load does not wait for it.
    """
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None or not _warm_up_thread.is_alive():
            _warm_up_thread = threading.Thread(
                target=_warm_up_then_close, name="assistant-warm-up", daemon=True
            )
            _warm_up_thread.start()
        return _warm_up_thread


def _warm_up_then_close() -> None:
    try:
        warm_up()
    except Exception:  # warm_up catches what it expects; anything else is a bug to see
        logger.exception("assistant warm-up failed")
    finally:
        connections.close_all()  # this thread's connections only: it ends here


def models_ready() -> bool:
    """True once ``warm_up`` has run in this process (predictions no longer wait on a load)."""
    return _models_ready.is_set()


def forget_warm_up() -> None:
    """Back to "not warmed up" (tests of what happens before; the models stay loaded)."""
    _models_ready.clear()
