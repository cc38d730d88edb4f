#!/usr/bin/env bash
# The second copy of src/x509 and of the mbedTLS engine (compiled against mbedTLS 3.6) defines
# only renamed globals: mqtls3_* (cmake/mbedtls3/mqtls3_ns.h), plus its engine table. A name
# missing from mqtls3_ns.h would otherwise be defined by both copies (a link error at best).
#   check-ns.sh NM OBJECT...     prints "N passed, N failed"
set -uo pipefail
nm=${1:?usage: check-ns.sh NM OBJECT...}
shift
bad=0
count=0
# CMake hands each target's objects as one ';'-separated argument.
IFS=';' read -r -a objects <<<"$(IFS=';'; echo "$*")"
for o in "${objects[@]}"; do
    while read -r sym; do
        count=$((count + 1))
        case "$sym" in
            mqtls3_* | mqtls__tls_engine_mbedtls3) ;;
            *) echo "FAIL $(basename "$o"): global '$sym' is not renamed (add it to mqtls3_ns.h)"
               bad=$((bad + 1)) ;;
        esac
    done < <("$nm" -g --defined-only "$o" | awk '{print $3}')
done
[ "$count" -gt 0 ] || { echo "FAIL no symbols found"; bad=1; }
echo "$((count - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
