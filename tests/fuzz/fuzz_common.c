/*
 * fuzz_common.c — the helpers of fuzz.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s:%d: fuzz check failed: %s\n  ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

char *fuzz_string(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  FUZZ_CHECK(s != NULL, "out of memory copying %zu bytes", size);
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

static char scratch[4096];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static void remove_scratch(void)
{
  if (scratch[0]) nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The scratch directory, made on first use. */
static const char *scratch_dir(void)
{
  if (scratch[0]) return scratch;
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(scratch, sizeof scratch, "%s/septune-fuzz-XXXXXX", tmp);
  FUZZ_CHECK(mkdtemp(scratch) != NULL, "cannot make a scratch directory in %s: %s", tmp, strerror(errno));
  atexit(remove_scratch);
  return scratch;
}

const char *fuzz_path(const char *name)
{
  static char path[8192];
  snprintf(path, sizeof path, "%s/%s", scratch_dir(), name);
  return path;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
  const char *path = fuzz_path(name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_CHECK(fd >= 0, "cannot create %s: %s", path, strerror(errno));
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    FUZZ_CHECK(n > 0, "cannot write %s: %s", path, strerror(errno));
    done += (size_t)n;
  }
  FUZZ_CHECK(close(fd) == 0, "cannot close %s: %s", path, strerror(errno));
  return path;
}

int fuzz_message_ok(const char *msg, size_t size) { return memchr(msg, '\0', size) != NULL && msg[0] != '\0'; }
