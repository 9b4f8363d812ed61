/* fuzz_chip.c -- libFuzzer target for the chip-description reader (`make
** fuzz`, clang only). Every input is accepted or refused with an error that
** names the file; nothing crashes or leaks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sio.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/pda_fuzz_%d.json", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(d, 1, n, f);
    fclose(f);
    sio_chip *c = NULL;
    sio_error e;
    if (sio_chip_load(path, &c, &e) == SIO_OK) sio_chip_free(c);
    else if (strncmp(e.text, path, strlen(path)) != 0) abort();
    return 0;
}
