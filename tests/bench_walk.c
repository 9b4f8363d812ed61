/* bench_walk.c -- the per-bin passes of `analyzer run`'s walk, one at a time,
** in ns per 1-ns bin: the current map (iterator), the droop (PDN stream in
** the run's tiles), the event detector, the spectrum (in the walk's
** 4096-bin pieces), the window peak and the report's decimation. Each
** pass is timed over the whole timeline of the schedule (default: the
** bundled prefill sample, 0.76 ms), repeated to some 10^7 bins, best of
** five rounds: on a shared machine the speed drifts, and the passes are
** compared with each other, not with a stored figure. Usage: bench_walk
** [CHIP SCHEDULE]. Prints figures; exits 0 (1 when the inputs do not
** load). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "events.h"
#include "margin.h"
#include "pdn.h"
#include "report.h"
#include "sio.h"
#include "benchkit.h"

#define PIECE 4096   /* as cmd_run.c's SUB_BINS */

int main(int argc, char **argv)
{
    const char *chip_path = argc > 2 ? argv[1] : "samples/tsp/chip.json";
    const char *sched_path = argc > 2 ? argv[2] : "samples/tsp/prefill.csv";
    sio_chip *c;
    sio_schedule *s;
    sio_error err;
    if (sio_chip_load(chip_path, &c, &err) || sio_schedule_load(c, sched_path, &s, &err)) {
        fprintf(stderr, "bench_walk: %s\n", err.text);
        return 1;
    }
    const size_t nq = s->n_chips * c->n_rails;
    double *idle = calloc(c->n_rails, sizeof *idle);
    for (size_t u = 0; u < c->n_units; u++) idle[c->units[u].rail] += c->units[u].idle_a;
    pdn_model *m;
    if (pdn_model_create(&c->rails[0], 1.0, &m, &err)) {
        fprintf(stderr, "bench_walk: %s\n", err.text);
        return 1;
    }
    const size_t tile = pdn_model_block_len(m);
    /* the whole timeline of rail 0 of chip 0, once, for the passes after the map */
    current_iter *it;
    if (current_iter_create(c, s, 1.0, tile, 0, &it, &err)) {
        fprintf(stderr, "bench_walk: %s\n", err.text);
        return 1;
    }
    const size_t nb = current_n_bins(it);
    const int reps = (int)(1e7 / (double)(nb ? nb : 1)) + 1;
    double *i_a = malloc(nb * sizeof *i_a), *d_v = malloc(nb * sizeof *d_v);
    current_tile t;
    while (current_next(it, &t) == 1) memcpy(i_a + t.b0, t.rail_a, t.nb * sizeof *i_a);
    current_iter_destroy(it);
    double best[6] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
    for (int round = 0; round < 5; round++) {
        double t0 = bench_now();
        for (int r = 0; r < reps; r++) {
            current_iter_create(c, s, 1.0, tile, 0, &it, &err);
            while (current_next(it, &t) == 1) {}
            current_iter_destroy(it);
        }
        double t1 = bench_now();
        for (int r = 0; r < reps; r++) {
            pdn_stream *ps;
            pdn_stream_create(m, idle[0], &ps);
            for (size_t k = 0; k < nb; k += tile) pdn_stream_push(ps, i_a + k, nb - k < tile ? nb - k : tile, d_v + k);
            pdn_stream_destroy(ps);
        }
        double t2 = bench_now();
        double attr = c->rails[0].didt_window_ns;
        for (int r = 0; r < reps; r++) {
            events_detector *ev;
            events_create(c, s->n_chips, 1.0, 10000, &attr, idle, &ev);
            for (size_t k = 0; k < nb; k += PIECE)
                events_push(ev, 0, 0, k, i_a + k, d_v + k, nb - k < PIECE ? nb - k : PIECE);
            events_destroy(ev);
        }
        margin_spectrum *sp;   /* one for the round: its plan is made once per run */
        margin_spectrum_create(s->n_chips, c->n_rails, 1.0, &sp);
        double t3 = bench_now();
        for (int r = 0; r < reps; r++)
            for (size_t k = 0; k < nb; k += PIECE)
                margin_spectrum_push(sp, 0, 0, i_a + k, nb - k < PIECE ? nb - k : PIECE);
        margin_spectrum_destroy(sp);
        double t4 = bench_now();
        for (int r = 0; r < reps; r++) {
            current_window cw;
            current_window_init(&cw, 100);
            for (size_t k = 0; k < nb; k += PIECE) current_window_push(&cw, i_a + k, nb - k < PIECE ? nb - k : PIECE);
            current_window_free(&cw);
        }
        double t5 = bench_now();
        for (int r = 0; r < reps; r++) {
            report *rp;
            report_create(1, nb, 1.0, &rp);
            for (size_t k = 0; k < nb; k += PIECE) report_push(rp, 0, k, i_a + k, d_v + k, nb - k < PIECE ? nb - k : PIECE);
            report_destroy(rp);
        }
        double t6 = bench_now(), tt[7] = {t0, t1, t2, t3, t4, t5, t6};
        for (int q = 0; q < 6; q++) if (tt[q + 1] - tt[q] < best[q]) best[q] = tt[q + 1] - tt[q];
    }
    const char *names[6] = {"current map", "droop", "events", "spectrum", "window peak", "report"};
    double bins = (double)nb * reps;
    printf("walk passes over %s (%zu ops, %zu bins x %d, %zu rail rows; best of 5):\n", sched_path, s->n, nb, reps, nq);
    for (int q = 0; q < 6; q++) printf("  %-12s %6.2f ns/bin\n", names[q], best[q] * 1e9 / bins);
    printf("  (the current map per op: %.1f ns)\n", best[0] * 1e9 / ((double)s->n * reps));
    pdn_model_destroy(m);
    free(i_a);
    free(d_v);
    free(idle);
    sio_schedule_free(s);
    sio_chip_free(c);
    return 0;
}
