# ---- plans on threads (owner: runtime/src/pool.c, plan_common.c, the kernels'
# work items): one source, built against each library; labelled "threads",
# the tests CI also runs under ThreadSanitizer (.ci/run).
foreach(lib septune_rt septune)
  if(lib STREQUAL "septune")
    set(name test_threads_jit)
  else()
    set(name test_threads_rt)
  endif()
  add_executable(${name} "${CMAKE_CURRENT_SOURCE_DIR}/threads/test_threads.c")
  target_include_directories(${name} PRIVATE "${CMAKE_SOURCE_DIR}/runtime/internal" "${CMAKE_CURRENT_SOURCE_DIR}/c")
  target_link_libraries(${name} PRIVATE ${lib} Pthreadpool::Pthreadpool Threads::Threads CMocka::CMocka)
  if(lib STREQUAL "septune")
    target_compile_definitions(${name} PRIVATE SEPTUNE_TEST_JIT=1 SEPTUNE_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "SEPTUNE_DB=" LABELS threads TIMEOUT 600)
endforeach()
