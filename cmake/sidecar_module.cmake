# Helpers that keep every module's build file to a few lines.

# Warnings for our own targets only (system headers are exempt).
function(sidecar_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
  # GCC 12 reports -Wmismatched-new-delete on Asio's coroutine frame allocator (a false positive:
  # the frame is allocated and freed through the same operator pair).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
  if(SIDECAR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# sidecar_module(NAME SOURCES ... PUBLIC_LINKS ... PRIVATE_LINKS ...)
# One static library per module, named sidecar_<NAME>, alias sidecar::<NAME>. Headers live in
# include/sidecar/<NAME>/; explicit PUBLIC/PRIVATE links make a wrong-way include fail the build.
function(sidecar_module name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_LINKS;PRIVATE_LINKS" ${ARGN})
  add_library(sidecar_${name} STATIC ${arg_SOURCES})
  add_library(sidecar::${name} ALIAS sidecar_${name})
  target_include_directories(sidecar_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
  target_link_libraries(sidecar_${name} PUBLIC ${arg_PUBLIC_LINKS} PRIVATE ${arg_PRIVATE_LINKS})
  set_target_properties(sidecar_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  sidecar_warnings(sidecar_${name})
endfunction()

# sidecar_unit_test(MODULE SOURCES ... LINKS ...)
# One Catch2 executable per module (<MODULE>_tests), registered test case by test case.
function(sidecar_unit_test module)
  cmake_parse_arguments(arg "" "" "SOURCES;LINKS" ${ARGN})
  add_executable(${module}_tests ${arg_SOURCES})
  target_link_libraries(${module}_tests PRIVATE sidecar_catch_main ${arg_LINKS})
  sidecar_warnings(${module}_tests)
  catch_discover_tests(${module}_tests
    # Catch2 2.13 writes these properties unquoted: one label only, so TIMEOUT is not swallowed.
    PROPERTIES LABELS ${module} TIMEOUT 120)
endfunction()
