"""PeerClient: signed requests to another node's peer endpoint.

One method per endpoint, named ``send_*`` (the node side names its handlers
``handle_*``). Every error a peer can cause surfaces as PeerUnreachableError
(could not talk to it) or PeerMisbehavedError (it answered with something we
refuse), with the peer's own problem detail when it sent one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..entries import MAX_ENTRY_BYTES
from ..errors import PeerMisbehavedError, PeerUnreachableError
from ..identity import Identity
from . import httpsig, messages
from .reconcile import Answer, Range

PREFIX = "/p2p/v1"
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_read=60)


@dataclass
class Traffic:
    """Bytes of HTTP bodies this client sent and received (headers are counted apart)."""

    sent: int = 0
    received: int = 0
    header_bytes: int = 0
    requests: int = 0


@dataclass(frozen=True)
class PeerInfo:
    protocol: int
    network: str | None
    member: str
    software: str


class PeerClient:
    def __init__(self, session: aiohttp.ClientSession, who: Identity) -> None:
        self.session = session
        self.who = who
        self.traffic = Traffic()

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        headers = httpsig.sign_request(self.who, method, path, body)
        headers["Content-Type"] = messages.CONTENT_TYPE
        return headers

    async def _post(self, url: str, endpoint: str, body: bytes) -> bytes:
        path = PREFIX + endpoint
        headers = self._headers("POST", path, body)
        self._count_request(path, headers, body)
        try:
            async with self.session.post(url + path, data=body, headers=headers) as resp:
                data = await resp.read()
                self._count_response(resp, data)
                if resp.status != 200:
                    raise _refusal(url, resp.status, data)
                return data
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise PeerUnreachableError(f"{url}: {exc.__class__.__name__}: {exc}") from exc

    def _count_request(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.traffic.requests += 1
        self.traffic.sent += len(body)
        self.traffic.header_bytes += len(path) + 16 + sum(len(k) + len(v) + 4 for k, v in headers.items())

    def _count_response(self, resp: aiohttp.ClientResponse, data: bytes | None) -> None:
        self.traffic.received += len(data or b"")
        self.traffic.header_bytes += 17 + sum(len(k) + len(v) + 4 for k, v in resp.raw_headers)

    async def send_info(self, url: str) -> PeerInfo:
        try:
            async with self.session.get(url + PREFIX + "/info") as resp:
                data = await resp.read()
                self._count_response(resp, data)
                if resp.status != 200:
                    raise _refusal(url, resp.status, data)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise PeerUnreachableError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        try:
            info = json.loads(data)
            return PeerInfo(
                protocol=int(info["protocol"]),
                network=info.get("network"),
                member=str(info["member"]),
                software=str(info.get("software", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PeerMisbehavedError(f"{url}: /info is not a p2pnet node's answer") from exc

    async def send_reconcile(self, url: str, network: bytes, ranges: Iterable[Range]) -> Answer:
        data = await self._post(url, "/reconcile", messages.encode_reconcile(network, ranges))
        try:
            return messages.decode_answer(data)
        except messages.WireError as exc:
            raise PeerMisbehavedError(f"{url}: bad reconcile answer: {exc}") from exc

    async def send_fetch(
        self, url: str, req: messages.FetchRequest, *, chunk_entries: int = 4000
    ) -> AsyncIterator[list[bytes]]:
        """Yield batches of raw entries as they stream in."""
        path = PREFIX + "/fetch"
        body = messages.encode_fetch(req)
        headers = self._headers("POST", path, body)
        self._count_request(path, headers, body)
        decoder = messages.StreamDecoder(MAX_ENTRY_BYTES)
        batch: list[bytes] = []
        try:
            async with self.session.post(url + path, data=body, headers=headers) as resp:
                if resp.status != 200:
                    data = await resp.read()
                    self._count_response(resp, data)
                    raise _refusal(url, resp.status, data)
                self._count_response(resp, None)
                limit = req.max_bytes + 2 * MAX_ENTRY_BYTES + 4096
                total = 0
                async for chunk in resp.content.iter_chunked(1 << 16):
                    self.traffic.received += len(chunk)
                    total += len(chunk)
                    if total > limit:
                        raise PeerMisbehavedError(f"{url}: sent more than the {req.max_bytes} bytes asked for")
                    try:
                        batch.extend(decoder.feed(chunk))
                    except messages.WireError as exc:
                        raise PeerMisbehavedError(f"{url}: {exc}") from exc
                    if len(batch) >= chunk_entries:
                        yield batch
                        batch = []
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise PeerUnreachableError(f"{url}: {exc.__class__.__name__}: {exc}") from exc
        if batch:
            yield batch

    async def send_push(self, url: str, network: bytes, raws: list[bytes]) -> dict[str, Any]:
        data = await self._post(url, "/push", messages.encode_push(network, raws))
        try:
            return messages.decode_report(data)
        except messages.WireError as exc:
            raise PeerMisbehavedError(f"{url}: bad push report: {exc}") from exc

    async def send_join(self, url: str, token: str, raws: list[bytes]) -> dict[str, Any]:
        data = await self._post(url, "/join", messages.encode_join(token, raws))
        try:
            return messages.decode_report(data)
        except messages.WireError as exc:
            raise PeerMisbehavedError(f"{url}: bad join answer: {exc}") from exc


def _refusal(url: str, status: int, data: bytes) -> PeerMisbehavedError:
    detail = data[:300].decode("utf-8", "replace")
    try:
        problem = json.loads(data)
        detail = f"{problem.get('detail')} ({problem.get('type', '').rsplit(':', 1)[-1]})"
    except ValueError:
        pass
    err = PeerMisbehavedError(f"{url} refused the request ({status}): {detail}")
    err.status = status  # type: ignore[attr-defined]
    return err
