# Client benchmarks side by side: mqtls (bench_client.c) vs libmosquitto vs Eclipse Paho C,
# plus the raw mbedTLS handshake floor. Included from bench/CMakeLists.txt; run by
# bench/run.sh (scripts/bench.sh builds build-bench and calls it). A peer whose library is
# missing is skipped with a message, never an error: benchmarks are not tests.
set(_mqtls_bench_dir ${CMAKE_CURRENT_LIST_DIR})

add_library(mqtls_bench_common STATIC ${_mqtls_bench_dir}/peers/bench_common.c)
target_include_directories(mqtls_bench_common PUBLIC ${_mqtls_bench_dir}/peers)
target_compile_definitions(mqtls_bench_common PUBLIC _POSIX_C_SOURCE=200809L)
target_link_libraries(mqtls_bench_common PUBLIC Threads::Threads PRIVATE mqtls_warnings)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(MQTLS_BENCH_MOSQ QUIET IMPORTED_TARGET libmosquitto)
endif()
if(MQTLS_BENCH_MOSQ_FOUND)
  add_executable(bench_mosquitto ${_mqtls_bench_dir}/peers/bench_mosquitto.c)
  target_link_libraries(bench_mosquitto PRIVATE mqtls_bench_common PkgConfig::MQTLS_BENCH_MOSQ
    mqtls_warnings)
else()
  message(STATUS "bench: libmosquitto not found (apt install libmosquitto-dev): skipped")
endif()

find_path(MQTLS_BENCH_PAHO_INCLUDE MQTTClient.h)
find_library(MQTLS_BENCH_PAHO_LIB paho-mqtt3cs)
if(MQTLS_BENCH_PAHO_INCLUDE AND MQTLS_BENCH_PAHO_LIB)
  add_executable(bench_paho ${_mqtls_bench_dir}/peers/bench_paho.c)
  target_include_directories(bench_paho SYSTEM PRIVATE ${MQTLS_BENCH_PAHO_INCLUDE})
  target_link_libraries(bench_paho PRIVATE mqtls_bench_common ${MQTLS_BENCH_PAHO_LIB}
    mqtls_warnings)
else()
  message(STATUS "bench: Paho C not found (apt install libpaho-mqtt-dev): skipped")
endif()

add_executable(tls_floor ${_mqtls_bench_dir}/peers/tls_floor.c)
target_link_libraries(tls_floor PRIVATE mqtls_bench_common MbedTLS::mbedtls mqtls_warnings)
# The same floor on each other engine's own library, for "connect <= 1.05x the floor" per engine.
if(TARGET mqtls::mbedtls3)
  add_executable(tls_floor3 ${_mqtls_bench_dir}/peers/tls_floor.c)
  target_link_libraries(tls_floor3 PRIVATE mqtls_bench_common mqtls::mbedtls3 mqtls_warnings)
endif()
if(TARGET OpenSSL::SSL)
  add_executable(tls_floor_openssl ${_mqtls_bench_dir}/peers/tls_floor_openssl.c)
  target_link_libraries(tls_floor_openssl PRIVATE mqtls_bench_common OpenSSL::SSL mqtls_warnings)
endif()

# The mqtls side, as an application links it: the shared libmqtls and the public API.
add_executable(bench_client ${_mqtls_bench_dir}/bench_client.c)
target_link_libraries(bench_client PRIVATE mqtls_bench_common mqtls mqtls_warnings)

# The AEAD cost of one record in the linked mbedTLS (context for instr/msg over TLS).
add_executable(aead_cost ${_mqtls_bench_dir}/peers/aead_cost.c)
target_compile_definitions(aead_cost PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(aead_cost PRIVATE MbedTLS::mbedtls mqtls_warnings)
