/*
 * pool.h — the threads plans run on: the library's shared pthreadpools (one
 * per thread count, held by the plans that use it, made again in a forked
 * child) and the one way a kernel's work items are spread over a pool.
 */
#ifndef SEPTUNE_POOL_H
#define SEPTUNE_POOL_H

#include "septune.h"

/* The CPUs this process may run on (sched_getaffinity), at least 1 and at
 * most SEPTUNE_MAX_THREADS. */
int septune_cpu_threads(void);

/* The library's pool of some thread count, shared by the plans of that
 * count. */
typedef struct septune_pool_share septune_pool_share;

/* Takes a reference on the library's pool of `threads` (>= 2) threads; the
 * first reference checks that the system gives that many threads (the pool
 * is made by the first septune_pool_share_get). Returns SEPTUNE_OK and sets
 * *share, or SEPTUNE_ERR_OUT_OF_MEMORY (out of memory, or the system
 * refused a thread; err says which) with *share NULL. Thread-safe. */
septune_status septune_pool_share_acquire(int threads, septune_pool_share **share, septune_error *err);

/* Drops a reference; the last one destroys the pool. NULL is a no-op. */
void septune_pool_share_release(septune_pool_share *share);

/* The pool of share, made now when this is its first use in this process
 * (pthreadpool's threads do not survive fork: a child makes its own). NULL
 * with err set (SEPTUNE_ERR_OUT_OF_MEMORY) when it cannot be made. */
struct pthreadpool *septune_pool_share_get(septune_pool_share *share, septune_error *err);

/* What runs a range of work items [begin, end). */
typedef void (*septune_items_fn)(void *ctx, long begin, long end);

/* Runs items [0, total) as fn(ctx, begin, end) on pool (NULL: the calling
 * thread), in at most `wake` contiguous runs of nearly equal length, one
 * per thread; the calling thread takes part. Returns when all are done. */
void septune_pool_run(struct pthreadpool *pool, int wake, long total, septune_items_fn fn, void *ctx);

/* The threads of pool (1 for NULL). */
int septune_pool_threads(struct pthreadpool *pool);

/* For tests: pools made so far in this process, made again after a fork
 * included. */
unsigned long septune_pool_creations(void);

#endif /* SEPTUNE_POOL_H */
