/*
 * test_lua_root.c — where the generator is read from, as seen by a program in
 * the build tree: $SEPTUNE_LUA_ROOT as given, else the source tree; the
 * errors. The installed side (an installed tool and program find their own
 * share/septune with the source tree gone) is tests/install/test_install.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lua_root.h"

static void test_environment_taken_as_given(void **state)
{
  (void)state;
  char root[SEPTUNE_LUA_ROOT_PATH_SIZE];
  septune_error err;
  /* Not checked for a generator: a wrong value must show in the error that
   * loading the generator then reports. */
  assert_int_equal(setenv("SEPTUNE_LUA_ROOT", "/no/such/septune/root", 1), 0);
  assert_int_equal(septune_lua_root(root, sizeof root, &err), SEPTUNE_OK);
  assert_string_equal(root, "/no/such/septune/root");
  assert_int_equal(unsetenv("SEPTUNE_LUA_ROOT"), 0);
}

static void test_build_tree_reads_source_tree(void **state)
{
  (void)state;
  char root[SEPTUNE_LUA_ROOT_PATH_SIZE];
  septune_error err;
  /* Empty counts as unset. This test runs from the build tree, so the source
   * tree wins over any installed copy. */
  assert_int_equal(setenv("SEPTUNE_LUA_ROOT", "", 1), 0);
  assert_int_equal(septune_lua_root(root, sizeof root, &err), SEPTUNE_OK);
  assert_string_equal(root, SEPTUNE_LUA_ROOT);
  assert_int_equal(unsetenv("SEPTUNE_LUA_ROOT"), 0);
  assert_int_equal(septune_lua_root(root, sizeof root, &err), SEPTUNE_OK);
  assert_string_equal(root, SEPTUNE_LUA_ROOT);
}

static void test_errors(void **state)
{
  (void)state;
  char small[4];
  septune_error err;
  assert_int_equal(unsetenv("SEPTUNE_LUA_ROOT"), 0);
  assert_int_equal(septune_lua_root(small, sizeof small, &err), SEPTUNE_ERR_GENERATOR);
  assert_non_null(strstr(err.message, "longer than 3 bytes"));
  assert_int_equal(septune_lua_root(NULL, 10, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_lua_root(small, 0, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_environment_taken_as_given),
    cmocka_unit_test(test_build_tree_reads_source_tree),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
