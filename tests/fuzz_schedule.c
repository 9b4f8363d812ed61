/* fuzz_schedule.c -- libFuzzer target for the schedule reader and writer
** (`make fuzz`, clang only; not part of `make test`). Every input must be
** either refused with a "file:line:col: message" error or accepted, and an
** accepted schedule written back unchanged must equal the input byte for
** byte. Runs against the bundled TSP chip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sio.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static sio_chip *chip;
    sio_error e;
    if (!chip && sio_chip_load("samples/tsp/chip.json", &chip, &e)) abort();
    char in[64], out[64];
    snprintf(in, sizeof in, "/tmp/pda_fuzz_%d.csv", (int)getpid());
    snprintf(out, sizeof out, "/tmp/pda_fuzz_%d_out.csv", (int)getpid());
    FILE *f = fopen(in, "wb");
    if (!f) abort();
    fwrite(d, 1, n, f);
    fclose(f);
    sio_schedule *s = NULL;
    if (sio_schedule_load(chip, in, &s, &e) != SIO_OK) {
        if (strncmp(e.text, in, strlen(in)) != 0 || e.line < 1) abort();   /* positioned */
        return 0;
    }
    if (sio_schedule_write(s, s->start_cyc, out, &e) != SIO_OK) abort();
    FILE *a = fopen(in, "rb"), *b = fopen(out, "rb");
    int ca, cb;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        if (ca != cb) abort();
    } while (ca != EOF);
    fclose(a);
    fclose(b);
    sio_schedule_free(s);
    return 0;
}
