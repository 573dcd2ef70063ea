/*
 * lua_root.h — where the Lua side of septune is read from: the directory
 * holding generator/, templates/ and lua/ (the source tree, or
 * <prefix>/share/septune once installed).
 */
#ifndef SEPTUNE_LUA_ROOT_H
#define SEPTUNE_LUA_ROOT_H

#include <stddef.h>

#include "septune.h"

/* Large enough for any root septune_lua_root returns. */
#define SEPTUNE_LUA_ROOT_PATH_SIZE 4096

/* Writes the directory into buf (size bytes). First match wins:
 *   1. $SEPTUNE_LUA_ROOT when set and not empty, taken as is, so that a wrong
 *      value is reported rather than silently replaced;
 *   2. the source tree this library was built from, when the running
 *      executable lies in that build's tree (developers, the tests);
 *   3. ../share/septune (the install layout) from the running executable's
 *      directory: the installed `septune` tool, wherever its prefix was
 *      installed (`cmake --install --prefix`) or moved to;
 *   4. the install directory configured at build time: a program linked
 *      against the installed libseptune;
 *   5. the source tree: a program outside the build tree linked against the
 *      build tree's libseptune while nothing is installed.
 * Steps 2-5 take a directory only when generator/septune_gen.lua in it is
 * readable, so an installed copy never reads the source tree while its own
 * generator is there.
 * Returns SEPTUNE_OK, or:
 *   SEPTUNE_ERR_INVALID_ARGUMENT  buf NULL or size 0
 *   SEPTUNE_ERR_GENERATOR         no step found the generator (err names
 *                                 every place tried), or the directory does
 *                                 not fit in buf */
septune_status septune_lua_root(char *buf, size_t size, septune_error *err);

#endif /* SEPTUNE_LUA_ROOT_H */
