/*
 * fuzz_config.c - libFuzzer target for the configuration parser: any bytes
 * as a config file (rc_config_parse_text), then the cross-option checks
 * (rc_config_validate).  Neither may crash, read outside its input or leak,
 * and a refusal must come with a message.  The same file is linked into
 * fuzz_config_replay (any compiler), which runs it over the committed seeds
 * in ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rc_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rc_config cfg;
    char err[512] = "";
    rc_config_init(&cfg);
    int rc = rc_config_parse_text(&cfg, (const char *)data, size, "fuzz", err, sizeof err);
    if (rc != 0 && err[0] == '\0')
        abort(); /* every refusal says why */
    if (rc == 0) {
        err[0] = '\0';
        if (rc_config_validate(&cfg, err, sizeof err) != 0 && err[0] == '\0')
            abort();
    }
    rc_config_free(&cfg);
    return 0;
}
