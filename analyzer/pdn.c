/* pdn.c -- PDN droop: ZOH-exact kernels and overlap-save convolution.
**
** Ladder kernel. The ladder is written as a linear DAE E x' = A x + B u
** (modified nodal form: node voltages, inductor currents, capacitor
** voltages; u the die current injected at the last node, y its voltage =
** the droop). Series branches with r = l = 0 merge their two nodes. Node
** voltages without a plain capacitor are algebraic and eliminated (Schur
** complement); a node group whose every branch is inductive (ESL on the die
** stage: Z grows like s*L) gets a tiny conductance to ground, 1e-6 of the
** ladder's characteristic impedance, which turns the L*di/dt spike into a
** pole ~1e6 times faster than the ladder (see docs/pdn.md). States are scaled
** by sqrt(E) so that the norm is the stored energy: ||Ad|| <= 1. Then
** e^{[A B; 0 0] dt} gives Ad, Bd and the kernel is h[0] = C Bd + D,
** h[m] = C Ad^m Bd: exact for a staircase current sampled at bin ends.
**
** Table kernel. For t > 0 the step response of a causal Z is
** S(t) = (2/pi) int_0^inf Re Z(w) sin(wt)/w dw. Re Z is interpolated
** linearly in f, held at its value at f_top above f_top; the integral is a
** trapezoid sum on a grid df = 1/(2 M dt) whose aliases cancel for
** t <= 2 M dt - T_settle; frequencies above the bin Nyquist fold into one
** DST-I of size M (FFTW RODFT00). h[m] = S((m+1)dt) - S(m dt).
**
** Truncation: the kernel ends at the first M whose tail sum of |h| is
** <= PDN_EPS_TAIL * max(Z0, max|h|); the last tap then takes the rest so
** that sum h = Z0 exactly (a constant current gives exactly I*Z0).
**
** Two methods compute the droop. PDN_STATE (ladders): the discrete state
** z_k = Ad z_{k-1} + Bd x_k, y_k = C z_k + D x_k is carried along in chunks
** of PDN_SB bins, each a few small fixed-size matrix-vector products (the
** convolution with the untruncated kernel; O(states) a bin). PDN_FFT
** (tables, or asked for) is the overlap-save below.
**
** Convolution: x_k = i_k - i_idle kept in a ring of R >= N entries (power of
** two, unwritten slots read as the zeros before time 0). A block at bin p
** with a new bins runs one r2c/c2r pair of size N on x[p-K+1 .. p+a) and
** yields the contribution of all inputs < p+a to outputs p .. p+L-1
** (L = N-K+1): the first a are final, the rest are kept ("segment"). Small
** later tiles inside the segment add their own inputs by direct sums while
** that is cheaper than a new block. Sizes: K ~ 1e5 for the example ladder
** at 1 ns, N = 3 * 2^17; a stream holds ~4 N doubles. */
#include "pdn.h"

#include <complex.h>   /* before fftw3.h: fftw_complex is double complex */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pda_fftw.h"

#define PDN_PI 3.14159265358979323846
#define PDN_EPS_TAIL 1e-7          /* tail |h| sum left out, relative to Z0 */
#define PDN_EPS_TABLE 1e-4         /* step response settled, tables */
#define PDN_MAX_TAPS ((size_t)1 << 22)
#define PDN_TABLE_MAX_BINS ((size_t)1 << 21)
#define PDN_TABLE_OVERSAMPLE 16.0  /* f_top = this * bin Nyquist at most */
#define PDN_GREG 1e-6              /* regularizing conductance * R_char */
#define PDN_SB 16                  /* bins per chunk of the state recursion */
#define PDN_STATE_TILE 65536       /* tile length suggested for PDN_STATE */
#define PDN_MAXS 32                /* most states (padded) run through PDN_STATE */

struct pdn_model {
    double bin_ns;
    double z0_ohm;
    int method;           /* PDN_FFT or PDN_STATE */
    double *h;            /* kernel, k taps */
    size_t k;
    size_t n_fft;         /* N (0 for PDN_STATE) */
    size_t block;         /* L = N - K + 1; PDN_STATE: the tile a push handles best */
    fftw_complex *hk;     /* FFT of h padded to N, divided by N */
    fftw_plan fwd, inv;
    /* PDN_STATE: chunks of up to SB bins through the ladder's ns states.
    ** Column-major blocks, so each update is a run of axpys of length SB or
    ** ns: tcol[l][j] = h[j-l] (j >= l, else 0; h[0] carries the DC
    ** correction), rcol[c][j] = (C Ad^(j+1))_c, gcol[l][c] = (Ad^(SB-1-l)
    ** Bd)_c, ppow[t-1][d][c] = (Ad^t)_cd for t = 1..SB. */
    size_t ns, nsp;       /* states; padded to 8, 16 or PDN_MAXS */
    double *tcol, *rcol, *gcol, *ppow;
    double *zu;           /* PDN_STATE: the state a constant x = 1 settles to, (I - Ad)^-1 Bd (nsp) */
    double cnorm;         /* PDN_STATE: ||C||_2, bounds a state's share of the droop */
    double *lyap;         /* PDN_STATE with a regulator: P of vrm_lyapunov (ns x ns): x^T P x bounds every
                          ** later |Ad^j x|^2 (P >= 1, and it falls along the recursion) */
};

struct pdn_stream {
    const pdn_model *m;
    double i_idle_a, dc_v;
    double *ring;         /* x = i - i_idle, R entries */
    size_t mask;
    double *win, *outb;   /* N doubles each */
    fftw_complex *spec;   /* N/2 + 1 */
    size_t cur;           /* bins pushed so far */
    size_t seg_pos;       /* outb[K-1 + t] = past part of output seg_pos + t */
    size_t seg_end;       /* segment valid for outputs < seg_end */
    size_t direct_from;   /* inputs >= this are not in the segment */
    double fft_cost;      /* one block, in multiply-adds */
    double *z;            /* PDN_STATE: the state after the last bin (nsp) */
    /* for pdn_stream_settled / pdn_stream_skip: the last input and droop,
    ** how many inputs in a row at the end were that input; PDN_STATE: the
    ** current last asked about and the state's share of the droop then */
    double last_i, last_v, ref_i, ref_e;
    size_t same;
};

const char *pdn_strerror(int rc) { return pda_strerror(rc); }

/* ---- small dense linear algebra (n <= a few dozen) -------------------- */

static void mat_mul(size_t n, const double *a, const double *b, double *c)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) c[i * n + j] = 0.0;
        for (size_t l = 0; l < n; l++) {
            double v = a[i * n + l];
            if (v == 0.0) continue;
            for (size_t j = 0; j < n; j++) c[i * n + j] += v * b[l * n + j];
        }
    }
}

/* e^X for an n x n X by scaling and squaring of a Taylor series:
** ||X/2^s||_1 <= 1/2, 24 terms (error < 1e-30 of the scaled norm). */
static int mat_exp(size_t n, const double *x, double *out)
{
    double norm = 0.0;
    for (size_t j = 0; j < n; j++) {
        double col = 0.0;
        for (size_t i = 0; i < n; i++) col += fabs(x[i * n + j]);
        if (col > norm) norm = col;
    }
    int s = 0;
    while (norm > 0.5 && s < 200) { norm *= 0.5; s++; }
    double scale = ldexp(1.0, -s);
    double *t = malloc(3 * n * n * sizeof *t);
    if (!t) return PDN_ENOMEM;
    double *xs = t, *term = t + n * n, *tmp = t + 2 * n * n;
    for (size_t i = 0; i < n * n; i++) xs[i] = x[i] * scale;
    for (size_t i = 0; i < n * n; i++) out[i] = term[i] = (i % (n + 1) == 0) ? 1.0 : 0.0;
    for (int k = 1; k <= 24; k++) {
        mat_mul(n, term, xs, tmp);
        for (size_t i = 0; i < n * n; i++) {
            term[i] = tmp[i] / k;
            out[i] += term[i];
        }
    }
    for (int k = 0; k < s; k++) {
        mat_mul(n, out, out, tmp);
        memcpy(out, tmp, n * n * sizeof *out);
    }
    free(t);
    return PDN_OK;
}

/* Solves a (n x n, destroyed) * X = b (n x m, overwritten by X) by Gaussian
** elimination with partial pivoting. Returns -1 when a is singular. */
static int solve(size_t n, double *a, size_t m, double *b)
{
    for (size_t c = 0; c < n; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c])) p = r;
        if (a[p * n + c] == 0.0) return -1;
        if (p != c) {
            for (size_t j = 0; j < n; j++) {
                double t = a[c * n + j]; a[c * n + j] = a[p * n + j]; a[p * n + j] = t;
            }
            for (size_t j = 0; j < m; j++) {
                double t = b[c * m + j]; b[c * m + j] = b[p * m + j]; b[p * m + j] = t;
            }
        }
        for (size_t r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            if (f == 0.0) continue;
            for (size_t j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j];
            for (size_t j = 0; j < m; j++) b[r * m + j] -= f * b[c * m + j];
        }
    }
    for (size_t c = n; c-- > 0;) {
        for (size_t j = 0; j < m; j++) {
            double v = b[c * m + j];
            for (size_t l = c + 1; l < n; l++) v -= a[c * n + l] * b[l * m + j];
            b[c * m + j] = v / a[c * n + c];
        }
    }
    return 0;
}

/* ---- impedance --------------------------------------------------------- */

static double complex ladder_z_vrm(const sio_rail *rail, double f_hz);

/* A regulated ladder's DC resistance seen from the die: the loop holds the
** sensed node at vdd - loadline x I, so what is left is the load line plus
** the series r after the sensed node. */
static double vrm_z0_ohm(const sio_rail *rail)
{
    double z0 = rail->vrm.loadline_ohm;
    for (size_t k = rail->vrm.sense_node; k < rail->n_stages; k++) z0 += rail->stages[k].r_ohm;
    return z0;
}

static double complex ladder_z(const sio_rail *rail, double f_hz)
{
    if (rail->vrm.present) return ladder_z_vrm(rail, f_hz);
    double w = 2.0 * PDN_PI * f_hz;
    double complex z = 0.0;   /* the regulator is ideal */
    for (size_t k = 0; k < rail->n_stages; k++) {
        const sio_stage *st = &rail->stages[k];
        z += st->r_ohm + I * w * st->l_h;
        if (st->c_f > 0.0) {
            double complex zs = st->esr_ohm + I * w * st->esl_h;
            if (w > 0.0) zs += 1.0 / (I * w * st->c_f);
            else { continue; }   /* open at DC */
            if (cabs(z) == 0.0) continue;
            if (cabs(zs) == 0.0) { z = 0.0; continue; }
            z = z * zs / (z + zs);
        }
    }
    return z;
}

/* Z(f) of a ladder with a regulator, from the stages' transmission (ABCD)
** matrices: stage k maps (v_k, i_k) to (v_k-1, i_k-1) by
** T_k = [1 + Zs Y, Zs; Y, 1] (series Zs = r + s l, then the shunt Y at node
** k), i_k the current node k passes on (to the die, i_N = I). With
** M = T_1 .. T_N and P = T_s+1 .. T_N (s the sensed node), v0 = M00 vN +
** M01 I, i_src = M10 vN + M11 I and v_sense = P00 vN + P01 I; the loop,
** s v0 = -wb (loadline i_src + v_sense) in deviations from vdd, gives
**     Z = -vN / I = (s M01 + wb ll M11 + wb P01) / (s M00 + wb ll M10 + wb P00).
** An ideal source (wb -> 0) gives M01 / M00, the ladder's own Z. At DC the
** loop holds the sensed node at loadline x I: Z(0) = loadline + the series
** resistance after the sensed node. */
static double complex ladder_z_vrm(const sio_rail *rail, double f_hz)
{
    const sio_vrm *v = &rail->vrm;
    const size_t ns = rail->n_stages;
    if (!(f_hz > 0.0)) {
        return vrm_z0_ohm(rail);
    }
    const double complex s = I * 2.0 * PDN_PI * f_hz;
    const double wb = 2.0 * PDN_PI * v->bandwidth_hz, ll = v->loadline_ohm;
    double complex m[4] = {1, 0, 0, 1}, p[4] = {1, 0, 0, 1};   /* row-major; built from the die end */
    for (size_t k = ns; k-- > 0;) {
        const sio_stage *st = &rail->stages[k];
        double complex zs = st->r_ohm + s * st->l_h, y = 0.0;
        if (st->c_f > 0.0) y = 1.0 / (st->esr_ohm + s * st->esl_h + 1.0 / (s * st->c_f));
        const double complex t[4] = {1.0 + zs * y, zs, y, 1.0};
        double complex r[4] = {t[0] * m[0] + t[1] * m[2], t[0] * m[1] + t[1] * m[3],
                               t[2] * m[0] + t[3] * m[2], t[2] * m[1] + t[3] * m[3]};
        memcpy(m, r, sizeof m);
        if (k == v->sense_node) memcpy(p, m, sizeof p);   /* T_s+1 .. T_N: stage index s is T_s+1 */
    }
    return (s * m[1] + wb * ll * m[3] + wb * p[1]) / (s * m[0] + wb * ll * m[2] + wb * p[0]);
}

/* Linear interpolation in f of column y at f (f within the table), with a
** hint index that moves forward for increasing f. */
static double table_interp(const double *fx, const double *y, size_t n, double f, size_t *hint)
{
    size_t i = hint ? *hint : 0;
    if (i >= n - 1) i = 0;
    if (f < fx[i]) i = 0;
    while (i + 2 < n && fx[i + 1] <= f) i++;
    if (hint) *hint = i;
    if (f <= fx[0]) return y[0];
    if (f >= fx[n - 1]) return y[n - 1];
    double t = (f - fx[i]) / (fx[i + 1] - fx[i]);
    return y[i] + t * (y[i + 1] - y[i]);
}

/* Re Z of a table at f: linear in f, except from an f = 0 row to the next
** where it is linear in f^2 (Re Z is even in f: a slope at 0 would add a
** 1/t tail to the step response); held flat below the first row. */
static double table_re(const sio_rail *rail, double f, size_t *hint)
{
    const double *fx = rail->z_f_hz, *re = rail->z_re_ohm;
    if (fx[0] == 0.0 && f < fx[1]) {
        double t = (f / fx[1]) * (f / fx[1]);
        return re[0] + t * (re[1] - re[0]);
    }
    return table_interp(fx, re, rail->n_z, f, hint);
}

int pdn_impedance(const sio_rail *rail, double f_hz, double *re_ohm, double *im_ohm)
{
    if (!rail || !(f_hz >= 0.0) || !isfinite(f_hz)) return PDN_EINPUT;
    if (rail->n_stages > 0) {
        double complex z = ladder_z(rail, f_hz);
        *re_ohm = creal(z);
        *im_ohm = cimag(z);
        return PDN_OK;
    }
    if (rail->n_z < 2 || !rail->z_f_hz || f_hz < rail->z_f_hz[0] ||
        f_hz > rail->z_f_hz[rail->n_z - 1])
        return PDN_EINPUT;
    *re_ohm = table_re(rail, f_hz, NULL);
    *im_ohm = table_interp(rail->z_f_hz, rail->z_im_ohm, rail->n_z, f_hz, NULL);
    return PDN_OK;
}

static double zabs(const sio_rail *rail, double f)
{
    double re = 0.0, im = 0.0;
    if (pdn_impedance(rail, f, &re, &im) != PDN_OK) return 0.0;
    return hypot(re, im);
}

int pdn_resonances(const sio_rail *rail, double f_lo_hz, double f_hi_hz,
                   double *f_hz, double *z_ohm, size_t max, size_t *n)
{
    *n = 0;
    if (!rail || !(f_lo_hz > 0.0) || !(f_hi_hz > f_lo_hz) || !isfinite(f_hi_hz))
        return PDN_EINPUT;
    double lo = log(f_lo_hz), hi = log(f_hi_hz);
    size_t np = (size_t)ceil((hi - lo) / log(10.0) * 200.0) + 3;
    double step = (hi - lo) / (double)(np - 1);
    double z_prev = zabs(rail, f_lo_hz), z_cur = zabs(rail, exp(lo + step));
    for (size_t i = 1; i + 1 < np && *n < max; i++) {
        double z_next = zabs(rail, exp(lo + step * (double)(i + 1)));
        if (z_cur > z_prev && z_cur >= z_next) {
            /* golden section on log f over the bracket */
            double a = lo + step * (double)(i - 1), b = lo + step * (double)(i + 1);
            const double g = 0.5 * (sqrt(5.0) - 1.0);
            double c = b - g * (b - a), d = a + g * (b - a);
            double zc = zabs(rail, exp(c)), zd = zabs(rail, exp(d));
            while (b - a > 1e-7) {
                if (zc > zd) { b = d; d = c; zd = zc; c = b - g * (b - a); zc = zabs(rail, exp(c)); }
                else { a = c; c = d; zc = zd; d = a + g * (b - a); zd = zabs(rail, exp(d)); }
            }
            double fp = exp(0.5 * (a + b));
            f_hz[*n] = fp;
            z_ohm[*n] = zabs(rail, fp);
            (*n)++;
        }
        z_prev = z_cur;
        z_cur = z_next;
    }
    return PDN_OK;
}

/* ---- ladder kernel ----------------------------------------------------- */

/* Variable kinds of the DAE. */
enum { V_NODE, V_IND, V_CAP };

typedef struct dae {
    size_t nv;          /* variables */
    double *a;          /* nv x nv */
    double *e;          /* diagonal (0 = algebraic) */
    double *b;          /* input: where the die current enters (nv) */
    int *kind;
    size_t out;         /* variable of the output node (when has_out) */
    int has_out;        /* 0: the die is tied to an ideal regulator */
} dae;

static void dae_free(dae *d)
{
    free(d->a); free(d->e); free(d->b); free(d->kind);
    memset(d, 0, sizeof *d);
}

static int finite_nonneg(double v) { return isfinite(v) && v >= 0.0; }

/* Truncates h (len taps) where the |h| tail is small and makes the DC sum
** exactly z0. Returns the new length. */
static size_t truncate_kernel(double *h, size_t len, double z0, double eps)
{
    double scale = fabs(z0);
    for (size_t m = 0; m < len; m++) if (fabs(h[m]) > scale) scale = fabs(h[m]);
    double tail = 0.0, lim = eps * scale;
    size_t keep = len;
    while (keep > 1 && tail + fabs(h[keep - 1]) <= lim) {
        tail += fabs(h[keep - 1]);
        keep--;
    }
    double sum = 0.0;
    for (size_t m = 0; m < keep; m++) sum += h[m];
    h[keep - 1] += z0 - sum;
    return keep;
}

/* The ladder's discrete state model (ZOH-exact at bin ends): z_k = Ad z_{k-1}
** + Bd x_k, y_k = C z_k + D x_k; ns states, Ad row-major. */
typedef struct ladder_ss {
    size_t ns;
    double *ad, *bd, *c, d;
    double *lyap;   /* with a regulator: the Lyapunov matrix of vrm_lyapunov (ns x ns), else NULL */
} ladder_ss;

static void ladder_ss_free(ladder_ss *ss)
{
    free(ss->ad); free(ss->bd); free(ss->c); free(ss->lyap);
    memset(ss, 0, sizeof *ss);
}

/* Checks the stages' values; the ladder's DC resistance (z0) and a
** characteristic resistance (rchar: the largest R, ESR or sqrt(L/C), for
** the regularizing conductance). */
static int ladder_check(const sio_rail *rail, double *z0_out, double *rchar_out, sio_error *err)
{
    double z0 = 0.0, rchar = 0.0;
    for (size_t k = 0; k < rail->n_stages; k++) {
        const sio_stage *st = &rail->stages[k];
        if (!finite_nonneg(st->r_ohm) || !finite_nonneg(st->l_h) || !finite_nonneg(st->c_f) ||
            !finite_nonneg(st->esr_ohm) || !finite_nonneg(st->esl_h)) {
            if (err)
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: stage %zu (%s): element values must be finite and >= 0",
                              rail->name ? rail->name : "?", k + 1,
                              st->name ? st->name : "?");
            return PDN_EINPUT;
        }
        z0 += st->r_ohm;
        double cand[4] = {st->r_ohm, st->esr_ohm,
                          st->c_f > 0 ? sqrt(st->l_h / st->c_f) : 0.0,
                          st->c_f > 0 ? sqrt(st->esl_h / st->c_f) : 0.0};
        for (int i = 0; i < 4; i++) if (cand[i] > rchar) rchar = cand[i];
    }
    const sio_vrm *v = &rail->vrm;
    if (v->present) {
        if (!(v->bandwidth_hz > 0.0) || !isfinite(v->bandwidth_hz) || !finite_nonneg(v->loadline_ohm) ||
            v->sense_node > rail->n_stages) {
            if (err)
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: the regulator needs bandwidth_hz > 0, loadline_ohm >= 0 and a sensed "
                              "node of the ladder", rail->name ? rail->name : "?");
            return PDN_EINPUT;
        }
        z0 = vrm_z0_ohm(rail);
        if (v->loadline_ohm > rchar) rchar = v->loadline_ohm;
    }
    *z0_out = z0;
    *rchar_out = rchar == 0.0 ? 1.0 : rchar;
    return PDN_OK;
}

/* The ladder's equations E x' = A x + B u as a DAE in d: node voltages of
** the super-nodes (nodes joined by stages with neither R nor L), inductor
** currents, capacitor voltages of branches with an ESR or ESL; nodes with
** no capacitance are algebraic (e = 0). A run of algebraic nodes with no
** resistive path to a fixed potential gets a tiny conductance to ground
** (PDN_GREG / rchar) so that the system is not singular. The variables are
** droops (vdd - v), so the die current enters its node as +1 (d.b).
**
** Without a regulator super-node 0 is the ideal source (droop 0) and has no
** variable. With one (rail->vrm) it is a state z: its KCL row, stamped like
** any node's, gives the current the regulator delivers, i_src = (the
** currents into node 0 from the ladder) + (the die current, when the die
** sits on node 0) - C0 z' (C0 the plain capacitors on node 0), and the loop
** equation of pdn.h, in droops z' = wb (loadline i_src - v_sense), becomes
** the row (1/wb + loadline C0) z' = loadline (row + b) - v_sense. */
static int ladder_stamp(const sio_rail *rail, double rchar, dae *dout)
{
    size_t ns = rail->n_stages;
    const sio_vrm *vrm = &rail->vrm;
    const int reg = vrm->present;
    dae d = {0};
    size_t *rep = calloc(ns + 1, sizeof *rep);   /* rep[k]: super-node of node k (0 = the regulator's) */
    double *ncap = calloc(ns + 1, sizeof *ncap);
    int *anch = NULL;
    size_t *comp = NULL;
    int rc = PDN_ENOMEM;
    if (!rep || !ncap) goto done;
    size_t nsuper = 0;
    for (size_t k = 1; k <= ns; k++) {
        const sio_stage *st = &rail->stages[k - 1];
        rep[k] = (st->r_ohm == 0.0 && st->l_h == 0.0) ? rep[k - 1] : ++nsuper;
    }
    /* count variables: super-nodes (with a regulator also node 0), inductors, capacitors */
    const size_t zv = nsuper;   /* the regulator's node, when reg */
    size_t nv = nsuper + (reg ? 1 : 0);
#define HAS(s) ((s) != 0 || reg)
#define NODE(s) ((s) ? (s) - 1 : zv)
    for (size_t k = 1; k <= ns; k++) {
        const sio_stage *st = &rail->stages[k - 1];
        if (rep[k] != rep[k - 1] && st->l_h > 0.0) nv++;
        if (HAS(rep[k]) && st->c_f > 0.0) {
            if (st->esl_h > 0.0) nv += 2;
            else if (st->esr_ohm > 0.0) nv += 1;
            else ncap[rep[k]] += st->c_f;
        }
    }
    d.nv = nv;
    d.a = calloc(nv * nv + 1, sizeof *d.a);
    d.e = calloc(nv + 1, sizeof *d.e);
    d.b = calloc(nv + 1, sizeof *d.b);
    d.kind = calloc(nv + 1, sizeof *d.kind);
    /* resistive-anchor bookkeeping for algebraic nodes (union by chain) */
    anch = calloc(nsuper + 1, sizeof *anch);
    comp = calloc(nsuper + 1, sizeof *comp);
    if (!d.a || !d.e || !d.b || !d.kind || !anch || !comp) goto done;
#define A_(i, j) d.a[(i) * nv + (j)]
    /* variable index of super-node s (>= 1) is s - 1 */
    for (size_t s = 1; s <= nsuper; s++) {
        d.kind[s - 1] = V_NODE;
        d.e[s - 1] = ncap[s];
    }
    if (reg) d.kind[zv] = V_NODE;
    size_t next = nsuper + (reg ? 1 : 0);
    for (size_t s = 0; s <= nsuper; s++) comp[s] = s;
    for (size_t k = 1; k <= ns; k++) {
        const sio_stage *st = &rail->stages[k - 1];
        size_t a = rep[k - 1], b = rep[k];
        if (a != b) {
            if (st->l_h > 0.0) {
                size_t iv = next++;
                d.kind[iv] = V_IND;
                d.e[iv] = st->l_h;
                A_(iv, iv) -= st->r_ohm;
                if (HAS(a)) { A_(iv, NODE(a)) += 1.0; A_(NODE(a), iv) -= 1.0; }
                A_(iv, b - 1) -= 1.0;
                A_(b - 1, iv) += 1.0;
            } else {
                double g = 1.0 / st->r_ohm;
                A_(b - 1, b - 1) -= g;
                if (HAS(a)) { A_(NODE(a), NODE(a)) -= g; A_(NODE(a), b - 1) += g; A_(b - 1, NODE(a)) += g; }
                /* resistive link: anchored if the other end is fixed */
                if (a == 0 || ncap[a] > 0.0) anch[b] = 1;
                if (ncap[b] > 0.0 && a) anch[a] = 1;
                if (a && ncap[a] == 0.0 && ncap[b] == 0.0) comp[b] = comp[a];
            }
        }
        if (HAS(b) && st->c_f > 0.0) {
            size_t nb = NODE(b);
            if (st->esl_h > 0.0) {
                size_t jv = next++, cv = next++;
                d.kind[jv] = V_IND; d.e[jv] = st->esl_h;
                d.kind[cv] = V_CAP; d.e[cv] = st->c_f;
                A_(jv, nb) += 1.0; A_(jv, cv) -= 1.0; A_(jv, jv) -= st->esr_ohm;
                A_(cv, jv) += 1.0;
                A_(nb, jv) -= 1.0;
            } else if (st->esr_ohm > 0.0) {
                size_t cv = next++;
                double g = 1.0 / st->esr_ohm;
                d.kind[cv] = V_CAP; d.e[cv] = st->c_f;
                A_(nb, nb) -= g; A_(nb, cv) += g;
                A_(cv, cv) -= g; A_(cv, nb) += g;
                if (b) anch[b] = 1;
            }
        }
    }
    /* comp[] points to an earlier member of the same resistively joined
    ** run of algebraic nodes; a run with no resistive path to a fixed
    ** potential (ground, a capacitor) is regularized */
    for (size_t s = 1; s <= nsuper; s++) {
        size_t r = s;
        while (comp[r] != r) r = comp[r];
        if (anch[s]) anch[r] = 1;
    }
    for (size_t s = 1; s <= nsuper; s++) {
        size_t r = s;
        while (comp[r] != r) r = comp[r];
        if (ncap[s] == 0.0 && !anch[r]) A_(s - 1, s - 1) -= PDN_GREG / rchar;
    }
    d.has_out = HAS(rep[ns]);
    d.out = d.has_out ? NODE(rep[ns]) : 0;
    if (d.has_out) d.b[d.out] = 1.0;
    if (reg) {   /* node 0's KCL row becomes the loop equation (see above) */
        double ll = vrm->loadline_ohm;
        for (size_t j = 0; j < nv; j++) A_(zv, j) *= ll;
        d.b[zv] *= ll;
        A_(zv, NODE(rep[vrm->sense_node])) -= 1.0;
        d.e[zv] = 1.0 / (2.0 * PDN_PI * vrm->bandwidth_hz) + ll * ncap[0];
    }
#undef A_
#undef HAS
#undef NODE
    *dout = d;
    d = (dae){0};
    rc = PDN_OK;
done:
    dae_free(&d);
    free(anch); free(comp); free(rep); free(ncap);
    return rc;
}

/* The DAE reduced to its states, discretized: the algebraic variables
** eliminated (a Schur complement), the states scaled by sqrt(e) (energy
** coordinates, in which the system is dissipative), then exp([A B; 0 0] dt)
** (mat_exp) gives Ad and Bd in ex (n1 = nst + 1 columns); the output
** y = v_die = C x + D u in cvec and *dterm. */
typedef struct ladder_red {
    size_t nst, n1;
    double *work;              /* owns everything below */
    double *aug, *ex, *cvec;
    double dterm;
} ladder_red;

static int ladder_reduce(const sio_rail *rail, const dae *dp, double dt_s, ladder_red *red,
                         sio_error *err)
{
    const dae d = *dp;
    const size_t nv = d.nv;
#define A_(i, j) d.a[(i) * nv + (j)]
    size_t nst = 0, nal = 0;
    for (size_t i = 0; i < nv; i++) { if (d.e[i] > 0.0) nst++; else nal++; }
    size_t *si = malloc((nst + 1) * sizeof *si), *ai = malloc((nal + 1) * sizeof *ai);
    size_t n1 = nst + 1;
    double *work = calloc(nal * nal + nal * n1 + 2 * n1 * n1 + 2 * nst + 4, sizeof *work);
    if (!si || !ai || !work) { free(si); free(ai); free(work); return PDN_ENOMEM; }
    nst = nal = 0;
    for (size_t i = 0; i < nv; i++) { if (d.e[i] > 0.0) si[nst++] = i; else ai[nal++] = i; }
    double *aaa = work, *rhs = aaa + nal * nal, *aug = rhs + nal * n1, *ex = aug + n1 * n1;
    double *cvec = ex + n1 * n1, dterm = 0.0;
    const size_t outv = d.out;
    const int has_out = d.has_out;
    /* rhs columns: [A_as | B_a] */
    for (size_t r = 0; r < nal; r++) {
        for (size_t c = 0; c < nal; c++) aaa[r * nal + c] = A_(ai[r], ai[c]);
        for (size_t c = 0; c < nst; c++) rhs[r * n1 + c] = A_(ai[r], si[c]);
        rhs[r * n1 + nst] = d.b[ai[r]];
    }
    if (nal && solve(nal, aaa, n1, rhs) != 0) {
        if (err)
            sio_error_set(err, NULL, 0, 0, "rail %s: the ladder's node equations are singular",
                          rail->name ? rail->name : "?");
        free(si); free(ai); free(work);
        return PDN_EINPUT;
    }
    /* reduced, energy-scaled system in aug = [A B; 0 0] * dt */
    for (size_t r = 0; r < nst; r++) {
        double sr = 1.0 / sqrt(d.e[si[r]]);
        for (size_t c = 0; c < n1; c++) {
            double v = c < nst ? A_(si[r], si[c]) : d.b[si[r]];
            for (size_t q = 0; q < nal; q++) v -= A_(si[r], ai[q]) * rhs[q * n1 + c];
            double sc = c < nst ? 1.0 / sqrt(d.e[si[c]]) : 1.0;
            aug[r * n1 + c] = v * sr * sc * dt_s;
        }
    }
    /* output y = v_out = C x + D u */
    for (size_t c = 0; c < nst; c++) cvec[c] = 0.0;
    if (has_out) {
        int found = 0;
        for (size_t c = 0; c < nst; c++)
            if (si[c] == outv) { cvec[c] = 1.0 / sqrt(d.e[outv]); found = 1; }
        if (!found) {
            for (size_t q = 0; q < nal; q++) {
                if (ai[q] != outv) continue;
                for (size_t c = 0; c < nst; c++)
                    cvec[c] = -rhs[q * n1 + c] / sqrt(d.e[si[c]]);
                dterm = -rhs[q * n1 + nst];
            }
        }
    }
#undef A_
    free(si); free(ai);
    *red = (ladder_red){.nst = nst, .n1 = n1, .work = work, .aug = aug, .ex = ex, .cvec = cvec, .dterm = dterm};
    if (nst == 0 || !has_out) return PDN_OK;
    return mat_exp(n1, aug, ex);
}

/* With a regulator the loop feeds energy back, so the ladder's energy may
** grow for a while and does not bound the kernel's tail. A quadratic
** Lyapunov function does: P = sum_j (Ad^T)^j Ad^j (Smith's doubling: P +=
** A^T P A, A = A^2, each step doubling the terms summed) exists exactly
** when Ad is stable, and V(x) = x^T P x drops by |x|^2 each bin, so V
** shrinks at least by the factor q = 1 - 1/lambda_max(P) a bin and
** sum_{j>=m} |x_j| <= sqrt(V(x_m)) / (1 - sqrt(q)). P (ns x ns, row-major)
** into *p_out and trace(P) >= lambda_max(P) into *lmax. An Ad whose powers
** do not shrink by 2^22 bins is refused: growing ones as an unstable
** loop, the others as a response that does not settle. */
static int vrm_lyapunov(const sio_rail *rail, const double *ex, size_t nst, size_t n1, double dt_s,
                        double **p_out, double *lmax, sio_error *err)
{
    size_t nn = nst * nst;
    double *pm = calloc(nn, sizeof *pm), *am = malloc(nn * sizeof *am);
    double *t1 = malloc(nn * sizeof *t1), *t2 = malloc(nn * sizeof *t2);
    int rc = PDN_ENOMEM;
    if (!pm || !am || !t1 || !t2) goto out;
    for (size_t r = 0; r < nst; r++) {
        pm[r * nst + r] = 1.0;
        for (size_t c = 0; c < nst; c++) am[r * nst + c] = ex[r * n1 + c];
    }
    double a2 = INFINITY;
    size_t k = 0;
    for (; k <= 40; k++) {
        a2 = 0.0;
        for (size_t q = 0; q < nn; q++) a2 += am[q] * am[q];
        if (!isfinite(a2) || a2 > 1e12 || a2 < 1e-8) break;
        /* P += A^T P A */
        mat_mul(nst, pm, am, t1);
        for (size_t r = 0; r < nst; r++)
            for (size_t c = 0; c < nst; c++) {
                double v = 0.0;
                for (size_t q = 0; q < nst; q++) v += am[q * nst + r] * t1[q * nst + c];
                t2[r * nst + c] = v;
            }
        for (size_t q = 0; q < nn; q++) pm[q] += t2[q];
        mat_mul(nst, am, am, t1);
        memcpy(am, t1, nn * sizeof *am);
    }
    if (!(a2 < 1e-8) || ((size_t)1 << k) > PDN_MAX_TAPS) {
        if (err) {
            const char *name = rail->name ? rail->name : "?";
            const sio_vrm *v = &rail->vrm;
            if (!(a2 <= 1e12) || !isfinite(a2))
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: the regulator loop is unstable (bandwidth_hz %.6g, sense %s, loadline_ohm "
                              "%.6g): it has no steady state; lower the bandwidth below the resonance between the "
                              "regulator and the sensed node, or sense a node nearer the regulator",
                              name, v->bandwidth_hz, v->sense ? v->sense : "at the regulator", v->loadline_ohm);
            else
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: the PDN response with its regulator has not settled within %d bins (%.3g ns): "
                              "the loop is close to unstable (lower bandwidth_hz or raise loadline_ohm), or use larger "
                              "bins",
                              name, (int)PDN_MAX_TAPS, (double)PDN_MAX_TAPS * dt_s * 1e9);
        }
        if (err) { err->line = rail->vrm.line; err->col = rail->vrm.col; }   /* the loop's place in the chip file */
        rc = PDN_EINPUT;
        goto out;
    }
    double tr = 0.0;
    for (size_t r = 0; r < nst; r++) tr += pm[r * nst + r];
    *lmax = tr / (1.0 - a2);   /* the terms left out are at most a2 times P */
    for (size_t q = 0; q < nn; q++) pm[q] /= 1.0 - a2;
    *p_out = pm;
    pm = NULL;
    rc = PDN_OK;
out:
    free(pm); free(am); free(t1); free(t2);
    return rc;
}

#define TAP_LANES 8     /* ladder_taps: taps computed side by side */
#define TAIL_CHECK 32   /* ladder_taps: taps between tests of the tail's bound (a multiple of TAP_LANES) */

/* o = a s for a (rows x cols, row-major) and s (cols x TAP_LANES): the
** TAP_LANES sums of a row side by side, in registers (vectorized, AVX2
** where the machine has it). */
__attribute__((target_clones("avx2", "default")))
static void lanes_mul(size_t rows, size_t cols, const double *restrict a, const double *restrict s,
                      double *restrict o)
{
    for (size_t r = 0; r < rows; r++) {
        double acc[TAP_LANES] = {0};
        for (size_t c = 0; c < cols; c++) {
            const double x = a[r * cols + c], *sc = s + c * TAP_LANES;
            for (size_t j = 0; j < TAP_LANES; j++) acc[j] += x * sc[j];
        }
        memcpy(o + r * TAP_LANES, acc, sizeof acc);
    }
}

/* The kernel's taps: the response of the discretized system to a unit
** step of current held over one bin, TAP_LANES taps at a time until the state's energy
** bounds the tail below PDN_EPS_TAIL of the largest tap (the energy is
** non-increasing). Also the state-space matrices for the state method. */
static int ladder_taps(const sio_rail *rail, const ladder_red *red, double z0, double dt_s, double **h_out,
                       size_t *len_out, ladder_ss *ss, sio_error *err)
{
    const size_t nst = red->nst, n1 = red->n1, nn = nst * nst;
    const double *ex = red->ex, *cvec = red->cvec, dterm = red->dterm;
    double cnorm = 0.0;
    for (size_t c = 0; c < nst; c++) cnorm += cvec[c] * cvec[c];
    cnorm = sqrt(cnorm);
    /* S (nst x TAP_LANES, row-major) holds the states of TAP_LANES taps in
    ** a row, Ad^j Bd for j = m .. m + TAP_LANES - 1; one step S <- Ad^L S
    ** moves them all on: independent chains of adds, side by side, where
    ** tap by tap each waited on the one before */
    enum { L = TAP_LANES };
    double *S = malloc(nst * L * sizeof *S), *S2 = malloc(nst * L * sizeof *S2);
    double *ad = malloc(3 * nn * sizeof *ad), *al = ad + nn, *tmp = al + nn;   /* Ad, Ad^L, scratch */
    size_t capacity = 1 << 16, len = 0;
    double *h = malloc(capacity * sizeof *h);
    double *lp = NULL, lmax = 0.0;   /* with a regulator: the Lyapunov matrix (vrm_lyapunov) */
    int rc = PDN_ENOMEM;
    if (!S || !S2 || !ad || !h) goto fail;
    if (rail->vrm.present && (rc = vrm_lyapunov(rail, ex, nst, n1, dt_s, &lp, &lmax, err)) != PDN_OK) goto fail;
    rc = PDN_ENOMEM;
    const double decay = lmax > 0.0 ? (1.0 / lmax) / (1.0 + sqrt(1.0 - 1.0 / lmax)) : 0.0;   /* 1 - sqrt(q) */
    for (size_t r = 0; r < nst; r++) {
        for (size_t c = 0; c < nst; c++) ad[r * nst + c] = ex[r * n1 + c];
        S[r * L] = ex[r * n1 + nst];   /* Bd */
    }
    for (size_t j = 1; j < L; j++)
        for (size_t r = 0; r < nst; r++) {
            double acc = 0.0;
            for (size_t c = 0; c < nst; c++) acc += ad[r * nst + c] * S[c * L + j - 1];
            S[r * L + j] = acc;
        }
    memcpy(al, ad, nn * sizeof *al);
    for (size_t j = 1; j < L; j++) {
        mat_mul(nst, ad, al, tmp);
        memcpy(al, tmp, nn * sizeof *al);
    }
    double zs = fabs(z0), *st = tmp;   /* the scratch, now the state of a tail test */
    for (size_t m0 = 0;; m0 += L) {
        if (len + L > capacity) {
            double *nh = realloc(h, 2 * capacity * sizeof *h);
            if (!nh) goto fail;
            h = nh;
            capacity *= 2;
        }
        double *v = h + len;   /* taps m0 .. m0 + L - 1: C S (+ D at tap 0) */
        lanes_mul(1, nst, cvec, S, v);
        if (m0 == 0) v[0] += dterm;
        for (size_t j = 0; j < L; j++)
            if (fabs(v[j]) > zs) zs = fabs(v[j]);
        len += L;
        /* the tail's bound from the state of the block's last tap m, every
        ** TAIL_CHECK taps (it holds from any tap on, and costs as much as a
        ** step): a few taps past the first place it holds, all below the
        ** truncation's threshold */
        size_t m = m0 + L - 1;
        if (m > 16 && (m0 / L) % (TAIL_CHECK / L) == 0) {
            for (size_t c = 0; c < nst; c++) st[c] = S[c * L + L - 1];
            if (lp) {   /* the Lyapunov bound on the tail (vrm_lyapunov) */
                double vx = 0.0;
                for (size_t r = 0; r < nst; r++) {
                    double acc = 0.0;
                    for (size_t c = 0; c < nst; c++) acc += lp[r * nst + c] * st[c];
                    vx += st[r] * acc;
                }
                if (cnorm * sqrt(vx > 0.0 ? vx : 0.0) / decay <= 1e-3 * PDN_EPS_TAIL * zs) break;
            } else {
                /* energy is non-increasing: |h[j]| <= cnorm*sqrt(e2) for j > m,
                ** and the remaining tail is shorter than what has been seen */
                double e2 = 0.0;
                for (size_t c = 0; c < nst; c++) e2 += st[c] * st[c];
                if (cnorm * sqrt(e2) * (double)(m + 1) <= 1e-3 * PDN_EPS_TAIL * zs) break;
            }
        }
        if (len >= PDN_MAX_TAPS) {
            if (err && rail->vrm.present) {
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: the PDN response with its regulator has not settled within %d bins (%.3g ns): "
                              "the loop is close to unstable (lower bandwidth_hz or raise loadline_ohm), or use larger "
                              "bins",
                              rail->name ? rail->name : "?", (int)PDN_MAX_TAPS, (double)PDN_MAX_TAPS * dt_s * 1e9);
                err->line = rail->vrm.line;   /* the loop's place in the chip file */
                err->col = rail->vrm.col;
            } else if (err) {
                sio_error_set(err, NULL, 0, 0,
                              "rail %s: the PDN response has not settled within %d bins (%.3g ns): "
                              "use larger bins, or the ladder has too little damping",
                              rail->name ? rail->name : "?", (int)PDN_MAX_TAPS, (double)PDN_MAX_TAPS * dt_s * 1e9);
            }
            rc = PDN_EINPUT;
            goto fail;
        }
        lanes_mul(nst, nst, al, S, S2);   /* S2 = Ad^L S */
        double *t = S;
        S = S2;
        S2 = t;
    }
    ss->ad = malloc(nn * sizeof *ss->ad);
    ss->bd = malloc(nst * sizeof *ss->bd);
    ss->c = malloc(nst * sizeof *ss->c);
    if (!ss->ad || !ss->bd || !ss->c) { ladder_ss_free(ss); goto fail; }
    memcpy(ss->ad, ad, nn * sizeof *ss->ad);
    for (size_t r = 0; r < nst; r++) {
        ss->bd[r] = ex[r * n1 + nst];
        ss->c[r] = cvec[r];
    }
    ss->ns = nst;
    ss->d = dterm;
    ss->lyap = lp;   /* the state method's settle test needs it (pdn_stream_settled) */
    free(S); free(S2); free(ad);
    *h_out = h;
    *len_out = len;
    return PDN_OK;
fail:
    free(S); free(S2); free(ad); free(h); free(lp);
    return rc;
}

/* The droop kernel of a ladder (see the top of the file): check, stamp,
** reduce and discretize, then the taps, truncated where the tail is below
** PDN_EPS_TAIL. */
static int ladder_kernel(const sio_rail *rail, double dt_s, double **h_out, size_t *k_out,
                         double *z0_out, ladder_ss *ss, sio_error *err)
{
    double z0, rchar;
    int rc = ladder_check(rail, &z0, &rchar, err);
    if (rc) return rc;
    dae d = {0};
    if ((rc = ladder_stamp(rail, rchar, &d))) return rc;
    ladder_red red = {0};
    const int has_out = d.has_out;
    rc = ladder_reduce(rail, &d, dt_s, &red, err);
    dae_free(&d);
    double *h = NULL;
    size_t len = 0;
    if (!rc && (red.nst == 0 || !has_out)) {   /* no state: the die sees only a resistance */
        if ((h = malloc(sizeof *h))) {
            h[0] = red.dterm;
            len = 1;
        } else {
            rc = PDN_ENOMEM;
        }
    } else if (!rc) {
        rc = ladder_taps(rail, &red, z0, dt_s, &h, &len, ss, err);
    }
    free(red.work);
    if (rc) return rc;
    *h_out = h;
    *k_out = truncate_kernel(h, len, z0, PDN_EPS_TAIL);
    *z0_out = z0;
    return PDN_OK;
}

/* ---- table kernel ------------------------------------------------------ */

static int table_kernel(const sio_rail *rail, double dt_s, double **h_out, size_t *k_out,
                        double *z0_out, sio_error *err)
{
    size_t n = rail->n_z;
    const double *f = rail->z_f_hz, *re = rail->z_re_ohm;
    const char *path = rail->impedance_csv;
    const char *name = rail->name ? rail->name : "?";
    if (n < 2 || !f || !re || !rail->z_im_ohm) {
        if (err) sio_error_set(err, path, 0, 0, "rail %s: the impedance table needs at least 2 rows", name);
        return PDN_EINPUT;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(f[i]) || f[i] < 0.0 || !isfinite(re[i]) || !isfinite(rail->z_im_ohm[i]) ||
            (i > 0 && !(f[i] > f[i - 1]))) {
            if (err)
                sio_error_set(err, path, (int)i + 1, 0,
                              "rail %s: impedance row %zu: f_hz must be >= 0 and strictly increasing, "
                              "values finite", name, i + 1);
            return PDN_EINPUT;
        }
    }
    double f_nyq = 0.5 / dt_s;
    double f_lo = f[0] > 0.0 ? f[0] : f[1];
    if (f[n - 1] < f_nyq) {
        if (err)
            sio_error_set(err, path, 0, 0,
                          "rail %s: the impedance table must reach the bin Nyquist frequency: "
                          "needed up to %.4g Hz (1/(2*bin)), the table covers %.4g .. %.4g Hz",
                          name, f_nyq, f[0], f[n - 1]);
        return PDN_EINPUT;
    }
    /* window: twice the longest time the table resolves, capped */
    double nw_d = ceil(2.0 / (f_lo * dt_s));
    size_t nw = nw_d > (double)PDN_TABLE_MAX_BINS ? PDN_TABLE_MAX_BINS : (size_t)nw_d;
    size_t mp = 64;
    while (mp < nw) mp <<= 1;
    double df = 1.0 / (2.0 * (double)mp * dt_s);
    double f_top = fmin(f[n - 1], PDN_TABLE_OVERSAMPLE * f_nyq);
    double r_inf = table_re(rail, f_top, NULL);
    double z0 = re[0];
    double g0 = z0 - r_inf;
    double *c = fftw_malloc(sizeof(double) * mp);
    double *s = fftw_malloc(sizeof(double) * mp);
    if (!c || !s) { fftw_free(c); fftw_free(s); return PDN_ENOMEM; }
    for (size_t i = 0; i < mp; i++) c[i] = 0.0;
    size_t ktop = (size_t)floor(f_top / df);
    size_t hint = 0, two = 2 * mp, r = 0;
    for (size_t k = 1; k <= ktop; k++) {
        if (++r == two) r = 0;
        if (r == 0 || r == mp) continue;
        double g = table_re(rail, (double)k * df, &hint) - r_inf;
        double a = g / (double)k;
        if (r < mp) c[r - 1] += a; else c[two - r - 1] -= a;
    }
    /* RODFT00 of size mp-1: Y_j = 2 sum_k X_k sin(pi (j+1)(k+1)/mp) */
    pda_fftw_thread_safe();
    fftw_plan p = fftw_plan_r2r_1d((int)(mp - 1), c, s, FFTW_RODFT00, FFTW_ESTIMATE);
    if (!p) { fftw_free(c); fftw_free(s); return PDN_ENOMEM; }
    fftw_execute(p);
    fftw_destroy_plan(p);
    /* S_m for m = 1 .. mp-1 at t = m dt; h[m] = S_{m+1} - S_m, S_0 = 0 */
    size_t len = mp - 2;
    double *h = malloc(len * sizeof *h);
    if (!h) { fftw_free(c); fftw_free(s); return PDN_ENOMEM; }
    double prev = 0.0;
    for (size_t m = 0; m < len; m++) {
        double t = (double)(m + 1) * dt_s;
        double sv = r_inf + 2.0 * df * g0 * t + (2.0 / PDN_PI) * 0.5 * s[m];
        h[m] = sv - prev;
        prev = sv;
    }
    fftw_free(c);
    fftw_free(s);
    /* a table's kernel carries interpolation ripple (kinks of Re Z ring like
    ** 1/t^2): truncate where the step response stays within PDN_EPS_TABLE
    ** of Z0, then make the DC sum exact */
    double zs = fabs(z0), sv = 0.0;
    for (size_t m = 0; m < len; m++) if (fabs(h[m]) > zs) zs = fabs(h[m]);
    size_t keep = len;
    sv = z0;   /* S_len = z0 - (sum beyond); walk back from the end */
    {
        double ssum = 0.0;
        for (size_t m = 0; m < len; m++) ssum += h[m];
        sv = ssum;
    }
    while (keep > 1 && fabs(sv - z0) <= PDN_EPS_TABLE * zs) {
        sv -= h[keep - 1];
        keep--;
    }
    if (keep < len) keep++;
    {
        double ssum = 0.0;
        for (size_t m = 0; m < keep; m++) ssum += h[m];
        h[keep - 1] += z0 - ssum;
    }
    /* settled within half the window (1/f_lo): the images cancel there */
    if (keep > nw / 2) {
        free(h);
        if (err) {
            if (nw == PDN_TABLE_MAX_BINS && nw_d > (double)nw)
                sio_error_set(err, path, 0, 0,
                              "rail %s: the response of the impedance table has not settled "
                              "within %.4g ns", name, (double)(nw / 2) * dt_s * 1e9);
            else
                sio_error_set(err, path, 0, 0,
                              "rail %s: the impedance table must reach down to the frequencies "
                              "where the response settles: needed below %.4g Hz (the response is "
                              "still moving %.4g ns after a step), the table covers %.4g .. %.4g Hz",
                              name, f_lo / 2.0, 1.0 / f_lo * 1e9, f[0], f[n - 1]);
        }
        return PDN_EINPUT;
    }
    *h_out = h;
    *k_out = keep;
    *z0_out = z0;
    return PDN_OK;
}

/* ---- model ------------------------------------------------------------- */

/* The state padded to a size state_push has a fixed-length loop for. */
static size_t state_padded(size_t ns) { return ns <= 8 ? 8 : ns <= 16 ? 16 : PDN_MAXS; }

/* Multiply-adds per bin of a full chunk of the state recursion, as
** state_chunks does them: the Toeplitz block's four bands of 4 columns
** (16, 12, 8 and 4 rows), the padded state's SB x nsp out and nsp x SB in,
** and Ad^SB. */
static double state_cost(size_t ns)
{
    double b = PDN_SB, n = (double)state_padded(ns);
    return (4.0 * (16.0 + 12.0 + 8.0 + 4.0) + 2.0 * b * n + n * n) / b;
}

/* FFT size for a kernel of k taps: the smallest of 2^a, 3 2^a, 5 2^a that is
** >= 4 k (>= 1024): ~3/4 of each block is new, and FFTW's estimated plans
** for 3 2^a run ~25% faster per new bin than the next power of two
** (measured, k ~ 1e5). */
static size_t fft_size(size_t k)
{
    size_t nf = 1024, want = 4 * k;
    while (nf < want) nf <<= 1;
    if (nf / 4 * 3 >= want && nf / 4 * 3 >= 1024) nf = nf / 4 * 3;
    else if (nf / 8 * 5 >= want && nf / 8 * 5 >= 1024) nf = nf / 8 * 5;
    return nf;
}

/* Multiply-adds of one overlap-save block of size nf (r2c, product, c2r). */
static double fft_block_cost(size_t nf)
{
    return 3.0 * (double)nf * log2((double)nf);
}

/* Fills the state blocks of m from the ladder's discrete model: powers of
** Ad up to SB, the first SB taps straight from the state model, and the DC
** correction that makes D + C (I - Ad)^-1 Bd equal Z(0) to round-off (the
** regularizing conductance of an inductive cut-set moves it by ~1e-6). */
static int state_build(pdn_model *m, const ladder_ss *ss)
{
    size_t n = ss->ns, nn = n * n, np = state_padded(n);
    m->ns = n;
    m->nsp = np;
    m->tcol = calloc(PDN_SB * PDN_SB, sizeof *m->tcol);
    m->rcol = calloc(np * PDN_SB, sizeof *m->rcol);
    m->gcol = calloc(PDN_SB * np, sizeof *m->gcol);
    m->ppow = calloc(PDN_SB * np * np, sizeof *m->ppow);
    double *pw = calloc((PDN_SB + 1) * nn, sizeof *pw);   /* Ad^0 .. Ad^SB, row-major */
    double *lu = malloc((nn + n) * sizeof *lu);
    if (!m->tcol || !m->rcol || !m->gcol || !m->ppow || !pw || !lu) { free(pw); free(lu); return PDN_ENOMEM; }
    for (size_t i = 0; i < n; i++) pw[i * n + i] = 1.0;
    for (size_t t = 1; t <= PDN_SB; t++) mat_mul(n, ss->ad, pw + (t - 1) * nn, pw + t * nn);
    double hb[PDN_SB];
    for (size_t t = 0; t <= PDN_SB; t++) {
        const double *p = pw + t * nn;
        if (t < PDN_SB) {   /* gcol row SB-1-t = Ad^t Bd; h[t] = C Ad^t Bd (+ D at t = 0) */
            double *g = m->gcol + (PDN_SB - 1 - t) * np, v = t == 0 ? ss->d : 0.0;
            for (size_t r = 0; r < n; r++) {
                for (size_t c = 0; c < n; c++) g[r] += p[r * n + c] * ss->bd[c];
                v += ss->c[r] * g[r];
            }
            hb[t] = v;
        }
        if (t >= 1) {
            for (size_t c = 0; c < n; c++) {   /* rcol[c][t-1] = (C Ad^t)_c */
                double v = 0.0;
                for (size_t r = 0; r < n; r++) v += ss->c[r] * p[r * n + c];
                m->rcol[c * PDN_SB + (t - 1)] = v;
            }
            for (size_t r = 0; r < n; r++)
                for (size_t c = 0; c < n; c++) m->ppow[(t - 1) * np * np + c * np + r] = p[r * n + c];
        }
    }
    /* DC gain of the recursion: D + C (I - Ad)^-1 Bd */
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < n; c++) lu[r * n + c] = (r == c ? 1.0 : 0.0) - ss->ad[r * n + c];
        lu[nn + r] = ss->bd[r];
    }
    double dc = ss->d;   /* I - Ad is regular: a ladder that never settles was refused with its kernel */
    m->zu = calloc(np, sizeof *m->zu);
    if (!m->zu) { free(pw); free(lu); return PDN_ENOMEM; }
    if (solve(n, lu, 1, lu + nn) == 0) {
        for (size_t r = 0; r < n; r++) dc += ss->c[r] * lu[nn + r];
        hb[0] += m->z0_ohm - dc;
        memcpy(m->zu, lu + nn, n * sizeof *m->zu);
    }
    for (size_t r = 0; r < n; r++) m->cnorm += ss->c[r] * ss->c[r];
    m->cnorm = sqrt(m->cnorm);
    if (ss->lyap) {   /* the settle test's bound (pdn_stream_settled) */
        if (!(m->lyap = malloc(nn * sizeof *m->lyap))) { free(pw); free(lu); return PDN_ENOMEM; }
        memcpy(m->lyap, ss->lyap, nn * sizeof *m->lyap);
    }
    for (size_t l = 0; l < PDN_SB; l++)
        for (size_t j = l; j < PDN_SB; j++) m->tcol[l * PDN_SB + j] = hb[j - l];
    free(pw);
    free(lu);
    return PDN_OK;
}

static int fft_build(pdn_model *m)
{
    size_t nf = fft_size(m->k);
    m->n_fft = nf;
    m->block = nf - m->k + 1;
    double *buf = fftw_malloc(sizeof(double) * nf);
    m->hk = fftw_malloc(sizeof(fftw_complex) * (nf / 2 + 1));
    if (!buf || !m->hk) { fftw_free(buf); return PDN_ENOMEM; }
    pda_fftw_thread_safe();
    m->fwd = fftw_plan_dft_r2c_1d((int)nf, buf, m->hk, FFTW_ESTIMATE);
    m->inv = fftw_plan_dft_c2r_1d((int)nf, m->hk, buf, FFTW_ESTIMATE);
    if (!m->fwd || !m->inv) { fftw_free(buf); return PDN_ENOMEM; }
    for (size_t i = 0; i < nf; i++) buf[i] = i < m->k ? m->h[i] / (double)nf : 0.0;
    fftw_execute_dft_r2c(m->fwd, buf, m->hk);
    fftw_free(buf);
    return PDN_OK;
}

int pdn_model_create_with(const sio_rail *rail, double bin_ns, int method, pdn_model **out, sio_error *err)
{
    *out = NULL;
    if (!rail || !(bin_ns > 0.0) || !isfinite(bin_ns)) {
        if (err) sio_error_set(err, NULL, 0, 0, "pdn: the bin width must be > 0 ns");
        return PDN_EINPUT;
    }
    if (method != PDN_AUTO && method != PDN_FFT && method != PDN_STATE) {
        if (err) sio_error_set(err, NULL, 0, 0, "pdn: unknown droop method %d", method);
        return PDN_EINPUT;
    }
    if (method == PDN_STATE && rail->n_stages == 0) {
        if (err)
            sio_error_set(err, NULL, 0, 0, "rail %s: a tabulated impedance has no state model (use the FFT method)",
                          rail->name ? rail->name : "?");
        return PDN_EINPUT;
    }
    pdn_model *m = calloc(1, sizeof *m);
    if (!m) return PDN_ENOMEM;
    m->bin_ns = bin_ns;
    double dt_s = bin_ns * 1e-9;
    ladder_ss ss = {0};
    int rc = rail->n_stages > 0 ? ladder_kernel(rail, dt_s, &m->h, &m->k, &m->z0_ohm, &ss, err)
                                : table_kernel(rail, dt_s, &m->h, &m->k, &m->z0_ohm, err);
    if (rc != PDN_OK) { free(m); return rc; }
    /* a ladder with states runs through them unless its overlap-save would
    ** be cheaper (many states, a short kernel) or FFT is asked for */
    m->method = PDN_FFT;
    if (ss.ns > 0 && ss.ns <= PDN_MAXS && method != PDN_FFT) {
        size_t nf = fft_size(m->k);
        if (method == PDN_STATE || state_cost(ss.ns) < fft_block_cost(nf) / (double)(nf - m->k + 1))
            m->method = PDN_STATE;
    }
    if (m->method == PDN_STATE) {
        rc = state_build(m, &ss);
        m->block = PDN_STATE_TILE;
    } else {
        rc = fft_build(m);
    }
    ladder_ss_free(&ss);
    if (rc != PDN_OK) { pdn_model_destroy(m); return rc; }
    *out = m;
    return PDN_OK;
}

int pdn_model_create(const sio_rail *rail, double bin_ns, pdn_model **out, sio_error *err)
{
    return pdn_model_create_with(rail, bin_ns, PDN_AUTO, out, err);
}

int pdn_model_for_rail(const sio_chip *c, size_t r, double bin_ns, pdn_model **out, sio_error *err)
{
    int rc = pdn_model_create(&c->rails[r], bin_ns, out, err);
    if (rc && err) {
        /* the model knows the rail, not the file it came from */
        char why[sizeof err->text];
        snprintf(why, sizeof why, "%s", rc == PDN_EINPUT ? err->text : "out of memory");
        sio_error_set(err, c->path, rc == PDN_EINPUT ? err->line : 0, rc == PDN_EINPUT ? err->col : 0,
                      "rail '%s' at bins of %g ns: %s", c->rails[r].name, bin_ns, why);
    }
    return rc;
}

void pdn_model_destroy(pdn_model *m)
{
    if (!m) return;
    if (m->fwd) fftw_destroy_plan(m->fwd);
    if (m->inv) fftw_destroy_plan(m->inv);
    fftw_free(m->hk);
    free(m->h);
    free(m->tcol); free(m->rcol); free(m->gcol); free(m->ppow); free(m->zu); free(m->lyap);
    free(m);
}

double pdn_model_z0_ohm(const pdn_model *m) { return m->z0_ohm; }
double pdn_model_bin_ns(const pdn_model *m) { return m->bin_ns; }
size_t pdn_model_kernel_len(const pdn_model *m) { return m->k; }
const double *pdn_model_kernel(const pdn_model *m) { return m->h; }
size_t pdn_model_fft_len(const pdn_model *m) { return m->n_fft; }
size_t pdn_model_block_len(const pdn_model *m) { return m->block; }
int pdn_model_method(const pdn_model *m) { return m->method; }

/* ---- streaming --------------------------------------------------------- */

int pdn_stream_create(const pdn_model *m, double i_idle_a, pdn_stream **out)
{
    *out = NULL;
    if (!m || !isfinite(i_idle_a)) return PDN_EINPUT;
    pdn_stream *s = calloc(1, sizeof *s);
    if (!s) return PDN_ENOMEM;
    s->m = m;
    s->i_idle_a = i_idle_a;
    s->dc_v = m->z0_ohm * i_idle_a;
    s->last_i = i_idle_a;   /* idle for ever before time 0 */
    s->last_v = s->dc_v;
    s->same = SIZE_MAX;
    s->ref_i = NAN;
    if (m->method == PDN_STATE) {   /* at rest before time 0: x = 0, z = 0 */
        s->z = calloc(m->nsp, sizeof *s->z);
        if (!s->z) { pdn_stream_destroy(s); return PDN_ENOMEM; }
        *out = s;
        return PDN_OK;
    }
    size_t nf = m->n_fft;
    size_t nr = 1;
    while (nr < nf) nr <<= 1;
    s->mask = nr - 1;   /* ring of >= N entries: holds K-1 history + a block */
    s->ring = calloc(nr, sizeof *s->ring);
    s->win = fftw_malloc(sizeof(double) * nf);
    s->outb = fftw_malloc(sizeof(double) * nf);
    s->spec = fftw_malloc(sizeof(fftw_complex) * (nf / 2 + 1));
    if (!s->ring || !s->win || !s->outb || !s->spec) { pdn_stream_destroy(s); return PDN_ENOMEM; }
    s->fft_cost = fft_block_cost(nf);
    *out = s;
    return PDN_OK;
}

void pdn_stream_destroy(pdn_stream *s)
{
    if (!s) return;
    free(s->ring);
    fftw_free(s->win);
    fftw_free(s->outb);
    fftw_free(s->spec);
    free(s->z);
    free(s);
}

/* out[0..len) += A v for A column-major (column c at a + c * lda), ncols
** columns: axpys over contiguous doubles (len a constant once inlined). */
__attribute__((always_inline)) static inline void add_cols(double *restrict out, const double *restrict a, size_t lda,
                                                           const double *restrict v, size_t ncols, size_t len)
{
    for (size_t c = 0; c < ncols; c++) {
        const double *col = a + c * lda, vc = v[c];
        for (size_t j = 0; j < len; j++) out[j] += col[j] * vc;
    }
}

/* Four doubles as one value (a GNU C vector: an AVX2 register, or two SSE2
** ones in the default clone). The chunk's accumulators are such values so
** that they stay in registers across the columns: with them in arrays, each
** column's multiply-add waited on the last column's store. Unaligned loads
** and stores through memcpy. */
typedef double pdn_v4 __attribute__((vector_size(32)));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"   /* the helpers below are always inlined: no call passes a vector */
#endif

__attribute__((always_inline)) static inline pdn_v4 ld4(const double *p)
{
    pdn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

__attribute__((always_inline)) static inline void st4(double *p, pdn_v4 v) { memcpy(p, &v, sizeof v); }

__attribute__((always_inline)) static inline pdn_v4 bc4(double x) { return (pdn_v4){x, x, x, x}; }

/* PDN_STATE: chunks of t <= SB bins. With x = i - i_idle and z the state
** after the bin before the chunk, for j < t:
**     y_j = sum_{l<=j} h[j-l] x_l + (C Ad^(j+1)) z
**     z' = Ad^t z + sum_{l<t} Ad^(t-1-l) Bd x_l
** (gcol's last t rows are the Ad^(t-1-l) Bd). Exact: the convolution with
** the untruncated kernel. The state is padded with zero rows and columns to
** nsp = 8, 16 or 32, so that with nsp a constant (state_chunks is inlined
** per size) every loop has a fixed trip count. A full chunk keeps y and z'
** in vector registers, the Toeplitz block by bands of four rows (band q is
** zero right of column 4q + 3); a short chunk (the end of the timeline)
** goes column by column through arrays. Both add the same products in the
** same order: column by column, the Toeplitz block and then the state. */
__attribute__((always_inline)) static inline void state_chunks(pdn_stream *s, const double *i_a, size_t n,
                                                               double *droop_v, const size_t ns)
{
    const pdn_model *m = s->m;
    const size_t nn = ns * ns;
    const double *restrict tcol = m->tcol, *restrict rcol = m->rcol;
    const double *restrict gcol = m->gcol, *restrict ppow = m->ppow;
    const double *restrict plast = ppow + (PDN_SB - 1) * nn;
    const double idle = s->i_idle_a, dc = s->dc_v;
    double x[PDN_SB], z[PDN_MAXS];
    memcpy(z, s->z, ns * sizeof *z);
    for (; n >= PDN_SB; n -= PDN_SB, i_a += PDN_SB, droop_v += PDN_SB) {
        for (size_t l = 0; l < PDN_SB; l++) x[l] = i_a[l] - idle;
        pdn_v4 y[PDN_SB / 4], w[PDN_MAXS / 4];
        for (size_t q = 0; q < PDN_SB / 4; q++) y[q] = bc4(0.0);
        for (size_t q = 0; q < ns / 4; q++) w[q] = bc4(0.0);
        /* the inputs' part of z' first: it does not wait for z */
#pragma GCC unroll 16
        for (size_t l = 0; l < PDN_SB; l++) {
            pdn_v4 xb = bc4(x[l]);
#pragma GCC unroll 4
            for (size_t q = l / 4; q < PDN_SB / 4; q++) y[q] += ld4(tcol + l * PDN_SB + 4 * q) * xb;
#pragma GCC unroll 8
            for (size_t q = 0; q < ns / 4; q++) w[q] += ld4(gcol + l * ns + 4 * q) * xb;
        }
#pragma GCC unroll 32
        for (size_t c = 0; c < ns; c++) {
            pdn_v4 zb = bc4(z[c]);
#pragma GCC unroll 4
            for (size_t q = 0; q < PDN_SB / 4; q++) y[q] += ld4(rcol + c * PDN_SB + 4 * q) * zb;
#pragma GCC unroll 8
            for (size_t q = 0; q < ns / 4; q++) w[q] += ld4(plast + c * ns + 4 * q) * zb;
        }
        for (size_t q = 0; q < PDN_SB / 4; q++) st4(droop_v + 4 * q, y[q] + bc4(dc));
        for (size_t q = 0; q < ns / 4; q++) st4(z + 4 * q, w[q]);
    }
    if (n > 0) {
        const size_t t = n;
        double y[PDN_SB], z2[PDN_MAXS];
        for (size_t l = 0; l < PDN_SB; l++) x[l] = l < t ? i_a[l] - idle : 0.0;
        for (size_t j = 0; j < PDN_SB; j++) y[j] = 0.0;
        for (size_t c = 0; c < ns; c++) z2[c] = 0.0;
        add_cols(y, tcol, PDN_SB, x, PDN_SB, PDN_SB);
        add_cols(y, rcol, PDN_SB, z, ns, PDN_SB);
        for (size_t j = 0; j < t; j++) droop_v[j] = dc + y[j];
        add_cols(z2, gcol + (PDN_SB - t) * ns, ns, x, t, ns);
        add_cols(z2, ppow + (t - 1) * nn, ns, z, ns, ns);
        memcpy(z, z2, ns * sizeof *z);
    }
    memcpy(s->z, z, ns * sizeof *z);
}

__attribute__((target_clones("avx2", "default")))
static void state_push(pdn_stream *s, const double *i_a, size_t n, double *droop_v)
{
    switch (s->m->nsp) {
    case 8: state_chunks(s, i_a, n, droop_v, 8); break;
    case 16: state_chunks(s, i_a, n, droop_v, 16); break;
    default: state_chunks(s, i_a, n, droop_v, PDN_MAXS); break;
    }
}

/* One block at s->cur whose a new inputs are already in the ring. */
static void run_block(pdn_stream *s, size_t a)
{
    const pdn_model *m = s->m;
    size_t nf = m->n_fft, k1 = m->k - 1, nin = k1 + a;
    size_t base = s->cur - k1;   /* modular: wraps to the zeros before 0 */
    for (size_t t = 0; t < nin; t++) s->win[t] = s->ring[(base + t) & s->mask];
    memset(s->win + nin, 0, (nf - nin) * sizeof *s->win);
    fftw_execute_dft_r2c(m->fwd, s->win, s->spec);
    size_t nc = nf / 2 + 1;
    for (size_t i = 0; i < nc; i++) s->spec[i] *= m->hk[i];
    fftw_execute_dft_c2r(m->inv, s->spec, s->outb);
    s->seg_pos = s->cur;
    s->seg_end = s->cur + m->block;
    s->direct_from = s->cur + a;
}

/* After a push of i_a[0..n): the last input, the run of it at the end and
** the last droop. The run is counted back from the end (it stops at the
** first other value: O(1) for a busy tile). */
static void note_tail(pdn_stream *s, const double *i_a, size_t n, const double *droop_v)
{
    if (n == 0) return;
    double v = i_a[n - 1];
    size_t k = n - 1;
    while (k > 0 && i_a[k - 1] == v) k--;
    size_t run = n - k;
    s->same = run == n && v == s->last_i ? (s->same > SIZE_MAX - n ? SIZE_MAX : s->same + n) : run;
    s->last_i = v;
    s->last_v = droop_v[n - 1];

}

static int push(pdn_stream *s, const double *i_a, size_t n, double *droop_v);

int pdn_stream_push(pdn_stream *s, const double *i_a, size_t n, double *droop_v)
{
    int rc = push(s, i_a, n, droop_v);
    if (rc == PDN_OK) note_tail(s, i_a, n, droop_v);
    return rc;
}

int pdn_stream_settled(pdn_stream *s, double i_a)
{
    const pdn_model *m = s->m;
    if (m->method != PDN_STATE) return s->last_i == i_a && s->same >= m->k - 1;
    /* the droop from here on is C Ad^j (z - z*) away from its limit, and
    ** ||Ad|| <= 1 in the energy-scaled states of a passive ladder (with a
    ** regulator, |Ad^j d|^2 <= d^T P d instead): below one ulp of the
    ** droop's scale, the limit is what the bin-by-bin recursion gives */
    double x = i_a - s->i_idle_a, e2 = 0.0, z2 = 0.0;
    for (size_t r = 0; r < m->ns; r++) {
        double d = s->z[r] - m->zu[r] * x, pd = d;
        if (m->lyap) {
            pd = 0.0;
            for (size_t q = 0; q < m->ns; q++) pd += m->lyap[r * m->ns + q] * (s->z[q] - m->zu[q] * x);
        }
        e2 += d * pd;
        z2 += m->zu[r] * x * m->zu[r] * x;
    }
    double e = m->cnorm * sqrt(e2 > 0.0 ? e2 : 0.0);
    if (!(i_a == s->ref_i)) {   /* a new current: its deviation now is the transient's scale */
        s->ref_i = i_a;
        s->ref_e = e;
    }
    /* 2^-40 (~1e-12) of the droop's scale (the transient's at the start
    ** included): the recursion itself settles only to ~1e-13 of it */
    double scale = fabs(s->dc_v) + m->z0_ohm * fabs(x) + m->cnorm * sqrt(z2) + s->ref_e;
    return e <= 0x1p-40 * scale;
}

int pdn_stream_skip(pdn_stream *s, double i_a, size_t n, double *droop_v)
{
    if (!s || !droop_v || !pdn_stream_settled(s, i_a)) return PDN_EINPUT;
    const pdn_model *m = s->m;
    *droop_v = s->last_v;
    if (n == 0) return PDN_OK;
    if (m->method != PDN_STATE) {
        /* the K-1 inputs before the next bin are i_a; the next push starts a block */
        double x = i_a - s->i_idle_a;
        size_t k1 = m->k - 1, end = s->cur + n;
        for (size_t j = 0; j < k1 && j < end; j++) s->ring[(end - 1 - j) & s->mask] = x;
        s->seg_end = 0;
    }
    /* PDN_STATE: the state is within round-off of z*; it goes there, as the
    ** recursion would over a long stretch, so that what follows starts from
    ** the settled state itself (the same bits as the idle start, say: two
    ** like bursts then droop alike to the last bit, not by the round-off the
    ** settling left, and a tie for the worst droop stays with the first) */
    if (m->method == PDN_STATE) {
        double x = i_a - s->i_idle_a;
        for (size_t r = 0; r < m->ns; r++) s->z[r] = m->zu[r] * x;
    }
    s->cur += n;
    s->same = s->same > SIZE_MAX - n ? SIZE_MAX : s->same + n;
    return PDN_OK;
}

static int push(pdn_stream *s, const double *i_a, size_t n, double *droop_v)
{
    if (!s || (n > 0 && (!i_a || !droop_v))) return PDN_EINPUT;
    const pdn_model *m = s->m;
    if (m->method == PDN_STATE) {
        state_push(s, i_a, n, droop_v);
        s->cur += n;
        return PDN_OK;
    }
    const double *h = m->h;
    size_t k1 = m->k - 1;
    while (n > 0) {
        size_t room = s->seg_end > s->cur ? s->seg_end - s->cur : 0;
        size_t take = n < room ? n : room;
        double off = (double)(s->cur - s->direct_from);
        double direct = (double)take * (off + 0.5 * (double)take);
        if (take > 0 && direct <= s->fft_cost) {
            /* inside the segment: past part + direct sum of the new inputs */
            for (size_t j = 0; j < take; j++) {
                size_t p = s->cur;
                s->ring[p & s->mask] = i_a[j] - s->i_idle_a;
                double acc = s->outb[k1 + (p - s->seg_pos)];
                size_t lo = s->direct_from;
                if (p - lo > k1) lo = p - k1;
                for (size_t q = lo; q <= p; q++) acc += h[p - q] * s->ring[q & s->mask];
                droop_v[j] = s->dc_v + acc;
                s->cur++;
            }
        } else {
            take = n < m->block ? n : m->block;
            for (size_t j = 0; j < take; j++)
                s->ring[(s->cur + j) & s->mask] = i_a[j] - s->i_idle_a;
            run_block(s, take);
            for (size_t j = 0; j < take; j++) droop_v[j] = s->dc_v + s->outb[k1 + j];
            s->cur += take;
        }
        i_a += take;
        droop_v += take;
        n -= take;
    }
    return PDN_OK;
}

int pdn_droop(const pdn_model *m, double i_idle_a, const double *i_a, size_t n, double *droop_v)
{
    pdn_stream *s = NULL;
    int rc = pdn_stream_create(m, i_idle_a, &s);
    if (rc != PDN_OK) return rc;
    rc = pdn_stream_push(s, i_a, n, droop_v);
    pdn_stream_destroy(s);
    return rc;
}
