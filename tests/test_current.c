/* test_current.c -- the current maps (current.h) by their physics: the charge
** in the maps equals the charge of the ops plus the idle draw, for every bin
** width and tile size; the maps equal an independent brute-force integration
** of each op's trapezoid; tiles and the order of the file do not change the
** numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "current.h"
#include "sio.h"
#include "testkit.h"

static char *classes[] = {"A", "B"};
static sio_rail rails[] = {{.name = "core", .vdd_v = 0.8}, {.name = "io", .vdd_v = 1.1}};
static sio_die dies[] = {{.id = 0, .name = "logic"}, {.id = 1, .name = "sram"}};
static sio_unit units[] = {
    {.name = "U0", .cls = 0, .rail = 0, .die = 0, .idle_a = 0.5},
    {.name = "U1", .cls = 0, .rail = 0, .die = 1, .idle_a = 0.25},
    {.name = "V0", .cls = 1, .rail = 1, .die = 0, .idle_a = 0.0},
    {.name = "V1", .cls = 1, .rail = 0, .die = 1, .idle_a = 1.0},
};
static sio_op ops[] = {
    {.name = "run", .cls = 0, .current_a = 40.0, .ramp_cycles = 20},
    {.name = "go", .cls = 1, .current_a = 3.0, .ramp_cycles = 0},
    {.name = "ramp", .cls = 1, .current_a = 7.0, .ramp_cycles = 3},
};
static sio_chip chip = {
    .name = "mini", .clock_ghz = 0.9, .rails = rails, .n_rails = 2, .dies = dies, .n_dies = 2,
    .units = units, .n_units = 4, .ops = ops, .n_ops = 3, .classes = classes, .n_classes = 2,
};

static char path[64];
static sio_schedule *sched;

/* A random valid schedule: ops back to back with gaps on each unit, 2 chips. */
static int setup(void **st)
{
    (void)st;
    strcpy(path, "/tmp/pda_test_current_XXXXXX");
    if (testkit_random_schedule(units, path, 7, 150, 5, 300)) return -1;
    sio_error err;
    if (sio_schedule_load(&chip, path, &sched, &err)) { fprintf(stderr, "%s\n", err.text); return -1; }
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    sio_schedule_free(sched);
    unlink(path);
    return 0;
}

/* Brute force: the bin average of rail r of chip c from every op directly. */
static double brute_rail(size_t c, size_t r, double a, double b)
{
    double sum = 0;
    for (size_t i = 0; i < sched->n; i++) {
        if (sched->chip[i] != c || units[sched->unit[i]].rail != r) continue;
        sum += current_op_avg(&chip, sched, i, a, b);
    }
    /* the chips idle on to the end of the last bin */
    for (size_t u = 0; u < 4; u++)
        if (units[u].rail == r) sum += units[u].idle_a;
    return sum;
}

static size_t split_min_ops = CURRENT_SPLIT_MIN_OPS;   /* test_file_order sets it */

static void walk(double bin_ns, size_t tile, int with_units, double *rail_out /* [c][r][bin] */, size_t nbins)
{
    current_iter *it;
    sio_error err;
    current_iter_opts o;
    current_iter_opts_default(&o);
    o.bin_ns = bin_ns;
    o.tile_bins = tile;
    o.maps = CURRENT_DIES | (with_units ? CURRENT_UNITS : 0);
    o.split_min_ops = split_min_ops;
    assert_int_equal(current_iter_open(&chip, sched, &o, &it, &err), 0);
    assert_int_equal(current_n_bins(it), nbins);
    current_tile t;
    size_t seen = 0;
    /* the rails of the tile before stay as they were while the next is made */
    const double *prev = NULL;
    size_t prev_b0 = 0, prev_nb = 0, prev_stride = 0;
    while (current_next(it, &t) == 1) {
        assert_int_equal(t.b0, seen);
        for (size_t row = 0; prev && row < 4; row++)
            for (size_t k = 0; k < prev_nb; k++)
                if (prev[row * prev_stride + k] != rail_out[row * nbins + prev_b0 + k])
                    fail_msg("the rails of the tile at %zu changed with the next tile", prev_b0);
        prev = t.rail_a;
        prev_b0 = t.b0;
        prev_nb = t.nb;
        prev_stride = t.stride;
        for (size_t row = 0; row < 4; row++)
            for (size_t k = 0; k < t.nb; k++) rail_out[row * nbins + t.b0 + k] = t.rail_a[row * t.stride + k];
        if (with_units) {
            /* units add up to their rail, dies add up to the chip */
            for (size_t c = 0; c < 2; c++)
                for (size_t k = 0; k < t.nb; k++) {
                    double ru[2] = {0, 0}, dsum = 0, rsum = 0;
                    for (size_t u = 0; u < 4; u++) ru[units[u].rail] += t.unit_a[(c * 4 + u) * t.stride + k];
                    for (size_t d = 0; d < 2; d++) dsum += t.die_a[(c * 2 + d) * t.stride + k];
                    for (size_t r = 0; r < 2; r++) {
                        assert_true(fabs(ru[r] - t.rail_a[(c * 2 + r) * t.stride + k]) < 1e-9);
                        rsum += t.rail_a[(c * 2 + r) * t.stride + k];
                    }
                    assert_true(fabs(dsum - rsum) < 1e-9);
                }
        }
        seen += t.nb;
    }
    assert_int_equal(seen, nbins);
    current_iter_destroy(it);
}

static void test_charge_and_brute_force(void **st)
{
    (void)st;
    double mk_ns = (double)sio_schedule_makespan_cyc(sched) / chip.clock_ghz;
    const double bins[] = {1.0, 0.37, 3.3, 10.0};
    const size_t tiles[] = {1, 7, 1000, 0};
    for (size_t bi = 0; bi < 4; bi++) {
        double bn = bins[bi];
        size_t nbins = (size_t)ceil(mk_ns / bn - 1e-9);
        /* the charge of the ops, and of the idle draw from 0 to the end of
        ** the last bin, per chip and rail */
        double q[2][2] = {{0, 0}, {0, 0}};
        for (size_t i = 0; i < sched->n; i++) q[sched->chip[i]][units[sched->unit[i]].rail] += current_op_charge(&chip, sched, i);
        for (size_t c = 0; c < 2; c++)
            for (size_t u = 0; u < 4; u++) q[c][units[u].rail] += units[u].idle_a * (double)nbins * bn;
        double *ref = NULL;
        for (size_t ti = 0; ti < 4; ti++) {
            double *m = calloc(4 * nbins, sizeof *m);
            walk(bn, tiles[ti], ti == 2, m, nbins);
            for (size_t c = 0; c < 2; c++)
                for (size_t r = 0; r < 2; r++) {
                    double sum = 0;
                    for (size_t k = 0; k < nbins; k++) sum += m[(c * 2 + r) * nbins + k] * bn;
                    if (fabs(sum - q[c][r]) > 1e-9 * q[c][r]) fail_msg("bin %g tile %zu chip %zu rail %zu: charge %.12g vs %.12g", bn, tiles[ti], c, r, sum, q[c][r]);
                }
            if (!ref) {
                ref = m;
                /* against the brute force, bin by bin (a sample of bins for speed) */
                for (size_t k = 0; k < nbins; k += (nbins / 997) + 1)
                    for (size_t c = 0; c < 2; c++)
                        for (size_t r = 0; r < 2; r++) {
                            double want = brute_rail(c, r, (double)k * bn, (double)(k + 1) * bn);
                            double got = m[(c * 2 + r) * nbins + k];
                            if (fabs(got - want) > 1e-9 * (1 + fabs(want))) fail_msg("bin %g k %zu: %.12g vs %.12g", bn, k, got, want);
                        }
            } else {
                for (size_t k = 0; k < 4 * nbins; k++)
                    if (fabs(m[k] - ref[k]) > 1e-9 * (1 + fabs(ref[k]))) fail_msg("tile %zu differs at %zu", tiles[ti], k);
                free(m);
            }
        }
        free(ref);
    }
}

/* The trapezoid's charge is I (cycles - r) T, ramps clipped at cycles/2. */
static void test_op_shape(void **st)
{
    (void)st;
    for (size_t i = 0; i < sched->n; i++) {
        double T = 1 / chip.clock_ghz;
        const sio_op *o = &ops[sched->op[i]];
        double r = fmin((double)o->ramp_cycles, 0.5 * (double)sched->cycles[i]);
        double want = o->current_a * sched->activity[i] * ((double)sched->cycles[i] - r) * T;
        assert_true(fabs(current_op_charge(&chip, sched, i) - want) < 1e-9 * (1 + want));
        double t0 = (double)sched->start_cyc[i] * T, t1 = t0 + (double)sched->cycles[i] * T;
        double avg = current_op_avg(&chip, sched, i, t0 - 5, t1 + 5);
        assert_true(fabs(avg * (t1 - t0 + 10) - want) < 1e-9 * (1 + want));
    }
}

/* current_op_bins_add (the plateau as a step, the edges by the
** antiderivative) bin by bin against the exact average over each bin, at
** several bin widths, delays and ranges that cut the op; and its bins hold
** the op's whole charge. */
static void test_op_bins(void **st)
{
    (void)st;
    const double bins[] = {1.0, 0.37, 2.5};
    double out[4096], step[4097];
    for (size_t q = 0; q < 3; q++)
        for (size_t i = 0; i < sched->n; i += 7)
            for (int64_t d = 0; d < 12; d += 5) {
                double T = 1 / chip.clock_ghz, bn = bins[q];
                int64_t st0 = sched->start_cyc[i] + d;
                size_t b0 = (size_t)floor((double)st0 * T / bn), b1 = (size_t)floor((double)(st0 + sched->cycles[i]) * T / bn);
                size_t lo = b0 > 2 ? b0 - 2 : 0, n = b1 + 3 - lo;
                assert_true(n < 4096);
                for (size_t cut = 0; cut < 2; cut++) {   /* the whole op, then a range that starts inside it */
                    size_t a = cut ? lo + n / 2 : lo, m = lo + n - a;
                    memset(out, 0, m * sizeof *out);
                    memset(step, 0, (m + 1) * sizeof *step);
                    current_op_bins_add(&chip, sched, i, st0, bn, a, m, 2.0, out, step);
                    double run = 0, charge = 0;
                    sio_schedule tmp = *sched;
                    int64_t *sv = tmp.start_cyc;
                    int64_t *moved = malloc(sched->n * sizeof *moved);
                    memcpy(moved, sv, sched->n * sizeof *moved);
                    moved[i] = st0;
                    tmp.start_cyc = moved;
                    for (size_t k = 0; k < m; k++) {
                        run += step[k];
                        double got = out[k] + run;
                        double want = 2.0 * current_op_avg(&chip, &tmp, i, (double)(a + k) * bn, (double)(a + k + 1) * bn);
                        if (fabs(got - want) > 1e-9 * (1 + fabs(want)))
                            fail_msg("op %zu bin %zu of %g ns: %.12g, the exact average %.12g", i, a + k, bn, got, want);
                        charge += got * bn / 2.0;
                    }
                    if (!cut) assert_true(fabs(charge - current_op_charge(&chip, &tmp, i)) < 1e-9 * (1 + charge));
                    free(moved);
                }
            }
}

/* Far along a long timeline (start 4.5 x 10^15 cycles, bins of 1 ms: bin
** index ~5 x 10^9, where an absolute time keeps 10^-6 of a bin) ops much
** shorter than a bin keep their whole charge, steps and ramps alike, and
** each bin holds the exact average. Idle is 0 here, so the run before the
** ops is exactly zero and the sum is the ops' charge alone. */
static void test_charge_far(void **st)
{
    (void)st;
    sio_unit u0[4];
    memcpy(u0, units, sizeof u0);
    for (size_t u = 0; u < 4; u++) u0[u].idle_a = 0;
    sio_chip c0 = chip;
    c0.units = u0;
    char fp[] = "/tmp/pda_test_far_XXXXXX";
    int fd = mkstemp(fp);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    assert_non_null(f);
    /* two 3-cycle steps back to back, a ramped op of 8 cycles, a 3-cycle
    ** run (its ramp clipped to 1.5 cycles), across a bin boundary or not */
    fprintf(f, "id,unit,op,start,cycles\n"
               "a,V0,go,4500000000000000,3\nb,V0,go,4500000000000003,3\n"
               "c,V1,ramp,4500000000000001,8\nd,U0,run,4500000000000002,3\n");
    assert_int_equal(fclose(f), 0);
    sio_schedule *s;
    sio_error err;
    if (sio_schedule_load(&c0, fp, &s, &err)) fail_msg("%s", err.text);
    double q[2] = {0, 0};
    for (size_t i = 0; i < s->n; i++) q[u0[s->unit[i]].rail] += current_op_charge(&c0, s, i);
    const double bins[] = {1e6, 3.3e5, 1e4};
    for (size_t bi = 0; bi < 3; bi++) {
        current_iter *it;
        current_iter_opts o;
        current_iter_opts_default(&o);
        o.bin_ns = bins[bi];
        o.maps = CURRENT_CONST;
        assert_int_equal(current_iter_open(&c0, s, &o, &it, &err), 0);
        current_tile t;
        double sum[2] = {0, 0};
        while (current_next(it, &t) == 1)
            for (size_t r = 0; r < 2; r++)
                for (size_t k = 0; k < (t.stride ? t.nb : 1); k++)
                    sum[r] += t.rail_a[r * t.stride + k] * bins[bi] * (t.stride ? 1.0 : (double)t.nb);
        for (size_t r = 0; r < 2; r++)
            if (!(fabs(sum[r] - q[r]) <= 1e-9 * q[r]))
                fail_msg("bins of %g ns, rail %zu: charge %.12g nC in the maps, the ops' %.12g", bins[bi], r, sum[r], q[r]);
        current_iter_destroy(it);
    }
    sio_schedule_free(s);
    unlink(fp);
}

static int cmp_start(const void *a, const void *b)
{
    int64_t x = sched->start_cyc[*(const size_t *)a], y = sched->start_cyc[*(const size_t *)b];
    return (x > y) - (x < y);
}

/* The schedule's ops written in the order ord[0..n) and loaded again. */
static sio_schedule *reordered(const size_t *ord, size_t n)
{
    char p2[64];
    strcpy(p2, "/tmp/pda_test_current_order_XXXXXX");
    int fd = mkstemp(p2);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "id,unit,op,start,cycles,chip,activity\n");
    for (size_t q = 0; q < n; q++) {
        size_t i = ord[q];
        fprintf(f, "%s,%s,%s,%lld,%lld,%u,%.17g\n", sio_schedule_id(sched, i), units[sched->unit[i]].name,
                ops[sched->op[i]].name, (long long)sched->start_cyc[i], (long long)sched->cycles[i], sched->chip[i],
                sched->activity[i]);
    }
    assert_int_equal(fclose(f), 0);
    sio_schedule *s2;
    sio_error err;
    assert_int_equal(sio_schedule_load(&chip, p2, &s2, &err), 0);
    unlink(p2);
    return s2;
}

/* The same ops listed unit by unit (the iterator sorts them by tile), in
** start order and nearly so, some neighbours swapped (it reads each tile's
** span of the file in place, skipping the ops of the tile next door) give
** the same maps, whatever the tile, and whether the ops are counted per
** tile in one piece or two (current_iter_opts.split_min_ops). */
static void test_file_order(void **st)
{
    (void)st;
    size_t n = sched->n, *ord = malloc(n * sizeof *ord);
    for (size_t i = 0; i < n; i++) ord[i] = i;
    qsort(ord, n, sizeof *ord, cmp_start);
    sio_schedule *s1 = sched, *s2 = reordered(ord, n);
    for (size_t q = 0; q + 1 < n; q += 16) {   /* one pair in eight */
        size_t x = ord[q];
        ord[q] = ord[q + 1];
        ord[q + 1] = x;
    }
    sio_schedule *s3 = reordered(ord, n);
    double mk_ns = (double)sio_schedule_makespan_cyc(s1) / chip.clock_ghz;
    const double bins[] = {1.0, 0.37};
    const size_t tiles[] = {1, 64, 0};
    for (size_t bi = 0; bi < 2; bi++)
        for (size_t ti = 0; ti < 3; ti++) {
            size_t nbins = (size_t)ceil(mk_ns / bins[bi] - 1e-9);
            double *a = calloc(4 * nbins, sizeof *a), *b = calloc(4 * nbins, sizeof *b);
            sched = s1;
            walk(bins[bi], tiles[ti], 1, a, nbins);
            for (int v = 0; v < 6; v++) {   /* each order with the ops counted in one piece and in two */
                sched = v % 3 == 0 ? s1 : v % 3 == 1 ? s2 : s3;
                split_min_ops = v < 3 ? SIZE_MAX : 0;
                walk(bins[bi], tiles[ti], 1, b, nbins);
                split_min_ops = CURRENT_SPLIT_MIN_OPS;
                for (size_t k = 0; k < 4 * nbins; k++)
                    if (fabs(a[k] - b[k]) > 1e-9 * (1 + fabs(a[k])))   /* the sums run in another order */
                        fail_msg("order %d bin %g tile %zu: %zu: %.17g vs %.17g", v, bins[bi], tiles[ti], k, a[k],
                                 b[k]);
            }
            free(a);
            free(b);
        }
    sched = s1;
    sio_schedule_free(s2);
    sio_schedule_free(s3);
    free(ord);
}

static void test_window(void **st)
{
    (void)st;
    current_window w;
    assert_int_equal(current_window_init(&w, 3), 0);
    double x[] = {1, 5, 2, 9, 1, 1, 0};
    current_window_push(&w, x, 2);
    current_window_push(&w, x + 2, 5);
    assert_true(fabs(current_window_peak(&w) - 16.0 / 3) < 1e-12);   /* 5 2 9 */
    /* the largest value, the first index of it, the total */
    assert_true(w.max == 9 && w.max_at == 3 && w.total == 19);
    current_window_free(&w);
    assert_int_equal(current_window_init(&w, 2), 0);
    double y[] = {4, 7, 7, 1};
    for (size_t k = 0; k < 4; k++) current_window_push(&w, y + k, 1);
    assert_true(w.max == 7 && w.max_at == 1 && w.total == 19 && current_window_peak(&w) == 7);
    current_window_free(&w);
    assert_int_equal(current_window_init(&w, 10), 0);
    current_window_push(&w, x, 4);
    assert_true(fabs(current_window_peak(&w) - 17.0 / 4) < 1e-12);   /* shorter than w: the mean */
    current_window_free(&w);
    assert_int_equal(current_window_init(&w, 2), 0);   /* the first full window is the peak */
    double v[] = {8, 8, 1, 1};
    current_window_push(&w, v, 4);
    assert_true(current_window_peak(&w) == 8 && w.peak_end == 2);
    current_window_free(&w);
    /* against a brute force over every window, for windows shorter and
    ** longer than the 256-value blocks it is computed in, fed in pieces of
    ** random sizes: the peak and where it ends, the maximum, the total */
    enum { N = 20000 };
    double *z = malloc(N * sizeof *z);
    assert_non_null(z);
    const size_t ws[] = {1, 3, 100, 256, 300, 5000};
    for (int wi = 0; wi < 6; wi++) {
        srand(40u + (unsigned)wi);
        for (size_t k = 0; k < N; k++) z[k] = 100 + rand() % 100000 * 1e-3 + (k == 7777 ? 500 : 0);
        const size_t W = ws[wi];
        assert_int_equal(current_window_init(&w, W), 0);
        for (size_t k = 0; k < N;) {
            size_t n = (size_t)(rand() % 3 == 0 ? rand() % 7 : rand() % 2000) + 1;
            if (n > N - k) n = N - k;
            current_window_push(&w, z + k, n);
            k += n;
        }
        double best = -1, tot = 0;
        size_t best_end = 0;
        for (size_t e = W; e <= N; e++) {
            double a = 0;
            for (size_t k = e - W; k < e; k++) a += z[k];
            a /= (double)W;
            if (a > best * (1 + 1e-12)) { best = a; best_end = e; }
        }
        for (size_t k = 0; k < N; k++) tot += z[k];
        if (fabs(current_window_peak(&w) - best) > 1e-12 * best || w.peak_end != best_end)
            fail_msg("w %zu: peak %.15g ending at %zu, brute force %.15g at %zu", W, current_window_peak(&w), w.peak_end,
                     best, best_end);
        assert_true(w.max == z[7777] && w.max_at == 7777);
        assert_true(fabs(w.total - tot) <= 1e-12 * tot);
        current_window_free(&w);
    }
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_shape),
        cmocka_unit_test(test_op_bins),
        cmocka_unit_test(test_charge_and_brute_force),
        cmocka_unit_test(test_charge_far),
        cmocka_unit_test(test_file_order),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
