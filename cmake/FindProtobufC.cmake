# Finds protobuf-c, the C implementation of Protocol Buffers that `septune
# import` reads ONNX files with: the library and header (Debian's
# libprotobuf-c-dev) and the code generator protoc-c (protobuf-c-compiler).
#
# Sets ProtobufC_FOUND, PROTOBUF_C_INCLUDE_DIR, PROTOBUF_C_LIBRARY,
# PROTOC_C_EXECUTABLE and the imported target ProtobufC::ProtobufC.
find_path(PROTOBUF_C_INCLUDE_DIR protobuf-c/protobuf-c.h)
find_library(PROTOBUF_C_LIBRARY NAMES protobuf-c)
find_program(PROTOC_C_EXECUTABLE NAMES protoc-c protoc-gen-c)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ProtobufC
  REQUIRED_VARS PROTOBUF_C_LIBRARY PROTOBUF_C_INCLUDE_DIR PROTOC_C_EXECUTABLE
  FAIL_MESSAGE "protobuf-c not found: install the Debian packages 'libprotobuf-c-dev' and 'protobuf-c-compiler', or run scripts/setup.sh")

if(ProtobufC_FOUND AND NOT TARGET ProtobufC::ProtobufC)
  add_library(ProtobufC::ProtobufC UNKNOWN IMPORTED)
  set_target_properties(ProtobufC::ProtobufC PROPERTIES
    IMPORTED_LOCATION "${PROTOBUF_C_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PROTOBUF_C_INCLUDE_DIR}")
endif()
