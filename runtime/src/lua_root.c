/*
 * lua_root.c — finds the directory holding the Lua generator, its templates
 * and the Lua modules (lua_root.h says the order).
 */
#include "lua_root.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Set by runtime/CMakeLists.txt and cmake/Install.cmake:
 *   SEPTUNE_LUA_ROOT           the source tree this library was built from
 *   SEPTUNE_BUILD_ROOT         the build tree it was built in
 *   SEPTUNE_LUA_INSTALL_ROOT   <prefix>/share/septune as configured
 *   SEPTUNE_LUA_EXE_RELATIVE   the same, relative to the installed tool's
 *                              directory (from the install layout) */
#ifndef SEPTUNE_LUA_ROOT
#define SEPTUNE_LUA_ROOT "."
#endif
#ifndef SEPTUNE_BUILD_ROOT
#define SEPTUNE_BUILD_ROOT ""
#endif
#ifndef SEPTUNE_LUA_INSTALL_ROOT
#define SEPTUNE_LUA_INSTALL_ROOT ""
#endif
#ifndef SEPTUNE_LUA_EXE_RELATIVE
#define SEPTUNE_LUA_EXE_RELATIVE "../share/septune"
#endif

/* 1 when root/generator/septune_gen.lua can be read. */
static int holds_generator(const char *root)
{
  char path[SEPTUNE_LUA_ROOT_PATH_SIZE];
  int n = snprintf(path, sizeof path, "%s/generator/septune_gen.lua", root);
  return *root && n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

/* Writes the canonical directory of the running executable into dir.
 * Returns 0, or -1 when it is unknown (no /proc) or too long. */
static int exe_dir(char *dir, size_t size)
{
  ssize_t n = readlink("/proc/self/exe", dir, size);
  if (n <= 0 || (size_t)n >= size) return -1;
  dir[n] = '\0';
  char *slash = strrchr(dir, '/');
  if (!slash) return -1;
  *slash = '\0';
  return 0;
}

/* 1 when the canonical directory dir is tree or lies below it. */
static int lies_in(const char *dir, const char *tree)
{
  if (!*tree) return 0;
  char *real = realpath(tree, NULL);
  if (!real) return 0;
  size_t n = strlen(real);
  int in = strncmp(dir, real, n) == 0 && (dir[n] == '/' || dir[n] == '\0');
  free(real);
  return in;
}

/* Writes dir/SEPTUNE_LUA_EXE_RELATIVE into buf, canonical when it exists
 * ("/opt/x/bin/../share/septune" -> "/opt/x/share/septune": it shows up in
 * error messages and Lua chunk names). Returns 0, or -1 when too long. */
static int exe_relative_root(const char *dir, char *buf, size_t size)
{
  int m = snprintf(buf, size, "%s/%s", dir, SEPTUNE_LUA_EXE_RELATIVE);
  if (m < 0 || (size_t)m >= size) return -1;
  char *real = realpath(buf, NULL);
  if (real) {
    if (strlen(real) < size) memcpy(buf, real, strlen(real) + 1);
    free(real);
  }
  return 0;
}

static septune_status take(const char *root, char *buf, size_t size, septune_error *err)
{
  size_t n = strlen(root);
  if (n >= size)
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "generator: the path %s is longer than %zu bytes", root,
                             size - 1);
  memcpy(buf, root, n + 1);
  return septune_error_clear(err);
}

septune_status septune_lua_root(char *buf, size_t size, septune_error *err)
{
  if (!buf || size == 0)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "generator: no buffer for the Lua root");
  const char *env = getenv("SEPTUNE_LUA_ROOT");
  if (env && *env) return take(env, buf, size, err);

  char dir[SEPTUNE_LUA_ROOT_PATH_SIZE], exe_root[SEPTUNE_LUA_ROOT_PATH_SIZE];
  int have_exe = exe_dir(dir, sizeof dir) == 0;
  if (have_exe && lies_in(dir, SEPTUNE_BUILD_ROOT) && holds_generator(SEPTUNE_LUA_ROOT))
    return take(SEPTUNE_LUA_ROOT, buf, size, err);
  have_exe = have_exe && exe_relative_root(dir, exe_root, sizeof exe_root) == 0;
  if (have_exe && holds_generator(exe_root)) return take(exe_root, buf, size, err);
  if (holds_generator(SEPTUNE_LUA_INSTALL_ROOT)) return take(SEPTUNE_LUA_INSTALL_ROOT, buf, size, err);
  if (holds_generator(SEPTUNE_LUA_ROOT)) return take(SEPTUNE_LUA_ROOT, buf, size, err);

  const char *install = *SEPTUNE_LUA_INSTALL_ROOT ? SEPTUNE_LUA_INSTALL_ROOT : "(no install directory)";
  return septune_error_set(err, SEPTUNE_ERR_GENERATOR,
                           "generator: generator/septune_gen.lua not found: $SEPTUNE_LUA_ROOT is not set; tried, "
                           "next to the executable, %s, the install directory %s and the source tree %s; set "
                           "SEPTUNE_LUA_ROOT to the directory holding generator/ and templates/",
                           have_exe ? exe_root : "(its path is unknown)", install, SEPTUNE_LUA_ROOT);
}
