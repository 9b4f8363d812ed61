/* tests/outside/prog.c -- a program outside the project, built against an
** installed pda through pkg-config (tests/e2e_library.sh builds it shared
** and static): runs the whole analysis through the library and writes the
** files `analyzer run -o DIR --waveforms` writes.
**
**   prog CHIP SCHEDULE DIR [--buffer]
**
** With --buffer the schedule is read into memory first and parsed from
** there (sio_schedule_from_buffer, named by its path), as a compiler that
** never writes its schedule to a file would; the files must not change.
**
** It also reads every rail back in memory (pda_result_rail) and checks it
** against the run's own figures: each rail's peak current and mean current,
** and its worst droop, must be those of the per-bin arrays. Exit 0 when
** all went well. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pda/pda.h>

static int fail(const char *what, const sio_error *err)
{
    fprintf(stderr, "prog: %s: %s\n", what, err ? err->text : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "--buffer"))) {
        fprintf(stderr, "usage: prog CHIP SCHEDULE DIR [--buffer]\n");
        return 2;
    }
    sio_error err;
    sio_chip *c;
    sio_schedule *s;
    if (sio_chip_load(argv[1], &c, &err)) return fail("chip", &err);
    if (argc == 5) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) return fail("cannot open the schedule", NULL);
        size_t cap = 1 << 20, len = 0, got;
        char *text = malloc(cap);
        while (text && (got = fread(text + len, 1, cap - len, f)) > 0)
            if ((len += got) == cap) {
                char *more = realloc(text, cap *= 2);
                if (!more) free(text);
                text = more;
            }
        fclose(f);
        if (!text) return fail("out of memory", NULL);
        int rc = sio_schedule_from_buffer(c, argv[2], text, len, NULL, &s, &err);
        memset(text, 0, len);   /* the schedule keeps its own copy */
        free(text);
        if (rc) return fail("schedule from memory", &err);
    } else if (sio_schedule_load(c, argv[2], &s, &err)) {
        return fail("schedule", &err);
    }
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.keep_rails = 1;
    pda_result *r;
    if (pda_run(c, s, &o, &r, &err)) return fail("pda_run", &err);
    if (pda_result_write(r, argv[3], &err)) return fail("pda_result_write", &err);
    size_t n = pda_result_n_bins(r), bad = 0;
    double *i = malloc((n + 1) * sizeof *i), *d = malloc((n + 1) * sizeof *d);
    if (!i || !d) return fail("out of memory", NULL);
    for (size_t ch = 0; ch < pda_result_n_chips(r); ch++)
        for (size_t rl = 0; rl < c->n_rails; rl++) {
            if (pda_result_rail(r, ch, rl, i, d, &err)) return fail("pda_result_rail", &err);
            const events_rail_stats *st = pda_result_rail_stats(r, ch, rl);
            double peak = 0, sum = 0, worst = -INFINITY;
            for (size_t k = 0; k < n; k++) {
                if (i[k] > peak) peak = i[k];
                sum += i[k];
                if (d[k] > worst) worst = d[k];
            }
            if (peak != st->peak_a || fabs(sum - st->sum_a) > 1e-9 * fabs(sum) ||
                fabs(worst - st->max_droop_v * 1e3) > 1e-9 * fabs(worst)) {
                fprintf(stderr, "prog: chip %zu rail %s: arrays give peak %.17g A, sum %.17g, worst droop %.17g mV; "
                                "the run says %.17g, %.17g, %.17g\n", ch, c->rails[rl].name, peak, sum, worst,
                        st->peak_a, st->sum_a, st->max_droop_v * 1e3);
                bad++;
            }
        }
    if (pda_result_rail(r, 0, c->n_rails, i, d, &err) != PDA_EINPUT) {
        fprintf(stderr, "prog: a rail out of range was not refused\n");
        bad++;
    }
    printf("%zu bins, %zu chips: %s\n", n, pda_result_n_chips(r), bad ? "MISMATCH" : "ok");
    free(i);
    free(d);
    pda_result_free(r);
    sio_schedule_free(s);
    sio_chip_free(c);
    return bad ? 1 : 0;
}
