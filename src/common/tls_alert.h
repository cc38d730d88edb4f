/* Internal: the one table of TLS alerts (AlertDescription: RFC 5246 section 7.2, RFC 8446
 * section 6, RFC 7301 for 120). Names are the RFCs' spellings, as OpenSSL, mbedTLS debug output
 * and mqtls print them. mqtls_tls_alert_name() (error.c) is built from this list; src/diag and
 * src/explain name alerts by the MQTLS__ALERT_* numbers below. Never installed. */
#ifndef MQTLS_COMMON_TLS_ALERT_H
#define MQTLS_COMMON_TLS_ALERT_H

/* X(SYMBOL, number, "name") */
#define MQTLS__TLS_ALERTS(X)                                                                       \
    X(CLOSE_NOTIFY, 0, "close_notify")                                                             \
    X(UNEXPECTED_MESSAGE, 10, "unexpected_message")                                                \
    X(BAD_RECORD_MAC, 20, "bad_record_mac")                                                        \
    X(DECRYPTION_FAILED, 21, "decryption_failed")                                                  \
    X(RECORD_OVERFLOW, 22, "record_overflow")                                                      \
    X(DECOMPRESSION_FAILURE, 30, "decompression_failure")                                          \
    X(HANDSHAKE_FAILURE, 40, "handshake_failure")                                                  \
    X(NO_CERTIFICATE, 41, "no_certificate")                                                        \
    X(BAD_CERTIFICATE, 42, "bad_certificate")                                                      \
    X(UNSUPPORTED_CERTIFICATE, 43, "unsupported_certificate")                                      \
    X(CERTIFICATE_REVOKED, 44, "certificate_revoked")                                              \
    X(CERTIFICATE_EXPIRED, 45, "certificate_expired")                                              \
    X(CERTIFICATE_UNKNOWN, 46, "certificate_unknown")                                              \
    X(ILLEGAL_PARAMETER, 47, "illegal_parameter")                                                  \
    X(UNKNOWN_CA, 48, "unknown_ca")                                                                \
    X(ACCESS_DENIED, 49, "access_denied")                                                          \
    X(DECODE_ERROR, 50, "decode_error")                                                            \
    X(DECRYPT_ERROR, 51, "decrypt_error")                                                          \
    X(EXPORT_RESTRICTION, 60, "export_restriction")                                                \
    X(PROTOCOL_VERSION, 70, "protocol_version")                                                    \
    X(INSUFFICIENT_SECURITY, 71, "insufficient_security")                                          \
    X(INTERNAL_ERROR, 80, "internal_error")                                                        \
    X(INAPPROPRIATE_FALLBACK, 86, "inappropriate_fallback")                                        \
    X(USER_CANCELED, 90, "user_canceled")                                                          \
    X(NO_RENEGOTIATION, 100, "no_renegotiation")                                                   \
    X(MISSING_EXTENSION, 109, "missing_extension")                                                 \
    X(UNSUPPORTED_EXTENSION, 110, "unsupported_extension")                                         \
    X(CERTIFICATE_UNOBTAINABLE, 111, "certificate_unobtainable")                                   \
    X(UNRECOGNIZED_NAME, 112, "unrecognized_name")                                                 \
    X(BAD_CERTIFICATE_STATUS_RESPONSE, 113, "bad_certificate_status_response")                     \
    X(BAD_CERTIFICATE_HASH_VALUE, 114, "bad_certificate_hash_value")                               \
    X(UNKNOWN_PSK_IDENTITY, 115, "unknown_psk_identity")                                           \
    X(CERTIFICATE_REQUIRED, 116, "certificate_required")                                           \
    X(NO_APPLICATION_PROTOCOL, 120, "no_application_protocol")

/** The alert numbers by name: MQTLS__ALERT_UNKNOWN_CA is 48. */
enum mqtls__tls_alert {
#define MQTLS__X_ALERT(sym, num, name) MQTLS__ALERT_##sym = (num),
    MQTLS__TLS_ALERTS(MQTLS__X_ALERT)
#undef MQTLS__X_ALERT
};

#endif /* MQTLS_COMMON_TLS_ALERT_H */
