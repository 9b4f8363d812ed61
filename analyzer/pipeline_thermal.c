/* pipeline_thermal.c -- the thermal part of pda_run (the model of
** docs/thermal.md; every file and column is in docs/outputs-thermal.md).
**
** Per chip of the schedule, on one plan shared by all chips (the chips share
** the description): the frame energies of every unit (thermal_run), the
** steady state of the average power, then the transient from it through
** every frame. Each map feeds the peak map (hottest each cell gets, steady
** included), the per-die frame maxima, the unit temperatures and the hotspot
** tracker. The result keeps the steady and peak maps of every chip's dies,
** the frame maxima, the unit temperatures and the hotspots (their files are
** written by pda_result_write). Memory: frames x units energies per chip,
** two maps per chip and die, and frames x dies x chips maxima. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "current.h"
#include "jbuild.h"
#include "pipeline_int.h"
#include "sio.h"
#include "thermal.h"
#include "thermal_run.h"

/* The steady fixed point of every chip, made before the walk so that the
** walk draws each unit's leakage at its steady temperature as extra idle
** current (docs/thermal.md, "Leakage"), and kept for the thermal run. */
struct pda_leak {
    size_t nch, nu;
    double *leak_w;            /* [chip][unit]: leakage at the steady fixed point, W */
    double *leak_a;            /* [chip][unit]: the same as current, A */
    double *uavg;              /* [chip][unit]: the schedule's average power without leakage, W */
    thermal_leak_steady *st;   /* [chip] */
};

typedef struct ushare { size_t u; double w; } ushare;
static int ushare_cmp(const void *a, const void *b)
{
    const ushare *x = a, *y = b;
    return x->w > y->w ? -1 : x->w < y->w;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A system chip's figures from its share that wait for the others
** (pda_thermal_unpack): its hotspots, with the ids they stack with counted
** within the chip, and its dies' summary rows. */
struct chip_pending {
    pda_hotspot *h;
    char **with;
    size_t n;
    json_t *dies;
};

void pda_thermal_free(pda_thermal *t)
{
    if (!t) return;
    for (size_t g = 0; t->pending && g < t->nch; g++) {
        for (size_t k = 0; t->pending[g].with && k < t->pending[g].n; k++) free(t->pending[g].with[k]);
        free(t->pending[g].with);
        free(t->pending[g].h);
        json_decref(t->pending[g].dies);
    }
    free(t->pending);
    free(t->steady); free(t->peak); free(t->png_lo); free(t->png_hi); free(t->fmax); free(t->ut); free(t->hot);
    free(t->fidx); free(t->jump);
    free(t->chip_max_c); free(t->chip_leak_j); free(t->chip_stacked); free(t->chip_iters); free(t->chip_over);
    json_decref(t->dies);
    for (size_t k = 0; k < t->n_strings; k++) free(t->strings[k]);
    free(t->strings);
    free(t);
}

/* Keeps a string the result owns (NULL when out of memory). */
static const char *keep_string(pda_thermal *t, char *str)
{
    if (!str) return NULL;
    char **p = realloc(t->strings, (t->n_strings + 1) * sizeof *p);
    if (!p) { free(str); return NULL; }
    t->strings = p;
    t->strings[t->n_strings++] = str;
    return str;
}

/* Each unit's average power over the makespan, what the steady state is
** of: its ops' charge times vdd over mk_ns, and idle_a times vdd (an empty
** schedule's chip idles). ops NULL: every instruction of s, one pass, into
** out[chip][unit] (s->n_chips rows); else the n_ops listed (one chip's)
** into out[unit]. */
static void unit_avg_w(const sio_chip *c, const sio_schedule *s, const uint32_t *ops, size_t n_ops, double mk_ns,
                       double *out)
{
    const size_t nu = c->n_units, rows = ops ? 1 : (s->n_chips ? s->n_chips : 1);
    for (size_t q = 0; q < rows * nu; q++) out[q] = 0.0;
    for (size_t k = 0; k < (ops ? n_ops : s->n); k++) {
        const size_t i = ops ? ops[k] : k, u = s->unit[i];
        out[(ops ? 0 : s->chip[i]) * nu + u] += current_op_charge(c, s, i) * c->rails[c->units[u].rail].vdd_v;
    }
    for (size_t q = 0; q < rows * nu; q++) {
        const sio_unit *un = &c->units[q % nu];
        out[q] = (mk_ns > 0 ? out[q] / mk_ns : 0.0) + un->idle_a * c->rails[un->rail].vdd_v;
    }
}

/* One thermal run: the sizes, the plan and state shared by every chip, the
** scratch arrays, and what the result keeps (T). */
typedef struct tjob {
    pda_result *r;
    const sio_chip *c;
    sio_error *err;
    size_t nx, ny, cells, nd, nu, nch, nf;
    size_t nfe;                    /* frames evaluated (T->fidx, T->jump) */
    double F, mk_ns;
    pda_thermal *T;
    thermal_plan *plan;
    thermal_state *st;
    thermal_units *tu;
    thermal_hotspots *hs;          /* the chip's hotspots, remade per chip */
    size_t *chip_off;              /* instructions by chip (several chips only) */
    uint32_t *chip_ops;
    double *energy;                /* [frame][unit] (J) of the chip */
    double *upow, *uavg, *under;   /* [unit] */
    double *pm, *temp, *tsum;      /* [die][cell] */
    double *u_smean, *u_smax, *u_mean, *u_max, *u_rsum, *u_rmax, *u_tmax;   /* [unit] */
    ushare *sh;
    json_t *jdies;
    double max_all;
    double leak_e;                 /* leakage energy of the transient's frames, J (all chips) */
    double *u_leak;                /* [unit]: leakage power of the frame, W */
    double *u_start;               /* [unit]: mean temperatures of the state before a pass */
    thermal_state *st0;            /* --periodic: the periodic start being iterated */
    double *lk_a, *lk_b;           /* --periodic with leakage: [frame evaluated][unit] leakage, W */
    size_t periodic_iters;         /* the periodic fixed-point iterations of the last chip */
    int over_limit;
    size_t n_stacked;
} tjob;

/* Frames the transient evaluates: every frame some op overlaps, and in
** each stretch of frames no op overlaps (constant idle power), its first
** THERMAL_EXPLICIT frames, then frames at doubling distances, then its
** last; a frame evaluated after a jump of k frames (T->jump) is reached in
** one closed-form step over the k (thermal_step_n). Without skipping every
** frame, each a jump of 1. */
#define THERMAL_EXPLICIT 1024
/* Appends frame f, reached by a jump of k frames. -1 out of memory. */
static int plan_add(pda_thermal *T, size_t *cap, size_t f, size_t k)
{
    if (T->nfe == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        size_t *a = realloc(T->fidx, nc * sizeof *a);
        if (!a) return -1;
        T->fidx = a;
        size_t *b = realloc(T->jump, nc * sizeof *b);
        if (!b) return -1;
        T->jump = b;
        *cap = nc;
    }
    T->fidx[T->nfe] = f;
    T->jump[T->nfe++] = k;
    return 0;
}

/* The frames [g0, g1) of an idle stretch. */
static int plan_gap(pda_thermal *T, size_t *cap, size_t g0, size_t g1)
{
    size_t f = g0;
    for (; f < g1 && f - g0 < THERMAL_EXPLICIT; f++)
        if (plan_add(T, cap, f, 1)) return -1;
    if (f >= g1) return 0;
    size_t last = f - 1, step = THERMAL_EXPLICIT;
    while (last + step < g1 - 1) {
        if (plan_add(T, cap, last + step, step)) return -1;
        last += step;
        step *= 2;
    }
    return plan_add(T, cap, g1 - 1, g1 - 1 - last);
}

static int cmp_run(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Runs [iv[2k], iv[2k+1]) sorted by start, merged where they overlap or
** touch, in place; their new count. */
static size_t runs_merge(uint64_t *iv, size_t n)
{
    qsort(iv, n, 2 * sizeof *iv, cmp_run);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m && iv[2 * k] <= iv[2 * m - 1]) {
            if (iv[2 * k + 1] > iv[2 * m - 1]) iv[2 * m - 1] = iv[2 * k + 1];
        } else {
            iv[2 * m] = iv[2 * k];
            iv[2 * m + 1] = iv[2 * k + 1];
            m++;
        }
    }
    return m;
}

/* The frames the transient evaluates. The runs of frames some instruction
** overlaps (every op's frames [first, last + 1), merged where they overlap
** or touch), with a system's shares' through opts.frames_combine, then
** every frame of a run and the frames of each idle stretch between
** (plan_gap). -1 out of memory, -2 when frames_combine failed. */
static int frame_plan(tjob *j)
{
    pda_thermal *T = j->T;
    const sio_schedule *s = j->r->s;
    const size_t nf = j->nf, n = s->n;
    size_t cap = 0;
    T->nfe = 0;
    if (!j->r->skip) {
        for (size_t f = 0; f < nf; f++)
            if (plan_add(T, &cap, f, 1)) return -1;
        j->nfe = T->nfe;
        return 0;
    }
    const double Tc = sio_chip_period_ns(j->c), F = j->F;
    uint64_t *iv = malloc((2 * n + 2) * sizeof *iv);
    if (!iv) return -1;
    for (size_t i = 0; i < n; i++) {
        double f0 = floor((double)s->start_cyc[i] * Tc / F);
        double f1 = floor((double)(s->start_cyc[i] + s->cycles[i]) * Tc / F) + 1;
        iv[2 * i] = f0 < 0 ? 0 : f0 >= (double)nf ? nf : (uint64_t)f0;
        iv[2 * i + 1] = f1 >= (double)nf ? nf : (uint64_t)f1;
        if (iv[2 * i + 1] < iv[2 * i]) iv[2 * i + 1] = iv[2 * i];
    }
    size_t m = runs_merge(iv, n);
    const pda_run_opts *o = &j->r->o;
    if (o->frames_combine) {   /* every share's runs */
        uint64_t *all = NULL;
        size_t n_all = 0;
        if (o->frames_combine(o->frames_arg, iv, m, &all, &n_all)) { free(iv); free(all); return -2; }
        free(iv);
        iv = all;
        m = runs_merge(iv, n_all);
    }
    size_t done = 0;   /* frames before this are planned */
    int rc = 0;
    for (size_t k = 0; k < m && !rc; k++) {
        size_t a = (size_t)iv[2 * k], b = (size_t)iv[2 * k + 1];
        if (a > done) rc = plan_gap(T, &cap, done, a);
        for (size_t f = a > done ? a : done; f < b && !rc; f++) rc = plan_add(T, &cap, f, 1);
        if (b > done) done = b;
    }
    if (!rc && done < nf) rc = plan_gap(T, &cap, done, nf);
    free(iv);
    j->nfe = T->nfe;
    return rc;
}

/* The index of frame f among those evaluated (f is one of them). */
static size_t frame_eval(const pda_thermal *T, size_t f)
{
    size_t lo = 0, hi = T->nfe;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (T->fidx[mid] < f) lo = mid + 1;
        else hi = mid;
    }
    return lo < T->nfe ? lo : T->nfe - 1;
}

/* The plan of the chip's stack on nx x ny with frames of frame_s (0:
** steady only) and the planner's effort, from the run's cache (hand it
** back with pda_cache_plan_done): 0 or a thermal status. */
static int chip_plan(const pda_result *r, size_t nx, size_t ny, double frame_s, int effort, thermal_plan **plan)
{
    const sio_chip *c = r->c;
    const sio_thermal *th = &c->thermal;
    thermal_layer *layers = calloc(th->n_layers ? th->n_layers : 1, sizeof *layers);
    if (!layers) return THERMAL_ENOMEM;
    for (size_t l = 0; l < th->n_layers; l++) {
        const sio_layer *L = &th->layers[l];
        layers[l] = (thermal_layer){L->thickness_m, L->k_w_mk, L->cv_j_m3k, L->has_die ? (int)L->die : -1};
    }
    thermal_stack stack = {.width_m = c->outline_mm[0] * 1e-3, .height_m = c->outline_mm[1] * 1e-3,
                           .layers = layers, .n_layers = th->n_layers, .h_top_w_m2k = th->h_top_w_m2k,
                           .h_bottom_w_m2k = th->h_bottom_w_m2k, .ambient_c = th->ambient_c, .n_dies = c->n_dies};
    int trc = pda_cache_plan(r->pc, &stack, nx, ny, frame_s, effort, plan);
    free(layers);
    return trc;
}

/* The result's arrays for T->nch chips of nu units, T->nd dies of T->nx x
** T->ny cells, T->nfe frames evaluated. -1 when out of memory. */
static int t_alloc(pda_thermal *T, size_t nu)
{
    const size_t nch = T->nch, nd = T->nd, cells = T->nx * T->ny, nfe = T->nfe;
    T->steady = malloc((nch * nd * cells + 1) * sizeof *T->steady);
    T->peak = malloc((nch * nd * cells + 1) * sizeof *T->peak);
    T->png_lo = malloc((nch * nd + 1) * sizeof *T->png_lo);
    T->png_hi = malloc((nch * nd + 1) * sizeof *T->png_hi);
    T->fmax = malloc((nch * nd * nfe + 1) * sizeof *T->fmax);
    T->ut = malloc((nch * nu + 1) * sizeof *T->ut);
    T->n_ut = nch * nu;
    T->chip_max_c = calloc(nch + 1, sizeof *T->chip_max_c);
    T->chip_leak_j = calloc(nch + 1, sizeof *T->chip_leak_j);
    T->chip_stacked = calloc(nch + 1, sizeof *T->chip_stacked);
    T->chip_iters = calloc(nch + 1, sizeof *T->chip_iters);
    T->chip_over = calloc(nch + 1, 1);
    return T->steady && T->peak && T->png_lo && T->png_hi && T->fmax && T->ut && T->chip_max_c && T->chip_leak_j &&
                   T->chip_stacked && T->chip_iters && T->chip_over
               ? 0
               : -1;
}

/* The plan of the stack, its state, the unit footprints, the scratch
** arrays and the instructions by chip. PDA_OK or a code with err set. */
static int tjob_open(tjob *j)
{
    const sio_chip *c = j->c;
    const sio_schedule *s = j->r->s;
    const size_t nu1 = j->nu ? j->nu : 1, nd = j->nd, cells = j->cells, nch = j->nch;
    pda_thermal *T = j->T = calloc(1, sizeof *T);
    if (!T) return PDA_ENOMEM;
    T->nx = j->nx;
    T->ny = j->ny;
    T->nd = nd;
    T->nf = j->nf;
    T->nch = nch;
    int fp = frame_plan(j);
    if (fp == -2) {
        sio_error_set(j->err, NULL, 0, 0, "thermal: the frames could not be combined across processes");
        return PDA_EIO;
    }
    if (fp) return PDA_ENOMEM;
    const size_t nfe = j->nfe;
    T->frame_ns = j->F;
    if (t_alloc(T, j->nu)) return PDA_ENOMEM;
    j->energy = malloc((nfe * j->nu + 1) * sizeof *j->energy);
    j->upow = malloc(3 * nu1 * sizeof *j->upow);
    j->pm = malloc((3 * nd * cells + 1) * sizeof *j->pm);
    j->u_smean = malloc(7 * nu1 * sizeof *j->u_smean);
    j->sh = malloc(nu1 * sizeof *j->sh);
    j->u_leak = malloc(nu1 * sizeof *j->u_leak);
    j->u_start = malloc(nu1 * sizeof *j->u_start);
    j->jdies = json_array();
    if (!j->energy || !j->upow || !j->pm || !j->u_smean || !j->sh || !j->u_leak || !j->u_start || !j->jdies)
        return PDA_ENOMEM;
    j->uavg = j->upow + nu1;
    j->under = j->upow + 2 * nu1;
    j->temp = j->pm + nd * cells;
    j->tsum = j->pm + 2 * nd * cells;
    j->u_smax = j->u_smean + nu1;
    j->u_mean = j->u_smean + 2 * nu1;
    j->u_max = j->u_smean + 3 * nu1;
    j->u_rsum = j->u_smean + 4 * nu1;
    j->u_rmax = j->u_smean + 5 * nu1;
    j->u_tmax = j->u_smean + 6 * nu1;
    /* estimated, not measured: FFTW would pick the transforms by timing them, and two runs could round
    ** differently (docs/thermal.md, "Costs") */
    int trc = chip_plan(j->r, j->nx, j->ny, j->F * 1e-9, THERMAL_PLAN_ESTIMATE, &j->plan);
    if (!trc) trc = thermal_state_create(j->plan, &j->st);
    if (!trc && j->r->o.thermal_periodic) trc = thermal_state_create(j->plan, &j->st0);
    if (!trc && j->r->o.thermal_periodic && j->r->leak) {
        j->lk_a = malloc((nfe * j->nu + 1) * sizeof *j->lk_a);
        j->lk_b = malloc((nfe * j->nu + 1) * sizeof *j->lk_b);
        if (!j->lk_a || !j->lk_b) return PDA_ENOMEM;
    }
    if (trc) {
        sio_error_set(j->err, c->path, 0, 0, "thermal: %s", thermal_strerror(trc));
        return trc == THERMAL_ENOMEM ? PDA_ENOMEM : PDA_EINPUT;
    }
    if (nd > SIO_THERMAL_MAX_DIES) {   /* a chip made in memory: the reader refuses it */
        sio_error_set(j->err, c->path, 0, 0, "thermal: at most %d dies", SIO_THERMAL_MAX_DIES);
        return PDA_EINPUT;
    }
    if (thermal_units_create(c, j->nx, j->ny, &j->tu)) return PDA_ENOMEM;
    /* instructions by chip, when there are several */
    if (nch > 1 && pda_chip_ops(s, nch, &j->chip_off, &j->chip_ops)) return PDA_ENOMEM;
    return PDA_OK;
}

static void tjob_close(tjob *j)
{
    pda_thermal_free(j->T);
    json_decref(j->jdies);
    thermal_hotspots_destroy(j->hs);
    thermal_units_destroy(j->tu);
    thermal_state_destroy(j->st);
    pda_cache_plan_done(j->r->pc, j->plan);
    free(j->chip_off); free(j->chip_ops); free(j->energy); free(j->upow); free(j->pm); free(j->u_smean);
    free(j->sh);
    free(j->u_leak);
    free(j->u_start);
    free(j->lk_a);
    free(j->lk_b);
    thermal_state_destroy(j->st0);
}

/* Per die of a map: its maximum, the cell where it is, and its mean. */
static void die_stats(const tjob *j, const double *map, size_t d, double *mx, size_t *at, double *mean)
{
    const double *m = map + d * j->cells;
    double best = -INFINITY, sum = 0;
    size_t where = 0;
    for (size_t k = 0; k < j->cells; k++) {
        sum += m[k];
        if (m[k] > best) { best = m[k]; where = k; }
    }
    *mx = best;
    *at = where;
    *mean = sum / (double)j->cells;
}

/* The hotspots of chip ch (ids run on across chips), each with the units
** under it by their share of its power at its peak frame. */
static int hotspot_rows(tjob *j, size_t ch)
{
    const sio_chip *c = j->c;
    pda_thermal *T = j->T;
    const size_t nu = j->nu;
    size_t nh;
    const thermal_hotspot *hl = thermal_hotspots_list(j->hs, &nh);
    pda_hotspot *hp = realloc(T->hot, (T->n_hot + nh + 1) * sizeof *hp);
    if (!hp) return PDA_ENOMEM;
    T->hot = hp;
    for (size_t k = 0; k < nh; k++) {
        const thermal_hotspot *h = &hl[k];
        if (h->stacked) j->n_stacked++;
        if (h->peak_frame < 0) {
            memcpy(j->upow, j->uavg, nu * sizeof *j->upow);
        } else {
            size_t e = frame_eval(T, (size_t)h->peak_frame);
            for (size_t u = 0; u < nu; u++) j->upow[u] = j->energy[e * nu + u] / (j->F * 1e-9);
        }
        if (thermal_hotspots_unit_power(j->hs, k, c, j->upow, j->under)) return PDA_ENOMEM;
        double tot = 0;
        size_t m = 0;
        for (size_t u = 0; u < nu; u++)
            if (j->under[u] > 0) { tot += j->under[u]; j->sh[m++] = (ushare){u, j->under[u]}; }
        qsort(j->sh, m, sizeof *j->sh, ushare_cmp);
        char *units = NULL, *with = NULL;
        size_t len;
        FILE *f = open_memstream(&units, &len);
        if (!f) return PDA_ENOMEM;
        size_t shown = 0;
        for (size_t q = 0; q < m && shown < 12; q++) {
            if (j->sh[q].w < 0.005 * tot) break;
            fprintf(f, "%s%s:%.3f", shown ? ";" : "", c->units[j->sh[q].u].name, j->sh[q].w / tot);
            shown++;
        }
        if (fclose(f) != 0 || !keep_string(T, units)) return PDA_ENOMEM;
        if (!(f = open_memstream(&with, &len))) return PDA_ENOMEM;
        for (size_t q = 0; q < h->n_stacked_with; q++)
            fprintf(f, "%s%zu", q ? ";" : "", T->n_hot + h->stacked_with[q] + 1);
        if (fclose(f) != 0 || !keep_string(T, with)) return PDA_ENOMEM;
        T->hot[T->n_hot + k] = (pda_hotspot){
            .id = T->n_hot + k + 1, .chip = ch, .die = h->die, .peak_c = h->peak_c, .t_peak_ns = h->t_peak_ns,
            .centroid_x_mm = h->centroid_x_mm, .centroid_y_mm = h->centroid_y_mm, .area_mm2 = h->area_mm2,
            .units = units, .stacked = h->stacked, .stacked_with = with,
            .t_first_ns = h->first_frame < 0 ? 0.0 : (double)(h->first_frame + 1) * j->F,
            .t_last_ns = h->last_frame < 0 ? 0.0 : (double)(h->last_frame + 1) * j->F,
            .peak_x_mm = h->peak_x_mm, .peak_y_mm = h->peak_y_mm};
    }
    T->n_hot += nh;
    return PDA_OK;
}

/* The units' mean temperatures of the state into j->u_start. */
static void state_units(tjob *j)
{
    thermal_state_temps(j->plan, j->st, j->temp);
    thermal_units_eval(j->tu, j->temp, j->u_start, j->u_max);
}

/* A leakage runaway with no figures left to give, refused as input: why
** says what passed what (pda_leak_prepare's last step past PDA_POWER_MAX_W,
** pipeline_int.h, or frame_leak's frame past any double). */
static int runaway_refused(const sio_chip *c, sio_error *err, const char *why)
{
    sio_error_set(err, c->path, 0, 0, "thermal: the leakage runs away (no steady temperature: lower leak_a or "
                  "beta_per_k, or cool the stack better); %s", why);
    return PDA_EINPUT;
}

/* A frame's leakage, j->u_leak, at the unit temperatures t. After a
** runaway the transient keeps heating; the law caps its exponent, not its
** product with vdd x leak_a nor the sum over units, which may pass any
** double: then PDA_EINPUT (the figures, lower bounds until then, have no
** number left to hold). */
static int frame_leak(tjob *j, const double *t)
{
    thermal_run_leak_power(j->c, t, j->u_leak);
    double w = 0;
    for (size_t u = 0; u < j->nu; u++) w += j->u_leak[u];
    return isfinite(w) ? PDA_OK
                       : runaway_refused(j->c, j->err, "a frame of the transient heats until its leakage is past "
                                                      "any number");
}

/* One pass over the frames from the state, recording nothing. A frame's
** power is its energy over the frame plus, with leakage, lk_in's row when
** given, else the leakage at the unit temperatures at the frame's start
** (as the recorded pass); lk_out, when given, gets the leakage at the
** frame's start temperatures. */
static int quiet_pass(tjob *j, const double *lk_in, double *lk_out)
{
    const sio_chip *c = j->c;
    const pda_thermal *T = j->T;
    const size_t nu = j->nu;
    const int leak = j->r->leak != NULL;
    if (leak) state_units(j);
    for (size_t fe = 0; fe < j->nfe; fe++) {
        size_t jump = T->jump[fe];
        for (size_t u = 0; u < nu; u++) j->upow[u] = j->energy[fe * nu + u] / (j->F * 1e-9);
        if (leak) {
            int rc = frame_leak(j, j->u_start);
            if (rc) return rc;
            if (lk_out) memcpy(lk_out + fe * nu, j->u_leak, nu * sizeof *lk_out);
            for (size_t u = 0; u < nu; u++) j->upow[u] += lk_in ? lk_in[fe * nu + u] : j->u_leak[u];
        }
        if (thermal_run_power_maps(c, j->upow, j->nx, j->ny, j->pm)) return PDA_ENOMEM;
        if (jump > 1 ? thermal_step_n(j->plan, j->st, j->pm, jump, j->temp, j->tsum)
                     : thermal_step(j->plan, j->st, j->pm, leak ? j->temp : NULL))
            return PDA_ENOMEM;
        if (leak) thermal_units_eval(j->tu, j->temp, j->u_start, j->u_max);
    }
    return PDA_OK;
}

/* --periodic: the state becomes the periodic steady state of the frames
** repeated back to back (thermal_state_periodic on one pass from ambient).
** With leakage, the periodic state of the leakage sequence Lambda (each
** frame's, per unit) is exact, and Lambda is iterated to its fixed point
** Lambda = L(the periodic trajectory's temperatures at the frame starts),
** from the steady fixed point's leakage, until no frame's leakage moves by
** more than 1e-10 of the largest (at most PERIODIC_MAX iterations; each
** contracts by the loop gain). */
#define PERIODIC_MAX 100
static int periodic_start(tjob *j, size_t ch)
{
    const struct pda_leak *lk = j->r->leak;
    const size_t nu = j->nu, n = j->nfe * nu;
    for (size_t k = 0; lk && k < n; k++) j->lk_a[k] = lk->leak_w[ch * nu + k % nu];
    for (size_t it = 0; it < PERIODIC_MAX; it++) {
        j->periodic_iters = it + 1;
        int rc;
        if (thermal_state_set_steady(j->plan, j->st, NULL)) return PDA_ENOMEM;
        if ((rc = quiet_pass(j, lk ? j->lk_a : NULL, NULL))) return rc;
        if (thermal_state_periodic(j->plan, j->st, j->nf)) return PDA_ENOMEM;
        if (!lk) return PDA_OK;
        if (thermal_state_copy(j->plan, j->st0, j->st)) return PDA_ENOMEM;
        if ((rc = quiet_pass(j, j->lk_a, j->lk_b))) return rc;
        if (thermal_state_copy(j->plan, j->st, j->st0)) return PDA_ENOMEM;
        double moved = 0, top = 0;
        for (size_t k = 0; k < n; k++) {
            moved = fmax(moved, fabs(j->lk_b[k] - j->lk_a[k]));
            top = fmax(top, fabs(j->lk_b[k]));
        }
        double *x = j->lk_a;
        j->lk_a = j->lk_b;
        j->lk_b = x;
        if (!(moved > 1e-10 * top)) break;
    }
    return PDA_OK;
}

/* Chip ch: its frame energies, the steady state of its average power, the
** transient from there through every frame (peak map, frame maxima, unit
** temperatures, hotspots), and its dies' summary rows. */
static int chip_run(tjob *j, size_t ch)
{
    const sio_chip *c = j->c;
    const sio_schedule *s = j->r->s;
    const sio_thermal *th = &c->thermal;
    pda_thermal *T = j->T;
    const size_t nx = j->nx, ny = j->ny, cells = j->cells, nd = j->nd, nu = j->nu, nf = j->nf, nfe = j->nfe;
    const double F = j->F;
    const uint32_t *ops = j->chip_ops ? j->chip_ops + j->chip_off[ch] : NULL;
    size_t n_ops = j->chip_ops ? j->chip_off[ch + 1] - j->chip_off[ch] : s->n;
    /* the chip idles on to the end of the last frame (it is not switched
    ** off at the makespan): the idle window is the frames' */
    if (thermal_run_frame_energy_at(c, s, ch, ops, n_ops, (double)nf * F, F, nf, T->fidx, nfe, j->energy)) {
        sio_error_set(j->err, s->path, 0, 0, "thermal: an instruction lies outside the frames");
        return PDA_EINTERNAL;
    }
    unit_avg_w(c, s, ops, n_ops, j->mk_ns, j->uavg);   /* ops NULL: a schedule of one chip */
    /* steady state of the average power, with the leakage of its fixed
    ** point (pda_leak_prepare); the transient starts there */
    const struct pda_leak *lk = j->r->leak;
    double *steady = T->steady + ch * nd * cells, *peak = T->peak + ch * nd * cells;
    for (size_t u = 0; lk && u < nu; u++) j->upow[u] = j->uavg[u] + lk->leak_w[ch * nu + u];
    if (thermal_run_power_maps(c, lk ? j->upow : j->uavg, nx, ny, j->pm) || thermal_steady(j->plan, j->pm, steady) ||
        thermal_state_set_steady(j->plan, j->st, j->pm))
        return PDA_ENOMEM;
    thermal_hotspots_destroy(j->hs);
    j->hs = NULL;
    if (thermal_hotspots_create(nd, nx, ny, c->outline_mm[0], c->outline_mm[1], th->hotspot_c, &j->hs) ||
        thermal_hotspots_push(j->hs, -1, 0.0, steady))
        return PDA_ENOMEM;
    memcpy(peak, steady, nd * cells * sizeof *peak);
    double die_max[SIO_THERMAL_MAX_DIES], die_tmax[SIO_THERMAL_MAX_DIES], die_msum[SIO_THERMAL_MAX_DIES];
    double die_smean[SIO_THERMAL_MAX_DIES], die_smax[SIO_THERMAL_MAX_DIES];
    size_t die_cell[SIO_THERMAL_MAX_DIES];
    for (size_t d = 0; d < nd; d++) {
        die_stats(j, steady, d, &die_max[d], &die_cell[d], &die_smean[d]);
        die_smax[d] = die_max[d];
        die_tmax[d] = 0;
        die_msum[d] = 0;
        if (die_max[d] > th->limit_c) j->over_limit = 1;
    }
    thermal_units_eval(j->tu, steady, j->u_smean, j->u_smax);
    for (size_t u = 0; u < nu; u++) { j->u_rsum[u] = 0; j->u_rmax[u] = j->u_smax[u]; j->u_tmax[u] = 0; }
    /* the start of the recorded pass: the steady state, the periodic state,
    ** or where N-1 passes from the steady state lead */
    const pda_run_opts *o = &j->r->o;
    int rc = o->thermal_periodic && nf ? periodic_start(j, ch) : PDA_OK;
    for (size_t k = 1; !rc && !o->thermal_periodic && k < o->thermal_repeat; k++) rc = quiet_pass(j, NULL, NULL);
    if (rc) return rc;
    /* each frame's leakage follows the unit temperatures at its start (the
    ** end of the frame before; the start state's for the first) */
    const double *t_start = j->u_smean;
    if (lk && (o->thermal_periodic || o->thermal_repeat > 1)) {
        state_units(j);
        t_start = j->u_start;
    }
    for (size_t fe = 0; fe < nfe; fe++) {
        size_t f = T->fidx[fe], jump = T->jump[fe];
        for (size_t u = 0; u < nu; u++) j->upow[u] = j->energy[fe * nu + u] / (F * 1e-9);
        if (lk) {
            if ((rc = frame_leak(j, t_start))) return rc;
            for (size_t u = 0; u < nu; u++) {
                j->upow[u] += j->u_leak[u];
                j->leak_e += j->u_leak[u] * (F * 1e-9 * (double)jump);   /* the power last: it may be near DBL_MAX */
            }
            t_start = j->u_mean;
        }
        if (thermal_run_power_maps(c, j->upow, nx, ny, j->pm)) return PDA_ENOMEM;
        /* a jump: the frames skipped since the last one evaluated had this
        ** frame's power (docs/outputs-thermal.md); their sum feeds the means */
        if (jump > 1 ? thermal_step_n(j->plan, j->st, j->pm, jump, j->temp, j->tsum)
                     : thermal_step(j->plan, j->st, j->pm, j->temp))
            return PDA_ENOMEM;
        const double *msum = jump > 1 ? j->tsum : j->temp;
        double t_end = (double)(f + 1) * F;
        for (size_t d = 0; d < nd; d++) {
            const double *m = j->temp + d * cells;
            double *p = peak + d * cells, mx, mean;
            size_t at;
            for (size_t k = 0; k < cells; k++) if (m[k] > p[k]) p[k] = m[k];
            die_stats(j, j->temp, d, &mx, &at, &mean);
            T->fmax[(ch * nd + d) * nfe + fe] = mx;
            if (jump > 1) {   /* the mean over the frames jumped: the sum's */
                double smx;
                size_t sat;
                die_stats(j, msum, d, &smx, &sat, &mean);
            }
            die_msum[d] += mean;
            if (mx > die_max[d]) { die_max[d] = mx; die_tmax[d] = t_end; die_cell[d] = at; }
            if (mx > th->limit_c) j->over_limit = 1;
        }
        if (jump > 1) {
            thermal_units_eval(j->tu, msum, j->u_mean, j->u_max);
            for (size_t u = 0; u < nu; u++) j->u_rsum[u] += j->u_mean[u];
        }
        thermal_units_eval(j->tu, j->temp, j->u_mean, j->u_max);
        for (size_t u = 0; u < nu; u++) {
            if (jump == 1) j->u_rsum[u] += j->u_mean[u];
            if (j->u_max[u] > j->u_rmax[u]) { j->u_rmax[u] = j->u_max[u]; j->u_tmax[u] = t_end; }
        }
        if (thermal_hotspots_push(j->hs, (int64_t)f, t_end, j->temp)) return PDA_ENOMEM;
    }
    if (thermal_hotspots_finish(j->hs)) return PDA_ENOMEM;
    /* per die: the summary, and the colour range of its maps */
    int bad = 0;
    for (size_t d = 0; d < nd; d++) {
        json_t *e = json_object();
        jset(e, "chip", json_integer((json_int_t)ch), &bad);
        jset(e, "die", json_integer(c->dies[d].id), &bad);
        jset(e, "name", json_string(c->dies[d].name), &bad);
        jset(e, "max_c", jreal(die_max[d]), &bad);
        jset(e, "mean_c", jreal(nf ? die_msum[d] / (double)nf : die_smean[d]), &bad);
        jset(e, "t_max_ns", jreal(die_tmax[d]), &bad);
        jset(e, "x_max_mm", jreal(((double)(die_cell[d] % nx) + 0.5) * c->outline_mm[0] / (double)nx), &bad);
        jset(e, "y_max_mm", jreal(((double)(die_cell[d] / nx) + 0.5) * c->outline_mm[1] / (double)ny), &bad);
        jset(e, "steady_max_c", jreal(die_smax[d]), &bad);
        jset(e, "steady_mean_c", jreal(die_smean[d]), &bad);
        jpush(j->jdies, e, &bad);
        if (bad) return PDA_ENOMEM;
        if (die_max[d] > j->max_all) j->max_all = die_max[d];
        double lo = INFINITY;
        for (size_t k = 0; k < cells; k++) if (steady[d * cells + k] < lo) lo = steady[d * cells + k];
        T->png_lo[ch * nd + d] = lo;
        T->png_hi[ch * nd + d] = die_max[d];
    }
    /* one colour scale across the dies of the stack: the coolest steady
    ** cell of any die to the hottest cell of any die over the run */
    for (size_t d = 1; d < nd; d++) {
        T->png_lo[ch * nd] = fmin(T->png_lo[ch * nd], T->png_lo[ch * nd + d]);
        T->png_hi[ch * nd] = fmax(T->png_hi[ch * nd], T->png_hi[ch * nd + d]);
    }
    for (size_t d = 1; d < nd; d++) {
        T->png_lo[ch * nd + d] = T->png_lo[ch * nd];
        T->png_hi[ch * nd + d] = T->png_hi[ch * nd];
    }
    for (size_t u = 0; u < nu; u++)
        T->ut[ch * nu + u] = (pda_unit_temp){ch, u, j->u_smean[u], j->u_smax[u],
                                             nf ? j->u_rsum[u] / (double)nf : j->u_smean[u], j->u_rmax[u],
                                             j->u_tmax[u]};
    return hotspot_rows(j, ch);
}

/* ---- leakage before the walk ------------------------------------------------ */

void pda_leak_free(struct pda_leak *l)
{
    if (!l) return;
    free(l->leak_w); free(l->leak_a); free(l->uavg); free(l->st);
    free(l);
}

const double *pda_leak_current_a(const struct pda_leak *l) { return l ? l->leak_a : NULL; }

/* Grid, frame and makespan of the thermal run: the options' or the chip's. */
static void run_sizes(const pda_result *r, size_t *nx, size_t *ny, double *frame_ns, double *mk_ns)
{
    const sio_thermal *th = &r->c->thermal;
    *nx = r->o.grid[0] ? r->o.grid[0] : th->grid[0];
    *ny = r->o.grid[1] ? r->o.grid[1] : th->grid[1];
    *frame_ns = (double)(r->o.frame_ns ? r->o.frame_ns : th->frame_ns);
    /* a share of a system: the system's makespan (pda_run_opts.timeline_cyc) */
    int64_t mk = sio_schedule_makespan_cyc(r->s);
    if (r->o.timeline_cyc > mk) mk = r->o.timeline_cyc;
    *mk_ns = (double)mk * sio_chip_period_ns(r->c);
}

int pda_leak_prepare(pda_result *r, sio_error *err)
{
    const sio_chip *c = r->c;
    const sio_schedule *s = r->s;
    const size_t nu = c->n_units, nch = s->n_chips ? s->n_chips : 1;
    size_t nl = 0, nx, ny;
    for (size_t u = 0; u < nu; u++) nl += c->units[u].leak_a > 0;
    r->leak = NULL;
    if (!nl) return PDA_OK;
    double frame_ns, mk_ns;
    run_sizes(r, &nx, &ny, &frame_ns, &mk_ns);
    struct pda_leak *l = calloc(1, sizeof *l);
    thermal_plan *plan = NULL;
    thermal_units *tu = NULL;
    int rc = PDA_ENOMEM;
    if (!l) goto out;
    l->nch = nch;
    l->nu = nu;
    l->leak_w = calloc(nch * nu, sizeof *l->leak_w);
    l->leak_a = calloc(nch * nu, sizeof *l->leak_a);
    l->uavg = calloc(nch * nu, sizeof *l->uavg);
    l->st = calloc(nch, sizeof *l->st);
    if (!l->leak_w || !l->leak_a || !l->uavg || !l->st) goto out;
    /* n + a few solves: an estimated plan (~1 ms) solves as fast here as a measured one (~0.1 s to make) */
    int trc = chip_plan(r, nx, ny, 0.0, THERMAL_PLAN_ESTIMATE, &plan);
    if (trc) {
        rc = trc == THERMAL_ENOMEM ? PDA_ENOMEM : PDA_EINPUT;
        if (rc == PDA_EINPUT) sio_error_set(err, c->path, 0, 0, "thermal: %s", thermal_strerror(trc));
        goto out;
    }
    if (thermal_units_create(c, nx, ny, &tu)) goto out;
    unit_avg_w(c, s, NULL, 0, mk_ns, l->uavg);
    for (size_t ch = 0; ch < nch; ch++) {
        int lrc = thermal_run_leak_steady(plan, tu, c, l->uavg + ch * nu, 1, l->leak_w + ch * nu, &l->st[ch]);
        if (lrc) {
            rc = lrc == THERMAL_RUN_ENOMEM ? PDA_ENOMEM : PDA_EINTERNAL;
            if (rc == PDA_EINTERNAL) sio_error_set(err, c->path, 0, 0, "thermal: the leakage loop failed");
            goto out;
        }
    }
    for (size_t q = 0; q < nch * nu; q++) l->leak_a[q] = l->leak_w[q] / c->rails[c->units[q % nu].rail].vdd_v;
    /* a runaway's last iterate may draw any power at all: past PDA_POWER_MAX_W
    ** the power's fixed point (pipeline_int.h) cannot hold it */
    double w = 0;
    for (size_t q = 0; q < nch * nu; q++) w += l->leak_w[q];
    if (!(w <= PDA_POWER_MAX_W)) {
        char why[128];
        snprintf(why, sizeof why, "its last step draws %.3g W, past the %.0e W the power figures hold", w,
                 PDA_POWER_MAX_W);
        rc = runaway_refused(c, err, why);
        goto out;
    }
    r->leak = l;
    l = NULL;
    rc = PDA_OK;
out:
    if (rc == PDA_ENOMEM) sio_error_set(err, NULL, 0, 0, "thermal: out of memory");
    thermal_units_destroy(tu);
    pda_cache_plan_done(r->pc, plan);
    pda_leak_free(l);
    return rc;
}

/* The summary's thermal.leakage: the steady fixed point's leakage summed
** over chips, runaway when any chip has none, the most Newton steps, the
** smallest runaway factor (null: leakage never runs away), and the mean
** leakage over the transient's frames (mean_w). */
int pda_leak_figures(const pda_result *r, double *total_w, int *runaway)
{
    const struct pda_leak *l = r->leak;
    if (!l) return 0;
    *total_w = 0;
    *runaway = 0;
    for (size_t ch = 0; ch < l->nch; ch++) {
        *total_w += l->st[ch].total_w;
        *runaway |= l->st[ch].runaway;
    }
    return 1;
}

static json_t *leak_json(const pda_result *r, double transient_w)
{
    const struct pda_leak *l = r->leak;
    double total, factor = INFINITY;
    size_t iters = 0;
    int runaway;
    pda_leak_figures(r, &total, &runaway);
    for (size_t ch = 0; ch < l->nch; ch++) {
        if (l->st[ch].iterations > iters) iters = l->st[ch].iterations;
        if (l->st[ch].runaway_factor < factor) factor = l->st[ch].runaway_factor;
    }
    json_t *o = json_object();
    int bad = 0;
    jset(o, "total_w", jreal(total), &bad);
    jset(o, "runaway", json_boolean(runaway), &bad);
    jset(o, "iterations", json_integer((json_int_t)iters), &bad);
    jset(o, "runaway_factor", jreal(factor), &bad);
    jset(o, "mean_w", jreal(transient_w), &bad);
    /* each chip's rails' leakage current, the walk's extra idle current */
    json_t *rails = json_array();
    const sio_chip *c = r->c;
    for (size_t q = 0; rails && q < l->nch * c->n_rails; q++) {
        double a = 0;
        for (size_t u = 0; u < l->nu; u++)
            if (c->units[u].rail == q % c->n_rails) a += l->leak_a[q / c->n_rails * l->nu + u];
        json_t *e = json_object();
        jset(e, "chip", json_integer((json_int_t)(q / c->n_rails)), &bad);
        jset(e, "rail", json_string(c->rails[q % c->n_rails].name), &bad);
        jset(e, "current_a", jreal(a), &bad);
        jpush(rails, e, &bad);
    }
    jset(o, "rails", rails, &bad);
    return jdone(o, bad);
}

int pda_thermal_run(pda_result *r, sio_error *err)
{
    double t_start = now_s();
    const sio_chip *c = r->c;
    tjob j = {.r = r, .c = c, .err = err, .max_all = -INFINITY};
    run_sizes(r, &j.nx, &j.ny, &j.F, &j.mk_ns);
    if ((r->o.thermal_periodic || r->o.thermal_repeat > 1) && j.mk_ns > 0) {
        /* a repeated schedule: frames that tile the period exactly, the
        ** longest frame up to the one asked for that divides the makespan
        ** (no padded last frame) */
        double n = ceil(j.mk_ns / j.F);
        j.F = j.mk_ns / n;
        while ((double)thermal_run_n_frames(j.mk_ns, j.F) > n) j.F = nextafter(j.F, INFINITY);
    }
    j.cells = j.nx * j.ny;
    j.nd = c->n_dies;
    j.nu = c->n_units;
    j.nch = r->s->n_chips ? r->s->n_chips : 1;
    j.nf = thermal_run_n_frames(j.mk_ns, j.F);
    int rc = tjob_open(&j);
    for (size_t ch = 0; !rc && ch < j.nch; ch++) {   /* each chip's figures apart: a system's shares add them alike */
        j.max_all = -INFINITY;
        j.over_limit = 0;
        j.n_stacked = 0;
        j.leak_e = 0;
        j.periodic_iters = 0;
        rc = chip_run(&j, ch);
        j.T->chip_max_c[ch] = j.max_all;
        j.T->chip_over[ch] = (unsigned char)j.over_limit;
        j.T->chip_stacked[ch] = j.n_stacked;
        j.T->chip_leak_j[ch] = j.leak_e;
        j.T->chip_iters[ch] = j.periodic_iters;
    }
    json_t *jt = NULL;
    if (!rc) {
        j.T->dies = j.jdies;
        j.jdies = NULL;
        j.T->compute_s = now_s() - t_start;
        r->th = j.T;
        j.T = NULL;
        if (!(jt = pda_thermal_json(r)) || json_object_set_new(r->summary, "thermal", jt)) rc = PDA_ENOMEM;
    }
    if (rc == PDA_ENOMEM) sio_error_set(err, NULL, 0, 0, "thermal: out of memory");
    tjob_close(&j);
    return rc;
}

json_t *pda_thermal_json(const pda_result *r)
{
    const pda_thermal *T = r->th;
    const sio_thermal *th = &r->c->thermal;
    double max_all = -INFINITY, leak_j = 0;
    size_t n_stacked = 0;
    int over = 0;
    for (size_t ch = 0; ch < T->nch; ch++) {
        if (T->chip_max_c[ch] > max_all) max_all = T->chip_max_c[ch];
        over |= T->chip_over[ch];
        n_stacked += T->chip_stacked[ch];
        leak_j += T->chip_leak_j[ch];
    }
    json_t *jt = json_object(), *grid = json_array();
    int bad = !jt || !grid;
    jpush(grid, json_integer((json_int_t)T->nx), &bad);
    jpush(grid, json_integer((json_int_t)T->ny), &bad);
    jset(jt, "grid", grid, &bad);
    jset(jt, "frame_ns", jreal(T->frame_ns), &bad);
    jset(jt, "frames", json_integer((json_int_t)T->nf), &bad);
    jset(jt, "ambient_c", jreal(th->ambient_c), &bad);
    jset(jt, "hotspot_c", jreal(th->hotspot_c), &bad);
    jset(jt, "limit_c", jreal(th->limit_c), &bad);
    jset(jt, "max_c", jreal(max_all), &bad);
    jset(jt, "above_limit", json_boolean(over), &bad);
    jset(jt, "dies", json_incref(T->dies), &bad);
    jset(jt, "hotspots", json_integer((json_int_t)T->n_hot), &bad);
    jset(jt, "stacked_hotspots", json_integer((json_int_t)n_stacked), &bad);
    jset(jt, "periodic", json_boolean(r->o.thermal_periodic), &bad);
    jset(jt, "passes", json_integer((json_int_t)(r->o.thermal_repeat > 1 ? r->o.thermal_repeat : 1)), &bad);
    if (r->o.thermal_periodic)   /* the last chip's */
        jset(jt, "periodic_iterations", json_integer((json_int_t)T->chip_iters[T->nch - 1]), &bad);
    if (r->leak) jset(jt, "leakage", leak_json(r, T->nf ? leak_j / ((double)T->nf * T->frame_ns * 1e-9) : 0.0), &bad);
    if (bad) {
        json_decref(jt);
        return NULL;
    }
    return jt;
}

const double *pda_result_heat(const pda_result *r, size_t chip, size_t die, int peak, size_t *nx, size_t *ny)
{
    const pda_thermal *t = r->th;
    *nx = *ny = 0;
    if (!t || chip >= r->nch || die >= t->nd) return NULL;
    *nx = t->nx;
    *ny = t->ny;
    return (peak ? t->peak : t->steady) + (chip * t->nd + die) * t->nx * t->ny;
}

double pda_result_thermal_seconds(const pda_result *r) { return r->th ? r->th->compute_s : 0.0; }

const pda_unit_temp *pda_result_unit_temps(const pda_result *r, size_t *n)
{
    *n = r->th ? r->th->n_ut : 0;
    return r->th ? r->th->ut : NULL;
}

const pda_hotspot *pda_result_hotspots(const pda_result *r, size_t *n)
{
    *n = r->th ? r->th->n_hot : 0;
    return r->th ? r->th->hot : NULL;
}

/* ---- a system's thermal run from its shares' (pda_result_merge) ------------------ */

/* What a pack's thermal part starts with. */
typedef struct tpack_head {
    uint64_t nx, ny, nd, nf, nfe, nu, nch, leak;
    double frame_ns;
} tpack_head;

/* A string into f: its length, then its bytes. */
static int put_str(FILE *f, const char *s)
{
    uint32_t l = s ? (uint32_t)strlen(s) : 0;
    return fwrite(&l, sizeof l, 1, f) != 1 || fwrite(s ? s : "", 1, l, f) != l;
}

/* A string from f (malloc'd), NULL when it cannot be read. */
static char *get_str(FILE *f)
{
    uint32_t l;
    if (fread(&l, sizeof l, 1, f) != 1 || l > (1u << 26)) return NULL;
    char *s = malloc((size_t)l + 1);
    if (s && fread(s, 1, l, f) != l) { free(s); return NULL; }
    if (s) s[l] = 0;
    return s;
}

/* A hotspot's stacked_with ("3;7"; NULL: none) with delta added to each id:
** a malloc'd string, NULL when out of memory. */
static char *ids_shifted(const char *ids, long delta)
{
    char *out = NULL;
    size_t len;
    FILE *w = open_memstream(&out, &len);
    if (!w) return NULL;
    for (const char *q = ids ? ids : ""; *q;) {
        char *end;
        long id = strtol(q, &end, 10);
        if (end == q) break;
        fprintf(w, "%s%ld", q == ids ? "" : ";", id + delta);
        q = *end == ';' ? end + 1 : end;
    }
    if (fclose(w) != 0) { free(out); return NULL; }
    return out;
}

int pda_thermal_pack(const pda_result *r, FILE *f, size_t chip_lo, size_t chip_step)
{
    const pda_thermal *T = r->th;
    const struct pda_leak *lk = r->leak;
    const size_t nd = T->nd, cells = T->nx * T->ny, nfe = T->nfe, nu = r->c->n_units;
    tpack_head h = {T->nx, T->ny, nd, T->nf, nfe, nu, r->nch, lk != NULL, T->frame_ns};
    int bad = fwrite(&h, sizeof h, 1, f) != 1;
    bad |= fwrite(T->fidx, sizeof *T->fidx, nfe, f) != nfe || fwrite(T->jump, sizeof *T->jump, nfe, f) != nfe;
    size_t hot = 0;   /* the chip's first hotspot */
    for (size_t ch = 0; ch < r->nch && !bad; ch++) {
        const size_t g = chip_lo + ch * chip_step;
        bad |= fwrite(T->steady + ch * nd * cells, sizeof(double), nd * cells, f) != nd * cells;
        bad |= fwrite(T->peak + ch * nd * cells, sizeof(double), nd * cells, f) != nd * cells;
        bad |= fwrite(T->png_lo + ch * nd, sizeof(double), nd, f) != nd;
        bad |= fwrite(T->png_hi + ch * nd, sizeof(double), nd, f) != nd;
        bad |= fwrite(T->fmax + ch * nd * nfe, sizeof(double), nd * nfe, f) != nd * nfe;
        bad |= fwrite(T->ut + ch * nu, sizeof *T->ut, nu, f) != nu;
        double fig[2] = {T->chip_max_c[ch], T->chip_leak_j[ch]};
        uint64_t cnt[3] = {T->chip_stacked[ch], T->chip_iters[ch], T->chip_over[ch]};
        bad |= fwrite(fig, sizeof *fig, 2, f) != 2 || fwrite(cnt, sizeof *cnt, 3, f) != 3;
        /* its dies' summary rows, chip set to the system's */
        json_t *rows = json_array();
        for (size_t d = 0; rows && d < nd; d++) {
            json_t *e = json_deep_copy(json_array_get(T->dies, ch * nd + d));
            if (!e || json_object_set_new(e, "chip", json_integer((json_int_t)g)) || json_array_append_new(rows, e)) {
                json_decref(e);
                bad = 1;
            }
        }
        char *txt = rows && !bad ? json_dumps(rows, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(rows);
        bad |= !txt || put_str(f, txt);
        free(txt);
        /* its hotspots, the ids they stack with counted from the chip's first */
        size_t nh = 0;
        while (hot + nh < T->n_hot && T->hot[hot + nh].chip == ch) nh++;
        uint64_t nh64 = nh;
        bad |= fwrite(&nh64, sizeof nh64, 1, f) != 1;
        for (size_t k = 0; k < nh && !bad; k++) {
            const pda_hotspot *p = &T->hot[hot + k];
            bad |= fwrite(p, sizeof *p, 1, f) != 1 || put_str(f, p->units);
            char *with = ids_shifted(p->stacked_with, -(long)hot);   /* ids within the chip */
            bad |= !with || put_str(f, with);
            free(with);
        }
        hot += nh;
        if (lk) {
            bad |= fwrite(lk->leak_w + ch * nu, sizeof(double), nu, f) != nu;
            bad |= fwrite(lk->leak_a + ch * nu, sizeof(double), nu, f) != nu;
            bad |= fwrite(lk->uavg + ch * nu, sizeof(double), nu, f) != nu;
            bad |= fwrite(&lk->st[ch], sizeof *lk->st, 1, f) != 1;
        }
    }
    return bad ? -1 : 0;
}

/* Allocates the system's r->th (and r->leak) on the first pack. */
static int tmerge_open(pda_result *r, const tpack_head *h)
{
    const size_t nch = r->nch, nd = (size_t)h->nd, nfe = (size_t)h->nfe, nu = r->c->n_units;
    pda_thermal *T = r->th = calloc(1, sizeof *T);
    if (!T) return -1;
    T->nx = (size_t)h->nx;
    T->ny = (size_t)h->ny;
    T->nd = nd;
    T->nf = (size_t)h->nf;
    T->nfe = nfe;
    T->nch = nch;
    T->frame_ns = h->frame_ns;
    T->fidx = malloc((nfe + 1) * sizeof *T->fidx);
    T->jump = malloc((nfe + 1) * sizeof *T->jump);
    T->pending = calloc(nch + 1, sizeof *T->pending);
    if (!T->fidx || !T->jump || !T->pending || t_alloc(T, nu)) return -1;
    if (!h->leak) return 0;
    struct pda_leak *l = r->leak = calloc(1, sizeof *l);
    if (!l) return -1;
    l->nch = nch;
    l->nu = nu;
    l->leak_w = calloc(nch * nu + 1, sizeof *l->leak_w);
    l->leak_a = calloc(nch * nu + 1, sizeof *l->leak_a);
    l->uavg = calloc(nch * nu + 1, sizeof *l->uavg);
    l->st = calloc(nch + 1, sizeof *l->st);
    return l->leak_w && l->leak_a && l->uavg && l->st ? 0 : -1;
}

int pda_thermal_unpack(pda_result *r, FILE *f, size_t n_chips, size_t chip_lo, size_t chip_step)
{
    tpack_head h;
    if (fread(&h, sizeof h, 1, f) != 1 || h.nu != r->c->n_units || h.nch != n_chips || h.nd != r->c->n_dies) return -1;
    if (!r->th) {
        if (tmerge_open(r, &h)) return -1;
    } else if (h.nx != r->th->nx || h.ny != r->th->ny || h.nf != r->th->nf || h.nfe != r->th->nfe ||
               h.frame_ns != r->th->frame_ns || h.leak != (r->leak != NULL)) {
        return -1;
    }
    pda_thermal *T = r->th;
    struct pda_leak *lk = r->leak;
    const size_t nd = T->nd, cells = T->nx * T->ny, nfe = T->nfe, nu = r->c->n_units;
    /* the frames evaluated: the same for every share (frames_combine) */
    if (fread(T->fidx, sizeof *T->fidx, nfe, f) != nfe || fread(T->jump, sizeof *T->jump, nfe, f) != nfe) return -1;
    for (size_t ch = 0; ch < n_chips; ch++) {
        const size_t g = chip_lo + ch * chip_step;
        if (g >= r->nch) return -1;
        if (fread(T->steady + g * nd * cells, sizeof(double), nd * cells, f) != nd * cells ||
            fread(T->peak + g * nd * cells, sizeof(double), nd * cells, f) != nd * cells ||
            fread(T->png_lo + g * nd, sizeof(double), nd, f) != nd ||
            fread(T->png_hi + g * nd, sizeof(double), nd, f) != nd ||
            fread(T->fmax + g * nd * nfe, sizeof(double), nd * nfe, f) != nd * nfe ||
            fread(T->ut + g * nu, sizeof *T->ut, nu, f) != nu)
            return -1;
        for (size_t u = 0; u < nu; u++) T->ut[g * nu + u].chip = g;
        double fig[2];
        uint64_t cnt[3];
        if (fread(fig, sizeof *fig, 2, f) != 2 || fread(cnt, sizeof *cnt, 3, f) != 3) return -1;
        T->chip_max_c[g] = fig[0];
        T->chip_leak_j[g] = fig[1];
        T->chip_stacked[g] = (size_t)cnt[0];
        T->chip_iters[g] = (size_t)cnt[1];
        T->chip_over[g] = (unsigned char)cnt[2];
        struct chip_pending *c = &T->pending[g];
        if (c->dies) return -1;   /* a chip twice */
        char *txt = get_str(f);
        c->dies = txt ? json_loads(txt, 0, NULL) : NULL;
        free(txt);
        if (!json_is_array(c->dies) || json_array_size(c->dies) != nd) return -1;
        uint64_t nh;
        if (fread(&nh, sizeof nh, 1, f) != 1 || nh > (1u << 24)) return -1;
        c->n = (size_t)nh;
        c->h = calloc(c->n + 1, sizeof *c->h);
        c->with = calloc(c->n + 1, sizeof *c->with);
        if (!c->h || !c->with) return -1;
        for (size_t k = 0; k < c->n; k++) {
            if (fread(&c->h[k], sizeof c->h[k], 1, f) != 1) return -1;
            c->h[k].chip = g;
            c->h[k].units = NULL;
            c->h[k].stacked_with = NULL;
            char *units = get_str(f);
            if (!units || !keep_string(T, units)) return -1;
            c->h[k].units = units;
            if (!(c->with[k] = get_str(f))) return -1;
        }
        if (lk && (fread(lk->leak_w + g * nu, sizeof(double), nu, f) != nu ||
                   fread(lk->leak_a + g * nu, sizeof(double), nu, f) != nu ||
                   fread(lk->uavg + g * nu, sizeof(double), nu, f) != nu || fread(&lk->st[g], sizeof *lk->st, 1, f) != 1))
            return -1;
    }
    return 0;
}

int pda_thermal_unpack_end(pda_result *r)
{
    pda_thermal *T = r->th;
    if (!T) return 0;
    size_t n = 0;
    for (size_t g = 0; g < T->nch; g++) {
        if (!T->pending[g].dies) return -1;   /* no share had it */
        n += T->pending[g].n;
    }
    pda_hotspot *all = calloc(n + 1, sizeof *all);
    json_t *dies = json_array();
    if (!all || !dies) { free(all); json_decref(dies); return -1; }
    /* the dies' rows and the hotspots in chip order, the hotspots numbered
    ** across the chips as one process numbers them */
    size_t at = 0;
    int bad = 0;
    for (size_t g = 0; g < T->nch && !bad; g++) {
        const struct chip_pending *c = &T->pending[g];
        bad |= json_array_extend(dies, c->dies) != 0;
        for (size_t k = 0; k < c->n && !bad; k++) {
            all[at + k] = c->h[k];
            all[at + k].id = at + k + 1;
            char *with = ids_shifted(c->with[k], (long)at);
            bad |= !keep_string(T, with);
            all[at + k].stacked_with = with;
        }
        at += c->n;
    }
    if (bad) { free(all); json_decref(dies); return -1; }
    free(T->hot);
    T->hot = all;
    T->n_hot = n;
    json_decref(T->dies);
    T->dies = dies;
    return 0;
}
