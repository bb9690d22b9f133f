"""Where attachments are kept: ``STORAGES`` from the environment.

Local files under ``MEDIA_ROOT`` by default (one machine). Web processes on several
machines need one store they all read and write: an S3-compatible bucket (AWS S3,
MinIO, Ceph, Scaleway, OVH…) through django-storages, chosen by either

- ``STORAGE_URL=s3://[KEY:SECRET@]bucket[/prefix]?endpoint_url=…&region_name=…``
  (key and secret percent-encoded; without them boto3 finds credentials as usual:
  ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, an instance role…), or
- ``AWS_STORAGE_BUCKET_NAME`` with the optional ``AWS_S3_ENDPOINT_URL``,
  ``AWS_S3_REGION_NAME`` and ``AWS_LOCATION`` (a key prefix).

Files stay private: no ACL is set (the bucket's policy applies) and every download
goes through Comptoir's permission-checked views, never a public bucket URL.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FILES = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"
STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Query parameters of STORAGE_URL passed on to S3Storage as they are.
S3_URL_OPTIONS = {"endpoint_url", "region_name", "addressing_style", "signature_version"}


def s3_options_from_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ValueError("STORAGE_URL must look like s3://[key:secret@]bucket[/prefix]?…")
    options: dict[str, Any] = {"bucket_name": parts.hostname}
    if parts.path.strip("/"):
        options["location"] = parts.path.strip("/")
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    for name, values in parse_qs(parts.query).items():
        if name not in S3_URL_OPTIONS:
            raise ValueError(f"STORAGE_URL: unknown option {name!r} (known: {S3_URL_OPTIONS})")
        options[name] = values[-1]
    return options


def s3_options_from_aws_variables(env: Mapping[str, str]) -> dict[str, Any]:
    names = {
        "AWS_STORAGE_BUCKET_NAME": "bucket_name",
        "AWS_S3_ENDPOINT_URL": "endpoint_url",
        "AWS_S3_REGION_NAME": "region_name",
        "AWS_LOCATION": "location",
    }
    return {option: env[variable] for variable, option in names.items() if env.get(variable)}


def storage_settings(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Django's ``STORAGES``: attachments on local files or S3, static files unchanged."""
    if env.get("STORAGE_URL"):
        s3 = s3_options_from_url(env["STORAGE_URL"])
    elif env.get("AWS_STORAGE_BUCKET_NAME"):
        s3 = s3_options_from_aws_variables(env)
    else:
        return {"default": {"BACKEND": FILES}, "staticfiles": {"BACKEND": STATIC}}
    # Stored names are random (conversations.models.attachment_path): no existence check.
    s3.update(default_acl=None, file_overwrite=True)
    return {"default": {"BACKEND": S3, "OPTIONS": s3}, "staticfiles": {"BACKEND": STATIC}}
