/* fuzz_schedule.c -- libFuzzer target for the schedule reader and writer
** (`make fuzz`, clang only; not part of `make test`). Every input must be
** either refused with a "file:line:col: message" error or accepted, read
** from memory exactly as from the file, and an accepted schedule written
** back unchanged must equal the input byte for byte. Runs against the
** bundled TSP chip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sio.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* Aborts unless s and w hold the same schedule. */
static void same(const sio_schedule *s, const sio_schedule *w)
{
    if (s->n != w->n || s->n_deps != w->n_deps || s->n_chips != w->n_chips) abort();
#define SAME(f, k) if ((k) && memcmp(s->f, w->f, (k) * sizeof *s->f) != 0) abort()
    SAME(unit, s->n); SAME(op, s->n); SAME(chip, s->n); SAME(start_cyc, s->n); SAME(cycles, s->n);
    SAME(activity, s->n); SAME(line, s->n); SAME(dep_off, s->n + 1); SAME(dep_src, s->n_deps);
    SAME(dep_kind, s->n_deps); SAME(dep_lag, s->n_deps);
#undef SAME
    for (size_t i = 0; i < s->n; i++) if (strcmp(sio_schedule_id(s, i), sio_schedule_id(w, i)) != 0) abort();
}

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
    sio_schedule *s = NULL, *w = NULL, *m = NULL;
    sio_error ew, em;
    /* read in two halves at once (forced even for tiny inputs) and whole:
    ** the two must agree on everything */
    sio_load_opts o;
    sio_load_opts_default(&o);
    o.split_min_bytes = 0;
    int rc = sio_schedule_load_opts(chip, in, &o, &s, &e);
    o.split_min_bytes = (size_t)-1;
    int rcw = sio_schedule_load_opts(chip, in, &o, &w, &ew);
    if (rc != rcw || (rc && strcmp(e.text, ew.text) != 0)) abort();
    /* from memory, named as the file: the same again */
    int rcm = sio_schedule_from_buffer(chip, in, (const char *)d, n, &o, &m, &em);
    if (rc != rcm || (rc && strcmp(e.text, em.text) != 0)) abort();
    if (rc != SIO_OK) {
        if (strncmp(e.text, in, strlen(in)) != 0 || e.line < 1) abort();   /* positioned */
        return 0;
    }
    same(s, w);
    same(s, m);
    sio_schedule_free(w);
    sio_schedule_free(m);
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
