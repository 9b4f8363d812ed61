/* report_page.c -- report_write: report.html as one self-contained file.
**
** The page is static HTML for what reads without a script (the margin and
** resonance tables), a JSON block with everything the plots need, then the
** vendored uPlot and the page's script (analyzer/report.js), both inlined
** from report_assets.h (made by tools/embed.c at build time). Nothing is
** fetched: the page opens offline.
**
** The JSON (docs/report.md describes each key): the overviews of every
** level (column start times, per series min/max of current, droop and
** dI/dt, per chip min/max of power), the detail windows, the events by
** severity with their causes, the spectra with |Z(f)|, the power
** breakdowns, the thermal maps, frames, unit temperatures and hotspots, and
** summary.json itself. '<' is written as \u003c everywhere in it, so no
** string can close the <script> element. Numbers: 5 significant digits,
** times 10; non-finite values are null. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pdn.h"
#include "report_int.h"
#include "sio_int.h"
/* generated at build time into build/gen/ (tools/embed.c): the inlined script and style */
#include <report_assets.h>

#define EVENTS_SHOWN 400   /* events on the page, the most severe */
#define SPECTRUM_POINTS 400
#define FRAMES_SHOWN 4000  /* temperature points per die; more frames are reduced to their max */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A JSON string inside the page's script element (valid UTF-8, no <, >, &). */
static void jstr(FILE *f, const char *s) { sio_json_string(f, s, 1); }

static void jnum(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.5g", x);
    else fputs("null", f);
}

static void jtime(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.10g", x);
    else fputs("null", f);
}

/* ,"key":value for each of n keys (10 digits, as times). */
static void jfields(FILE *f, const char *const *keys, const double *v, int n)
{
    for (int j = 0; j < n; j++) {
        fprintf(f, ",\"%s\":", keys[j]);
        jtime(f, v[j]);
    }
}

/* "key":[x0,x1,...] of n doubles at stride st. */
static void jarr(FILE *f, const char *key, const double *x, size_t n, size_t st)
{
    fprintf(f, "\"%s\":[", key);
    for (size_t k = 0; k < n; k++) {
        if (k) fputc(',', f);
        jnum(f, x[k * st]);
    }
    fputc(']', f);
}

/* The first bin of column c of level L (the least b with col_of(b) = c). */
static double col_start_bin(const level *L, size_t c)
{
    double b = ceil((double)c / L->scale);
    while (b > 0 && (size_t)((b - 1) * L->scale) >= c) b -= 1;
    while ((size_t)(b * L->scale) < c) b += 1;
    return b;
}

/* used[c]: whether column c of level L holds data of any series or chip
** (the page lists only those); one pass over the columns, not one per
** array. */
static void cols_used(const report *r, const level *L, unsigned char *used)
{
    memset(used, 0, L->cols);
    for (size_t k = 0; k < r->n_series; k++)
        for (size_t c = 0; c < L->cols; c++) used[c] = (unsigned char)(used[c] | (L->c[k * L->cols + c].any != 0));
    for (size_t ch = 0; ch < r->n_chips; ch++)
        for (size_t c = 0; c < L->cols; c++) used[c] = (unsigned char)(used[c] | (L->p[ch * L->cols + c].any != 0));
}

/* "key":[...] over the used columns of L: quantity q (0..5: current min and
** max, droop min and max, dI/dt min and max) of series k, or with power
** set, the power min (q = 0) or max (q = 1) of chip k. */
static void col_array(FILE *f, const level *L, const unsigned char *used, const char *key, int q, size_t k,
                      int power)
{
    fprintf(f, "\"%s\":[", key);
    int first = 1;
    for (size_t c = 0; c < L->cols; c++) {
        if (!used[c]) continue;
        if (!first) fputc(',', f);
        first = 0;
        if (power) {
            const pcol *x = &L->p[k * L->cols + c];
            if (x->any) jnum(f, q ? x->hi : x->lo);
            else fputs("null", f);
        } else {
            const col *x = &L->c[k * L->cols + c];
            const double v[6] = {x->imin, x->imax, x->dmin, x->dmax, x->gmin, x->gmax};
            if (x->any) jnum(f, v[q]);
            else fputs("null", f);
        }
    }
    fputc(']', f);
}

/* One level's overview: the column start times, then per series and chip
** their arrays. */
static int level_json(FILE *f, const report *r, const level *L)
{
    unsigned char *used = malloc(L->cols + 1);
    if (!used) return -1;
    cols_used(r, L, used);
    fprintf(f, "{\"cols\":%zu,\"t\":[", L->cols);
    int first = 1;
    for (size_t c = 0; c < L->cols; c++) {
        if (!used[c]) continue;
        if (!first) fputc(',', f);
        first = 0;
        jtime(f, col_start_bin(L, c) * r->bin_ns);
    }
    fputs("],\"series\":[", f);
    static const char *const keys[6] = {"i", "I", "d", "D", "g", "G"};
    for (size_t k = 0; k < r->n_series; k++) {
        fputs(k ? ",{" : "{", f);
        for (int q = 0; q < 6; q++) {
            if (q) fputc(',', f);
            col_array(f, L, used, keys[q], q, k, 0);
        }
        fputc('}', f);
    }
    fputs("],\"power\":[", f);
    for (size_t ch = 0; ch < r->n_chips; ch++) {
        fputs(ch ? ",{" : "{", f);
        col_array(f, L, used, "p", 0, ch, 1);
        fputc(',', f);
        col_array(f, L, used, "P", 1, ch, 1);
        fputc('}', f);
    }
    fputs("]}", f);
    free(used);
    return 0;
}

/* The windows' order on the page: by kind, then most severe first by the
** heaps' order (report_milder), so the page does not depend on the order
** the windows came in. */
static int capture_cmp(const void *a, const void *b)
{
    const capture *x = *(const capture *const *)a, *y = *(const capture *const *)b;
    if (x->kind != y->kind) return x->kind - y->kind;
    return report_milder(x, y) - report_milder(y, x);
}

static void details_json(FILE *f, const report *r)
{
    fputs("\"details\":[", f);
    const capture *order[2 * REPORT_DETAIL_KEEP];
    size_t nd = 0;
    for (int kind = 0; kind < 2; kind++)
        for (size_t j = 0; j < r->n_heap[kind]; j++) order[nd++] = &r->heap[kind][j];
    qsort(order, nd, sizeof *order, capture_cmp);
    for (size_t j = 0; j < nd; j++) {
        const capture *c = order[j];
        fprintf(f, "%s{\"s\":%zu,\"kind\":%d,\"b0\":%zu,\"sev\":", j ? "," : "", c->series, c->kind, c->b0);
        jnum(f, c->sev);
        static const char *const keys[3] = {"i", "d", "g"};
        for (int q = 0; q < 3; q++) {
            fprintf(f, ",\"%s\":[", keys[q]);
            for (size_t b = 0; b < c->n; b++) {
                if (b) fputc(',', f);
                jnum(f, (double)c->v[3 * b + (size_t)q]);
            }
            fputc(']', f);
        }
        if (c->p_state == 1) {   /* the chip's power over the window */
            fprintf(f, ",\"chip\":%zu,\"p\":[", c->series / r->n_rails);
            for (size_t b = 0; b < c->n; b++) {
                if (b) fputc(',', f);
                jnum(f, (double)c->p[b]);
            }
            fputc(']', f);
        }
        fputc('}', f);
    }
    fputs("]", f);
}

/* Orders events by severity (peak over the limit), most severe first. */
typedef struct ranked { const events_event *e; double sev, lim; } ranked;
static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return x->sev > y->sev ? -1 : x->sev < y->sev;
}

static int events_json(FILE *f, const report_page *p)
{
    size_t ne;
    const events_event *el = events_list(p->ev, &ne);
    ranked *rk = malloc((ne ? ne : 1) * sizeof *rk);
    if (!rk) return SIO_ENOMEM;
    for (size_t k = 0; k < ne; k++) {
        const sio_rail *rl = &p->chip->rails[el[k].rail];
        double lim = el[k].kind == EVENTS_DROOP ? rl->guardband_mv : rl->didt_limit_a_per_ns;
        rk[k] = (ranked){&el[k], lim > 0 ? el[k].peak / lim : el[k].peak, lim};
    }
    qsort(rk, ne, sizeof *rk, ranked_cmp);
    fprintf(f, "\"events_total\":%zu,\"events_kept\":%zu,\"events\":[", events_total(p->ev), ne);
    for (size_t k = 0; k < ne && k < EVENTS_SHOWN; k++) {
        const events_event *e = rk[k].e;
        static const char *const keys[6] = {"t0", "t1", "tp", "peak", "limit", "window_ns"};
        const double v[6] = {e->t_start_ns, e->t_end_ns, e->t_peak_ns, e->peak, rk[k].lim, e->window_ns};
        fprintf(f, "%s{\"kind\":%d,\"chip\":%zu,\"rail\":%zu", k ? "," : "", e->kind, e->chip, e->rail);
        jfields(f, keys, v, 6);
        fputs(",\"causes\":[", f);
        for (size_t q = 0; q < e->n_causes; q++) {
            const events_cause *c = &e->causes[q];
            fprintf(f, "%s{\"unit\":", q ? "," : "");
            jstr(f, p->chip->units[c->unit].name);
            fputs(",\"da\":", f);
            jnum(f, c->delta_a);
            fputs(",\"ops\":[", f);
            for (size_t j = 0; j < c->n_ops; j++) {
                uint32_t i = c->ops[j];
                fputs(j ? ",[" : "[", f);
                jstr(f, sio_schedule_id(p->s, i));
                fputc(',', f);
                jstr(f, p->chip->ops[p->s->op[i]].name);
                fprintf(f, ",%u]", p->s->line[i]);
            }
            fputs("]}", f);
        }
        fputs("]}", f);
    }
    fputc(']', f);
    free(rk);
    return SIO_OK;
}

static void spectrum_json(FILE *f, const report *r, const report_page *p)
{
    double fr[SPECTRUM_POINTS], amp[SPECTRUM_POINTS], z[SPECTRUM_POINTS];
    fputs("\"spectrum\":[", f);
    for (size_t k = 0; k < r->n_series; k++) {
        const margin_rail *e = &p->m[k];
        size_t n = margin_spectrum_get(p->sp, e->chip, e->rail, fr, amp, SPECTRUM_POINTS);
        for (size_t q = 0; q < n; q++) {
            double re, im;
            z[q] = pdn_impedance(&p->chip->rails[e->rail], fr[q], &re, &im) == 0 ? hypot(re, im) * 1e3 : NAN;
        }
        fprintf(f, "%s{\"chip\":%zu,\"rail\":%zu,", k ? "," : "", e->chip, e->rail);
        jarr(f, "f", fr, n, 1);
        fputc(',', f);
        jarr(f, "a", amp, n, 1);
        fputc(',', f);
        jarr(f, "z", z, n, 1);
        fputc('}', f);
    }
    fputc(']', f);
}

static void breakdown_json(FILE *f, const report *r, const report_page *p)
{
    fputs("\"breakdown\":[", f);
    for (size_t k = 0; k < p->n_bd; k++) {
        const report_breakdown *b = &p->bd[k];
        fprintf(f, "%s{\"title\":", k ? "," : "");
        jstr(f, b->title);
        fputs(",\"dt_ns\":", f);
        jtime(f, b->dt_ns);
        fputs(",\"names\":[", f);
        for (size_t g = 0; g < b->n_groups; g++) {
            if (g) fputc(',', f);
            jstr(f, b->names[g]);
        }
        fputs("],\"w\":[", f);
        for (size_t ch = 0; ch < r->n_chips; ch++)
            for (size_t g = 0; g < b->n_groups; g++) {
                if (ch || g) fputc(',', f);
                fputc('[', f);
                for (size_t t = 0; t < b->n_t; t++) {
                    if (t) fputc(',', f);
                    jnum(f, b->w[(ch * b->n_groups + g) * b->n_t + t]);
                }
                fputc(']', f);
            }
        fputs("]}", f);
    }
    fputc(']', f);
}

static void thermal_json(FILE *f, const report *r, const report_page *p)
{
    const report_thermal *t = p->th;
    const sio_chip *c = p->chip;
    const sio_thermal *tc = &c->thermal;
    const size_t cells = t->nx * t->ny, nu = c->n_units;
    static const char *const keys[5] = {"w_mm", "h_mm", "hot_c", "limit_c", "ambient_c"};
    const double head[5] = {c->outline_mm[0], c->outline_mm[1], tc->hotspot_c, tc->limit_c, tc->ambient_c};
    fprintf(f, "\"thermal\":{\"nx\":%zu,\"ny\":%zu", t->nx, t->ny);
    jfields(f, keys, head, 5);
    fputs(",\"dies\":[", f);
    for (size_t d = 0; d < t->n_dies; d++) {
        fprintf(f, "%s{\"id\":%d,\"name\":", d ? "," : "", c->dies[d].id);
        jstr(f, c->dies[d].name ? c->dies[d].name : "");
        fputc('}', f);
    }
    fputs("],\"units\":[", f);
    for (size_t u = 0; u < nu; u++) {
        fputs(u ? ",{\"name\":" : "{\"name\":", f);
        jstr(f, c->units[u].name);
        fprintf(f, ",\"die\":%zu,", c->units[u].die);
        jarr(f, "rect", c->units[u].rect_mm, 4, 1);
        fputc('}', f);
    }
    fputs("],\"maps\":[", f);
    for (size_t ch = 0; ch < r->n_chips; ch++)
        for (size_t d = 0; d < t->n_dies; d++) {
            size_t q = ch * t->n_dies + d;
            fprintf(f, "%s{\"chip\":%zu,\"die\":%zu,", q ? "," : "", ch, d);
            jarr(f, "steady", t->steady_c + q * cells, cells, 1);
            fputc(',', f);
            jarr(f, "peak", t->peak_c + q * cells, cells, 1);
            fputc('}', f);
        }
    /* frames: at most FRAMES_SHOWN points, each the max over the frames it stands for */
    size_t nf = t->n_frames, step = nf > FRAMES_SHOWN ? (nf + FRAMES_SHOWN - 1) / FRAMES_SHOWN : 1;
    fputs("],\"frames\":{\"t\":[", f);
    for (size_t k = 0; k < nf; k += step) {
        if (k) fputc(',', f);
        jtime(f, t->frame_t_ns[k + step - 1 < nf ? k + step - 1 : nf - 1]);
    }
    fputs("],\"max\":[", f);
    for (size_t q = 0; q < r->n_chips * t->n_dies; q++) {
        fputs(q ? ",[" : "[", f);
        for (size_t k = 0; k < nf; k += step) {
            double mx = -INFINITY;
            for (size_t j = k; j < k + step && j < nf; j++)
                if (t->frame_max_c[q * nf + j] > mx) mx = t->frame_max_c[q * nf + j];
            if (k) fputc(',', f);
            jnum(f, mx);
        }
        fputc(']', f);
    }
    fputs("]},\"unit_temps\":[", f);
    for (size_t ch = 0; ch < r->n_chips; ch++)
        for (size_t u = 0; u < nu; u++) {
            size_t q = ch * nu + u;
            const double v[4] = {t->unit_steady_max_c[q], t->unit_run_mean_c[q], t->unit_run_max_c[q],
                                 t->unit_t_run_max_ns[q]};
            fprintf(f, "%s[%zu,%zu", q ? "," : "", ch, u);
            for (int j = 0; j < 4; j++) {
                fputc(',', f);
                jtime(f, v[j]);
            }
            fputc(']', f);
        }
    fputs("],\"hotspots\":[", f);
    static const char *const hkeys[5] = {"peak_c", "t_peak_ns", "x_mm", "y_mm", "area_mm2"};
    for (size_t k = 0; k < t->n_hot; k++) {
        const double v[5] = {t->hot_peak_c[k], t->hot_t_peak_ns[k], t->hot_x_mm[k], t->hot_y_mm[k], t->hot_area_mm2[k]};
        fprintf(f, "%s{\"chip\":%zu,\"die\":%zu", k ? "," : "", t->hot_chip[k], t->hot_die[k]);
        jfields(f, hkeys, v, 5);
        fputs(",\"units\":", f);
        jstr(f, t->hot_units[k] ? t->hot_units[k] : "");
        fputc('}', f);
    }
    fputs("]}", f);
}

static int data_json(FILE *f, const report *r, const report_page *p)
{
    const sio_chip *c = p->chip;
    fputs("{\"chip\":", f);
    jstr(f, c->name);
    fputs(",\"schedule\":", f);
    jstr(f, p->s->path);
    fprintf(f, ",\"ops\":%zu,\"chips\":%zu,\"n_bins\":%zu,\"run_bins\":%zu,\"bin_ns\":", p->s->n, r->n_chips,
            r->n_bins, r->run_bins);
    jtime(f, r->bin_ns);
    fputs(",\"power_cap_w\":", f);
    if (p->power_cap_w > 0) jnum(f, p->power_cap_w);
    else fputs("null", f);
    fputs(",\"rails\":[", f);
    for (size_t rl = 0; rl < r->n_rails; rl++) {
        fputs(rl ? ",{\"name\":" : "{\"name\":", f);
        jstr(f, c->rails[rl].name);
        fputs(",\"vdd_v\":", f);
        jnum(f, c->rails[rl].vdd_v);
        fputs(",\"guardband_mv\":", f);
        jnum(f, c->rails[rl].guardband_mv);
        fputs(",\"didt_limit\":", f);
        jnum(f, c->rails[rl].didt_limit_a_per_ns);
        fputc('}', f);
    }
    fputs("],\"levels\":[", f);
    for (int l = 0; l < REPORT_LEVELS; l++) {
        if (l) fputc(',', f);
        if (level_json(f, r, &r->lv[l])) return SIO_ENOMEM;
    }
    fputs("],", f);
    details_json(f, r);
    fputc(',', f);
    if (events_json(f, p)) return SIO_ENOMEM;
    fputc(',', f);
    spectrum_json(f, r, p);
    fputc(',', f);
    breakdown_json(f, r, p);
    if (p->th) {
        fputc(',', f);
        thermal_json(f, r, p);
    }
    fputs(",\"summary\":", f);
    const char *sj = p->summary_json && *p->summary_json ? p->summary_json : "null";
    for (const char *q = sj; *q; q++) {
        if (*q == '<') fputs("\\u003c", f);
        else fputc(*q, f);
    }
    fputc('}', f);
    return SIO_OK;
}

/* The margin and its resonances as tables: they read without a script. */
static void margin_tables(FILE *f, const report *r, const report_page *p)
{
    const sio_chip *chip = p->chip;
    fputs("<section id=\"margin\"><h2>Voltage margin</h2>\n<table><tr><th>chip</th><th>rail</th><th>Vdd (V)</th>"
          "<th>worst droop (mV)</th><th>static + transient (mV)</th><th>at (ns)</th><th>p50 / p99 / p99.99 (mV)</th>"
          "<th>needs (mV)</th><th>guardband (mV)</th><th>saving (W, %)</th><th>peak / mean current (A)</th>"
          "<th>max dI/dt (A/ns)</th><th>droop / dI/dt events</th></tr>\n", f);
    for (size_t k = 0; k < r->n_series; k++) {
        const margin_rail *e = &p->m[k];
        const events_rail_stats *st = events_stats(p->ev, e->chip, e->rail);
        fprintf(f, "<tr><td>%zu</td><td class=l>", e->chip);
        html_text(f, chip->rails[e->rail].name);
        fprintf(f, "</td><td>%.3g</td><td>%.1f</td><td>%.1f + %.1f</td><td>%.0f</td><td>%.1f / %.1f / %.1f</td>"
                   "<td>%.1f</td><td>%.0f</td><td>%.2f W, %.2f%%</td><td>%.1f / %.1f</td><td>%.2f</td>"
                   "<td>%zu / %zu</td></tr>\n",
                e->vdd_v, e->worst_droop_mv, e->static_droop_mv, e->transient_droop_mv, e->t_worst_ns, e->p50_mv,
                e->p99_mv, e->p9999_mv, e->needed_guardband_mv, e->guardband_mv, e->saving_w, e->saving_pct,
                st->peak_a, st->avg_a, st->max_didt_a_per_ns, st->droop_events, st->didt_events);
    }
    fputs("</table>\n<p class=note>Needed guardband = worst droop + safety margin. The worst droop splits into its "
          "static part, the droop its bin's current gives once settled (the regulator's load line plus the IR drop "
          "its loop does not cancel, or the whole ladder's without a regulator), and the transient part on top. The "
          "saving is that of lowering Vdd by the unused guardband on the switching (op) power, which scales with "
          "V<sup>2</sup>; the idle draw is left out, so it is a floor.</p></section>\n", f);
}

static void resonance_tables(FILE *f, const report *r, const report_page *p)
{
    fputs("<div id=\"resonances\">", f);
    for (size_t k = 0; k < r->n_series; k++) {
        const margin_rail *e = &p->m[k];
        fprintf(f, "<h3>Resonances: chip %zu, rail ", e->chip);
        html_text(f, p->chip->rails[e->rail].name);
        fputs("</h3>\n<table><tr><th>resonance (MHz)</th><th>|Z| (mOhm)</th><th>current there (A)</th>"
              "<th>at (MHz)</th><th>droop it alone gives (mV)</th></tr>\n", f);
        for (size_t q = 0; q < e->n_res; q++)
            fprintf(f, "<tr><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.2f</td></tr>\n",
                    e->res[q].f_hz * 1e-6, e->res[q].z_ohm * 1e3, e->res[q].i_a, e->res[q].f_i_hz * 1e-6,
                    e->res[q].droop_mv);
        fputs("</table>\n", f);
    }
    fputs("</div>\n", f);
}

int report_write(const report *r, FILE *f, const report_page *p)
{
    const sio_chip *chip = p->chip;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n<title>pda report: ", f);
    html_text(f, chip->name);
    /* errors of any later script land in the page, where a test can see them */
    fputs("</title>\n<script>window.pdaErrors=[];window.addEventListener('error',function(e){"
          "window.pdaErrors.push(String(e.message||e));});var ce=console.error;console.error=function(){"
          "window.pdaErrors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};</script>\n<style>", f);
    fwrite(REPORT_UPLOT_CSS, 1, REPORT_UPLOT_CSS_LEN, f);
    fputs("</style>\n<style>", f);
    fwrite(REPORT_CSS, 1, REPORT_CSS_LEN, f);
    fputs("</style></head><body>\n<h1>Power and droop report: ", f);
    html_text(f, chip->name);
    fputs("</h1>\n<p>schedule <code>", f);
    html_text(f, p->s->path);
    fprintf(f, "</code>: %zu instructions on %zu chip%s, %zu bins of %g ns", p->s->n, p->s->n_chips,
            p->s->n_chips == 1 ? "" : "s", r->run_bins, r->bin_ns);
    if (r->n_bins > r->run_bins)
        fprintf(f, "; the waveforms run on %zu bins past the end of the schedule, where the chip idles while its "
                "supply settles (droop and dI/dt there count for the events and the worst droop)", r->n_bins - r->run_bins);
    fputs(".</p>\n", f);
    fputs("<noscript><p class=warn>The plots, the events and the thermal maps need JavaScript; the tables below "
          "read without it.</p></noscript>\n<nav id=\"toc\"></nav>\n", f);
    margin_tables(f, r, p);
    fputs("<section id=\"waves\"><h2>Waveforms</h2><div id=\"wave-bar\"></div><div id=\"wave-plots\"></div>"
          "</section>\n<section id=\"events\"><h2>Events</h2><div id=\"event-list\"></div></section>\n"
          "<section id=\"breakdown\"><h2>Power breakdown</h2><div id=\"breakdown-plots\"></div></section>\n"
          "<section id=\"thermal\"><h2>Thermal</h2><div id=\"thermal-body\"></div></section>\n"
          "<section id=\"spectrum\"><h2>Where the schedule meets the PDN's resonances</h2>\n"
          "<p class=note>The schedule's current spectrum (averaged over segments of the timeline) against the PDN's "
          "impedance |Z(f)|: where a peak of one meets a peak of the other, the schedule excites a resonance; "
          "staggering the bursts that make that peak lowers the droop.</p><div id=\"spectrum-plots\"></div>\n", f);
    resonance_tables(f, r, p);
    fputs("</section>\n<section id=\"summary\"><h2>Summary</h2><div id=\"summary-tables\"></div>\n"
          "<details><summary>summary.json</summary><pre>", f);
    html_text(f, p->summary_json ? p->summary_json : "");
    fputs("</pre></details></section>\n<script type=\"application/json\" id=\"pda-data\">", f);
    int rc = data_json(f, r, p);
    if (rc) return rc;
    fputs("</script>\n<script>", f);
    fwrite(REPORT_UPLOT_JS, 1, REPORT_UPLOT_JS_LEN, f);
    fputs("</script>\n<script>", f);
    fwrite(REPORT_JS, 1, REPORT_JS_LEN, f);
    fputs("</script>\n</body></html>\n", f);
    return ferror(f) ? SIO_EIO : SIO_OK;
}
