"""Sending records to an ingest server: gzip batches, retries with backoff, nothing lost.

A batch counts as sent only when the server has answered with how many records were new; the sync
cursor moves after that, never before. A retried batch that the server had in fact stored is
harmless: the server keeps each (account, event_id) once.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import orjson

from collector.sync import Destination, Tally
from store.errors import UserError
from store.fields import Row, record_json
from store.settings import UPLOAD_BATCH

USER_AGENT = "codextime-collector"
#: Where the ingest service's routes live under a server's URL.
API_PREFIX = "/api/v1"
BATCH = int(UPLOAD_BATCH.value() or UPLOAD_BATCH.default)


class UploadError(UserError):
    """The server refused the records or could not be reached; the message says which."""


def api_url(server: str, route: str) -> str:
    """The URL of one of the ingest service's routes (``usage``, ``me``, ``accounts``)."""
    return f"{server.rstrip('/')}{API_PREFIX}/{route}"


def account_name(server: str, token: str) -> str:
    """The display name of the account ``token`` opens on ``server`` (how ``login`` checks a
    token before saving it)."""
    return str(me(server, token)["name"])


# -- the signed-in account (/api/v1/me) --------------------------------------------------------


def me(server: str, token: str) -> dict:
    """The account document: name, leaderboard opt-in, records, flagged records by reason, ..."""
    return _account_call("GET", server, token, "me", expect={"name": str})


def change_me(server: str, token: str, **changes: str | bool) -> dict:
    """Rename the account (``name``) or opt in or out of the leaderboard
    (``leaderboard_opt_in``); the account document as changed."""
    return _account_call("PATCH", server, token, "me", expect={"name": str}, json=changes)


def delete_me(server: str, token: str, confirm: str) -> int:
    """Delete the account and all its records (``confirm``: its current name, as the server
    asks); how many records went."""
    params = {"confirm": confirm}
    deleted = _account_call(
        "DELETE", server, token, "me", expect={"deleted_records": int}, params=params
    )
    return deleted["deleted_records"]


def sign_in_code(server: str, token: str) -> dict:
    """A one-time code that signs the shared dashboard in as this account: ``code``,
    ``expires_at`` and ``url`` (None when the server does not know its dashboard's address)."""
    return _account_call("POST", server, token, "me/sign-in-code", expect={"code": str})


def _account_call(
    method: str, server: str, token: str, route: str, *, expect: dict[str, type], **request
) -> dict:
    """One request about the token's own account: its JSON object, which has each field of
    ``expect`` with its type; any other answer is one line."""
    headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
    with _reaching(server):
        answer = httpx.request(
            method, api_url(server, route), headers=headers, timeout=30, **request
        )
        code = answer.status_code
        if code == 401:
            raise UploadError(f"{server} does not know this token: run `codextime login` again")
        if code == 404:
            raise UploadError(
                f"{server} does not offer {API_PREFIX}/{route} (HTTP 404): its ingest service "
                "is older than this collector"
            )
        if code in (403, 409, 422, 429):
            raise UploadError(f"{server} refused: {_detail(answer)}")
        if code != 200:
            raise UploadError(f"{server} failed (HTTP {code}): {_detail(answer)}")
        document = answer.json()
        if not isinstance(document, dict):
            raise TypeError("not a JSON object")
        for field, kind in expect.items():
            if not isinstance(document.get(field), kind):
                raise TypeError(f"no {field} ({kind.__name__})")
        return document


def sign_up(server: str, name: str) -> tuple[str, str]:
    """A new account on an open server: its first token and its display name."""
    with _reaching(server):
        made = httpx.post(
            api_url(server, "accounts"),
            json={"name": name},
            headers={"User-Agent": USER_AGENT},
            timeout=30,
        )
        if made.status_code in (403, 409, 422):
            raise UploadError(f"{server} refused the sign-up: {_detail(made)}")
        made.raise_for_status()
        return made.json()["token"], made.json()["name"]


@contextmanager
def _reaching(server: str) -> Iterator[None]:
    """A server that cannot be reached, or answers nonsense, told in one line."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise UploadError(f"cannot reach {server}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UploadError(
            f"{server} gave an answer that is not the ingest service's: {exc}"
        ) from None


class HttpSink(Destination):
    """The ingest server's account of ``token``: records go up in gzip batches."""

    noun = "server"

    def __init__(
        self,
        server: str,
        token: str,
        *,
        label: str | None = None,
        client: httpx.Client | None = None,
        batch: int = BATCH,
        retries: int = 6,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = api_url(server, "usage")
        self.me_url = api_url(server, "me")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": USER_AGENT,
        }
        self.label = label
        self.client = client or httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0))
        self.batch = max(1, batch)
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    def __call__(self, rows: list[Row]) -> int:
        new = 0
        for start in range(0, len(rows), self.batch):
            chunk = rows[start : start + self.batch]
            new += self._send([record_json(r, self.label) for r in chunk])
        return new

    def held(self, last: Tally | None) -> int | None:
        """How many records the server holds for this account (``records`` of ``/me``); None
        when it does not answer that now (the upload, if any, then says what is wrong)."""
        headers = {"Authorization": self.headers["Authorization"], "User-Agent": USER_AGENT}
        try:
            response = self.client.get(self.me_url, headers=headers)
            records = response.json()["records"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        return records if type(records) is int and records >= 0 else None

    def _send(self, records: list[dict]) -> int:
        body = gzip.compress(orjson.dumps({"records": records}), compresslevel=6)
        problem = "no answer"
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            try:
                response = self.client.post(self.url, content=body, headers=self.headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            code = response.status_code
            if code == 200:
                return int(response.json()["new"])
            if code == 413 and len(records) > 1:
                half = len(records) // 2
                return self._send(records[:half]) + self._send(records[half:])
            if code == 429 or code >= 500:
                problem = f"HTTP {code}"
                retry_after = response.headers.get("Retry-After", "")
                if code == 429 and retry_after.isdigit():
                    self.sleep(min(int(retry_after), 60))
                continue
            if code == 401:
                raise UploadError("the server refused the token (401); run `codextime login` again")
            raise UploadError(f"the server refused the records (HTTP {code}): {_detail(response)}")
        raise UploadError(
            f"{self.url} did not accept the records after {self.retries + 1} tries ({problem})"
        )


def _detail(response: httpx.Response) -> str:
    """What the server said went wrong, short: FastAPI's ``detail`` (a text, or a list of
    refusals whose ``msg`` parts are joined), else the start of the body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]
    if isinstance(detail, list):
        detail = "; ".join(
            str(part.get("msg", part)) if isinstance(part, dict) else str(part) for part in detail
        )
    return str(detail)[:300]
