/*
 * test_guard.h — for the randomized kernel tests: tensors that end against
 * an unreadable page (an out-of-bounds read or write crashes), and a crash
 * handler that names the case being run. Include after <cmocka.h>.
 */
#ifndef SEPTUNE_TEST_GUARD_H
#define SEPTUNE_TEST_GUARD_H

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guarded {
  float *data;
  void *map;
  size_t map_bytes;
} guarded;

/* n floats ending at the start of a PROT_NONE page; aligned: the start is on
 * 64 bytes (then up to 60 bytes lie between the end and the guard page). */
static inline float *guarded_alloc(guarded *g, size_t n, int aligned)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t bytes = n * sizeof(float);
  size_t span = aligned ? (bytes + 63) / 64 * 64 : bytes;
  size_t body = (span + page - 1) / page * page;
  g->map_bytes = body + page;
  g->map = mmap(NULL, g->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(g->map != MAP_FAILED);
  assert_int_equal(mprotect((char *)g->map + body, page, PROT_NONE), 0);
  g->data = (float *)((char *)g->map + body - span);
  return g->data;
}

static inline void guarded_free(guarded *g)
{
  if (g->map) munmap(g->map, g->map_bytes);
  memset(g, 0, sizeof *g);
}

/* The case being run, printed if a kernel crashes. */
static char current_case[512];

static void on_crash(int sig)
{
  static const char head[] = "\ncrashed while running: ";
  ssize_t r = write(2, head, sizeof head - 1);
  r = write(2, current_case, strlen(current_case));
  r = write(2, "\n", 1);
  (void)r;
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Called by each test that runs kernels: cmocka installs its own handlers
 * before every test. */
static inline void catch_crashes(void)
{
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);
  signal(SIGILL, on_crash);
  signal(SIGFPE, on_crash);
}

#endif
