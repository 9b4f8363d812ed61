/* pipeline_power.c -- the system's power figures: the peak bin, the peak
** over the window and the energy (pda_power), from the power per bin in
** fixed point (PDA_POWER_FX units a watt, pda.h).
**
** Each chip's power (its rails' in watts, added in rail order) is truncated
** to fixed point, and the chips' values are added as integers: exactly, so
** the system's power per bin does not depend on the order of the chips nor
** on which process added which (analyzer run under mpirun adds each
** process's chips there, then the processes' sums). The window sum and the
** total are kept in 128 bits, so a constant run taken at once gives the
** same figures as the same bins one by one. Memory: the window's w values. */
#include <stdlib.h>
#include <string.h>

#include "pipeline_int.h"

int pda_power_acc_init(pda_power_acc *a, size_t w)
{
    memset(a, 0, sizeof *a);
    a->w = w ? w : 1;
    a->ring = calloc(a->w, sizeof *a->ring);
    return a->ring ? 0 : -1;
}

void pda_power_acc_free(pda_power_acc *a)
{
    free(a->ring);
    a->ring = NULL;
}

/* n values x[0..n) (or n copies of xc when x is NULL), bin by bin; the
** figures in locals meanwhile (the ring's stores could alias the fields,
** which kept them in memory and was most of the pass). */
static void push(pda_power_acc *a, const int64_t *x, int64_t xc, size_t n)
{
    const size_t w = a->w;
    int64_t *ring = a->ring, max = a->max;
    size_t slot = a->n_seen % w, n_seen = a->n_seen, max_at = a->max_at, peak_end = a->peak_end;
    __int128 sum = a->sum, peak = a->peak, total = a->total;
    int any = a->any;
    for (size_t k = 0; k < n; k++) {
        int64_t v = x ? x[k] : xc;
        if (v > max) { max = v; max_at = n_seen; }
        total += v;
        sum += (__int128)v - ring[slot];
        ring[slot] = v;
        if (++slot == w) slot = 0;
        if (++n_seen >= w && (!any || sum > peak)) {
            peak = sum;
            peak_end = n_seen;
            any = 1;
        }
    }
    a->max = max;
    a->max_at = max_at;
    a->n_seen = n_seen;
    a->peak_end = peak_end;
    a->sum = sum;
    a->peak = peak;
    a->total = total;
    a->any = any;
}

void pda_power_acc_sink(void *arg, size_t b0, size_t nb, const int64_t *p, int64_t p_const)
{
    pda_power_acc *a = arg;
    (void)b0;   /* pieces come in order */
    if (p) {
        push(a, p, 0, nb);
        return;
    }
    /* a constant run: its first w values through the window; after them the
    ** window holds p_const alone, its sum stays, and so do the peaks */
    size_t head = nb < a->w ? nb : a->w;
    push(a, NULL, p_const, head);
    a->n_seen += nb - head;
    a->total += (__int128)p_const * (__int128)(nb - head);
}

pda_power pda_power_figures(const pda_power_acc *a, double bin_ns, double *total_w_ns)
{
    /* a stream shorter than the window: its average is the window's */
    double peak = a->any ? (double)a->peak / (double)a->w
                         : a->n_seen ? (double)a->sum / (double)a->n_seen : 0.0;
    *total_w_ns = (double)a->total / PDA_POWER_FX * bin_ns;
    return (pda_power){.peak_w = (double)a->max / PDA_POWER_FX, .t_peak_ns = (double)a->max_at * bin_ns,
                       .peak_window_w = peak / PDA_POWER_FX, .window_ns = (double)a->w * bin_ns};
}

int pda_power_out(pda_result *r, pda_power_acc *a, size_t b0, size_t nb, const int64_t *p, int64_t p_const)
{
    if (!r->o.power_combine) {
        pda_power_acc_sink(a, b0, nb, p, p_const);
        return 0;
    }
    if (r->o.power_combine(r->o.power_arg, b0, nb, p, p_const, pda_power_acc_sink, a) == 0) return 0;
    r->power_failed = 1;
    return -1;
}
