"""Over a real socket: the size cap answers before the body has been read."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from leaderboard.models import Submission
from tests.leaderboard.factories import make_edition

pytestmark = pytest.mark.django_db(transaction=True)
BOUNDARY = "capcheck"


def test_the_cap_answers_413_having_read_a_fraction_of_the_declared_body(
    live_server, token, challenge, settings
):
    make_edition(challenge=challenge, max_upload_mb=1)
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="method_name"\r\n\r\nbig\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.onnx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    declared = 200 * 2**20  # what the client says it will send
    sent = head + b"\0" * (256 * 1024)  # what it actually sends before waiting for an answer
    url = urlsplit(live_server.url)
    request = (
        "POST /api/challenges/fmnist/editions/2025/submissions/ HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        f"Authorization: Token {token.key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()

    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request + sent)
        response = http.client.HTTPResponse(sock)
        response.begin()  # a server reading the whole body first would block here: timeout
        body = json.loads(response.read(int(response.getheader("Content-Length"))))

    assert response.status == 413
    assert body["code"] == "file_too_large" and "limit of 1 MB" in body["message"]
    assert Submission.objects.count() == 0
    roots = (Path(settings.FILE_UPLOAD_TEMP_DIR), Path(settings.MEDIA_ROOT))
    assert [p for root in roots for p in root.rglob("*") if p.is_file()] == []
