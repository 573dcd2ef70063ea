# placeholder: replaced by the generic-kernels work
add_library(septune_generic OBJECT "${CMAKE_SOURCE_DIR}/runtime/src/generic_select.c")
target_include_directories(septune_generic PRIVATE "${CMAKE_SOURCE_DIR}/runtime/include" "${CMAKE_SOURCE_DIR}/runtime/src")
