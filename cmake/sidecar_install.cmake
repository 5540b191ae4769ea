# Installs the engine as a library (pattern 1): sidecar_client and the modules it builds on, the
# include/sidecar headers (with the generated version.hpp), a CMake package config giving
# vault_sidecar::client, and vault_sidecar.pc. Included from src/client/CMakeLists.txt, once every
# module it names has been defined. Everything here is the `library` component:
# `cmake --install BUILD --component library` installs the library alone (no daemon binary).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# metrics: the vault module counts its requests there.
set(sidecar_installed_modules client engine lease cache auth vault metrics config core)
set(sidecar_installed_targets)
foreach(module IN LISTS sidecar_installed_modules)
  # vault_sidecar::client, vault_sidecar::core, ... rather than vault_sidecar::sidecar_client.
  set_target_properties(sidecar_${module} PROPERTIES EXPORT_NAME ${module})
  list(APPEND sidecar_installed_targets sidecar_${module})
endforeach()

install(TARGETS ${sidecar_installed_targets}
  EXPORT vault_sidecar_targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sidecar
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT library
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/generated/sidecar/core/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sidecar/core COMPONENT library)

set(sidecar_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/vault_sidecar)
install(EXPORT vault_sidecar_targets
  NAMESPACE vault_sidecar::
  FILE vault_sidecarTargets.cmake
  DESTINATION ${sidecar_cmake_dir} COMPONENT library)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vault_sidecarConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vault_sidecarConfig.cmake
  INSTALL_DESTINATION ${sidecar_cmake_dir})
# 0.x: only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vault_sidecarConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vault_sidecarConfig.cmake
              ${PROJECT_BINARY_DIR}/vault_sidecarConfigVersion.cmake
  DESTINATION ${sidecar_cmake_dir} COMPONENT library)

# pkg-config: the same libraries in link order, the compile definitions sidecar::core makes
# PUBLIC, and the C++ standard the headers need.
configure_file(${PROJECT_SOURCE_DIR}/cmake/vault_sidecar.pc.in
  ${PROJECT_BINARY_DIR}/vault_sidecar.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vault_sidecar.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT library)
