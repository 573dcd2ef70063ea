# bench_generic: libseptune_rt's generic kernels (the septune_generic objects)
# against the JIT's default kernels, layer by layer. Included at the end of
# bench/CMakeLists.txt.
add_executable(bench_generic "${CMAKE_CURRENT_SOURCE_DIR}/bench_generic.c" $<TARGET_OBJECTS:septune_generic>)
target_include_directories(bench_generic PRIVATE "${CMAKE_SOURCE_DIR}/runtime/internal")
target_compile_definitions(bench_generic PRIVATE
  SEPTUNE_BENCH_DEFAULT_MODEL="${CMAKE_SOURCE_DIR}/models/mobilenet_v2.txt")
target_link_libraries(bench_generic PRIVATE septune_bench_peers m)
