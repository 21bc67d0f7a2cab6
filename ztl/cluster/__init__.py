"""What several app nodes share, when a Redis is configured (ZTL_REDIS_URL): rate limits counted
once for all of them, notices of changes (permits, tokens) sent to every process at once, and a
queue of background jobs that any node's workers take.

Why a package of its own: without ZTL_REDIS_URL (one machine, `make run`) each of these falls back
to what one process can do alone (its own counters, polling the database, the job run at once in
the process that asked for it), and the callers do not know which layout they run in.
docs/deployment.md describes the layouts and what happens when a part is down.
"""
