/*
 * cmd_lua.c — `septune lua SCRIPT [ARG...]`: runs a LuaJIT script inside the
 * septune executable.
 *
 * Debian's libtcc is a non-PIC static archive, so the JIT library exists only
 * linked into executables, never as a shared library a plain `luajit` could
 * load. This executable exports septune.h's functions (tuner/CMakeLists.txt),
 * and the script's `require "septune"` binds them through ffi.C: plans get
 * the JIT, the tuning database and any knobs. lua/ of the Lua root (the
 * source tree, or share/septune once installed) comes first on package.path,
 * so require "septune" and require "septune.generator" find their modules.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "cli.h"
#include "generator.h"
#include "lua_root.h"

const char cli_lua_help[] =
    "usage: septune lua SCRIPT.lua [ARG...]\n"
    "  run a LuaJIT script with septune's Lua modules on its path:\n"
    "    require \"septune\"            septune.h through the FFI, served by this\n"
    "                                 executable's JIT library\n"
    "    require \"septune.generator\"  kernel sources and knob spaces for layer lines\n"
    "  ARGs are the script's arg[1], arg[2], ... and its `...`; the exit status is\n"
    "  the script's os.exit status, else 0; 1 when it raises an error, 2 when it\n"
    "  cannot be loaded\n";

/* Message handler: the error with a traceback. */
static int traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

/* Prepends root/lua/?.lua and root/lua/?/init.lua to package.path. */
static void add_module_path(lua_State *L, const char *root)
{
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s", root, root, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}

/* The global `arg` as luajit sets it: arg[0] the script, arg[1..] its
 * arguments, arg[-1] the command that runs it. */
static void set_arg(lua_State *L, int argc, char **argv)
{
  lua_createtable(L, argc, 1);
  lua_pushliteral(L, "septune lua");
  lua_rawseti(L, -2, -1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_setglobal(L, "arg");
}

int cmd_lua(int argc, char **argv)
{
  /* Everything after the script is the script's: no option parsing here. */
  argc--;
  argv++;
  if (argc < 1) {
    fputs(cli_lua_help, stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
    fputs(cli_lua_help, stdout);
    return CLI_OK;
  }
  char root[SEPTUNE_LUA_ROOT_PATH_SIZE];
  septune_error err;
  if (septune_lua_root(root, sizeof root, &err) != SEPTUNE_OK) {
    cli_error("lua: %s", err.message);
    return CLI_FAILED;
  }
  lua_State *L = luaL_newstate();
  if (!L) {
    cli_error("lua: cannot create a Lua state");
    return CLI_FAILED;
  }
  luaL_openlibs(L);
  septune_gen_preload_host(L);
  add_module_path(L, root);
  set_arg(L, argc, argv);

  int rc = CLI_OK;
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, argv[0]) != 0) {
    cli_error("lua: %s", lua_tostring(L, -1));
    rc = CLI_USAGE;
  } else {
    for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
    if (lua_pcall(L, argc - 1, 0, 1) != 0) {
      cli_error("lua: %s", lua_tostring(L, -1));
      rc = CLI_FAILED;
    }
  }
  lua_close(L);
  return rc;
}
