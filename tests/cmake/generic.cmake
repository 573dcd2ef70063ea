# ---- the generic kernels of libseptune_rt (owner: runtime/src/generic_*.c,
# cmake/GenericKernels.cmake): every variant the CPU runs against the
# reference. The variants are linked as objects next to libseptune, which
# brings the reference, the CPU probe and the output check.
add_executable(test_generic "${CMAKE_CURRENT_SOURCE_DIR}/generic/test_generic.c" $<TARGET_OBJECTS:septune_generic>)
target_include_directories(test_generic PRIVATE "${CMAKE_SOURCE_DIR}/runtime/internal" "${CMAKE_CURRENT_SOURCE_DIR}/c")
target_link_libraries(test_generic PRIVATE septune CMocka::CMocka m)
add_test(NAME test_generic COMMAND test_generic)
set_tests_properties(test_generic PROPERTIES ENVIRONMENT "SEPTUNE_DB=" TIMEOUT 300)
