"""HTTP client for trading systems: notarize events, fetch and upgrade receipts.

Every event gets an id before it is sent (the caller's, or a fresh UUID), so a retry
after a timeout or a 5xx sends the same id and the notary answers with the same
receipt instead of logging the event twice.
"""
from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from lianzheng.sdk.errors import NotaryClientError
from lianzheng.sdk.receipt import Receipt, parse_receipt

__all__ = ["NotaryClient", "NotaryClientError"]

RETRY_STATUSES = {429, 502, 503, 504}


class NotaryClient:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0, retries: int = 4,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.retries = retries

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "NotaryClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, raw: bool = False, **kwargs: Any) -> Any:
        delay = 0.2
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            wait = delay
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError:
                if last:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    break
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    wait = max(delay, float(retry_after))
            time.sleep(wait)
            delay = min(delay * 2, 5.0)
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = body.get("code", "http_error"), body.get("message", response.text)
            except ValueError:
                code, message = "http_error", response.text[:200]
            raise NotaryClientError(response.status_code, code, message)
        return response.content if raw else orjson.loads(response.content)

    @staticmethod
    def _with_id(event: dict[str, Any]) -> dict[str, Any]:
        return event if event.get("id") else {**event, "id": uuid.uuid4().hex}

    def notarize(self, event: dict[str, Any]) -> Receipt:
        """Log one event; returns its (pending) receipt once the notary holds it durably."""
        return parse_receipt(self._request("POST", "/v1/events", json=self._with_id(event)))

    def notarize_batch(self, events: Iterable[dict[str, Any]], batch_size: int = 1000) -> list[Receipt]:
        """Log many events, ``batch_size`` per request; receipts in the order given."""
        receipts: list[Receipt] = []
        batch: list[dict[str, Any]] = []
        for event in events:
            batch.append(self._with_id(event))
            if len(batch) == batch_size:
                receipts += self._send_batch(batch)
                batch = []
        if batch:
            receipts += self._send_batch(batch)
        return receipts

    def _send_batch(self, batch: list[dict[str, Any]]) -> list[Receipt]:
        body = self._request("POST", "/v1/events", json={"events": batch})
        return [parse_receipt(r) for r in body["receipts"]]

    def receipt(self, event_id: str) -> Receipt:
        return parse_receipt(self._request("GET", f"/v1/receipts/{event_id}"))

    def wait_anchored(self, event_id: str, timeout: float = 30.0, poll: float = 0.2) -> Receipt:
        """The receipt once anchored; ``TimeoutError`` if it is still pending after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.receipt(event_id)
            if receipt.status == "anchored":
                return receipt
            if time.monotonic() > deadline:
                raise TimeoutError(f"event {event_id} not anchored after {timeout}s")
            time.sleep(poll)

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/healthz")

    def checkpoint(self, size: int | None = None) -> dict[str, Any]:
        """The latest anchored checkpoint, or the one anchored at exactly ``size``."""
        return self._request("GET", "/v1/checkpoint", params={} if size is None else {"size": size})

    def consistency(self, from_size: int, to_size: int) -> list[bytes]:
        """The RFC 9162 consistency proof between two tree sizes."""
        body = self._request("GET", "/v1/proofs/consistency", params={"from": from_size, "to": to_size})
        return [base64.b64decode(h) for h in body["hashes"]]

    def cosign(self, cosignature: dict[str, Any], tree_size: int, root: bytes) -> dict[str, Any]:
        """Hand over an alliance member's cosignature (``sdk.receipt.Cosignature`` fields) of the
        checkpoint anchored at ``tree_size`` with ``root``; the notary checks it before holding it."""
        return self._request("POST", "/v1/cosignatures", json={**cosignature, "tree_size": tree_size,
                                                                "root": root.hex()})

    def entries(self, start: int, end: int) -> list[dict[str, Any]]:
        """Log entries [start, end): index, event id and event digest (hex)."""
        return self._request("GET", "/v1/entries", params={"start": start, "end": end})["entries"]

    def documents(self, sha256: str) -> list[dict[str, Any]]:
        return self._request("GET", f"/v1/documents/{sha256}")["events"]

    def config(self) -> dict[str, Any]:
        """Chain id, registry and the JSON-RPC URL the notary advertises to witnesses."""
        return self._request("GET", "/v1/config")

    def timeline(self, project: str, section: str | None = None) -> dict[str, Any]:
        params = {"project": project, **({"section": section} if section else {})}
        return self._request("GET", "/v1/timeline", params=params)

    def certificate(self, section: str, project: str | None = None) -> bytes:
        """The witness certificate (PDF bytes) of a section."""
        return self._request("GET", f"/v1/certificates/{quote(section, safe='')}", raw=True,
                             params={"project": project} if project else {})
