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

#include "pipeline_int.h"
#include "sio.h"
#include "thermal.h"
#include "thermal_run.h"

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

void pda_thermal_free(pda_thermal *t)
{
    if (!t) return;
    free(t->steady); free(t->peak); free(t->png_lo); free(t->png_hi); free(t->fmax); free(t->ut); free(t->hot);
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

int pda_thermal_run(pda_result *r, sio_error *err)
{
    double t_start = now_s();
    const sio_chip *c = r->c;
    const sio_schedule *s = r->s;
    const pda_run_opts *o = &r->o;
    const sio_thermal *th = &c->thermal;
    const size_t nx = o->grid[0] ? o->grid[0] : th->grid[0];
    const size_t ny = o->grid[1] ? o->grid[1] : th->grid[1];
    const size_t cells = nx * ny, nd = c->n_dies, nu = c->n_units, nch = s->n_chips ? s->n_chips : 1;
    const double F = (double)(o->frame_ns ? o->frame_ns : th->frame_ns);
    const double mk_ns = (double)sio_schedule_makespan_cyc(s) * sio_chip_period_ns(c);
    const size_t nf = thermal_run_n_frames(mk_ns, F);

    int rc = PDA_OK, over_limit = 0;
    pda_thermal *T = calloc(1, sizeof *T);
    thermal_layer *layers = calloc(th->n_layers ? th->n_layers : 1, sizeof *layers);
    thermal_plan *plan = NULL;
    thermal_state *st = NULL;
    thermal_units *tu = NULL;
    thermal_hotspots *hs = NULL;
    size_t *chip_off = NULL;
    uint32_t *chip_ops = NULL;
    double *energy = malloc((nf * nu + 1) * sizeof *energy);
    double *upow = malloc((nu ? nu : 1) * sizeof *upow), *uavg = malloc((nu ? nu : 1) * sizeof *uavg);
    double *under = malloc((nu ? nu : 1) * sizeof *under);
    double *pm = malloc(nd * cells * sizeof *pm), *temp = malloc(nd * cells * sizeof *temp);
    double *u_smean = malloc(4 * (nu ? nu : 1) * sizeof *u_smean);
    double *u_smax = u_smean + nu, *u_mean = u_smean + 2 * nu, *u_max = u_smean + 3 * nu;
    double *u_rsum = malloc(3 * (nu ? nu : 1) * sizeof *u_rsum);
    double *u_rmax = u_rsum + nu, *u_tmax = u_rsum + 2 * nu;
    ushare *sh = malloc((nu ? nu : 1) * sizeof *sh);
    json_t *jt = json_object(), *jdies = json_array();
    size_t n_stacked = 0;
    double max_all = -INFINITY;
    if (!T || !layers || !energy || !upow || !uavg || !under || !pm || !temp || !u_smean || !u_rsum || !sh || !jt ||
        !jdies)
        goto oom;
    T->nx = nx;
    T->ny = ny;
    T->nd = nd;
    T->nf = nf;
    T->frame_ns = F;
    T->steady = malloc((nch * nd * cells + 1) * sizeof *T->steady);
    T->peak = malloc((nch * nd * cells + 1) * sizeof *T->peak);
    T->png_lo = malloc((nch * nd + 1) * sizeof *T->png_lo);
    T->png_hi = malloc((nch * nd + 1) * sizeof *T->png_hi);
    T->fmax = malloc((nch * nd * nf + 1) * sizeof *T->fmax);
    T->ut = malloc((nch * nu + 1) * sizeof *T->ut);
    T->n_ut = nch * nu;
    if (!T->steady || !T->peak || !T->png_lo || !T->png_hi || !T->fmax || !T->ut) goto oom;

    /* the plan */
    size_t nl = th->n_layers;
    for (size_t l = 0; l < nl; l++) {
        const sio_layer *L = &th->layers[l];
        layers[l] = (thermal_layer){L->thickness_m, L->k_w_mk, L->cv_j_m3k, L->has_die ? (int)L->die : -1};
    }
    thermal_stack stack = {.width_m = c->outline_mm[0] * 1e-3, .height_m = c->outline_mm[1] * 1e-3,
                           .layers = layers, .n_layers = nl, .h_top_w_m2k = th->h_top_w_m2k,
                           .h_bottom_w_m2k = th->h_bottom_w_m2k, .ambient_c = th->ambient_c, .n_dies = nd};
    int trc = thermal_plan_create(&stack, nx, ny, F * 1e-9, &plan);
    if (!trc) trc = thermal_state_create(plan, &st);
    if (trc) {
        sio_error_set(err, c->path, 0, 0, "thermal: %s", thermal_strerror(trc));
        rc = trc == THERMAL_ENOMEM ? PDA_ENOMEM : PDA_EINPUT;
        goto fail;
    }
    if (nd > 64) {
        sio_error_set(err, c->path, 0, 0, "thermal: at most 64 dies");
        rc = PDA_EINPUT;
        goto fail;
    }
    if (thermal_units_create(c, nx, ny, &tu)) goto oom;
    /* instructions by chip (counting sort), when there are several */
    if (nch > 1) {
        chip_off = calloc(nch + 1, sizeof *chip_off);
        chip_ops = malloc((s->n ? s->n : 1) * sizeof *chip_ops);
        if (!chip_off || !chip_ops) goto oom;
        for (size_t i = 0; i < s->n; i++) chip_off[s->chip[i] + 1]++;
        for (size_t ch = 0; ch < nch; ch++) chip_off[ch + 1] += chip_off[ch];
        size_t *fill = malloc(nch * sizeof *fill);
        if (!fill) goto oom;
        memcpy(fill, chip_off, nch * sizeof *fill);
        for (size_t i = 0; i < s->n; i++) chip_ops[fill[s->chip[i]]++] = (uint32_t)i;
        free(fill);
    }

    for (size_t ch = 0; ch < nch; ch++) {
        const uint32_t *ops = chip_ops ? chip_ops + chip_off[ch] : NULL;
        size_t n_ops = chip_ops ? chip_off[ch + 1] - chip_off[ch] : s->n;
        if (thermal_run_frame_energy(c, s, ch, ops, n_ops, mk_ns, F, nf, energy)) {
            sio_error_set(err, s->path, 0, 0, "thermal: an instruction lies outside the frames");
            rc = PDA_EINTERNAL;
            goto fail;
        }
        for (size_t u = 0; u < nu; u++) {
            double e = 0;
            for (size_t f = 0; f < nf; f++) e += energy[f * nu + u];
            uavg[u] = mk_ns > 0 ? e / (mk_ns * 1e-9) : 0.0;
        }
        /* steady state of the average power; the transient starts there */
        double *steady = T->steady + ch * nd * cells, *peak = T->peak + ch * nd * cells;
        if (thermal_run_power_maps(c, uavg, nx, ny, pm) || thermal_steady(plan, pm, steady) ||
            thermal_state_set_steady(plan, st, pm))
            goto oom;
        thermal_hotspots_destroy(hs);
        hs = NULL;
        if (thermal_hotspots_create(nd, nx, ny, c->outline_mm[0], c->outline_mm[1], th->hotspot_c, &hs) ||
            thermal_hotspots_push(hs, -1, 0.0, steady))
            goto oom;
        memcpy(peak, steady, nd * cells * sizeof *peak);
        double die_max[64], die_tmax[64], die_msum[64], die_smean[64], die_smax[64];
        size_t die_cell[64];
        for (size_t d = 0; d < nd; d++) {
            const double *m = steady + d * cells;
            double mx = -INFINITY, sum = 0;
            size_t at = 0;
            for (size_t k = 0; k < cells; k++) {
                sum += m[k];
                if (m[k] > mx) { mx = m[k]; at = k; }
            }
            die_max[d] = die_smax[d] = mx;
            die_tmax[d] = 0;
            die_cell[d] = at;
            die_smean[d] = sum / (double)cells;
            die_msum[d] = 0;
            if (mx > th->limit_c) over_limit = 1;
        }
        thermal_units_eval(tu, steady, u_smean, u_smax);
        for (size_t u = 0; u < nu; u++) { u_rsum[u] = 0; u_rmax[u] = u_smax[u]; u_tmax[u] = 0; }
        for (size_t f = 0; f < nf; f++) {
            for (size_t u = 0; u < nu; u++) upow[u] = energy[f * nu + u] / (F * 1e-9);
            if (thermal_run_power_maps(c, upow, nx, ny, pm) || thermal_step(plan, st, pm, temp)) goto oom;
            double t_end = (double)(f + 1) * F;
            for (size_t d = 0; d < nd; d++) {
                const double *m = temp + d * cells;
                double *p = peak + d * cells, mx = -INFINITY, sum = 0;
                size_t at = 0;
                for (size_t k = 0; k < cells; k++) {
                    sum += m[k];
                    if (m[k] > p[k]) p[k] = m[k];
                    if (m[k] > mx) { mx = m[k]; at = k; }
                }
                T->fmax[(ch * nd + d) * nf + f] = mx;
                die_msum[d] += sum / (double)cells;
                if (mx > die_max[d]) { die_max[d] = mx; die_tmax[d] = t_end; die_cell[d] = at; }
                if (mx > th->limit_c) over_limit = 1;
            }
            thermal_units_eval(tu, temp, u_mean, u_max);
            for (size_t u = 0; u < nu; u++) {
                u_rsum[u] += u_mean[u];
                if (u_max[u] > u_rmax[u]) { u_rmax[u] = u_max[u]; u_tmax[u] = t_end; }
            }
            if (thermal_hotspots_push(hs, (int64_t)f, t_end, temp)) goto oom;
        }
        if (thermal_hotspots_finish(hs)) goto oom;
        /* per die: the summary, and the colour range of its maps */
        for (size_t d = 0; d < nd; d++) {
            double mean = nf ? die_msum[d] / (double)nf : die_smean[d];
            json_t *e = json_object();
            json_object_set_new(e, "chip", json_integer((json_int_t)ch));
            json_object_set_new(e, "die", json_integer(c->dies[d].id));
            json_object_set_new(e, "name", json_string(c->dies[d].name));
            json_object_set_new(e, "max_c", json_real(die_max[d]));
            json_object_set_new(e, "mean_c", json_real(mean));
            json_object_set_new(e, "t_max_ns", json_real(die_tmax[d]));
            json_object_set_new(e, "x_max_mm", json_real(((double)(die_cell[d] % nx) + 0.5) * c->outline_mm[0] /
                                                          (double)nx));
            json_object_set_new(e, "y_max_mm", json_real(((double)(die_cell[d] / nx) + 0.5) * c->outline_mm[1] /
                                                          (double)ny));
            json_object_set_new(e, "steady_max_c", json_real(die_smax[d]));
            json_object_set_new(e, "steady_mean_c", json_real(die_smean[d]));
            json_array_append_new(jdies, e);
            if (die_max[d] > max_all) max_all = die_max[d];
            double lo = INFINITY;
            for (size_t k = 0; k < cells; k++) if (steady[d * cells + k] < lo) lo = steady[d * cells + k];
            T->png_lo[ch * nd + d] = lo;
            T->png_hi[ch * nd + d] = die_max[d];
        }
        for (size_t u = 0; u < nu; u++)
            T->ut[ch * nu + u] = (pda_unit_temp){ch, u, u_smean[u], u_smax[u], nf ? u_rsum[u] / (double)nf : u_smean[u],
                                                 u_rmax[u], u_tmax[u]};
        /* hotspots: ids run on across chips */
        size_t nh;
        const thermal_hotspot *hl = thermal_hotspots_list(hs, &nh);
        pda_hotspot *hp = realloc(T->hot, (T->n_hot + nh + 1) * sizeof *hp);
        if (!hp) goto oom;
        T->hot = hp;
        for (size_t k = 0; k < nh; k++) {
            const thermal_hotspot *h = &hl[k];
            if (h->stacked) n_stacked++;
            if (h->peak_frame < 0) memcpy(upow, uavg, nu * sizeof *upow);
            else
                for (size_t u = 0; u < nu; u++) upow[u] = energy[(size_t)h->peak_frame * nu + u] / (F * 1e-9);
            if (thermal_hotspots_unit_power(hs, k, c, upow, under)) goto oom;
            double tot = 0;
            size_t m = 0;
            for (size_t u = 0; u < nu; u++)
                if (under[u] > 0) { tot += under[u]; sh[m++] = (ushare){u, under[u]}; }
            qsort(sh, m, sizeof *sh, ushare_cmp);
            char *units = NULL, *with = NULL;
            size_t len;
            FILE *f = open_memstream(&units, &len);
            if (!f) goto oom;
            size_t shown = 0;
            for (size_t j = 0; j < m && shown < 12; j++) {
                if (sh[j].w < 0.005 * tot) break;
                fprintf(f, "%s%s:%.3f", shown ? ";" : "", c->units[sh[j].u].name, sh[j].w / tot);
                shown++;
            }
            if (fclose(f) != 0 || !keep_string(T, units)) goto oom;
            if (!(f = open_memstream(&with, &len))) goto oom;
            for (size_t j = 0; j < h->n_stacked_with; j++)
                fprintf(f, "%s%zu", j ? ";" : "", T->n_hot + h->stacked_with[j] + 1);
            if (fclose(f) != 0 || !keep_string(T, with)) goto oom;
            T->hot[T->n_hot + k] = (pda_hotspot){
                .id = T->n_hot + k + 1, .chip = ch, .die = h->die, .peak_c = h->peak_c, .t_peak_ns = h->t_peak_ns,
                .centroid_x_mm = h->centroid_x_mm, .centroid_y_mm = h->centroid_y_mm, .area_mm2 = h->area_mm2,
                .units = units, .stacked = h->stacked, .stacked_with = with,
                .t_first_ns = h->first_frame < 0 ? 0.0 : (double)h->first_frame * F,
                .t_last_ns = h->last_frame < 0 ? 0.0 : (double)(h->last_frame + 1) * F,
                .peak_x_mm = h->peak_x_mm, .peak_y_mm = h->peak_y_mm};
        }
        T->n_hot += nh;
    }
    json_t *grid = json_array();
    json_array_append_new(grid, json_integer((json_int_t)nx));
    json_array_append_new(grid, json_integer((json_int_t)ny));
    json_object_set_new(jt, "grid", grid);
    json_object_set_new(jt, "frame_ns", json_real(F));
    json_object_set_new(jt, "frames", json_integer((json_int_t)nf));
    json_object_set_new(jt, "ambient_c", json_real(th->ambient_c));
    json_object_set_new(jt, "hotspot_c", json_real(th->hotspot_c));
    json_object_set_new(jt, "limit_c", json_real(th->limit_c));
    json_object_set_new(jt, "max_c", json_real(max_all));
    json_object_set_new(jt, "above_limit", json_boolean(over_limit));
    json_object_set_new(jt, "dies", jdies);
    jdies = NULL;
    json_object_set_new(jt, "hotspots", json_integer((json_int_t)T->n_hot));
    json_object_set_new(jt, "stacked_hotspots", json_integer((json_int_t)n_stacked));
    json_object_set_new(jt, "compute_s", json_real(now_s() - t_start));
    json_object_set_new(r->summary, "thermal", jt);
    jt = NULL;
    r->th = T;
    T = NULL;
    goto done;
oom:
    sio_error_set(err, NULL, 0, 0, "thermal: out of memory");
    rc = PDA_ENOMEM;
fail:
done:
    pda_thermal_free(T);
    json_decref(jt);
    json_decref(jdies);
    thermal_hotspots_destroy(hs);
    thermal_units_destroy(tu);
    thermal_state_destroy(st);
    thermal_plan_destroy(plan);
    free(layers); free(chip_off); free(chip_ops); free(energy); free(upow); free(uavg); free(under);
    free(pm); free(temp); free(u_smean); free(u_rsum); free(sh);
    return rc;
}

const double *pda_result_heat(const pda_result *r, size_t chip, size_t die, int peak, size_t *nx, size_t *ny)
{
    const pda_thermal *t = r->th;
    if (!t || chip >= r->nch || die >= t->nd) return NULL;
    *nx = t->nx;
    *ny = t->ny;
    return (peak ? t->peak : t->steady) + (chip * t->nd + die) * t->nx * t->ny;
}

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
