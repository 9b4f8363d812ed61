/* margin.c -- guardband, saving and the current spectrum against |Z(f)|.
**
** The spectrum is Welch's method: the rail current is cut into segments of
** MARGIN_SEG bins as it streams past (bounded memory), each Hann-windowed,
** transformed with one FFTW r2c plan and its |X|^2 accumulated. The
** amplitude of a sinusoid of amplitude A shows as A in the averaged
** single-sided amplitude sqrt(mean |X|^2) * 2 / sum(window). The mean (DC)
** is removed per segment. A timeline shorter than one segment is zero-padded
** into one. */
#include "margin.h"

#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdn.h"

typedef struct acc {
    double *buf;          /* the segment being filled */
    size_t fill;
    double *psd;          /* MARGIN_SEG/2 + 1 sums of |X|^2 */
    size_t segs;
} acc;

struct margin_spectrum {
    size_t n_chips, n_rails;
    double bin_ns;
    acc *a;
    double *win, win_sum;
    double *in;
    fftw_complex *out;    /* = in: the transform runs in place */
    fftw_plan plan;
};

int margin_spectrum_create(size_t n_chips, size_t n_rails, double bin_ns, margin_spectrum **out)
{
    *out = NULL;
    margin_spectrum *m = calloc(1, sizeof *m);
    if (!m) return SIO_ENOMEM;
    m->n_chips = n_chips;
    m->n_rails = n_rails;
    m->bin_ns = bin_ns;
    size_t N = MARGIN_SEG;
    m->a = calloc(n_chips * n_rails, sizeof *m->a);
    m->win = malloc(N * sizeof *m->win);
    /* in place: FFTW's estimated plan for an in-place r2c of 16384 runs
    ** 1.7x faster than for out of place (measured) */
    m->in = fftw_malloc((N / 2 + 1) * 2 * sizeof *m->in);
    m->out = (fftw_complex *)m->in;
    if (!m->a || !m->win || !m->in) goto oom;
    for (size_t k = 0; k < n_chips * n_rails; k++) {
        m->a[k].buf = malloc(N * sizeof *m->a[k].buf);
        m->a[k].psd = calloc(N / 2 + 1, sizeof *m->a[k].psd);
        if (!m->a[k].buf || !m->a[k].psd) goto oom;
    }
    for (size_t k = 0; k < N; k++) {
        m->win[k] = 0.5 - 0.5 * cos(2 * acos(-1.0) * (double)k / (double)N);
        m->win_sum += m->win[k];
    }
    m->plan = fftw_plan_dft_r2c_1d((int)N, m->in, m->out, FFTW_ESTIMATE);
    if (!m->plan) goto oom;
    *out = m;
    return SIO_OK;
oom:
    margin_spectrum_destroy(m);
    return SIO_ENOMEM;
}

void margin_spectrum_destroy(margin_spectrum *m)
{
    if (!m) return;
    if (m->a)
        for (size_t k = 0; k < m->n_chips * m->n_rails; k++) { free(m->a[k].buf); free(m->a[k].psd); }
    free(m->a);
    free(m->win);
    if (m->plan) fftw_destroy_plan(m->plan);
    fftw_free(m->in);
    free(m);
}

static void segment(margin_spectrum *m, acc *a)
{
    size_t N = MARGIN_SEG;
    /* the mean in four partial sums (one chain of adds was a quarter of the
    ** spectrum's time) */
    double part[4] = {0, 0, 0, 0};
    size_t k4 = a->fill / 4 * 4;
    for (size_t k = 0; k < k4; k += 4)
        for (size_t j = 0; j < 4; j++) part[j] += a->buf[k + j];
    for (size_t k = k4; k < a->fill; k++) part[k - k4] += a->buf[k];
    double mean = ((part[0] + part[1]) + (part[2] + part[3])) / (double)(a->fill ? a->fill : 1);
    for (size_t k = 0; k < a->fill; k++) m->in[k] = (a->buf[k] - mean) * m->win[k];
    for (size_t k = a->fill; k < N; k++) m->in[k] = 0.0;
    fftw_execute(m->plan);
    for (size_t k = 0; k <= N / 2; k++) a->psd[k] += m->out[k][0] * m->out[k][0] + m->out[k][1] * m->out[k][1];
    a->segs++;
    a->fill = 0;
}

void margin_spectrum_push(margin_spectrum *m, size_t chip, size_t rail, const double *i_a, size_t n)
{
    acc *a = &m->a[chip * m->n_rails + rail];
    while (n) {
        size_t take = MARGIN_SEG - a->fill;
        if (take > n) take = n;
        memcpy(a->buf + a->fill, i_a, take * sizeof *i_a);
        a->fill += take;
        i_a += take;
        n -= take;
        if (a->fill == MARGIN_SEG) segment(m, a);
    }
}

void margin_spectrum_push_const(margin_spectrum *m, size_t chip, size_t rail, double i_a, size_t n)
{
    acc *a = &m->a[chip * m->n_rails + rail];
    double v[1024];
    for (size_t k = 0; k < 1024; k++) v[k] = i_a;
    /* the segment being filled, then whole segments of i_a alone: the mean
    ** removed, each adds exactly nothing to |X|^2 (the bin-by-bin sum adds
    ** the round-off of its mean), only to the count; then the rest */
    while (n && a->fill) {
        size_t take = n < 1024 ? n : 1024;
        margin_spectrum_push(m, chip, rail, v, take);
        n -= take;
    }
    a->segs += n / MARGIN_SEG;
    n %= MARGIN_SEG;
    while (n) {
        size_t take = n < 1024 ? n : 1024;
        margin_spectrum_push(m, chip, rail, v, take);
        n -= take;
    }
}

/* Amplitude (A) of bin k of accumulator a. */
static double amplitude(const margin_spectrum *m, const acc *a, size_t k)
{
    if (!a->segs) return 0.0;
    double scale = (k == 0 ? 1.0 : 2.0) / m->win_sum;
    return sqrt(a->psd[k] / (double)a->segs) * scale;
}

size_t margin_spectrum_get(const margin_spectrum *m, size_t chip, size_t rail, double *f_hz, double *amp_a,
                           size_t max)
{
    const acc *a = &m->a[chip * m->n_rails + rail];
    if (!a->segs || max == 0) return 0;
    double df = 1.0 / ((double)MARGIN_SEG * m->bin_ns * 1e-9);
    double lo = log(df), hi = log(df * (double)(MARGIN_SEG / 2));
    size_t n = 0;
    for (size_t k = 1; k <= MARGIN_SEG / 2; k++) {
        size_t slot = (size_t)((log((double)k * df) - lo) / (hi - lo + 1e-12) * (double)(max - 1));
        double amp = amplitude(m, a, k);
        if (n && slot + 1 == n) {   /* same point: keep the largest */
            if (amp > amp_a[n - 1]) { amp_a[n - 1] = amp; f_hz[n - 1] = (double)k * df; }
        } else if (slot + 1 > n && n < max) {
            f_hz[n] = (double)k * df;
            amp_a[n] = amp;
            n++;
        }
    }
    return n;
}

static void spectrum_vs_z(const sio_chip *chip, const margin_spectrum *sp, size_t c, size_t r, margin_rail *o)
{
    margin_spectrum *m = (margin_spectrum *)sp;
    acc *a = &m->a[c * m->n_rails + r];
    if (a->fill > 0 && a->segs == 0) segment(m, a);   /* a short timeline: one padded segment */
    o->n_res = 0;
    if (!a->segs) return;
    double df = 1.0 / ((double)MARGIN_SEG * m->bin_ns * 1e-9);
    double fmax = 0.5 / (m->bin_ns * 1e-9);
    const sio_rail *rail = &chip->rails[r];
    if (rail->n_z) {   /* a table: only within its range */
        if (fmax > rail->z_f_hz[rail->n_z - 1]) fmax = rail->z_f_hz[rail->n_z - 1];
    }
    double flo = 2 * df;
    if (rail->n_z && flo < rail->z_f_hz[0]) flo = rail->z_f_hz[0];
    double f[16], z[16];
    size_t nf = 0;
    if (flo >= fmax || pdn_resonances(rail, flo, fmax, f, z, 16, &nf) != 0) return;
    for (size_t k = 0; k < nf; k++) {
        margin_res e = {f[k], z[k], 0, 0, 0};
        /* the band f/1.25 .. f*1.25: where a resonance of Q >~ 2 still amplifies */
        size_t lo = (size_t)floor(f[k] / 1.25 / df), hi = (size_t)ceil(f[k] * 1.25 / df);
        if (hi > MARGIN_SEG / 2) hi = MARGIN_SEG / 2;
        if (lo < 1) lo = 1;
        for (size_t b = lo; b <= hi; b++) {
            double amp = amplitude(m, a, b), re, im;
            if (pdn_impedance(rail, (double)b * df, &re, &im) != 0) continue;
            double d = amp * hypot(re, im) * 1e3;
            if (d > e.droop_mv) { e.droop_mv = d; e.i_a = amp; e.f_i_hz = (double)b * df; }
        }
        /* keep the largest, sorted */
        size_t pos = o->n_res;
        while (pos > 0 && o->res[pos - 1].droop_mv < e.droop_mv) pos--;
        if (pos >= MARGIN_MAX_RES) continue;
        size_t last = o->n_res < MARGIN_MAX_RES ? o->n_res : MARGIN_MAX_RES - 1;
        for (size_t q = last; q > pos; q--) o->res[q] = o->res[q - 1];
        o->res[pos] = e;
        if (o->n_res < MARGIN_MAX_RES) o->n_res++;
    }
}

/* The rail's DC resistance seen from the die, as its droop model has it:
** the ladder's (with its regulator), or the table's real part at its lowest
** frequency. */
static double rail_z0_ohm(const sio_rail *rail)
{
    double re, im;
    if (pdn_impedance(rail, 0.0, &re, &im) == 0) return re;
    return rail->n_z ? rail->z_re_ohm[0] : 0.0;
}

int margin_report(const sio_chip *chip, size_t n_chips, const events_detector *ev, const margin_spectrum *sp,
                  const double *idle_a, double safety_mv, margin_rail *out)
{
    for (size_t c = 0; c < n_chips; c++) {
        for (size_t r = 0; r < chip->n_rails; r++) {
            margin_rail *o = &out[c * chip->n_rails + r];
            const events_rail_stats *st = events_stats(ev, c, r);
            const sio_rail *rail = &chip->rails[r];
            memset(o, 0, sizeof *o);
            o->chip = c;
            o->rail = r;
            o->vdd_v = rail->vdd_v;
            o->guardband_mv = rail->guardband_mv;
            if (st->bins) {
                o->worst_droop_mv = st->max_droop_v * 1e3;
                o->t_worst_ns = st->t_max_droop_ns;
                o->p50_mv = events_droop_quantile(ev, c, r, 0.5) * 1e3;
                o->p99_mv = events_droop_quantile(ev, c, r, 0.99) * 1e3;
                o->p9999_mv = events_droop_quantile(ev, c, r, 0.9999) * 1e3;
            }
            if (st->bins) {
                o->static_droop_mv = rail_z0_ohm(rail) * st->i_at_max_droop_a * 1e3;
                o->transient_droop_mv = o->worst_droop_mv - o->static_droop_mv;
            }
            o->needed_guardband_mv = o->worst_droop_mv + safety_mv;
            o->headroom_mv = o->guardband_mv - o->needed_guardband_mv;
            double avg_a = st->avg_a;
            o->avg_w = avg_a * rail->vdd_v;
            double dyn_a = avg_a - idle_a[r];
            if (dyn_a < 0) dyn_a = 0;
            o->dynamic_w = dyn_a * rail->vdd_v;
            if (o->headroom_mv > 0) {
                double v = rail->vdd_v, v2 = v - o->headroom_mv * 1e-3;
                if (v2 < 0) v2 = 0;
                o->saving_w = o->dynamic_w * (1.0 - (v2 / v) * (v2 / v));
            }
            o->saving_pct = o->avg_w > 0 ? 100.0 * o->saving_w / o->avg_w : 0.0;
            if (sp) spectrum_vs_z(chip, sp, c, r, o);
        }
    }
    return SIO_OK;
}

int margin_write_csv(const sio_chip *chip, const margin_rail *m, size_t n, FILE *f)
{
    fprintf(f, "chip,rail,vdd_v,guardband_mv,worst_droop_mv,t_worst_ns,p50_droop_mv,p99_droop_mv,"
               "p9999_droop_mv,needed_guardband_mv,headroom_mv,avg_w,dynamic_w,saving_w,saving_pct,"
               "resonance_mhz,z_peak_mohm,current_at_resonance_a,droop_from_resonance_mv,static_droop_mv,"
               "transient_droop_mv\n");
    for (size_t k = 0; k < n; k++) {
        const margin_rail *e = &m[k];
        fprintf(f, "%zu,%s,%.4g,%.4g,%.4f,%.3f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,", e->chip,
                chip->rails[e->rail].name, e->vdd_v, e->guardband_mv, e->worst_droop_mv, e->t_worst_ns, e->p50_mv,
                e->p99_mv, e->p9999_mv, e->needed_guardband_mv, e->headroom_mv, e->avg_w, e->dynamic_w, e->saving_w,
                e->saving_pct);
        if (e->n_res)
            fprintf(f, "%.4f,%.4f,%.4f,%.4f,", e->res[0].f_hz * 1e-6, e->res[0].z_ohm * 1e3, e->res[0].i_a,
                    e->res[0].droop_mv);
        else
            fprintf(f, ",,,,");
        fprintf(f, "%.4f,%.4f\n", e->static_droop_mv, e->transient_droop_mv);
    }
    return ferror(f) ? SIO_EIO : SIO_OK;
}
