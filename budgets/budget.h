/* budget.h -- re-timing a schedule to a power, dI/dt or droop budget (the
** budget_ module).
**
** budget_retime only delays instructions: every new start is >= the old one,
** every dependency of the three kinds still holds, and each unit keeps the
** order of its instructions and runs one at a time. The only rigid pieces
** are the groups of instructions tied by exact lags (`ID=N`); unit order and
** the other deps are inequalities with slack, and groups may interleave on a
** unit. Only the starts change; the caller writes them back with
** sio_schedule_write.
**
** Budgets (any combination, at least one):
**   power_cap_w         the average power of each chip over any window of
**                       window_ns (default one bin) stays <= the cap; power
**                       is sum over rails of vdd_v x rail current, idle_a
**                       included;
**   system_power_cap_w  the same for the sum over the chips of a multi-chip
**                       schedule (a rack's budget);
**   didt_a_per_ns       per chip and rail, |i[k] - i[k-w]| / (w bin_ns) stays
**                       <= the limit, w the rail's didt_window_ns in bins;
**   guardband_mv        per chip and rail, the droop of the rail's PDN model
**                       (pdn.h) stays <= the guardband.
** Outcomes: met (BUDGET_OK); impossible (BUDGET_EINFEASIBLE) only with a
** proof named in the message (the idle power or idle droop alone, or one
** exact group alone on an idle chip at every clock phase against the bins);
** not met (BUDGET_ENOTMET) when the search ends without meeting the budget
** and without such a proof. The method, the lower bound and the guarantees
** are in docs/budgets.md. Units are in the names: _cyc cycles, _ns, _w
** watts, _a amperes, _mv. */
#ifndef PDA_BUDGET_H
#define PDA_BUDGET_H
#include <stddef.h>
#include <stdint.h>

#include "pda_status.h"
#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, aligned with sio.h (1 input, 2 I/O, 3 memory). */
enum {
    BUDGET_OK = PDA_OK,
    BUDGET_EINPUT = PDA_EINPUT,     /* bad spec, or a PDN that cannot be modelled */
    BUDGET_ENOMEM = PDA_ENOMEM,     /* out of memory */
    BUDGET_EINFEASIBLE = PDA_EINFEASIBLE,/* the budget cannot be met: the proof in sio_error */
    BUDGET_EINTERNAL = PDA_EINTERNAL,  /* re-analysis disagrees with the scheduler (a bug) */
    BUDGET_ENOTMET = PDA_ENOTMET     /* no schedule meeting the budget was found (no proof
                           ** that none exists); the best reached in the report */
};

/* Order in which the list scheduler places the groups. */
enum {
    BUDGET_ORDER_AUTO = 0,     /* critical, and start too up to 10^5 groups; the shorter kept */
    BUDGET_ORDER_START = 1,    /* original start first */
    BUDGET_ORDER_CRITICAL = 2  /* least latest-start (longest path to the end) first */
};

/* What to meet. A zero budget field means "no such budget". Fill with
** designated initializers; zeroes elsewhere pick the defaults. */
typedef struct budget_spec {
    double power_cap_w;     /* per chip, > 0, or 0 */
    double system_power_cap_w; /* the sum over chips, > 0, or 0 */
    double window_ns;       /* window of the cap; 0 = one bin; at most 1e15 */
    double didt_a_per_ns;   /* per rail, > 0, or 0 */
    double guardband_mv;    /* per rail, > 0, or 0 */
    double bin_ns;          /* bin width of the current model; 0 = 1 ns; else 0.001 .. 1e6 */
    int order;              /* BUDGET_ORDER_*, default AUTO */
    int fb_passes;          /* power caps: forward-backward passes at most; 0 = 4 (1 past 10^5
                            ** exact groups), < 0 = none (and no sampling rounds either) */
    /* Called now and then with the fraction of the work done (0..1), from
    ** the calling thread; NULL for none. The library itself prints nothing. */
    void (*progress)(void *arg, double done);
    void *progress_arg;
} budget_spec;

/* The figures of one schedule (before or after), per the current model. */
typedef struct budget_figs {
    int64_t makespan_cyc;
    double makespan_ns;
    double peak_w;             /* highest bin of the system's power (all chips) */
    double peak_window_w;      /* highest window average of the system's power */
    double chip_peak_window_w; /* highest window average of any one chip */
    double window_ns;          /* the window used: whole bins, at most the timeline (as `run` takes it) */
    double max_didt_a_per_ns;  /* worst over chips and rails */
    double max_droop_mv;       /* worst over chips and rails (NaN when not computed) */
    size_t n_rails;            /* n_chips x chip->n_rails entries below */
    double *rail_didt_a_per_ns;/* [chip][rail], owned by the report */
    double *rail_didt_body_a_per_ns; /* [chip][rail], the same without the run's last bin, whose
                               ** idle current stops at the makespan (owned by the report) */
    double *rail_droop_mv;     /* [chip][rail], owned by the report (NaN when not computed) */
} budget_figs;

/* The outcome of budget_retime. Lower bound (cycles): the largest of the
** original makespan, the critical path of the deps, each unit's busy time
** and, with a power cap, the energy bound of docs/budgets.md:
**   M >= (E_ops - cap x window_ns) / (cap - P_idle)   per chip,
** and the packing bound (rigid blocks that cannot run together; same doc). */
typedef struct budget_report {
    budget_figs before, after;
    int64_t lb_cyc;            /* the lower bound */
    int64_t lb_makespan_cyc, lb_critical_cyc, lb_busy_cyc, lb_energy_cyc;
    double slowdown;           /* after / before makespan - 1 */
    double gap;                /* after makespan / lb_cyc - 1 */
    size_t moved;              /* instructions whose start changed */
    size_t blocks;             /* rigid groups scheduled (instructions tied by exact deps) */
    size_t max_block;          /* instructions in the largest group */
    size_t evictions;          /* placed groups taken out again to keep a constraint (all passes) */
    int order_used;            /* BUDGET_ORDER_START or _CRITICAL: the first forward pass */
    int fb_passes;             /* improvement passes that shortened it (power caps): forward-backward
                               ** passes and sampling rounds (docs/budgets.md) */
    size_t culprit;            /* EINFEASIBLE: the instruction named, or SIZE_MAX */
    double over_w;             /* ENOTMET: the best schedule's worst window power over its cap (W) */
    int64_t lb_packing_cyc;    /* power cap: the packing bound (docs/budgets.md), 0 if not computed
                               ** (also when the original meets every budget and is returned as it is): */
    int64_t lb_dff_cyc;        /* ... the larger of its part from the functions u^(k) */
    int64_t lb_lp_cyc;         /* ... and its part from the configuration LP's function (0 if none) */
} budget_report;

/* Re-times schedule s of chip to spec. On BUDGET_OK sets *new_start_cyc to a
** malloc'd array of s->n starts (the caller frees it) and fills *rep. On
** BUDGET_ENOTMET does the same with the best valid schedule found (it
** breaks the budget: rep->after says by how much) and says so in err. On
** any other error sets *new_start_cyc = NULL, fills err->text (the proof
** for BUDGET_EINFEASIBLE, with rep->culprit the instruction it names, if
** any) and leaves rep with nothing to free. chip and s are borrowed; s must
** be valid (sio_schedule_verify). rep must be released with
** budget_report_free. The droop figures of rep are always computed. */
int budget_retime(const sio_chip *chip, const sio_schedule *s, const budget_spec *spec,
                  int64_t **new_start_cyc, budget_report *rep, sio_error *err);
void budget_report_free(budget_report *rep);   /* NULL is a no-op */

/* The figures of s with starts start_cyc (s->start_cyc or a re-timed copy)
** at bin_ns, with the power window of window_ns (>= one bin), by one full
** pass of the current model and each rail's PDN model. with_droop = 0 skips
** the PDN (droop figures NaN: not computed). Free with budget_figs_free. */
int budget_analyze(const sio_chip *chip, const sio_schedule *s, const int64_t *start_cyc, double bin_ns,
                   double window_ns, int with_droop, budget_figs *out, sio_error *err);
void budget_figs_free(budget_figs *f);         /* NULL is a no-op */

/* Static text for a status code. */
const char *budget_strerror(int rc);

#ifdef __cplusplus
}
#endif
#endif
