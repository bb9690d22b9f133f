import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from comptoir.assistant import engine
from comptoir.process_cache import forget_every_cache
from comptoir.tenancy.models import Role
from tests.factories import make_agent, make_brand
from tests.waiting import DEFAULT_TIMEOUT

# Browser assertions wait for a state up to the same generous cap as ``wait_until``
# (Playwright's default, 5 s, is too short for a busy two-core machine); they return as
# soon as the page shows it.
expect.set_options(timeout=DEFAULT_TIMEOUT * 1000)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many agents.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Every event appended by a test must match its kind's schema.
    settings.EVENTS_VALIDATE_PAYLOADS = True


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache (in the process without REDIS_URL): each test
    # starts with none.
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_assistant_caches():
    # Brand ids are reused between tests on SQLite: no process cache of the assistant
    # (brands with it switched on, trained classifiers) may outlive a test.
    # Nor any hot path's per-process answer (``comptoir.process_cache``).
    forget_every_cache()
    engine.forget_classifiers()
    yield
    forget_every_cache()
    engine.forget_classifiers()


@pytest.fixture
def brand(db):
    return make_brand("Maison")


@pytest.fixture
def other_brand(db):
    return make_brand("Rival")


@pytest.fixture
def agent(brand):
    return make_agent(brand, first_name="Camille")


@pytest.fixture
def colleague(brand):
    return make_agent(brand, first_name="Julien")


@pytest.fixture
def admin(brand):
    """An administrator of ``brand``: configures the assistant."""
    return make_agent(brand, Role.ADMIN, first_name="Ada")


@pytest.fixture
def outsider(other_brand):
    """An agent of another brand: must never see anything of ``brand``."""
    return make_agent(other_brand, first_name="Eve")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider.user)
    return client
