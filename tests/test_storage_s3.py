"""Attachments on an S3-compatible bucket: a real S3 server (moto's) in this process.

The widget's upload and both download views (the visitor's and the agent's) run
unchanged; only ``STORAGES`` differs, as ``STORAGE_URL`` sets it in production.
"""

import boto3
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from moto.server import ThreadedMotoServer

from comptoir.conversations.models import Attachment
from comptoir.storage_settings import storage_settings
from tests.live_server import free_port
from tests.test_widget import PNG, get_attachment, send, start_session, upload

BUCKET = "comptoir-attachments"
KEY, SECRET = "test-key", "test-secret"  # moto accepts any credentials


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name="eu-west-3",
    ).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    settings.STORAGES = storage_settings(
        {
            "STORAGE_URL": f"s3://{KEY}:{SECRET}@{BUCKET}/tenant-a"
            f"?endpoint_url={s3_endpoint}&region_name=eu-west-3"
        }
    )
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name="eu-west-3",
    )


def test_storage_url_and_aws_variables_select_s3_and_local_files_stay_the_default():
    assert storage_settings({})["default"]["BACKEND"].endswith("FileSystemStorage")
    from_url = storage_settings(
        {"STORAGE_URL": "s3://k%2Fey:s%40cret@bucket/prefix?endpoint_url=http://minio:9000"}
    )["default"]
    assert from_url["BACKEND"] == "storages.backends.s3.S3Storage"
    assert from_url["OPTIONS"] == {
        "bucket_name": "bucket",
        "location": "prefix",
        "access_key": "k/ey",
        "secret_key": "s@cret",
        "endpoint_url": "http://minio:9000",
        "default_acl": None,
        "file_overwrite": True,
    }
    from_aws = storage_settings({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_REGION_NAME": "eu"})
    assert from_aws["default"]["OPTIONS"]["bucket_name"] == "b"
    assert from_aws["default"]["OPTIONS"]["region_name"] == "eu"
    with pytest.raises(ValueError, match="unknown option"):
        storage_settings({"STORAGE_URL": "s3://bucket?acl=public-read"})


@pytest.mark.django_db
def test_a_widget_attachment_goes_to_the_bucket_and_comes_back_through_the_views(
    client, brand, agent, s3_storage, settings
):
    token = start_session(client, brand).json()["token"]
    sent = send(client, token, "la photo", files=[upload("photo.png", PNG, "image/png")])
    assert sent.status_code == 201, sent.content
    attachment = Attachment.objects.get()

    # In the bucket, under the prefix; nothing on the local disk.
    stored = s3_storage.get_object(Bucket=BUCKET, Key=f"tenant-a/{attachment.file.name}")
    assert stored["Body"].read() == PNG
    assert not (settings.MEDIA_ROOT / attachment.file.name).exists()
    assert type(default_storage._wrapped).__name__ == "S3Storage"

    # The visitor downloads it through the widget's view…
    response = get_attachment(client, attachment.pk, token)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"

    # …and the agent through the console's, while another brand's agent gets a 404.
    client.force_login(agent.user)
    url = reverse("console:attachment", args=[attachment.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.django_db
def test_another_brands_agent_cannot_read_a_bucket_attachment(client, brand, outsider, s3_storage):
    token = start_session(client, brand).json()["token"]
    send(client, token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment = Attachment.objects.get()
    client.force_login(outsider.user)
    assert client.get(reverse("console:attachment", args=[attachment.pk])).status_code == 404
    client.logout()
    assert get_attachment(client, attachment.pk, token).status_code == 200
