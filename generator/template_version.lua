-- template_version.lua — the generator's template version, bumped whenever a
-- template change alters generated code, so that tuning records of older
-- kernels are not reused for newer ones.
--
-- septune_gen.lua requires it; the runtime (runtime/src/template_version.c)
-- reads it as text without starting Lua, so it stays comments and one line
-- "return N".
return 3
