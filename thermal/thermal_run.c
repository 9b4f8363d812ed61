/* thermal_run.c -- frame energies of a schedule, die power maps, unit
** temperatures and hotspot tracking (see thermal_run.h for the rules).
**
** Frame energies: one pass over the chip's ops; an op adds its exact charge
** (current_op_avg over its overlap with each frame it touches, or its whole
** charge when it lies inside one frame) to those frames only, so the work is
** O(ops + frames x units), never per ns. Idle current adds idle_a x vdd x the
** frame's overlap with [0, makespan).
**
** Hotspot tracker: per die the owner of each cell in the previous map (a
** hotspot id, or NONE). A region of the new map that shares a cell with an
** owned cell joins that hotspot; a region touching several hotspots merges
** them (union-find over hotspot records). Each record keeps its peak and a
** footprint bitmap over its bounding box, grown as regions join; merging
** ORs the bitmaps. Stacked links are pairs of hotspot ids seen on the same
** cell of two dies in the same map, resolved to roots at finish.
** Memory: 2 x nx*ny ints per die, one bitmap per hotspot (its bounding box),
** and the link pairs (deduplicated run by run). */
#include "thermal_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "thermal.h"
#include "thermal_leak.h"

#define NONE ((size_t)-1)

const char *thermal_run_strerror(int rc) { return pda_strerror(rc); }

size_t thermal_run_n_frames(double makespan_ns, double frame_ns)
{
    if (!(makespan_ns > 0) || !(frame_ns > 0)) return 0;
    double n = ceil(makespan_ns / frame_ns);
    /* an op ending exactly on a frame boundary adds no frame */
    return n < 1 ? 1 : (size_t)n;
}

/* The row of frame f: f itself, or (with a list of frames) its index in
** fr[0..nfr), searched from *at; NONE when f is not listed. */
static size_t frame_row(const size_t *fr, size_t nfr, size_t f, size_t *at)
{
    if (!fr) return f;
    size_t lo = *at < nfr && fr[*at] <= f ? *at : 0, hi = nfr;
    while (lo < hi) {   /* the first listed frame >= f */
        size_t mid = lo + (hi - lo) / 2;
        if (fr[mid] < f) lo = mid + 1;
        else hi = mid;
    }
    *at = lo;
    return lo < nfr && fr[lo] == f ? lo : NONE;
}

/* Adds the energy of op i to the frames it overlaps: to their rows of e
** (frame_row). */
static int op_energy(const sio_chip *c, const sio_schedule *s, size_t i, double T, double F, size_t n_frames,
                     const size_t *fr, size_t nfr, double *e)
{
    size_t u = s->unit[i], nu = c->n_units, at = 0, row;
    double vdd = c->rails[c->units[u].rail].vdd_v;
    double t0 = (double)s->start_cyc[i] * T, t1 = (double)(s->start_cyc[i] + s->cycles[i]) * T;
    double ff0 = floor(t0 / F);
    if (ff0 < 0 || ff0 >= (double)n_frames) return THERMAL_RUN_EINVAL;
    size_t f0 = (size_t)ff0, f1 = f0;
    double ff1 = floor(t1 / F);
    f1 = ff1 >= (double)n_frames ? n_frames - 1 : (size_t)ff1;
    if (f1 == f0 || (f1 == f0 + 1 && (double)f1 * F >= t1)) {
        if ((row = frame_row(fr, nfr, f0, &at)) == NONE) return THERMAL_RUN_EINVAL;
        e[row * nu + u] += vdd * current_op_charge(c, s, i) * 1e-9;
        return THERMAL_RUN_OK;
    }
    for (size_t f = f0; f <= f1; f++) {
        double a = fmax(t0, (double)f * F), b = fmin(t1, (double)(f + 1) * F);
        if (!(b > a)) continue;
        if ((row = frame_row(fr, nfr, f, &at)) == NONE) return THERMAL_RUN_EINVAL;
        e[row * nu + u] += vdd * current_op_avg(c, s, i, a, b) * (b - a) * 1e-9;
    }
    return THERMAL_RUN_OK;
}

int thermal_run_frame_energy_at(const sio_chip *c, const sio_schedule *s, size_t chip, const uint32_t *ops,
                                size_t n_ops, double makespan_ns, double frame_ns, size_t n_frames,
                                const size_t *frames, size_t n_rows, double *energy_j)
{
    if (!c || !s || !energy_j || !(frame_ns > 0) || !(makespan_ns >= 0)) return THERMAL_RUN_EINVAL;
    if ((double)n_frames * frame_ns < makespan_ns * (1 - 1e-12)) return THERMAL_RUN_EINVAL;
    size_t nu = c->n_units;
    memset(energy_j, 0, n_rows * nu * sizeof *energy_j);
    if (n_frames == 0) return THERMAL_RUN_OK;
    double T = sio_chip_period_ns(c), F = frame_ns;
    if (ops) {
        for (size_t k = 0; k < n_ops; k++)
            if (op_energy(c, s, ops[k], T, F, n_frames, frames, n_rows, energy_j)) return THERMAL_RUN_EINVAL;
    } else {
        for (size_t i = 0; i < s->n; i++)
            if (s->chip[i] == chip && op_energy(c, s, i, T, F, n_frames, frames, n_rows, energy_j))
                return THERMAL_RUN_EINVAL;
    }
    for (size_t r = 0; r < n_rows; r++) {
        size_t f = frames ? frames[r] : r;
        double a = (double)f * F, b = fmin(makespan_ns, (double)(f + 1) * F);
        if (b <= a) continue;
        for (size_t u = 0; u < nu; u++) {
            const sio_unit *un = &c->units[u];
            if (un->idle_a != 0) energy_j[r * nu + u] += un->idle_a * c->rails[un->rail].vdd_v * (b - a) * 1e-9;
        }
    }
    return THERMAL_RUN_OK;
}

int thermal_run_frame_energy(const sio_chip *c, const sio_schedule *s, size_t chip, const uint32_t *ops,
                             size_t n_ops, double makespan_ns, double frame_ns, size_t n_frames,
                             double *energy_j)
{
    return thermal_run_frame_energy_at(c, s, chip, ops, n_ops, makespan_ns, frame_ns, n_frames, NULL, n_frames,
                                       energy_j);
}

int thermal_run_power_maps(const sio_chip *c, const double *unit_power_w, size_t nx, size_t ny, double *maps_w)
{
    if (!c || !unit_power_w || !maps_w || !nx || !ny) return THERMAL_RUN_EINVAL;
    size_t cells = nx * ny;
    memset(maps_w, 0, c->n_dies * cells * sizeof *maps_w);
    for (size_t u = 0; u < c->n_units; u++) {
        const sio_unit *un = &c->units[u];
        if (unit_power_w[u] == 0) continue;
        if (thermal_power_map(un->rect_mm, c->outline_mm[0], c->outline_mm[1], nx, ny, unit_power_w[u],
                              maps_w + un->die * cells))
            return THERMAL_RUN_EINVAL;
    }
    return THERMAL_RUN_OK;
}

/* ---- unit temperatures ---------------------------------------------------- */

struct thermal_units {
    size_t n_units, cells;
    size_t *die;       /* n_units */
    size_t *off;       /* n_units + 1 */
    size_t *cell;      /* off[n_units] */
    double *w;         /* overlap area, mm^2 */
};

/* Cells [*i0, *i1) of an axis of n cells of size d overlapping [x0, x1). */
static void axis_range(double x0, double x1, double d, size_t n, size_t *i0, size_t *i1)
{
    double a = floor(x0 / d), b = ceil(x1 / d);
    if (a < 0) a = 0;
    if (b > (double)n) b = (double)n;
    if (b < a) b = a;
    *i0 = (size_t)a;
    *i1 = (size_t)b;
}

static double overlap(double a0, double a1, double b0, double b1)
{
    double v = fmin(a1, b1) - fmax(a0, b0);
    return v > 0 ? v : 0;
}

int thermal_units_create(const sio_chip *c, size_t nx, size_t ny, thermal_units **out)
{
    if (!out) return THERMAL_RUN_EINVAL;
    *out = NULL;
    if (!c || !nx || !ny) return THERMAL_RUN_EINVAL;
    double dx = c->outline_mm[0] / (double)nx, dy = c->outline_mm[1] / (double)ny;
    thermal_units *u = calloc(1, sizeof *u);
    if (!u) return THERMAL_RUN_ENOMEM;
    u->n_units = c->n_units;
    u->cells = nx * ny;
    u->die = malloc((c->n_units + 1) * sizeof *u->die);
    u->off = malloc((c->n_units + 1) * sizeof *u->off);
    size_t total = 0;
    if (!u->die || !u->off) goto oom;
    for (size_t k = 0; k < c->n_units; k++) {
        const double *r = c->units[k].rect_mm;
        size_t x0, x1, y0, y1;
        axis_range(r[0], r[0] + r[2], dx, nx, &x0, &x1);
        axis_range(r[1], r[1] + r[3], dy, ny, &y0, &y1);
        total += (x1 - x0) * (y1 - y0);
    }
    u->cell = malloc((total ? total : 1) * sizeof *u->cell);
    u->w = malloc((total ? total : 1) * sizeof *u->w);
    if (!u->cell || !u->w) goto oom;
    size_t n = 0;
    for (size_t k = 0; k < c->n_units; k++) {
        const double *r = c->units[k].rect_mm;
        u->die[k] = c->units[k].die;
        u->off[k] = n;
        /* overlaps below 1e-9 of a cell, or of the unit when it is smaller,
        ** are the round-off of an edge on a cell's, not cells of the unit */
        double area = r[2] * r[3];
        const double min_w = 1e-9 * (area < dx * dy ? area : dx * dy);
        size_t x0, x1, y0, y1;
        axis_range(r[0], r[0] + r[2], dx, nx, &x0, &x1);
        axis_range(r[1], r[1] + r[3], dy, ny, &y0, &y1);
        for (size_t y = y0; y < y1; y++) {
            double oy = overlap(r[1], r[1] + r[3], (double)y * dy, (double)(y + 1) * dy);
            for (size_t x = x0; x < x1; x++) {
                double w = oy * overlap(r[0], r[0] + r[2], (double)x * dx, (double)(x + 1) * dx);
                if (w <= min_w) continue;
                u->cell[n] = y * nx + x;
                u->w[n++] = w;
            }
        }
    }
    u->off[c->n_units] = n;
    *out = u;
    return THERMAL_RUN_OK;
oom:
    thermal_units_destroy(u);
    return THERMAL_RUN_ENOMEM;
}

void thermal_units_destroy(thermal_units *u)
{
    if (!u) return;
    free(u->die); free(u->off); free(u->cell); free(u->w);
    free(u);
}

void thermal_units_eval(const thermal_units *u, const double *temp_c, double *mean_c, double *max_c)
{
    for (size_t k = 0; k < u->n_units; k++) {
        const double *t = temp_c + u->die[k] * u->cells;
        double sw = 0, st = 0, mx = -INFINITY;
        for (size_t j = u->off[k]; j < u->off[k + 1]; j++) {
            double v = t[u->cell[j]];
            sw += u->w[j];
            st += u->w[j] * v;
            if (v > mx) mx = v;
        }
        mean_c[k] = sw > 0 ? st / sw : NAN;
        max_c[k] = sw > 0 ? mx : NAN;
    }
}

/* ---- leakage ---------------------------------------------------------------- */

void thermal_run_leak_power(const sio_chip *c, const double *t_unit_c, double *leak_w)
{
    const double t_ref = c->thermal.leakage.t_ref_c;
    for (size_t u = 0; u < c->n_units; u++) {
        const sio_unit *un = &c->units[u];
        leak_w[u] = un->leak_a > 0 ? thermal_leak_w(c->rails[un->rail].vdd_v * un->leak_a, un->leak_beta_per_k,
                                                    t_unit_c[u], t_ref)
                                   : 0.0;
    }
}

/* The leaking units' problem (thermal_leak.h): idx lists them (n), a is
** n x n, t0 their temperatures under unit_power_w; scratch maps pm and tm
** (n_dies x cells each), per-unit arrays mean and mx. */
static int leak_build(thermal_plan *plan, const thermal_units *tu, const sio_chip *c, const double *unit_power_w,
                      const size_t *idx, size_t n, double *a, double *t0, double *pm, double *tm, double *mean,
                      double *mx)
{
    size_t nx, ny;
    thermal_plan_size(plan, &nx, &ny, NULL, NULL, NULL);
    const size_t cells = nx * ny, nd = c->n_dies;
    const double amb = c->thermal.ambient_c;
    if (thermal_run_power_maps(c, unit_power_w, nx, ny, pm) || thermal_steady(plan, pm, tm)) return THERMAL_RUN_EINVAL;
    thermal_units_eval(tu, tm, mean, mx);
    for (size_t i = 0; i < n; i++) t0[i] = mean[idx[i]];
    for (size_t j = 0; j < n; j++) {
        const sio_unit *un = &c->units[idx[j]];
        memset(pm, 0, nd * cells * sizeof *pm);
        if (thermal_power_map(un->rect_mm, c->outline_mm[0], c->outline_mm[1], nx, ny, 1.0, pm + un->die * cells) ||
            thermal_steady(plan, pm, tm))
            return THERMAL_RUN_EINVAL;
        thermal_units_eval(tu, tm, mean, mx);
        /* a rise per watt is > 0 (heat reaches every unit): a negative is round-off */
        for (size_t i = 0; i < n; i++) a[i * n + j] = fmax(mean[idx[i]] - amb, 0.0);
    }
    return THERMAL_RUN_OK;
}

/* The fixed point without the matrix (want_factor 0): Anderson
** acceleration (depth ANDERSON_M, the least-squares step by normal
** equations) of T <- G(T) on the leaking units' temperatures, one steady
** solve per step, from T0; it stops when a step's residual |G(T) - T| is
** at most 1e-7 K everywhere. Runaway only by divergence: a temperature past
** THERMAL_LEAK_T_MAX_C, or no convergence in ANDERSON_MAX steps. */
#define ANDERSON_M 5
#define ANDERSON_MAX 200
typedef struct leak_ctx {
    thermal_plan *plan;
    const thermal_units *tu;
    const sio_chip *c;
    const double *base;        /* the maps of the units' other power */
    size_t maps;               /* doubles in a set of die maps */
    const size_t *idx;
    size_t n;
    const double *pref, *beta;
    double *pm, *tm, *mean, *mx;
} leak_ctx;

/* g = the leaking units' mean temperatures under the power with leakage at
** x (NULL: none). A unit's leakage is spread by its overlap weights (the
** overlap areas of thermal_power_map, but for overlaps under 1e-9 of a
** cell or of the unit, which thermal_units drops), without recomputing the overlaps. */
static int leak_g(const leak_ctx *k, const double *x, double *g)
{
    const thermal_units *u = k->tu;
    memcpy(k->pm, k->base, k->maps * sizeof *k->pm);
    for (size_t i = 0; x && i < k->n; i++) {
        const size_t un = k->idx[i];
        double sw = 0;
        for (size_t q = u->off[un]; q < u->off[un + 1]; q++) sw += u->w[q];
        double s = thermal_leak_w(k->pref[i], k->beta[i], x[i], k->c->thermal.leakage.t_ref_c) / sw;
        double *m = k->pm + u->die[un] * u->cells;
        for (size_t q = u->off[un]; q < u->off[un + 1]; q++) m[u->cell[q]] += s * u->w[q];
    }
    if (thermal_steady(k->plan, k->pm, k->tm)) return THERMAL_RUN_EINVAL;
    for (size_t i = 0; i < k->n; i++) {   /* the leaking units' means only */
        const size_t un = k->idx[i];
        const double *t = k->tm + u->die[un] * u->cells;
        double sw = 0, st = 0;
        for (size_t q = u->off[un]; q < u->off[un + 1]; q++) {
            sw += u->w[q];
            st += u->w[q] * t[u->cell[q]];
        }
        g[i] = st / sw;
    }
    return THERMAL_RUN_OK;
}

static int leak_anderson(const leak_ctx *k, double *x, size_t *iterations, int *runaway)
{
    const size_t n = k->n, m = ANDERSON_M;
    double *w = malloc((2 * m + 4) * n * sizeof *w);
    if (!w) return THERMAL_RUN_ENOMEM;
    double *dx = w, *df = w + m * n, *g = w + 2 * m * n, *f = g + n, *xp = f + n, *fp = xp + n;
    int rc = leak_g(k, NULL, x);   /* T0 */
    *runaway = 0;
    for (size_t it = 0; !rc; it++) {
        *iterations = it + 1;
        if ((rc = leak_g(k, x, g))) break;
        double res = 0;
        for (size_t i = 0; i < n; i++) {
            f[i] = g[i] - x[i];
            res = fmax(res, isfinite(f[i]) ? fabs(f[i]) : INFINITY);
        }
        if (res <= 1e-7) { memcpy(x, g, n * sizeof *x); break; }
        if (it + 1 >= ANDERSON_MAX || !(res < THERMAL_LEAK_T_MAX_C)) { *runaway = 1; break; }
        size_t slot = (it + m - 1) % m, mk = it < m ? it : m;
        if (it) {
            for (size_t i = 0; i < n; i++) {
                dx[slot * n + i] = x[i] - xp[i];
                df[slot * n + i] = f[i] - fp[i];
            }
        }
        memcpy(xp, x, n * sizeof *x);
        memcpy(fp, f, n * sizeof *f);
        /* gamma = argmin |f - dF gamma|: the mk x mk normal equations, Cholesky with a whisper of ridge */
        double a[ANDERSON_M * ANDERSON_M], b[ANDERSON_M], tr = 0;
        for (size_t p = 0; p < mk; p++) {
            b[p] = 0;
            for (size_t i = 0; i < n; i++) b[p] += df[p * n + i] * f[i];
            for (size_t q = 0; q <= p; q++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) s += df[p * n + i] * df[q * n + i];
                a[p * m + q] = a[q * m + p] = s;
            }
            tr += a[p * m + p];
        }
        int ok = 1;
        for (size_t p = 0; p < mk && ok; p++) {
            a[p * m + p] += 1e-13 * tr;
            for (size_t q = 0; q < p; q++) a[p * m + p] -= a[p * m + q] * a[p * m + q];
            if (!(a[p * m + p] > 0)) { ok = 0; break; }
            a[p * m + p] = sqrt(a[p * m + p]);
            for (size_t r = p + 1; r < mk; r++) {
                for (size_t q = 0; q < p; q++) a[r * m + p] -= a[r * m + q] * a[p * m + q];
                a[r * m + p] /= a[p * m + p];
            }
        }
        if (ok) {
            for (size_t p = 0; p < mk; p++) {
                for (size_t q = 0; q < p; q++) b[p] -= a[p * m + q] * b[q];
                b[p] /= a[p * m + p];
            }
            for (size_t p = mk; p-- > 0;) {
                for (size_t q = p + 1; q < mk; q++) b[p] -= a[q * m + p] * b[q];
                b[p] /= a[p * m + p];
            }
        }
        for (size_t i = 0; i < n; i++) {
            double v = g[i];
            for (size_t p = 0; ok && p < mk; p++) v -= (dx[p * n + i] + df[p * n + i]) * b[p];
            x[i] = v;
        }
    }
    free(w);
    return rc;
}

int thermal_run_leak_steady(thermal_plan *plan, const thermal_units *tu, const sio_chip *c,
                            const double *unit_power_w, int want_factor, double *leak_w, thermal_leak_steady *out)
{
    if (!plan || !tu || !c || !unit_power_w || !leak_w || !out) return THERMAL_RUN_EINVAL;
    const size_t nu = c->n_units;
    *out = (thermal_leak_steady){.runaway_factor = want_factor ? INFINITY : NAN};
    memset(leak_w, 0, nu * sizeof *leak_w);
    size_t n = 0;
    for (size_t u = 0; u < nu; u++) n += c->units[u].leak_a > 0;
    out->n_leaking = n;
    if (!n) return THERMAL_RUN_OK;
    size_t nx, ny;
    thermal_plan_size(plan, &nx, &ny, NULL, NULL, NULL);
    const size_t maps = c->n_dies * nx * ny;
    size_t *idx = malloc(n * sizeof *idx);
    double *a = malloc((want_factor ? n * n : maps) * sizeof *a), *v = malloc((5 * n + 2 * nu) * sizeof *v);
    double *pm = malloc(2 * maps * sizeof *pm);
    int rc = THERMAL_RUN_ENOMEM;
    if (!idx || !a || !v || !pm) goto out;
    double *t0 = v, *pref = v + n, *beta = v + 2 * n, *t = v + 3 * n, *lw = v + 4 * n, *mean = v + 5 * n,
           *mx = mean + nu;
    n = 0;
    for (size_t u = 0; u < nu; u++) {
        const sio_unit *un = &c->units[u];
        if (!(un->leak_a > 0)) continue;
        pref[n] = c->rails[un->rail].vdd_v * un->leak_a;
        beta[n] = un->leak_beta_per_k;
        idx[n++] = u;
    }
    if (!want_factor) {
        double *base = a;
        if (thermal_run_power_maps(c, unit_power_w, nx, ny, base)) { rc = THERMAL_RUN_EINVAL; goto out; }
        leak_ctx k = {plan, tu, c, base, maps, idx, n, pref, beta, pm, pm + maps, mean, mx};
        if ((rc = leak_anderson(&k, t, &out->iterations, &out->runaway))) goto out;
        for (size_t i = 0; i < n; i++) lw[i] = thermal_leak_w(pref[i], beta[i], t[i], c->thermal.leakage.t_ref_c);
    } else {
        if ((rc = leak_build(plan, tu, c, unit_power_w, idx, n, a, t0, pm, pm + maps, mean, mx))) goto out;
        thermal_leak_problem p = {.n = n, .a_k_per_w = a, .t0_c = t0, .p_ref_w = pref, .beta_per_k = beta,
                                  .t_ref_c = c->thermal.leakage.t_ref_c};
        if ((rc = thermal_leak_solve(&p, 1.0, NULL, t, lw, &out->iterations, &out->runaway))) goto out;
        if ((rc = thermal_leak_runaway_factor(&p, &out->runaway_factor))) goto out;
    }
    for (size_t i = 0; i < n; i++) {
        leak_w[idx[i]] = lw[i];
        out->total_w += lw[i];
    }
out:
    free(idx); free(a); free(v); free(pm);
    return rc == PDA_ENOMEM ? THERMAL_RUN_ENOMEM : rc ? THERMAL_RUN_EINVAL : THERMAL_RUN_OK;
}

/* ---- region labelling ------------------------------------------------------ */

static int label_with(const double *t, size_t nx, size_t ny, double thr, int32_t *lab, size_t *stack,
                      size_t *n_regions)
{
    size_t cells = nx * ny, nreg = 0;
    for (size_t k = 0; k < cells; k++) lab[k] = 0;
    for (size_t k0 = 0; k0 < cells; k0++) {
        if (lab[k0] || !(t[k0] > thr)) continue;
        if (nreg >= INT32_MAX) return THERMAL_RUN_EINVAL;
        int32_t id = (int32_t)++nreg;
        size_t sp = 0;
        stack[sp++] = k0;
        lab[k0] = id;
        while (sp) {
            size_t k = stack[--sp], x = k % nx, y = k / nx;
            size_t nb[4];
            int m = 0;
            if (x > 0) nb[m++] = k - 1;
            if (x + 1 < nx) nb[m++] = k + 1;
            if (y > 0) nb[m++] = k - nx;
            if (y + 1 < ny) nb[m++] = k + nx;
            for (int q = 0; q < m; q++)
                if (!lab[nb[q]] && t[nb[q]] > thr) { lab[nb[q]] = id; stack[sp++] = nb[q]; }
        }
    }
    *n_regions = nreg;
    return THERMAL_RUN_OK;
}

int thermal_label_regions(const double *temp_c, size_t nx, size_t ny, double thr_c, int32_t *label,
                          size_t *n_regions)
{
    if (!temp_c || !label || !n_regions || !nx || !ny) return THERMAL_RUN_EINVAL;
    size_t *stack = malloc(nx * ny * sizeof *stack);
    if (!stack) return THERMAL_RUN_ENOMEM;
    int rc = label_with(temp_c, nx, ny, thr_c, label, stack, n_regions);
    free(stack);
    return rc;
}

/* ---- hotspot tracker --------------------------------------------------------- */

typedef struct hs_rec {
    size_t parent;              /* union-find */
    size_t die;
    double peak_c, t_peak_ns;
    int64_t peak_frame, first, last;
    size_t peak_cell;
    size_t bx0, by0, bx1, by1;  /* footprint bounding box, cells, [0, 1) */
    unsigned char *bits;        /* (bx1-bx0) x (by1-by0) */
} hs_rec;

typedef struct hs_pair { size_t a, b; } hs_pair;

typedef struct region {        /* per region of the current map */
    size_t hs;
    double max_c;
    size_t max_cell;
    size_t x0, y0, x1, y1;
} region;

struct thermal_hotspots {
    size_t n_dies, nx, ny;
    double dx, dy, thr;
    int64_t next_frame;
    int finished;
    size_t *owner;              /* n_dies x cells: hotspot id or NONE */
    int32_t *lab;               /* cells scratch */
    size_t *stack;              /* cells scratch */
    region *reg;
    size_t cap_reg;
    hs_rec *rec;
    size_t n_rec, cap_rec;
    hs_pair *pair;
    size_t n_pair, cap_pair;
    thermal_hotspot *list;      /* after finish */
    size_t n_list;
    size_t *list_rec;           /* record of list entry k */
    size_t *with;               /* the flat stacked_with arrays */
};

int thermal_hotspots_create(size_t n_dies, size_t nx, size_t ny, double width_mm, double height_mm,
                            double thr_c, thermal_hotspots **out)
{
    if (!out) return THERMAL_RUN_EINVAL;
    *out = NULL;
    if (!n_dies || !nx || !ny || !(width_mm > 0) || !(height_mm > 0) || !isfinite(thr_c)) return THERMAL_RUN_EINVAL;
    thermal_hotspots *h = calloc(1, sizeof *h);
    if (!h) return THERMAL_RUN_ENOMEM;
    size_t cells = nx * ny;
    h->n_dies = n_dies;
    h->nx = nx;
    h->ny = ny;
    h->dx = width_mm / (double)nx;
    h->dy = height_mm / (double)ny;
    h->thr = thr_c;
    h->next_frame = -1;
    h->owner = malloc(n_dies * cells * sizeof *h->owner);
    h->lab = malloc(cells * sizeof *h->lab);
    h->stack = malloc(cells * sizeof *h->stack);
    if (!h->owner || !h->lab || !h->stack) {
        thermal_hotspots_destroy(h);
        return THERMAL_RUN_ENOMEM;
    }
    for (size_t k = 0; k < n_dies * cells; k++) h->owner[k] = NONE;
    *out = h;
    return THERMAL_RUN_OK;
}

void thermal_hotspots_destroy(thermal_hotspots *h)
{
    if (!h) return;
    for (size_t k = 0; k < h->n_rec; k++) free(h->rec[k].bits);
    free(h->rec); free(h->owner); free(h->lab); free(h->stack); free(h->reg); free(h->pair);
    free(h->list); free(h->list_rec); free(h->with);
    free(h);
}

static size_t find(hs_rec *r, size_t k)
{
    while (r[k].parent != k) {
        r[k].parent = r[r[k].parent].parent;
        k = r[k].parent;
    }
    return k;
}

/* Grows record r's bounding box to hold [x0,x1) x [y0,y1). */
static int rec_grow(hs_rec *r, size_t x0, size_t y0, size_t x1, size_t y1)
{
    if (r->bits && x0 >= r->bx0 && y0 >= r->by0 && x1 <= r->bx1 && y1 <= r->by1) return 0;
    size_t nx0 = r->bits ? (x0 < r->bx0 ? x0 : r->bx0) : x0, ny0 = r->bits ? (y0 < r->by0 ? y0 : r->by0) : y0;
    size_t nx1 = r->bits ? (x1 > r->bx1 ? x1 : r->bx1) : x1, ny1 = r->bits ? (y1 > r->by1 ? y1 : r->by1) : y1;
    size_t w = nx1 - nx0;
    unsigned char *b = calloc(w * (ny1 - ny0), 1);
    if (!b) return -1;
    if (r->bits) {
        size_t ow = r->bx1 - r->bx0;
        for (size_t y = r->by0; y < r->by1; y++)
            memcpy(b + (y - ny0) * w + (r->bx0 - nx0), r->bits + (y - r->by0) * ow, ow);
        free(r->bits);
    }
    r->bits = b;
    r->bx0 = nx0; r->by0 = ny0; r->bx1 = nx1; r->by1 = ny1;
    return 0;
}

/* Merges root b into root a. */
static int rec_union(thermal_hotspots *h, size_t a, size_t b)
{
    hs_rec *ra = &h->rec[a], *rb = &h->rec[b];
    if (rec_grow(ra, rb->bx0, rb->by0, rb->bx1, rb->by1)) return -1;
    ra = &h->rec[a];
    size_t wa = ra->bx1 - ra->bx0, wb = rb->bx1 - rb->bx0;
    for (size_t y = rb->by0; y < rb->by1; y++)
        for (size_t x = rb->bx0; x < rb->bx1; x++)
            if (rb->bits[(y - rb->by0) * wb + (x - rb->bx0)]) ra->bits[(y - ra->by0) * wa + (x - ra->bx0)] = 1;
    if (rb->peak_c > ra->peak_c) {
        ra->peak_c = rb->peak_c;
        ra->peak_frame = rb->peak_frame;
        ra->t_peak_ns = rb->t_peak_ns;
        ra->peak_cell = rb->peak_cell;
    }
    if (rb->first < ra->first) ra->first = rb->first;
    if (rb->last > ra->last) ra->last = rb->last;
    free(rb->bits);
    rb->bits = NULL;
    rb->parent = a;
    return 0;
}

static size_t rec_new(thermal_hotspots *h, size_t die, int64_t frame)
{
    if (h->n_rec == h->cap_rec) {
        size_t cap = h->cap_rec ? 2 * h->cap_rec : 64;
        hs_rec *r = realloc(h->rec, cap * sizeof *r);
        if (!r) return NONE;
        h->rec = r;
        h->cap_rec = cap;
    }
    size_t k = h->n_rec++;
    hs_rec *r = &h->rec[k];
    memset(r, 0, sizeof *r);
    r->parent = k;
    r->die = die;
    r->peak_c = -INFINITY;
    r->first = r->last = frame;
    return k;
}

static int pair_add(thermal_hotspots *h, size_t a, size_t b)
{
    if (a > b) { size_t t = a; a = b; b = t; }
    for (size_t k = h->n_pair; k > 0 && k + 8 > h->n_pair; k--)
        if (h->pair[k - 1].a == a && h->pair[k - 1].b == b) return 0;
    if (h->n_pair == h->cap_pair) {
        size_t cap = h->cap_pair ? 2 * h->cap_pair : 64;
        hs_pair *p = realloc(h->pair, cap * sizeof *p);
        if (!p) return -1;
        h->pair = p;
        h->cap_pair = cap;
    }
    h->pair[h->n_pair].a = a;
    h->pair[h->n_pair++].b = b;
    return 0;
}

static int push_die(thermal_hotspots *h, size_t d, int64_t frame, double t_ns, const double *t)
{
    size_t nx = h->nx, cells = nx * h->ny, nreg;
    size_t *own = h->owner + d * cells;
    int32_t *lab = h->lab;
    if (label_with(t, nx, h->ny, h->thr, lab, h->stack, &nreg)) return THERMAL_RUN_EINVAL;
    if (nreg > h->cap_reg) {
        region *r = realloc(h->reg, nreg * sizeof *r);
        if (!r) return THERMAL_RUN_ENOMEM;
        h->reg = r;
        h->cap_reg = nreg;
    }
    region *reg = h->reg;
    for (size_t r = 0; r < nreg; r++) {
        reg[r].hs = NONE;
        reg[r].max_c = -INFINITY;
        reg[r].x0 = reg[r].y0 = (size_t)-1;
        reg[r].x1 = reg[r].y1 = 0;
    }
    /* link to the previous map's hotspots; region stats */
    for (size_t k = 0; k < cells; k++) {
        if (!lab[k]) continue;
        region *g = &reg[lab[k] - 1];
        size_t x = k % nx, y = k / nx;
        if (t[k] > g->max_c) { g->max_c = t[k]; g->max_cell = k; }
        if (x < g->x0) g->x0 = x;
        if (y < g->y0) g->y0 = y;
        if (x + 1 > g->x1) g->x1 = x + 1;
        if (y + 1 > g->y1) g->y1 = y + 1;
        if (own[k] == NONE) continue;
        size_t p = find(h->rec, own[k]);
        if (g->hs == NONE) g->hs = p;
        else {
            size_t q = find(h->rec, g->hs);
            if (q != p) {
                size_t a = q < p ? q : p, b = q < p ? p : q;
                if (rec_union(h, a, b)) return THERMAL_RUN_ENOMEM;
                g->hs = a;
            }
        }
    }
    for (size_t r = 0; r < nreg; r++) {
        size_t k;
        if (reg[r].hs == NONE) {
            if ((k = rec_new(h, d, frame)) == NONE) return THERMAL_RUN_ENOMEM;
        } else k = find(h->rec, reg[r].hs);
        reg[r].hs = k;
        hs_rec *rc = &h->rec[k];
        if (rec_grow(rc, reg[r].x0, reg[r].y0, reg[r].x1, reg[r].y1)) return THERMAL_RUN_ENOMEM;
        if (reg[r].max_c > rc->peak_c) {
            rc->peak_c = reg[r].max_c;
            rc->peak_frame = frame;
            rc->t_peak_ns = t_ns;
            rc->peak_cell = reg[r].max_cell;
        }
        if (frame > rc->last) rc->last = frame;
    }
    /* new owners and footprints */
    for (size_t k = 0; k < cells; k++) {
        if (!lab[k]) { own[k] = NONE; continue; }
        size_t q = reg[lab[k] - 1].hs;
        hs_rec *rc = &h->rec[q];
        size_t x = k % nx, y = k / nx;
        rc->bits[(y - rc->by0) * (rc->bx1 - rc->bx0) + (x - rc->bx0)] = 1;
        own[k] = q;
    }
    return THERMAL_RUN_OK;
}

int thermal_hotspots_push(thermal_hotspots *h, int64_t frame, double t_ns, const double *temp_c)
{
    if (!h || !temp_c || h->finished || frame < h->next_frame) return THERMAL_RUN_EINVAL;
    size_t cells = h->nx * h->ny;
    for (size_t d = 0; d < h->n_dies; d++) {
        int rc = push_die(h, d, frame, t_ns, temp_c + d * cells);
        if (rc) return rc;
    }
    /* simultaneous overlaps across dies */
    for (size_t d1 = 0; d1 < h->n_dies; d1++)
        for (size_t d2 = d1 + 1; d2 < h->n_dies; d2++) {
            const size_t *o1 = h->owner + d1 * cells, *o2 = h->owner + d2 * cells;
            for (size_t k = 0; k < cells; k++)
                if (o1[k] != NONE && o2[k] != NONE &&
                    pair_add(h, find(h->rec, o1[k]), find(h->rec, o2[k])))
                    return THERMAL_RUN_ENOMEM;
        }
    h->next_frame = frame + 1;
    return THERMAL_RUN_OK;
}

typedef struct ord { size_t rec; double peak; size_t die; int64_t first; } ord;

static int ord_cmp(const void *a, const void *b)
{
    const ord *x = a, *y = b;
    if (x->peak != y->peak) return x->peak > y->peak ? -1 : 1;
    if (x->die != y->die) return x->die < y->die ? -1 : 1;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static int pair_cmp(const void *a, const void *b)
{
    const hs_pair *x = a, *y = b;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    return x->b < y->b ? -1 : x->b > y->b;
}

int thermal_hotspots_finish(thermal_hotspots *h)
{
    if (!h) return THERMAL_RUN_EINVAL;
    if (h->finished) return THERMAL_RUN_OK;
    h->finished = 1;
    size_t n = 0;
    for (size_t k = 0; k < h->n_rec; k++) n += h->rec[k].parent == k;
    ord *o = malloc((n ? n : 1) * sizeof *o);
    size_t *idx = malloc((h->n_rec ? h->n_rec : 1) * sizeof *idx);
    h->list = calloc(n ? n : 1, sizeof *h->list);
    h->list_rec = malloc((n ? n : 1) * sizeof *h->list_rec);
    if (!o || !idx || !h->list || !h->list_rec) { free(o); free(idx); return THERMAL_RUN_ENOMEM; }
    n = 0;
    for (size_t k = 0; k < h->n_rec; k++)
        if (h->rec[k].parent == k) o[n++] = (ord){k, h->rec[k].peak_c, h->rec[k].die, h->rec[k].first};
    qsort(o, n, sizeof *o, ord_cmp);
    for (size_t j = 0; j < n; j++) {
        const hs_rec *r = &h->rec[o[j].rec];
        thermal_hotspot *e = &h->list[j];
        idx[o[j].rec] = j;
        h->list_rec[j] = o[j].rec;
        e->die = r->die;
        e->peak_c = r->peak_c;
        e->peak_frame = r->peak_frame;
        e->t_peak_ns = r->t_peak_ns;
        e->peak_x_mm = ((double)(r->peak_cell % h->nx) + 0.5) * h->dx;
        e->peak_y_mm = ((double)(r->peak_cell / h->nx) + 0.5) * h->dy;
        e->first_frame = r->first;
        e->last_frame = r->last;
        size_t w = r->bx1 - r->bx0, cnt = 0;
        double sx = 0, sy = 0;
        for (size_t y = r->by0; y < r->by1; y++)
            for (size_t x = r->bx0; x < r->bx1; x++)
                if (r->bits[(y - r->by0) * w + (x - r->bx0)]) {
                    cnt++;
                    sx += ((double)x + 0.5) * h->dx;
                    sy += ((double)y + 0.5) * h->dy;
                }
        e->area_mm2 = (double)cnt * h->dx * h->dy;
        e->centroid_x_mm = cnt ? sx / (double)cnt : 0;
        e->centroid_y_mm = cnt ? sy / (double)cnt : 0;
    }
    h->n_list = n;
    free(o);
    /* stacked links, by list index, both directions, deduplicated */
    size_t np = 0;
    hs_pair *p = malloc((h->n_pair ? 2 * h->n_pair : 1) * sizeof *p);
    if (!p) { free(idx); return THERMAL_RUN_ENOMEM; }
    for (size_t k = 0; k < h->n_pair; k++) {
        size_t a = idx[find(h->rec, h->pair[k].a)], b = idx[find(h->rec, h->pair[k].b)];
        if (a == b) continue;
        p[np++] = (hs_pair){a, b};
        p[np++] = (hs_pair){b, a};
    }
    free(idx);
    qsort(p, np, sizeof *p, pair_cmp);
    size_t m = 0;
    for (size_t k = 0; k < np; k++)
        if (!m || p[k].a != p[m - 1].a || p[k].b != p[m - 1].b) p[m++] = p[k];
    h->with = malloc((m ? m : 1) * sizeof *h->with);
    if (!h->with) { free(p); return THERMAL_RUN_ENOMEM; }
    for (size_t k = 0; k < m; k++) h->with[k] = p[k].b;
    for (size_t k = 0; k < m;) {
        size_t j = k;
        while (j < m && p[j].a == p[k].a) j++;
        thermal_hotspot *e = &h->list[p[k].a];
        e->stacked = 1;
        e->stacked_with = h->with + k;
        e->n_stacked_with = j - k;
        k = j;
    }
    free(p);
    return THERMAL_RUN_OK;
}

const thermal_hotspot *thermal_hotspots_list(const thermal_hotspots *h, size_t *n)
{
    if (!h || !h->finished) { if (n) *n = 0; return NULL; }
    if (n) *n = h->n_list;
    return h->list;
}

int thermal_hotspots_unit_power(const thermal_hotspots *h, size_t k, const sio_chip *c,
                                const double *unit_power_w, double *under_w)
{
    if (!h || !h->finished || k >= h->n_list || !c || !unit_power_w || !under_w) return THERMAL_RUN_EINVAL;
    const hs_rec *r = &h->rec[h->list_rec[k]];
    size_t w = r->bx1 - r->bx0;
    for (size_t u = 0; u < c->n_units; u++) {
        under_w[u] = 0;
        const sio_unit *un = &c->units[u];
        if (un->die != r->die || unit_power_w[u] == 0) continue;
        const double *q = un->rect_mm;
        size_t x0, x1, y0, y1;
        axis_range(q[0], q[0] + q[2], h->dx, h->nx, &x0, &x1);
        axis_range(q[1], q[1] + q[3], h->dy, h->ny, &y0, &y1);
        if (x0 < r->bx0) x0 = r->bx0;
        if (y0 < r->by0) y0 = r->by0;
        if (x1 > r->bx1) x1 = r->bx1;
        if (y1 > r->by1) y1 = r->by1;
        double a = 0;
        for (size_t y = y0; y < y1; y++) {
            double oy = overlap(q[1], q[1] + q[3], (double)y * h->dy, (double)(y + 1) * h->dy);
            for (size_t x = x0; x < x1; x++)
                if (r->bits[(y - r->by0) * w + (x - r->bx0)])
                    a += oy * overlap(q[0], q[0] + q[2], (double)x * h->dx, (double)(x + 1) * h->dx);
        }
        under_w[u] = unit_power_w[u] * a / (q[2] * q[3]);
    }
    return THERMAL_RUN_OK;
}
