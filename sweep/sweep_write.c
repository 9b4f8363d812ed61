/* sweep_write.c -- sweep_write: DIR/sweep.csv, sweep.json and sweep.html
** (docs/sweeps.md) from the rows of every task, through one output set.
**
** Numbers are written in the shortest of %.15g, %.16g, %.17g that reads
** back to the same double, so the files hold the exact values and are the
** same bytes whichever process computed a row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outset.h"
#include "sio_int.h"
#include "sweep_int.h"

/* ---- numbers and text ---------------------------------------------------- */

/* x in the shortest form that reads back the same; "" for inf/nan (json:
** "null"). */
static const char *num(double x, char *buf, size_t cap, int json)
{
    if (!isfinite(x)) {
        snprintf(buf, cap, "%s", json ? "null" : "");
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

/* A CSV field: quoted when it holds a comma, a quote or a line end. */
static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A JSON string literal (valid UTF-8 whatever the bytes of s). */
static void json_str(FILE *f, const char *s) { sio_json_string(f, s, 0); }

static void html_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* ---- the columns of a row ------------------------------------------------ */

/* The figures of a run, then those of its re-timing (charted only when the
** sweep has a budget: n_metrics). */
enum { M_PEAK, M_WINDOW, M_ENERGY, M_DROOP, M_NEEDED, M_SAVING, M_MAXC, M_HOT, M_LEAK, N_RUN_METRICS,
       M_SLOW = N_RUN_METRICS, M_GAP, N_METRICS };
static const char *const METRIC[N_METRICS] = {"peak_w", "peak_window_w", "energy_j", "max_droop_mv",
                                              "needed_guardband_mv", "saving_w", "max_c", "hotspots", "leakage_w",
                                              "slowdown", "gap"};

static int n_metrics(const sweep *sw) { return sweep_has_budget(sw) ? N_METRICS : N_RUN_METRICS; }

/* The outcome of a row's re-timing as a word; "" when there was none. */
static const char *retime_word(const sweep_row *r)
{
    switch (r->retime) {
    case SWEEP_RETIME_MET: return "met";
    case SWEEP_RETIME_NOT_MET: return "not met";
    case SWEEP_RETIME_CANNOT: return "cannot";
    case SWEEP_RETIME_FAILED: return "failed";
    default: return "";
    }
}

/* Metric m of a row; 0 when it has none (failed row, no thermal run, no
** leakage figure, a budget not met). */
static int metric(const sweep_row *r, int m, double *x)
{
    if (!r->ok) return 0;
    switch (m) {
    case M_SLOW: *x = r->slowdown; return r->retime == SWEEP_RETIME_MET;
    case M_GAP: *x = r->gap; return r->retime == SWEEP_RETIME_MET;
    case M_PEAK: *x = r->peak_w; return 1;
    case M_WINDOW: *x = r->peak_window_w; return 1;
    case M_ENERGY: *x = r->energy_j; return 1;
    case M_DROOP: *x = r->max_droop_mv; return 1;
    case M_NEEDED: *x = r->needed_guardband_mv; return 1;
    case M_SAVING: *x = r->saving_w; return 1;
    case M_MAXC: *x = r->max_c; return r->has_thermal;
    case M_HOT: *x = (double)r->hotspots; return r->has_thermal;
    default: *x = r->leakage_w; return r->has_leakage;
    }
}

/* The limits a row can break, bit k of sweep_row.broken (SWEEP_BROKE_*). */
static const char *const LIMIT[] = {"droop", "didt", "thermal", "runaway"};
#define N_LIMITS (sizeof LIMIT / sizeof LIMIT[0])

/* "droop;didt;thermal;runaway", the limits the row broke. */
static const char *limits(const sweep_row *r, char *buf, size_t cap)
{
    size_t n = 0;   /* cap holds them all (27 bytes) */
    buf[0] = 0;
    for (size_t k = 0; k < N_LIMITS && n < cap; k++)
        if (r->broken & (1 << k)) n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ";" : "", LIMIT[k]);
    return buf;
}

/* "chip.rail" of the worst rail. */
static const char *worst(const sweep *sw, const sweep_row *r, char *buf, size_t cap)
{
    const sio_chip *c = sweep_chip(sw);
    if (!r->ok || r->worst_rail >= c->n_rails) snprintf(buf, cap, "%s", "");
    else snprintf(buf, cap, "%llu.%s", (unsigned long long)r->worst_chip, c->rails[r->worst_rail].name);
    return buf;
}

/* ---- sweep.csv ----------------------------------------------------------- */

static void write_csv(const sweep *sw, const sweep_row *rows, FILE *f)
{
    size_t nv = sweep_n_vary(sw), ns = sweep_n_schedules(sw);
    int budget = sweep_has_budget(sw);
    char b[64];
    fputs("point,schedule", f);
    for (size_t k = 0; k < nv; k++) {
        fputc(',', f);
        csv_str(f, sweep_vary_path(sw, k));
    }
    fputs(",status", f);
    for (int m = 0; m < N_RUN_METRICS; m++) fprintf(f, ",%s", METRIC[m]);
    fputs(budget ? ",worst_rail,limits,retime,slowdown,gap,retime_why\n" : ",worst_rail,limits\n", f);
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) {
        const sweep_row *r = &rows[t];
        fprintf(f, "%zu,", t / ns);
        csv_str(f, sweep_schedule_name(sw, t % ns));
        for (size_t k = 0; k < nv; k++) fprintf(f, ",%s", num(sweep_point_value(sw, k, t / ns), b, sizeof b, 0));
        fputc(',', f);
        csv_str(f, r->status);
        for (int m = 0; m < N_RUN_METRICS; m++) {
            double x;
            fprintf(f, ",%s", metric(r, m, &x) ? num(x, b, sizeof b, 0) : "");
        }
        fputc(',', f);
        csv_str(f, worst(sw, r, b, sizeof b));
        fprintf(f, ",%s", limits(r, b, sizeof b));
        if (budget) {
            fprintf(f, ",%s", retime_word(r));
            for (int m = M_SLOW; m <= M_GAP; m++) {
                double x;
                fprintf(f, ",%s", metric(r, m, &x) ? num(x, b, sizeof b, 0) : "");
            }
            fputc(',', f);
            csv_str(f, r->retime_why);
        }
        fputc('\n', f);
    }
}

/* ---- sweep.json ---------------------------------------------------------- */

static void write_json(const sweep *sw, const sweep_row *rows, FILE *f)
{
    size_t nv = sweep_n_vary(sw), ns = sweep_n_schedules(sw);
    const pda_run_opts *o = sweep_run_opts(sw);
    char b[64];
    fputs("{\n  \"format\": \"pda-sweep-result/1\",\n  \"sweep\": ", f);
    json_str(f, sweep_path(sw));
    fputs(",\n  \"chip\": ", f);
    json_str(f, sweep_chip_path(sw));
    fprintf(f, ",\n  \"mode\": \"%s\",\n  \"run\": {\"bin_ns\": %s", sweep_is_zip(sw) ? "zip" : "grid",
            num(o->bin_ns, b, sizeof b, 1));
    fprintf(f, ", \"window_ns\": %s", num(o->window_ns, b, sizeof b, 1));
    fprintf(f, ", \"safety_mv\": %s, \"thermal\": %s", num(o->safety_mv, b, sizeof b, 1),
            o->thermal ? "true" : "false");
    fprintf(f, ", \"grid\": [%zu, %zu], \"frame_ns\": %lld},\n", o->grid[0], o->grid[1], (long long)o->frame_ns);
    const int bs = sweep_has_budget(sw);
    if (bs) {   /* the budget's fixed values (the varied ones are in "vary") */
        const char *key;
        double val;
        int fixed;
        fputs("  \"retime\": {", f);
        for (size_t k = 0, first = 1; (fixed = sweep_budget_fixed(sw, k, &key, &val)) >= 0; k++)
            if (fixed) {
                fprintf(f, "%s\"%s\": %s", first ? "" : ", ", key, num(val, b, sizeof b, 1));
                first = 0;
            }
        fputs("},\n", f);
    }
    fputs("  \"schedules\": [", f);
    for (size_t s = 0; s < ns; s++) {
        if (s) fputs(", ", f);
        json_str(f, sweep_schedule_name(sw, s));
    }
    fputs("],\n  \"vary\": [", f);
    for (size_t k = 0; k < nv; k++) {
        fputs(k ? ",\n    {\"path\": " : "\n    {\"path\": ", f);
        json_str(f, sweep_vary_path(sw, k));
        fputs(", \"values\": [", f);
        for (size_t i = 0; i < sweep_vary_n(sw, k); i++)
            fprintf(f, "%s%s", i ? ", " : "", num(sweep_vary_value(sw, k, i), b, sizeof b, 1));
        fputs("]}", f);
    }
    fprintf(f, "\n  ],\n  \"points\": %zu,\n  \"rows\": [", sweep_n_points(sw));
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) {
        const sweep_row *r = &rows[t];
        fprintf(f, "%s\n    {\"point\": %zu, \"schedule\": ", t ? "," : "", t / ns);
        json_str(f, sweep_schedule_name(sw, t % ns));
        fputs(", \"values\": {", f);
        for (size_t k = 0; k < nv; k++) {
            if (k) fputs(", ", f);
            json_str(f, sweep_vary_path(sw, k));
            fprintf(f, ": %s", num(sweep_point_value(sw, k, t / ns), b, sizeof b, 1));
        }
        fputs("}, \"status\": ", f);
        json_str(f, r->status);
        for (int m = 0; m < N_RUN_METRICS; m++) {
            double x;
            fprintf(f, ", \"%s\": %s", METRIC[m], metric(r, m, &x) ? num(x, b, sizeof b, 1) : "null");
        }
        fputs(", \"worst_rail\": ", f);
        if (r->ok) json_str(f, worst(sw, r, b, sizeof b));
        else fputs("null", f);
        fputs(", \"limits\": [", f);
        for (size_t k = 0, first = 1; k < N_LIMITS; k++)
            if (r->broken & (1 << k)) {
                fprintf(f, "%s\"%s\"", first ? "" : ", ", LIMIT[k]);
                first = 0;
            }
        fputc(']', f);
        if (bs) {
            fputs(", \"retime\": ", f);
            if (r->retime == SWEEP_RETIME_NONE) fputs("null", f);
            else json_str(f, retime_word(r));
            for (int m = M_SLOW; m <= M_GAP; m++) {
                double x;
                fprintf(f, ", \"%s\": %s", METRIC[m], metric(r, m, &x) ? num(x, b, sizeof b, 1) : "null");
            }
            fputs(", \"retime_why\": ", f);
            if (r->retime_why[0]) json_str(f, r->retime_why);
            else fputs("null", f);
        }
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
}

/* ---- sweep.html ---------------------------------------------------------- */

static const char *const COLOUR[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                                     "#e377c2"};
#define N_COLOUR (sizeof COLOUR / sizeof COLOUR[0])

enum { W = 300, H = 180, ML = 58, MR = 10, MT = 12, MB = 34 };

typedef struct axis {
    double lo, hi;
    int log;
} axis;

static double ax_pos(const axis *a, double x, double p0, double p1)
{
    double u = a->log ? (log10(x) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) : (x - a->lo) / (a->hi - a->lo);
    if (!(a->hi > a->lo)) u = 0.5;
    return p0 + u * (p1 - p0);
}

/* One chart: metric m against vary k, every schedule. */
static void chart(const sweep *sw, const sweep_row *rows, int m, size_t k, FILE *f)
{
    size_t ns = sweep_n_schedules(sw), nvals = sweep_vary_n(sw, k);
    axis ax = {INFINITY, -INFINITY, 0}, ay = {INFINITY, -INFINITY, 0};
    for (size_t i = 0; i < nvals; i++) {
        double x = sweep_vary_value(sw, k, i);
        if (x < ax.lo) ax.lo = x;
        if (x > ax.hi) ax.hi = x;
    }
    ax.log = ax.lo > 0 && ax.hi >= 10 * ax.lo;
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) {
        double y;
        if (!metric(&rows[t], m, &y) || !isfinite(y)) continue;
        if (y < ay.lo) ay.lo = y;
        if (y > ay.hi) ay.hi = y;
    }
    char b[64], b2[64];
    /* the title above the chart in HTML, which wraps a long path (in the
    ** SVG it would be cut at the chart's edge) */
    fprintf(f, "<figure class=\"c\"><figcaption class=\"t\">%s vs ", METRIC[m]);
    html_str(f, sweep_vary_path(sw, k));
    fprintf(f, "</figcaption><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">", W, H, W, H);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>", ML, MT, W - ML - MR,
            H - MT - MB);
    if (!(ay.hi >= ay.lo)) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"a\">no value</text></svg></figure>\n", ML + 10, MT + 40);
        return;
    }
    if (ay.hi == ay.lo) {
        double pad = ay.lo ? fabs(ay.lo) * 0.05 : 1;
        ay.lo -= pad;
        ay.hi += pad;
    } else {
        double pad = (ay.hi - ay.lo) * 0.06;
        ay.lo -= pad;
        ay.hi += pad;
    }
    /* axes: ends of y, each x value */
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">%.4g</text>", ML - 4, MT + 10, ay.hi);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">%.4g</text>", ML - 4, H - MB, ay.lo);
    for (size_t i = 0; i < nvals; i++) {
        double x = sweep_vary_value(sw, k, i), px = ax_pos(&ax, x, ML + 12, W - MR - 12);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"g\"/>", px, MT, px, H - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"a\" text-anchor=\"middle\">%.3g</text>", px, H - MB + 13, x);
    }
    if (ax.log)
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"end\">log</text>", W - MR, H - 4);
    /* per schedule: every point, and a line through the worst at each value */
    int low_worst = m == M_SAVING;   /* less saving is worse */
    for (size_t s = 0; s < ns; s++) {
        const char *col = COLOUR[s % N_COLOUR];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"", col);
        for (size_t i = 0; i < nvals; i++) {
            double x = sweep_vary_value(sw, k, i), w = NAN;
            for (size_t p = 0; p < sweep_n_points(sw); p++) {
                double y;
                if (sweep_point_value(sw, k, p) != x || !metric(&rows[p * ns + s], m, &y)) continue;
                if (isnan(w) || (low_worst ? y < w : y > w)) w = y;
            }
            if (!isnan(w))
                fprintf(f, "%.1f,%.1f ", ax_pos(&ax, x, ML + 12, W - MR - 12), ax_pos(&ay, w, H - MB, MT));
        }
        fputs("\"/>", f);
        for (size_t p = 0; p < sweep_n_points(sw); p++) {
            double y;
            if (!metric(&rows[p * ns + s], m, &y) || !isfinite(y)) continue;
            double x = sweep_point_value(sw, k, p);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"><title>point %zu, ",
                    ax_pos(&ax, x, ML + 12, W - MR - 12), ax_pos(&ay, y, H - MB, MT), col, p);
            html_str(f, sweep_schedule_name(sw, s));
            fprintf(f, ": %s = %s at %s</title></circle>", METRIC[m], num(y, b, sizeof b, 0), num(x, b2, sizeof b2, 0));
        }
    }
    fputs("</svg></figure>\n", f);
}

static void write_html(const sweep *sw, const sweep_row *rows, FILE *f)
{
    size_t nv = sweep_n_vary(sw), ns = sweep_n_schedules(sw), nt = sweep_n_tasks(sw);
    char b[64];
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sweep ", f);
    html_str(f, sweep_path(sw));
    fputs("</title>\n<style>body{font:13px sans-serif;margin:16px;color:#222}svg{background:#fff;display:block}"
          "figure.c{display:inline-block;vertical-align:top;width:300px;margin:4px}"
          "figcaption{overflow-wrap:anywhere;margin-bottom:2px}"
          ".frame{fill:none;stroke:#999}.g{stroke:#eee}.t{font-size:12px;font-weight:bold}.a{font-size:10px;fill:#555}"
          "table{border-collapse:collapse;font-size:11px}td,th{border:1px solid #ccc;padding:2px 5px;text-align:right}"
          "th{background:#f3f3f3}.bad{color:#b00}.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}"
          "h2{font-size:15px;margin:18px 0 4px}</style></head><body>\n<h1 style=\"font-size:18px\">Design sweep ",
          f);
    html_str(f, sweep_path(sw));
    fputs("</h1>\n<p>chip ", f);
    html_str(f, sweep_chip_path(sw));
    fprintf(f, "; %zu points (%s) &times; %zu schedules = %zu runs, %zu failed, %zu broke a limit.</p>\n",
            sweep_n_points(sw), sweep_is_zip(sw) ? "zip" : "grid", ns, nt, sweep_n_failed(sw, rows),
            sweep_n_broken(sw, rows));
    if (sweep_has_budget(sw))
        fprintf(f, "<p>Each run re-timed to the budget: %zu met it, %zu did not, %zu cannot, %zu failed; "
                "slowdown and gap first.</p>\n", sweep_n_retimed(sw, rows, SWEEP_RETIME_MET),
                sweep_n_retimed(sw, rows, SWEEP_RETIME_NOT_MET), sweep_n_retimed(sw, rows, SWEEP_RETIME_CANNOT),
                sweep_n_retimed(sw, rows, SWEEP_RETIME_FAILED));
    fputs("<p class=\"key\">", f);
    for (size_t s = 0; s < ns; s++) {
        fprintf(f, "<span style=\"background:%s\"></span>", COLOUR[s % N_COLOUR]);
        html_str(f, sweep_schedule_name(sw, s));
    }
    fputs("</p>\n<p>Each chart: one metric against one varied value; a dot per run, and per schedule a line through "
          "the worst run at each value (the highest, the lowest for saving_w) over the other varied values.</p>\n",
          f);
    for (int i = 0; i < n_metrics(sw); i++) {
        /* with a budget its figures first: what the budget costs */
        int m = sweep_has_budget(sw) ? (i + N_RUN_METRICS) % N_METRICS : i;
        int any = 0;
        double x;
        for (size_t t = 0; t < nt && !any; t++) any = metric(&rows[t], m, &x);
        if (!any) continue;
        fprintf(f, "<h2>%s</h2>\n<div>", METRIC[m]);
        for (size_t k = 0; k < nv; k++) chart(sw, rows, m, k, f);
        fputs("</div>\n", f);
    }
    fputs("<h2>Every run</h2>\n<table><tr><th>point</th><th>schedule</th>", f);
    for (size_t k = 0; k < nv; k++) {
        fputs("<th>", f);
        html_str(f, sweep_vary_path(sw, k));
        fputs("</th>", f);
    }
    for (int m = 0; m < n_metrics(sw); m++) fprintf(f, "<th>%s</th>", METRIC[m]);
    fputs("<th>worst_rail</th><th>limits</th><th>status</th>", f);
    if (sweep_has_budget(sw)) fputs("<th>retime</th>", f);
    fputs("</tr>\n", f);
    for (size_t t = 0; t < nt; t++) {
        const sweep_row *r = &rows[t];
        fprintf(f, "<tr><td>%zu</td><td>", t / ns);
        html_str(f, sweep_schedule_name(sw, t % ns));
        fputs("</td>", f);
        for (size_t k = 0; k < nv; k++) fprintf(f, "<td>%.6g</td>", sweep_point_value(sw, k, t / ns));
        for (int m = 0; m < n_metrics(sw); m++) {
            double x;
            if (metric(r, m, &x)) fprintf(f, "<td>%.6g</td>", x);
            else fputs("<td></td>", f);
        }
        fputs("<td>", f);
        html_str(f, worst(sw, r, b, sizeof b));
        fprintf(f, "</td><td class=\"bad\">%s</td><td%s style=\"text-align:left\">", limits(r, b, sizeof b),
                r->ok ? "" : " class=\"bad\"");
        html_str(f, r->status);
        fputs("</td>", f);
        if (sweep_has_budget(sw)) {
            fprintf(f, "<td%s style=\"text-align:left\">", r->retime > SWEEP_RETIME_MET ? " class=\"bad\"" : "");
            html_str(f, retime_word(r));
            if (r->retime_why[0]) {
                fputs(": ", f);
                html_str(f, r->retime_why);
            }
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n</body></html>\n", f);
}

/* ---- the set ------------------------------------------------------------- */

static const char *const NAME[3] = {"sweep.csv", "sweep.json", "sweep.html"};

int sweep_write_check(const sweep *sw, const char *dir, sio_error *err)
{
    err->text[0] = 0;
    size_t ni;
    const char *const *in = sweep_inputs(sw, &ni);
    return outset_check(dir, NAME, 3, in, ni, err);
}

int sweep_write(const sweep *sw, const sweep_row *rows, const char *dir, sio_error *err)
{
    err->text[0] = 0;
    int rc = outset_mkdirs(dir, err);
    if (rc) return rc;
    size_t ni;
    const char *const *in = sweep_inputs(sw, &ni);
    outset os = {.dir = dir, .inputs = in, .n_inputs = ni};
    for (int k = 0; k < 3 && !rc; k++) {
        sio_out *so;
        if ((rc = outset_add(&os, NAME[k], &so, err))) break;
        FILE *f = sio_out_file(so);
        if (k == 0) write_csv(sw, rows, f);
        else if (k == 1) write_json(sw, rows, f);
        else write_html(sw, rows, f);
    }
    if (rc) outset_finish(&os, 0, NULL);
    else if (outset_finish(&os, 1, err)) rc = PDA_EIO;
    return rc;
}
