/* cmd_export.c -- `analyzer export CHIP SCHEDULE --format F -o PATH` and
** `analyzer import --format hotspot FILE.flp [-o FILE]`
** (docs/outputs-thermal.md describes every format).
**
**   hotspot   PATH is a folder: die<D>.flp per die, outline.flp (for layers
**             without power), stack.lcf, chip<C>_die<D>.ptrace per chip and
**             die, chip<C>.ptrace (every die's blocks in the order of the
**             stack's layers, what HotSpot reads with the .lcf). One ptrace row per frame (--frame-ns, default
**             the chip's): each unit's average power over the frame.
**   vcd       PATH is a file: real signals per chip of each rail's current
**             (A) and droop (mV), each die's current and, with --unit-maps,
**             each unit's current (scope "units"); a value written when it
**             changes from one bin to the next; timescale 1 ps.
**   perfetto  PATH is a file: Chrome trace-event JSON; one complete event
**             per instruction on a track per chip (process) and unit
**             (thread), ts/dur in microseconds; a flow arrow per dep; the
**             droop and dI/dt events `run` finds, with their causes, on a
**             track per rail and kind; counter events of each rail's
**             current and droop when they change (bins in groups so a
**             trace holds at most ~200,000 samples per rail: a group's mean
**             current and its worst droop).
** Everything streams (the timeline through the walk, tile by tile) into
** temporary files that are renamed into place only when all succeeded. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "pda.h"
#include "walk.h"
#include "current.h"
#include "sio_int.h"
#include "thermal_hotspot.h"
#include "thermal_run.h"

/* A JSON string literal of s (valid UTF-8 whatever the bytes of s). */
static void json_str(FILE *f, const char *s) { sio_json_string(f, s, 0); }

/* 1 when s can stand as one word of a whitespace-separated format: not
** empty, no blank, no control character. */
static int one_word(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) return 0;
    return 1;
}

/* Refuses a value of the description found unfit after the load, key of
** element i of the array at arr ("units", "thermal.layers"): the message at
** that value's place in the chip file, "file:line:col: units[3].name: ...",
** as the loader words its own errors (no position when the chip file cannot
** be read again: sio_chip_locate). Returns EXIT_INPUT. */
#ifdef __GNUC__
__attribute__((format(printf, 6, 7)))
#endif
static int refuse_at(const sio_chip *c, sio_error *err, const char *arr, size_t i, const char *key,
                     const char *fmt, ...)
{
    char where[96], msg[sizeof err->text];   /* cut as sio_error_set cuts, with its "..." */
    int line, col;
    snprintf(where, sizeof where, "%s[%zu].%s", arr, i, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sio_chip_locate(c, where, &line, &col);
    sio_error_set(err, c->path, line, col, "%s: %s", where, msg);
    return EXIT_INPUT;
}

/* The names a format writes as bare words: HotSpot's floorplans and power
** traces (unit names, separated by blanks), VCD's variables (rail names, and unit
** names with --unit-maps).
** A name that cannot be written is refused, naming it, before any file
** is made; Perfetto's JSON escapes everything and takes any name. */
static int names_fit(const sio_chip *c, size_t fmt, int unit_signals, sio_error *err)
{
    for (size_t u = 0; fmt == 1 && unit_signals && u < c->n_units; u++)
        if (!one_word(c->units[u].name) || strstr(c->units[u].name, "$end"))
            return refuse_at(c, err, "units", u, "name", "unit '%s': a VCD variable name cannot hold a blank, a "
                             "control character or '$end': rename the unit, or export without --unit-maps",
                             c->units[u].name);
    for (size_t u = 0; fmt == 0 && u < c->n_units; u++) {
        const char *n = c->units[u].name;
        if (!one_word(n))
            return refuse_at(c, err, "units", u, "name", "unit '%s' has a blank or control character in its "
                             "name, which HotSpot's whitespace-separated .flp and .ptrace files cannot carry: "
                             "rename it", n);
        if (strlen(n) > THERMAL_HOTSPOT_NAME_MAX)
            return refuse_at(c, err, "units", u, "name", "unit '%.40s...' has a name of %zu bytes: HotSpot reads "
                             "names of at most %d", n, strlen(n), THERMAL_HOTSPOT_NAME_MAX);
        if (!thermal_flp_name_reads_back(n))
            return refuse_at(c, err, "units", u, "name", "unit '%s': a HotSpot floorplan takes what follows '#' "
                             "as a comment, and pda's importer skips blocks named '_fill...': rename it", n);
    }
    size_t a, b;
    int overlap, clash = fmt == 0 ? thermal_flp_chip_clash(c, &a, &b, &overlap) : 0;
    if (clash < 0) {
        sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
        return EXIT_IO;
    }
    /* at the later of the two units */
    if (clash && overlap)
        return refuse_at(c, err, "units", b, "rect_mm", "units '%s' and '%s' overlap on die %d: a HotSpot "
                         "floorplan cannot hold overlapping blocks (it would count the shared area twice); pda's own "
                         "grid adds their power, HotSpot cannot", c->units[a].name, c->units[b].name,
                         c->dies[c->units[a].die].id);
    if (clash)
        return refuse_at(c, err, "units", b, "name", "units '%s' and '%s' differ only in case, and HotSpot finds "
                         "a trace column's block ignoring case: rename one", c->units[a].name, c->units[b].name);
    for (size_t l = 0; fmt == 0 && l < c->thermal.n_layers; l++)
        for (const char *p = c->thermal.layers[l].name; p && *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return refuse_at(c, err, "thermal.layers", l, "name", "layer %zu has a control character in its "
                                 "name", l);
    for (size_t r = 0; fmt == 1 && r < c->n_rails; r++)
        if (!one_word(c->rails[r].name) || strstr(c->rails[r].name, "$end"))
            return refuse_at(c, err, "rails", r, "name", "rail '%s': a VCD variable name cannot hold a blank, a "
                             "control character or '$end': rename the rail", c->rails[r].name);
    return EXIT_OK;
}

/* ---- hotspot ------------------------------------------------------------- */

#define HOTSPOT_MAX_CELLS 1e8   /* frames x units of a trace: 800 MB of energies */

static int export_hotspot(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, outset *ro,
                          sio_error *err)
{
    const size_t nd = c->n_dies, nu = c->n_units, nch = s->n_chips ? s->n_chips : 1;
    double F = (double)(o->frame_ns ? o->frame_ns : (c->thermal.frame_ns > 0 ? c->thermal.frame_ns : 10000));
    double mk_ns = (double)sio_schedule_makespan_cyc(s) * sio_chip_period_ns(c);
    size_t nf = thermal_run_n_frames(mk_ns, F);
    /* HotSpot reads one trace row per frame, every unit's energy held here:
    ** a timeline of too many frames is refused, with the frame that fits */
    if ((double)nf * (double)(nu ? nu : 1) > HOTSPOT_MAX_CELLS) {
        sio_error_set(err, s->path, 0, 0,
                      "export --format hotspot: %zu frames of %g ns x %zu units is more than a trace can hold here "
                      "(HotSpot needs a row for every frame, idle ones too); use --frame-ns %.0f or more",
                      nf, F, nu, ceil(mk_ns * (double)(nu ? nu : 1) / HOTSPOT_MAX_CELLS));
        return EXIT_INPUT;
    }
    thermal_flp **flp = calloc(nd + 1, sizeof *flp);
    double *energy = malloc((nf * nu + 1) * sizeof *energy), *pw = malloc((nu ? nu : 1) * sizeof *pw);
    int rc = EXIT_OK, grid_note = 0;
    size_t note_gx = 0, note_gy = 0;
    sio_out *so;
    char name[128];
    if (!flp || !energy || !pw) goto oom;
    for (size_t d = 0; d <= nd; d++)
        if (thermal_flp_from_chip(c, d < nd ? d : (size_t)-1, &flp[d])) goto oom;
    for (size_t d = 0; d <= nd; d++) {
        char comment[256];
        if (d < nd) {
            snprintf(name, sizeof name, "die%d.flp", c->dies[d].id);
            snprintf(comment, sizeof comment, "%s die %d (%s): units, then zero-power fillers", c->name,
                     c->dies[d].id, c->dies[d].name);
        } else {
            snprintf(name, sizeof name, "outline.flp");
            snprintf(comment, sizeof comment, "%s outline, for layers without power", c->name);
        }
        if ((rc = outset_add(ro, name, &so, err))) { rc = cmd_exit_for(rc); goto out; }
        thermal_flp_write(sio_out_file(so), flp[d], comment);
    }
    if (c->thermal.present && c->thermal.n_layers) {
        size_t nl = c->thermal.n_layers;
        char **names = calloc(nl, sizeof *names);
        if (!names) goto oom;
        int bad = 0;
        for (size_t l = 0; l < nl && !bad; l++) {
            const sio_layer *L = &c->thermal.layers[l];
            char buf[64];
            if (L->has_die) snprintf(buf, sizeof buf, "die%d.flp", c->dies[L->die].id);
            else snprintf(buf, sizeof buf, "outline.flp");
            if (!(names[l] = strdup(buf))) bad = 1;
        }
        int orc = 0;
        if (!bad && (orc = outset_add(ro, "stack.lcf", &so, err))) bad = 2;
        if (!bad) thermal_lcf_write(sio_out_file(so), c, (const char *const *)names);
        if (!bad && (orc = outset_add(ro, "hotspot.config", &so, err))) bad = 2;
        size_t gx = o->grid[0] ? o->grid[0] : c->thermal.grid[0], gy = o->grid[1] ? o->grid[1] : c->thermal.grid[1];
        if (!bad) thermal_hotspot_config_write(sio_out_file(so), c, gx, gy, F * 1e-9);
        grid_note = !bad && !thermal_hotspot_grid_pow2(gx, gy);
        if (grid_note) { note_gx = gx; note_gy = gy; }
        for (size_t l = 0; l < nl; l++) free(names[l]);
        free(names);
        if (bad == 1) goto oom;
        if (bad == 2) { rc = cmd_exit_for(orc); goto out; }
    }
    /* chipN.ptrace: HotSpot reads its columns layer by layer, bottom first,
    ** each power layer's blocks from its floorplan: the dies in the order of
    ** their layers (without a stack, in die order) */
    const thermal_flp *stack[SIO_THERMAL_MAX_DIES + 1];
    size_t ns = 0;
    if (nd > SIO_THERMAL_MAX_DIES) {   /* the reader refuses such a chip */
        sio_error_set(err, c->path, 0, 0, "export: at most %d dies", SIO_THERMAL_MAX_DIES);
        rc = EXIT_INPUT;
        goto out;
    }
    for (size_t l = 0; c->thermal.present && l < c->thermal.n_layers; l++)
        if (c->thermal.layers[l].has_die) stack[ns++] = flp[c->thermal.layers[l].die];
    if (!ns)
        for (size_t d = 0; d < nd; d++) stack[ns++] = flp[d];
    /* what HotSpot cannot read is refused before the set lands: each die's
    ** trace (and floorplan) and the stack's */
    for (size_t d = 0; d <= nd; d++) {
        size_t cols, line;
        if (d < nd) thermal_ptrace_size((const thermal_flp *const *)&flp[d], 1, &cols, &line);
        else thermal_ptrace_size(stack, ns, &cols, &line);
        char what[64];
        if (d < nd) snprintf(what, sizeof what, "die %d's floorplan and trace", c->dies[d].id);
        else snprintf(what, sizeof what, "the stack's trace");
        if (cols > THERMAL_HOTSPOT_BLOCKS_MAX) {
            sio_error_set(err, c->path, 0, 0, "export --format hotspot: %s would hold %zu blocks (units and the "
                          "fillers around them), more than the %d HotSpot reads", what, cols, THERMAL_HOTSPOT_BLOCKS_MAX);
            rc = EXIT_INPUT;
            goto out;
        }
        if (line > THERMAL_HOTSPOT_LINE_MAX) {
            sio_error_set(err, c->path, 0, 0, "export --format hotspot: %s would have lines of up to %zu bytes, "
                          "more than the %d HotSpot reads: shorter unit names, or fewer units", what, line,
                          THERMAL_HOTSPOT_LINE_MAX);
            rc = EXIT_INPUT;
            goto out;
        }
    }
    for (size_t ch = 0; ch < nch; ch++) {
        if (thermal_run_frame_energy(c, s, ch, NULL, 0, (double)nf * F, F, nf, energy)) {   /* idle to the last frame's end */
            sio_error_set(err, s->path, 0, 0, "export: an instruction lies outside the frames");
            rc = EXIT_IO;
            goto out;
        }
        FILE *fd[SIO_THERMAL_MAX_DIES + 1];
        for (size_t d = 0; d <= nd; d++) {
            if (d < nd) snprintf(name, sizeof name, "chip%zu_die%d.ptrace", ch, c->dies[d].id);
            else snprintf(name, sizeof name, "chip%zu.ptrace", ch);
            if ((rc = outset_add(ro, name, &so, err))) { rc = cmd_exit_for(rc); goto out; }
            fd[d] = sio_out_file(so);
            if (d < nd) thermal_ptrace_header(fd[d], (const thermal_flp *const *)&flp[d], 1);
            else thermal_ptrace_header(fd[d], stack, ns);
        }
        for (size_t f = 0; f < nf; f++) {
            for (size_t u = 0; u < nu; u++) pw[u] = energy[f * nu + u] / (F * 1e-9);
            for (size_t d = 0; d < nd; d++) thermal_ptrace_row(fd[d], (const thermal_flp *const *)&flp[d], 1, pw);
            thermal_ptrace_row(fd[nd], stack, ns, pw);
        }
    }
    if (grid_note && !o->quiet)
        fprintf(stderr, "analyzer: note: the thermal grid %zu,%zu (--grid NX,NY) is not a power of two each way: "
                "HotSpot takes it only when built with SuperLU (export with --grid, e.g. 64,64, for its default "
                "build)\n", note_gx, note_gy);
    goto out;
oom:
    sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
    rc = EXIT_IO;
out:
    for (size_t d = 0; flp && d <= nd; d++) thermal_flp_free(flp[d]);
    free(flp); free(energy); free(pw);
    return rc;
}

/* ---- vcd ----------------------------------------------------------------- */

static void vcd_id(size_t k, char *out)
{
    static const char A[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = 0;
    do { out[n++] = A[k % 62]; k /= 62; } while (k);
    out[n] = 0;
}

/* Text inside a VCD $comment: a '$' that would start a keyword (the
** comment's own $end above all) written as "$ ", line ends and other
** control characters as blanks; the rest as it is. */
static void vcd_comment_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '$') fputs("$ ", f);
        else fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, f);
    }
}

/* One time of the dump, at bin k: the values of row that changed since
** last (all of them, as $dumpvars, the first time). 1 when it wrote the
** time. */
static int vcd_row(FILE *f, size_t k, double bin_ns, const double *row, double *last, size_t nsig, int *first)
{
    int stamped = 0;
    char id[8];
    for (size_t g = 0; g < nsig; g++) {
        if (!*first && row[g] == last[g]) continue;
        if (!stamped) {
            fprintf(f, "#%" PRId64 "\n%s", (int64_t)llround((double)k * bin_ns * 1e3), *first ? "$dumpvars\n" : "");
            stamped = 1;
        }
        vcd_id(g, id);
        fprintf(f, "r%.9g %s\n", row[g], id);
        last[g] = row[g];
    }
    if (*first) fprintf(f, "$end\n");
    *first = 0;
    return stamped;
}

static int export_vcd(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, FILE *f, sio_error *err)
{
    const size_t nr = c->n_rails, nd = c->n_dies, nch = s->n_chips ? s->n_chips : 1;
    const size_t nu = o->unit_maps ? c->n_units : 0;
    /* per chip: each rail's current and droop, each die's current, each unit's current (--unit-maps) */
    const size_t per = 2 * nr + nd + nu, nsig = nch * per;
    walk *it = NULL;
    walk_opts wo = {.bin_ns = o->bin_ns, .tile_bins = o->tile_bins, .droop = 1,
                    .maps = CURRENT_DIES | CURRENT_CONST | (nu ? CURRENT_UNITS : 0)};
    int wrc = walk_open(c, s, &wo, &it, err);
    if (wrc) return cmd_exit_for(wrc);
    const size_t tb = walk_tile_bins(it);
    /* last: the values written last; row: this time's; then the droops pending */
    double *last = malloc((2 * nsig + nch * nr + 1) * sizeof *last), *row = last ? last + nsig : NULL;
    if (!last) { walk_close(it); sio_error_set(err, NULL, 0, 0, "analyzer: out of memory"); return EXIT_IO; }
    fputs("$version pda analyzer export $end\n$comment ", f);
    vcd_comment_text(f, s->path);
    fputs(" on ", f);
    vcd_comment_text(f, c->name);
    fprintf(f, "; currents in amperes, droop in millivolts (below vdd), bins of %g ns $end\n$timescale 1ps $end\n",
            o->bin_ns);
    char id[8];
    for (size_t ch = 0; ch < nch; ch++) {
        fprintf(f, "$scope module chip%zu $end\n", ch);
        for (size_t q = 0; q < per; q++) {
            vcd_id(ch * per + q, id);
            if (q == 2 * nr + nd) fprintf(f, "$scope module units $end\n");
            if (q < nr) fprintf(f, "$var real 64 %s rail_%s_current_a $end\n", id, c->rails[q].name);
            else if (q < 2 * nr) fprintf(f, "$var real 64 %s rail_%s_droop_mv $end\n", id, c->rails[q - nr].name);
            else if (q < 2 * nr + nd) fprintf(f, "$var real 64 %s die%d_current_a $end\n", id, c->dies[q - 2 * nr].id);
            else fprintf(f, "$var real 64 %s %s $end\n", id, c->units[q - 2 * nr - nd].name);
        }
        if (nu) fprintf(f, "$upscope $end\n");
        fprintf(f, "$upscope $end\n");
    }
    fprintf(f, "$enddefinitions $end\n");
    /* Each bin's droop is its value at the bin's end (docs/pdn.md), so it is
    ** written at the next bin's time: the row at bin k holds the currents of
    ** bin k and the droops of bin k - 1 (before 0, the idle current's steady
    ** droop), and a last row at the end of the timeline the last droops. */
    double *dpend = row + nsig;
    for (size_t q = 0; q < nch * nr; q++) dpend[q] = walk_idle_droop_v(it, q);
    /* the idle currents, which a timeline of no bins (an empty schedule)
    ** keeps: its one row, at 0, has no bin's currents to take (the rails'
    ** as the walk has them; the dies' and units' from the units) */
    const double *idle = walk_chip_idle_a(it);
    for (size_t ch = 0; ch < nch; ch++) {
        double *r = row + ch * per;
        for (size_t q = 0; q < per; q++) r[q] = q < nr ? idle[ch * nr + q] : 0;
        for (size_t u = 0; u < c->n_units; u++) {
            r[2 * nr + c->units[u].die] += c->units[u].idle_a;
            if (nu) r[2 * nr + nd + u] = c->units[u].idle_a;
        }
    }
    current_tile t;
    const double *droop;
    int first = 1, got;
    while ((got = walk_next(it, &t, &droop)) == 1) {
        /* a constant run (stride 0) is one bin of currents, then its droop
        ** from its second bin on */
        size_t st = t.stride ? t.stride : 1, dst = t.stride ? tb : 1;
        for (size_t k = 0; k < (t.stride ? t.nb : 1); k++) {
            for (size_t ch = 0; ch < nch; ch++)
                for (size_t q = 0; q < per; q++)
                    row[ch * per + q] = q < nr        ? t.rail_a[(ch * nr + q) * st + k]
                                      : q < 2 * nr    ? dpend[ch * nr + q - nr] * 1e3
                                      : q < 2 * nr + nd ? t.die_a[(ch * nd + q - 2 * nr) * st + k]
                                                      : t.unit_a[(ch * c->n_units + q - 2 * nr - nd) * st + k];
            vcd_row(f, t.b0 + k, o->bin_ns, row, last, nsig, &first);
            for (size_t q = 0; q < nch * nr; q++) dpend[q] = droop[q * dst + k];
            if (!t.stride && t.nb > 1) {
                for (size_t q = 0; q < nch * nr; q++) row[q / nr * per + nr + q % nr] = dpend[q] * 1e3;
                vcd_row(f, t.b0 + 1, o->bin_ns, row, last, nsig, &first);
            }
        }
    }
    if (got < 0) {
        free(last); walk_close(it);
        sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
        return EXIT_IO;
    }
    /* the end of the timeline: the last bin's droop, and the values hold until here */
    for (size_t q = 0; q < nch * nr; q++) row[q / nr * per + nr + q % nr] = dpend[q] * 1e3;
    if (!vcd_row(f, walk_n_bins(it), o->bin_ns, row, last, nsig, &first))
        fprintf(f, "#%" PRId64 "\n", (int64_t)llround((double)walk_n_bins(it) * o->bin_ns * 1e3));
    free(last);
    walk_close(it);
    return EXIT_OK;
}

/* ---- perfetto ------------------------------------------------------------- */

/* Time ns in whole picoseconds. */
static int64_t pf_ps(double ns) { return (int64_t)llround(ns * 1e3); }

/* A time in whole picoseconds as microseconds, exactly (ts and dur). */
static void pf_us(FILE *f, int64_t ps) { fprintf(f, "%" PRId64 ".%06" PRId64, ps / 1000000, ps % 1000000); }

/* "ts":..,"dur":.. of [a, b) ns: the end's picosecond less the start's, so
** that a slice ending where the next starts touches it (rounded apart,
** they could overlap by a picosecond, which a viewer takes for nesting). */
static void pf_span(FILE *f, double a_ns, double b_ns)
{
    int64_t a = pf_ps(a_ns), b = pf_ps(b_ns);
    fputs(",\"ts\":", f);
    pf_us(f, a);
    fputs(",\"dur\":", f);
    pf_us(f, b > a ? b - a : 0);
}

/* A counter event of chip pid at bin g0 with value v under key arg, unless
** v is *last (counters are written on change). */
static void pf_counter(FILE *f, const char *name, const char *arg, size_t pid, size_t g0, double bin_ns, double v,
                       double *last)
{
    if (v == *last) return;
    *last = v;
    fprintf(f, ",\n{\"ph\":\"C\",\"name\":");
    json_str(f, name);
    fprintf(f, ",\"pid\":%zu,\"ts\":%.6f,\"args\":{\"%s\":%.6g}}", pid, (double)g0 * bin_ns * 1e-3, arg, v);
}

/* The middle of instruction i's slice (us): where a flow arrow binds. */
static double pf_mid_us(const sio_schedule *s, size_t i, double T)
{
    return ((double)s->start_cyc[i] + 0.5 * (double)s->cycles[i]) * T * 1e-3;
}

/* Each dependency as a flow arrow from the middle of the instruction
** depended upon to the middle of the dependent one (Chrome's flow events,
** bound to the slices that enclose them); the dep's index is the flow's id. */
static void pf_flows(FILE *f, const sio_schedule *s, double T)
{
    for (size_t i = 0; i < s->n; i++)
        for (uint32_t d = s->dep_off[i]; d < s->dep_off[i + 1]; d++) {
            uint32_t j = s->dep_src[d];
            const char *kind = s->dep_kind[d] == SIO_DEP_END ? "after end" : s->dep_kind[d] == SIO_DEP_EXACT ? "exact lag" : "min lag";
            fprintf(f, ",\n{\"ph\":\"s\",\"cat\":\"dep\",\"name\":\"%s\",\"id\":%" PRIu32 ",\"pid\":%" PRIu32
                       ",\"tid\":%" PRIu32 ",\"ts\":%.6f}", kind, d, s->chip[j], s->unit[j] + 1, pf_mid_us(s, j, T));
            fprintf(f, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"dep\",\"name\":\"%s\",\"id\":%" PRIu32 ",\"pid\":%" PRIu32
                       ",\"tid\":%" PRIu32 ",\"ts\":%.6f}", kind, d, s->chip[i], s->unit[i] + 1, pf_mid_us(s, i, T));
        }
}

/* The run's droop and dI/dt events as slices on a track per chip, rail and
** kind (after the units' tracks), with their causes. */
static void pf_events(FILE *f, const sio_chip *c, const sio_schedule *s, const events_event *e, size_t n)
{
    const size_t nch = s->n_chips ? s->n_chips : 1;
    for (size_t ch = 0; ch < nch; ch++)
        for (size_t r = 0; r < c->n_rails; r++)
            for (int k = 0; k < 2; k++) {
                char name[160];
                snprintf(name, sizeof name, "%s %s events", c->rails[r].name, k ? "dI/dt" : "droop");
                fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%zu,\"tid\":%zu,\"args\":{\"name\":",
                        ch, c->n_units + 1 + 2 * r + (size_t)k);
                json_str(f, name);
                fprintf(f, "}}");
            }
    for (size_t q = 0; q < n; q++) {
        const events_event *v = &e[q];
        int didt = v->kind == EVENTS_DIDT;
        fprintf(f, ",\n{\"ph\":\"X\",\"cat\":\"event\",\"name\":\"%s %.4g %s\"", didt ? "dI/dt" : "droop", v->peak,
                didt ? "A/ns" : "mV");
        pf_span(f, v->t_start_ns, v->t_end_ns);
        fprintf(f, ",\"pid\":%zu,\"tid\":%zu,\"args\":{\"rail\":", v->chip, c->n_units + 1 + 2 * v->rail + (size_t)didt);
        json_str(f, c->rails[v->rail].name);
        fprintf(f, ",\"%s\":%.6g,\"t_peak_ns\":%.6f,\"causes\":[", didt ? "peak_a_per_ns" : "peak_mv", v->peak, v->t_peak_ns);
        for (size_t k = 0; k < v->n_causes; k++) {
            const events_cause *ca = &v->causes[k];
            fprintf(f, "%s{\"unit\":", k ? "," : "");
            json_str(f, c->units[ca->unit].name);
            fprintf(f, ",\"delta_a\":%.6g,\"ids\":[", ca->delta_a);
            for (size_t m = 0; m < ca->n_ops; m++) {
                if (m) fputc(',', f);
                json_str(f, sio_schedule_id(s, ca->ops[m]));
            }
            fprintf(f, "]}");
        }
        fprintf(f, "]}}");
    }
}

static int export_perfetto(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, FILE *f, sio_error *err)
{
    const size_t nr = c->n_rails, nch = s->n_chips ? s->n_chips : 1, nq = nch * nr;
    const double T = sio_chip_period_ns(c);
    /* the events, as `run` finds them */
    pda_run_opts po;
    pda_run_opts_default(&po);
    po.bin_ns = o->bin_ns;
    po.tile_bins = o->tile_bins;
    po.thermal = 0;
    po.report = 0;
    pda_result *res = NULL;
    int prc = pda_run(c, s, &po, &res, err);
    if (prc) return cmd_exit_for(prc);
    size_t n_ev;
    const events_event *ev = pda_result_events(res, &n_ev);
    fprintf(f, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"chip\":");
    json_str(f, c->name);
    fprintf(f, ",\"schedule\":");
    json_str(f, s->path);
    fprintf(f, "},\"traceEvents\":[\n");
    int first = 1;
    for (size_t ch = 0; ch < nch; ch++) {
        fprintf(f, "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%zu,\"tid\":0,\"args\":{\"name\":\"chip %zu\"}}",
                first ? "" : ",\n", ch, ch);
        first = 0;
        for (size_t u = 0; u < c->n_units; u++) {
            fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%zu,\"tid\":%zu,\"args\":{\"name\":", ch,
                    u + 1);
            json_str(f, c->units[u].name);
            fprintf(f, "}}");
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        const sio_op *op = &c->ops[s->op[i]];
        fprintf(f, ",\n{\"ph\":\"X\",\"name\":");
        json_str(f, op->name);
        fprintf(f, ",\"cat\":");
        json_str(f, c->classes[op->cls]);
        pf_span(f, (double)s->start_cyc[i] * T, (double)(s->start_cyc[i] + s->cycles[i]) * T);
        fprintf(f, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"args\":{\"id\":", s->chip[i], s->unit[i] + 1);
        json_str(f, sio_schedule_id(s, i));
        fprintf(f, ",\"op\":");
        json_str(f, op->name);
        fprintf(f, ",\"activity\":%.6g}}", s->activity[i]);
    }
    pf_flows(f, s, T);
    pf_events(f, c, s, ev, n_ev);
    pda_result_free(res);
    /* rail currents and droops */
    walk *it = NULL;
    walk_opts wo = {.bin_ns = o->bin_ns, .tile_bins = o->tile_bins, .maps = CURRENT_CONST, .droop = 1};
    int wrc = walk_open(c, s, &wo, &it, err);
    if (wrc) return cmd_exit_for(wrc);
    size_t nb = walk_n_bins(it), tb = walk_tile_bins(it), group = nb > 200000 ? (nb + 199999) / 200000 : 1;
    double *acc = calloc(nq, sizeof *acc), *dmax = malloc(nq * sizeof *dmax), *last = malloc(2 * nq * sizeof *last);
    char **counter = calloc(2 * nr + 1, sizeof *counter);   /* "<rail> current_a", then "<rail> droop_mv" */
    int no_mem = !acc || !dmax || !last || !counter;
    for (size_t r = 0; !no_mem && r < 2 * nr; r++) {
        size_t n = strlen(c->rails[r % nr].name) + 12;
        if (!(counter[r] = malloc(n))) no_mem = 1;
        else snprintf(counter[r], n, "%s %s", c->rails[r % nr].name, r < nr ? "current_a" : "droop_mv");
    }
    if (no_mem) {
        for (size_t r = 0; counter && r < 2 * nr; r++) free(counter[r]);
        free(counter);
        free(acc); free(dmax); free(last); walk_close(it);
        sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
        return EXIT_IO;
    }
    for (size_t q = 0; q < 2 * nq; q++) last[q] = NAN;
    for (size_t q = 0; q < nq; q++) dmax[q] = -INFINITY;
    current_tile t;
    const double *droop;
    size_t in_group = 0, g0 = 0;
    int got;
    /* a group's current is its bins' mean, its droop their largest (a peak
    ** is never averaged away) */
    while ((got = walk_next(it, &t, &droop)) == 1) {
        size_t st = t.stride ? t.stride : 1, dst = t.stride ? tb : 1, step = t.stride ? 1 : 0;   /* a constant run: one value per rail */
        for (size_t k = 0; k < t.nb; k++) {
            if (in_group == 0) {
                g0 = t.b0 + k;
                if (!t.stride && t.nb - k > group) {
                    /* whole groups of the run: each averages the same sum (as
                    ** the bins would add it), so only the first can change */
                    for (size_t q = 0; q < nq; q++) {
                        double sum = 0;
                        for (size_t j = 0; j < group; j++) sum += t.rail_a[q];
                        pf_counter(f, counter[q % nr], "current_a", q / nr, g0, o->bin_ns, sum / (double)group, &last[q]);
                        pf_counter(f, counter[nr + q % nr], "droop_mv", q / nr, g0, o->bin_ns, droop[q] * 1e3, &last[nq + q]);
                    }
                    k += (t.nb - k - 1) / group * group - 1;   /* a bin of the run is left for what follows */
                    continue;
                }
            }
            for (size_t q = 0; q < nq; q++) {
                acc[q] += t.rail_a[q * st + k * step];
                double d = droop[q * dst + k * step] * 1e3;
                if (d > dmax[q]) dmax[q] = d;
            }
            if (++in_group < group && t.b0 + k + 1 < nb) continue;
            for (size_t q = 0; q < nq; q++) {
                pf_counter(f, counter[q % nr], "current_a", q / nr, g0, o->bin_ns, acc[q] / (double)in_group, &last[q]);
                pf_counter(f, counter[nr + q % nr], "droop_mv", q / nr, g0, o->bin_ns, dmax[q], &last[nq + q]);
                acc[q] = 0;
                dmax[q] = -INFINITY;
            }
            in_group = 0;
        }
    }
    if (got < 0) {
        for (size_t r = 0; r < 2 * nr; r++) free(counter[r]);
        free(counter);
        free(acc); free(dmax); free(last); walk_close(it);
        sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
        return EXIT_IO;
    }
    /* the end of the timeline */
    for (size_t q = 0; q < 2 * nq; q++) {
        fprintf(f, ",\n{\"ph\":\"C\",\"name\":");
        json_str(f, counter[q < nq ? q % nr : nr + (q - nq) % nr]);
        fprintf(f, ",\"pid\":%zu,\"ts\":%.6f,\"args\":{\"%s\":0}}", (q % nq) / nr, (double)nb * o->bin_ns * 1e-3,
                q < nq ? "current_a" : "droop_mv");
    }
    for (size_t r = 0; r < 2 * nr; r++) free(counter[r]);
    free(counter);
    fprintf(f, "\n]}\n");
    free(acc); free(dmax); free(last);
    walk_close(it);
    return EXIT_OK;
}

int cmd_export(const cmd_opts *o)
{
    static const char *const FORMATS[] = {"hotspot", "vcd", "perfetto"};
    size_t fmt = 0;
    while (o->format && fmt < 3 && strcmp(o->format, FORMATS[fmt]) != 0) fmt++;
    if (!o->format || fmt == 3) {
        fprintf(stderr, "analyzer: export needs --format vcd, perfetto or hotspot%s%s%s\n", o->format ? " (not '" : "",
                o->format ? o->format : "", o->format ? "')" : "");
        return EXIT_INPUT;
    }
    if (!o->out) {
        fprintf(stderr, "analyzer: export needs -o %s\n", fmt == 0 ? "DIR" : "FILE");
        return EXIT_INPUT;
    }
    if (fmt == 0 && !strcmp(o->out, "-")) {
        fprintf(stderr, "analyzer: export --format hotspot writes a folder of files: -o - (stdout) takes one file\n");
        return EXIT_INPUT;
    }
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    sio_error err;
    err.text[0] = 0;
    const char **in = malloc((2 + c->n_rails) * sizeof *in);
    if (!in) {
        fprintf(stderr, "analyzer: out of memory\n");
        sio_schedule_free(s);
        sio_chip_free(c);
        return EXIT_IO;
    }
    outset ro = {.inputs = in, .n_inputs = cmd_inputs(o, c, in)};
    char *made = NULL;   /* hotspot: the folders made here, which go again on failure (after the staged files) */
    if ((rc = names_fit(c, fmt, o->unit_maps, &err))) {
        /* a name the format cannot carry: nothing is written */
    } else if (fmt == 0) {
        made = outset_missing_top(o->out);
        if ((rc = outset_mkdirs(o->out, &err))) {
            rc = cmd_exit_for(rc);
        } else {
            ro.dir = o->out;
            rc = export_hotspot(o, c, s, &ro, &err);
        }
    } else {
        sio_out *so = NULL;
        if (cmd_is_input(o, c, o->out)) {
            sio_error_set(&err, o->out, 0, 0, "refusing to overwrite an input");
            rc = EXIT_INPUT;
        } else if ((rc = sio_out_open(o->out, &so, &err))) {
            rc = cmd_exit_for(rc);   /* a link, a folder or a device is usage (2), the rest I/O (4) */
        } else {
            FILE *f = sio_out_file(so);
            rc = fmt == 1 ? export_vcd(o, c, s, f, &err) : export_perfetto(o, c, s, f, &err);
            if (!rc && (fflush(f) || ferror(f))) {
                sio_error_set(&err, o->out, 0, 0, "write error: %s", strerror(errno));
                rc = EXIT_IO;
            }
            if (rc) sio_out_abort(so);
            else if (sio_out_commit(so, &err)) rc = EXIT_IO;
        }
    }
    if (outset_finish(&ro, rc == EXIT_OK, &err) && rc == EXIT_OK) rc = EXIT_IO;
    if (rc && fmt == 0) outset_remove_made(o->out, made);
    outset_made_free(o->out, made);
    free(in);
    if (rc && err.text[0]) fprintf(stderr, "%s\n", err.text);
    if (!rc && !o->quiet && !o->json) fprintf(strcmp(o->out, "-") ? stdout : stderr, "%s: %s written\n", o->format, o->out);
    sio_schedule_free(s);
    sio_chip_free(c);
    return rc;
}

/* ---- import ----------------------------------------------------------------- */

static double mm9(double v) { return round(v * 1e9) / 1e9; }

int cmd_import(const cmd_opts *o)
{
    if (!o->format || strcmp(o->format, "hotspot") != 0) {
        fprintf(stderr, "analyzer: import needs --format hotspot%s%s%s\n", o->format ? " (not '" : "",
                o->format ? o->format : "", o->format ? "')" : "");
        return EXIT_INPUT;
    }
    sio_error err;
    err.text[0] = 0;
    thermal_flp *flp;
    int rc = thermal_flp_load(o->chip_path, &flp, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.text);
        return cmd_exit_for(rc);
    }
    json_t *units = json_array();
    for (size_t k = 0; k < flp->n; k++) {
        const thermal_flp_block *b = &flp->blocks[k];
        char cls[128];
        if (o->imp_class) snprintf(cls, sizeof cls, "%s", o->imp_class);
        else {
            size_t n = strcspn(b->name, "._-");
            if (n == 0 || n >= sizeof cls) snprintf(cls, sizeof cls, "unit");
            else { memcpy(cls, b->name, n); cls[n] = 0; }
        }
        json_t *u = json_object(), *r = json_array();
        for (int q = 0; q < 4; q++) json_array_append_new(r, json_real(mm9(b->rect_mm[q])));
        json_object_set_new(u, "name", json_string(b->name));
        json_object_set_new(u, "class", json_string(cls));
        json_object_set_new(u, "die", json_integer(o->imp_die));
        json_object_set_new(u, "rail", json_string(o->imp_rail ? o->imp_rail : "core"));
        json_object_set_new(u, "rect_mm", r);
        json_array_append_new(units, u);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "units", units);
    rc = EXIT_OK;
    if (o->out) {
        sio_out *so;
        if (cmd_is_input(o, NULL, o->out)) {
            fprintf(stderr, "%s: refusing to overwrite the input\n", o->out);
            rc = EXIT_INPUT;
        } else if ((rc = sio_out_open(o->out, &so, &err))) {
            fprintf(stderr, "%s\n", err.text);
            rc = cmd_exit_for(rc);
        } else {
            json_dumpf(doc, sio_out_file(so), JSON_INDENT(2) | JSON_REAL_PRECISION(12));
            fputc('\n', sio_out_file(so));
            if (sio_out_commit(so, &err)) { fprintf(stderr, "%s\n", err.text); rc = EXIT_IO; }
        }
    } else {
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        fputc('\n', stdout);
    }
    json_decref(doc);
    thermal_flp_free(flp);
    return rc;
}
