# Warning flags for all project code (STYLE.md "Build"), plus optional sanitizers.
function(mqtls_set_warnings target)
  target_compile_options(${target} INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef)
  if(MQTLS_WERROR)
    target_compile_options(${target} INTERFACE -Werror)
  endif()
endfunction()

if(MQTLS_SANITIZE)
  add_compile_options(-fsanitize=${MQTLS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MQTLS_SANITIZE})
endif()

# Banned functions (STYLE.md): poison them in project code.
# C only: the ESP-IDF example also compiles .S files (mqtls_embed_files).
string(APPEND CMAKE_C_FLAGS " -include ${CMAKE_CURRENT_LIST_DIR}/../src/common/banned.h")
