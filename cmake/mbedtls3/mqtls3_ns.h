/* The names of mqtls's own code compiled a second time, against mbedTLS 3.6: src/x509 and the
 * mbedTLS engine of src/net (tls_ctx.c, creds.c, tls_transport.c, mbedtls_compat.c). CMake
 * force-includes this header (-include) into those sources only when they build the 3.6 copy
 * (mqtls_x509_mbedtls3, mqtls_net_mbedtls3): every internal function they define becomes
 * mqtls3__..., so that both copies link into one library next to each other, the 2.28 copy
 * keeping the names the rest of mqtls calls. docs/tls-engines.md.
 *
 * Why a list: a function forgotten here is defined by both copies under one name, and linking
 * libmqtls.so fails ("multiple definition"); it cannot silently call across versions. The
 * only global of the 3.6 copy that is not renamed is its engine, mqtls__tls_engine_mbedtls3
 * (src/net/tls_internal.h names it from the mbedTLS version). */
#ifndef MQTLS_MBEDTLS3_NS_H
#define MQTLS_MBEDTLS3_NS_H

/* Public functions of src/x509 exist once for applications, in the 2.28 copy: the 3.6 copy's
 * are renamed, and libmqtls exports mqtls_* names only (cmake/mqtls.map). */
#define mqtls_certinfo_parse mqtls3_certinfo_parse
#define mqtls_curve_name mqtls3_curve_name
#define mqtls_hash_name mqtls3_hash_name
#define mqtls_keyinfo_parse mqtls3_keyinfo_parse
#define mqtls_profile_describe mqtls3_profile_describe
#define mqtls_profile_from_name mqtls3_profile_from_name
#define mqtls_profile_name mqtls3_profile_name

/* src/x509/asn1.c */
#define mqtls__scan_unsupported_key_oid mqtls3__scan_unsupported_key_oid
#define mqtls__x509_crt_has_ip_san mqtls3__x509_crt_has_ip_san
#define mqtls__x509_der_has_oid mqtls3__x509_der_has_oid
#define mqtls__x509_find_ext mqtls3__x509_find_ext
#define mqtls__x509_san_begin mqtls3__x509_san_begin
#define mqtls__x509_san_next mqtls3__x509_san_next
#define mqtls__x509_time_from_unix mqtls3__x509_time_from_unix
#define mqtls__x509_time_to_unix mqtls3__x509_time_to_unix
#define mqtls__x509_time_unix mqtls3__x509_time_unix

/* src/x509/certinfo.c */
#define mqtls__appendf mqtls3__appendf
#define mqtls__certinfo_fill mqtls3__certinfo_fill
#define mqtls__certset_free mqtls3__certset_free
#define mqtls__certset_load mqtls3__certset_load
#define mqtls__certset_reserve mqtls3__certset_reserve
#define mqtls__setf mqtls3__setf
#define mqtls__x509_key_desc mqtls3__x509_key_desc

/* src/x509/compat.c */
#define mqtls__dm_crt_has_ext mqtls3__dm_crt_has_ext
#define mqtls__dm_crt_is_ca mqtls3__dm_crt_is_ca
#define mqtls__dm_crt_key_usage mqtls3__dm_crt_key_usage
#define mqtls__dm_crt_max_pathlen mqtls3__dm_crt_max_pathlen
#define mqtls__dm_crt_sig_md mqtls3__dm_crt_sig_md
#define mqtls__dm_crt_sig_pk mqtls3__dm_crt_sig_pk
#define mqtls__dm_dn_gets_der mqtls3__dm_dn_gets_der
#define mqtls__dm_hash mqtls3__dm_hash
#define mqtls__dm_is_v2 mqtls3__dm_is_v2
#define mqtls__dm_pem_buf mqtls3__dm_pem_buf
#define mqtls__dm_pk_check_pair mqtls3__dm_pk_check_pair
#define mqtls__dm_pk_curve mqtls3__dm_pk_curve
#define mqtls__dm_pk_parse_key mqtls3__dm_pk_parse_key
#define mqtls__dm_pk_type mqtls3__dm_pk_type
#define mqtls__dm_ret_is_no_shared_cipher mqtls3__dm_ret_is_no_shared_cipher
#define mqtls__dm_ret_is_version_mismatch mqtls3__dm_ret_is_version_mismatch
#define mqtls__dm_verify_signature mqtls3__dm_verify_signature
#define mqtls__x509_curve_bits mqtls3__x509_curve_bits
#define mqtls__x509_curve_group mqtls3__x509_curve_group
#define mqtls__x509_hash_md mqtls3__x509_hash_md
#define mqtls__x509_lib_matches_ip_san mqtls3__x509_lib_matches_ip_san
#define mqtls__x509_pk_check_pair mqtls3__x509_pk_check_pair
#define mqtls__x509_pk_ec_group mqtls3__x509_pk_ec_group
#define mqtls__x509_pk_parse_key mqtls3__x509_pk_parse_key
#define mqtls__x509_rng_free mqtls3__x509_rng_free
#define mqtls__x509_rng_setup mqtls3__x509_rng_setup
#define mqtls__x509_write_set_serial mqtls3__x509_write_set_serial

/* src/x509/profile.c */
#define mqtls__profile_count mqtls3__profile_count
#define mqtls__profile_get mqtls3__profile_get
#define mqtls__profile_hash_ok mqtls3__profile_hash_ok
#define mqtls__profile_key_check mqtls3__profile_key_check
#define mqtls__profile_mbedtls_by_name mqtls3__profile_mbedtls_by_name
#define mqtls__profile_name_at mqtls3__profile_name_at
#define mqtls__profile_to_mbedtls mqtls3__profile_to_mbedtls

/* src/net: the mbedTLS engine */
#define mqtls__creds_add_ca mqtls3__creds_add_ca
#define mqtls__creds_set_own mqtls3__creds_set_own
#define mqtls__tls_mbed_conn_create mqtls3__tls_mbed_conn_create
#define mqtls__tls_mbed_judge_chain mqtls3__tls_mbed_judge_chain
#define mqtls__tls_conf_psk mqtls3__tls_conf_psk
#define mqtls__tls_suites_build mqtls3__tls_suites_build
#define mqtls__compat_conf_tls13 mqtls3__compat_conf_tls13
#define mqtls__compat_current_hs_msg mqtls3__compat_current_hs_msg
#define mqtls__compat_handshake_over mqtls3__compat_handshake_over
#define mqtls__compat_is_key_update mqtls3__compat_is_key_update
#define mqtls__compat_is_tls13 mqtls3__compat_is_tls13
#define mqtls__compat_peer_alert mqtls3__compat_peer_alert
#define mqtls__compat_pk_setup_p11_rsa mqtls3__compat_pk_setup_p11_rsa
#define mqtls__compat_read_again mqtls3__compat_read_again
#define mqtls__compat_sent_alert mqtls3__compat_sent_alert
#define mqtls__compat_session_saveable mqtls3__compat_session_saveable
#define mqtls__compat_set_versions mqtls3__compat_set_versions
#define mqtls__compat_sha1 mqtls3__compat_sha1
#define mqtls__compat_in_buf_len mqtls3__compat_in_buf_len
#define mqtls__compat_restore_in_buf mqtls3__compat_restore_in_buf
#define mqtls__compat_strerror mqtls3__compat_strerror
#define mqtls__compat_tls_version mqtls3__compat_tls_version
#define mqtls__compat_version mqtls3__compat_version

#endif /* MQTLS_MBEDTLS3_NS_H */
