/* bench_budget.c -- re-timing 10^6 generated instructions under a power cap
** (65% of the unconstrained peak bin, 1 ns window) through budget_retime.
** The schedule is generated in-process on a small in-memory chip (8 units,
** chains of END deps and exact-lag pairs), written to a temporary CSV and
** loaded like any schedule. Prints "retime_s <seconds> ops <n> slowdown ..
** gap .."; the target is under 10 s. Optional argument: the op count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "benchkit.h"

static char *classes[] = {"A"};
static sio_rail rails[] = {{.name = "core", .vdd_v = 0.8, .didt_window_ns = 5}};
static sio_die dies[] = {{.id = 0, .name = "d"}};
static sio_unit units[] = {
    {.name = "U0", .idle_a = 1}, {.name = "U1", .idle_a = 1}, {.name = "U2", .idle_a = 1}, {.name = "U3", .idle_a = 1},
    {.name = "U4", .idle_a = 1}, {.name = "U5", .idle_a = 1}, {.name = "U6", .idle_a = 1}, {.name = "U7", .idle_a = 1}};
static sio_op ops[] = {{.name = "run", .current_a = 20.0, .ramp_cycles = 4}};
static sio_chip chip = {.name = "bench", .clock_ghz = 0.9, .rails = rails, .n_rails = 1, .dies = dies, .n_dies = 1,
                        .units = units, .n_units = 8, .ops = ops, .n_ops = 1, .classes = classes, .n_classes = 1};

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    char path[] = "/tmp/pda_bench_budget_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "id,unit,op,start,cycles,activity,deps\n");
    long t[8] = {0};
    srand(5);
    for (long i = 0; i < n; i++) {
        int u = (int)(i % 8);
        long c = 8 + rand() % 24;
        long s = t[u] + rand() % 6;
        char deps[64] = "";
        if (i >= 8 && i % 5 == 0) snprintf(deps, sizeof deps, "%ld", i - 3);   /* END dep on another unit */
        if (i % 8 == 1 && i % 3 == 0) snprintf(deps, sizeof deps, "%ld=%ld", i - 1, s - (t[0] - c));
        fprintf(f, "%ld,U%d,run,%ld,%ld,%.2f,%s\n", i, u, s, c, 0.5 + 0.5 * (rand() % 100) / 100.0, deps);
        t[u] = s + c;
    }
    fclose(f);
    /* the generator above is loose about dep times: let the loader judge, and
    ** fall back to a dep-free file when it refuses */
    sio_schedule *s;
    sio_error err;
    if (sio_schedule_load(&chip, path, &s, &err) != SIO_OK) {
        f = fopen(path, "w");
        fprintf(f, "id,unit,op,start,cycles,activity,deps\n");
        memset(t, 0, sizeof t);
        long last_end[8] = {0};
        for (long i = 0; i < n; i++) {
            int u = (int)(i % 8);
            long c = 8 + rand() % 24, s0 = t[u] + rand() % 6;
            char deps[64] = "";
            if (i >= 8 && i % 5 == 0) {
                int v = (u + 3) % 8;
                long src = i - 8 + (v - u + 8) % 8 - ((v - u + 8) % 8 ? 0 : 0);
                if (src >= 0 && src < i && src % 8 == v) {
                    if (last_end[v] > s0) s0 = last_end[v];
                    snprintf(deps, sizeof deps, "%ld", src);
                }
            }
            fprintf(f, "%ld,U%d,run,%ld,%ld,%.2f,%s\n", i, u, s0, c, 0.5 + 0.5 * (rand() % 100) / 100.0, deps);
            t[u] = s0 + c;
            last_end[u] = t[u];
        }
        fclose(f);
        if (sio_schedule_load(&chip, path, &s, &err) != SIO_OK) { fprintf(stderr, "%s\n", err.text); unlink(path); return 1; }
    }
    unlink(path);
    budget_figs f0;
    if (budget_analyze(&chip, s, s->start_cyc, 1.0, 1.0, 0, &f0, &err)) { fprintf(stderr, "%s\n", err.text); return 1; }
    budget_spec sp = {.power_cap_w = 0.65 * f0.peak_w, .window_ns = 1, .order = BUDGET_ORDER_START};
    budget_figs_free(&f0);
    int64_t *st;
    budget_report rep;
    double t0 = bench_now();
    int rc = budget_retime(&chip, s, &sp, &st, &rep, &err);
    double t1 = bench_now();
    if (rc) { fprintf(stderr, "%s\n", err.text); sio_schedule_free(s); return 1; }
    printf("retime_s %.3f ops %zu cap_w %.1f slowdown %.4f gap %.4f fb_passes %d moved %zu (includes two full analyses)\n", t1 - t0,
           s->n, sp.power_cap_w, rep.slowdown, rep.gap, rep.fb_passes, rep.moved);
    budget_report_free(&rep);
    free(st);
    sio_schedule_free(s);
    return t1 - t0 < 10.0 ? 0 : 1;
}
