# The connect-storm peers of `mqtls bench` (bench/storm.sh): libmosquitto and Paho C (async API)
# driven like `mqtls bench reconnect`; the MQTT.js script needs no build. Included from
# bench/CMakeLists.txt; a peer whose library is missing is skipped with a message.
set(_mqtls_storm_dir ${CMAKE_CURRENT_LIST_DIR})
add_library(mqtls_storm_common STATIC ${_mqtls_storm_dir}/storm_common.c)
target_include_directories(mqtls_storm_common PUBLIC ${_mqtls_storm_dir})
target_compile_definitions(mqtls_storm_common PUBLIC _POSIX_C_SOURCE=200809L)
target_link_libraries(mqtls_storm_common PRIVATE mqtls_warnings)

find_package(OpenSSL QUIET COMPONENTS SSL)
if(MQTLS_BENCH_MOSQ_FOUND AND OpenSSL_FOUND)
  add_executable(storm_mosquitto ${_mqtls_storm_dir}/storm_mosquitto.c)
  target_link_libraries(storm_mosquitto PRIVATE mqtls_storm_common PkgConfig::MQTLS_BENCH_MOSQ
    OpenSSL::SSL Threads::Threads mqtls_warnings)
else()
  message(STATUS "bench: storm_mosquitto needs libmosquitto-dev and libssl-dev: skipped")
endif()

find_library(MQTLS_BENCH_PAHO_ASYNC_LIB paho-mqtt3as)
if(MQTLS_BENCH_PAHO_INCLUDE AND MQTLS_BENCH_PAHO_ASYNC_LIB)
  add_executable(storm_paho ${_mqtls_storm_dir}/storm_paho.c)
  target_include_directories(storm_paho SYSTEM PRIVATE ${MQTLS_BENCH_PAHO_INCLUDE})
  target_link_libraries(storm_paho PRIVATE mqtls_storm_common ${MQTLS_BENCH_PAHO_ASYNC_LIB}
    mqtls_warnings)
else()
  message(STATUS "bench: storm_paho needs libpaho-mqtt-dev (paho-mqtt3as): skipped")
endif()
