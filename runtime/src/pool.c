/*
 * pool.c — the library's shared pthreadpools and running work items on a
 * pool (pool.h).
 *
 * A network has dozens of plans: they share one pool per thread count
 * rather than each waking its own threads. The shares sit in one list under
 * a mutex; a plan holds a reference from creation to destruction. The pool
 * itself is made by the first execution: pthreadpool's workers spin for
 * some milliseconds after they start and after each job before they sleep,
 * and a process that makes plans but runs them elsewhere (the tuner, which
 * runs them in forked children) must not have them spinning beside the
 * measurement.
 *
 * fork: the child has the forking thread only, so a pool made before the
 * fork has no workers there (using it would wait for ever, destroying it
 * would join threads that do not exist). A pthread_atfork handler forgets
 * every pool in the child (the memory is lost, once per fork) and the next
 * execution makes a new one. The tuner relies on it: it creates plans and
 * runs them in forked children.
 *
 * pthreadpool_create does not check pthread_create: a thread the system
 * refuses leaves it waiting for ever. So before asking for a pool of T
 * threads, T - 1 threads are started here (and stopped): a system that
 * cannot give them gets an error, not a hung plan. The first plan of T
 * threads checks so too, to fail at creation rather than at execution.
 *
 * ThreadSanitizer sees neither the hand-over of a job to pthreadpool's
 * workers nor their reports back (the library is not instrumented), and
 * would flag the kernel's reads of what the caller wrote before the job;
 * in TSan builds the job context carries the happens-before edges
 * explicitly. (helgrind has the same blindness; the tests it runs do not
 * execute plans.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <pthreadpool.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#if defined(__SANITIZE_THREAD__)
#define SEPTUNE_TSAN_ANNOTATE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEPTUNE_TSAN_ANNOTATE 1
#endif
#endif
#ifdef SEPTUNE_TSAN_ANNOTATE
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define HAPPENS_BEFORE(p) __tsan_release(p)
#define HAPPENS_AFTER(p) __tsan_acquire(p)
#else
#define HAPPENS_BEFORE(p) ((void)(p))
#define HAPPENS_AFTER(p) ((void)(p))
#endif

int septune_cpu_threads(void)
{
  cpu_set_t set;
  int n = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n < 1) n = 1;
  return n > SEPTUNE_MAX_THREADS ? SEPTUNE_MAX_THREADS : n;
}

/* ---- the shares -------------------------------------------------------------- */

struct septune_pool_share {
  int threads;
  long refs;                /* plans holding it */
  pthreadpool_t pool;       /* NULL until the first execution (in a forked
                               child: since the fork) */
  septune_pool_share *next;
};

static pthread_mutex_t shares_lock = PTHREAD_MUTEX_INITIALIZER;
static septune_pool_share *shares;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static unsigned long creations;

static void before_fork(void) { pthread_mutex_lock(&shares_lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&shares_lock); }

static void after_fork_child(void)
{
  for (septune_pool_share *s = shares; s; s = s->next) s->pool = NULL;
  pthread_mutex_unlock(&shares_lock);
}

static void register_atfork(void)
{
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* ---- checking that the threads can be had --------------------------------------- */

typedef struct probe {
  pthread_mutex_t lock;
  pthread_cond_t go;
  int released;
} probe;

static void *probe_thread(void *p)
{
  probe *pr = p;
  pthread_mutex_lock(&pr->lock);
  while (!pr->released) pthread_cond_wait(&pr->go, &pr->lock);
  pthread_mutex_unlock(&pr->lock);
  return NULL;
}

/* Starts `count` threads that live at once, then stops them. Returns 0, or
 * the error of the first pthread_create that failed. */
static int probe_threads(int count)
{
  probe pr = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
  pthread_t *t = calloc((size_t)count, sizeof *t);
  int started = 0, rc = 0;
  if (!t) return ENOMEM;
  while (started < count && (rc = pthread_create(&t[started], NULL, probe_thread, &pr)) == 0) started++;
  pthread_mutex_lock(&pr.lock);
  pr.released = 1;
  pthread_cond_broadcast(&pr.go);
  pthread_mutex_unlock(&pr.lock);
  for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
  free(t);
  return rc;
}

/* SEPTUNE_OK when the threads of a pool of `threads` can be had now. */
static septune_status check_threads(int threads, septune_error *err)
{
  int rc = probe_threads(threads - 1);
  if (rc != 0)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "threads: cannot start the %d threads of a pool: %s",
                             threads - 1, strerror(rc));
  return SEPTUNE_OK;
}

/* A pool of `threads` threads. Called with shares_lock held. */
static pthreadpool_t make_pool(int threads, septune_error *err)
{
  if (check_threads(threads, err) != SEPTUNE_OK) return NULL;
  pthreadpool_t pool = pthreadpool_create((size_t)threads);
  if (!pool) {
    septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "threads: out of memory for a pool of %d threads", threads);
    return NULL;
  }
  creations++;
  return pool;
}

septune_status septune_pool_share_acquire(int threads, septune_pool_share **out, septune_error *err)
{
  *out = NULL;
  pthread_once(&atfork_once, register_atfork);
  pthread_mutex_lock(&shares_lock);
  septune_pool_share *s = shares;
  while (s && s->threads != threads) s = s->next;
  if (!s) {
    if (!(s = calloc(1, sizeof *s))) {
      pthread_mutex_unlock(&shares_lock);
      return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "threads: out of memory");
    }
    s->threads = threads;
    if (check_threads(threads, err) != SEPTUNE_OK) {
      pthread_mutex_unlock(&shares_lock);
      free(s);
      return SEPTUNE_ERR_OUT_OF_MEMORY;
    }
    s->next = shares;
    shares = s;
  }
  s->refs++;
  pthread_mutex_unlock(&shares_lock);
  *out = s;
  return SEPTUNE_OK;
}

void septune_pool_share_release(septune_pool_share *share)
{
  if (!share) return;
  pthread_mutex_lock(&shares_lock);
  if (--share->refs > 0) {
    pthread_mutex_unlock(&shares_lock);
    return;
  }
  septune_pool_share **p = &shares;
  while (*p != share) p = &(*p)->next;
  *p = share->next;
  pthread_mutex_unlock(&shares_lock);
  if (share->pool) pthreadpool_destroy(share->pool);
  free(share);
}

struct pthreadpool *septune_pool_share_get(septune_pool_share *share, septune_error *err)
{
  pthreadpool_t pool = __atomic_load_n(&share->pool, __ATOMIC_ACQUIRE);
  if (pool) return pool;
  pthread_mutex_lock(&shares_lock);
  if (!(pool = share->pool)) {
    pool = make_pool(share->threads, err);
    __atomic_store_n(&share->pool, pool, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&shares_lock);
  return pool;
}

unsigned long septune_pool_creations(void)
{
  pthread_mutex_lock(&shares_lock);
  unsigned long n = creations;
  pthread_mutex_unlock(&shares_lock);
  return n;
}

/* ---- running items ---------------------------------------------------------------- */

int septune_pool_threads(struct pthreadpool *pool)
{
  if (!pool) return 1;
  size_t n = pthreadpool_get_threads_count(pool);
  return n < 1 ? 1 : n > SEPTUNE_MAX_THREADS ? SEPTUNE_MAX_THREADS : (int)n;
}

typedef struct job {
  septune_items_fn fn;
  void *ctx;
  long total;
} job;

static void run_tile(void *p, size_t start, size_t count)
{
  job *j = p;
  HAPPENS_AFTER(j);
  j->fn(j->ctx, (long)start, (long)(start + count));
  HAPPENS_BEFORE(j);
}

void septune_pool_run(struct pthreadpool *pool, int wake, long total, septune_items_fn fn, void *ctx)
{
  if (total <= 0) return;
  if (wake > septune_pool_threads(pool)) wake = septune_pool_threads(pool);
  if (wake < 2 || total < 2) {
    fn(ctx, 0, total);
    return;
  }
  long runs = wake < total ? wake : total;
  job j = { fn, ctx, total };
  HAPPENS_BEFORE(&j);
  pthreadpool_parallelize_1d_tile_1d(pool, run_tile, &j, (size_t)total, (size_t)((total + runs - 1) / runs), 0);
  HAPPENS_AFTER(&j);
}
