/* test_thermal_run.c -- frame energies, power maps, unit temperatures,
** hotspot tracking (thermal_run.h), HotSpot .flp round trip
** (thermal_hotspot.h) and PNG output (thermal_png.h).
** References are independent: the trapezoid integrated numerically or in
** closed form from docs/model.md, hand-drawn synthetic maps, libpng reading back. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sio.h"
#include "testkit.h"
#include "thermal_hotspot.h"
#include "thermal_png.h"
#include "thermal_run.h"

static char *classes[] = {"A", "B"};
static sio_rail rails[] = {{.name = "core", .vdd_v = 0.8}, {.name = "io", .vdd_v = 1.1}};
static sio_die dies[] = {{.id = 0, .name = "logic"}, {.id = 1, .name = "sram"}};
static sio_unit units[] = {
    {.name = "U0", .cls = 0, .rail = 0, .die = 0, .idle_a = 0.5, .rect_mm = {0, 0, 3.3, 10}},
    {.name = "U1", .cls = 0, .rail = 0, .die = 1, .idle_a = 0.25, .rect_mm = {0, 0, 10, 4.1}},
    {.name = "V0", .cls = 1, .rail = 1, .die = 0, .idle_a = 0.0, .rect_mm = {3.3, 2.7, 6.7, 7.3}},
    {.name = "V1", .cls = 1, .rail = 0, .die = 1, .idle_a = 1.0, .rect_mm = {1.234, 4.1, 8.766, 5.9}},
};
static sio_op ops[] = {
    {.name = "run", .cls = 0, .current_a = 40.0, .ramp_cycles = 20},
    {.name = "go", .cls = 1, .current_a = 3.0, .ramp_cycles = 0},
    {.name = "ramp", .cls = 1, .current_a = 7.0, .ramp_cycles = 3},
};
static sio_chip chip = {
    .name = "mini", .clock_ghz = 0.9, .outline_mm = {10, 10}, .rails = rails, .n_rails = 2, .dies = dies,
    .n_dies = 2, .units = units, .n_units = 4, .ops = ops, .n_ops = 3, .classes = classes, .n_classes = 2,
};

static char path[64];
static sio_schedule *sched;

/* A random valid schedule: ops back to back with gaps on each unit, 2 chips. */
static int setup(void **st)
{
    (void)st;
    strcpy(path, "/tmp/pda_test_thermal_run_XXXXXX");
    if (testkit_random_schedule(units, path, 11, 120, 7, 3000)) return -1;
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

/* docs/model.md: charge I (cycles - r) T, r = min(ramp, cycles/2). */
static double charge_ref(size_t i)
{
    const sio_op *o = &ops[sched->op[i]];
    double r = fmin((double)o->ramp_cycles, 0.5 * (double)sched->cycles[i]);
    return o->current_a * sched->activity[i] * ((double)sched->cycles[i] - r) / chip.clock_ghz;
}

static double makespan_ns(void)
{
    return (double)sio_schedule_makespan_cyc(sched) / chip.clock_ghz;
}

static void test_energy_conserved(void **st)
{
    (void)st;
    const double frames_ns[] = {777.0, 10000.0, 3.3, 1e9};
    double mk = makespan_ns();
    for (size_t q = 0; q < 4; q++) {
        double F = frames_ns[q];
        size_t nf = thermal_run_n_frames(mk, F);
        assert_true((double)nf * F >= mk && (double)(nf - 1) * F < mk);
        double *e = malloc(nf * chip.n_units * sizeof *e);
        for (size_t ch = 0; ch < 2; ch++) {
            assert_int_equal(thermal_run_frame_energy(&chip, sched, ch, NULL, 0, mk, F, nf, e), 0);
            double want = 0, got = 0;
            for (size_t i = 0; i < sched->n; i++)
                if (sched->chip[i] == ch)
                    want += rails[units[sched->unit[i]].rail].vdd_v * charge_ref(i) * 1e-9;
            for (size_t u = 0; u < chip.n_units; u++)
                want += units[u].idle_a * rails[units[u].rail].vdd_v * mk * 1e-9;
            for (size_t k = 0; k < nf * chip.n_units; k++) {
                assert_true(e[k] >= -1e-18);
                got += e[k];
            }
            assert_true(fabs(got - want) <= 1e-12 * want);
            /* the per-chip op list gives the same numbers */
            uint32_t *idx = malloc(sched->n * sizeof *idx);
            size_t n = 0;
            for (size_t i = 0; i < sched->n; i++)
                if (sched->chip[i] == ch) idx[n++] = (uint32_t)i;
            double *e2 = malloc(nf * chip.n_units * sizeof *e2);
            assert_int_equal(thermal_run_frame_energy(&chip, sched, ch, idx, n, mk, F, nf, e2), 0);
            for (size_t k = 0; k < nf * chip.n_units; k++) assert_true(fabs(e2[k] - e[k]) <= 1e-15);
            free(e2);
            free(idx);
        }
        free(e);
    }
}

/* Each frame's energy of one unit against a midpoint-rule integral of the
** trapezoids (fine steps: an independent, per-ns style reference). */
static void test_energy_per_frame(void **st)
{
    (void)st;
    double mk = makespan_ns(), F = 2500.0;
    size_t nf = thermal_run_n_frames(mk, F), u = 2, nu = chip.n_units;
    double *e = malloc(nf * nu * sizeof *e), *ref = calloc(nf, sizeof *ref);
    assert_int_equal(thermal_run_frame_energy(&chip, sched, 0, NULL, 0, mk, F, nf, e), 0);
    const double h = 0.01;   /* ns */
    for (size_t i = 0; i < sched->n; i++) {
        if (sched->chip[i] != 0 || sched->unit[i] != u) continue;
        const sio_op *o = &ops[sched->op[i]];
        double T = 1.0 / chip.clock_ghz, t0 = (double)sched->start_cyc[i] * T;
        double t1 = t0 + (double)sched->cycles[i] * T;
        double R = fmin((double)o->ramp_cycles, 0.5 * (double)sched->cycles[i]) * T;
        double I = o->current_a * sched->activity[i];
        for (double t = t0 + h / 2; t < t1; t += h) {
            double v = I;
            if (R > 0 && t < t0 + R) v = I * (t - t0) / R;
            if (R > 0 && t > t1 - R) v = I * (t1 - t) / R;
            ref[(size_t)(t / F)] += rails[1].vdd_v * v * h * 1e-9;
        }
    }
    for (size_t f = 0; f < nf; f++) assert_true(fabs(e[f * nu + u] - ref[f]) <= 1e-3 * (ref[f] + 1e-12));
    free(e);
    free(ref);
}

static void test_power_maps_conserve(void **st)
{
    (void)st;
    const size_t grids[][2] = {{7, 5}, {64, 64}, {3, 11}};
    double pw[4] = {12.5, 3.25, 0.75, 40.0};
    for (size_t g = 0; g < 3; g++) {
        size_t nx = grids[g][0], ny = grids[g][1];
        double *m = malloc(2 * nx * ny * sizeof *m);
        assert_int_equal(thermal_run_power_maps(&chip, pw, nx, ny, m), 0);
        double s0 = 0, s1 = 0;
        for (size_t k = 0; k < nx * ny; k++) { s0 += m[k]; s1 += m[nx * ny + k]; }
        assert_true(fabs(s0 - (pw[0] + pw[2])) < 1e-12 * s0);
        assert_true(fabs(s1 - (pw[1] + pw[3])) < 1e-12 * s1);
        free(m);
    }
}

/* Unit temperatures on a linear field T = x + 2y over cell centres: a unit
** aligned to cells has the mean of its cells' centres, the hottest cell at
** its top-right; a unit of 1 nm x 1 nm (1e-12 of a cell) has its cell's. */
static void test_unit_temps(void **st)
{
    (void)st;
    sio_unit u2[] = {{.name = "a", .die = 0, .rect_mm = {2, 1, 4, 3}},
                     {.name = "b", .die = 1, .rect_mm = {0, 0, 10, 10}},
                     {.name = "c", .die = 0, .rect_mm = {2.25, 1.25, 1e-6, 1e-6}}};
    sio_chip c2 = chip;
    c2.units = u2;
    c2.n_units = 3;
    size_t nx = 10, ny = 10;
    thermal_units *tu;
    assert_int_equal(thermal_units_create(&c2, nx, ny, &tu), 0);
    double *t = malloc(2 * nx * ny * sizeof *t);
    for (size_t y = 0; y < ny; y++)
        for (size_t x = 0; x < nx; x++) {
            t[y * nx + x] = ((double)x + 0.5) + 2 * ((double)y + 0.5);
            t[nx * ny + y * nx + x] = 7.0;
        }
    double mean[3], mx[3];
    thermal_units_eval(tu, t, mean, mx);
    assert_true(fabs(mean[2] - (2.5 + 2 * 1.5)) < 1e-12 && fabs(mx[2] - (2.5 + 2 * 1.5)) < 1e-12);
    assert_true(fabs(mean[0] - (4.0 + 2 * 2.5)) < 1e-12);
    assert_true(fabs(mx[0] - (5.5 + 2 * 3.5)) < 1e-12);
    assert_true(fabs(mean[1] - 7.0) < 1e-12 && fabs(mx[1] - 7.0) < 1e-12);
    free(t);
    thermal_units_destroy(tu);
    thermal_units_destroy(NULL);
}

/* Draws a map from a picture: '#' hot (100), '.' cool (50). Row 0 of the
** picture is the top (y = ny-1). */
static void draw(double *m, size_t nx, size_t ny, const char *pic)
{
    for (size_t r = 0; r < ny; r++)
        for (size_t x = 0; x < nx; x++) m[(ny - 1 - r) * nx + x] = pic[r * nx + x] == '#' ? 100.0 : 50.0;
}

static void test_label_regions(void **st)
{
    (void)st;
    double m[48];
    int32_t lab[48];
    size_t n;
    draw(m, 8, 6, "##......"
                  "##...##."
                  ".....##."
                  "..#....."
                  "...#...."
                  "........");
    assert_int_equal(thermal_label_regions(m, 8, 6, 95.0, lab, &n), 0);
    /* two blobs plus two cells that touch only diagonally: four regions */
    assert_int_equal(n, 4);
    assert_int_equal(lab[5 * 8 + 0], lab[4 * 8 + 1]);
    assert_true(lab[5 * 8 + 0] != lab[4 * 8 + 5]);
    assert_true(lab[2 * 8 + 2] != 0 && lab[1 * 8 + 3] != 0 && lab[2 * 8 + 2] != lab[1 * 8 + 3]);
    assert_int_equal(lab[0], 0);
    /* threshold is strict */
    assert_int_equal(thermal_label_regions(m, 8, 6, 100.0, lab, &n), 0);
    assert_int_equal(n, 0);
}

static void test_hotspot_merge(void **st)
{
    (void)st;
    const size_t nx = 8, ny = 4;
    double m[32];
    thermal_hotspots *h;
    assert_int_equal(thermal_hotspots_create(1, nx, ny, 8.0, 4.0, 95.0, &h), 0);
    draw(m, nx, ny, "........" "........" "........" "........");
    assert_int_equal(thermal_hotspots_push(h, -1, 0, m), 0);
    draw(m, nx, ny, "........" "........" ".##....." ".##.....");
    assert_int_equal(thermal_hotspots_push(h, 0, 10, m), 0);
    draw(m, nx, ny, "........" "..##...." "..##...." "........");
    m[2 * nx + 3] = 120;   /* the peak: x = 3, y = 2, frame 1 */
    assert_int_equal(thermal_hotspots_push(h, 1, 20, m), 0);
    draw(m, nx, ny, "........" "...#..#." "......#." "........");
    assert_int_equal(thermal_hotspots_push(h, 2, 30, m), 0);
    draw(m, nx, ny, "........" "...####." "........" "........");   /* bridges both */
    assert_int_equal(thermal_hotspots_push(h, 3, 40, m), 0);
    draw(m, nx, ny, "........" "........" "........" "........");
    assert_int_equal(thermal_hotspots_push(h, 4, 50, m), 0);
    draw(m, nx, ny, "#......." "........" "........" "........");   /* after a gap: new */
    assert_int_equal(thermal_hotspots_push(h, 5, 60, m), 0);
    assert_int_equal(thermal_hotspots_push(h, 5, 70, m), THERMAL_RUN_EINVAL);   /* not after the last (a jump ahead is fine) */
    assert_int_equal(thermal_hotspots_finish(h), 0);
    size_t n;
    const thermal_hotspot *l = thermal_hotspots_list(h, &n);
    assert_int_equal(n, 2);
    assert_true(l[0].peak_c == 120.0);
    assert_int_equal(l[0].peak_frame, 1);
    assert_true(l[0].t_peak_ns == 20.0);
    assert_true(fabs(l[0].peak_x_mm - 3.5) < 1e-12 && fabs(l[0].peak_y_mm - 2.5) < 1e-12);
    assert_int_equal(l[0].first_frame, 0);
    assert_int_equal(l[0].last_frame, 3);
    /* footprint: x1-2,y0-1 | x2-3,y1-2 | x3,y2 x6,y1-2 | x3-6,y2 -> count the cells */
    int fp[4][8] = {{0}};
    fp[0][1] = fp[0][2] = fp[1][1] = fp[1][2] = 1;
    fp[1][2] = fp[1][3] = fp[2][2] = fp[2][3] = 1;
    fp[2][3] = fp[2][6] = fp[1][6] = 1;
    fp[2][3] = fp[2][4] = fp[2][5] = fp[2][6] = 1;
    double cnt = 0, sx = 0, sy = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++)
            if (fp[y][x]) { cnt++; sx += x + 0.5; sy += y + 0.5; }
    assert_true(fabs(l[0].area_mm2 - cnt) < 1e-12);
    assert_true(fabs(l[0].centroid_x_mm - sx / cnt) < 1e-12 && fabs(l[0].centroid_y_mm - sy / cnt) < 1e-12);
    assert_int_equal(l[1].first_frame, 5);
    assert_int_equal(l[0].stacked, 0);
    thermal_hotspots_destroy(h);
}

static void test_hotspot_stacked(void **st)
{
    (void)st;
    const size_t nx = 8, ny = 4, cells = 32;
    double m[64];
    thermal_hotspots *h;
    assert_int_equal(thermal_hotspots_create(2, nx, ny, 8.0, 4.0, 95.0, &h), 0);
    draw(m, nx, ny, "........" "........" "........" "........");
    draw(m + cells, nx, ny, "........" "........" "........" "........");
    assert_int_equal(thermal_hotspots_push(h, -1, 0, m), 0);
    /* frame 0: die 0 blob A; die 1 blob B overlapping A at one cell, blob C elsewhere */
    draw(m, nx, ny, "........" "........" ".##....." ".##.....");
    draw(m + cells, nx, ny, "........" "......##" "..##..##" "........");
    m[cells + 1 * nx + 2] = 110;   /* B peaks higher: listed first */
    assert_int_equal(thermal_hotspots_push(h, 0, 10, m), 0);
    /* frame 1: nothing on die 1; die 0 blob D under where C was (C ended: not simultaneous) */
    draw(m, nx, ny, "........" "......#." "........" "........");
    draw(m + cells, nx, ny, "........" "........" "........" "........");
    assert_int_equal(thermal_hotspots_push(h, 1, 20, m), 0);
    assert_int_equal(thermal_hotspots_finish(h), 0);
    size_t n;
    const thermal_hotspot *l = thermal_hotspots_list(h, &n);
    assert_int_equal(n, 4);
    size_t a = n, b = n, cc = n, d = n;
    for (size_t k = 0; k < n; k++) {
        if (l[k].die == 0 && l[k].first_frame == 0) a = k;
        if (l[k].die == 1 && l[k].peak_c == 110) b = k;
        if (l[k].die == 1 && l[k].peak_c == 100) cc = k;
        if (l[k].die == 0 && l[k].first_frame == 1) d = k;
    }
    assert_true(a < n && b < n && cc < n && d < n);
    assert_int_equal(b, 0);
    assert_int_equal(l[a].stacked, 1);
    assert_int_equal(l[b].stacked, 1);
    assert_int_equal(l[a].n_stacked_with, 1);
    assert_int_equal(l[a].stacked_with[0], b);
    assert_int_equal(l[b].stacked_with[0], a);
    assert_int_equal(l[cc].stacked, 0);
    assert_int_equal(l[d].stacked, 0);
    /* power under A: the die-0 units overlapping its 4 cells (x 1-3, y 0-2 mm) */
    sio_unit u2[] = {{.name = "p", .die = 0, .rect_mm = {0, 0, 2, 4}}, {.name = "q", .die = 0, .rect_mm = {2, 0, 6, 4}},
                     {.name = "r", .die = 1, .rect_mm = {0, 0, 8, 4}}};
    sio_chip c2 = chip;
    c2.units = u2;
    c2.n_units = 3;
    c2.outline_mm[0] = 8;
    c2.outline_mm[1] = 4;
    double pw[3] = {8.0, 12.0, 5.0}, under[3];
    assert_int_equal(thermal_hotspots_unit_power(h, a, &c2, pw, under), 0);
    assert_true(fabs(under[0] - 8.0 * 2.0 / 8.0) < 1e-12);    /* 2 of its 8 mm^2 */
    assert_true(fabs(under[1] - 12.0 * 2.0 / 24.0) < 1e-12);  /* 2 of its 24 mm^2 */
    assert_true(under[2] == 0);
    thermal_hotspots_destroy(h);
    thermal_hotspots_destroy(NULL);
}

static void test_flp_roundtrip(void **st)
{
    (void)st;
    char fp[64];
    strcpy(fp, "/tmp/pda_test_flp_XXXXXX");
    int fd = mkstemp(fp);
    FILE *f = fdopen(fd, "w");
    for (size_t d = 0; d < 2; d++) {
        thermal_flp *flp;
        assert_int_equal(thermal_flp_from_chip(&chip, d, &flp), 0);
        /* the blocks tile the outline: areas add up, no two overlap */
        double area = 0;
        for (size_t i = 0; i < flp->n; i++) {
            const double *p = flp->blocks[i].rect_mm;
            area += p[2] * p[3];
            for (size_t j = i + 1; j < flp->n; j++) {
                const double *q = flp->blocks[j].rect_mm;
                double ox = fmin(p[0] + p[2], q[0] + q[2]) - fmax(p[0], q[0]);
                double oy = fmin(p[1] + p[3], q[1] + q[3]) - fmax(p[1], q[1]);
                assert_false(ox > 1e-9 && oy > 1e-9);
            }
        }
        assert_true(fabs(area - 100.0) < 1e-9);
        if (d == 0) {
            assert_int_equal(thermal_flp_write(f, flp, "test"), 0);
            fclose(f);
        }
        thermal_flp_free(flp);
    }
    thermal_flp *back;
    sio_error err;
    assert_int_equal(thermal_flp_load(fp, &back, &err), 0);
    assert_int_equal(back->n, 2);   /* U0 and V0; fillers skipped */
    size_t want[2] = {0, 2};
    for (size_t k = 0; k < 2; k++) {
        assert_string_equal(back->blocks[k].name, units[want[k]].name);
        for (int q = 0; q < 4; q++) assert_true(fabs(back->blocks[k].rect_mm[q] - units[want[k]].rect_mm[q]) < 1e-9);
    }
    thermal_flp_free(back);
    /* a bad number is refused with its position */
    f = fopen(fp, "w");
    fprintf(f, "# c\n\nA\t0.001\t0.002\t0\t0\nB  0.001 x2 0 0\n");
    fclose(f);
    assert_int_equal(thermal_flp_load(fp, &back, &err), SIO_EINPUT);
    assert_null(back);
    assert_non_null(strstr(err.text, ":4:10: height is not a number"));
    f = fopen(fp, "w");
    fprintf(f, "A\t0.001\t0.002\t0\t0\nA\t0.001\t0.002\t0\t0\n");
    fclose(f);
    assert_int_equal(thermal_flp_load(fp, &back, &err), SIO_EINPUT);
    assert_non_null(strstr(err.text, ":2:1: duplicate block name 'A'"));
    unlink(fp);
}

/* Writes the map with po to a temporary file and reads it back: RGB rows
** (malloc'd, w x h x 3). */
static unsigned char *png_roundtrip(const double *m, size_t nx, size_t ny, double w_mm, double h_mm,
                                    const thermal_png_opts *po, png_uint_32 *w, png_uint_32 *h)
{
    char fp[64];
    strcpy(fp, "/tmp/pda_test_png_XXXXXX");
    int fd = mkstemp(fp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_int_equal(thermal_png_write(f, m, nx, ny, w_mm, h_mm, po), 0);
    fclose(f);
    f = fopen(fp, "rb");
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not read the image");
    png_init_io(png, f);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    *w = png_get_image_width(png, info);
    *h = png_get_image_height(png, info);
    assert_int_equal(png_get_color_type(png, info), PNG_COLOR_TYPE_RGB);
    png_bytepp rows = png_get_rows(png, info);
    unsigned char *px = malloc((size_t)*w * *h * 3);
    assert_non_null(px);
    for (png_uint_32 y = 0; y < *h; y++) memcpy(px + (size_t)y * *w * 3, rows[y], (size_t)*w * 3);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    unlink(fp);
    return px;
}

/* A title above the map (the die's name) and a hotspot mark: the title
** band holds ink, the mark's centre is white and its ring black. */
static void test_png_title_marks(void **st)
{
    (void)st;
    size_t nx = 13, ny = 7;
    double m[91];
    for (size_t k = 0; k < nx * ny; k++) m[k] = 40 + (double)(k % nx) * 3.1;
    png_uint_32 w0, h0, w, h;
    thermal_png_opts po = {.map_px = 260};
    unsigned char *plain = png_roundtrip(m, nx, ny, 26.0, 14.0, &po, &w0, &h0);
    const double mark[2] = {13.0, 7.0};
    po.title = "sram-1";
    po.marks_mm = mark;
    po.n_marks = 1;
    unsigned char *px = png_roundtrip(m, nx, ny, 26.0, 14.0, &po, &w, &h);
    assert_int_equal(w, w0);
    assert_int_equal(h, h0 + 7 * 2 + 8);   /* the title band */
    size_t ink = 0;
    for (size_t y = 12; y < 12 + 14; y++)
        for (size_t x = 12; x < 12 + 6 * 12; x++) ink += px[3 * (y * w + x)] < 100;
    assert_true(ink > 40);   /* six glyphs' worth of strokes */
    /* the mark at 10 px/mm: x = 12 + 130, y = 34 + (139 - 70) */
    size_t cx = 12 + 130, cy = 34 + 69;
    const unsigned char *c = px + 3 * (cy * w + cx), *ring = px + 3 * (cy * w + cx + 6);
    assert_true(c[0] == 255 && c[1] == 255 && c[2] == 255);
    assert_true(ring[0] == 0 && ring[1] == 0 && ring[2] == 0);
    /* and without the mark that pixel has the map's colour */
    const unsigned char *c0 = plain + 3 * ((cy - 22) * w0 + cx);
    assert_false(c0[0] == 255 && c0[1] == 255 && c0[2] == 255);
    free(plain);
    free(px);
}

static void test_png(void **st)
{
    (void)st;
    /* the scale grows in lightness (perceptual order) */
    double prev = -1;
    for (int k = 0; k <= 100; k++) {
        unsigned char c[3];
        thermal_png_colour(k / 100.0, c);
        double lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        assert_true(lum >= prev - 0.5);
        prev = lum;
    }
    size_t nx = 13, ny = 7;
    double m[91];
    for (size_t k = 0; k < nx * ny; k++) m[k] = 40 + (double)(k % nx) * 3.1;
    double rect[4] = {1, 1, 10, 4};
    thermal_png_opts po = {.rects_mm = rect, .n_rects = 1, .map_px = 260};
    png_uint_32 w, h;
    unsigned char *px = png_roundtrip(m, nx, ny, 26.0, 14.0, &po, &w, &h);
    /* the map is 260 x 140 px, plus margins and the legend */
    assert_true(w > 260 && w < 520);
    assert_true(h > 140 && h < 200);
    /* hot on the right, cool on the left (inside the map, row through its middle) */
    const unsigned char *mid = px + (size_t)(12 + 70) * w * 3;
    double l_left = mid[3 * 14] + mid[3 * 14 + 1], l_right = mid[3 * 270] + mid[3 * 270 + 1];
    assert_true(l_right > l_left);
    free(px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_conserved),
        cmocka_unit_test(test_energy_per_frame),
        cmocka_unit_test(test_power_maps_conserve),
        cmocka_unit_test(test_unit_temps),
        cmocka_unit_test(test_label_regions),
        cmocka_unit_test(test_hotspot_merge),
        cmocka_unit_test(test_hotspot_stacked),
        cmocka_unit_test(test_flp_roundtrip),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_png_title_marks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
