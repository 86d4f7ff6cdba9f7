"""Work queue throughput: items per second through add -> get -> done.

Single thread (batches of adds, then gets and dones) and 4 worker threads fed by one
producer, each with metrics off and on. Prints one line per figure, then one JSON object.

    .venv/bin/python bench/workqueue.py [--items N]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from prometheus_client import CollectorRegistry

from reconcile.workqueue import Queue, RateLimitingQueue, WorkqueueMetrics

BATCH = 1000


def _queue(metrics: bool) -> Queue[int]:
    provider = WorkqueueMetrics(CollectorRegistry()) if metrics else None
    return RateLimitingQueue(name="bench", metrics=provider)


def single_thread(items: int, *, metrics: bool) -> float:
    queue = _queue(metrics)
    started = time.perf_counter()
    for base in range(0, items, BATCH):
        for key in range(base, base + BATCH):
            queue.add(key)
        for _ in range(BATCH):
            item, _ = queue.get()
            queue.done(item)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    queue.shut_down()
    return items / elapsed


def workers(items: int, *, threads: int, metrics: bool) -> float:
    queue = _queue(metrics)
    processed = [0] * threads

    def work(index: int) -> None:
        count = 0
        while True:
            key, shutdown = queue.get()
            if shutdown:
                break
            queue.done(key)  # type: ignore[arg-type]
            count += 1
        processed[index] = count

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for key in range(items):
        queue.add(key)
    queue.shut_down_with_drain()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    assert sum(processed) == items, f"lost items: {items - sum(processed)}"
    return items / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    args = parser.parse_args()
    items = args.items - args.items % BATCH or BATCH

    figures: dict[str, float] = {}
    for metrics in (False, True):
        suffix = "metrics_on" if metrics else "metrics_off"
        figures[f"single_thread_{suffix}_items_per_s"] = single_thread(items, metrics=metrics)
        figures[f"four_workers_{suffix}_items_per_s"] = workers(items, threads=4, metrics=metrics)
    for name, value in figures.items():
        print(f"{name:40s} {value:12,.0f}")
    print(json.dumps({"items": items, **{k: round(v) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
