"""HTTP to the API with ``requests``; every failure becomes a CliError that says what happened.

The server's JSON errors carry ``code`` and ``message``: those are passed on, with what to do
added for the codes a participant meets most (an expired or revoked token, a file too large).
Anything else (no server, a proxy's HTML page, a timeout) is named with the URL involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

from .errors import CliError

USER_AGENT = "leaderboard-cli/1"
# Seconds to connect, and to wait for an answer; an upload may take long to be answered.
TIMEOUT = (10.0, 60.0)
UPLOAD_TIMEOUT = (10.0, 600.0)


class Api:
    """One server, one optional token."""

    def __init__(self, *, server: str, token: str | None = None) -> None:
        self.server = server
        self.token = token
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def url(self, path: str) -> str:
        """``/api/...`` on this server; a link the server sent (``next``) is re-based onto it,
        so the token goes only where the user pointed the client, whatever a proxy rewrote."""
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        return f"{self.server}{path}"

    def get_json(self, path: str, *, params: dict | None = None) -> Any:
        response = self._send("GET", path, params=params, headers={"Accept": "application/json"})
        return _json(response)

    def send_json(self, method: str, path: str, *, body: dict | None = None) -> Any:
        """POST, PUT or DELETE with a JSON body (or none); the answer's JSON."""
        response = self._send(method, path, json=body, headers={"Accept": "application/json"})
        return _json(response)

    def get_text(self, path: str, *, params: dict | None = None, accept: str) -> str:
        response = self._send("GET", path, params=params, headers={"Accept": accept})
        return response.content.decode(response.encoding or "utf-8")

    def get_all(self, path: str) -> tuple[Any, list]:
        """Follow ``next`` links; returns the first page's body and every page's results."""
        first = body = self.get_json(path)
        results = list(body.get("results", []))
        while body.get("next"):
            body = self.get_json(body["next"])
            results.extend(body.get("results", []))
        return first, results

    def upload(
        self,
        path: str,
        *,
        fields: dict[str, str],
        file: Path,
        progress: Callable[[int, int], None] | None = None,
    ) -> Any:
        """POST a multipart form streamed from disk; ``progress(sent, total)`` as it goes."""
        with open(file, "rb") as handle:
            encoder = MultipartEncoder(
                fields={**fields, "file": (file.name, handle, "application/octet-stream")}
            )

            def report(monitor: MultipartEncoderMonitor) -> None:
                if progress is not None:
                    progress(monitor.bytes_read, monitor.len)

            body = MultipartEncoderMonitor(encoder, report)
            response = self._send(
                "POST",
                path,
                data=body,
                headers={"Content-Type": body.content_type, "Accept": "application/json"},
                timeout=UPLOAD_TIMEOUT,
            )
        return _json(response)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.url(path)
        kwargs.setdefault("timeout", TIMEOUT)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise CliError(
                f"TLS error talking to {self.server}: {_reason(exc)}", code="tls_error"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise CliError(
                f"{self.server} did not answer in time ({method} {url})", code="timeout"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            if method == "POST" and "data" in kwargs and not _never_connected(exc):
                raise CliError(
                    f"the connection to {self.server} broke during the upload: {_reason(exc)}",
                    code="upload_interrupted",
                ) from exc
            raise CliError(
                f"cannot reach the server at {self.server} ({_reason(exc)}); check the URL, "
                "or choose another with --server or LEADERBOARD_SERVER",
                code="server_unreachable",
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise CliError(f"{method} {url} failed: {_reason(exc)}", code="request_failed") from exc
        if response.status_code >= 400:
            raise error_from_response(response, server=self.server, sent_token=bool(self.token))
        return response


def error_from_response(response: requests.Response, *, server: str, sent_token: bool) -> CliError:
    """The server's code and message, with the next step added where there is an obvious one."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("code"):
        return _not_api_error(response, server=server)
    code = str(body["code"])
    message = str(body.get("message") or "").strip() or f"HTTP {status} {response.reason}"
    retry_after = body.get("retry_after")
    if code == "token_invalid":
        message = f"token invalid or revoked: run `leaderboard-cli login` ({message})"
    elif code == "token_expired":
        message = (
            f"token expired: run `leaderboard-cli login` with a new token from "
            f"{server}/me/tokens/ ({message})"
        )
    elif code == "not_authenticated":
        message = (
            f"not logged in to {server}: run `leaderboard-cli login`" if not sent_token else message
        )
    elif code == "throttled" and retry_after is not None:
        message = f"{message} (the server limits requests per user)"
    elif code == "validation_error" and isinstance(body.get("fields"), dict):
        message = "; ".join(_field_messages(body["fields"])) or message
    return CliError(message, code=code, status=status, retry_after=retry_after)


def _not_api_error(response: requests.Response, *, server: str) -> CliError:
    """An answer that is not one of the API's JSON errors: a proxy, or not our server at all."""
    status = response.status_code
    where = f"{response.request.method} {response.url}"
    if status == 413:
        return CliError(
            f"the upload is larger than {server} accepts (HTTP 413 from {where}, "
            "probably a proxy's own limit)",
            code="file_too_large",
            status=status,
        )
    snippet = re.sub(r"\s+", " ", response.text[:200]).strip()
    hint = f" is {server} the address of a leaderboard site?" if status == 404 else ""
    detail = f": {snippet}" if snippet else ""
    return CliError(
        f"{where} answered HTTP {status} {response.reason}{detail}.{hint}",
        code=f"http_{status}",
        status=status,
    )


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise CliError(
            f"{response.request.method} {response.url} answered with something that is not "
            f"JSON ({response.headers.get('Content-Type', 'no content type')}); "
            "is this the address of a leaderboard site?",
            code="bad_response",
            status=response.status_code,
        ) from None


def _field_messages(fields: dict) -> list[str]:
    out = []
    for name, problems in fields.items():
        text = " ".join(str(p) for p in problems) if isinstance(problems, list) else str(problems)
        out.append(f"{name}: {text}" if name else text)
    return out


def _never_connected(exc: BaseException) -> bool:
    text = repr(exc)
    return any(
        mark in text
        for mark in ("NewConnectionError", "NameResolutionError", "Failed to establish")
    )


def _reason(exc: BaseException) -> str:
    """The useful part of a requests/urllib3 error: 'Connection refused', not the whole chain."""
    text = str(exc)
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if found:
        return found[-1].strip()
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    return text[:200] or type(exc).__name__
