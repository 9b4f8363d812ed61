/* budget_int.h -- what the files of budgets/ share: the re-timer's state
** (ctx), the sparse time-indexed profiles (parr, lane), the exact per-bin
** profile of a group, and the passes of the scheduler. Not installed.
**
** Groups are the instructions tied by exact deps (`ID=N`), the only rigid
** pieces; every other constraint (deps of the other two kinds, each unit's
** order) is a difference constraint between the delays of two groups:
** an edge h -> g of weight w says d_g >= d_h + w. The original schedule
** meets them all at delay 0. */
#ifndef PDA_BUDGET_INT_H
#define PDA_BUDGET_INT_H
#include <stddef.h>
#include <stdint.h>

#include "budget.h"

/* A sparse array of doubles over bins (0 .. 2^40): pages of PG bins made on
** first write, found through a two-level directory, so memory follows the
** bins that hold something, never the length of the timeline. */
#define PG_BITS 12
#define PG ((size_t)1 << PG_BITS)
#define DIR_BITS 12
typedef struct parr {
    double ***top;   /* [nt] -> [1 << DIR_BITS] -> page of PG doubles, or NULL */
    size_t nt;
    size_t end;      /* the bin past the last page made: every bin from there on is 0 */
} parr;

static inline double pa_get(const parr *a, size_t b)
{
    size_t p = b >> PG_BITS, t = p >> DIR_BITS;
    if (t >= a->nt || !a->top[t]) return 0.0;
    const double *pg = a->top[t][p & (((size_t)1 << DIR_BITS) - 1)];
    return pg ? pg[b & (PG - 1)] : 0.0;
}
/* The page holding bin b, made (zeroed) when missing; NULL when out of memory. */
double *pa_page(parr *a, size_t b);
void pa_free(parr *a);

/* One chip's profiles (or the system's: pw only). */
typedef struct lane {
    parr pw;         /* ops power (W) per bin */
    parr *ra;        /* [nr] ops current per rail (A) per bin, or NULL */
    parr *vd;        /* [nr] droop per rail through the truncated kernel (V), or NULL */
} lane;

/* One directed difference constraint: d_to >= d_from + w (out-lists) or,
** in the in-lists, d_self >= d_to + w with `to` the source. */
typedef struct gedge {
    int64_t w;
    uint32_t to;
} gedge;

typedef struct ctx {
    const sio_chip *c;
    const sio_schedule *s;
    double T, bin;        /* ns a cycle, ns a bin */
    size_t nr, nch, n;
    int use_pw, use_sys, use_didt, use_droop;
    int sys_folded;       /* one chip: the system cap given is the chip cap */
    int no_packing;       /* the lower bound leaves out the packing bound (the original meets) */
    size_t W;             /* power window in bins */
    double B;             /* budget of a chip's window sum of ops power */
    double B_sys;         /* budget of the system's window sum (use_sys) */
    double p_idle_w;      /* idle power of one chip */
    size_t *wd;           /* [nr] dI/dt window in bins */
    double *lim_didt;     /* [nr] A per w bins */
    const double **h;     /* [nr] PDN kernels */
    size_t *kt;           /* [nr] taps used */
    double *z0_idle_v;    /* [nr] steady idle droop */
    double *margin_v;     /* [nr] allowance for the kernel's tail */
    double *lim_droop;    /* [nr] limit on the truncated ops droop */
    double *idle_a;       /* [nr] idle current of one chip per rail */
    /* groups */
    size_t ng;
    uint32_t *grp;        /* [n] group of each instruction */
    size_t *g_off;        /* [ng + 1] */
    uint32_t *g_mem;      /* [n] members by group */
    int64_t *g_start;     /* [ng] first start of the group (original) */
    int64_t *g_end;       /* [ng] last end of the group (original) */
    size_t *eo_off, *ei_off;   /* [ng + 1] out- and in-edges of each group */
    gedge *eo, *ei;
    uint32_t *uprev;      /* [n] previous instruction on the unit, or UINT32_MAX */
    /* strongly connected sets of groups (through their edges): moved rigidly
    ** by a pass once one of their groups has been evicted too often */
    size_t n_scc;
    uint32_t *scc;        /* [ng] the set of each group */
    size_t *sc_goff;      /* [n_scc + 1] its groups in sc_grp */
    uint32_t *sc_grp;     /* [ng] */
    size_t *sc_ioff;      /* [n_scc + 1] its instructions in sc_ins */
    uint32_t *sc_ins;     /* [n] */
    unsigned char *rigid; /* [n_scc] per pass: moved whole */
    unsigned char *ev;    /* [ng] per pass: evictions of each group (saturates) */
    int64_t *key_start, *key_crit, *key_fb;   /* [ng] priorities of the passes */
    /* a pass */
    int64_t *d;           /* [ng] delay of each group */
    int64_t *lo;          /* [ng] least delay still allowed (in the pass's direction) */
    uint32_t *ready;      /* [ng] predecessors in the pass's order not placed */
    unsigned char *placed, *inq;
    int64_t *rk;          /* [ng] the pass's order (readiness) */
    int64_t base;         /* cycles added to every start in the profiles (backward pass) */
    size_t evictions;     /* placed groups a pass had to take out again */
    int64_t lane_end;     /* per pass: the latest end (cycles) of anything placed */
    int64_t tail_cyc;     /* cycles past a piece's end that its checks read, plus a phase period */
    int relaxed;          /* a pass gave up the budget for some group */
    int exact_fit;        /* a group's power jump steps to its first fitting delay (jump) */
    const int64_t *lo0;   /* [ng] or NULL: least delays a forward pass starts from (0 when NULL) */
    const int64_t *rk0;   /* [ng] or NULL: a forward pass's order inside a strongly connected set (key_start) */
    lane *lanes;          /* [nch], then the system lane */
    const double *gp, *gr;   /* the profile in use: power and rail currents [nr][span] per bin, */
    size_t LB, RB;           /* ... over bins LB .. RB (span = RB - LB + 1) */
    double *buf_gp, *buf_gr; /* scratch where a profile is computed, */
    double *buf_st;          /* ... and its plateaus as steps */
    size_t gcap;
    double *lbuf, *cbuf;     /* scratch: lane bins read for a check; a droop convolution */
    size_t lcap, ccap;
    /* Profiles of the group being placed, one per phase of the clock against
    ** the bins: moving a group by P cycles (P = phases) moves its profile by
    ** binsP whole bins, so each phase is integrated once per placement. */
    int64_t P, binsP;     /* 0: no cache (the phases do not repeat) */
    size_t pc_g;          /* the group cached, or SIZE_MAX */
    int64_t pc_base;      /* x->base when it was cached */
    struct pslot { int64_t d; size_t LB, RB, cap; double *gp, *gr; } *pc;   /* [P], d INT64_MIN = empty */
    const budget_spec *sp;
    size_t placements, work;   /* progress: placements so far, expected */
    uint64_t cost;        /* bins the placements' checks have read (sampling's budget) */
    sio_error *err;
} ctx;

/* The exact per-bin profile of the m instructions mem[] moved by d (plus
** x->base) into x->gp / x->gr over bins x->LB .. x->RB. -1 when out of memory. */
int budget_members_profile(ctx *x, const uint32_t *mem, size_t m, int64_t d);

/* Cycles between repeats of the bins' phase against the clock (1..1000), or
** 0 when it does not repeat within 1000 cycles. */
int64_t budget_phases(const ctx *x);

/* The lower bound on the makespan (docs/budgets.md) into rep. -1 when out of memory. */
int budget_lower_bound(ctx *x, const budget_spec *sp, budget_report *rep);
/* A deep copy of from into to (freed with budget_figs_free). 0, or -1 out
** of memory with to holding nothing. */
int budget_figs_copy(budget_figs *to, const budget_figs *from);
/* At the end of a thread of ours that computed a lower bound: frees the LP
** solver's per-thread state (never on the caller's thread, whose own use of
** the solver it would end). */
void budget_bound_thread_end(void);

/* budget_sched.c: the groups, their edges and keys, and the pass arrays
** (x->d etc.); -1 when out of memory. */
int budget_groups(ctx *x, int64_t makespan);
/* Frees every page of every lane. */
void budget_lanes_clear(ctx *x);
/* One pass of the scheduler (budget_sched.c's opening comment): dir +1
** forward (priority prio among the ready, delays into x->d), -1 backward
** against makespan mk from the delays in x->d. 0, 1 when the backward pass
** finds no room, -1 when out of memory, -2 internal. */
int budget_pass(ctx *x, int dir, const int64_t *prio, int64_t mk, int64_t stop_cyc, size_t evict_cap);
/* Group g alone on an idle chip at delay d, against the power caps: 1 when
** it breaks one, 0 when not, -1 out of memory. The group's profile is left
** in scratch. */
int budget_alone(ctx *x, size_t g, int64_t d);

#endif
