/* report.c -- report.html: decimated waveforms, margin and spectrum plots as
** inline SVG, tables of the margin and the events, heat maps as base64 PNG.
**
** Decimation: column c of a series covers bins [c*n/COLS, (c+1)*n/COLS) and
** keeps the min and max of current and droop there, so spikes survive any
** zoom-out. Memory: 4 doubles per column per series. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "pdn.h"

typedef struct col { double imin, imax, dmin, dmax; int any; } col;

struct report {
    size_t n_series, n_bins;
    double bin_ns;
    col *c;     /* [series][REPORT_COLS] */
};

int report_create(size_t n_series, size_t n_bins, double bin_ns, report **out)
{
    *out = NULL;
    report *r = calloc(1, sizeof *r);
    if (!r) return SIO_ENOMEM;
    r->n_series = n_series;
    r->n_bins = n_bins;
    r->bin_ns = bin_ns;
    r->c = calloc(n_series * REPORT_COLS, sizeof *r->c);
    if (!r->c) { free(r); return SIO_ENOMEM; }
    *out = r;
    return SIO_OK;
}

void report_destroy(report *r)
{
    if (!r) return;
    free(r->c);
    free(r);
}

/* The column of bin b. */
static size_t col_of(double scale, size_t b)
{
    size_t ci = (size_t)((double)b * scale);
    return ci >= REPORT_COLS ? REPORT_COLS - 1 : ci;
}

/* Widens column c to hold currents imin..imax and droops dmin..dmax (mV). */
static void col_merge(col *c, double imin, double imax, double dmin, double dmax)
{
    if (!c->any) {
        c->imin = imin; c->imax = imax; c->dmin = dmin; c->dmax = dmax;
        c->any = 1;
        return;
    }
    if (imin < c->imin) c->imin = imin;
    if (imax > c->imax) c->imax = imax;
    if (dmin < c->dmin) c->dmin = dmin;
    if (dmax > c->dmax) c->dmax = dmax;
}

/* Column by column: the bins of each piece's column in one run, reduced in
** lanes (lanes.h), where bin by bin each minimum waited on the last. NaNs
** are passed over; a run of nothing else leaves its column as it was. */
void report_push(report *r, size_t k, size_t b0, const double *i_a, const double *d_v, size_t n)
{
    col *cs = r->c + k * REPORT_COLS;
    double scale = (double)REPORT_COLS / (double)(r->n_bins ? r->n_bins : 1);
    const size_t end = b0 + n;
    for (size_t b = b0; b < end;) {
        size_t ci = col_of(scale, b), e = end;
        if (ci + 1 < REPORT_COLS) {   /* the column's first bin after b, near (ci + 1) / scale */
            double g = ceil((double)(ci + 1) / scale);
            e = g < (double)end ? (size_t)g : end;
            if (e <= b) e = b + 1;
            while (e > b + 1 && col_of(scale, e - 1) > ci) e--;
            while (e < end && col_of(scale, e) == ci) e++;
        }
        const double *ip = i_a + (b - b0), *dp = d_v + (b - b0);
        size_t m = e - b;
        double imin = lanes_min(ip, m), imax = lanes_max(ip, m);
        double dmin = lanes_min(dp, m) * 1e3, dmax = lanes_max(dp, m) * 1e3;
        b = e;
        if (!(imin <= imax && dmin <= dmax)) continue;   /* NaNs only: nothing to draw */
        col_merge(&cs[ci], imin, imax, dmin, dmax);
    }
}

void report_push_const(report *r, size_t k, size_t b0, double i_a, double droop_v, size_t n)
{
    if (n == 0) return;
    double scale = (double)REPORT_COLS / (double)(r->n_bins ? r->n_bins : 1);
    if (n <= 2 * REPORT_COLS || scale > 0.5) {   /* short: bin by bin, as report_push */
        double bi[256], bd[256];
        for (size_t j = 0; j < 256; j++) { bi[j] = i_a; bd[j] = droop_v; }
        for (size_t j = 0; j < n; j += 256) report_push(r, k, b0 + j, bi, bd, n - j < 256 ? n - j : 256);
        return;
    }
    /* every column from the first bin's to the last's holds some of them
    ** (a column is at least two bins wide) */
    if (!(i_a == i_a && droop_v == droop_v)) return;   /* NaN: nothing to draw */
    double dm = droop_v * 1e3;
    size_t c1 = col_of(scale, b0 + n - 1);
    for (size_t ci = col_of(scale, b0); ci <= c1; ci++) col_merge(&r->c[k * REPORT_COLS + ci], i_a, i_a, dm, dm);
}

int report_column(const report *r, size_t k, size_t c, double out[4])
{
    const col *x = &r->c[k * REPORT_COLS + c];
    out[0] = x->imin; out[1] = x->imax; out[2] = x->dmin; out[3] = x->dmax;
    return x->any;
}

void report_set_column(report *r, size_t k, size_t c, const double v[4], int any)
{
    col *x = &r->c[k * REPORT_COLS + c];
    *x = (col){.imin = v[0], .imax = v[1], .dmin = v[2], .dmax = v[3], .any = any};
}

/* ---- drawing ---------------------------------------------------------------- */

#define W 1100.0
#define H 220.0
#define ML 70.0
#define MR 20.0
#define MT 12.0
#define MB 34.0

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

/* A band (min..max per column) as a filled polygon, in an axis box. */
static void band(FILE *f, const col *cs, int droop, double lo, double hi, const char *colour)
{
    fprintf(f, "<polygon fill=\"%s\" stroke=\"%s\" stroke-width=\"0.6\" points=\"", colour, colour);
    double sx = (W - ML - MR) / REPORT_COLS, sy = (H - MT - MB) / (hi - lo);
    for (size_t k = 0; k < REPORT_COLS; k++) {
        if (!cs[k].any) continue;
        double v = droop ? cs[k].dmax : cs[k].imax;
        fprintf(f, "%.1f,%.1f ", ML + ((double)k + 0.5) * sx, H - MB - (v - lo) * sy);
    }
    for (size_t k = REPORT_COLS; k-- > 0;) {
        if (!cs[k].any) continue;
        double v = droop ? cs[k].dmin : cs[k].imin;
        fprintf(f, "%.1f,%.1f ", ML + ((double)k + 0.5) * sx, H - MB - (v - lo) * sy);
    }
    fputs("\"/>\n", f);
}

static void axes(FILE *f, double lo, double hi, const char *ylabel, double t_end_us)
{
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", ML, MT,
            W - ML - MR, H - MT - MB);
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4.0, y = H - MB - (H - MT - MB) * k / 4.0;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.4g</text>\n", ML - 4, y + 4, v);
        double t = t_end_us * k / 4.0, x = ML + (W - ML - MR) * k / 4.0;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">%.4g us</text>\n", x, H - MB + 16,
                t);
    }
    fprintf(f, "<text x=\"14\" y=\"%.0f\" font-size=\"11\" transform=\"rotate(-90 14 %.0f)\" "
               "text-anchor=\"middle\">%s</text>\n", (H - MB + MT) / 2, (H - MB + MT) / 2, ylabel);
}

static void series_plots(const report *r, FILE *f, const sio_chip *chip, size_t k)
{
    const col *cs = r->c + k * REPORT_COLS;
    size_t rail = k % chip->n_rails;
    double ilo = INFINITY, ihi = -INFINITY, dlo = INFINITY, dhi = -INFINITY;
    for (size_t c = 0; c < REPORT_COLS; c++) {
        if (!cs[c].any) continue;
        if (cs[c].imin < ilo) ilo = cs[c].imin;
        if (cs[c].imax > ihi) ihi = cs[c].imax;
        if (cs[c].dmin < dlo) dlo = cs[c].dmin;
        if (cs[c].dmax > dhi) dhi = cs[c].dmax;
    }
    if (!(ihi >= ilo)) return;
    double gb = chip->rails[rail].guardband_mv;
    if (gb > dhi) dhi = gb;
    if (dlo > 0) dlo = 0;
    if (ilo > 0) ilo = 0;
    ihi += 0.05 * (ihi - ilo) + 1e-9;
    dhi += 0.05 * (dhi - dlo) + 1e-9;
    double t_end_us = (double)r->n_bins * r->bin_ns * 1e-3;
    fprintf(f, "<h3>chip %zu, rail ", k / chip->n_rails);
    html_text(f, chip->rails[rail].name);
    fprintf(f, "</h3>\n<svg width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
    axes(f, ilo, ihi, "current (A)", t_end_us);
    band(f, cs, 0, ilo, ihi, "#1f77b4");
    fputs("</svg>\n", f);
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
    axes(f, dlo, dhi, "droop (mV)", t_end_us);
    band(f, cs, 1, dlo, dhi, "#d62728");
    double y = H - MB - (gb - dlo) * (H - MT - MB) / (dhi - dlo);
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-dasharray=\"6,4\"/>"
               "<text x=\"%.0f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">guardband %.0f mV</text>\n",
            ML, W - MR, y, y, W - MR - 4, y - 4, gb);
    fputs("</svg>\n", f);
}

/* log-log: the schedule's current spectrum (A) and |Z(f)| (mOhm). */
static void spectrum_plot(FILE *f, const sio_chip *chip, size_t rail, const double *fr, const double *amp, size_t n)
{
    if (n < 2) return;
    double f0 = fr[0], f1 = fr[n - 1];
    double alo = INFINITY, ahi = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (amp[k] > 0) { if (amp[k] < alo) alo = amp[k]; if (amp[k] > ahi) ahi = amp[k]; }
    if (!(ahi > 0)) return;
    if (alo < ahi * 1e-6) alo = ahi * 1e-6;
    double zlo = INFINITY, zhi = -INFINITY, z[200], zf[200];
    for (int k = 0; k < 200; k++) {
        zf[k] = f0 * pow(f1 / f0, k / 199.0);
        double re, im;
        z[k] = pdn_impedance(&chip->rails[rail], zf[k], &re, &im) == 0 ? hypot(re, im) * 1e3 : NAN;
        if (z[k] > 0 && z[k] < zlo) zlo = z[k];
        if (z[k] > zhi) zhi = z[k];
    }
    double lx0 = log10(f0), lx1 = log10(f1), la0 = log10(alo), la1 = log10(ahi) + 0.1;
    double sx = (W - ML - MR) / (lx1 - lx0);
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\">\n", W, H);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", ML, MT,
            W - ML - MR, H - MT - MB);
    for (double d = ceil(lx0); d <= lx1; d += 1) {
        double x = ML + (d - lx0) * sx;
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">%.0e Hz</text>\n",
                x, x, MT, H - MB, x, H - MB + 16, pow(10, d));
    }
    fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" points=\"", f);
    for (size_t k = 0; k < n; k++) {
        double a = amp[k] > alo ? amp[k] : alo;
        fprintf(f, "%.1f,%.1f ", ML + (log10(fr[k]) - lx0) * sx, H - MB - (log10(a) - la0) / (la1 - la0) * (H - MT - MB));
    }
    fputs("\"/>\n", f);
    if (zhi > 0 && zhi > zlo) {
        double lz0 = log10(zlo) - 0.1, lz1 = log10(zhi) + 0.1;
        fputs("<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" points=\"", f);
        for (int k = 0; k < 200; k++)
            if (z[k] > 0)
                fprintf(f, "%.1f,%.1f ", ML + (log10(zf[k]) - lx0) * sx,
                        H - MB - (log10(z[k]) - lz0) / (lz1 - lz0) * (H - MT - MB));
        fputs("\"/>\n", f);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\" fill=\"#ff7f0e\">|Z| %.3g..%.3g "
                   "mOhm</text>\n", W - MR - 4, MT + 14, zlo, zhi);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" fill=\"#1f77b4\">current amplitude %.3g..%.3g A "
               "(log)</text>\n</svg>\n", ML + 6, MT + 14, alo, ahi);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(B64[v >> 18 & 63], f);
        fputc(B64[v >> 12 & 63], f);
        fputc(i + 1 < n ? B64[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? B64[v & 63] : '=', f);
    }
}

int report_write(const report *r, FILE *f, const sio_chip *chip, const sio_schedule *s, const events_detector *ev,
                 const margin_spectrum *sp, const margin_rail *m, const char *summary_json, const report_image *img,
                 size_t n_img)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pda report</title>\n<style>"
          "body{font-family:sans-serif;margin:24px;max-width:1160px}table{border-collapse:collapse;font-size:13px}"
          "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}"
          "td.l{text-align:left}pre{font-size:11px;background:#f8f8f8;padding:8px;overflow:auto}"
          "figure{display:inline-block;margin:8px}</style></head><body>\n", f);
    fputs("<h1>Power and droop report: ", f);
    html_text(f, chip->name);
    fputs("</h1>\n<p>schedule <code>", f);
    html_text(f, s->path);
    fprintf(f, "</code>: %zu instructions on %zu chip%s, %zu bins of %g ns.</p>\n", s->n, s->n_chips,
            s->n_chips == 1 ? "" : "s", r->n_bins, r->bin_ns);
    fputs("<h2>Voltage margin</h2>\n<table><tr><th>chip</th><th>rail</th><th>Vdd (V)</th><th>worst droop (mV)</th>"
          "<th>static + transient (mV)</th><th>at (ns)</th><th>p50 / p99 / p99.99 (mV)</th><th>needs (mV)</th><th>guardband (mV)</th>"
          "<th>saving (W, %)</th><th>droop / dI/dt events</th></tr>\n", f);
    for (size_t k = 0; k < r->n_series; k++) {
        const margin_rail *e = &m[k];
        const events_rail_stats *st = events_stats(ev, e->chip, e->rail);
        fprintf(f, "<tr><td>%zu</td><td class=l>", e->chip);
        html_text(f, chip->rails[e->rail].name);
        fprintf(f, "</td><td>%.3g</td><td>%.1f</td><td>%.1f + %.1f</td><td>%.0f</td><td>%.1f / %.1f / %.1f</td>"
                   "<td>%.1f</td><td>%.0f</td><td>%.2f W, %.2f%%</td><td>%zu / %zu</td></tr>\n",
                e->vdd_v, e->worst_droop_mv, e->static_droop_mv, e->transient_droop_mv, e->t_worst_ns, e->p50_mv, e->p99_mv, e->p9999_mv, e->needed_guardband_mv,
                e->guardband_mv, e->saving_w, e->saving_pct, st->droop_events, st->didt_events);
    }
    fputs("</table>\n<p>Needed guardband = worst droop + safety margin. The worst droop splits into its static "
          "part, the droop its bin's current gives once settled (the regulator's load line plus the IR drop its "
          "loop does not cancel, or the whole ladder's without a regulator), and the transient part on top. The saving is that of lowering Vdd by the "
          "unused guardband on the switching (op) power, which scales with V<sup>2</sup>; the idle draw is left out, "
          "so it is a floor.</p>\n", f);
    fputs("<h2>Rail current and droop</h2>\n<p>Each column shows the range (min to max) of the bins it covers.</p>\n",
          f);
    for (size_t k = 0; k < r->n_series; k++) series_plots(r, f, chip, k);
    fputs("<h2>Where the schedule meets the PDN's resonances</h2>\n", f);
    fputs("<p>The schedule's current spectrum (blue, averaged over segments of the timeline) against the PDN's "
          "impedance |Z(f)| (orange): where a peak of one meets a peak of the other, the schedule excites a "
          "resonance; staggering the bursts that make that peak lowers the droop.</p>\n", f);
    double fr[400], amp[400];
    for (size_t k = 0; k < r->n_series; k++) {
        const margin_rail *e = &m[k];
        fprintf(f, "<h3>chip %zu, rail ", e->chip);
        html_text(f, chip->rails[e->rail].name);
        fputs("</h3>\n", f);
        spectrum_plot(f, chip, e->rail, fr, amp, margin_spectrum_get(sp, e->chip, e->rail, fr, amp, 400));
        fputs("<table><tr><th>resonance (MHz)</th><th>|Z| (mOhm)</th><th>current there (A)</th>"
              "<th>at (MHz)</th><th>droop it alone gives (mV)</th></tr>\n", f);
        for (size_t q = 0; q < e->n_res; q++)
            fprintf(f, "<tr><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.2f</td></tr>\n",
                    e->res[q].f_hz * 1e-6, e->res[q].z_ohm * 1e3, e->res[q].i_a, e->res[q].f_i_hz * 1e-6,
                    e->res[q].droop_mv);
        fputs("</table>\n", f);
    }
    size_t ne;
    const events_event *el = events_list(ev, &ne);
    fprintf(f, "<h2>Events</h2>\n<p>%zu counted; the most severe are listed in events.csv. The 30 worst droop "
               "events:</p>\n<table><tr><th>chip</th><th>rail</th><th>start (ns)</th><th>end (ns)</th><th>peak</th>"
               "<th>at (ns)</th><th class=l>causes (unit: current change over the window)</th></tr>\n",
            events_total(ev));
    /* the 30 worst droop events, by peak */
    size_t shown = 0;
    double last = INFINITY;
    while (shown < 30) {
        const events_event *best = NULL;
        for (size_t k = 0; k < ne; k++)
            if (el[k].kind == EVENTS_DROOP && el[k].peak < last && (!best || el[k].peak > best->peak)) best = &el[k];
        if (!best) break;
        last = best->peak;
        fprintf(f, "<tr><td>%zu</td><td class=l>", best->chip);
        html_text(f, chip->rails[best->rail].name);
        fprintf(f, "</td><td>%.0f</td><td>%.0f</td><td>%.1f mV</td><td>%.0f</td><td class=l>", best->t_start_ns,
                best->t_end_ns, best->peak, best->t_peak_ns);
        for (size_t q = 0; q < best->n_causes; q++) {
            html_text(f, chip->units[best->causes[q].unit].name);
            fprintf(f, ": %+.1f A%s", best->causes[q].delta_a, q + 1 < best->n_causes ? ", " : "");
        }
        fputs("</td></tr>\n", f);
        shown++;
    }
    fputs("</table>\n", f);
    if (n_img) {
        fputs("<h2>Heat maps</h2>\n", f);
        for (size_t k = 0; k < n_img; k++) {
            fputs("<figure><img alt=\"heat map\" src=\"data:image/png;base64,", f);
            base64(f, img[k].png, img[k].len);
            fputs("\"><figcaption>", f);
            html_text(f, img[k].caption);
            fputs("</figcaption></figure>\n", f);
        }
    }
    fputs("<h2>summary.json</h2>\n<pre>", f);
    html_text(f, summary_json);
    fputs("</pre>\n</body></html>\n", f);
    return SIO_OK;
}

