/* Linux entry point for an ESP-IDF application: main() calls app_main(), then keeps the
 * process alive while the MQTT client's thread runs, as the device keeps running after
 * app_main() returns. MQTLS_EXAMPLE_RUN_S bounds the run (default: until killed). */
#include <stdlib.h>
#include <unistd.h>

void app_main(void);

int main(void)
{
    app_main();
    const char *run = getenv("MQTLS_EXAMPLE_RUN_S");
    long seconds = run != NULL ? strtol(run, NULL, 10) : -1;
    for (long s = 0; seconds < 0 || s < seconds; s++) {
        sleep(1);
    }
    /* exit without tearing down: the device never returns from its tasks either */
    _exit(0);
}
