/* The one credential check of the CLI: what `mqtls pub`, `mqtls sub` and `mqtls doctor` read
 * for diagnosis and how they ask it (the library's own check of the same files is
 * mqtls_client_create(); the exit code of either is mqtls_cli_exit_code()). Internal to the
 * CLI; not installed. */
#ifndef MQTLS_TOOLS_CLI_CREDS_H
#define MQTLS_TOOLS_CLI_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli_opts.h"
#include "cli_util.h"
#include "mqtls/diag.h"
#include "mqtls/error.h"

/* Files looked at beside the user's (in the same folders), and the largest of them. */
#define CLI_NEARBY_MAX 16
#define CLI_NEARBY_FILE_MAX (64u * 1024u)

/* The credentials of one command line, read once: the CA (--cafile, the files of --capath, or
 * the system bundle the client falls back to without either), --cert, --key, and the files
 * that lie beside them (what a fix may point at instead of making new ones). */
typedef struct cli_creds {
    cli_cred_t ca, cert, key;
    bool ca_is_default; /* no --cafile/--capath: ca is the system bundle */
    char key_shown[600]; /* --key is a pkcs11: URI (no file), with pin-value=***; "" otherwise */
    cli_cred_t nearby[CLI_NEARBY_MAX];
    mqtls_diag_file_t nearby_diag[CLI_NEARBY_MAX];
    size_t nearby_count;
} cli_creds_t;

/** @brief Read the credentials @p o names (never fails: a problem is the file's err). */
void cli_creds_load(cli_creds_t *c, const cli_opts_t *o);
/** @brief Fill the file fields of @p in (ca, cert, key, ca_is_default, nearby) from @p c,
 *  borrowed: keep @p c until the diagnosis is done. */
void cli_creds_to_diag(cli_creds_t *c, mqtls_diag_input_t *in);
/** @brief The files' own problems, before the library opens them (it must never block on a
 *  FIFO or read a device): the first file that could not be read, as the error the library
 *  would give (layer config, MQTLS_ERR_FILE_UNREADABLE, detail "<path>: <reason>").
 *  @return MQTLS_OK or MQTLS_ERR_FILE_UNREADABLE (then @p err is set). */
mqtls_status_t cli_creds_check(const cli_creds_t *c, mqtls_error_t *err);
/** @brief Wipe (keys) and free. Accepts a zeroed @p c. */
void cli_creds_free(cli_creds_t *c);

/** @brief The system CA bundle the client falls back to without --cafile/--capath (Debian's,
 *  then Fedora's), or NULL (then the hashed folder /etc/ssl/certs). Sets o->system_ca and
 *  o->system_ca_file when TLS is on, no CA was given and verification is on. */
void cli_creds_system_ca(cli_opts_t *o);

/** @brief "--cafile ca.crt" etc.: which option of @p o names the file an error detail of the
 *  library starts with (@p detail, e.g. "ca.crt is empty"); NULL if none. */
const char *cli_creds_flag_for(const cli_opts_t *o, const char *detail, const char **path);

#endif /* MQTLS_TOOLS_CLI_CREDS_H */
