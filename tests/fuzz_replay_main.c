/*
 * fuzz_replay_main.c - run a libFuzzer target over saved inputs, without
 * libFuzzer.
 *
 * Design.  Linked with a file that defines LLVMFuzzerTestOneInput, this
 * small main() feeds it every regular file of each directory (or each file)
 * named on the command line, so the committed corpus is checked on every
 * build with any compiler (and under the sanitizer builds).  A target
 * signals a failure by crashing or aborting; this driver fails only if an
 * input cannot be read or no input was found at all, so an empty or
 * misplaced corpus is noticed rather than passing vacuously.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file and run it; returns 0 or -1 (with a message) if unreadable. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc(cap);
    size_t got;
    while (data != NULL && (got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(data, cap * 2);
            if (bigger == NULL)
                free(data);
            data = bigger;
            cap *= 2;
        }
    }
    int err = data == NULL || ferror(f) ? -1 : 0;
    fclose(f);
    if (err) {
        fprintf(stderr, "%s: cannot read\n", path);
    } else {
        LLVMFuzzerTestOneInput(data, len);
    }
    free(data);
    return err;
}

/* Replay every regular file in dir (not recursive); returns files run, or -1. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    long n = 0;
    struct dirent *e;
    char path[4096];
    while (n >= 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        n = replay_file(path) == 0 ? n + 1 : -1;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
