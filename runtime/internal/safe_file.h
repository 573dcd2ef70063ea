/*
 * safe_file.h — reading and replacing files that septune keeps (the tuning
 * database, the tune report) without being led astray by what another user
 * may have put in a shared directory.
 *
 * The rules, for every file septune writes:
 *   - The final name is replaced, never written in place: the new content
 *     goes to a temporary file created with O_EXCL beside the target, is
 *     fsynced and renamed over it. A killed writer leaves the old file whole.
 *   - A symbolic link at the target is followed only when it belongs to the
 *     caller (or to root): tuning.db -> team.db made by the user gets its
 *     records written into team.db, and stays a link. A link someone else
 *     planted is refused, never followed.
 *   - Opens of existing files use O_NOFOLLOW and O_NONBLOCK and are checked
 *     with fstat on the open descriptor: a FIFO, a device or a directory is
 *     refused at once instead of blocking or being read.
 *   - An existing file in a world-writable directory (like /tmp) that belongs
 *     to another user is refused: that user could have put anything there.
 *   - The replacement keeps the old file's permission bits (setuid, setgid
 *     and sticky never) and, where the caller may, its owner and group. A new
 *     file gets 0666 less the umask.
 * Reading a file with septune_file_read follows symbolic links as any reader
 * does, but never blocks and reads only regular files.
 *
 * Every function returns SEPTUNE_OK or an error whose message names the
 * file (prefixed by the caller's `what`, e.g. "db") and the reason.
 */
#ifndef SEPTUNE_SAFE_FILE_H
#define SEPTUNE_SAFE_FILE_H

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "septune.h"

/* The file a write goes to, as septune_file_resolve found it. */
typedef struct septune_file_target {
  char path[PATH_MAX]; /* the file replaced: the given path, or where the caller's own link points */
  char dir[PATH_MAX];  /* its directory ("." for a bare name) */
  char base[NAME_MAX + 1]; /* its last component */
  int exists;          /* 1 when a regular file is there now */
  struct stat st;      /* lstat of that file, when it exists */
} septune_file_target;

/* Finds the file a write to `path` replaces: follows the caller's own (or
 * root's) symbolic links, up to 8 in a row. Returns SEPTUNE_ERR_INVALID_ARGUMENT
 * for an empty or too long path or one naming a directory by its form
 * ("dir/", ".."), SEPTUNE_ERR_IO for a link of another user, a non-regular
 * file (directory, FIFO, device), another user's file in a world-writable
 * directory, too many links in a row, or an error of the file system. */
septune_status septune_file_resolve(const char *path, const char *what, septune_file_target *t,
                                    septune_error *err);

/* Reads the whole regular file at `path` (symbolic links followed) into a
 * malloc'd buffer with a NUL after the last byte. A missing file gives
 * *exists = 0, *data = NULL and SEPTUNE_OK. max_size > 0 refuses a larger
 * file (SEPTUNE_ERR_IO). st (may be NULL) receives fstat of the open file.
 * Returns SEPTUNE_ERR_IO for a non-regular file or an I/O error,
 * SEPTUNE_ERR_OUT_OF_MEMORY. */
septune_status septune_file_read(const char *path, const char *what, size_t max_size, char **data,
                                 size_t *len, int *exists, struct stat *st, septune_error *err);

/* Opens `path` for reading without blocking and without following a link at
 * its last component when nofollow is 1. Refuses non-regular files, and with
 * nofollow also another user's file in a world-writable directory. Returns
 * SEPTUNE_OK with *fd >= 0 and *st filled, or *fd = -1 when the file does not
 * exist; errors as septune_file_read. */
septune_status septune_file_open_read(const char *path, const char *what, int nofollow, int *fd,
                                      struct stat *st, septune_error *err);

/* Reads what is left of fd (a regular file of st_size bytes) into a malloc'd,
 * NUL-terminated buffer. Does not close fd. */
septune_status septune_file_read_fd(int fd, const char *path, const char *what, size_t size_hint, char **data,
                                    size_t *len, septune_error *err);

/* Creates the missing directories of t->dir (mode 0777 less the umask). */
septune_status septune_file_make_dirs(const septune_file_target *t, const char *what, septune_error *err);

/* Opens (creating when missing) "<t->path>.lock" with O_NOFOLLOW and takes an
 * exclusive flock on it, waiting for another holder. The lock file stays
 * after close. Returns SEPTUNE_OK with *fd to close when done (which
 * unlocks), or SEPTUNE_ERR_IO when the lock file is a link, not a regular
 * file, another user's in a world-writable directory, or cannot be made. */
septune_status septune_file_lock(const septune_file_target *t, const char *what, int *fd, septune_error *err);

/* Deletes the temporary files "<base>.tmp.XXXXXX" of writers killed before
 * their rename. Only for a caller holding septune_file_lock: then no live
 * writer owns one. Best effort. */
void septune_file_remove_stale_temps(const septune_file_target *t);

/* A replacement being written. */
typedef struct septune_file_writer {
  FILE *f;                 /* write the new content here */
  char tmp[PATH_MAX + 32]; /* the temporary file */
  const septune_file_target *t;
  int has_old;             /* 1 when the old file's mode and owner are in old */
  struct stat old;
} septune_file_writer;

/* Starts replacing t->path: creates the temporary file beside it with
 * O_CREAT|O_EXCL|O_NOFOLLOW. old (may be NULL) is fstat of the file being
 * replaced, whose mode and owner the new file takes. Then write to w->f and
 * finish with septune_file_commit or septune_file_abort. */
septune_status septune_file_begin(const septune_file_target *t, const struct stat *old, const char *what,
                                  septune_file_writer *w, septune_error *err);

/* Flushes, fsyncs, sets mode and owner, renames the temporary file over
 * t->path and fsyncs the directory. On failure the temporary file is
 * removed and the old file is left as it was. */
septune_status septune_file_commit(septune_file_writer *w, const char *what, septune_error *err);

/* Drops the replacement: closes and removes the temporary file. */
void septune_file_abort(septune_file_writer *w);

/* Checks, creating nothing, that a replacement of `path` by resolve, begin
 * and commit (with lock: also septune_file_lock) could succeed: the target resolves, an
 * existing file and lock file pass the checks above, and the nearest existing
 * directory of the target is writable and searchable by this process. */
septune_status septune_file_check_writable(const char *path, const char *what, int lock, septune_error *err);

#endif /* SEPTUNE_SAFE_FILE_H */
