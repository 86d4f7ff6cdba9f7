"""Work queues with client-go's semantics, for controllers whose workers are threads.

Layers compose by inheritance, each adding one concern: ``Queue`` (dedupe, never two workers
on one key), ``DelayingQueue`` (``add_after``), ``RateLimitingQueue`` (``add_rate_limited``), and
``PriorityQueue`` (every add takes a priority; controllers use it by default).
Metrics with client-go's names come from ``WorkqueueMetrics`` registered once per registry.
"""

from reconcile.workqueue.delaying import DelayingQueue
from reconcile.workqueue.metrics import DURATION_BUCKETS, WorkqueueMetrics
from reconcile.workqueue.priority import LOW_PRIORITY, PriorityQueue, supports_priority
from reconcile.workqueue.queue import Queue
from reconcile.workqueue.rate_limiters import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from reconcile.workqueue.rate_limiting import RateLimitingQueue

__all__ = [
    "DURATION_BUCKETS",
    "LOW_PRIORITY",
    "BucketRateLimiter",
    "DelayingQueue",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "PriorityQueue",
    "Queue",
    "RateLimiter",
    "RateLimitingQueue",
    "WorkqueueMetrics",
    "default_controller_rate_limiter",
    "supports_priority",
]
