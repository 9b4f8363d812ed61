/* thermal_hotspot.c -- HotSpot .flp/.ptrace/.lcf writers and a .flp reader
** (formats in thermal_hotspot.h).
**
** Fillers: the outline is cut by every unit edge into a grid of coordinate
** bands (coordinates within 1e-9 of the outline's size are one, so floorplan
** round-off such as 5 + 44 x 0.16 against 12.04 leaves no sliver); band
** cells no unit covers are joined into horizontal runs, and a run that
** repeats the one just below it extends that rectangle upward. Cost
** O(units x bands) for a few hundred units.
**
** Reader: lines up to any length (getline), whitespace-separated fields,
** positions reported 1-based. */
#include "thermal_hotspot.h"
#include "sio_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FILL "_fill"   /* the start of a filler block's name, which the reader skips */
#define FILL_LEN 5
#define FLP_MIN_M 1e-9   /* the floorplans' extents a chip can have (metres) */
#define FLP_MAX_M 1.0

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

void thermal_flp_free(thermal_flp *f)
{
    if (!f) return;
    for (size_t k = 0; k < f->n; k++) free(f->blocks[k].name);
    free(f->blocks);
    free(f);
}

static int flp_add(thermal_flp *f, size_t *cap, const char *name, size_t len, const double *r, long unit)
{
    if (f->n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        thermal_flp_block *b = realloc(f->blocks, c * sizeof *b);
        if (!b) return -1;
        f->blocks = b;
        *cap = c;
    }
    thermal_flp_block *b = &f->blocks[f->n];
    if (!(b->name = dup_str(name, len))) return -1;
    memcpy(b->rect_mm, r, sizeof b->rect_mm);
    b->unit = unit;
    f->n++;
    return 0;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorted coordinates of one axis, clustered within tol; returns the count. */
static size_t axis_coords(double *v, size_t n, double tol)
{
    qsort(v, n, sizeof *v, dcmp);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (!m || v[k] - v[m - 1] > tol) v[m++] = v[k];
    return m;
}

/* Index of the coordinate nearest x. */
static size_t axis_find(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] <= x) lo = mid; else hi = mid;
    }
    if (lo + 1 < n && fabs(v[lo + 1] - x) < fabs(v[lo] - x)) lo++;
    return lo;
}

typedef struct run { size_t a, b, j0; } run;   /* columns [a, b), from band j0 */

static int add_fillers(const sio_chip *c, size_t die, thermal_flp *f, size_t *cap)
{
    double W = c->outline_mm[0], H = c->outline_mm[1];
    double tol = 1e-9 * (W > H ? W : H);
    size_t nu = 0;
    for (size_t u = 0; u < c->n_units; u++) nu += c->units[u].die == die;
    double *xs = malloc((2 * nu + 2) * sizeof *xs), *ys = malloc((2 * nu + 2) * sizeof *ys);
    unsigned char *cov = NULL;
    run *open = NULL, *next = NULL;
    int rc = -1;
    if (!xs || !ys) goto out;
    size_t n = 0;
    xs[n] = 0; ys[n++] = 0;
    xs[n] = W; ys[n++] = H;
    for (size_t u = 0; u < c->n_units; u++) {
        if (c->units[u].die != die) continue;
        const double *r = c->units[u].rect_mm;
        xs[n] = fmax(0, fmin(W, r[0]));
        ys[n++] = fmax(0, fmin(H, r[1]));
        xs[n] = fmax(0, fmin(W, r[0] + r[2]));
        ys[n++] = fmax(0, fmin(H, r[1] + r[3]));
    }
    size_t nx = axis_coords(xs, n, tol), ny = axis_coords(ys, n, tol);
    size_t cx = nx - 1, cy = ny - 1;
    cov = calloc((cx && cy) ? cx * cy : 1, 1);
    open = malloc((cx + 1) * sizeof *open);
    next = malloc((cx + 1) * sizeof *next);
    if (!cov || !open || !next) goto out;
    for (size_t u = 0; u < c->n_units; u++) {
        if (c->units[u].die != die) continue;
        const double *r = c->units[u].rect_mm;
        size_t i0 = axis_find(xs, nx, r[0]), i1 = axis_find(xs, nx, r[0] + r[2]);
        size_t j0 = axis_find(ys, ny, r[1]), j1 = axis_find(ys, ny, r[1] + r[3]);
        for (size_t j = j0; j < j1; j++)
            for (size_t i = i0; i < i1; i++) cov[j * cx + i] = 1;
    }
    size_t n_open = 0, k = 0;
    char name[64];
    for (size_t j = 0; j <= cy; j++) {
        size_t n_next = 0;
        if (j < cy)
            for (size_t i = 0; i < cx;) {
                if (cov[j * cx + i]) { i++; continue; }
                size_t a = i;
                while (i < cx && !cov[j * cx + i]) i++;
                next[n_next++] = (run){a, i, j};
            }
        /* runs that continue keep their start band; the others close */
        for (size_t p = 0; p < n_open; p++) {
            int cont = 0;
            for (size_t q = 0; q < n_next; q++)
                if (next[q].a == open[p].a && next[q].b == open[p].b) { next[q].j0 = open[p].j0; cont = 1; }
            if (cont) continue;
            double r[4] = {xs[open[p].a], ys[open[p].j0], xs[open[p].b] - xs[open[p].a], ys[j] - ys[open[p].j0]};
            /* unique across the dies: chipN.ptrace lists every die's blocks */
            int len = die == (size_t)-1 ? snprintf(name, sizeof name, FILL "%zu", k++)
                                        : snprintf(name, sizeof name, FILL "_d%d_%zu", c->dies[die].id, k++);
            if (flp_add(f, cap, name, (size_t)len, r, -1)) goto out;
        }
        memcpy(open, next, n_next * sizeof *open);
        n_open = n_next;
    }
    rc = 0;
out:
    free(xs); free(ys); free(cov); free(open); free(next);
    return rc;
}

/* A unit as the two orders below see it (qsort passes no context). */
typedef struct clash_key {
    const char *name;
    size_t die, u;
    double x0;
} clash_key;

static int by_name_nocase(const void *x, const void *y)
{
    return strcasecmp(((const clash_key *)x)->name, ((const clash_key *)y)->name);
}

static int by_die_left(const void *x, const void *y)
{
    const clash_key *a = x, *b = y;
    if (a->die != b->die) return a->die < b->die ? -1 : 1;
    return (a->x0 > b->x0) - (a->x0 < b->x0);
}

static void clash_pair(size_t p, size_t q, size_t *a, size_t *b)
{
    *a = p < q ? p : q;
    *b = p < q ? q : p;
}

int thermal_flp_chip_clash(const sio_chip *c, size_t *a, size_t *b, int *overlap)
{
    size_t n = c->n_units;
    clash_key *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) return -1;
    for (size_t i = 0; i < n; i++) k[i] = (clash_key){c->units[i].name, c->units[i].die, i, c->units[i].rect_mm[0]};
    int found = 0;
    qsort(k, n, sizeof *k, by_name_nocase);
    for (size_t i = 1; i < n && !found; i++)
        if (!strcasecmp(k[i - 1].name, k[i].name)) {
            clash_pair(k[i - 1].u, k[i].u, a, b);
            *overlap = 0;
            found = 1;
        }
    /* a sweep over each die's units by left edge: each meets only those
    ** that start before it ends */
    double eps = 1e-9 * (c->outline_mm[0] > c->outline_mm[1] ? c->outline_mm[0] : c->outline_mm[1]);
    qsort(k, n, sizeof *k, by_die_left);
    for (size_t i = 0; i < n && !found; i++) {
        const double *p = c->units[k[i].u].rect_mm;
        for (size_t j = i + 1; j < n && !found; j++) {
            const double *q = c->units[k[j].u].rect_mm;
            if (k[j].die != k[i].die || q[0] >= p[0] + p[2] - eps) break;
            double w = fmin(p[0] + p[2], q[0] + q[2]) - q[0];
            double h = fmin(p[1] + p[3], q[1] + q[3]) - fmax(p[1], q[1]);
            if (w > eps && h > eps) {
                clash_pair(k[i].u, k[j].u, a, b);
                *overlap = 1;
                found = 1;
            }
        }
    }
    free(k);
    return found;
}

int thermal_flp_from_chip(const sio_chip *c, size_t die, thermal_flp **out)
{
    *out = NULL;
    thermal_flp *f = calloc(1, sizeof *f);
    size_t cap = 0;
    if (!f) return SIO_ENOMEM;
    if (die == (size_t)-1) {
        double r[4] = {0, 0, c->outline_mm[0], c->outline_mm[1]};
        if (flp_add(f, &cap, "outline", 7, r, -1)) goto oom;
    } else {
        for (size_t u = 0; u < c->n_units; u++)
            if (c->units[u].die == die &&
                flp_add(f, &cap, c->units[u].name, strlen(c->units[u].name), c->units[u].rect_mm, (long)u))
                goto oom;
        if (add_fillers(c, die, f, &cap)) goto oom;
    }
    *out = f;
    return SIO_OK;
oom:
    thermal_flp_free(f);
    return SIO_ENOMEM;
}

int thermal_flp_write(FILE *f, const thermal_flp *flp, const char *comment)
{
    fprintf(f, "# %s\n# Line Format: <unit-name>\\t<width>\\t<height>\\t<left-x>\\t<bottom-y>, metres\n",
            comment ? comment : "floorplan written by pda");
    for (size_t k = 0; k < flp->n; k++) {
        const double *r = flp->blocks[k].rect_mm;
        fprintf(f, "%s\t%.9g\t%.9g\t%.9g\t%.9g\n", flp->blocks[k].name, r[2] * 1e-3, r[3] * 1e-3, r[0] * 1e-3,
                r[1] * 1e-3);
    }
    return ferror(f) ? -1 : 0;
}

int thermal_ptrace_header(FILE *f, const thermal_flp *const *flps, size_t n)
{
    int first = 1;
    for (size_t d = 0; d < n; d++)
        for (size_t k = 0; k < flps[d]->n; k++) {
            fprintf(f, "%s%s", first ? "" : "\t", flps[d]->blocks[k].name);
            first = 0;
        }
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

int thermal_ptrace_row(FILE *f, const thermal_flp *const *flps, size_t n, const double *unit_power_w)
{
    int first = 1;
    for (size_t d = 0; d < n; d++)
        for (size_t k = 0; k < flps[d]->n; k++) {
            long u = flps[d]->blocks[k].unit;
            fprintf(f, "%s%.9g", first ? "" : "\t", u >= 0 ? unit_power_w[u] : 0.0);
            first = 0;
        }
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

void thermal_ptrace_size(const thermal_flp *const *flps, size_t n, size_t *cols, size_t *line)
{
    size_t nc = 0, head = 0, row = 0;
    for (size_t d = 0; d < n; d++)
        for (size_t k = 0; k < flps[d]->n; k++) {
            nc++;
            head += strlen(flps[d]->blocks[k].name) + 1;
            row += flps[d]->blocks[k].unit >= 0 ? 16 : 2;   /* "%.9g" of a power >= 0: 15 bytes at most */
        }
    *cols = nc;
    *line = head > row ? head : row;
}

int thermal_hotspot_grid_pow2(size_t nx, size_t ny) { return !(nx & (nx - 1)) && !(ny & (ny - 1)); }

int thermal_lcf_write(FILE *f, const sio_chip *c, const char *const *flp_of_layer)
{
    fprintf(f, "# HotSpot layer configuration of %s, written by pda; layer 0 at the bottom (board side).\n"
               "# Per layer: index, lateral heat flow Y/N, power Y/N, heat capacity J/(m^3.K),\n"
               "# resistivity m.K/W (1/k), thickness m, floorplan file.\n",
            c->name);
    for (size_t l = 0; l < c->thermal.n_layers; l++) {
        const sio_layer *L = &c->thermal.layers[l];
        fprintf(f, "\n# Layer %zu: %s\n%zu\nY\n%s\n%.9g\n%.9g\n%.9g\n%s\n", l, L->name, l, L->has_die ? "Y" : "N",
                L->cv_j_m3k, 1.0 / L->k_w_mk, L->thickness_m, flp_of_layer[l]);
    }
    return ferror(f) ? -1 : 0;
}

int thermal_hotspot_config_write(FILE *f, const sio_chip *c, size_t nx, size_t ny, double frame_s)
{
    const sio_thermal *t = &c->thermal;
    double w = c->outline_mm[0] * 1e-3, h = c->outline_mm[1] * 1e-3, area = w * h, side = w > h ? w : h;
    double amb_k = t->ambient_c + 273.15;
    fprintf(f, "# HotSpot configuration of %s, written by pda (hotspot -c this -f outline.flp -p chipN.ptrace\n"
               "# -grid_layer_file stack.lcf ...). pda cools the top of the stack through h_top_w_m2k = %.9g W/(m^2.K)\n"
               "# over the %.9g x %.9g mm outline: HotSpot's convection resistance 1 / (h A). Its spreader and sink\n"
               "# are made thin, very conductive and without heat capacity so that they add nothing to that path.\n",
            c->name, t->h_top_w_m2k, c->outline_mm[0], c->outline_mm[1]);
    if (!thermal_hotspot_grid_pow2(nx, ny))
        fprintf(f, "# HotSpot's grid model takes rows and columns that are not powers of two only when built with\n"
                   "# SuperLU (SUPERLU=1); its default build refuses %zu rows x %zu columns (export with --grid, e.g. 64,64).\n",
                ny, nx);
    fprintf(f, "-model_type grid\n-grid_layer_file stack.lcf\n-grid_rows %zu\n-grid_cols %zu\n", ny, nx);
    fprintf(f, "-ambient %.9g\n-init_temp %.9g\n", amb_k, amb_k);
    fprintf(f, "-r_convec %.9g\n-c_convec %.9g\n", 1.0 / (t->h_top_w_m2k * area), 1e-9);
    fprintf(f, "-s_spreader %.9g\n-t_spreader %.9g\n-k_spreader %.9g\n-p_spreader %.9g\n", side, 1e-6, 1e5, 1.0);
    fprintf(f, "-s_sink %.9g\n-t_sink %.9g\n-k_sink %.9g\n-p_sink %.9g\n", side, 1e-6, 1e5, 1.0);
    if (t->h_bottom_w_m2k > 0)
        fprintf(f, "# the bottom (board side) through h_bottom_w_m2k = %.9g W/(m^2.K): HotSpot's secondary path\n"
                   "-model_secondary 1\n-r_convec_sec %.9g\n-c_convec_sec %.9g\n",
                t->h_bottom_w_m2k, 1.0 / (t->h_bottom_w_m2k * area), 1e-9);
    fprintf(f, "-sampling_intvl %.9g\n-base_proc_freq %.9g\n-dtm_used 0\n", frame_s, c->clock_ghz * 1e9);
    return ferror(f) ? -1 : 0;
}

/* ---- reader ------------------------------------------------------------------ */

int thermal_flp_name_reads_back(const char *name)
{
    return !strchr(name, '#') && strncmp(name, FILL, FILL_LEN) != 0;
}

int thermal_flp_load(const char *path, thermal_flp **out, sio_error *err)
{
    *out = NULL;
    FILE *in = fopen(path, "r");
    if (!in) {
        sio_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return SIO_EIO;
    }
    thermal_flp *f = calloc(1, sizeof *f);
    size_t cap = 0, len = 0;
    char *line = NULL;
    int rc = SIO_OK, lineno = 0;
    if (!f) { rc = SIO_ENOMEM; goto done; }
    ssize_t got;
    while ((got = getline(&line, &len, in)) != -1) {
        lineno++;
        const char *tok[8];
        size_t tl[8];
        int col[8], nt = 0;
        if (strlen(line) < (size_t)got) {   /* the text would end at it, and what follows be lost */
            sio_error_set(err, path, lineno, (int)strlen(line) + 1, "NUL byte in the floorplan");
            rc = SIO_EINPUT;
            goto done;
        }
        char *p0 = line;
        if (lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3)) p0 += 3;   /* a UTF-8 byte order mark */
        for (char *p = p0; *p && *p != '#';) {
            if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') { p++; continue; }
            char *q = p;
            while (*q && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n' && *q != '#') q++;
            if (nt == 8) {
                sio_error_set(err, path, lineno, (int)(p - line) + 1, "too many fields (a block is "
                              "'name width height left bottom')");
                rc = SIO_EINPUT;
                goto done;
            }
            tok[nt] = p; tl[nt] = (size_t)(q - p); col[nt++] = (int)(p - line) + 1;
            p = q;
        }
        if (nt == 0 || nt == 3) continue;   /* blank, comment, or a wire-density line */
        if (nt < 5 || nt > 7) {
            sio_error_set(err, path, lineno, col[0], "expected 'name width height left bottom' (metres), got %d "
                          "field%s", nt, nt == 1 ? "" : "s");
            rc = SIO_EINPUT;
            goto done;
        }
        double v[4];
        for (int k = 0; k < 4; k++) {
            char buf[64], *end;
            if (tl[k + 1] >= sizeof buf) tl[k + 1] = sizeof buf - 1;
            memcpy(buf, tok[k + 1], tl[k + 1]);
            buf[tl[k + 1]] = 0;
            errno = 0;
            v[k] = strtod(buf, &end);
            static const char *what[4] = {"width", "height", "left", "bottom"};
            if (end == buf || *end || errno || !isfinite(v[k])) {
                sio_error_set(err, path, lineno, col[k + 1], "%s is not a number: '%s'", what[k], buf);
                rc = SIO_EINPUT;
                goto done;
            }
            if (k < 2 ? !(v[k] > 0) : v[k] < 0) {
                sio_error_set(err, path, lineno, col[k + 1], "%s must be %s, not %s", what[k],
                              k < 2 ? "> 0" : ">= 0", buf);
                rc = SIO_EINPUT;
                goto done;
            }
            /* a chip's scale: nanometres to a metre (outside it the units' millimetres lose their digits) */
            if (v[k] > FLP_MAX_M || (k < 2 && v[k] < FLP_MIN_M)) {
                sio_error_set(err, path, lineno, col[k + 1], "%s %s m is out of a chip's scale (%g to %g m)",
                              what[k], buf, k < 2 ? FLP_MIN_M : 0.0, FLP_MAX_M);
                rc = SIO_EINPUT;
                goto done;
            }
        }
        /* the name as the chip description takes one */
        size_t bad = sio_name_bad(tok[0], tl[0]);
        if (bad < tl[0]) {
            sio_error_set(err, path, lineno, col[0] + (int)bad, "a block name may not hold commas, double quotes "
                          "or control characters");
            rc = SIO_EINPUT;
            goto done;
        }
        if (!sio_utf8_valid(tok[0], tl[0])) {
            sio_error_set(err, path, lineno, col[0], "a block name must be UTF-8 text");
            rc = SIO_EINPUT;
            goto done;
        }
        if (tl[0] >= FILL_LEN && !strncmp(tok[0], FILL, FILL_LEN)) continue;
        for (size_t k = 0; k < f->n; k++)
            if (strlen(f->blocks[k].name) == tl[0] && !memcmp(f->blocks[k].name, tok[0], tl[0])) {
                sio_error_set(err, path, lineno, col[0], "duplicate block name '%s'", f->blocks[k].name);
                rc = SIO_EINPUT;
                goto done;
            }
        double r[4] = {v[2] * 1e3, v[3] * 1e3, v[0] * 1e3, v[1] * 1e3};
        if (flp_add(f, &cap, tok[0], tl[0], r, -1)) { rc = SIO_ENOMEM; goto done; }
    }
    if (ferror(in)) {
        sio_error_set(err, path, 0, 0, "read error");
        rc = SIO_EIO;
    } else if (!f->n) {   /* HotSpot refuses such a floorplan too; a chip needs a unit */
        sio_error_set(err, path, 0, 0, "no blocks (only fillers '_fill...', comments or blank lines): a floorplan needs a unit");
        rc = SIO_EINPUT;
    }
done:
    if (rc == SIO_ENOMEM) sio_error_set(err, path, 0, 0, "out of memory");
    free(line);
    fclose(in);
    if (rc) thermal_flp_free(f);
    else *out = f;
    return rc;
}
