/*
 * measure.c — checks and times candidate kernels in forked children (see
 * measure.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, O_CLOEXEC */
#endif
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

const char *measure_outcome_name(measure_outcome o)
{
  switch (o) {
  case MEASURE_OK: return "ok";
  case MEASURE_UNSUPPORTED: return "unsupported";
  case MEASURE_COMPILE: return "compile";
  case MEASURE_WRONG: return "wrong";
  case MEASURE_CRASHED: return "crashed";
  case MEASURE_TIMEOUT: return "timeout";
  case MEASURE_SLOW: return "slow";
  case MEASURE_ERROR: return "error";
  }
  return "error";
}

/* What a child sends back: fixed size, so a short read means it died. */
typedef struct child_report {
  int outcome;
  double max_abs_error;
  bench_stats time[MEASURE_MAX_FINALISTS];
  char reason[256];
} child_report;

static void report(child_report *rep, measure_outcome o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(child_report *rep, measure_outcome o, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  rep->outcome = (int)o;
  vsnprintf(rep->reason, sizeof rep->reason, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Test-only stand-ins for a broken kernel. The address comes from a volatile
 * so the compiler cannot see (and exploit) that the store is invalid. */

static volatile uintptr_t unmapped_address = 64; /* page 0 is never mapped */

static void crash_now(void)
{
  *(volatile float *)unmapped_address = 1.0f;
}

static void hang_now(void)
{
  volatile unsigned long spin = 0;
  for (;;) spin++;
}

/* ------------------------------------------------------------------------ */
/* The child side. */

static const float guard_value = -1234.5f;

/* Restores the default action of the fatal signals (a sanitizer runtime
 * installs handlers that would turn a crash into an exit status), disables
 * core dumps, and makes the child die with the tuner. */
static void child_setup(void)
{
  static const int fatal[] = { SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGABRT, SIGTRAP };
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
  struct rlimit no_core = { 0, 0 };
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs the plan once on a poisoned output and compares it with the
 * reference. Returns 1 when correct, else fills rep and returns 0. */
static int check_plan(const septune_plan *plan, const layer_data *d, measure_inject inject, child_report *rep,
                      const char *who)
{
  size_t n = d->n_out;
  for (size_t i = 0; i < n; i++) d->got[i] = NAN;
  for (size_t i = 0; i < LAYER_DATA_GUARD; i++) d->got[n + i] = guard_value;
  if (inject == MEASURE_INJECT_CRASH) crash_now();
  if (inject == MEASURE_INJECT_HANG) hang_now();
  septune_error err;
  septune_plan_info info;
  septune_plan_get_info(plan, &info);
  if (septune_execute(plan, d->in, d->got, &err) != SEPTUNE_OK) {
    report(rep, MEASURE_ERROR, "%sexecute: %s", who, err.message);
    return 0;
  }
  if (inject == MEASURE_INJECT_WRONG) d->got[n / 2] += 0.5f;
  for (size_t i = 0; i < LAYER_DATA_GUARD; i++) {
    if (d->got[n + i] != guard_value) {
      report(rep, MEASURE_WRONG, "%swrote past the end of its output (element %zu)", who, n + i);
      return 0;
    }
  }
  septune_check_result cr;
  int ok = septune_check_output(&info.op, d->want, d->got, n, &cr);
  rep->max_abs_error = cr.max_abs_error;
  if (ok) return 1;
  if (cr.non_finite)
    report(rep, MEASURE_WRONG, "%swrong answer: %d non-finite values (element %zu)", who, cr.non_finite,
           cr.worst_index);
  else
    report(rep, MEASURE_WRONG, "%swrong answer: max |error| %.3g at element %zu", who, cr.max_abs_error,
           cr.worst_index);
  return 0;
}

typedef struct exec_ctx {
  const septune_plan *plan;
  const layer_data *d;
} exec_ctx;

static int exec_once(void *p)
{
  exec_ctx *c = p;
  return septune_execute(c->plan, c->d->in, c->d->got, NULL) == SEPTUNE_OK ? 0 : 1;
}

typedef struct candidate_job {
  const septune_plan *plan;
  const layer_data *d;
  const measure_options *o;
} candidate_job;

static void job_candidate(void *p, child_report *rep)
{
  candidate_job *j = p;
  if (!check_plan(j->plan, j->d, j->o->inject, rep, "")) return;
  exec_ctx ctx = { j->plan, j->d };
  if (j->o->prune_us > 0) {
    /* A first estimate over >= 3 calls and >= 50 us, so that a hopeless
     * candidate costs little more than its check. */
    long calls = 0;
    double t0 = bench_now_us(), t = t0;
    do {
      if (exec_once(&ctx)) {
        report(rep, MEASURE_ERROR, "execute failed while timing");
        return;
      }
      calls++;
      t = bench_now_us();
    } while (calls < 3 || t - t0 < 50);
    double per_call = (t - t0) / (double)calls;
    if (per_call > j->o->prune_us) {
      rep->time[0].median_us = rep->time[0].min_us = rep->time[0].max_us = per_call;
      rep->time[0].samples = 1;
      rep->time[0].reps = calls;
      report(rep, MEASURE_SLOW, "slow: %.2f us per call, over the pruning limit of %.2f us", per_call,
             j->o->prune_us);
      return;
    }
  }
  double ms = j->o->screen_ms > 0 ? j->o->screen_ms : 3;
  if (bench_measure(exec_once, &ctx, ms, &rep->time[0]) != 0) {
    report(rep, MEASURE_ERROR, "execute failed while timing");
    return;
  }
  report(rep, MEASURE_OK, "%s", "");
}

typedef struct finalists_job {
  const septune_plan *const *plans;
  size_t k;
  const layer_data *d;
  int rounds;
  double round_ms;
} finalists_job;

static void job_finalists(void *p, child_report *rep)
{
  finalists_job *j = p;
  exec_ctx ctx[MEASURE_MAX_FINALISTS];
  bench_fn fns[MEASURE_MAX_FINALISTS];
  void *ctxs[MEASURE_MAX_FINALISTS];
  for (size_t i = 0; i < j->k; i++) {
    char who[32];
    snprintf(who, sizeof who, "finalist %zu: ", i + 1);
    if (!check_plan(j->plans[i], j->d, MEASURE_INJECT_NONE, rep, who)) return;
    ctx[i].plan = j->plans[i];
    ctx[i].d = j->d;
    fns[i] = exec_once;
    ctxs[i] = &ctx[i];
  }
  if (bench_measure_interleaved(j->k, fns, ctxs, j->rounds, j->round_ms, rep->time) != 0) {
    report(rep, MEASURE_ERROR, "execute failed while timing the finalists");
    return;
  }
  report(rep, MEASURE_OK, "%s", "");
}

/* ------------------------------------------------------------------------ */
/* The parent side. */

static const char *signal_name(int sig)
{
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case SIGBUS: return "SIGBUS";
  case SIGABRT: return "SIGABRT";
  case SIGTRAP: return "SIGTRAP";
  case SIGKILL: return "SIGKILL";
  default: return NULL;
  }
}

static void write_all(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

/* Forks, runs job in the child, and collects its report within timeout_ms. */
static void run_child(void (*job)(void *, child_report *), void *ctx, double timeout_ms, child_report *rep)
{
  memset(rep, 0, sizeof *rep);
  if (timeout_ms <= 0) timeout_ms = 2000;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    report(rep, MEASURE_ERROR, "pipe: %s", strerror(errno));
    return;
  }
  fflush(NULL); /* the child must not flush the parent's buffered output */
  pid_t pid = fork();
  if (pid < 0) {
    report(rep, MEASURE_ERROR, "fork: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return;
  }
  if (pid == 0) {
    close(fds[0]);
    child_setup();
    child_report mine;
    memset(&mine, 0, sizeof mine);
    job(ctx, &mine);
    write_all(fds[1], &mine, sizeof mine);
    _exit(0);
  }
  close(fds[1]);
  size_t got = 0;
  int timed_out = 0;
  double deadline = bench_now_us() + timeout_ms * 1000;
  while (got < sizeof *rep) {
    double left_ms = (deadline - bench_now_us()) / 1000;
    if (left_ms <= 0) {
      timed_out = 1;
      break;
    }
    struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
    int rc = poll(&pfd, 1, (int)ceil(left_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    if (rc == 0) continue; /* re-checks the deadline */
    ssize_t n = read(fds[0], (char *)rep + got, sizeof *rep - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(fds[0]);
  if (timed_out) {
    memset(rep, 0, sizeof *rep);
    report(rep, MEASURE_TIMEOUT, "timeout: no result after %.0f ms, killed", timeout_ms);
  } else if (got == sizeof *rep && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    rep->reason[sizeof rep->reason - 1] = 0;
  } else if (WIFSIGNALED(status)) {
    const char *name = signal_name(WTERMSIG(status));
    memset(rep, 0, sizeof *rep);
    if (name)
      report(rep, MEASURE_CRASHED, "crashed (%s)", name);
    else
      report(rep, MEASURE_CRASHED, "crashed (signal %d)", WTERMSIG(status));
  } else {
    memset(rep, 0, sizeof *rep);
    report(rep, MEASURE_CRASHED, "crashed (exit status %d before reporting)",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
}

void measure_plan(const septune_plan *plan, const layer_data *d, const measure_options *o, measure_result *r)
{
  static const measure_options defaults = { 0 };
  if (!o) o = &defaults;
  candidate_job job = { plan, d, o };
  child_report rep;
  run_child(job_candidate, &job, o->timeout_ms, &rep);
  memset(r, 0, sizeof *r);
  r->outcome = (measure_outcome)rep.outcome;
  snprintf(r->reason, sizeof r->reason, "%s", rep.reason);
  r->time = rep.time[0];
  r->max_abs_error = rep.max_abs_error;
}

void measure_candidate(const septune_op *op, septune_isa isa, const char *knobs, const layer_data *d,
                       const measure_options *o, measure_result *r)
{
  septune_plan_options po = { .isa = isa, .knobs = knobs, .db_path = "", .threads = o && o->threads > 0 ? o->threads : 1 };
  septune_plan *plan = NULL;
  septune_error err;
  septune_status st = septune_plan_create(op, d->weights, d->bias, &po, &plan, &err);
  if (st != SEPTUNE_OK) {
    memset(r, 0, sizeof *r);
    if (st == SEPTUNE_ERR_UNSUPPORTED) {
      r->outcome = MEASURE_UNSUPPORTED;
      snprintf(r->reason, sizeof r->reason, "unsupported: %.240s", err.message);
    } else if (st == SEPTUNE_ERR_COMPILE || st == SEPTUNE_ERR_GENERATOR) {
      r->outcome = MEASURE_COMPILE;
      snprintf(r->reason, sizeof r->reason, "compile failed: %.230s", err.message);
    } else {
      r->outcome = MEASURE_ERROR;
      snprintf(r->reason, sizeof r->reason, "plan: %.240s", err.message);
    }
    return;
  }
  measure_plan(plan, d, o, r);
  septune_plan_info info;
  septune_plan_get_info(plan, &info);
  snprintf(r->knobs, sizeof r->knobs, "%s", info.knobs);
  septune_plan_destroy(plan);
}

measure_outcome measure_finalists(const septune_plan *const plans[], size_t k, const layer_data *d, int rounds,
                                  double round_ms, double timeout_ms, bench_stats out[], char *why,
                                  size_t why_size)
{
  if (why_size) why[0] = 0;
  if (k == 0 || k > MEASURE_MAX_FINALISTS) {
    if (why_size) snprintf(why, why_size, "finalists: %zu plans (1..%d allowed)", k, MEASURE_MAX_FINALISTS);
    return MEASURE_ERROR;
  }
  finalists_job job = { plans, k, d, rounds, round_ms };
  child_report rep;
  run_child(job_finalists, &job, timeout_ms, &rep);
  if (rep.outcome != MEASURE_OK) {
    if (why_size) snprintf(why, why_size, "%s", rep.reason);
    return (measure_outcome)rep.outcome;
  }
  memcpy(out, rep.time, k * sizeof *out);
  return MEASURE_OK;
}
