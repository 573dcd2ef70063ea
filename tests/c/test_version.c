/*
 * test_version.c — septune_version() is the version the header announces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "septune.h"

static void version_matches_header(void **state)
{
  (void)state;
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", SEPTUNE_VERSION_MAJOR, SEPTUNE_VERSION_MINOR, SEPTUNE_VERSION_PATCH);
  assert_non_null(septune_version());
  assert_string_equal(septune_version(), want);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(version_matches_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
