/* thermal.c -- the 3-D stack solver: a DCT across the plane, a small exact
** problem across the layers.
**
** Model (docs/model.md and docs/thermal.md, repeated in thermal.h): nx x ny cells per layer,
** L layers, one node per cell per layer. The lateral conductances of layer l
** are k_l t_l dy/dx and k_l t_l dx/dy, so the lateral part of the conductance
** matrix is kt_l * ((dy/dx) Lx + (dx/dy) Ly), with Lx, Ly the 1-D Laplacians
** of a cell-centred grid with insulated ends (tridiag(-1, 2, -1) with 1 in
** both corners). Their eigenvectors are cos(pi p (i + 1/2) / n), exactly the
** basis of FFTW's REDFT10 (DCT-II), with eigenvalues
**     lambda_p = 2 (1 - cos(pi p / n)) = 4 sin^2(pi p / (2 n)).
** All layers share these eigenvectors, so the 2-D DCT of every layer turns
** the N = L nx ny system into nx ny independent L x L systems, one per mode
** m = (p, q), with the same vertical couplings and a diagonal that grows by
** mu_m kt_l, mu_m = (dy/dx) lambda_p + (dx/dy) lambda_q. Nothing is
** approximated: the results equal a direct solve of the grid model to
** round-off. REDFT01 (DCT-III) inverts REDFT10 up to a factor 2n per axis,
** so inverse maps are scaled by 1 / (4 nx ny). Both are computed through
** one batched 2-D real FFT by Makhoul's method (see dct_fwd), same numbers,
** ~3x faster than FFTW's r2r kinds or 1-D transforms along each axis.
**
** Steady: per mode a symmetric tridiagonal solve. The plan stores the
** reciprocal pivots of its LDL^T factorisation, computed without
** cancellation: the pivot of layer l is e_l + g_l (g_l the coupling up), with
** e_l = mu kt_l + (series combination of g_l-1 and e_l-1) >= 0, so every
** term is a sum of positive numbers.
**
** Transient: per mode C dT/dt = -G T + P with C = diag(cv t A). With
** M = C^-1/2 G C^-1/2 = V Lambda V^T (symmetric, positive definite; a cyclic
** Jacobi eigen-decomposition per mode at plan time) and W = C^-1/2 V, the
** modal coordinates y = W^T C T obey dy/dt = -Lambda y + W^T P, which is
** integrated exactly over a frame of constant power:
**     y <- exp(-Lambda dt) y + (1 - exp(-Lambda dt)) / Lambda * W^T P.
** This is exact for any dt (no stability limit, no time-step error), and
** costs per mode L multiply-adds plus 2 D L for the input and output
** projections, D = number of dies (only die layers carry power).
**
** Storage:
**   steady  piv_inv[m L + l] (mode-major)
**   frame   fac: per block b of BLOCK modes (the last block padded with
**           zero factors), per component i, BLOCK decays, BLOCK gains and
**           BLOCK entries of each die row of W: fac[((b L + i)(2 + D) + j)
**           BLOCK + k], j = 0 decay, 1 gain, 2 + d die d. State y[(b L + i)
**           BLOCK + k]. A frame reads both in storage order, one sequential
**           stream each (~5 MB: the frame is memory-bound), with fixed-length
**           loops over the BLOCK modes;
**           w[(m L + l) L + i] (all of W, mode-major: whole-stack output and
**           setting a state, not per frame).
** Spectral maps are map-major for FFTW: map j of a buffer at [j nm + m].
** For 128 x 128 and L = 8: ~1 MB steady, ~13 MB with a frame. */
#include "thermal.h"

#include <fftw3.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pda_fftw.h"

enum { BLOCK = 32 };         /* modes per block of a frame's factors */

struct thermal_plan {
    size_t nx, ny, nm;       /* grid; nm = nx ny modes (and cells) */
    size_t nl, nd;           /* layers, dies */
    double frame_s;          /* 0: steady only */
    int effort;              /* THERMAL_PLAN_MEASURE or THERMAL_PLAN_ESTIMATE */
    double ambient_c;
    double *gv;              /* nl: coupling layer l to l+1 (W/K); gv[nl-1] = top */
    double *cap;             /* nl: node capacity cv t A (J/K) */
    double *xs;              /* nl: scratch for one mode */
    double gbot;             /* bottom layer to ambient (W/K), 0 = none */
    size_t *die_layer;       /* nd: the layer of each die */
    double *piv_inv;         /* nm nl */
    size_t nb;               /* blocks of BLOCK modes (the last one padded) */
    double *fac;             /* frame factors, nb nl (2 + nd) BLOCK, see top */
    double *scr;             /* 2 nd BLOCK scratch for a frame */
    double *w;               /* nm nl nl */
    double *bufp;            /* nd maps (power spectra) */
    double *lastp;           /* nd maps: the power bufp is the spectrum of */
    int have_lastp;          /* lastp valid */
    double *buft;            /* nl maps (temperature spectra out) */
    double *bufs;            /* nd maps: summed temperature spectra (thermal_step_n) */
    double *wr;              /* fftw real work: nl maps */
    fftw_complex *wc;        /* fftw complex work: nl half spectra */
    double *cx, *sx, *cy, *sy; /* cos, sin of pi k / (2 n) per axis */
    size_t *py;              /* Makhoul's reordering of the rows: v_m = x_py[m] */
    fftw_plan f_2d;          /* r2c, nd maps (DCT-II) */
    fftw_plan i_2d[2];       /* c2r, [0] nd maps, [1] nl maps (DCT-III) */
};

struct thermal_state {
    const thermal_plan *plan;
    double *y;               /* nb nl BLOCK modal coordinates (DCT-II scale) */
};

/* Index of mode m, component i in a state's y. */
static size_t y_at(size_t nl, size_t m, size_t i)
{
    return ((m / BLOCK) * nl + i) * BLOCK + m % BLOCK;
}

/* ---- small dense helpers ---- */

/* Cyclic Jacobi eigen-decomposition of the symmetric n x n matrix a (row-
** major, destroyed: its diagonal ends as the eigenvalues). v receives the
** eigenvectors as columns. A rotation is skipped when |a_pq| is below
** eps sqrt(a_pp a_qq), the criterion that gives eigenvalues to high relative
** accuracy for the scaled diagonally dominant matrices met here. */
static void jacobi_eig(size_t n, double *a, double *v)
{
    for (size_t i = 0; i < n * n; i++) v[i] = 0.0;
    for (size_t i = 0; i < n; i++) v[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        int rotated = 0;
        for (size_t p = 0; p + 1 < n; p++) {
            for (size_t q = p + 1; q < n; q++) {
                double apq = a[p * n + q], app = a[p * n + p], aqq = a[q * n + q];
                if (fabs(apq) <= 0.25 * DBL_EPSILON * sqrt(fabs(app * aqq)) ||
                    apq == 0.0) {
                    a[p * n + q] = a[q * n + p] = 0.0;
                    continue;
                }
                rotated = 1;
                double theta = (aqq - app) / (2.0 * apq);
                double t = 1.0 / (fabs(theta) + hypot(1.0, theta));
                if (theta < 0.0) t = -t;
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
                for (size_t k = 0; k < n; k++) {      /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; k++) {      /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
                a[p * n + p] = app - t * apq;
                a[q * n + q] = aqq + t * apq;
                a[p * n + q] = a[q * n + p] = 0.0;
            }
        }
        if (!rotated) break;
    }
}

/* pi k / (2 n) */
static double quarter_turn(double k, size_t n)
{
    const double pi = 3.14159265358979323846;
    return pi * k / (2.0 * (double)n);
}

/* Eigenvalue of the insulated 1-D cell-centred Laplacian, mode p of n. */
static double lap_eig(size_t p, size_t n)
{
    double s = sin(quarter_turn((double)p, n));
    return 4.0 * s * s;
}

/* ---- plan ---- */

static int check_stack(const thermal_stack *s)
{
    if (!s->layers || s->n_layers == 0 || s->n_dies == 0) return THERMAL_ESTACK;
    if (!(isfinite(s->width_m) && s->width_m > 0.0 && isfinite(s->height_m) &&
          s->height_m > 0.0))
        return THERMAL_ESTACK;
    if (!(isfinite(s->h_top_w_m2k) && s->h_top_w_m2k > 0.0)) return THERMAL_ESTACK;
    if (!(isfinite(s->h_bottom_w_m2k) && s->h_bottom_w_m2k >= 0.0)) return THERMAL_ESTACK;
    if (!isfinite(s->ambient_c)) return THERMAL_ESTACK;
    if (s->n_dies > s->n_layers) return THERMAL_ESTACK;
    for (size_t l = 0; l < s->n_layers; l++) {
        const thermal_layer *ly = &s->layers[l];
        if (!(isfinite(ly->thickness_m) && ly->thickness_m > 0.0 &&
              isfinite(ly->k_w_mk) && ly->k_w_mk > 0.0 &&
              isfinite(ly->cv_j_m3k) && ly->cv_j_m3k > 0.0))
            return THERMAL_ESTACK;
        if (ly->die < -1 || (ly->die >= 0 && (size_t)ly->die >= s->n_dies))
            return THERMAL_ESTACK;
        /* each die exactly once: no earlier layer may carry it */
        for (size_t j = 0; ly->die >= 0 && j < l; j++)
            if (s->layers[j].die == ly->die) return THERMAL_ESTACK;
    }
    for (size_t d = 0; d < s->n_dies; d++) {
        size_t l = 0;
        while (l < s->n_layers && s->layers[l].die != (int)d) l++;
        if (l == s->n_layers) return THERMAL_ESTACK;
    }
    return THERMAL_OK;
}

/* ---- the 2-D DCT-II / DCT-III through one 2-D real FFT ----
** REDFT10 along both axes (X_k = 2 sum_n x_n cos(pi k (2n+1) / 2N) per axis)
** and REDFT01 (its inverse times 2N per axis), by Makhoul's method in two
** dimensions. Per axis the reordering v_m = x_2m, v_N-1-m = x_2m+1 (x at
** perm[m]) turns the DCT into a DFT; applied to both axes, V = 2-D DFT(v)
** (one r2c of the whole map; along x the reordering is done by two strided
** loops, along y through the row table py) and, with w_k = exp(-i pi k / 2N) per axis,
**     X(k1, k2) = 2 Re(w1 w2 V(k1, k2)) + 2 Re(w1 conj(w2) V(k1, N2-k2))
** (V(k1, N2) = V(k1, 0); k1 >= N1/2+1 through V(k1, k2) = conj V(N1-k1, -k2)).
** The inverse builds the half spectrum
**     H(k1, k2) = conj(w1 w2) (X(k1,k2) - X(N1-k1,N2-k2)
**                              - i (X(N1-k1,k2) + X(k1,N2-k2)))
** (X at index N is 0), runs one c2r (unnormalised) and un-reorders. Same
** numbers as FFTW's REDFT10 / REDFT01 in both axes; the batched 2-D FFTs on
** contiguous maps are ~5x faster than 1-D transforms along the columns. */

static size_t half(size_t n) { return n / 2 + 1; }

/* r2c of nd maps; c2r of nd maps ([0]) and nl maps ([1]); wr holds maps at
** distance nm, wc half spectra (ny rows of hx) at distance ny hx. */
static int plan_dct(thermal_plan *p)
{
    int n[2] = {(int)p->ny, (int)p->nx};
    int nm = (int)p->nm, nh = (int)(p->ny * half(p->nx));
    int counts[2] = {(int)p->nd, (int)p->nl};
    unsigned fl = p->effort == THERMAL_PLAN_ESTIMATE ? FFTW_ESTIMATE : FFTW_MEASURE;
    pda_fftw_thread_safe();
    p->f_2d = fftw_plan_many_dft_r2c(2, n, counts[0], p->wr, NULL, 1, nm, p->wc,
                                     NULL, 1, nh, fl);
    if (!p->f_2d) return THERMAL_EFFTW;
    for (int k = 0; k < 2; k++) {
        /* the all-layer inverse ([1]) serves only the _layers outputs, never
        ** a run's loop: estimated, which saves most of a measured plan's time */
        p->i_2d[k] = fftw_plan_many_dft_c2r(2, n, counts[k], p->wc, NULL, 1, nh,
                                            p->wr, NULL, 1, nm, k ? FFTW_ESTIMATE : fl);
        if (!p->i_2d[k]) return THERMAL_EFFTW;
    }
    return THERMAL_OK;
}

/* 2-D REDFT10 of the nd maps of x into bufp. */
static void dct_fwd(thermal_plan *p, const double *x)
{
    size_t nx = p->nx, ny = p->ny, nm = p->nm, hx = half(nx);
    const size_t *py = p->py;
    const double *cx = p->cx, *sx = p->sx;
    for (size_t d = 0; d < p->nd; d++) {
        for (size_t m2 = 0; m2 < ny; m2++) {
            const double *restrict src = x + d * nm + py[m2] * nx;
            double *restrict v = p->wr + d * nm + m2 * nx;
            for (size_t m = 0; 2 * m < nx; m++) v[m] = src[2 * m];
            for (size_t m = 0; 2 * m + 1 < nx; m++) v[nx - 1 - m] = src[2 * m + 1];
        }
    }
    fftw_execute(p->f_2d);
    for (size_t d = 0; d < p->nd; d++) {
        const fftw_complex *vd = p->wc + d * ny * hx;
        for (size_t k2 = 0; k2 < ny; k2++) {
            const fftw_complex *ra = vd + k2 * hx, *rb = vd + (k2 ? ny - k2 : 0) * hx;
            double c2 = 2.0 * p->cy[k2], s2 = 2.0 * p->sy[k2];
            double *restrict xr = p->bufp + d * nm + k2 * nx;
            /* k1 and N1-k1 share A = V(k1, k2), B = V(k1, N2-k2): with
            ** u = c2 (Ar+Br) + s2 (Ai-Bi), t = c2 (Ai+Bi) - s2 (Ar-Br),
            ** X(k1) = c1 u + s1 t and X(N1-k1) = s1 u - c1 t */
            xr[0] = c2 * (ra[0][0] + rb[0][0]) + s2 * (ra[0][1] - rb[0][1]);
            for (size_t k1 = 1; 2 * k1 <= nx; k1++) {
                double ar = ra[k1][0], ai = ra[k1][1], br = rb[k1][0], bi = rb[k1][1];
                double u = c2 * (ar + br) + s2 * (ai - bi);
                double t = c2 * (ai + bi) - s2 * (ar - br);
                xr[k1] = cx[k1] * u + sx[k1] * t;
                if (2 * k1 < nx) xr[nx - k1] = sx[k1] * u - cx[k1] * t;
            }
        }
    }
}

/* 2-D REDFT01 of the first nmaps (nd or nl) maps of x; writes them scaled by
** 1 / (4 nm) plus ambient into out (absolute degrees C). */
static void dct_inv(thermal_plan *p, const double *x, size_t nmaps, double *out)
{
    size_t nx = p->nx, ny = p->ny, nm = p->nm, hx = half(nx);
    const size_t *py = p->py;
    const double *cx = p->cx, *sx = p->sx;
    for (size_t d = 0; d < nmaps; d++) {
        for (size_t k2 = 0; k2 < ny; k2++) {
            const double *xa = x + d * nm + k2 * nx;                 /* row k2 */
            const double *xb = k2 ? x + d * nm + (ny - k2) * nx : NULL;  /* N2-k2 */
            double c2 = p->cy[k2], s2 = p->sy[k2];
            fftw_complex *restrict h = p->wc + (d * ny + k2) * hx;
            /* H = (cc + i ss)(re + i im), cc + i ss = conj(w1 w2) */
            double e0 = xb ? xb[0] : 0.0;
            h[0][0] = c2 * xa[0] + s2 * e0;
            h[0][1] = s2 * xa[0] - c2 * e0;
            for (size_t k1 = 1; k1 < hx && k1 < nx; k1++) {
                size_t j = nx - k1;
                double re = xa[k1], im = -xa[j];
                if (xb) { re -= xb[j]; im -= xb[k1]; }
                double cc = cx[k1] * c2 - sx[k1] * s2, ss = sx[k1] * c2 + cx[k1] * s2;
                h[k1][0] = cc * re - ss * im;
                h[k1][1] = ss * re + cc * im;
            }
        }
    }
    fftw_execute(p->i_2d[nmaps == p->nd ? 0 : 1]);
    double scale = 1.0 / (4.0 * (double)nm), amb = p->ambient_c;
    for (size_t d = 0; d < nmaps; d++) {
        for (size_t m2 = 0; m2 < ny; m2++) {
            const double *restrict v = p->wr + d * nm + m2 * nx;
            double *restrict dst = out + d * nm + py[m2] * nx;
            for (size_t m = 0; 2 * m < nx; m++) dst[2 * m] = v[m] * scale + amb;
            for (size_t m = 0; 2 * m + 1 < nx; m++)
                dst[2 * m + 1] = v[nx - 1 - m] * scale + amb;
        }
    }
}

/* Steady factors and, with a frame, the modal integrator of every mode. */
static int plan_modes(thermal_plan *p, const thermal_stack *s)
{
    size_t nl = p->nl, nd = p->nd;
    double dx = s->width_m / (double)p->nx, dy = s->height_m / (double)p->ny;
    double area = dx * dy;
    double *kt = malloc(nl * sizeof *kt), *cap = p->cap;
    double *lx = malloc(p->nx * sizeof *lx), *lyv = malloc(p->ny * sizeof *lyv);
    double *a = malloc(nl * nl * sizeof *a), *v = malloc(nl * nl * sizeof *v);
    double *rs = malloc(nl * sizeof *rs);
    int rc = THERMAL_OK;
    if (!kt || !lx || !lyv || !a || !v || !rs) { rc = THERMAL_ENOMEM; goto out; }
    for (size_t l = 0; l < nl; l++) {
        const thermal_layer *ly = &s->layers[l];
        kt[l] = ly->k_w_mk * ly->thickness_m;
        cap[l] = ly->cv_j_m3k * ly->thickness_m * area;
        rs[l] = 1.0 / sqrt(cap[l]);
        if (l + 1 < nl) {
            const thermal_layer *up = &s->layers[l + 1];
            p->gv[l] = 1.0 / (ly->thickness_m / (2.0 * ly->k_w_mk * area) +
                              up->thickness_m / (2.0 * up->k_w_mk * area));
        } else {
            p->gv[l] = 1.0 / (ly->thickness_m / (2.0 * ly->k_w_mk * area) +
                              1.0 / (s->h_top_w_m2k * area));
        }
    }
    p->gbot = 0.0;
    if (s->h_bottom_w_m2k > 0.0)
        p->gbot = 1.0 / (s->layers[0].thickness_m / (2.0 * s->layers[0].k_w_mk * area) +
                         1.0 / (s->h_bottom_w_m2k * area));
    for (size_t i = 0; i < p->nx; i++) lx[i] = (dy / dx) * lap_eig(i, p->nx);
    for (size_t j = 0; j < p->ny; j++) lyv[j] = (dx / dy) * lap_eig(j, p->ny);

    for (size_t q = 0; q < p->ny; q++) {
        for (size_t pp = 0; pp < p->nx; pp++) {
            size_t m = q * p->nx + pp;
            double mu = lx[pp] + lyv[q];
            /* steady: pivots e_l + gv_l, e_l the conductance below, in series */
            double e = p->gbot, *piv = p->piv_inv + m * nl;
            for (size_t l = 0; l < nl; l++) {
                if (l > 0) e = p->gv[l - 1] * e / (p->gv[l - 1] + e);
                e += mu * kt[l];
                piv[l] = 1.0 / (e + p->gv[l]);
            }
            if (p->frame_s <= 0.0) continue;
            /* transient: M = C^-1/2 G C^-1/2, tridiagonal */
            for (size_t i = 0; i < nl * nl; i++) a[i] = 0.0;
            for (size_t l = 0; l < nl; l++) {
                double diag = mu * kt[l] + p->gv[l] + (l > 0 ? p->gv[l - 1] : p->gbot);
                a[l * nl + l] = diag * rs[l] * rs[l];
                if (l + 1 < nl)
                    a[l * nl + l + 1] = a[(l + 1) * nl + l] = -p->gv[l] * rs[l] * rs[l + 1];
            }
            jacobi_eig(nl, a, v);
            double *wm = p->w + m * nl * nl;
            for (size_t l = 0; l < nl; l++)
                for (size_t i = 0; i < nl; i++) wm[l * nl + i] = v[l * nl + i] * rs[l];
            for (size_t i = 0; i < nl; i++) {
                double lam = a[i * nl + i], x = -lam * p->frame_s;
                double *f = p->fac + ((m / BLOCK) * nl + i) * (2 + nd) * BLOCK + m % BLOCK;
                f[0] = exp(x);
                f[BLOCK] = -expm1(x) / lam;
                for (size_t d = 0; d < nd; d++)
                    f[(2 + d) * BLOCK] = wm[p->die_layer[d] * nl + i];
            }
        }
    }
out:
    free(kt); free(lx); free(lyv); free(a); free(v); free(rs);
    return rc;
}

int thermal_plan_create(const thermal_stack *stack, size_t nx, size_t ny,
                        double frame_s, thermal_plan **out)
{
    return thermal_plan_create_ex(stack, nx, ny, frame_s, THERMAL_PLAN_MEASURE, out);
}

int thermal_plan_create_ex(const thermal_stack *stack, size_t nx, size_t ny, double frame_s, int effort,
                           thermal_plan **out)
{
    if (!out) return THERMAL_EINVAL;
    *out = NULL;
    if (!stack || nx == 0 || ny == 0 || !isfinite(frame_s) || frame_s < 0.0 ||
        (effort != THERMAL_PLAN_MEASURE && effort != THERMAL_PLAN_ESTIMATE))
        return THERMAL_EINVAL;
    int rc = check_stack(stack);
    if (rc) return rc;
    size_t nl = stack->n_layers, nd = stack->n_dies;
    /* FFTW takes int sizes; keep every count and product representable */
    if (nx > (size_t)INT_MAX || ny > (size_t)INT_MAX || nl > 4096 ||
        ny > (size_t)INT_MAX / nx || nx * ny > (size_t)INT_MAX / nl ||
        nx * ny > SIZE_MAX / sizeof(double) / nl / nl)
        return THERMAL_EINVAL;

    thermal_plan *p = calloc(1, sizeof *p);
    if (!p) return THERMAL_ENOMEM;
    p->nx = nx; p->ny = ny; p->nm = nx * ny; p->nl = nl; p->nd = nd;
    p->frame_s = frame_s;
    p->effort = effort;
    p->ambient_c = stack->ambient_c;
    size_t nm = p->nm;
    p->gv = malloc(nl * sizeof *p->gv);
    p->cap = malloc(nl * sizeof *p->cap);
    p->xs = malloc(nl * sizeof *p->xs);
    p->die_layer = malloc(nd * sizeof *p->die_layer);
    p->piv_inv = malloc(nm * nl * sizeof *p->piv_inv);
    p->bufp = malloc(nm * nd * sizeof(double));
    p->lastp = malloc(nm * nd * sizeof(double));
    p->buft = malloc(nm * nl * sizeof(double));
    p->bufs = malloc(nm * nd * sizeof(double));
    p->wr = fftw_malloc(nm * nl * sizeof(double));
    p->wc = fftw_malloc(nl * half(nx) * ny * sizeof(fftw_complex));
    p->cx = malloc(nx * sizeof(double));
    p->sx = malloc(nx * sizeof(double));
    p->cy = malloc(ny * sizeof(double));
    p->sy = malloc(ny * sizeof(double));
    p->py = malloc(ny * sizeof(size_t));
    if (!p->wr || !p->wc || !p->cx || !p->sx || !p->cy || !p->sy || !p->py ||
        !p->lastp) {
        rc = THERMAL_ENOMEM; goto fail;
    }
    for (size_t m = 0; 2 * m < ny; m++) p->py[m] = 2 * m;
    for (size_t m = 0; 2 * m + 1 < ny; m++) p->py[ny - 1 - m] = 2 * m + 1;
    for (size_t k = 0; k < nx; k++) {
        p->cx[k] = cos(quarter_turn((double)k, nx));
        p->sx[k] = sin(quarter_turn((double)k, nx));
    }
    for (size_t k = 0; k < ny; k++) {
        p->cy[k] = cos(quarter_turn((double)k, ny));
        p->sy[k] = sin(quarter_turn((double)k, ny));
    }
    if (!p->gv || !p->cap || !p->xs || !p->die_layer || !p->piv_inv || !p->bufp || !p->buft || !p->bufs) {
        rc = THERMAL_ENOMEM; goto fail;
    }
    p->nb = (nm + BLOCK - 1) / BLOCK;
    if (frame_s > 0.0) {
        /* calloc: the padding modes of the last block have zero factors */
        p->fac = calloc(p->nb * nl * (2 + nd) * BLOCK, sizeof *p->fac);
        p->scr = malloc(2 * nd * BLOCK * sizeof *p->scr);
        p->w = malloc(nm * nl * nl * sizeof *p->w);
        if (!p->fac || !p->w || !p->scr) { rc = THERMAL_ENOMEM; goto fail; }
    }
    for (size_t l = 0; l < nl; l++)
        if (stack->layers[l].die >= 0) p->die_layer[stack->layers[l].die] = l;

    rc = plan_dct(p);
    if (rc) goto fail;
    rc = plan_modes(p, stack);
    if (rc) goto fail;
    *out = p;
    return THERMAL_OK;
fail:
    thermal_plan_destroy(p);
    return rc;
}

void thermal_plan_destroy(thermal_plan *p)
{
    if (!p) return;
    fftw_plan all[3] = {p->f_2d, p->i_2d[0], p->i_2d[1]};
    for (int i = 0; i < 3; i++)
        if (all[i]) fftw_destroy_plan(all[i]);
    fftw_free(p->wr);
    fftw_free(p->wc);
    free(p->bufp); free(p->lastp); free(p->buft); free(p->bufs);
    free(p->cx); free(p->sx); free(p->cy); free(p->sy); free(p->py);
    free(p->gv); free(p->cap); free(p->xs); free(p->die_layer); free(p->piv_inv);
    free(p->fac); free(p->w); free(p->scr);
    free(p);
}

void thermal_plan_size(const thermal_plan *p, size_t *nx, size_t *ny,
                       size_t *n_layers, size_t *n_dies, double *frame_s)
{
    if (nx) *nx = p->nx;
    if (ny) *ny = p->ny;
    if (n_layers) *n_layers = p->nl;
    if (n_dies) *n_dies = p->nd;
    if (frame_s) *frame_s = p->frame_s;
}

/* ---- execution ---- */

/* Leaves the DCT-II of the nd power maps in bufp. Power traces repeat
** frames, so when power_w holds the same bytes as the maps bufp was made
** from, the transform is skipped (a bytewise match gives the same spectra). */
static void forward_power(thermal_plan *p, const double *power_w)
{
    size_t bytes = p->nd * p->nm * sizeof(double);
    if (p->have_lastp && memcmp(p->lastp, power_w, bytes) == 0) return;
    memcpy(p->lastp, power_w, bytes);
    p->have_lastp = 1;
    dct_fwd(p, p->lastp);
}

/* Inverse-transforms the first nmaps maps of buft and writes them, scaled
** and shifted to absolute degrees, into temp_c. */
static void inverse_temps(thermal_plan *p, size_t nmaps, double *temp_c)
{
    dct_inv(p, p->buft, nmaps, temp_c);
}

/* Per mode, solves G x = P (P at die layers) from the spectra in bufp and
** writes every layer's spectrum x into buft (all_layers) or the die layers'
** (die d at map d). */
static void steady_modes(thermal_plan *p, int all_layers)
{
    size_t nm = p->nm, nl = p->nl, nd = p->nd;
    double *xs = p->xs;
    for (size_t m = 0; m < nm; m++) {
        const double *piv = p->piv_inv + m * nl;
        for (size_t l = 0; l < nl; l++) xs[l] = 0.0;
        for (size_t d = 0; d < nd; d++) xs[p->die_layer[d]] = p->bufp[d * nm + m];
        /* forward: y_l = d_l + gv_l-1 piv_l-1 y_l-1 */
        for (size_t l = 1; l < nl; l++) xs[l] += p->gv[l - 1] * piv[l - 1] * xs[l - 1];
        /* backward: x_l = (y_l + gv_l x_l+1) piv_l */
        xs[nl - 1] *= piv[nl - 1];
        for (size_t l = nl - 1; l-- > 0;) xs[l] = (xs[l] + p->gv[l] * xs[l + 1]) * piv[l];
        if (all_layers)
            for (size_t l = 0; l < nl; l++) p->buft[l * nm + m] = xs[l];
        else
            for (size_t d = 0; d < nd; d++) p->buft[d * nm + m] = xs[p->die_layer[d]];
    }
}

static int steady(thermal_plan *p, const double *power_w, double *temp_c,
                  int all_layers)
{
    if (!p || !power_w || !temp_c) return THERMAL_EINVAL;
    forward_power(p, power_w);
    steady_modes(p, all_layers);
    inverse_temps(p, all_layers ? p->nl : p->nd, temp_c);
    return THERMAL_OK;
}

int thermal_steady(thermal_plan *p, const double *power_w, double *temp_c)
{
    return steady(p, power_w, temp_c, 0);
}

int thermal_steady_layers(thermal_plan *p, const double *power_w,
                          double *temp_c)
{
    return steady(p, power_w, temp_c, 1);
}

int thermal_state_create(const thermal_plan *p, thermal_state **out)
{
    if (!out) return THERMAL_EINVAL;
    *out = NULL;
    if (!p) return THERMAL_EINVAL;
    if (p->frame_s <= 0.0) return THERMAL_ESTEADY;
    thermal_state *s = malloc(sizeof *s);
    if (!s) return THERMAL_ENOMEM;
    s->plan = p;
    s->y = calloc(p->nb * BLOCK * p->nl, sizeof *s->y);
    if (!s->y) { free(s); return THERMAL_ENOMEM; }
    *out = s;
    return THERMAL_OK;
}

void thermal_state_destroy(thermal_state *s)
{
    if (!s) return;
    free(s->y);
    free(s);
}

static int check_state(const thermal_plan *p, const thermal_state *s)
{
    if (!p || !s) return THERMAL_EINVAL;
    if (s->plan != p) return THERMAL_EINVAL;
    return THERMAL_OK;
}

int thermal_state_set_steady(thermal_plan *p, thermal_state *s,
                             const double *power_w)
{
    int rc = check_state(p, s);
    if (rc) return rc;
    size_t nm = p->nm, nl = p->nl;
    if (!power_w) {
        memset(s->y, 0, p->nb * BLOCK * nl * sizeof *s->y);
        return THERMAL_OK;
    }
    forward_power(p, power_w);
    steady_modes(p, 1);
    /* y = W^T C T (W^T C W = I), from the tridiagonal solve's T rather than
    ** Lambda^-1 W^T P, which keeps that solve's accuracy */
    for (size_t m = 0; m < nm; m++) {
        const double *wm = p->w + m * nl * nl;
        for (size_t i = 0; i < nl; i++) {
            double y = 0.0;
            for (size_t l = 0; l < nl; l++) y += wm[l * nl + i] * (p->buft[l * nm + m] * p->cap[l]);
            s->y[y_at(nl, m, i)] = y;
        }
    }
    return THERMAL_OK;
}

int thermal_step(thermal_plan *p, thermal_state *s, const double *power_w,
                 double *temp_c)
{
    int rc = check_state(p, s);
    if (rc) return rc;
    if (!power_w) return THERMAL_EINVAL;
    size_t nm = p->nm, nl = p->nl, nd = p->nd;
    forward_power(p, power_w);
    const double *bp = p->bufp;
    double *bt = p->buft;
    size_t stride = (2 + nd) * BLOCK;           /* one component of a block */
    double *restrict pin = p->scr, *restrict out = p->scr + nd * BLOCK;
    const double *f = p->fac;
    double *yb = s->y;
    int fused = nd == 2 && temp_c;
    /* one pass over the factors, in the order they are stored: per block of
    ** modes, the spectra in, then per component decay, gain and die rows of
    ** W over BLOCK modes (fixed-length loops, independent across modes) */
    for (size_t blk = 0; blk < p->nb; blk++) {
        size_t m0 = blk * BLOCK, n = nm - m0 < BLOCK ? nm - m0 : BLOCK;
        for (size_t d = 0; d < nd; d++) {
            memcpy(pin + d * BLOCK, bp + d * nm + m0, n * sizeof *pin);
            for (size_t k = n; k < BLOCK; k++) pin[d * BLOCK + k] = 0.0;
        }
        for (size_t k = 0; k < nd * BLOCK; k++) out[k] = 0.0;
        if (fused) {
            /* the common two-die case, fused into one loop per component */
            double *restrict o0 = out, *restrict o1 = out + BLOCK;
            const double *restrict p0 = pin, *restrict p1 = pin + BLOCK;
            for (size_t i = 0; i < nl; i++, f += stride, yb += BLOCK) {
                double *restrict y = yb;
                const double *restrict dec = f, *restrict gn = f + BLOCK;
                const double *restrict w0 = f + 2 * BLOCK, *restrict w1 = f + 3 * BLOCK;
                for (size_t k = 0; k < BLOCK; k++) {
                    double yk = dec[k] * y[k] + gn[k] * (w0[k] * p0[k] + w1[k] * p1[k]);
                    y[k] = yk;
                    o0[k] += w0[k] * yk;
                    o1[k] += w1[k] * yk;
                }
            }
        }
        for (size_t i = 0; !fused && i < nl; i++, f += stride, yb += BLOCK) {
            double b[BLOCK];
            double *restrict y = yb;
            const double *restrict dec = f, *restrict gn = f + BLOCK;
            for (size_t k = 0; k < BLOCK; k++) b[k] = 0.0;
            for (size_t d = 0; d < nd; d++) {
                const double *restrict w = f + (2 + d) * BLOCK;
                const double *restrict pd = pin + d * BLOCK;
                for (size_t k = 0; k < BLOCK; k++) b[k] += w[k] * pd[k];
            }
            for (size_t k = 0; k < BLOCK; k++) y[k] = dec[k] * y[k] + gn[k] * b[k];
            for (size_t d = 0; temp_c && d < nd; d++) {
                const double *restrict w = f + (2 + d) * BLOCK;
                double *restrict o = out + d * BLOCK;
                for (size_t k = 0; k < BLOCK; k++) o[k] += w[k] * y[k];
            }
        }
        for (size_t d = 0; temp_c && d < nd; d++)
            memcpy(bt + d * nm + m0, out + d * BLOCK, n * sizeof *out);
    }
    if (temp_c) inverse_temps(p, nd, temp_c);
    return THERMAL_OK;
}

int thermal_step_n(thermal_plan *p, thermal_state *s, const double *power_w, size_t n, double *temp_c,
                   double *sum_c)
{
    int rc = check_state(p, s);
    if (rc) return rc;
    if (!power_w || !temp_c || !sum_c || n == 0) return THERMAL_EINVAL;
    size_t nm = p->nm, nl = p->nl, nd = p->nd;
    forward_power(p, power_w);
    size_t stride = (2 + nd) * BLOCK;
    double *sum = p->bufs;   /* the sums' spectra */
    double dn_ = (double)n;
    for (size_t m = 0; m < nm; m++) {
        const double *f = p->fac + (m / BLOCK) * nl * stride + m % BLOCK;
        double *y = s->y + (m / BLOCK) * nl * BLOCK + m % BLOCK;
        for (size_t d = 0; d < nd; d++) p->buft[d * nm + m] = sum[d * nm + m] = 0.0;
        for (size_t i = 0; i < nl; i++, f += stride, y += BLOCK) {
            double dec = f[0], gn = f[BLOCK], b = 0.0;
            for (size_t d = 0; d < nd; d++) b += f[(2 + d) * BLOCK] * p->bufp[d * nm + m];
            /* y_j = yinf + dec^j (y0 - yinf), yinf = gn b / (1 - dec); the sum
            ** over j = 1..n in closed form (expm1: no cancellation for slow
            ** modes, dec near 1) */
            double x = dec > 0.0 ? log(dec) : -INFINITY;
            double one_m = -expm1(x);                      /* 1 - dec */
            double yinf = one_m > 0.0 ? gn * b / one_m : 0.0;
            double dn = exp(dn_ * x), e0 = *y - yinf;      /* dec^n */
            double geo = one_m > 0.0 ? dec * -expm1(dn_ * x) / one_m : dn_;   /* sum of dec^j, j = 1..n */
            *y = yinf + dn * e0;
            double ys = dn_ * yinf + geo * e0;
            for (size_t d = 0; d < nd; d++) {
                p->buft[d * nm + m] += f[(2 + d) * BLOCK] * *y;
                sum[d * nm + m] += f[(2 + d) * BLOCK] * ys;
            }
        }
    }
    inverse_temps(p, nd, temp_c);
    dct_inv(p, sum, nd, sum_c);
    /* each of the n maps is a rise over ambient: their sum has n ambients */
    for (size_t k = 0; k < nd * nm; k++) sum_c[k] += (dn_ - 1.0) * p->ambient_c;
    return THERMAL_OK;
}

int thermal_state_periodic(thermal_plan *p, thermal_state *s, size_t n)
{
    int rc = check_state(p, s);
    if (rc) return rc;
    if (n == 0) return THERMAL_EINVAL;
    const size_t nl = p->nl, stride = (2 + p->nd) * BLOCK;
    for (size_t m = 0; m < p->nm; m++) {
        const double *f = p->fac + (m / BLOCK) * nl * stride + m % BLOCK;
        double *y = s->y + (m / BLOCK) * nl * BLOCK + m % BLOCK;
        for (size_t i = 0; i < nl; i++, f += stride, y += BLOCK) {
            /* 1 - dec^n; a decay that underflowed to 0 leaves y as it is */
            double one_m = f[0] > 0.0 ? -expm1((double)n * log(f[0])) : 1.0;
            *y /= one_m;
        }
    }
    return THERMAL_OK;
}

int thermal_state_copy(thermal_plan *p, thermal_state *dst, const thermal_state *src)
{
    int rc = check_state(p, dst);
    if (!rc) rc = check_state(p, src);
    if (rc) return rc;
    memcpy(dst->y, src->y, p->nb * BLOCK * p->nl * sizeof *dst->y);
    return THERMAL_OK;
}

/* Writes the die layers' (all == 0) or every layer's temperatures of s. */
static int state_out(thermal_plan *p, const thermal_state *s, double *temp_c,
                     int all)
{
    int rc = check_state(p, s);
    if (rc) return rc;
    if (!temp_c) return THERMAL_EINVAL;
    size_t nm = p->nm, nl = p->nl, nd = p->nd, nout = all ? nl : nd;
    for (size_t m = 0; m < nm; m++) {
        const double *wm = p->w + m * nl * nl;
        for (size_t o = 0; o < nout; o++) {
            const double *row = wm + (all ? o : p->die_layer[o]) * nl;
            double t = 0.0;
            for (size_t i = 0; i < nl; i++) t += row[i] * s->y[y_at(nl, m, i)];
            p->buft[o * nm + m] = t;
        }
    }
    inverse_temps(p, nout, temp_c);
    return THERMAL_OK;
}

int thermal_state_temps(thermal_plan *p, const thermal_state *s,
                        double *temp_c)
{
    return state_out(p, s, temp_c, 0);
}

int thermal_state_layers(thermal_plan *p, const thermal_state *s,
                         double *temp_c)
{
    return state_out(p, s, temp_c, 1);
}

/* ---- power maps ---- */

/* Overlap of [a0, a1] with cell i of n cells on [0, len]. */
static double overlap(double a0, double a1, size_t i, size_t n, double len)
{
    double c0 = (double)i * len / (double)n, c1 = (double)(i + 1) * len / (double)n;
    double o = fmin(a1, c1) - fmax(a0, c0);
    return o > 0.0 ? o : 0.0;
}

/* Clips [x, x + w] to [0, len] within a tolerance; sets the cell range
** [*i0, *i1) and the total overlap. Returns 0 or THERMAL_ERANGE. */
static int span(double x, double w, double len, size_t n, double *a0,
                double *a1, size_t *i0, size_t *i1, double *sum)
{
    double tol = 1e-9 * len;
    if (!(w > 0.0) || x < -tol || x + w > len + tol) return THERMAL_ERANGE;
    *a0 = fmax(x, 0.0);
    *a1 = fmin(x + w, len);
    if (!(*a1 > *a0)) return THERMAL_ERANGE;
    double cell = len / (double)n;
    double f0 = floor(*a0 / cell), f1 = ceil(*a1 / cell);
    *i0 = f0 < 0.0 ? 0 : (size_t)f0;
    *i1 = f1 > (double)n ? n : (size_t)f1;
    if (*i0 > 0) (*i0)--;           /* guard the division's round-off */
    if (*i1 < n) (*i1)++;
    *sum = 0.0;
    for (size_t i = *i0; i < *i1; i++) *sum += overlap(*a0, *a1, i, n, len);
    return *sum > 0.0 ? THERMAL_OK : THERMAL_ERANGE;
}

int thermal_power_map(const double *rect_mm, double width_mm,
                      double height_mm, size_t nx, size_t ny, double power_w,
                      double *map_w)
{
    if (!rect_mm || !map_w || nx == 0 || ny == 0) return THERMAL_EINVAL;
    for (int i = 0; i < 4; i++)
        if (!isfinite(rect_mm[i])) return THERMAL_EINVAL;
    if (!isfinite(width_mm) || !(width_mm > 0.0) || !isfinite(height_mm) ||
        !(height_mm > 0.0) || !isfinite(power_w))
        return THERMAL_EINVAL;
    double x0, x1, y0, y1, sx, sy;
    size_t i0, i1, j0, j1;
    int rc = span(rect_mm[0], rect_mm[2], width_mm, nx, &x0, &x1, &i0, &i1, &sx);
    if (rc) return rc;
    rc = span(rect_mm[1], rect_mm[3], height_mm, ny, &y0, &y1, &j0, &j1, &sy);
    if (rc) return rc;
    for (size_t j = j0; j < j1; j++) {
        double fy = overlap(y0, y1, j, ny, height_mm) / sy;
        if (fy == 0.0) continue;
        double pj = power_w * fy;
        for (size_t i = i0; i < i1; i++) {
            double fx = overlap(x0, x1, i, nx, width_mm) / sx;
            map_w[j * nx + i] += pj * fx;
        }
    }
    return THERMAL_OK;
}

const char *thermal_strerror(int rc) { return pda_strerror(rc); }
