"""``<id:name>`` in page URLs: an integer that can be a row's id, else the URL does not match.

Django's ``<int:…>`` takes any number of digits; a 20-digit id then reached the
database, which refused it (PostgreSQL: bigint out of range, a 500). Ids beyond a
signed 64-bit integer cannot name a row: such a URL is a 404 like any unknown page.
(The REST API checks its ids in its schemas: ``comptoir.api.schemas.ObjectId``.)
"""

from django.urls import register_converter

MAX_BIGINT = 2**63 - 1


class ObjectIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_BIGINT:
            raise ValueError("beyond a bigint")  # Django: this pattern does not match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(ObjectIdConverter, "id")
