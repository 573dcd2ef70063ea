# test_generator renders layers millions of columns wide and rows tall: the
# generator's work must not grow with them, and the timeout is the guard.
if(TARGET test_generator)
  set_tests_properties(test_generator PROPERTIES TIMEOUT 120)
endif()
