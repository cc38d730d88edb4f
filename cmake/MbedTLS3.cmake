# mbedTLS 3.6 LTS next to the system's 2.28 (MbedTLS::mbedtls, cmake/FindMbedTLS.cmake).
#
# The source is Debian 13's `mbedtls` source package, fetched by scripts/fetch-mbedtls3.sh
# into MQTLS_MBEDTLS3_DIR (default <build>/third_party/mbedtls3). It is built here as static
# archives with our config (cmake/mbedtls3/mqtls_mbedtls3_config.h), then every global symbol
# is prefixed with mqtls3_ (cmake/mbedtls3/rename-archives.sh), so that one process can link
# both 3.6 and 2.28. docs/mbedtls3.md has the why.
#
# Provides, when MQTLS_WITH_MBEDTLS3 is ON:
#   mqtls::mbedtls3  INTERFACE target: 3.6 include dir (SYSTEM), MBEDTLS_USER_CONFIG_FILE,
#                    the force-included rename header, the renamed archives, Threads.
#                    A source that links it must not also see 2.28's headers: keep the 3.6
#                    side and the 2.28 side in different targets (tests/unit/mbedtls3).
#   MQTLS_MBEDTLS3_VERSION  Debian version of the source, e.g. 3.6.6-0.1~deb13u1
# Incremental: the build and rename steps run again only when the source version, the config
# header, the compiler or the flags change.

set(MQTLS_MBEDTLS3_DIR "${CMAKE_BINARY_DIR}/third_party/mbedtls3" CACHE PATH
  "Where scripts/fetch-mbedtls3.sh keeps the mbedTLS 3.6 source (DIR/source)")
# Declared, not guessed: ON unless the builder turns it off (then the mbedTLS 3.6 engine and
# the ESP-IDF 5 judgement are not built, and `mqtls --version` says so).
option(MQTLS_WITH_MBEDTLS3 "Build mbedTLS 3.6 (Debian 13 source, renamed symbols) next to 2.28" ON)
if(NOT MQTLS_WITH_MBEDTLS3)
  return()
endif()

# ---- the source ----
set(_m3_fetch "${PROJECT_SOURCE_DIR}/scripts/fetch-mbedtls3.sh")
if(NOT EXISTS "${MQTLS_MBEDTLS3_DIR}/VERSION")
  message(STATUS "mbedTLS 3.6: fetching Debian 13's source into ${MQTLS_MBEDTLS3_DIR}")
  execute_process(COMMAND "${_m3_fetch}" "${MQTLS_MBEDTLS3_DIR}"
    RESULT_VARIABLE _m3_rc OUTPUT_VARIABLE _m3_out ERROR_VARIABLE _m3_err TIMEOUT 900)
  if(NOT _m3_rc EQUAL 0)
    message(FATAL_ERROR "mbedTLS 3.6: scripts/fetch-mbedtls3.sh failed (${_m3_rc}):\n"
      "${_m3_out}${_m3_err}\n"
      "Fix: run scripts/install-deps.sh as root (it installs dpkg-dev), then configure again; "
      "or point -DMQTLS_MBEDTLS3_DIR= at a directory the script filled; "
      "or configure with -DMQTLS_WITH_MBEDTLS3=OFF to build without mbedTLS 3.6.")
  endif()
endif()
file(STRINGS "${MQTLS_MBEDTLS3_DIR}/VERSION" MQTLS_MBEDTLS3_VERSION LIMIT_COUNT 1)
set(_m3_src "${MQTLS_MBEDTLS3_DIR}/source")
if(NOT EXISTS "${_m3_src}/include/mbedtls/build_info.h")
  message(FATAL_ERROR "mbedTLS 3.6: ${_m3_src} is incomplete; delete ${MQTLS_MBEDTLS3_DIR} "
    "and configure again (it is fetched anew)")
endif()
message(STATUS "mbedTLS 3.6: Debian mbedtls ${MQTLS_MBEDTLS3_VERSION} (${_m3_src})")

# ---- flags: -O2 (mbedTLS's Release); AES-NI intrinsics on x86_64 (cmake/mbedtls3/CMakeLists.txt)
set(_m3_config "${CMAKE_CURRENT_LIST_DIR}/mbedtls3/mqtls_mbedtls3_config.h")
set(_m3_rename "${CMAKE_CURRENT_LIST_DIR}/mbedtls3/rename-archives.sh")
set(_m3_aesni OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_m3_aesni ON)
endif()
set(_m3_cflags "")
if(MQTLS_SANITIZE)
  # The same sanitizers as the rest of the build: overflows inside mbedTLS caused by our
  # arguments are reported where they happen. -g for line numbers in reports.
  set(_m3_cflags "-fsanitize=${MQTLS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all -g")
endif()

# ---- build (static, PIC, library only) through cmake/mbedtls3/CMakeLists.txt ----
include(ExternalProject)
set(_m3_root "${CMAKE_BINARY_DIR}/third_party/mbedtls3-build")
set(_m3_bin "${_m3_root}/build")
set(_m3_out "${_m3_root}/renamed")
set(_m3_libs mbedtls mbedx509 mbedcrypto) # link order
set(_m3_built "")
set(_m3_renamed "")
foreach(_l IN LISTS _m3_libs)
  list(APPEND _m3_built "${_m3_bin}/mbedtls/library/lib${_l}.a")
  list(APPEND _m3_renamed "${_m3_out}/libmqtls3_${_l}.a")
endforeach()
ExternalProject_Add(mqtls_mbedtls3_build
  SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/mbedtls3"
  BINARY_DIR "${_m3_bin}"
  PREFIX "${_m3_root}"
  CMAKE_ARGS
    "-DMQTLS_MBEDTLS3_SOURCE=${_m3_src}"
    "-DMQTLS_AESNI_INTRINSICS=${_m3_aesni}"
    "-DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_C_FLAGS=${_m3_cflags}"
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON
    -DENABLE_PROGRAMS=OFF
    -DENABLE_TESTING=OFF
    -DUSE_SHARED_MBEDTLS_LIBRARY=OFF
    -DUSE_STATIC_MBEDTLS_LIBRARY=ON
    -DMBEDTLS_FATAL_WARNINGS=OFF
    -DGEN_FILES=OFF
    -DDISABLE_PACKAGE_CONFIG_AND_INSTALL=ON
    "-DMBEDTLS_USER_CONFIG_FILE=${_m3_config}"
    # not read by mbedTLS: a new Debian version re-runs configure (and so the build)
    "-DMQTLS_MBEDTLS3_VERSION=${MQTLS_MBEDTLS3_VERSION}"
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS ${_m3_built}
  EXCLUDE_FROM_ALL TRUE # built when something links mqtls::mbedtls3
  LOG_CONFIGURE ON
  LOG_BUILD ON
  LOG_OUTPUT_ON_FAILURE ON)
# A change to the config header or the wrapper rebuilds (the inner build then recompiles from
# its own dependency scan, or regenerates itself).
ExternalProject_Add_StepDependencies(mqtls_mbedtls3_build build "${_m3_config}"
  "${CMAKE_CURRENT_LIST_DIR}/mbedtls3/CMakeLists.txt")

# ---- rename ----
# The collision check runs against the 2.28 libraries this build links (':'-separated).
set(_m3_check "")
foreach(_t MbedTLS::mbedtls MbedTLS::mbedx509 MbedTLS::mbedcrypto)
  if(TARGET ${_t})
    string(APPEND _m3_check "$<TARGET_FILE:${_t}>:")
  endif()
endforeach()
set(_m3_nm "${CMAKE_NM}")
set(_m3_objcopy "${CMAKE_OBJCOPY}")
if(NOT _m3_nm)
  set(_m3_nm nm)
endif()
if(NOT _m3_objcopy)
  set(_m3_objcopy objcopy)
endif()
set(MQTLS_MBEDTLS3_RENAME_H "${_m3_out}/mbedtls3_rename.h")
set(_m3_stamp "${_m3_out}/renamed.stamp")
add_custom_command(OUTPUT "${_m3_stamp}"
  BYPRODUCTS ${_m3_renamed} "${MQTLS_MBEDTLS3_RENAME_H}" "${_m3_out}/rename.syms"
  COMMAND "${_m3_rename}" --prefix mqtls3_ --out "${_m3_out}" --include "${_m3_src}/include"
    --config "${_m3_config}" --nm "${_m3_nm}" --objcopy "${_m3_objcopy}"
    --cc "${CMAKE_C_COMPILER}" --check-against "${_m3_check}" ${_m3_built}
  COMMAND "${CMAKE_COMMAND}" -E touch "${_m3_stamp}"
  DEPENDS ${_m3_built} "${_m3_rename}" "${_m3_config}" mqtls_mbedtls3_build
  COMMENT "Renaming mbedTLS 3.6 symbols (prefix mqtls3_)"
  VERBATIM)
add_custom_target(mqtls_mbedtls3_renamed DEPENDS "${_m3_stamp}")

# ---- what consumers use ----
add_library(mqtls_mbedtls3 INTERFACE)
add_library(mqtls::mbedtls3 ALIAS mqtls_mbedtls3)
add_dependencies(mqtls_mbedtls3 mqtls_mbedtls3_renamed)
target_include_directories(mqtls_mbedtls3 SYSTEM INTERFACE "${_m3_src}/include")
target_compile_definitions(mqtls_mbedtls3 INTERFACE
  "MBEDTLS_USER_CONFIG_FILE=\"${_m3_config}\"")
target_compile_options(mqtls_mbedtls3 INTERFACE
  "$<$<COMPILE_LANGUAGE:C>:SHELL:-include ${MQTLS_MBEDTLS3_RENAME_H}>")
target_link_libraries(mqtls_mbedtls3 INTERFACE ${_m3_renamed} Threads::Threads)
# The renamed archives, for libmqtls.a (CMakeLists.txt: partially linked in, their globals made
# local there as --exclude-libs does for libmqtls.so).
set(MQTLS_MBEDTLS3_ARCHIVES ${_m3_renamed})
