/*
 * safe_file.c — reading and replacing septune's files safely in shared
 * directories (the rules are in safe_file.h).
 */
#include "safe_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_LINKS 8          /* symbolic links followed in a row */
#define TMP_SUFFIX ".tmp."
#define TMP_RANDOM 6         /* characters after TMP_SUFFIX */
#define TMP_TRIES 100        /* names tried before giving up */
#define LOCK_SUFFIX ".lock"

static const char *kind_of(mode_t m)
{
  return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
       : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link"
       : "not a regular file";
}

static septune_status not_regular(const char *what, const char *path, mode_t m, septune_error *err)
{
  return septune_error_set(err, SEPTUNE_ERR_IO, "%s: %s is %s, not a regular file", what, path, kind_of(m));
}

/* The directory part of path into dir ("." for a bare name, "/" for "/x"),
 * the last component into base. Returns -1 when either does not fit or the
 * last component names a directory ("", ".", ".."). */
static int split(const char *path, char *dir, size_t dn, char *base, size_t bn)
{
  const char *slash = strrchr(path, '/');
  const char *b = slash ? slash + 1 : path;
  size_t len = slash ? (size_t)(slash - path) : 0;
  if (strlen(b) >= bn || len >= dn) return -1;
  if (!slash) snprintf(dir, dn, ".");
  else if (len == 0) snprintf(dir, dn, "/");
  else {
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  memcpy(base, b, strlen(b) + 1);
  return !base[0] || !strcmp(base, ".") || !strcmp(base, "..") ? -1 : 0;
}

/* Refuses st (a file in dir) when dir is world-writable and st belongs to
 * someone else: whoever may write dir could have put it there. */
static septune_status check_owner(const char *what, const char *path, const char *dir, const struct stat *st,
                                  septune_error *err)
{
  struct stat ds;
  if (st->st_uid == geteuid()) return SEPTUNE_OK;
  if (stat(dir, &ds) != 0)
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot stat directory %s: %s", what, dir, strerror(errno));
  if (!(ds.st_mode & S_IWOTH)) return SEPTUNE_OK;
  return septune_error_set(err, SEPTUNE_ERR_IO,
                           "%s: %s belongs to uid %u and lies in the world-writable directory %s: refusing to "
                           "use it (anyone could have put it there; remove it or choose another path)",
                           what, path, (unsigned)st->st_uid, dir);
}

septune_status septune_file_resolve(const char *path, const char *what, septune_file_target *t,
                                    septune_error *err)
{
  char cur[PATH_MAX];
  if (!path || !t) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: NULL argument", what);
  memset(t, 0, sizeof *t);
  if (!path[0]) return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: empty path", what);
  /* Room for the lock and temporary names beside the file. */
  if (strlen(path) + sizeof TMP_SUFFIX + TMP_RANDOM >= sizeof cur)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: path too long: %.200s", what, path);
  snprintf(cur, sizeof cur, "%s", path);
  for (int links = 0;; links++) {
    if (split(cur, t->dir, sizeof t->dir, t->base, sizeof t->base) != 0)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: %.200s names a directory, not a file", what,
                               cur);
    if (lstat(cur, &t->st) != 0) {
      if (errno != ENOENT)
        return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot use %s: %s", what, cur, strerror(errno));
      break; /* a new file */
    }
    if (!S_ISLNK(t->st.st_mode)) {
      if (!S_ISREG(t->st.st_mode)) return not_regular(what, cur, t->st.st_mode, err);
      t->exists = 1;
      break;
    }
    if (t->st.st_uid != geteuid() && t->st.st_uid != 0)
      return septune_error_set(err, SEPTUNE_ERR_IO,
                               "%s: %s is a symbolic link of uid %u, not yours: refusing to follow it", what, cur,
                               (unsigned)t->st.st_uid);
    if (links == MAX_LINKS)
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: %s: more than %d symbolic links in a row", what, path,
                               MAX_LINKS);
    char to[PATH_MAX];
    ssize_t n = readlink(cur, to, sizeof to - 1);
    if (n < 0)
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot read link %s: %s", what, cur, strerror(errno));
    to[n] = '\0';
    int m = to[0] == '/' ? snprintf(cur, sizeof cur, "%s", to) : snprintf(cur, sizeof cur, "%s/%s", t->dir, to);
    if (m < 0 || (size_t)m + sizeof TMP_SUFFIX + TMP_RANDOM >= sizeof cur)
      return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "%s: %s points to a path too long", what, path);
  }
  snprintf(t->path, sizeof t->path, "%s", cur);
  if (t->exists) return check_owner(what, t->path, t->dir, &t->st, err);
  return SEPTUNE_OK;
}

septune_status septune_file_open_read(const char *path, const char *what, int nofollow, int *fd,
                                      struct stat *st, septune_error *err)
{
  char dir[PATH_MAX], base[NAME_MAX + 1];
  *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (*fd < 0) {
    if (errno == ENOENT) return SEPTUNE_OK;
    if (errno == ELOOP && nofollow)
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: %s is a symbolic link: refusing to follow it", what, path);
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot open %s: %s", what, path, strerror(errno));
  }
  septune_status s = SEPTUNE_OK;
  if (fstat(*fd, st) != 0)
    s = septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot stat %s: %s", what, path, strerror(errno));
  else if (!S_ISREG(st->st_mode))
    s = not_regular(what, path, st->st_mode, err);
  else if (nofollow && split(path, dir, sizeof dir, base, sizeof base) == 0)
    s = check_owner(what, path, dir, st, err);
  if (s != SEPTUNE_OK) {
    close(*fd);
    *fd = -1;
  }
  return s;
}

septune_status septune_file_read_fd(int fd, const char *path, const char *what, size_t size_hint, char **data,
                                    size_t *len, septune_error *err)
{
  size_t cap = size_hint + 4096, n = 0;
  char *buf = malloc(cap + 1);
  *data = NULL;
  *len = 0;
  if (!buf) return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "%s: out of memory reading %s", what, path);
  for (;;) {
    if (n == cap) {
      char *b = cap < SIZE_MAX / 4 ? realloc(buf, cap * 2 + 1) : NULL;
      if (!b) {
        free(buf);
        return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "%s: out of memory reading %s", what, path);
      }
      buf = b;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot read %s: %s", what, path, strerror(e));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return SEPTUNE_OK;
}

septune_status septune_file_read(const char *path, const char *what, size_t max_size, char **data,
                                 size_t *len, int *exists, struct stat *st, septune_error *err)
{
  struct stat s;
  int fd;
  *data = NULL;
  *len = 0;
  *exists = 0;
  septune_status r = septune_file_open_read(path, what, 0, &fd, &s, err);
  if (r != SEPTUNE_OK || fd < 0) return r;
  if (max_size && (uintmax_t)s.st_size > max_size)
    r = septune_error_set(err, SEPTUNE_ERR_IO, "%s: %s is larger than %zu bytes", what, path, max_size);
  else
    r = septune_file_read_fd(fd, path, what, (size_t)s.st_size, data, len, err);
  close(fd);
  if (r == SEPTUNE_OK && max_size && *len > max_size) {
    free(*data);
    *data = NULL;
    r = septune_error_set(err, SEPTUNE_ERR_IO, "%s: %s is larger than %zu bytes", what, path, max_size);
  }
  if (r != SEPTUNE_OK) return r;
  *exists = 1;
  if (st) *st = s;
  return SEPTUNE_OK;
}

septune_status septune_file_make_dirs(const septune_file_target *t, const char *what, septune_error *err)
{
  char d[PATH_MAX];
  size_t n = strlen(t->dir);
  memcpy(d, t->dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (d[i] != '/' && d[i] != '\0') continue;
    char c = d[i];
    d[i] = '\0';
    if (mkdir(d, 0777) != 0 && errno != EEXIST)
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot create directory %s for %s: %s", what, d, t->path,
                               strerror(errno));
    d[i] = c;
  }
  return SEPTUNE_OK;
}

/* Opens the lock file of t (creating it when create is 1) and checks it.
 * *fd is -1 when it does not exist and create is 0. */
static septune_status open_lock(const septune_file_target *t, const char *what, int create, int *fd,
                                septune_error *err)
{
  char path[PATH_MAX + sizeof LOCK_SUFFIX];
  struct stat st;
  snprintf(path, sizeof path, "%s" LOCK_SUFFIX, t->path);
  *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0), 0666);
  if (*fd < 0) {
    if (errno == ENOENT && !create) return SEPTUNE_OK;
    if (errno == ELOOP)
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: lock file %s is a symbolic link: refusing to follow it",
                               what, path);
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot open lock file %s: %s", what, path, strerror(errno));
  }
  septune_status s = SEPTUNE_OK;
  if (fstat(*fd, &st) != 0)
    s = septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot stat lock file %s: %s", what, path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    s = not_regular(what, path, st.st_mode, err);
  else
    s = check_owner(what, path, t->dir, &st, err);
  if (s != SEPTUNE_OK) {
    close(*fd);
    *fd = -1;
  }
  return s;
}

septune_status septune_file_lock(const septune_file_target *t, const char *what, int *fd, septune_error *err)
{
  septune_status s = open_lock(t, what, 1, fd, err);
  if (s != SEPTUNE_OK) return s;
  while (flock(*fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      s = septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot lock %s" LOCK_SUFFIX ": %s", what, t->path,
                            strerror(errno));
      close(*fd);
      *fd = -1;
      return s;
    }
  }
  return SEPTUNE_OK;
}

void septune_file_remove_stale_temps(const septune_file_target *t)
{
  DIR *d = opendir(t->dir);
  struct dirent *de;
  size_t bn = strlen(t->base), sn = strlen(TMP_SUFFIX);
  if (!d) return;
  while ((de = readdir(d)) != NULL) {
    if (strlen(de->d_name) == bn + sn + TMP_RANDOM && !strncmp(de->d_name, t->base, bn) &&
        !strncmp(de->d_name + bn, TMP_SUFFIX, sn))
      unlinkat(dirfd(d), de->d_name, 0);
  }
  closedir(d);
}

/* TMP_RANDOM letters and digits, from getrandom when it answers. O_EXCL
 * keeps the open safe either way: a guessed name only costs a retry. */
static void random_name(char *out)
{
  static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char r[TMP_RANDOM];
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)out;
    for (int i = 0; i < TMP_RANDOM; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
      r[i] = (unsigned char)(x >> 56);
  }
  for (int i = 0; i < TMP_RANDOM; i++) out[i] = set[r[i] % (sizeof set - 1)];
  out[TMP_RANDOM] = '\0';
}

septune_status septune_file_begin(const septune_file_target *t, const struct stat *old, const char *what,
                                  septune_file_writer *w, septune_error *err)
{
  int fd = -1;
  memset(w, 0, sizeof *w);
  w->t = t;
  if (old) {
    w->old = *old;
    w->has_old = 1;
  }
  for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
    char r[TMP_RANDOM + 1];
    random_name(r);
    snprintf(w->tmp, sizeof w->tmp, "%s" TMP_SUFFIX "%s", t->path, r);
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0)
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot create a temporary file next to %s: %s", what,
                             t->path, strerror(errno));
  w->f = fdopen(fd, "w");
  if (!w->f) {
    close(fd);
    unlink(w->tmp);
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "%s: out of memory writing %s", what, t->path);
  }
  return SEPTUNE_OK;
}

void septune_file_abort(septune_file_writer *w)
{
  if (!w->f) return;
  fclose(w->f);
  w->f = NULL;
  unlink(w->tmp);
}

septune_status septune_file_commit(septune_file_writer *w, const char *what, septune_error *err)
{
  int fd = fileno(w->f);
  int bad = fflush(w->f) != 0 || ferror(w->f) || fsync(fd) != 0;
  if (!bad && w->has_old) {
    /* Owner first: chown clears the setuid bits, which are never kept. */
    if (w->old.st_uid != geteuid() || w->old.st_gid != getegid())
      (void)!fchown(fd, w->old.st_uid, w->old.st_gid); /* only where this process may */
    bad = fchmod(fd, w->old.st_mode & 0777) != 0;
  }
  int e = errno;
  if (fclose(w->f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  w->f = NULL;
  if (!bad && rename(w->tmp, w->t->path) != 0) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    unlink(w->tmp);
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot write %s: %s", what, w->t->path, strerror(e));
  }
  /* The rename is durable only once the directory is on disk. */
  int dfd = open(w->t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return SEPTUNE_OK;
}

septune_status septune_file_check_writable(const char *path, const char *what, int lock, septune_error *err)
{
  septune_file_target t;
  septune_status s = septune_file_resolve(path, what, &t, err);
  int fd;
  struct stat st;
  if (s != SEPTUNE_OK) return s;
  if (t.exists) {
    if ((s = septune_file_open_read(t.path, what, 1, &fd, &st, err)) != SEPTUNE_OK) return s;
    if (fd >= 0) close(fd);
  }
  if (lock) {
    if ((s = open_lock(&t, what, 0, &fd, err)) != SEPTUNE_OK) return s;
    if (fd >= 0) close(fd);
  }
  /* The nearest directory that exists: the rename happens in it, or the
   * missing directories are made in it. */
  char d[PATH_MAX];
  snprintf(d, sizeof d, "%s", t.dir);
  for (;;) {
    if (stat(d, &st) == 0) break;
    char *slash = strrchr(d, '/');
    if (errno != ENOENT || !strcmp(d, "."))
      return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot use directory %s for %s: %s", what, d, t.path,
                               strerror(errno));
    if (!slash) snprintf(d, sizeof d, ".");
    else if (slash == d) slash[1] = '\0';
    else *slash = '\0';
  }
  if (!S_ISDIR(st.st_mode))
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot create %s: %s is not a directory", what, t.path, d);
  if (faccessat(AT_FDCWD, d, W_OK | X_OK, AT_EACCESS) != 0)
    return septune_error_set(err, SEPTUNE_ERR_IO, "%s: cannot write %s: directory %s: %s", what, t.path, d,
                             strerror(errno));
  return septune_error_clear(err);
}
