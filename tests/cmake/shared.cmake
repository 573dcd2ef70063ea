# ---- libseptune_rt.so (owner: runtime/CMakeLists.txt): what it exports and
# its SONAME.
add_test(NAME test_rt_exports
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/shared/test_rt_exports.sh"
          "$<TARGET_FILE:septune_rt_shared>" "${CMAKE_SOURCE_DIR}/runtime/include" "${CMAKE_C_COMPILER}"
          "${CMAKE_NM}" "${CMAKE_READELF}" "$<TARGET_SONAME_FILE_NAME:septune_rt_shared>")
