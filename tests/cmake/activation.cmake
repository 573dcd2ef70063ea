# ---- the activations' accuracy over the float range (owner:
# generator/x86_activation.lua, generator/c_activation.lua and the
# activations of runtime/src/generic_kernels.c): the JIT's kernels and every
# generic variant, so the test links the variants next to libseptune.
if(TARGET test_activation_sweep)
  target_sources(test_activation_sweep PRIVATE $<TARGET_OBJECTS:septune_generic>)
  set_tests_properties(test_activation_sweep PROPERTIES TIMEOUT 900)
endif()
