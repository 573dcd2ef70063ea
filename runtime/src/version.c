/*
 * version.c — septune_version(): the project version the build was
 * configured with (CMakeLists.txt's project(VERSION)).
 */
#include "septune.h"

#ifndef SEPTUNE_VERSION_STRING
#error "SEPTUNE_VERSION_STRING must be defined by the build (runtime/CMakeLists.txt)"
#endif

const char *septune_version(void) { return SEPTUNE_VERSION_STRING; }
