/* pipeline_write.c -- pda_result_write: the files of `analyzer run -o DIR`
** (docs/outputs.md, docs/outputs-thermal.md) from a result, all through one
** output set, so they land together or not at all. report.html gets its
** data through the report API (report.h): the thermal run's maps, frames,
** unit temperatures and hotspots, and per-class and per-unit-group power
** over time. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outset.h"
#include "pipeline_int.h"
#include "thermal_png.h"
#include "thermal_run.h"

/* Opens dir/name in the set; its FILE in *f. */
static int open_out(outset *os, const char *name, FILE **f, sio_error *err)
{
    sio_out *so;
    *f = NULL;
    int rc = outset_add(os, name, &so, err);
    if (rc == SIO_OK) *f = sio_out_file(so);
    return rc;
}

/* units.npy's header: float32 [chip][unit][bin], NumPy format 1.0. */
static void npy_header(FILE *f, size_t chips, size_t units, size_t bins)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }",
                     chips, units, bins);
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned char l[2] = {(unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    fwrite(l, 1, 2, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t k = 0; k < pad; k++) fputc(' ', f);
    fputc('\n', f);
}

static int little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* rails.csv from the spool, a tile at a time. */
static int write_rails(const pda_result *r, FILE *f, const char *dir, sio_error *err)
{
    const sio_chip *c = r->c;
    const size_t nq = r->nch * r->nr, tb = r->tb ? r->tb : 1;
    fprintf(f, "t_ns");
    for (size_t ch = 0; ch < r->nch; ch++)
        for (size_t rl = 0; rl < r->nr; rl++)
            fprintf(f, ",%zu.%s.current_a,%zu.%s.droop_mv", ch, c->rails[rl].name, ch, c->rails[rl].name);
    fputc('\n', f);
    double *buf = malloc((nq * tb * 2 + 1) * sizeof *buf);
    if (!buf) { sio_error_set(err, dir, 0, 0, "out of memory"); return PDA_ENOMEM; }
    for (size_t b0 = 0; b0 < r->nbins; b0 += tb) {
        size_t nb = r->nbins - b0 < tb ? r->nbins - b0 : tb;
        if (pda_spool_read(r->rails, (off_t)(b0 * nq * 2 * sizeof *buf), buf, nq * nb * 2 * sizeof *buf)) goto io;
        for (size_t k = 0; k < nb; k++) {
            fprintf(f, "%.10g", (double)(b0 + k) * r->o.bin_ns);
            for (size_t q = 0; q < nq; q++)
                fprintf(f, ",%.9g,%.6f", buf[q * nb * 2 + k], buf[q * nb * 2 + nb + k] * 1e3);
            fputc('\n', f);
        }
    }
    free(buf);
    return PDA_OK;
io:
    free(buf);
    sio_error_set(err, dir, 0, 0, "cannot read the kept waveforms back: %s", strerror(errno));
    return PDA_EIO;
}

/* units.npy (header, then the spool's body) and its index units.csv. */
static int write_units(const pda_result *r, outset *os, const char *dir, sio_error *err)
{
    const sio_chip *c = r->c;
    if (!little_endian()) {
        sio_error_set(err, dir, 0, 0, "units.npy is written little-endian only");
        return PDA_EIO;
    }
    FILE *f;
    int rc = open_out(os, "units.npy", &f, err);
    if (rc) return rc;
    npy_header(f, r->nch, c->n_units, r->nbins);
    char buf[65536];
    const off_t size = (off_t)(r->nch * c->n_units * r->nbins * sizeof(float));
    for (off_t at = 0; at < size;) {
        size_t got = size - at < (off_t)sizeof buf ? (size_t)(size - at) : sizeof buf;
        if (pda_spool_read(r->units, at, buf, got) || fwrite(buf, 1, got, f) != got) goto io;
        at += (off_t)got;
    }
    if ((rc = open_out(os, "units.csv", &f, err))) return rc;
    fprintf(f, "index,chip,unit,class,die,rail,idle_a\n");
    for (size_t ch = 0; ch < r->nch; ch++)
        for (size_t u = 0; u < c->n_units; u++)
            fprintf(f, "%zu,%zu,%s,%s,%d,%s,%.6g\n", ch * c->n_units + u, ch, c->units[u].name,
                    c->classes[c->units[u].cls], c->dies[c->units[u].die].id, c->rails[c->units[u].rail].name,
                    c->units[u].idle_a);
    return PDA_OK;
io:
    sio_error_set(err, dir, 0, 0, "cannot write units.npy: %s", strerror(errno));
    return PDA_EIO;
}

/* A temperature in the files: four decimals, or in exponent form past 1e9
** C (a leakage runaway), where %f would write hundreds of digits. */
static const char *celsius(char b[32], double v)
{
    snprintf(b, 32, fabs(v) < 1e9 ? "%.4f" : "%.6e", v);
    return b;
}

static void write_map_csv(FILE *f, const double *m, size_t nx, size_t ny)
{
    char b[32];
    for (size_t y = 0; y < ny; y++)
        for (size_t x = 0; x < nx; x++) fprintf(f, "%s%c", celsius(b, m[y * nx + x]), x + 1 == nx ? '\n' : ',');
}

/* A map's PNG: the die's units outlined, its name above, its hotspots'
** hottest cells marked. */
static int write_map_png(const pda_result *r, FILE *f, const double *m, size_t ch, size_t die, double lo, double hi)
{
    const sio_chip *c = r->c;
    const pda_thermal *t = r->th;
    double *rects = malloc((c->n_units ? c->n_units : 1) * 4 * sizeof *rects);
    double *marks = malloc((t->n_hot ? t->n_hot : 1) * 2 * sizeof *marks);
    if (!rects || !marks) { free(rects); free(marks); return -1; }
    size_t n = 0, nm = 0;
    for (size_t u = 0; u < c->n_units; u++)
        if (c->units[u].die == die) memcpy(rects + 4 * n++, c->units[u].rect_mm, 4 * sizeof *rects);
    for (size_t k = 0; k < t->n_hot; k++)
        if (t->hot[k].chip == ch && t->hot[k].die == die) {
            marks[2 * nm] = t->hot[k].peak_x_mm;
            marks[2 * nm++ + 1] = t->hot[k].peak_y_mm;
        }
    thermal_png_opts po = {.lo_c = lo, .hi_c = hi, .rects_mm = rects, .n_rects = n, .title = c->dies[die].name,
                           .marks_mm = marks, .n_marks = nm};
    int rc = thermal_png_write(f, m, t->nx, t->ny, c->outline_mm[0], c->outline_mm[1], &po);
    free(rects);
    free(marks);
    return rc;
}

/* The name of chip ch's die id's map k: 0 steady.csv, 1 peak.csv, 2
** steady.png, 3 peak.png (what write_thermal writes, what
** pda_result_write_check checks). */
static void heat_name(char *b, size_t n, size_t ch, int id, int k)
{
    static const char *const KIND[4] = {"steady.csv", "peak.csv", "steady.png", "peak.png"};
    snprintf(b, n, "heat/chip%zu_die%d_%s", ch, id, KIND[k]);
}

/* The thermal files: unit_temps.csv, hotspots.csv, thermal_frames.csv, and
** per chip and die the steady and peak maps, CSV and PNG. */
static int write_thermal(const pda_result *r, outset *os, const char *dir, sio_error *err)
{
    const sio_chip *c = r->c;
    const pda_thermal *t = r->th;
    const size_t nd = t->nd, nu = c->n_units, cells = t->nx * t->ny;
    FILE *fu, *fh, *ff;
    int rc;
    if ((rc = outset_mkdir(os, "heat", err)) || (rc = open_out(os, "unit_temps.csv", &fu, err)) ||
        (rc = open_out(os, "hotspots.csv", &fh, err)) || (rc = open_out(os, "thermal_frames.csv", &ff, err)))
        return rc;
    fprintf(fu, "chip,unit,die,steady_mean_c,steady_max_c,run_mean_c,run_max_c,t_run_max_ns\n");
    fprintf(fh, "id,chip,die,peak_c,t_peak_ns,centroid_x_mm,centroid_y_mm,area_mm2,units,stacked,"
                "stacked_with,t_first_ns,t_last_ns,peak_x_mm,peak_y_mm\n");
    for (size_t ch = 0; ch < r->nch; ch++) {
        for (size_t d = 0; d < nd; d++) {
            int id = c->dies[d].id;
            const double *steady = t->steady + (ch * nd + d) * cells, *peak = t->peak + (ch * nd + d) * cells;
            double lo = t->png_lo[ch * nd + d], hi = t->png_hi[ch * nd + d];
            char name[96];
            FILE *f;
            heat_name(name, sizeof name, ch, id, 0);
            if ((rc = open_out(os, name, &f, err))) return rc;
            write_map_csv(f, steady, t->nx, t->ny);
            heat_name(name, sizeof name, ch, id, 1);
            if ((rc = open_out(os, name, &f, err))) return rc;
            write_map_csv(f, peak, t->nx, t->ny);
            heat_name(name, sizeof name, ch, id, 2);
            if ((rc = open_out(os, name, &f, err))) return rc;
            if (write_map_png(r, f, steady, ch, d, lo, hi)) goto png;
            heat_name(name, sizeof name, ch, id, 3);
            if ((rc = open_out(os, name, &f, err))) return rc;
            if (write_map_png(r, f, peak, ch, d, lo, hi)) goto png;
            continue;
        png:
            sio_error_set(err, dir, 0, 0, "cannot write %s (libpng)", name);
            return PDA_EIO;
        }
        for (size_t u = 0; u < nu; u++) {
            const pda_unit_temp *x = &t->ut[ch * nu + u];
            char b[4][32];
            fprintf(fu, "%zu,%s,%d,%s,%s,%s,%s,%.0f\n", ch, c->units[u].name, c->dies[c->units[u].die].id,
                    celsius(b[0], x->steady_mean_c), celsius(b[1], x->steady_max_c), celsius(b[2], x->run_mean_c),
                    celsius(b[3], x->run_max_c), x->t_run_max_ns);
        }
    }
    for (size_t k = 0; k < t->n_hot; k++) {
        const pda_hotspot *h = &t->hot[k];
        char b[32];
        fprintf(fh, "%zu,%zu,%d,%s,%.0f,%.4f,%.4f,%.4f,%s,%d,%s,%.0f,%.0f,%.4f,%.4f\n", h->id, h->chip,
                c->dies[h->die].id, celsius(b, h->peak_c), h->t_peak_ns, h->centroid_x_mm, h->centroid_y_mm, h->area_mm2,
                h->units, h->stacked, h->stacked_with, h->t_first_ns, h->t_last_ns, h->peak_x_mm, h->peak_y_mm);
    }
    fprintf(ff, "frame,t_start_ns,t_end_ns");
    for (size_t ch = 0; ch < r->nch; ch++)
        for (size_t d = 0; d < nd; d++) fprintf(ff, ",chip%zu_die%d_max_c", ch, c->dies[d].id);
    fputc('\n', ff);
    for (size_t e = 0; e < t->nfe; e++) {   /* the frames evaluated (docs/outputs-thermal.md) */
        size_t f = t->fidx[e];
        fprintf(ff, "%zu,%.0f,%.0f", f, (double)f * t->frame_ns, (double)(f + 1) * t->frame_ns);
        char b[32];
        for (size_t q = 0; q < r->nch * nd; q++) fprintf(ff, ",%s", celsius(b, t->fmax[q * t->nfe + e]));
        fputc('\n', ff);
    }
    return PDA_OK;
}

/* The thermal run as the report takes it: plain arrays in one block (*blk,
** the caller frees it; NULL when out of memory). */
static int report_thermal_of(const pda_result *r, report_thermal *rt, double **blk)
{
    const pda_thermal *t = r->th;
    const size_t nu = r->c->n_units, nut = r->nch * nu, nh = t->n_hot;
    double *b = malloc((t->nfe + 4 * nut + 6 * nh + 1) * sizeof *b);
    size_t *z = malloc((2 * nh + 1) * sizeof *z);
    const char **hu = malloc((nh + 1) * sizeof *hu);
    *blk = NULL;
    if (!b || !z || !hu) { free(b); free(z); free(hu); return PDA_ENOMEM; }
    *blk = b;
    double *ft = b, *us = ft + t->nfe, *ur = us + nut, *um = ur + nut, *ut = um + nut, *h = ut + nut;
    for (size_t e = 0; e < t->nfe; e++) ft[e] = (double)(t->fidx[e] + 1) * t->frame_ns;
    for (size_t q = 0; q < nut; q++) {
        us[q] = t->ut[q].steady_max_c; ur[q] = t->ut[q].run_max_c;
        um[q] = t->ut[q].run_mean_c; ut[q] = t->ut[q].t_run_max_ns;
    }
    for (size_t k = 0; k < nh; k++) {
        const pda_hotspot *x = &t->hot[k];
        h[k] = x->peak_c; h[nh + k] = x->t_peak_ns; h[2 * nh + k] = x->peak_x_mm; h[3 * nh + k] = x->peak_y_mm;
        h[4 * nh + k] = x->area_mm2;
        z[k] = x->chip; z[nh + k] = x->die;
        hu[k] = x->units;
    }
    *rt = (report_thermal){.nx = t->nx, .ny = t->ny, .n_dies = t->nd, .steady_c = t->steady, .peak_c = t->peak,
                           .frame_t_ns = ft, .frame_max_c = t->fmax, .n_frames = t->nfe, .unit_steady_max_c = us,
                           .unit_run_max_c = ur, .unit_run_mean_c = um, .unit_t_run_max_ns = ut, .n_hot = nh,
                           .hot_chip = z, .hot_die = z + nh, .hot_peak_c = h, .hot_t_peak_ns = h + nh,
                           .hot_x_mm = h + 2 * nh, .hot_y_mm = h + 3 * nh, .hot_area_mm2 = h + 4 * nh,
                           .hot_units = hu};
    return PDA_OK;
}

#define BD_FRAMES 400   /* frames of the power breakdown over the makespan */
#define BD_GROUPS 12    /* unit groups drawn; the rest is "other" */

int pda_bd_groups(const sio_chip *c, char ***names, size_t **grp, size_t *ng)
{
    const size_t nu = c->n_units;
    char **nm = calloc(nu + 1, sizeof *nm);
    size_t *g_of = malloc((nu + 1) * sizeof *g_of), n = 0;
    if (!nm || !g_of) goto oom;
    for (size_t u = 0; u < nu; u++) {   /* the groups, in first-seen order */
        const char *s = c->units[u].name;
        char *key = malloc(strlen(s) + 1);
        if (!key) goto oom;
        size_t ln = 0;
        for (const char *q = s;; q++) {   /* each '.'-field without its trailing digits; empty fields dropped */
            if (*q && *q != '.') { key[ln++] = *q; continue; }
            while (ln > 0 && key[ln - 1] >= '0' && key[ln - 1] <= '9') ln--;
            if (!*q) break;
            if (ln > 0 && key[ln - 1] != '.') key[ln++] = '.';
        }
        while (ln > 0 && key[ln - 1] == '.') ln--;
        if (ln == 0) { memcpy(key, s, strlen(s)); ln = strlen(s); }   /* all digits: the name itself */
        key[ln] = 0;
        size_t g = 0;
        while (g < n && strcmp(nm[g], key) != 0) g++;
        if (g == n) nm[n++] = key;
        else free(key);
        g_of[u] = g;
    }
    *names = nm;
    *grp = g_of;
    *ng = n;
    return 0;
oom:
    for (size_t g = 0; nm && g < nu; g++) free(nm[g]);
    free(nm);
    free(g_of);
    return -1;
}

size_t pda_bd_frames(const pda_result *r, double *dt)
{
    const double mk_ns = (double)r->mk_cyc / r->c->clock_ghz;
    *dt = 0;
    if (!(mk_ns > 0) || r->c->n_units == 0) return 0;
    *dt = ceil(mk_ns / BD_FRAMES);
    return thermal_run_n_frames(mk_ns, *dt);
}

int pda_chip_ops(const sio_schedule *s, size_t nch, size_t **off, uint32_t **ops)
{
    size_t *o = calloc(nch + 1, sizeof *o), *fill = malloc((nch + 1) * sizeof *fill);
    uint32_t *x = malloc((s->n + 1) * sizeof *x);
    if (!o || !fill || !x) {
        free(o); free(fill); free(x);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) o[s->chip[i] + 1]++;
    for (size_t ch = 0; ch < nch; ch++) o[ch + 1] += o[ch];
    memcpy(fill, o, nch * sizeof *fill);
    for (size_t i = 0; i < s->n; i++) x[fill[s->chip[i]]++] = (uint32_t)i;
    free(fill);
    *off = o;
    *ops = x;
    return 0;
}

int pda_bd_chip(const pda_result *r, size_t ch, const uint32_t *ops, size_t n_ops, const size_t *grp, size_t ng,
                double *out)
{
    const sio_chip *c = r->c;
    const size_t nu = c->n_units, ncl = c->n_classes;
    const double mk_ns = (double)r->mk_cyc / c->clock_ghz;
    double dt;
    const size_t nt = pda_bd_frames(r, &dt);
    memset(out, 0, (ncl + ng) * nt * sizeof *out);
    if (!nt) return 0;
    double *e = malloc(nt * nu * sizeof *e);
    if (!e || thermal_run_frame_energy(c, r->s, ch, ops, n_ops, mk_ns, dt, nt, e)) { free(e); return -1; }
    const double *lk = pda_leak_current_a(r->leak);   /* leakage at its steady temperature, to the makespan */
    for (size_t f = 0; f < nt; f++)
        for (size_t u = 0; u < nu; u++) {
            double p = e[f * nu + u] / (dt * 1e-9) +
                       (lk ? lk[ch * nu + u] * c->rails[c->units[u].rail].vdd_v * fmin(1.0, (mk_ns - (double)f * dt) / dt)
                           : 0.0);
            out[c->units[u].cls * nt + f] += p;
            out[(ncl + grp[u]) * nt + f] += p;
        }
    free(e);
    return 0;
}

/* The power breakdowns: per class, and per unit group (pda_bd_groups), the
** BD_GROUPS - 1 largest and "other". Each chip's from pda_bd_chip, or from
** r->bd_chip for a system merged from its shares. bd[0..1] filled, their
** arrays in *blk and *names (the caller frees both); 0 when the run is
** empty, -1 when out of memory. */
static int breakdowns(const pda_result *r, report_breakdown bd[2], double **blk, char ***names)
{
    const sio_chip *c = r->c;
    const size_t nu = c->n_units, ncl = c->n_classes, nch = r->nch;
    *blk = NULL;
    *names = NULL;
    double dt;
    const size_t nt = pda_bd_frames(r, &dt);
    if (!nt) return 0;
    char **nm = NULL;
    size_t *grp = NULL, ng = 0, *rank = NULL;
    double *w = NULL, *g0 = NULL, *one = NULL, *tot = NULL;
    size_t *off = NULL;
    uint32_t *ops = NULL;
    if (!r->bd_chip && pda_chip_ops(r->s, nch, &off, &ops)) return -1;
    if (pda_bd_groups(c, &nm, &grp, &ng)) { free(off); free(ops); return -1; }
    const size_t ngs = ng > BD_GROUPS ? BD_GROUPS : ng;   /* groups drawn, "other" last when cut */
    /* w: per chip the classes' power, then the groups' drawn; g0: every group's */
    w = calloc(nch * (ncl + ngs) * nt + 1, sizeof *w);
    g0 = calloc(nch * ng * nt + 1, sizeof *g0);
    tot = calloc(ng + 1, sizeof *tot);
    rank = malloc((ng + 1) * sizeof *rank);
    one = r->bd_chip ? NULL : malloc(((ncl + ng) * nt + 1) * sizeof *one);
    if (!w || !g0 || !tot || !rank || (!r->bd_chip && !one)) goto oom;
    double *wc = w, *wg = w + nch * ncl * nt;
    for (size_t ch = 0; ch < nch; ch++) {   /* each chip over its own instructions (pda_chip_ops) */
        const double *x = r->bd_chip ? r->bd_chip + ch * (ncl + ng) * nt : one;
        if (!r->bd_chip && pda_bd_chip(r, ch, ops + off[ch], off[ch + 1] - off[ch], grp, ng, one)) goto oom;
        memcpy(wc + ch * ncl * nt, x, ncl * nt * sizeof *x);
        memcpy(g0 + ch * ng * nt, x + ncl * nt, ng * nt * sizeof *x);
        for (size_t g = 0; g < ng; g++)
            for (size_t f = 0; f < nt; f++) tot[g] += x[(ncl + g) * nt + f];
    }
    /* the ngs - 1 largest groups first, the rest into "other" */
    for (size_t g = 0; g < ng; g++) rank[g] = g;
    if (ng > ngs) {
        for (size_t a = 0; a < ng; a++)
            for (size_t b = a + 1; b < ng; b++)
                if (tot[rank[b]] > tot[rank[a]]) { size_t x = rank[a]; rank[a] = rank[b]; rank[b] = x; }
        char **nm2 = calloc(nu + 1, sizeof *nm2);
        if (!nm2) goto oom;
        for (size_t g = 0; g < ng; g++) nm2[g] = nm[rank[g]];
        free(nm);
        nm = nm2;
        free(nm[ngs - 1]);
        if (!(nm[ngs - 1] = malloc(6))) goto oom;
        memcpy(nm[ngs - 1], "other", 6);
    }
    for (size_t ch = 0; ch < nch; ch++)
        for (size_t g = 0; g < ng; g++) {   /* drawn group g holds group rank[g] (the last: all the rest) */
            const double *from = g0 + (ch * ng + rank[g]) * nt;
            double *to = wg + (ch * ngs + (g < ngs ? g : ngs - 1)) * nt;
            for (size_t f = 0; f < nt; f++) to[f] += from[f];
        }
    bd[0] = (report_breakdown){.title = "by class", .n_groups = ncl, .n_t = nt,
                               .names = (const char *const *)c->classes, .dt_ns = dt, .w = wc};
    bd[1] = (report_breakdown){.title = "by unit group", .n_groups = ngs, .n_t = nt,
                               .names = (const char *const *)nm, .dt_ns = dt, .w = wg};
    free(grp); free(tot); free(rank); free(g0); free(one); free(off); free(ops);
    *blk = w;
    *names = nm;
    return 2;
oom:
    for (size_t g = 0; nm && g < nu; g++) free(nm[g]);
    free(nm); free(grp); free(tot); free(w); free(rank); free(g0); free(one); free(off); free(ops);
    return -1;
}

/* report.html. */
static int write_report(const pda_result *r, outset *os, const char *dir, sio_error *err)
{
    sio_out *so;
    report_thermal rt;
    report_breakdown bd[2];
    double *tblk = NULL, *bblk = NULL;
    char **bnames = NULL;
    int nbd = breakdowns(r, bd, &bblk, &bnames);
    int rc = nbd < 0 ? PDA_ENOMEM : PDA_OK;
    if (!rc && r->th) rc = report_thermal_of(r, &rt, &tblk);
    if (!rc) rc = outset_add(os, "report.html", &so, err);
    report_page pg = {.chip = r->c, .s = r->s, .ev = r->ev, .sp = r->sp, .m = r->mr, .summary_json = r->summary_text,
                      .power_cap_w = r->o.power_cap_w, .th = r->th ? &rt : NULL, .bd = bd, .n_bd = nbd > 0 ? (size_t)nbd : 0};
    errno = 0;
    if (!rc) rc = report_write(r->rep, sio_out_file(so), &pg);
    int werr = errno;   /* a failed write's reason (ENOSPC ...), before the frees below */
    if (tblk) { free((void *)rt.hot_chip); free((void *)rt.hot_units); }
    free(tblk);
    free(bblk);
    for (size_t g = 0; bnames && bnames[g]; g++) free(bnames[g]);
    free(bnames);
    if (rc && !err->text[0])
        sio_error_set(err, dir, 0, 0, "%s%s", rc == PDA_ENOMEM ? "out of memory" : "cannot write report.html: ",
                      rc == PDA_ENOMEM ? "" : strerror(werr ? werr : EIO));
    return rc;
}

/* The files no output may replace: the chip, the schedule, the impedance
** tables (malloc'd; *n set), or NULL. */
static const char **run_inputs(const sio_chip *c, const sio_schedule *s, size_t *n)
{
    const char **inputs = calloc(c->n_rails + 2, sizeof *inputs);
    if (!inputs) return NULL;
    size_t ni = 0;
    inputs[ni++] = c->path;
    inputs[ni++] = s->path;
    for (size_t rl = 0; rl < c->n_rails; rl++)
        if (c->rails[rl].impedance_csv) inputs[ni++] = c->rails[rl].impedance_csv;
    *n = ni;
    return inputs;
}

int pda_result_write_check(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, const char *dir,
                           sio_error *err)
{
    err->text[0] = 0;
    size_t ni;
    const char **inputs = run_inputs(c, s, &ni);
    if (!inputs) { sio_error_set(err, dir, 0, 0, "out of memory"); return PDA_ENOMEM; }
    const int thermal = o->thermal && c->thermal.present;
    /* the files pda_result_write writes */
    const char *fixed[] = {o->keep_rails ? "rails.csv" : NULL, o->unit_maps ? "units.npy" : NULL,
                           o->unit_maps ? "units.csv" : NULL, thermal ? "unit_temps.csv" : NULL,
                           thermal ? "hotspots.csv" : NULL, thermal ? "thermal_frames.csv" : NULL, "events.csv",
                           "margin.csv", "report.html", "summary.json"};
    int rc = PDA_OK;
    for (size_t k = 0; !rc && k < sizeof fixed / sizeof *fixed; k++)
        if (fixed[k]) rc = outset_check(dir, &fixed[k], 1, inputs, ni, err);
    /* heat/, a folder (only a file or a link there is in the way), and its maps */
    struct stat st;
    char name[4096];
    snprintf(name, sizeof name, "%s/heat", dir);
    if (!rc && thermal && lstat(name, &st) == 0 && !S_ISDIR(st.st_mode)) {
        sio_error_set(err, name, 0, 0, "is %s where the outputs have a folder of that name: nothing replaced",
                      S_ISLNK(st.st_mode) ? "a link" : "a file");
        rc = PDA_EINPUT;
    }
    const size_t nch = s->chip_step ? s->n_chips_file : s->n_chips;   /* a share's: its system's */
    for (size_t k = 0; !rc && thermal && k < nch * c->n_dies * 4; k++) {
        heat_name(name, sizeof name, k / 4 / c->n_dies, c->dies[k / 4 % c->n_dies].id, (int)(k % 4));
        const char *nm = name;
        rc = outset_check(dir, &nm, 1, inputs, ni, err);
    }
    free(inputs);
    return rc;
}

int pda_result_write(const pda_result *r, const char *dir, sio_error *err)
{
    err->text[0] = 0;
    const sio_chip *c = r->c;
    if (!r->rep) {
        sio_error_set(err, dir, 0, 0, "the run kept no report (pda_run_opts.report = 0): nothing written");
        return PDA_EINPUT;
    }
    int mrc = outset_mkdirs(dir, err);
    if (mrc) return mrc;
    /* no output may replace an input: the chip, the schedule, an impedance table */
    size_t ni;
    const char **inputs = run_inputs(c, r->s, &ni);
    if (!inputs) { sio_error_set(err, dir, 0, 0, "out of memory"); return PDA_ENOMEM; }
    outset os = {.dir = dir, .inputs = inputs, .n_inputs = ni};
    FILE *f;
    int rc = PDA_OK;
    if (r->rails && !(rc = open_out(&os, "rails.csv", &f, err))) rc = write_rails(r, f, dir, err);
    if (!rc && r->units) rc = write_units(r, &os, dir, err);
    if (!rc && r->th) rc = write_thermal(r, &os, dir, err);
    /* the small files last */
    if (!rc && !(rc = open_out(&os, "events.csv", &f, err)) && (rc = events_write_csv(r->ev, r->s, f)))
        sio_error_set(err, dir, 0, 0, "cannot write events.csv: %s", strerror(errno));
    if (!rc && !(rc = open_out(&os, "margin.csv", &f, err)) && (rc = margin_write_csv(c, r->mr, r->nch * r->nr, f)))
        sio_error_set(err, dir, 0, 0, "cannot write margin.csv: %s", strerror(errno));
    if (!rc) rc = write_report(r, &os, dir, err);
    if (!rc && !(rc = open_out(&os, "summary.json", &f, err))) fprintf(f, "%s\n", r->summary_text);
    /* then everything is renamed into place at once */
    if (rc) outset_finish(&os, 0, NULL);
    else if (outset_finish(&os, 1, err)) rc = PDA_EIO;
    free(inputs);
    return rc;
}
