"""The Redis backend's fixtures (redis_support), for tests/engine/test_redis_*.py.

Each is made only when a test asks for it: the other engine tests start no redis-server.
"""

from redis_support import client, keys, nodes, own_server, redis_server  # noqa: F401 - fixtures
