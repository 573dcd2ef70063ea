# ---- the Lua modules lua/septune.lua and lua/septune/generator.lua (owner:
# lua/, tuner/cmd_lua.c): under luajit against libseptune_rt.so, and under
# `septune lua` against the executable's JIT library.
add_test(NAME lua_test_lua_module
  COMMAND ${LUAJIT_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/lua_module/test_lua_module.lua")
set(_septune_lua_module_env
  "LUA_PATH=${CMAKE_SOURCE_DIR}/lua/?.lua\;${CMAKE_CURRENT_SOURCE_DIR}/lua/?.lua\;;SEPTUNE_DB=;SEPTUNE_LUA_ROOT="
  "SEPTUNE_RT_LIBRARY=$<TARGET_FILE:septune_rt_shared>" "SEPTUNE_BIN=$<TARGET_FILE:septune_cli>"
  "SEPTUNE_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}")
if(SEPTUNE_SANITIZE)
  # luajit is not instrumented: the sanitizer runtimes must be loaded first
  # for it to load the instrumented libseptune_rt.so. GCC ships them as shared
  # libraries; with another compiler the sanitizer CI leaves this test out.
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE _septune_asan OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                    OUTPUT_VARIABLE _septune_ubsan OUTPUT_STRIP_TRAILING_WHITESPACE)
    list(APPEND _septune_lua_module_env "LD_PRELOAD=${_septune_asan} ${_septune_ubsan}")
  else()
    set_tests_properties(lua_test_lua_module PROPERTIES LABELS no_sanitizer)
  endif()
endif()
set_tests_properties(lua_test_lua_module PROPERTIES ENVIRONMENT "${_septune_lua_module_env}")
