# ---- the Lua modules lua/septune.lua and lua/septune/generator.lua (owner:
# lua/, tuner/cmd_lua.c): under luajit against libseptune_rt.so, and under
# `septune lua` against the executable's JIT library.
add_test(NAME lua_test_lua_module
  COMMAND ${LUAJIT_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/lua_module/test_lua_module.lua")
set_tests_properties(lua_test_lua_module PROPERTIES
  ENVIRONMENT "LUA_PATH=${CMAKE_SOURCE_DIR}/lua/?.lua\;${CMAKE_CURRENT_SOURCE_DIR}/lua/?.lua\;;SEPTUNE_DB=;SEPTUNE_LUA_ROOT=;SEPTUNE_RT_LIBRARY=$<TARGET_FILE:septune_rt_shared>;SEPTUNE_BIN=$<TARGET_FILE:septune_cli>")
