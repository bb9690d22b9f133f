"""The channel layers Comptoir runs on, with per-group sequence numbers.

Every publication to a group carries the group's next sequence number (Redis
``INCR``, or a counter in the process for the in-memory layer). A socket that sees
a number out of turn, or a group's current number above its own, knows it missed
something and catches up from the event log (``consumers.py``). Two more keys
serve the same purpose: ``lost`` is bumped by a process that had to drop
publications (every socket then catches up), and ``alive`` disappears when Redis
restarts empty (every socket re-joins its groups and catches up).

Changes to channels_redis: connection pools wait for a free connection instead of
raising ``MaxConnectionsError``, and overflowing channels are counted and logged at
WARNING instead of INFO (or not at all, for a process's own buffers).
"""

import asyncio
import collections
import functools
import itertools
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import BoundedQueue
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer
from redis import asyncio as aioredis

from comptoir.realtime.health import RateLimitedWarning, count

SEQUENCE_TTL = 7 * 86400  # a quiet group's number may restart: sockets then catch up
SCORE_STEP = 0.0001  # seconds between the scores of two messages sent in one batch

_channel_overflow = RateLimitedWarning(
    "%d messages dropped by full channels (last group %s); those sockets catch up from the log"
)
_buffer_overflow = RateLimitedWarning(
    "%d messages dropped from sockets' full buffers; those sockets catch up from the log"
)


class CountingBoundedQueue(BoundedQueue):
    """channels_redis's per-socket buffer, whose silent drop of the oldest is counted and logged."""

    def put_nowait(self, item: Any) -> None:
        if self.full():
            count("buffer_overflow")
            _buffer_overflow()
        super().put_nowait(item)


class RedisChannelLayer(ChannelsRedisChannelLayer):
    """channels_redis with a waiting connection pool, counted overflows and group sequences."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receive_buffer = collections.defaultdict(
            functools.partial(CountingBoundedQueue, self.capacity)
        )

    def create_pool(self, index: int) -> aioredis.ConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        # Waits up to ``timeout`` for a connection (300 sockets connecting at once).
        return aioredis.BlockingConnectionPool.from_url(address, **host)

    def _state_key(self, name: str) -> str:
        return f"{self.prefix}:realtime:{name}"

    def sequence_key(self, group: str) -> str:
        return f"{self.prefix}:seq:{group}"

    async def next_sequence(self, group: str) -> int:
        connection = self.connection(self.consistent_hash(group))
        pipe = connection.pipeline(transaction=False)
        pipe.incr(self.sequence_key(group))
        pipe.expire(self.sequence_key(group), SEQUENCE_TTL)
        sequence, _ = await pipe.execute()
        return int(sequence)

    async def read_state(self, groups: list[str]) -> tuple[bool, int, dict[str, int]]:
        """(Redis kept its data, the ``lost`` counter, each group's current number)."""
        state = self.connection(0)
        alive_key, lost_key = self._state_key("alive"), self._state_key("lost")
        alive, lost = await state.mget([alive_key, lost_key])
        if alive is None:
            await state.set(alive_key, str(time.time()))
        by_shard: dict[int, list[str]] = collections.defaultdict(list)
        for group in groups:
            by_shard[self.consistent_hash(group)].append(group)
        sequences: dict[str, int] = {}
        for index, shard_groups in by_shard.items():
            values = await self.connection(index).mget([self.sequence_key(g) for g in shard_groups])
            sequences.update(
                (g, int(v) if v is not None else 0)
                for g, v in zip(shard_groups, values, strict=True)
            )
        return alive is not None, int(lost or 0), sequences

    async def report_lost(self) -> None:
        """Tell every process's sockets that publications were dropped: they catch up."""
        await self.connection(0).incr(self._state_key("lost"))

    async def ping(self) -> None:
        await self.connection(0).ping()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._group_send(group, message, sequenced=False)

    async def group_send_sequenced(self, group: str, message: dict[str, Any]) -> int:
        """Send ``message`` to the group with the group's next number; returns the number."""
        return await self._group_send(group, message, sequenced=True)

    async def send_batch(self, sends: list[tuple[str, dict[str, Any], bool]]) -> None:
        """Several group sends, in order, in two pipelined round trips for them all.

        One connection runs each pipeline's commands in order, so every group's
        numbers reach its members in order. Same commands as ``_group_send``.
        """
        if self.ring_size > 1:  # sharded: one group at a time
            for group, message, sequenced in sends:
                await self._group_send(group, message, sequenced=sequenced)
            return
        connection = self.connection(0)
        now = time.time()
        pipe = connection.pipeline(transaction=False)
        for group, _, sequenced in sends:
            assert self.require_valid_group_name(group), "Group name not valid"
            if sequenced:
                pipe.incr(self.sequence_key(group))
                pipe.expire(self.sequence_key(group), SEQUENCE_TTL)
            pipe.zremrangebyscore(self._group_key(group), min=0, max=int(now) - self.group_expiry)
            pipe.zrange(self._group_key(group), 0, -1)
        replies = iter(await pipe.execute())
        pipe = connection.pipeline(transaction=False)
        evals: list[tuple[int, str]] = []  # (position of the script's reply, group)
        position = 0
        for group, message, sequenced in sends:
            if sequenced:
                message = {**message, "group": group, "seq": int(next(replies))}
                next(replies)
            next(replies)
            channel_names = [x.decode("utf8") for x in next(replies)]
            if not channel_names:
                continue
            by_connection, key_to_message, key_to_capacity = self._map_channel_keys_to_connection(
                channel_names, message
            )
            channel_keys = by_connection[0]
            for channel_key in channel_keys:
                pipe.zremrangebyscore(channel_key, min=0, max=int(now) - int(self.expiry))
            args = [key_to_message[k] for k in channel_keys]
            args += [key_to_capacity[k] for k in channel_keys]
            # A process's channel is a sorted set read lowest score first, equal scores
            # in random order: each message of the batch scores above the previous one.
            args += [now + len(evals) * SCORE_STEP, self.expiry]
            pipe.eval(_GROUP_SEND_LUA, len(channel_keys), *channel_keys, *args)
            position += len(channel_keys) + 1
            evals.append((position - 1, group))
        if not evals:
            return
        results = await pipe.execute()
        for index, group in evals:
            if results[index]:
                count("channel_overflow", results[index])
                _channel_overflow(results[index], group)

    async def _group_send(self, group: str, message: dict[str, Any], *, sequenced: bool) -> int:
        """channels_redis's ``group_send`` (4.3.0) in two round trips, counting overflows.

        First the group's members (and its next number), then, per shard, the same
        capacity-checking script as channels_redis; channels over capacity are
        counted and logged at WARNING (channels_redis logs them at INFO).
        """
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        pipe = self.connection(self.consistent_hash(group)).pipeline(transaction=False)
        if sequenced:
            pipe.incr(self.sequence_key(group))
            pipe.expire(self.sequence_key(group), SEQUENCE_TTL)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.zrange(key, 0, -1)
        replies = await pipe.execute()
        sequence = int(replies[0]) if sequenced else 0
        if sequenced:
            message = {**message, "group": group, "seq": sequence}
        channel_names = [x.decode("utf8") for x in replies[-1]]
        by_connection, key_to_message, key_to_capacity = self._map_channel_keys_to_connection(
            channel_names, message
        )
        over_capacity = 0
        for index, channel_keys in by_connection.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for channel_key in channel_keys:
                pipe.zremrangebyscore(channel_key, min=0, max=int(time.time()) - int(self.expiry))
            args = [key_to_message[k] for k in channel_keys]
            args += [key_to_capacity[k] for k in channel_keys]
            args += [time.time(), self.expiry]
            pipe.eval(_GROUP_SEND_LUA, len(channel_keys), *channel_keys, *args)
            over_capacity += (await pipe.execute())[-1]
        if over_capacity:
            count("channel_overflow", over_capacity)
            _channel_overflow(over_capacity, group)
        return sequence


_GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """The one-process layer (``make demo``, tests), with the same sequences and counted drops."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sequences: dict[str, itertools.count] = collections.defaultdict(
            lambda: itertools.count(1)
        )
        self.current: dict[str, int] = {}
        self.lost = 0

    async def next_sequence(self, group: str) -> int:
        self.current[group] = next(self.sequences[group])
        return self.current[group]

    async def read_state(self, groups: list[str]) -> tuple[bool, int, dict[str, int]]:
        return True, self.lost, {g: self.current.get(g, 0) for g in groups}

    async def report_lost(self) -> None:
        self.lost += 1

    async def ping(self) -> None:
        return None

    async def send_batch(self, sends: list[tuple[str, dict[str, Any], bool]]) -> None:
        for group, message, sequenced in sends:
            if sequenced:
                await self.group_send_sequenced(group, message)
            else:
                await self.group_send(group, message)

    async def group_send_sequenced(self, group: str, message: dict[str, Any]) -> int:
        sequence = await self.next_sequence(group)
        await self.group_send(group, {**message, "group": group, "seq": sequence})
        return sequence

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        self._clean_expired()
        dropped = 0
        for channel in list(self.groups.get(group, {})):
            try:
                await self.send(channel, message)
            except ChannelFull:
                dropped += 1
        if dropped:
            count("channel_overflow", dropped)
            _channel_overflow(dropped, group)


async def with_timeout(awaitable: Any, timeout: float) -> Any:
    """Await a channel-layer call for at most ``timeout`` seconds (TimeoutError beyond)."""
    return await asyncio.wait_for(awaitable, timeout)
