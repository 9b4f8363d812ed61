/* bench_thermal.c -- timings of the thermal solver on a 128 x 128 grid with
** an 8-layer, 2-die stack (the samples/stack stack plus a BEOL layer) and
** 10 us frames: plan time, steady-state time and per-frame time over 1000
** transient frames; a one-shot map (plan with FFTW_ESTIMATE, then one steady
** solve: the first thing the process does, so no wisdom helps); and the
** steady state with leakage (84 leaking SRAM banks on the upper die, 4 hot
** strips below): the matrix-free fixed point against the plain solve, and
** the dense path with the runaway factor. Targets: steady in a few ms, 1000
** frames well under a second, one-shot plan + steady under 20 ms, the
** leakage fixed point under 10 plain solves. Prints figures; exits non-zero
** only on an error. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sio.h"
#include "thermal.h"
#include "thermal_run.h"
#include "benchkit.h"

int main(void)
{
    static const thermal_layer layers[8] = {
        {2e-6, 120, 1.75e6, 0},   {4.8e-5, 120, 1.75e6, -1}, {1.2e-5, 2.25, 2e6, -1},
        {2e-6, 3, 2e6, -1},       {2e-6, 120, 1.75e6, 1},    {2.98e-4, 120, 1.75e6, -1},
        {3e-5, 5, 2e6, -1},       {1.5e-3, 390, 3.45e6, -1}};
    const thermal_stack s = {.width_m = 25e-3, .height_m = 29e-3, .layers = layers,
                             .n_layers = 8, .h_top_w_m2k = 2e4, .h_bottom_w_m2k = 0,
                             .ambient_c = 40, .n_dies = 2};
    const size_t nx = 128, ny = 128, nm = nx * ny, frames = 1000;
    double *pw = calloc(2 * nm, sizeof *pw), *t = calloc(2 * nm, sizeof *t);
    if (!pw || !t) return 1;
    /* four MXM-like strips on die 0, a uniform floor on die 1 */
    const double strips[4][4] = {{0, 3, 2, 24.15}, {2, 3, 2, 24.15},
                                 {21, 3, 2, 24.15}, {23, 3, 2, 24.15}};
    for (int k = 0; k < 4; k++)
        if (thermal_power_map(strips[k], 25, 29, nx, ny, 40.0, pw)) return 1;
    const double whole[4] = {0, 0, 25, 29};
    if (thermal_power_map(whole, 25, 29, nx, ny, 60.0, pw + nm)) return 1;

    thermal_plan *ps = NULL, *pt = NULL, *pe = NULL;
    /* one shot, first in the process: an estimated plan and one solve */
    double t0 = bench_now();
    int rc = thermal_plan_create_ex(&s, nx, ny, 0.0, THERMAL_PLAN_ESTIMATE, &pe);
    double t_plan_e = bench_now() - t0;
    if (rc || thermal_steady(pe, pw, t)) { fprintf(stderr, "plan: %s\n", thermal_strerror(rc)); return 1; }
    double t_shot = bench_now() - t0;
    t0 = bench_now();
    rc = thermal_plan_create(&s, nx, ny, 0.0, &ps);
    double t_plan_s = bench_now() - t0;
    if (rc) { fprintf(stderr, "plan: %s\n", thermal_strerror(rc)); return 1; }
    t0 = bench_now();
    rc = thermal_plan_create(&s, nx, ny, 1e-5, &pt);
    double t_plan_t = bench_now() - t0;
    if (rc) { fprintf(stderr, "plan: %s\n", thermal_strerror(rc)); return 1; }

    const int reps = 20;
    t0 = bench_now();
    for (int r = 0; r < reps; r++) thermal_steady(ps, pw, t);
    double t_steady = (bench_now() - t0) / reps;
    double tmax = t[0];
    for (size_t i = 0; i < 2 * nm; i++) tmax = t[i] > tmax ? t[i] : tmax;
    t0 = bench_now();
    for (int r = 0; r < reps; r++) thermal_steady(pe, pw, t);
    double t_steady_e = (bench_now() - t0) / reps;

    /* leakage: the strips and the upper die's floor as units, 84 leaking SRAM banks */
    enum { NB = 84, NU = 4 + 1 + NB };
    static sio_unit units[NU];
    sio_die dies[2] = {{0, "logic"}, {1, "sram"}};
    sio_rail rails[2] = {{.name = "core", .vdd_v = 0.8}, {.name = "sram", .vdd_v = 0.75}};
    double upw[NU];
    for (int k = 0; k < 4; k++) {
        units[k] = (sio_unit){.name = "mxm", .die = 0, .rail = 0, .rect_mm = {strips[k][0], strips[k][1], strips[k][2],
                                                                                strips[k][3]}};
        upw[k] = 40.0;
    }
    units[4] = (sio_unit){.name = "floor", .die = 1, .rail = 1, .rect_mm = {0, 0, 25, 29}};
    upw[4] = 45.0;
    for (int b = 0; b < NB; b++) {
        double w = 25.0 / 12, h = 26.0 / 7;
        units[5 + b] = (sio_unit){.name = "bank", .die = 1, .rail = 1,
                                  .rect_mm = {(b % 12) * w, 3 + (b / 12) * h, w, h},
                                  .leak_a = 0.4, .leak_beta_per_k = 0.036};
        upw[5 + b] = 15.0 / NB;
    }
    sio_chip chip = {.outline_mm = {25, 29}, .dies = dies, .n_dies = 2, .rails = rails, .n_rails = 2,
                     .units = units, .n_units = NU,
                     .thermal = {.present = 1, .ambient_c = 40, .leakage = {1, 110, 0.036}}};
    thermal_units *tu = NULL;
    double lw[NU];
    thermal_leak_steady lf, ld;
    if (thermal_units_create(&chip, nx, ny, &tu)) return 1;
    const int lreps = 5;
    t0 = bench_now();
    for (int r = 0; r < lreps; r++)
        if (thermal_run_leak_steady(ps, tu, &chip, upw, 0, lw, &lf)) return 1;
    double t_leak = (bench_now() - t0) / lreps;
    t0 = bench_now();
    if (thermal_run_leak_steady(ps, tu, &chip, upw, 1, lw, &ld)) return 1;
    double t_dense = bench_now() - t0;
    thermal_units_destroy(tu);

    thermal_state *st = NULL;
    if (thermal_state_create(pt, &st) || thermal_state_set_steady(pt, st, NULL)) return 1;
    double *burst = calloc(2 * nm, sizeof *burst);
    if (!burst) return 1;
    for (size_t i = 0; i < 2 * nm; i++) burst[i] = 2.0 * pw[i];
    t0 = bench_now();
    for (size_t f = 0; f < frames; f++)
        if (thermal_step(pt, st, (f / 100) % 2 ? burst : pw, t)) return 1;
    double t_frames = bench_now() - t0;
    double fmax = t[0];
    for (size_t i = 0; i < 2 * nm; i++) fmax = t[i] > fmax ? t[i] : fmax;

    printf("thermal 128x128, 8 layers, 2 dies\n");
    printf("  one shot: plan (estimate) %8.1f ms, + steady %.1f ms in all (steady then %.3f ms)\n", 1e3 * t_plan_e,
           1e3 * t_shot, 1e3 * t_steady_e);
    printf("  plan (steady only)        %8.1f ms\n", 1e3 * t_plan_s);
    printf("  plan (10 us frames)       %8.1f ms\n", 1e3 * t_plan_t);
    printf("  steady state              %8.3f ms  (max %.2f C)\n", 1e3 * t_steady, tmax);
    printf("  %zu transient frames    %8.1f ms  (%.3f ms per frame, max %.2f C after 10 ms)\n",
           frames, 1e3 * t_frames, 1e3 * t_frames / (double)frames, fmax);
    printf("  steady with leakage (%d banks), matrix-free   %8.3f ms = %.1f plain solves (%zu steps, %.3f W)\n", NB,
           1e3 * t_leak, t_leak / t_steady, lf.iterations, lf.total_w);
    printf("  steady with leakage, dense + runaway factor  %8.1f ms (%zu Newton steps, %.3f W, factor %.2f)\n",
           1e3 * t_dense, ld.iterations, ld.total_w, ld.runaway_factor);
    thermal_state_destroy(st);
    thermal_plan_destroy(ps);
    thermal_plan_destroy(pt);
    thermal_plan_destroy(pe);
    free(pw); free(t); free(burst);
    return 0;
}
