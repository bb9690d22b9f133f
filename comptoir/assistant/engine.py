"""Training a brand's classifier and serving its predictions from memory.

Training happens in the worker when intents changed (see ``signals`` and
``jobs.run_due``). Predictions load the trained bytes once per process and
keep the classifier in memory, keyed by (brand, trained_at): a retrain
anywhere changes ``trained_at`` and the next prediction here reloads it.
"""

import hashlib
import json
import logging
import threading
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from comptoir.assistant.models import Intent, TrainedModel

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_classifiers: dict[int, tuple[datetime, object]] = {}


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
