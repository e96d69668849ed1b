"""Rate limits shared by every process: fixed-window counters in the cache (Redis)."""

import hashlib
import time

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """True while `key` has made fewer than `limit` attempts in the current window."""
    digest = hashlib.blake2s(key.encode(), digest_size=12).hexdigest()
    bucket = f"throttle:{scope}:{digest}:{int(time.time() // window_seconds)}"
    cache.add(bucket, 0, timeout=window_seconds * 2)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds * 2)
        count = 1
    return count <= limit
