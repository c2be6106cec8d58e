"""The live socket, `/ws/live/`: authorise, subscribe, replay on resume — nothing more.

Protocol (docs/live.md "Live protocol"):

    server → {"type": "hello", "seq": <newest event id>}      after a successful connect
    server → {"type": "event", "seq": ..., ...}               one per visible case event (dispatch.live.publisher)
    server → {"type": "alert", ...}                           an early warning (maps.alerts), supervisors only
    client → {"type": "resume", "after_seq": N}        (or connect to /ws/live/?after_seq=N)
    server → the visible events with seq > N, in order, then {"type": "resumed", "seq": <last replayed>}
             or {"type": "reload", "seq": <newest event id>} when more than LIVE_REPLAY_LIMIT are missing
    client → {"type": "ping"}  server → {"type": "pong"}
    server → {"type": "error", "code": ..., "detail": ...}    for a message it does not understand
    server → {"type": "status", "degraded": ["database"|"redis", ...]}   when that changes (dispatch.live.status);
             the socket stays open, and a resume while the database is away answers this instead
    close 4401: not authenticated; close 4403: deactivated or no longer allowed to listen
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from dispatch.live import selectors
from dispatch.live import status as live_status
from dispatch.live.messages import socket_text
from dispatch.parsers import JSONLimitError, loads_limited

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _read(func):
    """`func` on a pooled thread of its own, not the one thread Django runs every sync view on: under
    load a socket's re-check would otherwise queue behind the process's HTTP requests, and the
    events waiting on it reach the page minutes late (bench/soak.py showed it)."""
    return database_sync_to_async(func, thread_sensitive=False)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    @classmethod
    async def encode_json(cls, content) -> str:
        return socket_text(content)

    async def dispatch(self, message: dict) -> None:
        # Channels' own dispatch first closes stale database connections on the process's one sync
        # thread: a thread hop per message per socket, queued behind every other socket's (half the
        # server's time per delivered event, bench/RESULTS.md "live delivery"). This consumer reaches the
        # database only through `_read`, whose threads close their connections themselves.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before accept reaches the browser as a bare 403, without our code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.subscribed: set[str] = set()
        # Seqs already sent on this socket, so a resume never repeats a live event and vice versa.
        self.sent: OrderedDict[int, None] = OrderedDict()
        self.check_lock = asyncio.Lock()
        self.refreshing: asyncio.Future | None = None
        groups, newest = await _read(selectors.opening)(user)
        self.checked_at = time.monotonic()
        if not groups:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._subscribe(groups)
        await self.accept()
        await self.send_json({"type": "hello", "seq": newest})
        live_status.watch(self)
        if live_status.degraded():
            await self.send_json(live_status.message())
        self.watchdog = asyncio.ensure_future(self._watch())
        # Resuming in the URL replays before any live event is handled, so the client sees one ordered run.
        after = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("after_seq", [""])[0]
        if after.isdigit():
            await self._resume(int(after))

    async def disconnect(self, code: int) -> None:
        live_status.unwatch(self)
        for task in (getattr(self, "watchdog", None), getattr(self, "refreshing", None)):
            if task is not None:
                task.cancel()
        for name in list(getattr(self, "subscribed", ())):
            await self.channel_layer.group_discard(name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        try:
            content = loads_limited(text_data or "", size=settings.LIVE_MESSAGE_MAX_BYTES)
        except JSONLimitError as exc:
            await self._error("too_large", str(exc))
            return
        except ValueError:
            await self._error("bad_json", "message is not JSON")
            return
        if not isinstance(content, dict):
            await self._error("bad_request", "message must be a JSON object")
            return
        kind = content.get("type")
        if kind == "resume":
            after = content.get("after_seq")
            if isinstance(after, bool) or not isinstance(after, int) or after < 0:
                await self._error("bad_request", "after_seq must be a non-negative integer")
                return
            await self._resume(after)
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("bad_request", "unknown message type")

    async def live_event(self, message: dict) -> None:
        """A case event from dispatch.live.publisher. Messages are handled one at a time, so live events that
        arrive during a resume wait in this socket's queue and are checked against `sent` after it.

        The message carries the socket's JSON already written (dispatch.live.messages), so a hundred
        sockets hearing one event do not encode it a hundred times."""
        if not await self._recheck():
            return
        # An event goes to every group that may see it; `_deliver` drops the second copy by seq.
        if self.subscribed.isdisjoint(message["groups"]):
            return
        if self._first_time(message["seq"]):
            await self.send(text_data=message["text"])

    async def live_alert(self, message: dict) -> None:
        """An early warning from maps.alerts: not a case event (no seq, never replayed), so it is
        passed on as it is to a socket still subscribed to one of its groups."""
        if not await self._recheck():
            return
        if self.subscribed.isdisjoint(message["groups"]):
            return
        await self.send_json(message["alert"])

    async def _resume(self, after_seq: int) -> None:
        if not await self._recheck(force=True):
            return
        limit = settings.LIVE_REPLAY_LIMIT
        try:
            result = await _read(selectors.missed_event_payloads)(self.user_id, after_seq, limit)
        except DatabaseError:
            # Nothing can be replayed now; the client resumes again when the status clears.
            await live_status.report(live_status.DATABASE)
            await self.send_json(live_status.message())
            return
        if result is None:
            await self.send_json({"type": "reload", "seq": await _read(selectors.newest_seq)()})
            return
        payloads = result
        last = after_seq
        for payload in payloads:
            await self._deliver(payload)
            last = payload["seq"]
        await self.send_json({"type": "resumed", "seq": last})

    async def _deliver(self, payload: dict) -> None:
        if self._first_time(payload["seq"]):
            await self.send_json(payload)

    def _first_time(self, seq: int) -> bool:
        """Whether `seq` has not gone out on this socket yet; remembers it."""
        if seq in self.sent:
            return False
        self.sent[seq] = None
        while len(self.sent) > max(1024, 2 * settings.LIVE_REPLAY_LIMIT):
            self.sent.popitem(last=False)
        return True

    async def _recheck(self, force: bool = False) -> bool:
        """Re-read the user's memberships when the last look is older than LIVE_RECHECK_SECONDS:
        someone moved to another unit stops hearing the old one; a deactivated user is closed.

        Past half that age an event starts a re-read in the background and goes out at once (the
        look it is checked against is still young enough), so a socket hearing a steady stream of
        events re-reads ahead of time and none of them waits on the database."""
        limit = settings.LIVE_RECHECK_SECONDS
        age = time.monotonic() - self.checked_at
        if not force and age < limit:
            if age >= limit / 2 and self.refreshing is None:
                self.refreshing = asyncio.ensure_future(self._refresh_ahead())
            return True
        # The watchdog runs beside the message handlers; one membership change at a time.
        async with self.check_lock:
            try:
                groups = await _read(selectors.current_groups)(self.user_id)
            except DatabaseError:
                # Keep the socket and its groups: memberships cannot have changed while nobody can write.
                await live_status.report(live_status.DATABASE)
                return True
            self.checked_at = time.monotonic()
            if not groups:
                await self.close(code=CLOSE_FORBIDDEN)
                return False
            await self._subscribe(groups)
            return True

    async def _refresh_ahead(self) -> None:
        try:
            await self._recheck(force=True)
        finally:
            self.refreshing = None

    async def _subscribe(self, groups: list[str]) -> None:
        wanted = set(groups)
        for name in self.subscribed - wanted:
            await self.channel_layer.group_discard(name, self.channel_name)
        for name in wanted - self.subscribed:
            await self.channel_layer.group_add(name, self.channel_name)
        self.subscribed = wanted

    async def _watch(self) -> None:
        # Idle sockets hear no events, so a deactivated user's socket is also closed on a slow timer;
        # the jitter keeps thousands of sockets from asking the database at the same moment.
        interval = settings.LIVE_SESSION_CHECK_SECONDS
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))
            if not await self._recheck(force=True):
                return

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})
