/* budget.c -- re-timing to a power, dI/dt or droop budget: the entry point
** (budget_retime), the proofs behind "cannot be met", and the rounds that
** tie the scheduler to a full re-analysis.
**
** Flow. Check the spec; the proofs that need no search (the idle power
** against the cap, the idle droop against the guardband); the figures of
** the original schedule (budget_analyze); the groups and their edges
** (budget_sched.c). Then two threads: the lower bound (budget_bound.c) on
** one; on the other the proof per exact group (alone on an idle chip at
** every phase of the clock against the bins: prove_group), the forward
** pass(es) and, under a power cap, forward-backward passes, the two fixes
** for a run shorter than a window (stretch_short), and the full
** re-analysis of the best schedule; if a dI/dt or droop budget is still
** broken (the scheduler's droop uses the kernel's first taps) the margins
** grow by the excess and the passes run again (ROUNDS at most); a power
** cap missed by round-off alone shrinks the budget and repacks the best
** schedule's order in one forward pass (repair). The result
** is verified (sio_schedule_verify) before it is returned.
**
** Outcomes: met; impossible only with a proof, named in the message; not
** met otherwise (the best valid schedule reached and its excess), never
** "cannot". */
#include "budget.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget_int.h"
#include "current.h"
#include "pdn.h"
#include "walk.h"

#define KT_MAX 256        /* kernel taps used by the droop check */
#define ROUNDS 8          /* re-analysis rounds for the dI/dt and droop margins */
#define FB_PASSES 4       /* forward-backward improvement passes, at most */
/* Round-off. The final check (meets) holds a re-timed schedule's figures to
** the budgets as `run` holds its own to its limits: dI/dt and droop from the
** same walk and the same expressions, so strictly; the power cap within
** POWER_TOL_W of the cap at most (run sums power in fixed point of 2^-32 W,
** truncated, budget_analyze in double), never more than TOL of it. The
** scheduler's profiles may pass a budget by half of it: a budget met exactly
** is met. The proofs of exit 3 need a group over the budget by more than
** TOL. */
#define TOL 1e-12
#define POWER_TOL_W 0x1p-33
static double cap_allow(double cap) { return fmin(TOL * cap, POWER_TOL_W); }

/* ---- proofs ------------------------------------------------------------------ */

/* The instruction to name for group g: its first in the file (instructions
** are in file order; their kept lines may all be UINT32_MAX far down). */
static size_t first_line(const ctx *x, size_t g)
{
    size_t i = x->g_mem[x->g_off[g]];
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++)
        if (x->g_mem[k] < i) i = x->g_mem[k];
    return i;
}

/* The power certificate of the group in scratch (alone at one phase): the
** largest average power of any window that lies inside every run holding
** the group there: windows [a, a + W) with a >= 0 that end at or before the
** group's last bin (bins before it hold the idle power whole; the last bin
** is counted with no idle, which only makes the certificate more cautious).
** -1 when no such window exists. */
static double window_proof_w(const ctx *x)
{
    const size_t LB = x->LB, RB = x->RB, W = x->W;
    if (RB + 1 < W) return -1;
    double best = -1;
    size_t a0 = LB + 1 >= W ? LB + 1 - W : 0;
    for (size_t a = a0; a + W <= RB + 1; a++) {
        double s = 0;
        for (size_t b = a > LB ? a : LB; b < a + W; b++) s += x->gp[b - LB];
        double idle = (double)(a + W <= RB ? W : W - 1) * x->p_idle_w;
        double avg = (s + idle) / (double)W;
        if (avg > best) best = avg;
    }
    return best;
}

/* Is group g refused by a power cap at every phase of the clock against
** the bins, alone on an otherwise idle chip? A placement is the group's
** shape moved whole, so its profile repeats every `phases` cycles of delay;
** power only adds up (no other instruction lowers a window's power), so if
** each phase breaks a cap on a window that every run holding the group there
** contains (window_proof_w), no schedule meets the cap. dI/dt and droop have
** no such proof: another unit's current may cancel a step, and the PDN's
** ringing may lower a droop. Returns 0 (no proof), 1 (proof: message in err,
** culprit in rep), -1 out of memory. */
static int prove_group(ctx *x, size_t g, int64_t phases, const budget_spec *sp, budget_report *rep)
{
    if (!x->use_pw) return 0;
    /* the least figure over the phases that break each cap (chip, system) */
    double least[2] = {INFINITY, INFINITY};
    const double cap[2] = {sp->power_cap_w > 0 ? sp->power_cap_w : INFINITY,
                           x->use_sys ? sp->system_power_cap_w : INFINITY};
    for (int64_t ph = 0; ph < phases; ph++) {
        int res = budget_alone(x, g, ph);
        if (res < 0) return -1;
        if (res == 0) return 0;   /* fits here */
        double p = window_proof_w(x);   /* its chip, with the chip's idle */
        if (p < 0) return 0;
        /* the system: the other chips draw their idle power */
        double got[2] = {p, p + (double)(x->nch - 1) * x->p_idle_w};
        int broken = 0;
        for (int k = 0; k < 2; k++)
            if (got[k] > cap[k] * (1 + TOL)) {
                broken = 1;
                if (got[k] < least[k]) least[k] = got[k];
            }
        if (!broken) return 0;   /* the quick check refused it, the certificate does not */
    }
    size_t i = first_line(x, g), m = x->g_off[g + 1] - x->g_off[g];
    char tied[112] = "", why[400];
    if (m > 1)
        snprintf(tied, sizeof tied, " (with the %zu instruction%s tied to it by exact deps)", m - 1, m > 2 ? "s" : "");
    int n = snprintf(why, sizeof why, "alone on an otherwise idle chip, at every clock phase against the bins, it "
                     "raises the average power over a %g ns window", (double)x->W * x->bin);
    if (least[0] < INFINITY && n > 0 && (size_t)n < sizeof why)
        n += snprintf(why + n, sizeof why - (size_t)n, " of its chip to %.6g W at least, above the cap of %.6g W%s",
                      least[0], cap[0], least[1] < INFINITY ? " (at some phases), or" : "");
    if (least[1] < INFINITY && n > 0 && (size_t)n < sizeof why)
        snprintf(why + n, sizeof why - (size_t)n, " of the system (the other chips idle) to %.6g W at least, above "
                 "the system cap of %.6g W%s", least[1], cap[1], least[0] < INFINITY ? " (at the others)" : "");
    /* a line kept as UINT32_MAX is that line or later: no line rather than a wrong one */
    sio_error_set(x->err, x->s->path, x->s->line[i] == UINT32_MAX ? 0 : (int64_t)x->s->line[i], 0,
                  "the budget cannot be met: instruction '%s'%s: %s",
                  sio_schedule_id(x->s, i), tied, why);
    rep->culprit = i;
    return 1;
}

/* Does figs f meet the spec? Sets excess_v[r] / excess_didt[r] (the most
** over chips) and *over_w (the worst power over its cap, 0 if none). */
static int meets(const ctx *x, const budget_spec *sp, const budget_figs *f, double *excess_v, double *excess_didt,
                 double *over_w)
{
    int ok = 1;
    *over_w = 0;
    if (sp->power_cap_w > 0 && f->chip_peak_window_w > sp->power_cap_w + cap_allow(sp->power_cap_w)) {
        ok = 0;
        *over_w = f->chip_peak_window_w - sp->power_cap_w;
    }
    if (sp->system_power_cap_w > 0 && f->peak_window_w > sp->system_power_cap_w + cap_allow(sp->system_power_cap_w)) {
        ok = 0;
        if (f->peak_window_w - sp->system_power_cap_w > *over_w) *over_w = f->peak_window_w - sp->system_power_cap_w;
    }
    for (size_t r = 0; r < x->nr; r++) { excess_v[r] = 0; excess_didt[r] = 0; }
    for (size_t q = 0; q < f->n_rails; q++) {
        size_t r = q % x->nr;
        if (sp->didt_a_per_ns > 0 && f->rail_didt_a_per_ns[q] > sp->didt_a_per_ns) {
            ok = 0;
            /* the margin grows only by what the scheduler's profiles see
            ** (budget_analyze: rail_didt_body_a_per_ns) */
            double e = f->rail_didt_body_a_per_ns[q] - sp->didt_a_per_ns;
            if (e > excess_didt[r]) excess_didt[r] = e;
        }
        if (sp->guardband_mv > 0 && f->rail_droop_mv[q] > sp->guardband_mv * 1e-3 * 1e3) {   /* as the events' */
            ok = 0;
            double e = (f->rail_droop_mv[q] - sp->guardband_mv) * 1e-3;
            if (e > excess_v[r]) excess_v[r] = e;
        }
    }
    return ok;
}

/* The makespan (cycles) of the starts st. */
static int64_t makespan_of(const ctx *x, const int64_t *st)
{
    int64_t mk = 0;
    for (size_t i = 0; i < x->s->n; i++)
        if (st[i] + x->s->cycles[i] > mk) mk = st[i] + x->s->cycles[i];
    return mk;
}

/* A run shorter than one power window: the analyzer then averages over the
** run alone, while the scheduler's windows went past its end with the idle
** power whole. Delaying every instruction by one amount lowers that average
** with idle before the work: the least such delay whose run meets every
** budget (each candidate re-analysed in full; the runs are short), else the
** whole number of phase periods (no profile changes) that makes the run
** span a window, whose every window is then a whole one, which the
** scheduler kept within the cap. tmp: n starts of scratch; exv, exd: the
** per-rail scratch of meets. Returns 0 or a BUDGET_ code. */
/* 1 in *ok when the run delayed by d cycles (st + d into tmp) meets every
** budget; a BUDGET_ code when the analysis fails. */
static int meets_delayed(const ctx *x, const budget_spec *sp, const int64_t *st, int64_t d, int64_t *tmp, double *exv,
                         double *exd, int *ok)
{
    for (size_t i = 0; i < x->s->n; i++) tmp[i] = st[i] + d;
    budget_figs f;
    double ov;
    int rc = budget_analyze(x->c, x->s, tmp, sp->bin_ns, sp->window_ns, x->use_droop, &f, x->err);
    if (rc) return rc;
    *ok = meets(x, sp, &f, exv, exd, &ov);
    budget_figs_free(&f);
    return BUDGET_OK;
}

static int stretch_short(const ctx *x, const budget_spec *sp, int64_t *st, int64_t *tmp, double *exv, double *exd)
{
    int64_t need = (int64_t)ceil((double)x->W * x->bin / x->T - 1e-9), mk = makespan_of(x, st);
    if (!x->use_pw || mk >= need) return BUDGET_OK;
    int64_t p = x->P ? x->P : 1, last = (need - mk + p - 1) / p * p;
    /* every cycle; whole phase periods under a guardband (each analysis
    ** then builds the PDN models). Step K (the delay `last`) is not
    ** analysed: it is the fallback. */
    const int64_t step = x->use_droop ? p : 1, K = last / step;
    int64_t lo = -1, hi = K;   /* lo does not meet (or is before 0), hi does (or is K) */
    int ok = 0, rc;
    if (x->use_didt && !x->use_droop) {
        /* a dI/dt budget at single cycles: its bins' phase changes with each
        ** step, so each is tried in turn */
        for (int64_t k = 0; k < K && !ok; k++) {
            if ((rc = meets_delayed(x, sp, st, k * step, tmp, exv, exd, &ok))) return rc;
            if (ok) hi = k;
        }
    } else {
        /* every figure but the power is the same at every step, and the
        ** power, the run's average (the run is shorter than a window), falls
        ** as the idle before the work grows: the steps that meet are those
        ** from the least one on. Steps 0, 1, 3, 7, ... until one meets, then
        ** bisection: O(log) analyses, none of a run more than twice the
        ** longest needed (a window of 10^9 bins over a run of 10^5 leaves
        ** ~10^9 steps) */
        for (int64_t k = 0; k < K; k = 2 * k + 1) {
            if ((rc = meets_delayed(x, sp, st, k * step, tmp, exv, exd, &ok))) return rc;
            if (ok) { hi = k; break; }
            lo = k;
        }
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if ((rc = meets_delayed(x, sp, st, mid * step, tmp, exv, exd, &ok))) return rc;
            *(ok ? &hi : &lo) = mid;
        }
    }
    for (size_t i = 0; i < x->s->n; i++) st[i] += hi < K ? hi * step : last;
    return BUDGET_OK;
}

/* ---- the passes ------------------------------------------------------------- */

/* The starts of the delays in x->d into st; returns the makespan. */
static int64_t starts_of(const ctx *x, int64_t *st)
{
    for (size_t i = 0; i < x->s->n; i++) st[i] = x->s->start_cyc[i] + x->d[x->grp[i]];
    return makespan_of(x, st);
}

/* The makespan of the group delays d. */
static int64_t delays_makespan(const ctx *x, const int64_t *d)
{
    int64_t mk = 0;
    for (size_t i = 0; i < x->s->n; i++)
        if (x->s->start_cyc[i] + d[x->grp[i]] + x->s->cycles[i] > mk) mk = x->s->start_cyc[i] + d[x->grp[i]] + x->s->cycles[i];
    return mk;
}

/* The limits of one search: how far one placement looks, and how many
** evictions a pass may make before it stops trying the budget. */
static int64_t search_stop(const budget_report *rep) { return rep->before.makespan_cyc * 4 + 1000000; }
static size_t evict_cap(const ctx *x) { return 32 * x->ng + 1000; }

/* The first forward pass of a search, in the order asked for. AUTO: the
** critical order, and on schedules of up to AUTO_BOTH groups also the start
** order, keeping the shorter (the critical order made the shorter schedule
** on every mixed, decode and prefill schedule we measured, the start order
** by up to 40% longer; on some streams schedules the start order is a few
** percent shorter). Returns 0 or a BUDGET_ code; the delays are in x->d,
** the order kept in rep->order_used. */
#define AUTO_BOTH 100000
static int first_pass(ctx *x, const budget_spec *sp, budget_report *rep)
{
    int first = sp->order == BUDGET_ORDER_START ? BUDGET_ORDER_START : BUDGET_ORDER_CRITICAL;
    int both = sp->order == BUDGET_ORDER_AUTO && x->ng <= AUTO_BOTH;
    int rc = budget_pass(x, 1, first == BUDGET_ORDER_START ? x->key_start : x->key_crit, 0, search_stop(rep),
                         evict_cap(x));
    rep->order_used = first;
    if (rc || !both) return rc == 0 ? BUDGET_OK : rc == -1 ? BUDGET_ENOMEM : BUDGET_EINTERNAL;
    int64_t *keep = malloc((x->ng ? x->ng : 1) * sizeof *keep);
    if (!keep) return BUDGET_ENOMEM;
    memcpy(keep, x->d, x->ng * sizeof *keep);
    int keep_relaxed = x->relaxed;
    size_t keep_ev = x->evictions;
    rc = budget_pass(x, 1, x->key_start, 0, search_stop(rep), evict_cap(x));
    if (rc) { free(keep); return rc == -1 ? BUDGET_ENOMEM : BUDGET_EINTERNAL; }
    int64_t mk1 = delays_makespan(x, keep), mk2 = delays_makespan(x, x->d);
    x->evictions += keep_ev;
    if (x->relaxed > keep_relaxed || (x->relaxed == keep_relaxed && mk2 >= mk1)) {   /* the critical one stays */
        memcpy(x->d, keep, x->ng * sizeof *keep);
        x->relaxed = keep_relaxed;
    } else rep->order_used = BUDGET_ORDER_START;
    free(keep);
    return BUDGET_OK;
}

/* Group g's delay in the schedule best (n starts): its first member's. */
static int64_t best_delay(const ctx *x, const int64_t *best, size_t g)
{
    size_t i = x->g_mem[x->g_off[g]];
    return best[i] - x->s->start_cyc[i];
}

/* The forward-backward pairs at most: spec's, else FB_PASSES, and past
** AUTO_BOTH groups one (on the 10^6-instruction bench the second pair
** gained 0.03-0.09% for 1.5-3.2 s: docs/budgets.md). */
static int fb_cap(const ctx *x, const budget_spec *sp)
{
    return sp->fb_passes ? sp->fb_passes : x->ng > AUTO_BOTH ? 1 : FB_PASSES;
}

/* The rest of a search, from the forward pass in x->d: under a power cap,
** forward-backward passes (the groups right-justified against the best
** makespan, then packed forward again in the order of their backward
** starts), kept when shorter, repeated while one gains FB_GAIN (0.1%). The best
** schedule lands in best (n starts); *best_relaxed says whether some group
** in it was placed without its budget. Returns 0 or a BUDGET_ code. */
#define FB_GAIN 0.001
static int search_rest(ctx *x, const budget_spec *sp, budget_report *rep, int64_t *st, int64_t *best,
                       int *best_relaxed)
{
    const sio_schedule *s = x->s;
    rep->evictions += x->evictions;
    rep->fb_passes = 0;
    int64_t best_mk = starts_of(x, best);
    *best_relaxed = x->relaxed;
    /* within 0.1% of the original makespan (a lower bound): little to gain */
    int64_t lb = rep->before.makespan_cyc;
    if (!x->use_pw || *best_relaxed || best_mk <= lb + lb / 1000) return 0;
    int passes = fb_cap(x, sp);
    for (int pass = 0; pass < passes; pass++) {
        int b = budget_pass(x, -1, NULL, best_mk, 0, evict_cap(x));
        if (b == -1) return BUDGET_ENOMEM;
        if (b || x->relaxed) break;
        rep->evictions += x->evictions;
        for (size_t g = 0; g < x->ng; g++) x->key_fb[g] = x->g_start[g] + x->d[g];
        int rc = budget_pass(x, 1, x->key_fb, 0, search_stop(rep), evict_cap(x));
        if (rc) return rc == -1 ? BUDGET_ENOMEM : BUDGET_EINTERNAL;
        rep->evictions += x->evictions;
        if (x->relaxed) break;
        int64_t mk = starts_of(x, st);
        int gain = (double)mk < (double)best_mk * (1 - FB_GAIN);   /* worth another pass */
        if (mk < best_mk) {
            best_mk = mk;
            memcpy(best, st, s->n * sizeof *st);
            rep->fb_passes = pass + 1;
        }
        if (!gain) break;
        for (size_t g = 0; g < x->ng; g++) x->d[g] = best_delay(x, best, g);
    }
    return 0;
}

/* Whether a search runs twice, with each group's power jumps by bisection
** and then stepping to its first fit (x->exact_fit): under a power cap, on
** schedules of up to AUTO_BOTH groups. Neither placement made the shorter
** schedule on every streams schedule measured (docs/budgets.md). */
static int both_fits(const ctx *x) { return x->use_pw && x->ng <= AUTO_BOTH; }

/* Sampling around the best schedule (iterated biased sampling): under a
** power cap, unless fb_passes < 0, on schedules of up to SAMPLE_GROUPS
** groups, SAMPLE_ROUNDS rounds (fewer past SAMPLE_WORK / groups), while
** the bins its checks read (x->cost; about 0.6-1 s of work on this
** machine's core) stay within SAMPLE_COST, the next round's guessed from the
** last one (the first one's from the whole search before it, cost0 on): so
** a schedule whose passes are slow (prefill) gets none. Each is a
** forward pass in the order of the best schedule's group starts, each key
** raised by a pseudo-random amount below amp = SAMPLE_AMP of the best
** makespan (at least SAMPLE_MIN cycles); in every other pair of rounds, one
** group in SAMPLE_RELEASE (drawn) also starts from a least delay drawn below
** its delay in the best plus amp (x->lo0), so a group may go later and let
** others in first, or earlier; in rounds 4-7 and 12-15 the perturbed order
** also orders the groups inside each strongly connected set (x->rk0; any
** order breaks its cycles), which otherwise keeps their original starts'
** order whatever the priority; the bisection's jumps and exact fits in
** turn; then the forward-backward passes (search_rest). xorshift with a
** fixed seed: the same input gives the same schedule. Every pass keeps
** every constraint, so each round's result is valid; it replaces the best
** when it meets the budget where the best does not, or is shorter, and the
** next round perturbs the new best. rep->order_used keeps describing the
** search before it; rep->fb_passes counts the rounds kept as well.
** Measured in docs/budgets.md. Returns 0 or a BUDGET_ code. */
#define SAMPLE_GROUPS 20000
#define SAMPLE_ROUNDS 16
#define SAMPLE_WORK 200000
#define SAMPLE_AMP 0.01
#define SAMPLE_MIN 16.0
#define SAMPLE_RELEASE 4
#define SAMPLE_COST 60000000u
static size_t sample_rounds(const ctx *x, const budget_spec *sp)
{
    if (!x->use_pw || sp->fb_passes < 0 || x->ng == 0 || x->ng > SAMPLE_GROUPS) return 0;
    return SAMPLE_WORK / x->ng < SAMPLE_ROUNDS ? SAMPLE_WORK / x->ng : SAMPLE_ROUNDS;
}

static int sample(ctx *x, const budget_spec *sp, budget_report *rep, int64_t *st, int64_t *best, int *relaxed,
                  uint64_t cost0)
{
    size_t ng = x->ng, n = x->s->n, rounds = sample_rounds(x, sp);
    int64_t lb = rep->before.makespan_cyc;
    /* within 0.1% of the original makespan (a lower bound): little to gain */
    if (!rounds || (!*relaxed && makespan_of(x, best) <= lb + lb / 1000)) return BUDGET_OK;
    int64_t *key = malloc(ng * sizeof *key), *cand = malloc((n ? n : 1) * sizeof *cand), *lo0 = malloc(ng * sizeof *lo0);
    int rc = BUDGET_OK, keep_order = rep->order_used, keep_fb = rep->fb_passes;
    if (!key || !cand || !lo0) { rc = BUDGET_ENOMEM; goto out; }
    uint64_t rs = 88172645463325252ull;
    int64_t best_mk = makespan_of(x, best);
    /* the cost of the next round, guessed: that of the whole search before
    ** (several passes) for the first, then that of the last round */
    uint64_t c0 = x->cost, guess = x->cost - cost0;
    for (size_t r = 0; r < rounds && x->cost - c0 + guess <= SAMPLE_COST; r++) {
        uint64_t cr = x->cost;
        double amp = SAMPLE_AMP * (double)best_mk;
        if (amp < SAMPLE_MIN) amp = SAMPLE_MIN;
        for (size_t g = 0; g < ng; g++) {
            rs ^= rs << 13;
            rs ^= rs >> 7;
            rs ^= rs << 17;
            int64_t dg = best_delay(x, best, g), noise = (int64_t)((double)(rs % 1000000) * 1e-6 * amp);
            key[g] = x->g_start[g] + dg + noise;
            /* in rounds 2, 3, 6, 7, ...: one group in SAMPLE_RELEASE gets a
            ** least delay drawn below its delay in the best plus amp */
            lo0[g] = 0;
            if ((r & 2) && (rs >> 40) % SAMPLE_RELEASE == 0)
                lo0[g] = (int64_t)((rs >> 20) % (uint64_t)(dg + (int64_t)amp));
        }
        x->lo0 = lo0;
        if (r & 4) x->rk0 = key;   /* rounds 4-7, 12-15: the order inside strongly connected sets too */
        x->exact_fit = (int)(r & 1);
        int b = budget_pass(x, 1, key, 0, search_stop(rep), evict_cap(x)), cand_relaxed = 0;
        x->lo0 = x->rk0 = NULL;
        if (b) { rc = b == -1 ? BUDGET_ENOMEM : BUDGET_EINTERNAL; break; }
        rc = search_rest(x, sp, rep, st, cand, &cand_relaxed);
        if (rc != BUDGET_OK) break;
        int64_t mk = makespan_of(x, cand);
        guess = x->cost - cr;
        if (cand_relaxed < *relaxed || (cand_relaxed == *relaxed && mk < best_mk)) {
            memcpy(best, cand, n * sizeof *cand);
            best_mk = mk;
            *relaxed = cand_relaxed;
            keep_fb++;
        }
    }
    x->exact_fit = 0;
out:
    rep->order_used = keep_order;
    rep->fb_passes = keep_fb;
    free(key);
    free(cand);
    free(lo0);
    return rc;
}

/* One search: the first pass and the rest, once or (both_fits) twice, the
** shorter kept (on a tie, the one with fewer forward-backward passes).
** Returns 0 or a BUDGET_ code; the best schedule in best, *relaxed whether
** some group in it was placed without its budget. */
static int search(ctx *x, const budget_spec *sp, budget_report *rep, int64_t *st, int64_t *best, int *relaxed)
{
    uint64_t cost0 = x->cost;
    x->exact_fit = 0;
    int rc = first_pass(x, sp, rep);
    if (rc == BUDGET_OK) rc = search_rest(x, sp, rep, st, best, relaxed);
    if (rc != BUDGET_OK || !both_fits(x)) return rc;
    size_t n = x->s->n;
    int64_t *keep = malloc((n ? n : 1) * sizeof *keep);
    if (!keep) return BUDGET_ENOMEM;
    memcpy(keep, best, n * sizeof *keep);
    int keep_relaxed = *relaxed, keep_order = rep->order_used, keep_fb = rep->fb_passes;
    x->exact_fit = 1;
    rc = first_pass(x, sp, rep);
    if (rc == BUDGET_OK) rc = search_rest(x, sp, rep, st, best, relaxed);
    x->exact_fit = 0;
    if (rc == BUDGET_OK) {
        int64_t mk0 = makespan_of(x, keep), mk1 = makespan_of(x, best);
        int second = *relaxed < keep_relaxed ||
                     (*relaxed == keep_relaxed && (mk1 < mk0 || (mk1 == mk0 && rep->fb_passes < keep_fb)));
        if (!second) {
            memcpy(best, keep, n * sizeof *keep);
            *relaxed = keep_relaxed;
            rep->order_used = keep_order;
            rep->fb_passes = keep_fb;
        }
    }
    free(keep);
    if (rc == BUDGET_OK) rc = sample(x, sp, rep, st, best, relaxed, cost0);
    return rc;
}

/* A round whose search met every budget on the profiles but whose full
** re-analysis found only the power cap passed, by round-off (the profiles'
** sums against run's), needs no new search: one forward pass in the order
** of the best schedule's group starts, with the budget now shrunk, packs
** the same order again a hair lower (a full search costs as much as the
** first round). *done says whether best holds its result; a pass that
** gives up the budget for some group leaves best alone, and the round
** searches in full. Returns 0 or a BUDGET_ code. */
static int repair(ctx *x, budget_report *rep, int64_t *best, int *done)
{
    *done = 0;
    for (size_t g = 0; g < x->ng; g++) x->key_fb[g] = x->g_start[g] + best_delay(x, best, g);
    x->exact_fit = 0;
    int b = budget_pass(x, 1, x->key_fb, 0, search_stop(rep), evict_cap(x));
    if (b) return b == -1 ? BUDGET_ENOMEM : BUDGET_EINTERNAL;
    rep->evictions += x->evictions;
    if (x->relaxed) return BUDGET_OK;
    starts_of(x, best);
    *done = 1;
    return BUDGET_OK;
}

/* Everything but the lower bound: the proofs per group, then the search
** and the full re-analysis of its result, in rounds that tighten the dI/dt
** and droop margins until the budget is met (ROUNDS at most). One thread's
** job, while the lower bound (bound_job) runs on the other. */
typedef struct main_job {
    ctx *x;
    const budget_spec *sp;
    budget_report *rep;
    int64_t *st, *best;
    double *exv, *exd;
    int met, relaxed;
    double over_w;
    int rc;
} main_job;

static void *main_run(void *arg)
{
    main_job *j = arg;
    ctx *x = j->x;
    const budget_spec *sp = j->sp;
    budget_report *rep = j->rep;
    /* the proof per group: phases of the clock against the bins (all
    ** placements of a group's shape); none when they do not repeat */
    for (size_t r = 0; r < x->nr; r++) x->lim_droop[r] = sp->guardband_mv * 1e-3 * (1 - TOL) - x->z0_idle_v[r];
    for (size_t g = 0; g < x->ng && x->P; g++) {
        int p = prove_group(x, g, x->P, sp, rep);
        if (p) { j->rc = p < 0 ? BUDGET_ENOMEM : BUDGET_EINFEASIBLE; return NULL; }
    }
    int power_only = 0;   /* the last round missed only the power cap (by round-off, in practice) */
    for (int round_ = 0; round_ < ROUNDS; round_++) {
        for (size_t r = 0; r < x->nr; r++) {
            x->lim_droop[r] = sp->guardband_mv * 1e-3 * (1 - TOL) - x->z0_idle_v[r] - x->margin_v[r];
            if (x->use_droop && x->lim_droop[r] <= 0) x->lim_droop[r] = 1e-12;
        }
        int repaired = 0;
        if (power_only && (j->rc = repair(x, rep, j->best, &repaired)) != BUDGET_OK) return NULL;
        if (!repaired && (j->rc = search(x, sp, rep, j->st, j->best, &j->relaxed)) != BUDGET_OK) return NULL;
        if ((j->rc = stretch_short(x, sp, j->best, j->st, j->exv, j->exd)) != BUDGET_OK) return NULL;
        budget_figs_free(&rep->after);
        j->rc = budget_analyze(x->c, x->s, j->best, sp->bin_ns, sp->window_ns, 1, &rep->after, x->err);
        if (j->rc) return NULL;
        j->met = meets(x, sp, &rep->after, j->exv, j->exd, &j->over_w);
        if (j->met || j->relaxed) break;   /* a relaxed search does not gain from tighter margins */
        /* a repair after a full search only: a repair that missed searches again */
        power_only = !repaired && j->over_w > 0;
        for (size_t r = 0; r < x->nr; r++) {
            if (j->exv[r] > 0) x->margin_v[r] += j->exv[r] * 1.2 + 1e-4;
            if (j->exd[r] > 0) x->lim_didt[r] -= j->exd[r] * 1.2 * (double)x->wd[r] * x->bin + 1e-6;
            if (j->exv[r] > 0 || j->exd[r] > 0) power_only = 0;
        }
        /* a cap the full analysis finds broken by round-off the profiles do
        ** not see (their sums against run's, over a million instructions:
        ** ~1e-10 W): the scheduler's budgets shrink by the excess */
        if (j->over_w > 0) {
            double shrink = (double)x->W * (j->over_w * 1.2 + TOL * fmax(sp->power_cap_w, sp->system_power_cap_w));
            if (sp->power_cap_w > 0) x->B -= shrink;
            if (x->use_sys) x->B_sys -= shrink;
        }
    }
    return NULL;
}

/* The lower bound on a copy of the ctx (its own scratch; the groups are
** shared and read only). */
typedef struct bound_job {
    ctx x;
    const budget_spec *sp;
    budget_report rep;
    int rc;
} bound_job;

static void *bound_run(void *arg)
{
    bound_job *j = arg;
    j->rc = budget_lower_bound(&j->x, j->sp, &j->rep);
    free(j->x.buf_gp);
    free(j->x.buf_gr);
    free(j->x.buf_st);
    return NULL;
}

/* bound_run on a thread of its own, which then gives back what the LP
** solver keeps per thread. */
static void *bound_thread(void *arg)
{
    bound_run(arg);
    budget_bound_thread_end();
    return NULL;
}

/* ---- the entry point ---------------------------------------------------------- */

static void ctx_free(ctx *x)
{
    if (x->lanes) budget_lanes_clear(x);
    for (size_t k = 0; x->lanes && k <= x->nch; k++) { free(x->lanes[k].ra); free(x->lanes[k].vd); }
    free(x->lanes);
    free(x->wd); free(x->lim_didt); free(x->h); free(x->kt); free(x->z0_idle_v); free(x->margin_v);
    free(x->lim_droop); free(x->idle_a); free(x->grp); free(x->g_off); free(x->g_mem); free(x->g_start);
    free(x->g_end); free(x->eo_off); free(x->ei_off); free(x->eo); free(x->ei); free(x->uprev);
    free(x->key_start); free(x->key_crit); free(x->key_fb); free(x->d); free(x->lo); free(x->ready);
    free(x->placed); free(x->inq); free(x->rk); free(x->scc); free(x->sc_goff); free(x->sc_grp);
    free(x->sc_ioff); free(x->sc_ins); free(x->rigid); free(x->ev); free(x->buf_gp); free(x->buf_gr); free(x->buf_st); free(x->lbuf); free(x->cbuf);
    for (int64_t r = 0; x->pc && r < x->P; r++) free(x->pc[r].gp);
    free(x->pc);
}

void budget_report_free(budget_report *rep)
{
    if (!rep) return;
    budget_figs_free(&rep->before);
    budget_figs_free(&rep->after);
}

const char *budget_strerror(int rc) { return pda_strerror(rc); }

static int check_spec(budget_spec *sp, size_t n_chips, int *folded, sio_error *err)
{
    *folded = 0;
    if (sp->bin_ns == 0) sp->bin_ns = 1.0;
    if (!(sp->bin_ns > 0) || !(sp->window_ns >= 0) || !(sp->power_cap_w >= 0) || !(sp->system_power_cap_w >= 0) ||
        !(sp->didt_a_per_ns >= 0) || !(sp->guardband_mv >= 0) || !isfinite(sp->power_cap_w) ||
        !isfinite(sp->system_power_cap_w) || !isfinite(sp->didt_a_per_ns) || !isfinite(sp->guardband_mv) ||
        !isfinite(sp->window_ns) || !isfinite(sp->bin_ns)) {
        sio_error_set(err, NULL, 0, 0, "budget: bin, window and budgets must be finite and >= 0");
        return BUDGET_EINPUT;
    }
    if (sp->order < 0 || sp->order > 2) {
        sio_error_set(err, NULL, 0, 0, "budget: order must be BUDGET_ORDER_AUTO, _START or _CRITICAL, not %d",
                      sp->order);
        return BUDGET_EINPUT;
    }
    if (sp->window_ns > WALK_WINDOW_NS_MAX || sp->bin_ns < WALK_BIN_NS_MIN || sp->bin_ns > WALK_BIN_NS_MAX) {
        sio_error_set(err, NULL, 0, 0, "budget: the window must be at most 1e15 ns and the bin from 0.001 to 1e6 ns "
                      "(window %g, bin %g)", sp->window_ns, sp->bin_ns);
        return BUDGET_EINPUT;
    }
    if (sp->power_cap_w == 0 && sp->system_power_cap_w == 0 && sp->didt_a_per_ns == 0 && sp->guardband_mv == 0) {
        sio_error_set(err, NULL, 0, 0, "budget: no budget given (power cap, system power cap, dI/dt or guardband)");
        return BUDGET_EINPUT;
    }
    if (sp->window_ns == 0) sp->window_ns = sp->bin_ns;
    /* one chip: the system cap is a chip cap */
    if (n_chips == 1 && sp->system_power_cap_w > 0) {
        if (sp->power_cap_w == 0 || sp->system_power_cap_w < sp->power_cap_w) {
            sp->power_cap_w = sp->system_power_cap_w;
            *folded = 1;
        }
        sp->system_power_cap_w = 0;
    }
    return BUDGET_OK;
}

/* The ctx's arrays and per-rail limits; the proofs that need no search.
** Returns 0 or a BUDGET_ code (EINFEASIBLE with the proof in err). */
static int setup(ctx *x, const budget_spec *sp, pdn_model **models, sio_error *err)
{
    const sio_chip *c = x->c;
    const sio_schedule *s = x->s;
    size_t nr1 = x->nr ? x->nr : 1;
    x->wd = calloc(nr1, sizeof *x->wd); x->lim_didt = calloc(nr1, sizeof(double));
    x->h = calloc(nr1, sizeof *x->h); x->kt = calloc(nr1, sizeof *x->kt);
    x->z0_idle_v = calloc(nr1, sizeof(double)); x->margin_v = calloc(nr1, sizeof(double));
    x->lim_droop = calloc(nr1, sizeof(double)); x->idle_a = calloc(nr1, sizeof(double));
    x->lanes = calloc(x->nch + 1, sizeof *x->lanes);
    if (!x->wd || !x->lim_didt || !x->h || !x->kt || !x->z0_idle_v || !x->margin_v || !x->lim_droop || !x->idle_a ||
        !x->lanes)
        return BUDGET_ENOMEM;
    for (size_t k = 0; k < x->nch; k++)
        if (!(x->lanes[k].ra = calloc(nr1, sizeof(parr))) || !(x->lanes[k].vd = calloc(nr1, sizeof(parr))))
            return BUDGET_ENOMEM;
    walk_rail_idle(c, x->idle_a);
    for (size_t r = 0; r < x->nr; r++) x->p_idle_w += c->rails[r].vdd_v * x->idle_a[r];
    double Wns = (double)x->W * x->bin;
    /* the idle power alone proves a cap broken when every run holds a whole
    ** window of whole bins (the original spans one; a shorter run is averaged
    ** over itself) */
    int whole = (double)sio_schedule_makespan_cyc(s) * x->T >= Wns;
    if (sp->power_cap_w > 0) {
        if (whole && x->p_idle_w > sp->power_cap_w * (1 + TOL)) {
            sio_error_set(err, s->path, 0, 0, "the budget cannot be met: the %s of %.6g W is below the chip's "
                          "idle power alone, %.6g W", x->sys_folded ? "system power cap (one chip)" : "power cap",
                          sp->power_cap_w, x->p_idle_w);
            return BUDGET_EINFEASIBLE;
        }
        /* half the final check's round-off allowance: a cap met exactly is met */
        x->B = (double)x->W * (sp->power_cap_w - x->p_idle_w) + 0.5 * Wns / x->bin * cap_allow(sp->power_cap_w);
    } else x->B = INFINITY;
    if (x->use_sys) {
        double idle = (double)x->nch * x->p_idle_w;
        if (whole && idle > sp->system_power_cap_w * (1 + TOL)) {
            sio_error_set(err, s->path, 0, 0, "the budget cannot be met: the system power cap of %.6g W is below "
                          "the idle power of the %zu chips alone, %.6g W", sp->system_power_cap_w, x->nch, idle);
            return BUDGET_EINFEASIBLE;
        }
        x->B_sys = (double)x->W * (sp->system_power_cap_w - idle) + 0.5 * (double)x->W * cap_allow(sp->system_power_cap_w);
    }
    for (size_t r = 0; r < x->nr; r++) {
        x->wd[r] = walk_didt_bins(&c->rails[r], x->bin);
        x->lim_didt[r] = sp->didt_a_per_ns * (double)x->wd[r] * x->bin * (1 + 0.5 * TOL);
        if (!x->use_droop) continue;
        x->h[r] = pdn_model_kernel(models[r]);
        x->kt[r] = pdn_model_kernel_len(models[r]);
        if (x->kt[r] > KT_MAX) x->kt[r] = KT_MAX;
        if (x->kt[r] < 1) x->kt[r] = 1;
        x->z0_idle_v[r] = pdn_model_z0_ohm(models[r]) * x->idle_a[r];
        /* a proof when the first bin droops at least the idle droop: it is
        ** whole (the run is a bin long at least), its current at least the
        ** idle, and the kernel's first tap not negative */
        if (x->z0_idle_v[r] * 1e3 > sp->guardband_mv * (1 + TOL) && x->h[r][0] >= 0 &&
            (double)sio_schedule_makespan_cyc(s) * x->T >= x->bin) {
            sio_error_set(err, s->path, 0, 0, "the budget cannot be met: the guardband of %.6g mV on rail '%s' is "
                          "below the droop of its idle current alone, %.6g mV", sp->guardband_mv, c->rails[r].name,
                          x->z0_idle_v[r] * 1e3);
            return BUDGET_EINFEASIBLE;
        }
    }
    return BUDGET_OK;
}

int budget_retime(const sio_chip *c, const sio_schedule *s, const budget_spec *spec, int64_t **out,
                  budget_report *rep, sio_error *err)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    rep->culprit = SIZE_MAX;
    sio_error scratch;
    if (!err) err = &scratch;
    err->text[0] = 0;
    budget_spec sp = *spec;
    int folded;
    int rc = check_spec(&sp, s->n_chips, &folded, err);
    if (rc) return rc;
    ctx x;
    memset(&x, 0, sizeof x);
    x.sys_folded = folded;
    x.c = c; x.s = s; x.err = err; x.sp = &sp;
    x.T = 1.0 / c->clock_ghz; x.bin = sp.bin_ns; x.nr = c->n_rails; x.nch = s->n_chips; x.n = s->n;
    x.use_pw = sp.power_cap_w > 0 || sp.system_power_cap_w > 0;
    x.use_sys = sp.system_power_cap_w > 0;
    x.use_didt = sp.didt_a_per_ns > 0; x.use_droop = sp.guardband_mv > 0;
    double wb = round(sp.window_ns / sp.bin_ns);
    x.W = wb < 1 ? 1 : (size_t)wb;
    size_t nr1 = x.nr ? x.nr : 1;
    pdn_model **models = calloc(nr1, sizeof *models);
    int64_t *st = NULL, *best = NULL;
    double *exv = NULL, *exd = NULL;
    rc = BUDGET_ENOMEM;
    if (!models) goto fail;
    for (size_t r = 0; r < x.nr && x.use_droop; r++) {
        int prc = pdn_model_for_rail(c, r, sp.bin_ns, &models[r], err);
        if (prc) { rc = prc == PDN_EINPUT ? BUDGET_EINPUT : BUDGET_ENOMEM; goto fail; }
    }
    if ((rc = setup(&x, &sp, models, err)) != BUDGET_OK) goto fail;
    rc = budget_analyze(c, s, s->start_cyc, sp.bin_ns, sp.window_ns, 1, &rep->before, err);
    if (rc) goto fail;
    rc = BUDGET_ENOMEM;
    if (budget_groups(&x, rep->before.makespan_cyc)) goto fail;
    x.key_fb = malloc((x.ng ? x.ng : 1) * sizeof *x.key_fb);
    st = malloc((s->n ? s->n : 1) * sizeof *st);
    best = malloc((s->n ? s->n : 1) * sizeof *best);
    exv = calloc(nr1, sizeof *exv);
    exd = calloc(nr1, sizeof *exd);
    if (!x.key_fb || !st || !best || !exv || !exd) goto fail;
    for (size_t g = 0; g < x.ng; g++) {
        size_t m = x.g_off[g + 1] - x.g_off[g];
        if (m > rep->max_block) rep->max_block = m;
    }
    rep->blocks = x.ng;
    int64_t phases = budget_phases(&x);
    if (phases) {   /* the profile cache, one slot per phase */
        x.P = phases;
        x.binsP = (int64_t)llround((double)phases * x.T / x.bin);
        x.pc_g = SIZE_MAX;
        if (!(x.pc = calloc((size_t)phases, sizeof *x.pc))) goto fail;
    }
    /* how far past everything placed a piece may still find a new phase:
    ** the longest window or kernel the checks read, and a phase period */
    {
        size_t tb = x.W;
        for (size_t r = 0; r < x.nr; r++) {
            if (x.use_didt && x.wd[r] > tb) tb = x.wd[r];
            if (x.use_droop && x.kt[r] > tb) tb = x.kt[r];
        }
        x.tail_cyc = (int64_t)ceil((double)(tb + 2) * x.bin / x.T) + (x.P ? x.P : 1000) + 1;
    }
    /* the work the progress counts: the forward passes of the first order(s)
    ** and, under a power cap, up to FB_PASSES forward-backward pairs, and the
    ** sampling rounds, each with its own (the fraction jumps to 1 at the end
    ** when fewer were needed) */
    size_t orders = sp.order == BUDGET_ORDER_AUTO && x.ng <= AUTO_BOTH ? 2 : 1;
    size_t fb = sp.fb_passes < 0 ? 0 : (size_t)fb_cap(&x, &sp);
    x.work = x.ng * (orders + (x.use_pw ? 2 * fb : 0)) * (both_fits(&x) ? 2 : 1) +
             x.ng * sample_rounds(&x, &sp) * (1 + 2 * fb);
    /* the proofs and the search here, the lower bound beside them */
    main_job mj = {&x, &sp, rep, st, best, exv, exd, 0, 0, 0, BUDGET_OK};
    bound_job bj = {.x = x, .sp = &sp, .rc = 0};
    bj.x.buf_gp = bj.x.buf_gr = bj.x.buf_st = NULL;
    bj.x.gcap = 0;
    double over0;
    if (meets(&x, &sp, &rep->before, exv, exd, &over0)) {
        /* the original meets every budget already: it is the answer, and
        ** the best one (only delays: nothing is shorter), so its makespan is
        ** the bound, reached. No search, and no packing bound: both build
        ** group profiles over every bin an op spans. */
        memcpy(best, s->start_cyc, s->n * sizeof *best);
        if (budget_figs_copy(&rep->after, &rep->before)) goto fail;
        rep->order_used = BUDGET_ORDER_START;
        mj.met = 1;
        bj.x.no_packing = 1;
        bound_run(&bj);
        bj.rep.lb_cyc = rep->before.makespan_cyc;   /* reached: no valid bound is above it */
    } else {
        /* always a thread of its own, even for a small schedule: the LP
        ** solver keeps state per thread, which bound_thread gives back; on
        ** the caller's thread it would stay until that thread ends (and
        ** glp_free_env there would free the caller's own GLPK work). If no
        ** thread can start, the bound runs here all the same (the same
        ** figures), and the solver's state stays until the caller's thread
        ** ends. */
        pthread_t th;
        int threaded = pthread_create(&th, NULL, bound_thread, &bj) == 0;
        main_run(&mj);
        if (threaded) pthread_join(th, NULL);
        else bound_run(&bj);
    }
    if (bj.rc) { rc = BUDGET_ENOMEM; goto fail; }
    rep->lb_cyc = bj.rep.lb_cyc;
    rep->lb_makespan_cyc = bj.rep.lb_makespan_cyc;
    rep->lb_critical_cyc = bj.rep.lb_critical_cyc;
    rep->lb_busy_cyc = bj.rep.lb_busy_cyc;
    rep->lb_energy_cyc = bj.rep.lb_energy_cyc;
    rep->lb_packing_cyc = bj.rep.lb_packing_cyc;
    rep->lb_dff_cyc = bj.rep.lb_dff_cyc;
    rep->lb_lp_cyc = bj.rep.lb_lp_cyc;
    if ((rc = mj.rc) != BUDGET_OK) goto fail;
    int met = mj.met;
    double over_w = mj.over_w;
    sio_error verr;
    if (sio_schedule_verify(c, s, best, &verr) != SIO_OK) {
        sio_error_set(err, s->path, 0, 0, "internal: the re-timed schedule breaks a rule: %s", verr.text);
        rc = BUDGET_EINTERNAL;
        goto fail;
    }
    for (size_t i = 0; i < s->n; i++) rep->moved += best[i] != s->start_cyc[i];
    /* a schedule may start no instruction past 2^52 cycles (docs/formats.md):
    ** one the budget would push there is not met */
    size_t far = s->n;
    for (size_t i = 0; i < s->n && far == s->n; i++)
        if (best[i] > ((int64_t)1 << 52)) far = i;
    int64_t mk0 = rep->before.makespan_cyc, mk1 = rep->after.makespan_cyc;
    rep->slowdown = mk0 ? (double)mk1 / (double)mk0 - 1 : 0;
    rep->gap = rep->lb_cyc ? (double)mk1 / (double)rep->lb_cyc - 1 : 0;
    rc = BUDGET_OK;
    if (far < s->n) {
        sio_error_set(err, s->path, 0, 0, "the budget was not met: the schedule found starts instruction '%s' at "
                      "cycle %" PRId64 ", past the 2^52 cycles a schedule may span", sio_schedule_id(s, far), best[far]);
        rc = BUDGET_ENOTMET;
    } else if (!met) {
        rep->over_w = over_w;
        /* the best schedule's figures of the budgets asked for, against them */
        char fig[4][120] = {""};
        int nf = 0;
        if (sp.power_cap_w > 0)
            snprintf(fig[nf++], sizeof fig[0], "power %.6g W over the %g ns window (cap %.6g W a chip)",
                     rep->after.chip_peak_window_w, rep->after.window_ns, sp.power_cap_w);
        if (sp.system_power_cap_w > 0)
            snprintf(fig[nf++], sizeof fig[0], "system power %.6g W over the %g ns window (cap %.6g W)",
                     rep->after.peak_window_w, rep->after.window_ns, sp.system_power_cap_w);
        if (sp.didt_a_per_ns > 0)
            snprintf(fig[nf++], sizeof fig[0], "dI/dt %.6g A/ns (limit %.6g)", rep->after.max_didt_a_per_ns,
                     sp.didt_a_per_ns);
        if (sp.guardband_mv > 0)
            snprintf(fig[nf++], sizeof fig[0], "droop %.6g mV (guardband %.6g mV)", rep->after.max_droop_mv,
                     sp.guardband_mv);
        sio_error_set(err, s->path, 0, 0, "the budget was not met: the search found no schedule that meets it, "
                      "and no proof that none exists; the best one found has %s%s%s%s%s%s%s", fig[0],
                      nf > 1 ? ", " : "", nf > 1 ? fig[1] : "", nf > 2 ? ", " : "", nf > 2 ? fig[2] : "",
                      nf > 3 ? ", " : "", nf > 3 ? fig[3] : "");
        rc = BUDGET_ENOTMET;
    }
    if (sp.progress) sp.progress(sp.progress_arg, 1.0);
    *out = best;
    best = NULL;
fail:
    if (rc == BUDGET_ENOMEM && !err->text[0]) sio_error_set(err, NULL, 0, 0, "out of memory");
    if (rc && rc != BUDGET_ENOTMET) budget_report_free(rep);
    for (size_t r = 0; r < x.nr; r++) pdn_model_destroy(models ? models[r] : NULL);
    free(models);
    free(st);
    free(best);
    free(exv);
    free(exd);
    ctx_free(&x);
    return rc;
}
