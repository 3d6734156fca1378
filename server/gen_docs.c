/*
 * gen_docs.c - the build's generator of the server's documents, from the
 * option table (rc_config.h), so they cannot drift from the code:
 *
 *   recache-server-docs man VERSION OUTPUT   the recache-server(1) page
 *   recache-server-docs example OUTPUT       recache.conf.example
 *
 * Not installed; server/CMakeLists.txt runs it and installs the outputs.
 */
#include <stdio.h>
#include <string.h>

#include "rc_config.h"

int main(int argc, char **argv)
{
    int man = argc == 4 && strcmp(argv[1], "man") == 0;
    int example = argc == 3 && strcmp(argv[1], "example") == 0;
    FILE *out = man || example ? fopen(argv[argc - 1], "w") : NULL;
    if (out == NULL) {
        fprintf(stderr, "usage: recache-server-docs man VERSION OUTPUT | example OUTPUT\n");
        return 1;
    }
    if (man)
        rc_config_write_man(out, argv[2]);
    else
        rc_config_write_example(out);
    return fclose(out) == 0 ? 0 : 1;
}
