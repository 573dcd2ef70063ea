# ---- emitted sources built by gcc, clang and tcc match the JIT bit for bit
# (owner: tests/emit/). test_emit_check is driven by test_emit_build.lua.
add_executable(test_emit_check "${CMAKE_CURRENT_SOURCE_DIR}/emit/test_emit_check.c")
target_include_directories(test_emit_check PRIVATE "${CMAKE_SOURCE_DIR}/runtime/internal")
target_link_libraries(test_emit_check PRIVATE septune CMocka::CMocka ${CMAKE_DL_LIBS})
add_test(NAME test_emit_build
  COMMAND ${LUAJIT_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/emit/test_emit_build.lua")
set_tests_properties(test_emit_build PROPERTIES TIMEOUT 600
  ENVIRONMENT "LUA_PATH=${CMAKE_CURRENT_SOURCE_DIR}/lua/?.lua\;;SEPTUNE_DB=;SEPTUNE_LUA_ROOT=${CMAKE_SOURCE_DIR};SEPTUNE_TMPDIR=${CMAKE_CURRENT_BINARY_DIR};SEPTUNE_BIN=$<TARGET_FILE:septune_cli>;SEPTUNE_EMIT_CHECK=$<TARGET_FILE:test_emit_check>;SEPTUNE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
