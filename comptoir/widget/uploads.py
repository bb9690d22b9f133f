"""Which files a chat visitor may send, checked while the upload streams in.

A refused file is dropped as soon as it is known to be refused (declared type on
its first line, size once it passes the limit), so an oversized upload never
fills the disk and never costs the visitor the text sent with it: the other
form fields are still parsed and the view can store the text and say why the
file was refused.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest

from comptoir.conversations.attachment_policy import (
    content_matches_type,
    declared_type_allowed,
    name_allowed,
)

# Beyond this many files in one message the rest are refused.
MAX_FILES_PER_MESSAGE = 5
# Enough of the start of a file to recognise its format.
HEAD_BYTES = 1024

STATUS_FOR_REFUSAL = {"file_too_large": 413, "too_many_files": 413, "file_type_refused": 415}


@dataclass(frozen=True)
class RefusedUpload:
    filename: str
    code: str  # a key of STATUS_FOR_REFUSAL

    @property
    def status(self) -> int:
        return STATUS_FOR_REFUSAL[self.code]


class GuardedUploadHandler(TemporaryFileUploadHandler):
    """Streams each accepted file to a temporary file; refused ones end up in ``refused``."""

    def __init__(self, request: HttpRequest | None = None):
        super().__init__(request)
        self.refused: list[RefusedUpload] = []
        self.files_seen = 0
        self.refusal: str | None = None
        self.head = b""

    def new_file(
        self,
        field_name,
        file_name,
        content_type,
        content_length,
        charset=None,
        content_type_extra=None,
    ):
        self.files_seen += 1
        self.head = b""
        self.refusal = None
        self.file_name = file_name
        self.content_type = (content_type or "").strip().lower()
        if self.files_seen > MAX_FILES_PER_MESSAGE:
            self.refusal = "too_many_files"
        elif not declared_type_allowed(self.content_type) or not name_allowed(file_name or ""):
            self.refusal = "file_type_refused"
        elif content_length is not None and content_length > settings.ATTACHMENT_MAX_BYTES:
            self.refusal = "file_too_large"
        if self.refusal is None:
            super().new_file(
                field_name, file_name, content_type, content_length, charset, content_type_extra
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.refusal is not None:
            return None
        if start + len(raw_data) > settings.ATTACHMENT_MAX_BYTES:
            self._drop("file_too_large")
            return None
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.refusal is None and not content_matches_type(self.content_type, self.head):
            self._drop("file_type_refused")
        if self.refusal is not None:
            self.refused.append(RefusedUpload(self.file_name or "", self.refusal))
            return None
        uploaded = super().file_complete(file_size)
        # The parser closes ``handler.file`` on errors; it must never be an accepted file.
        del self.file
        return uploaded

    def _drop(self, code: str) -> None:
        self.refusal = code
        if hasattr(self, "file"):
            self.file.close()  # a temporary upload file deletes itself on close
            del self.file


def guard_uploads(request: HttpRequest) -> GuardedUploadHandler:
    """Make ``request`` parse its files through a guard; call before touching POST/FILES."""
    guard = GuardedUploadHandler(request)
    request.upload_handlers = [guard]
    return guard
