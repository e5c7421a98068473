"""The Redis broker transport of the workers: kombu's, with one guard so that a worker survives a
Redis outage (issue #12).

When Redis goes away while tasks are running (acks_late: their messages are still unacknowledged),
the consumer closes its broken connection. kombu's Redis channel can then be asked, after
`Connection.collect()` has already dropped the transport's client (or after the channel was detached
from its transport), to build a new connection pool: to give back the unacknowledged messages
(`restore_unacked_once` on close) or to acknowledge a task that finished meanwhile. Building the pool
reads the broker's address from the transport, which is gone, and the AttributeError that follows
(`'NoneType' object has no attribute 'hostname'`, or `... 'client'`) is not one of the connection
errors that kombu's close path and Celery's consumer ignore: the worker stopped with "Unrecoverable
error". Reproduced with a threads-pool worker on a private Redis stopped under load (1 death in 10
outages); no Celery or kombu setting closes that path (kombu 5.7.0, the latest; upstream main has
the same code).

The guard turns that case into the connection error it is. kombu and Celery then handle it as any
other: the close goes on, the failed acknowledgement is logged ("Couldn't ack"), the consumer
reconnects. Nothing is lost: the messages stay in Redis's unacked set and are restored after the
visibility timeout, and the outbox republishes any job not done (hotline/outbox/relay.py); a job run
twice has no second effect."""
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("the broker connection of this channel is closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


# `broker_transport` for these URL schemes (kombu's own for any other, Sentinel say).
SCHEMES = ("redis", "rediss")
TRANSPORT = "workers.broker:Transport"
