/* cmd_thermal.c -- the thermal part of `analyzer run` (the model of docs/thermal.md;
** every file and column is in docs/outputs-thermal.md).
**
** Per chip of the schedule, on one plan shared by all chips (the chips share
** the description): the frame energies of every unit (thermal_run), the
** steady state of the average power, then the transient from it through
** every frame. Each map feeds the peak map (hottest each cell gets, steady
** included), the per-die frame maxima, the unit temperatures and the hotspot
** tracker. Files go through run_outputs (committed or aborted with the rest
** of `run`); with no -o, everything is computed and only the summary is
** filled. Memory: frames x units energies per chip, a few maps per die, and
** frames x dies x chips maxima. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "thermal.h"
#include "thermal_png.h"
#include "thermal_run.h"

typedef struct tctx {
    const cmd_opts *o;
    const sio_chip *c;
    const sio_schedule *s;
    run_outputs *ro;
    sio_error *err;
    size_t nx, ny, cells, nd, nu, nch, nf;
    double F, mk_ns;
} tctx;

static int open_out(tctx *t, const char *name, FILE **f)
{
    sio_out *so;
    *f = NULL;
    int rc = run_outputs_add(t->ro, name, &so, t->err);
    if (rc) return cmd_exit_for(rc);
    *f = sio_out_file(so);
    return 0;
}

static int write_map_csv(tctx *t, const char *name, const double *m)
{
    FILE *f;
    if (open_out(t, name, &f)) return EXIT_IO;
    for (size_t y = 0; y < t->ny; y++)
        for (size_t x = 0; x < t->nx; x++) fprintf(f, "%.4f%c", m[y * t->nx + x], x + 1 == t->nx ? '\n' : ',');
    return 0;
}

static int write_map_png(tctx *t, const char *name, const double *m, size_t die, double lo, double hi)
{
    FILE *f;
    if (open_out(t, name, &f)) return EXIT_IO;
    const sio_chip *c = t->c;
    double *r = malloc((c->n_units ? c->n_units : 1) * 4 * sizeof *r);
    if (!r) { sio_error_set(t->err, NULL, 0, 0, "analyzer: out of memory"); return EXIT_IO; }
    size_t n = 0;
    for (size_t u = 0; u < c->n_units; u++)
        if (c->units[u].die == die) memcpy(r + 4 * n++, c->units[u].rect_mm, 4 * sizeof *r);
    thermal_png_opts po = {.lo_c = lo, .hi_c = hi, .rects_mm = r, .n_rects = n};
    int rc = thermal_png_write(f, m, t->nx, t->ny, c->outline_mm[0], c->outline_mm[1], &po);
    free(r);
    if (rc) {
        sio_error_set(t->err, t->ro->dir, 0, 0, "cannot write %s (libpng)", name);
        return EXIT_IO;
    }
    return 0;
}

typedef struct ushare { size_t u; double w; } ushare;
static int ushare_cmp(const void *a, const void *b)
{
    const ushare *x = a, *y = b;
    return x->w > y->w ? -1 : x->w < y->w;
}

int cmd_thermal(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, json_t *summary, run_outputs *ro,
                sio_error *err)
{
    double t_start = cmd_now();
    tctx t = {.o = o, .c = c, .s = s, .ro = ro, .err = err};
    const sio_thermal *th = &c->thermal;
    t.nx = o->grid[0] ? o->grid[0] : th->grid[0];
    t.ny = o->grid[1] ? o->grid[1] : th->grid[1];
    t.cells = t.nx * t.ny;
    t.nd = c->n_dies;
    t.nu = c->n_units;
    t.nch = s->n_chips ? s->n_chips : 1;
    t.F = (double)(o->frame_ns ? o->frame_ns : th->frame_ns);
    t.mk_ns = (double)sio_schedule_makespan_cyc(s) * sio_chip_period_ns(c);
    t.nf = thermal_run_n_frames(t.mk_ns, t.F);
    const size_t nx = t.nx, ny = t.ny, cells = t.cells, nd = t.nd, nu = t.nu, nch = t.nch, nf = t.nf;
    const double F = t.F;

    int exit_code = EXIT_OK, over_limit = 0;
    thermal_layer *layers = calloc(th->n_layers, sizeof *layers);
    thermal_plan *plan = NULL;
    thermal_state *st = NULL;
    thermal_units *tu = NULL;
    thermal_hotspots *hs = NULL;
    size_t *chip_off = NULL;
    uint32_t *chip_ops = NULL;
    double *energy = malloc((nf * nu + 1) * sizeof *energy);
    double *upow = malloc((nu ? nu : 1) * sizeof *upow), *uavg = malloc((nu ? nu : 1) * sizeof *uavg);
    double *under = malloc((nu ? nu : 1) * sizeof *under);
    double *pm = malloc(nd * cells * sizeof *pm), *steady = malloc(nd * cells * sizeof *steady);
    double *temp = malloc(nd * cells * sizeof *temp), *peak = malloc(nd * cells * sizeof *peak);
    double *fmax = malloc((nch * nd * nf + 1) * sizeof *fmax);
    double *u_smean = malloc(4 * (nu ? nu : 1) * sizeof *u_smean);
    double *u_smax = u_smean + nu, *u_mean = u_smean + 2 * nu, *u_max = u_smean + 3 * nu;
    double *u_rsum = malloc(3 * (nu ? nu : 1) * sizeof *u_rsum);
    double *u_rmax = u_rsum + nu, *u_tmax = u_rsum + 2 * nu;
    ushare *sh = malloc((nu ? nu : 1) * sizeof *sh);
    FILE *f_units = NULL, *f_hot = NULL, *f_frames = NULL;
    json_t *jt = json_object(), *jdies = json_array();
    size_t n_hot = 0, n_stacked = 0;
    double max_all = -INFINITY;
    if (!layers || !energy || !upow || !uavg || !under || !pm || !steady || !temp || !peak || !fmax || !u_smean ||
        !u_rsum || !sh || !jt || !jdies)
        goto oom;

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
        exit_code = trc == THERMAL_ENOMEM ? EXIT_IO : EXIT_INPUT;
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
    if (ro) {
        if (run_outputs_mkdir(ro, "heat", err)) { exit_code = EXIT_IO; goto fail; }
        if (open_out(&t, "unit_temps.csv", &f_units) || open_out(&t, "hotspots.csv", &f_hot) ||
            open_out(&t, "thermal_frames.csv", &f_frames)) {
            exit_code = EXIT_IO;
            goto fail;
        }
        fprintf(f_units, "chip,unit,die,steady_mean_c,steady_max_c,run_mean_c,run_max_c,t_run_max_ns\n");
        fprintf(f_hot, "id,chip,die,peak_c,t_peak_ns,centroid_x_mm,centroid_y_mm,area_mm2,units,stacked,"
                       "stacked_with,t_first_ns,t_last_ns,peak_x_mm,peak_y_mm\n");
    }

    for (size_t ch = 0; ch < nch; ch++) {
        const uint32_t *ops = chip_ops ? chip_ops + chip_off[ch] : NULL;
        size_t n_ops = chip_ops ? chip_off[ch + 1] - chip_off[ch] : s->n;
        if (chip_ops == NULL) ops = NULL;
        if (thermal_run_frame_energy(c, s, ch, ops, n_ops, t.mk_ns, F, nf, energy)) {
            sio_error_set(err, s->path, 0, 0, "thermal: an instruction lies outside the frames");
            exit_code = EXIT_IO;
            goto fail;
        }
        for (size_t u = 0; u < nu; u++) {
            double e = 0;
            for (size_t f = 0; f < nf; f++) e += energy[f * nu + u];
            uavg[u] = t.mk_ns > 0 ? e / (t.mk_ns * 1e-9) : 0.0;
        }
        /* steady state of the average power; the transient starts there */
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
        if (nd > 64) {
            sio_error_set(err, c->path, 0, 0, "thermal: at most 64 dies");
            exit_code = EXIT_INPUT;
            goto fail;
        }
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
                fmax[(ch * nd + d) * nf + f] = mx;
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
        /* per die: summary, maps */
        for (size_t d = 0; d < nd; d++) {
            int id = c->dies[d].id;
            double mean = nf ? die_msum[d] / (double)nf : die_smean[d];
            json_t *e = json_object();
            json_object_set_new(e, "chip", json_integer((json_int_t)ch));
            json_object_set_new(e, "die", json_integer(id));
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
            if (die_max[d] > th->limit_c && (!o->quiet || o->strict))
                fprintf(stderr, "analyzer: chip %zu die %d reaches %.1f C at %.0f ns, above limit_c %.1f C\n", ch,
                        id, die_max[d], die_tmax[d], th->limit_c);
            if (!ro) continue;
            char name[96];
            double lo = INFINITY;
            for (size_t k = 0; k < cells; k++) if (steady[d * cells + k] < lo) lo = steady[d * cells + k];
            snprintf(name, sizeof name, "heat/chip%zu_die%d_steady.csv", ch, id);
            if (write_map_csv(&t, name, steady + d * cells)) { exit_code = EXIT_IO; goto fail; }
            snprintf(name, sizeof name, "heat/chip%zu_die%d_peak.csv", ch, id);
            if (write_map_csv(&t, name, peak + d * cells)) { exit_code = EXIT_IO; goto fail; }
            snprintf(name, sizeof name, "heat/chip%zu_die%d_steady.png", ch, id);
            if (write_map_png(&t, name, steady + d * cells, d, lo, die_max[d])) { exit_code = EXIT_IO; goto fail; }
            snprintf(name, sizeof name, "heat/chip%zu_die%d_peak.png", ch, id);
            if (write_map_png(&t, name, peak + d * cells, d, lo, die_max[d])) { exit_code = EXIT_IO; goto fail; }
        }
        /* units */
        if (f_units)
            for (size_t u = 0; u < nu; u++)
                fprintf(f_units, "%zu,%s,%d,%.4f,%.4f,%.4f,%.4f,%.0f\n", ch, c->units[u].name,
                        c->dies[c->units[u].die].id, u_smean[u], u_smax[u], nf ? u_rsum[u] / (double)nf : u_smean[u],
                        u_rmax[u], u_tmax[u]);
        /* hotspots: ids run on across chips */
        size_t nh;
        const thermal_hotspot *hl = thermal_hotspots_list(hs, &nh);
        for (size_t k = 0; k < nh; k++) {
            const thermal_hotspot *h = &hl[k];
            if (h->stacked) n_stacked++;
            if (!f_hot) continue;
            if (h->peak_frame < 0) memcpy(upow, uavg, nu * sizeof *upow);
            else
                for (size_t u = 0; u < nu; u++) upow[u] = energy[(size_t)h->peak_frame * nu + u] / (F * 1e-9);
            if (thermal_hotspots_unit_power(hs, k, c, upow, under)) goto oom;
            double tot = 0;
            size_t m = 0;
            for (size_t u = 0; u < nu; u++)
                if (under[u] > 0) { tot += under[u]; sh[m++] = (ushare){u, under[u]}; }
            qsort(sh, m, sizeof *sh, ushare_cmp);
            fprintf(f_hot, "%zu,%zu,%d,%.4f,%.0f,%.4f,%.4f,%.4f,", n_hot + k + 1, ch, c->dies[h->die].id, h->peak_c,
                    h->t_peak_ns, h->centroid_x_mm, h->centroid_y_mm, h->area_mm2);
            size_t shown = 0;
            for (size_t j = 0; j < m && shown < 12; j++) {
                if (sh[j].w < 0.005 * tot) break;
                fprintf(f_hot, "%s%s:%.3f", shown ? ";" : "", c->units[sh[j].u].name, sh[j].w / tot);
                shown++;
            }
            fprintf(f_hot, ",%d,", h->stacked);
            for (size_t j = 0; j < h->n_stacked_with; j++)
                fprintf(f_hot, "%s%zu", j ? ";" : "", n_hot + h->stacked_with[j] + 1);
            fprintf(f_hot, ",%.0f,%.0f,%.4f,%.4f\n", h->first_frame < 0 ? 0.0 : (double)h->first_frame * F,
                    h->last_frame < 0 ? 0.0 : (double)(h->last_frame + 1) * F, h->peak_x_mm, h->peak_y_mm);
        }
        n_hot += nh;
    }
    if (f_frames) {
        fprintf(f_frames, "frame,t_start_ns,t_end_ns");
        for (size_t ch = 0; ch < nch; ch++)
            for (size_t d = 0; d < nd; d++) fprintf(f_frames, ",chip%zu_die%d_max_c", ch, c->dies[d].id);
        fputc('\n', f_frames);
        for (size_t f = 0; f < nf; f++) {
            fprintf(f_frames, "%zu,%.0f,%.0f", f, (double)f * F, (double)(f + 1) * F);
            for (size_t q = 0; q < nch * nd; q++) fprintf(f_frames, ",%.4f", fmax[q * nf + f]);
            fputc('\n', f_frames);
        }
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
    json_object_set_new(jt, "hotspots", json_integer((json_int_t)n_hot));
    json_object_set_new(jt, "stacked_hotspots", json_integer((json_int_t)n_stacked));
    json_object_set_new(jt, "compute_s", json_real(cmd_now() - t_start));
    json_object_set_new(summary, "thermal", jt);
    jt = NULL;
    if (over_limit && o->strict) exit_code = EXIT_LIMIT;
    goto done;
oom:
    sio_error_set(err, NULL, 0, 0, "analyzer: thermal: out of memory");
    exit_code = EXIT_IO;
fail:
done:
    json_decref(jt);
    json_decref(jdies);
    thermal_hotspots_destroy(hs);
    thermal_units_destroy(tu);
    thermal_state_destroy(st);
    thermal_plan_destroy(plan);
    free(layers); free(chip_off); free(chip_ops); free(energy); free(upow); free(uavg); free(under);
    free(pm); free(steady); free(temp); free(peak); free(fmax); free(u_smean); free(u_rsum); free(sh);
    return exit_code;
}
