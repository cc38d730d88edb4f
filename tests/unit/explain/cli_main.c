/* Runs `mqtls explain` alone: argv[0] stands in for the "explain" word. */
#include "commands.h"

int main(int argc, char **argv)
{
    return mqtls_cmd_explain(argc, argv);
}
