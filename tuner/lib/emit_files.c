/*
 * emit_files.c — writes the files of one `septune emit` into the output
 * directory as a set.
 *
 * Every file is first written and fsynced in a staging directory
 * "DIR/.septune-emit-XXXXXX" (inside DIR, so the renames cannot cross file
 * systems). Until the first rename nothing in DIR has changed: any failure
 * removes the staging directory, and the directories this call created.
 * Then each file is renamed into place, kernels before the header and the
 * table, so that a build reading DIR meanwhile never finds a table naming
 * a kernel file that is not there yet. Kernel files of an earlier, larger
 * emit under the same name are removed last.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "emit.h"

#define MAX_DEPTH 256

/* The directories mkdir_p created, deepest last, to undo on failure. */
typedef struct made_dirs {
  char *path[MAX_DEPTH];
  int n;
} made_dirs;

static void undo_dirs(made_dirs *d)
{
  while (d->n > 0) {
    d->n--;
    rmdir(d->path[d->n]);
    free(d->path[d->n]);
  }
}

static void forget_dirs(made_dirs *d)
{
  while (d->n > 0) free(d->path[--d->n]);
}

/* Makes `dir` and its missing parents (mode 0777 & umask) like mkdir -p.
 * Returns 0, or -1 with errno set; what it made is in *made. */
static int mkdir_p(const char *dir, made_dirs *made)
{
  size_t len = strlen(dir);
  char *p = malloc(len + 1);
  if (!p) return -1;
  memcpy(p, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] != '/' && p[i] != 0) continue;
    if (p[i - 1] == '/') continue;   /* "a//b" and a trailing slash */
    char c = p[i];
    p[i] = 0;
    struct stat st;
    if (mkdir(p, 0777) == 0) {
      char *copy = made->n < MAX_DEPTH ? strdup(p) : NULL;
      if (!copy) {
        rmdir(p);
        free(p);
        errno = ENOMEM;
        return -1;
      }
      made->path[made->n++] = copy;
    } else if (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
      if (errno == EEXIST) errno = ENOTDIR;
      free(p);
      return -1;
    }
    p[i] = c;
  }
  free(p);
  return 0;
}

static int write_all(int fd, const char *text)
{
  size_t n = strlen(text);
  while (n > 0) {
    ssize_t w = write(fd, text, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    text += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Writes and fsyncs one new file. Returns 0, or -1 with errno set. */
static int write_file(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  if (write_all(fd, text) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return close(fd);
}

/* Makes rename's result durable: the directory entry lives in dir. */
static void sync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

static char *join(const char *dir, const char *name)
{
  size_t nd = strlen(dir), nn = strlen(name);
  char *p = malloc(nd + nn + 2);
  if (!p) return NULL;
  memcpy(p, dir, nd);
  p[nd] = '/';
  memcpy(p + nd + 1, name, nn + 1);
  return p;
}

/* Removes the staging directory and whatever of the set is still in it. */
static void remove_stage(const char *stage, const emit_file *files, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char *p = join(stage, files[i].name);
    if (p) unlink(p);
    free(p);
  }
  rmdir(stage);
}

/* 1 when name is "<prefix><digits>.c" and not one of the set. */
static int is_stale(const char *name, const char *prefix, const emit_file *files, size_t n)
{
  size_t np = strlen(prefix);
  if (strncmp(name, prefix, np) != 0) return 0;
  const char *p = name + np;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  if (strcmp(p, ".c") != 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(files[i].name, name)) return 0;
  return 1;
}

/* Kernel files an earlier emit of a larger model left. A failure here is a
 * warning: the new set is complete and in place. */
static void remove_stale(const char *dir, const char *prefix, const emit_file *files, size_t n)
{
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!is_stale(e->d_name, prefix, files, n)) continue;
    char *p = join(dir, e->d_name);
    if (!p || unlink(p) != 0)
      fprintf(stderr, "septune: emit: warning: cannot remove stale %s/%s: %s\n", dir, e->d_name,
              p ? strerror(errno) : "out of memory");
    free(p);
  }
  closedir(d);
}

/* Stages every file. Returns 0, or CLI_FAILED after printing why. */
static int stage_files(const char *stage, const emit_file *files, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char *p = join(stage, files[i].name);
    if (!p) {
      cli_error("emit: out of memory");
      return CLI_FAILED;
    }
    if (write_file(p, files[i].text) != 0) {
      cli_error("emit: cannot write %s: %s", p, strerror(errno));
      free(p);
      return CLI_FAILED;
    }
    free(p);
  }
  return CLI_OK;
}

int emit_write_set(const char *dir, const emit_file *files, size_t n, const char *stale_prefix)
{
  made_dirs made = { .n = 0 };
  if (mkdir_p(dir, &made) != 0) {
    int e = errno;
    undo_dirs(&made);
    cli_error("emit: cannot create output directory %s: %s", dir, strerror(e));
    return CLI_USAGE;
  }
  char *stage = join(dir, ".septune-emit-XXXXXX");
  if (!stage || !mkdtemp(stage)) {
    int e = stage ? errno : ENOMEM;
    cli_error("emit: cannot write into %s: %s", dir, strerror(e));
    free(stage);
    undo_dirs(&made);
    return CLI_USAGE;
  }
  int rc = stage_files(stage, files, n);
  for (size_t i = 0; rc == CLI_OK && i < n; i++) {
    char *from = join(stage, files[i].name), *to = join(dir, files[i].name);
    if (!from || !to || rename(from, to) != 0) {
      /* Files already moved stay: the set is then half new. Kernels go
       * first, so the old table at least still finds its kernels' names. */
      cli_error("emit: cannot move %s into %s: %s", files[i].name, dir, from && to ? strerror(errno) : "out of memory");
      rc = CLI_FAILED;
    }
    free(from);
    free(to);
  }
  remove_stage(stage, files, n);
  free(stage);
  if (rc != CLI_OK) {
    undo_dirs(&made);   /* only succeeds on directories left empty */
    return rc;
  }
  forget_dirs(&made);
  sync_dir(dir);
  remove_stale(dir, stale_prefix, files, n);
  return CLI_OK;
}
