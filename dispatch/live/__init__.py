"""Live push over `/ws/live/`: case events reach, after commit, exactly the sockets that may see the case.

    groups.py     who hears about a case; every group name is spelled there
    messages.py   the JSON a socket receives for an event, and the channel message around it
    publisher.py  publishing after commit (one pipelined Redis round trip), with a breaker for a dead Redis
    selectors.py  the reads: a socket's groups, a resume's replay, events read back after commit
    consumer.py   the socket itself (`LiveConsumer`)
    status.py     telling open sockets when the database or Redis is away

Code that writes cases or sends its own live messages needs only the names below.
"""

from dispatch.live.groups import ALL, DISTRICT, GRID, PARTNER, SOURCE, UNIT, USER, group_name
from dispatch.live.publisher import publish_on_commit

__all__ = ["ALL", "DISTRICT", "GRID", "PARTNER", "SOURCE", "UNIT", "USER", "group_name", "publish_on_commit"]
