/* margin.c -- guardband, saving and the current spectrum against |Z(f)|.
**
** The spectrum is Welch's method: the rail current is cut into segments of
** MARGIN_SEG bins as it streams past (bounded memory), each Hann-windowed,
** transformed with one FFTW r2c plan and its |X|^2 accumulated. The
** amplitude of a sinusoid of amplitude A shows as A in the averaged
** single-sided amplitude sqrt(mean |X|^2) * 2 / sum(window). The mean (DC)
** is removed per segment.
**
** Levels. A segment of 16384 bins of 1 ns resolves 61 kHz, and a board or
** regulator resonance sits lower. So the current also streams, averaged
** over DECIM bins at a time, into a second Welch of the same segment length
** (level 1: bins DECIM times wider, frequency steps DECIM times finer), that
** one into level 2, and so on (LEVELS in all). A resonance at f is read at
** the finest level whose step df is at most f / 8 (its band, f/1.25 to
** f*1.25, then holds 3.6 steps or more) and that has a whole segment; the
** coarsest level that has one reads down to 2 df. Level l only reads below
** 80 of its 8192 steps, where averaging over DECIM^l bins scales an
** amplitude by less than 1e-4 and folds in what lies above its Nyquist
** frequency attenuated 200-fold or more, so neither is corrected. A
** timeline shorter than one segment at level 0 is windowed over its own
** length and zero-padded into one (segment). */
#include "margin.h"

#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pda_fftw.h"
#include "pdn.h"

#define LEVELS 5      /* level 4's step is 1/8^4 of level 0's: 15 Hz at 1 ns bins */
#define DECIM 8
#define COARSE_PSD 96   /* steps a coarse level keeps: it is read below 80 */

/* four doubles in one (GCC's vector extension): what the scalar loops do,
** element by element, in vector instructions */
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));

typedef struct acc {
    double *buf;          /* the segment being filled */
    size_t fill;
    double *psd;          /* sums of |X|^2: MARGIN_SEG/2 + 1 at level 0, COARSE_PSD above */
    size_t segs;
    double part;          /* levels above 0: the sum of the bins of the sample being averaged */
    size_t n_part;
} acc;

struct margin_spectrum {
    size_t n_chips, n_rails;
    double bin_ns;
    acc *a;               /* [chip][rail][level] */
    double *win, win_sum;
    double *in;
    fftw_complex *out;    /* = in: the transform runs in place */
    fftw_plan plan;
};

static acc *acc_of(const margin_spectrum *m, size_t chip, size_t rail, size_t level)
{
    return &m->a[(chip * m->n_rails + rail) * LEVELS + level];
}

/* Point k of the periodic Hann window of n points. */
static double hann(size_t k, size_t n) { return 0.5 - 0.5 * cos(2 * acos(-1.0) * (double)k / (double)n); }

/* The step between frequencies of level l (Hz). */
static double level_df(const margin_spectrum *m, size_t l)
{
    return 1.0 / ((double)MARGIN_SEG * m->bin_ns * 1e-9 * pow(DECIM, (double)l));
}

int margin_spectrum_create(size_t n_chips, size_t n_rails, double bin_ns, margin_spectrum **out)
{
    *out = NULL;
    margin_spectrum *m = calloc(1, sizeof *m);
    if (!m) return SIO_ENOMEM;
    m->n_chips = n_chips;
    m->n_rails = n_rails;
    m->bin_ns = bin_ns;
    size_t N = MARGIN_SEG;
    m->a = calloc(n_chips * n_rails * LEVELS, sizeof *m->a);
    m->win = malloc(N * sizeof *m->win);
    /* in place: FFTW's estimated plan for an in-place r2c of 16384 runs
    ** 1.7x faster than for out of place (measured) */
    m->in = fftw_malloc((N / 2 + 1) * 2 * sizeof *m->in);
    m->out = (fftw_complex *)m->in;
    if (!m->a || !m->win || !m->in) goto oom;
    for (size_t k = 0; k < n_chips * n_rails * LEVELS; k++) {
        m->a[k].buf = malloc(N * sizeof *m->a[k].buf);
        m->a[k].psd = calloc(k % LEVELS ? COARSE_PSD : N / 2 + 1, sizeof *m->a[k].psd);
        if (!m->a[k].buf || !m->a[k].psd) goto oom;
    }
    for (size_t k = 0; k < N; k++) {
        m->win[k] = hann(k, N);
        m->win_sum += m->win[k];
    }
    pda_fftw_thread_safe();
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
        for (size_t k = 0; k < m->n_chips * m->n_rails * LEVELS; k++) { free(m->a[k].buf); free(m->a[k].psd); }
    free(m->a);
    free(m->win);
    if (m->plan) fftw_destroy_plan(m->plan);
    fftw_free(m->in);
    free(m);
}

/* Transforms a's segment (its fill bins, zero-padded) into its sums; n_psd
** of them. The passes over a whole segment have fixed trip counts and
** restrict pointers, so that they are vectorized (AVX2 where the machine has
** it): each result is that of the scalar loop, element by element. */
__attribute__((target_clones("avx2", "default")))
static void segment(margin_spectrum *m, acc *a, size_t n_psd)
{
    enum { N = MARGIN_SEG };
    const double *restrict buf = a->buf, *restrict win = m->win;
    double *restrict in = m->in;
    const size_t fill = a->fill;
    /* a segment of one value has nothing left once its mean is removed: it
    ** only counts, as push_level_const counts it (the transform would add
    ** the round-off of its mean, ~1e-30 A, which a run split otherwise
    ** would not) */
    size_t same = 1;
    while (same < fill && buf[same] == buf[0]) same++;
    if (same == fill) {
        a->segs++;
        a->fill = 0;
        return;
    }
    /* the mean in four partial sums (one chain of adds was a quarter of the
    ** spectrum's time) */
    double part[4] = {0, 0, 0, 0};
    size_t k4 = fill / 4 * 4;
    if (fill == N) {
        for (size_t k = 0; k < N; k += 4)
            for (size_t j = 0; j < 4; j++) part[j] += buf[k + j];
    } else {
        for (size_t k = 0; k < k4; k += 4)
            for (size_t j = 0; j < 4; j++) part[j] += buf[k + j];
    }
    for (size_t k = k4; k < fill; k++) part[k - k4] += buf[k];
    double mean = ((part[0] + part[1]) + (part[2] + part[3])) / (double)(fill ? fill : 1);
    if (fill == N) {
        const v4d mv = {mean, mean, mean, mean};
        for (size_t k = 0; k < N; k += 4) {
            v4d b, w;
            memcpy(&b, buf + k, sizeof b);
            memcpy(&w, win + k, sizeof w);
            b = (b - mv) * w;
            memcpy(in + k, &b, sizeof b);
        }
    } else {
        /* a timeline shorter than a segment (levels_read): Hann-windowed
        ** over its own fill bins, zero-padded, and scaled so that its sums
        ** read as a whole segment's would (the whole window's sum over its
        ** own). The whole window over the first fill bins, near 0 there,
        ** read a 6.4 A tone in 950 bins as 0.008 A. */
        double ws = 0;
        for (size_t k = 0; k < fill; k++) {
            double w = hann(k, fill);
            in[k] = (buf[k] - mean) * w;
            ws += w;
        }
        double gain = m->win_sum / ws;   /* ws > 0: fill >= 2 here */
        for (size_t k = 0; k < fill; k++) in[k] *= gain;
        for (size_t k = fill; k < N; k++) in[k] = 0.0;
    }
    fftw_execute(m->plan);
    /* out = in, interleaved (re, im); n_psd is N/2 + 1 or COARSE_PSD */
    const double *restrict o = m->in;
    double *restrict psd = a->psd;
    size_t n4 = n_psd / 4 * 4;
    for (size_t k = 0; k < n4; k += 4) {   /* (re0 im0 re1 im1) (re2 im2 re3 im3) -> re, im of four */
        v4d x, y, p;
        memcpy(&x, o + 2 * k, sizeof x);
        memcpy(&y, o + 2 * k + 4, sizeof y);
        v4d re = __builtin_shuffle(x, y, (v4i){0, 2, 4, 6}), im = __builtin_shuffle(x, y, (v4i){1, 3, 5, 7});
        memcpy(&p, psd + k, sizeof p);
        p += re * re + im * im;
        memcpy(psd + k, &p, sizeof p);
    }
    for (size_t k = n4; k < n_psd; k++) psd[k] += o[2 * k] * o[2 * k] + o[2 * k + 1] * o[2 * k + 1];
    a->segs++;
    a->fill = 0;
}

/* n samples of level l: into its segments, and averaged DECIM at a time
** into level l + 1. */
static void push_level(margin_spectrum *m, acc *a, size_t l, const double *v, size_t n)
{
    for (size_t k = 0; k < n;) {
        size_t take = MARGIN_SEG - a->fill < n - k ? MARGIN_SEG - a->fill : n - k;
        memcpy(a->buf + a->fill, v + k, take * sizeof *v);
        a->fill += take;
        k += take;
        if (a->fill == MARGIN_SEG) segment(m, a, l ? COARSE_PSD : MARGIN_SEG / 2 + 1);
    }
    if (l + 1 == LEVELS) return;
    acc *up = a + 1;
    double avg[256];
    size_t na = 0, k = 0;
    while (k < n && up->n_part) {   /* the sample begun in the last push */
        up->part += v[k++];
        if (++up->n_part == DECIM) {
            avg[na++] = up->part / DECIM;
            up->part = 0.0;
            up->n_part = 0;
        }
    }
    for (; k + DECIM <= n; k += DECIM) {   /* whole samples, summed in pairs */
        const double *x = v + k;
        avg[na++] = (((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]))) / DECIM;
        if (na == 256) { push_level(m, up, l + 1, avg, na); na = 0; }
    }
    if (na) push_level(m, up, l + 1, avg, na);
    for (; k < n; k++) {   /* the start of the next */
        up->part += v[k];
        up->n_part++;
    }
}

/* n samples of the constant v at level l, in O(levels x MARGIN_SEG):
** a whole segment of one value has nothing left once its mean is removed,
** so it only counts, as segment() counts one pushed bin by bin. */
static void push_level_const(margin_spectrum *m, acc *a, size_t l, double v, size_t n)
{
    /* the segment being filled, then whole segments, then the rest; level
    ** l + 1 gets the same samples averaged */
    size_t head = a->fill ? MARGIN_SEG - a->fill : 0;
    if (head > n) head = n;
    size_t whole = (n - head) / MARGIN_SEG;
    size_t tail = n - head - whole * MARGIN_SEG;
    for (size_t k = 0; k < head + tail; k++) {   /* into this level's segments only */
        a->buf[a->fill++] = v;
        if (a->fill == MARGIN_SEG) segment(m, a, l ? COARSE_PSD : MARGIN_SEG / 2 + 1);
    }
    a->segs += whole;
    if (l + 1 == LEVELS) return;
    acc *up = a + 1;
    /* the sample being averaged, then whole samples of v, then the rest */
    size_t first = up->n_part ? DECIM - up->n_part : 0;
    if (first > n) first = n;
    up->part += v * (double)first;
    up->n_part += first;
    n -= first;
    if (up->n_part == DECIM) {
        double s = up->part / DECIM;
        up->part = 0.0;
        up->n_part = 0;
        push_level(m, up, l + 1, &s, 1);
    }
    if (n / DECIM) push_level_const(m, up, l + 1, v, n / DECIM);
    up->part += v * (double)(n % DECIM);
    up->n_part += n % DECIM;
}

void margin_spectrum_push(margin_spectrum *m, size_t chip, size_t rail, const double *i_a, size_t n)
{
    push_level(m, acc_of(m, chip, rail, 0), 0, i_a, n);
}

void margin_spectrum_push_const(margin_spectrum *m, size_t chip, size_t rail, double i_a, size_t n)
{
    push_level_const(m, acc_of(m, chip, rail, 0), 0, i_a, n);
}

/* Amplitude (A) of step k of accumulator a. */
static double amplitude(const margin_spectrum *m, const acc *a, size_t k)
{
    if (!a->segs) return 0.0;
    double scale = (k == 0 ? 1.0 : 2.0) / m->win_sum;
    return sqrt(a->psd[k] / (double)a->segs) * scale;
}

/* The levels of one chip's rail that are read, and the band each reads:
** level l (coarsest first) over steps [lo[l], hi[l]]; returns the coarsest
** level read, or -1 when none has data. Level 0's partial segment, when it
** has no whole one, is zero-padded into one first. */
static int levels_read(margin_spectrum *m, size_t chip, size_t rail, size_t lo[LEVELS], size_t hi[LEVELS])
{
    acc *a0 = acc_of(m, chip, rail, 0);
    if (a0->fill > 0 && a0->segs == 0) segment(m, a0, MARGIN_SEG / 2 + 1);   /* a short timeline */
    if (!a0->segs) return -1;
    int top = 0;
    while (top + 1 < LEVELS && acc_of(m, chip, rail, (size_t)top + 1)->segs) top++;
    for (int l = 0; l <= top; l++) {
        /* from df >= f / 8 up to where the finer level takes over */
        lo[l] = l == top ? 2 : 8;
        hi[l] = l == 0 ? MARGIN_SEG / 2 : 8 * DECIM - 1;
    }
    return top;
}

size_t margin_spectrum_get(const margin_spectrum *m, size_t chip, size_t rail, double *f_hz, double *amp_a,
                           size_t max)
{
    size_t lo[LEVELS], hi[LEVELS];
    int top = levels_read((margin_spectrum *)m, chip, rail, lo, hi);
    if (top < 0 || max == 0) return 0;
    double flo = log((double)lo[top] * level_df(m, (size_t)top)), fhi = log((double)hi[0] * level_df(m, 0));
    size_t n = 0;
    for (int l = top; l >= 0; l--) {
        const acc *a = acc_of(m, chip, rail, (size_t)l);
        double df = level_df(m, (size_t)l);
        for (size_t k = lo[l]; k <= hi[l]; k++) {
            double f = (double)k * df;
            size_t slot = (size_t)((log(f) - flo) / (fhi - flo + 1e-12) * (double)(max - 1));
            double amp = amplitude(m, a, k);
            if (n && slot + 1 == n) {   /* same point: keep the largest */
                if (amp > amp_a[n - 1]) { amp_a[n - 1] = amp; f_hz[n - 1] = f; }
            } else if (slot + 1 > n && n < max) {
                f_hz[n] = f;
                amp_a[n] = amp;
                n++;
            }
        }
    }
    return n;
}

static void spectrum_vs_z(const sio_chip *chip, const margin_spectrum *sp, size_t c, size_t r, margin_rail *o)
{
    margin_spectrum *m = (margin_spectrum *)sp;
    size_t lo[LEVELS], hi[LEVELS];
    int top = levels_read(m, c, r, lo, hi);
    o->n_res = 0;
    if (top < 0) return;
    double fmax = 0.5 / (m->bin_ns * 1e-9);
    const sio_rail *rail = &chip->rails[r];
    if (rail->n_z) {   /* a table: only within its range */
        if (fmax > rail->z_f_hz[rail->n_z - 1]) fmax = rail->z_f_hz[rail->n_z - 1];
    }
    double flo = (double)lo[top] * level_df(m, (size_t)top);
    if (rail->n_z && flo < rail->z_f_hz[0]) flo = rail->z_f_hz[0];
    double f[16], z[16];
    size_t nf = 0;
    if (flo >= fmax || pdn_resonances(rail, flo, fmax, f, z, 16, &nf) != 0) return;
    for (size_t k = 0; k < nf; k++) {
        margin_res e = {f[k], z[k], 0, 0, 0};
        /* the finest level that resolves f */
        size_t l = 0;
        while ((int)l < top && f[k] < (double)lo[l] * level_df(m, l)) l++;
        const acc *a = acc_of(m, c, r, l);
        double df = level_df(m, l);
        size_t last = l ? COARSE_PSD - 1 : MARGIN_SEG / 2;
        /* the band f/1.25 .. f*1.25: where a resonance of Q >~ 2 still
        ** amplifies (its steps inside it; with no current at all, the first
        ** of them is named) */
        size_t blo = (size_t)ceil(f[k] / 1.25 / df), bhi = (size_t)floor(f[k] * 1.25 / df);
        if (bhi > last) bhi = last;
        if (blo < 1) blo = 1;
        for (size_t b = blo; b <= bhi; b++) {
            double amp = amplitude(m, a, b), re, im;
            if (pdn_impedance(rail, (double)b * df, &re, &im) != 0) continue;
            double d = amp * hypot(re, im) * 1e3;
            if (d > e.droop_mv || b == blo) { e.droop_mv = d; e.i_a = amp; e.f_i_hz = (double)b * df; }
        }
        /* keep the largest, sorted */
        size_t pos = o->n_res;
        while (pos > 0 && o->res[pos - 1].droop_mv < e.droop_mv) pos--;
        if (pos >= MARGIN_MAX_RES) continue;
        size_t end = o->n_res < MARGIN_MAX_RES ? o->n_res : MARGIN_MAX_RES - 1;
        for (size_t q = end; q > pos; q--) o->res[q] = o->res[q - 1];
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
            if (st->bins || st->tail_bins) {   /* the tail counts (an empty schedule's chip idles) */
                o->worst_droop_mv = st->max_droop_v * 1e3;
                o->t_worst_ns = st->t_max_droop_ns;
                o->static_droop_mv = rail_z0_ohm(rail) * st->i_at_max_droop_a * 1e3;
                o->transient_droop_mv = o->worst_droop_mv - o->static_droop_mv;
            }
            if (st->bins) {   /* the timeline's */
                o->p50_mv = events_droop_quantile(ev, c, r, 0.5) * 1e3;
                o->p99_mv = events_droop_quantile(ev, c, r, 0.99) * 1e3;
                o->p9999_mv = events_droop_quantile(ev, c, r, 0.9999) * 1e3;
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

/* Per level: the segments taken and their sums (what amplitude() reads). */
int margin_spectrum_pack(const margin_spectrum *m, size_t chip, size_t rail, FILE *f)
{
    for (size_t l = 0; l < LEVELS; l++) {
        const acc *a = acc_of(m, chip, rail, l);
        size_t n_psd = l ? COARSE_PSD : MARGIN_SEG / 2 + 1;
        uint64_t segs = a->segs;
        if (fwrite(&segs, sizeof segs, 1, f) != 1 || fwrite(a->psd, sizeof *a->psd, n_psd, f) != n_psd) return -1;
    }
    return 0;
}

int margin_spectrum_unpack(margin_spectrum *m, size_t chip, size_t rail, FILE *f)
{
    for (size_t l = 0; l < LEVELS; l++) {
        acc *a = acc_of(m, chip, rail, l);
        size_t n_psd = l ? COARSE_PSD : MARGIN_SEG / 2 + 1;
        uint64_t segs;
        if (fread(&segs, sizeof segs, 1, f) != 1 || fread(a->psd, sizeof *a->psd, n_psd, f) != n_psd) return -1;
        a->segs = (size_t)segs;
        a->fill = 0;
    }
    return 0;
}
