/* pipeline_merge.c -- a system's run made of the runs of its shares
** (pda_result_pack, pda_result_merge): `analyzer run` under mpirun runs
** each process's share of the chips (sio_load_opts.chip_step) and merges the
** shares' figures in one process, which writes the files.
**
** Every figure but the system's power is a chip's own (its rails'
** statistics, margin rows, spectra, report outline and events), so a share
** computes those of its chips as the whole run would, and the merge puts
** them at their chips' places. The system's power is summed across the
** shares during the walk (pda_run_opts.power_combine) and given to the
** merge. The schedule's counts add up. The kept events are the events_cap
** most severe of each kind over every share (each share kept its own most
** severe, so none of the system's is missing); their instructions travel as
** ids with their ops and lines, and the merged result's schedule holds
** only those.
**
** A pack is raw structs and doubles: the same build writes and reads it.
** Its size: ~130 kB a chip and rail (the spectrum's sums, the report's
** columns), plus the events. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuild.h"
#include "pipeline_int.h"
#include "walk.h"

#define PACK_MAGIC 0x7064612d73686172ull   /* "pda-shar" */

typedef struct pack_head {
    uint64_t magic;
    uint64_t nch, nr, nu, ncl, chip_lo, chip_step, n_chips_file, nbins, n_events, tb;
    int64_t mk_cyc;
    uint64_t ops, deps[3];
    uint64_t thermal;          /* 1: the thermal run follows the report */
    /* the options the share's figures depend on, which the merge's must equal */
    double bin_ns, window_ns, safety_mv;
    uint64_t events_cap;
    uint64_t tail_bins;
} pack_head;

/* The share's chips' power breakdowns (pda_bd_chip) in chip order. */
static int bd_pack(const pda_result *r, FILE *f)
{
    char **nm;
    size_t *grp, ng;
    double dt;
    const size_t nt = pda_bd_frames(r, &dt);
    size_t *off;
    uint32_t *ops;
    if (pda_chip_ops(r->s, r->nch, &off, &ops)) return -1;
    if (pda_bd_groups(r->c, &nm, &grp, &ng)) { free(off); free(ops); return -1; }
    const size_t n = (r->c->n_classes + ng) * nt;
    double *x = malloc((n + 1) * sizeof *x);
    int bad = !x;
    for (size_t ch = 0; !bad && ch < r->nch; ch++)
        bad = pda_bd_chip(r, ch, ops + off[ch], off[ch + 1] - off[ch], grp, ng, x) || fwrite(x, sizeof *x, n, f) != n;
    free(x);
    free(off);
    free(ops);
    for (size_t g = 0; g < ng; g++) free(nm[g]);
    free(nm);
    free(grp);
    return bad ? -1 : 0;
}

int pda_result_pack(const pda_result *r, void **buf, size_t *len, sio_error *err)
{
    *buf = NULL;
    *len = 0;
    const sio_chip *c = r->c;
    const sio_schedule *s = r->s;
    if (!r->rep != !r->o.report || (r->th && !r->o.frames_combine)) {
        sio_error_set(err, NULL, 0, 0, "pda_result_pack: a share's run plans its thermal frames with the others' "
                                       "(frames_combine)");
        return PDA_EINPUT;
    }
    pda_sched_counts k;
    if (pda_sched_counts_of(c, s, &k)) goto oom;
    size_t ne;
    const events_event *el = events_list(r->ev, &ne);
    pack_head h = {PACK_MAGIC, r->nch, r->nr, c->n_units, c->n_classes, s->chip_step ? s->chip_lo : 0,
                   s->chip_step ? s->chip_step : 1, s->chip_step ? s->n_chips_file : s->n_chips, r->nbins, ne,
                   pda_result_tile_bins(r), r->mk_cyc, k.ops, {k.deps[0], k.deps[1], k.deps[2]}, r->th != NULL,
                   r->o.bin_ns, r->o.window_ns, r->o.safety_mv, r->o.events_cap, r->tail_bins};
    char *mem = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&mem, &n);
    if (!f) { pda_sched_counts_free(&k); goto oom; }
    fwrite(&h, sizeof h, 1, f);
    fwrite(k.used, 1, c->n_units, f);
    fwrite(k.busy, sizeof *k.busy, c->n_classes, f);
    for (size_t q = 0; q < c->n_classes; q++) {
        uint64_t v = k.ops_of[q];
        fwrite(&v, sizeof v, 1, f);
    }
    pda_sched_counts_free(&k);
    int bad = 0;
    for (size_t ch = 0; ch < r->nch; ch++)
        for (size_t rl = 0; rl < r->nr; rl++) {
            size_t q = ch * r->nr + rl;
            fwrite(events_stats(r->ev, ch, rl), sizeof(events_rail_stats), 1, f);
            fwrite(&r->mr[q], sizeof *r->mr, 1, f);
            bad |= margin_spectrum_pack(r->sp, ch, rl, f);
        }
    /* each chip's idle power, its peak window under a cap, its power
    ** breakdown; the report; the thermal run */
    fwrite(r->chip_idle_w, sizeof(double), r->nch, f);
    if (r->chip_peak_window_w) fwrite(r->chip_peak_window_w, sizeof(double), r->nch, f);
    if (r->rep && (bad |= bd_pack(r, f))) goto oom_f;
    if (r->rep) bad |= report_pack(r->rep, f);
    if (r->th) bad |= pda_thermal_pack(r, f, (size_t)h.chip_lo, (size_t)h.chip_step);
    /* the events, then each one's instructions as ids */
    fwrite(el, sizeof *el, ne, f);
    for (size_t e = 0; e < ne; e++)
        for (size_t u = 0; u < el[e].n_causes; u++)
            for (size_t j = 0; j < el[e].causes[u].n_ops; j++) {
                uint32_t i = el[e].causes[u].ops[j];
                const char *id = sio_schedule_id(s, i);
                uint32_t l = (uint32_t)strlen(id), at[2] = {s->op[i], s->line[i]};
                fwrite(&l, sizeof l, 1, f);
                fwrite(id, 1, l, f);
                fwrite(at, sizeof *at, 2, f);
            }
    bad |= ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(mem);
        goto oom;
    }
    *buf = mem;
    *len = n;
    return PDA_OK;
oom_f:
    fclose(f);
    free(mem);
    goto oom;
oom:
    sio_error_set(err, NULL, 0, 0, "out of memory");
    return PDA_ENOMEM;
}

/* The kept events of one kind: the cap most severe (the highest peak; ties
** by chip, rail and start, so the choice is the same whatever the order of
** the packs). */
static int by_severity(const void *a, const void *b)
{
    const events_event *x = a, *y = b;
    if (x->kind != y->kind) return x->kind - y->kind;
    if (x->peak != y->peak) return x->peak > y->peak ? -1 : 1;
    if (x->chip != y->chip) return x->chip < y->chip ? -1 : 1;
    if (x->rail != y->rail) return x->rail < y->rail ? -1 : 1;
    return (x->t_start_ns > y->t_start_ns) - (x->t_start_ns < y->t_start_ns);
}

/* What the merge gathers as it reads the packs. */
typedef struct merge {
    events_rail_stats *st;     /* [chip][rail] */
    events_event *ev;
    size_t n_ev, cap_ev;
    char *pool;                /* the events' instructions' ids, NUL-terminated */
    size_t pool_len, pool_cap;
    uint32_t *id_off;
    size_t n_ids, cap_ids;
    uint32_t *at;              /* [id][2]: each instruction's op and line in the file */
    size_t cap_at;
    pda_sched_counts k;
    unsigned char *seen;       /* [chip]: its pack was read */
    size_t *part, *local;      /* [chip]: the pack that has it, and its index there */
    size_t *part_nch;          /* [pack]: its chips */
    size_t n_part;             /* the pack being read */
    size_t bd_per;             /* a chip's breakdown: its doubles */
} merge;

static int grow(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < want) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* One pack into r and m. PDA_EINPUT when it does not fit the others. */
static int read_pack(pda_result *r, merge *m, FILE *f, sio_error *err)
{
    const sio_chip *c = r->c;
    pack_head h;
    if (fread(&h, sizeof h, 1, f) != 1 || h.magic != PACK_MAGIC || h.nr != r->nr || h.nu != c->n_units ||
        h.ncl != c->n_classes || h.n_chips_file != r->nch || h.nbins != r->nbins || h.mk_cyc != r->mk_cyc ||
        !h.chip_step || h.tb != r->tb || h.bin_ns != r->o.bin_ns || h.window_ns != r->o.window_ns ||
        h.safety_mv != r->o.safety_mv || h.events_cap != r->o.events_cap || h.tail_bins != r->tail_bins)
        goto bad;
    m->part_nch[m->n_part] = (size_t)h.nch;
    unsigned char *used = malloc(c->n_units + 1);
    double *busy = malloc((c->n_classes + 1) * sizeof *busy);
    int rc = used && busy ? PDA_OK : PDA_ENOMEM;
    if (!rc && (fread(used, 1, c->n_units, f) != c->n_units ||
                fread(busy, sizeof *busy, c->n_classes, f) != c->n_classes))
        rc = PDA_EINPUT;
    for (size_t q = 0; !rc && q < c->n_units; q++) m->k.used[q] |= used[q];
    for (size_t q = 0; !rc && q < c->n_classes; q++) {
        uint64_t v;
        if (fread(&v, sizeof v, 1, f) != 1) rc = PDA_EINPUT;
        m->k.busy[q] += busy[q];
        m->k.ops_of[q] += (size_t)v;
    }
    free(used);
    free(busy);
    if (rc == PDA_ENOMEM) goto oom;
    if (rc) goto bad;
    m->k.ops += (size_t)h.ops;
    for (int d = 0; d < 3; d++) m->k.deps[d] += (size_t)h.deps[d];
    for (size_t ch = 0; ch < h.nch; ch++) {
        size_t g = (size_t)(h.chip_lo + ch * h.chip_step);
        if (g >= r->nch || m->seen[g]) goto bad;
        m->seen[g] = 1;
        m->part[g] = m->n_part;
        m->local[g] = ch;
        for (size_t rl = 0; rl < r->nr; rl++) {
            size_t q = g * r->nr + rl;
            if (fread(&m->st[q], sizeof *m->st, 1, f) != 1 || fread(&r->mr[q], sizeof *r->mr, 1, f) != 1 ||
                margin_spectrum_unpack(r->sp, g, rl, f))
                goto bad;
            r->mr[q].chip = g;
        }
    }
    for (size_t ch = 0; ch < h.nch; ch++)
        if (fread(&r->chip_idle_w[h.chip_lo + ch * h.chip_step], sizeof(double), 1, f) != 1) goto bad;
    for (size_t ch = 0; r->chip_peak_window_w && ch < h.nch; ch++)
        if (fread(&r->chip_peak_window_w[h.chip_lo + ch * h.chip_step], sizeof(double), 1, f) != 1) goto bad;
    /* the report's part (o->report: every share made its report) */
    for (size_t ch = 0; r->rep && ch < h.nch; ch++)
        if (fread(r->bd_chip + (h.chip_lo + ch * h.chip_step) * m->bd_per, sizeof(double), m->bd_per, f) != m->bd_per)
            goto bad;
    if (r->rep && report_unpack(r->rep, f, (size_t)h.nch, (size_t)h.chip_lo, (size_t)h.chip_step)) goto bad;
    if (h.thermal != (uint64_t)(r->o.thermal && r->c->thermal.present)) goto bad;
    if (h.thermal && pda_thermal_unpack(r, f, (size_t)h.nch, (size_t)h.chip_lo, (size_t)h.chip_step)) goto bad;
    if (grow((void **)&m->ev, &m->cap_ev, m->n_ev + h.n_events, sizeof *m->ev)) goto oom;
    events_event *el = m->ev + m->n_ev;
    if (fread(el, sizeof *el, h.n_events, f) != h.n_events) goto bad;
    m->n_ev += h.n_events;
    for (size_t e = 0; e < h.n_events; e++) {
        el[e].chip = (size_t)(h.chip_lo + el[e].chip * h.chip_step);
        for (size_t u = 0; u < el[e].n_causes && u < EVENTS_MAX_CAUSES; u++)
            for (size_t j = 0; j < el[e].causes[u].n_ops && j < EVENTS_MAX_IDS; j++) {
                uint32_t l;
                if (fread(&l, sizeof l, 1, f) != 1 || l > (1u << 24)) goto bad;   /* an id is at most a field */
                if (grow((void **)&m->pool, &m->pool_cap, m->pool_len + l + 1, 1) ||
                    grow((void **)&m->id_off, &m->cap_ids, m->n_ids + 1, sizeof *m->id_off))
                    goto oom;
                if (grow((void **)&m->at, &m->cap_at, 2 * (m->n_ids + 1), sizeof *m->at)) goto oom;
                if (fread(m->pool + m->pool_len, 1, l, f) != l || fread(m->at + 2 * m->n_ids, sizeof *m->at, 2, f) != 2 ||
                    m->at[2 * m->n_ids] >= c->n_ops)
                    goto bad;
                m->pool[m->pool_len + l] = 0;
                m->id_off[m->n_ids] = (uint32_t)m->pool_len;
                m->pool_len += l + 1;
                el[e].causes[u].ops[j] = (uint32_t)m->n_ids++;
            }
    }
    return PDA_OK;
bad:
    sio_error_set(err, NULL, 0, 0, "pda_result_merge: a share's figures do not fit the others (another build, "
                                   "chip, schedule or run options?)");
    return PDA_EINPUT;
oom:
    sio_error_set(err, NULL, 0, 0, "out of memory");
    return PDA_ENOMEM;
}

/* The events_cap most severe of each kind, in m->ev[0 .. *n). */
static void keep_most_severe(merge *m, size_t cap, size_t *n)
{
    if (m->n_ev > 1) qsort(m->ev, m->n_ev, sizeof *m->ev, by_severity);   /* none: m->ev may be NULL */
    size_t out = 0, of_kind = 0;
    for (size_t e = 0; e < m->n_ev; e++) {
        of_kind = e && m->ev[e].kind == m->ev[e - 1].kind ? of_kind + 1 : 0;
        if (of_kind < cap) m->ev[out++] = m->ev[e];
    }
    *n = out;
}

int pda_result_rails_tile(const pda_result *r, size_t b0, double *buf, sio_error *err)
{
    const size_t tb = pda_result_tile_bins(r), nq = r->nch * r->nr;
    if (!r->rails || b0 >= r->nbins || b0 % tb) {
        sio_error_set(err, NULL, 0, 0, "pda_result_rails_tile: no kept rails, or no tile at bin %zu", b0);
        return PDA_EINPUT;
    }
    size_t nb = r->nbins - b0 < tb ? r->nbins - b0 : tb;
    /* the tiles before it are whole: nq rows of tb currents and tb droops */
    if (pda_spool_read(r->rails, (off_t)(b0 * nq * 2 * sizeof(double)), buf, nq * nb * 2 * sizeof *buf)) {
        sio_error_set(err, NULL, 0, 0, "cannot read the kept waveforms back: %s", strerror(errno));
        return PDA_EIO;
    }
    return PDA_OK;
}

int pda_result_units_chunk(const pda_result *r, size_t chip, size_t off, size_t n, float *buf, sio_error *err)
{
    const size_t per = r->c->n_units * r->nbins;   /* a chip's floats */
    if (!r->units || chip >= r->nch || off > per || n > per - off) {
        sio_error_set(err, NULL, 0, 0, "pda_result_units_chunk: no unit maps, or no chip %zu floats %zu+%zu", chip, off, n);
        return PDA_EINPUT;
    }
    if (pda_spool_read(r->units, (off_t)((chip * per + off) * sizeof(float)), buf, n * sizeof *buf)) {
        sio_error_set(err, NULL, 0, 0, "cannot read the unit maps back: %s", strerror(errno));
        return PDA_EIO;
    }
    return PDA_OK;
}

/* The system's unit maps spool, chip by chip in the system's order, each
** from its share through units_chunk, a chunk at a time. */
static int merge_units(pda_result *r, const merge *m, pda_units_chunk_fn units_chunk, void *arg, sio_error *err)
{
    const size_t per = r->c->n_units * r->nbins, chunk = PDA_UNITS_CHUNK;
    if (!(r->units = pda_spool_open(r->o.spool_dir, err))) return PDA_EIO;
    float *buf = malloc(chunk * sizeof *buf);
    if (!buf) {
        sio_error_set(err, NULL, 0, 0, "out of memory");
        return PDA_ENOMEM;
    }
    int rc = PDA_OK;
    for (size_t g = 0; g < r->nch && !rc; g++)
        for (size_t off = 0; off < per && !rc; off += chunk) {
            size_t n = per - off < chunk ? per - off : chunk;
            if (units_chunk(arg, m->part[g], m->local[g], off, n, buf)) {
                sio_error_set(err, NULL, 0, 0, "the unit maps of chip %zu could not be read", g);
                rc = PDA_EIO;
            } else if (fwrite(buf, sizeof *buf, n, r->units) != n) {
                rc = PDA_EIO;
            }
        }
    if (!rc && fflush(r->units) != 0) rc = PDA_EIO;   /* whole on disk: read back by pda_spool_read */
    if (rc == PDA_EIO && !err->text[0])
        sio_error_set(err, r->o.spool_dir ? r->o.spool_dir : "the temporary folder", 0, 0,
                      "cannot write the unit maps: %s", strerror(errno));
    free(buf);
    return rc;
}

/* The system's rails spool, tile by tile: every share's tile through
** rails_tile, its rows put at their chips' places. */
static int merge_rails(pda_result *r, const merge *m, size_t n, pda_rails_tile_fn rails_tile, void *arg,
                       sio_error *err)
{
    const size_t tb = r->tb, nr = r->nr, nq = r->nch * nr;
    if (!(r->rails = pda_spool_open(r->o.spool_dir, err))) return PDA_EIO;
    size_t *at = malloc((n + 1) * sizeof *at);   /* [part]: where its tile starts in buf */
    double *buf = malloc((nq * tb * 2 + 1) * sizeof *buf);
    if (!at || !buf) {
        free(at);
        free(buf);
        sio_error_set(err, NULL, 0, 0, "out of memory");
        return PDA_ENOMEM;
    }
    int rc = PDA_OK;
    for (size_t b0 = 0; b0 < r->nbins && !rc; b0 += tb) {
        size_t nb = r->nbins - b0 < tb ? r->nbins - b0 : tb, off = 0;
        for (size_t p = 0; p < n && !rc; p++) {
            at[p] = off;
            if (rails_tile(arg, p, b0, buf + off)) {
                sio_error_set(err, NULL, 0, 0, "the rails of share %zu could not be read", p);
                rc = PDA_EIO;
            }
            off += m->part_nch[p] * nr * nb * 2;
        }
        for (size_t g = 0; g < r->nch && !rc; g++) {
            const double *row = buf + at[m->part[g]] + m->local[g] * nr * nb * 2;
            if (fwrite(row, sizeof *row, nr * nb * 2, r->rails) != nr * nb * 2) rc = PDA_EIO;
        }
    }
    if (!rc && fflush(r->rails) != 0) rc = PDA_EIO;   /* whole on disk: read back by pda_spool_read */
    if (rc == PDA_EIO && !err->text[0])
        sio_error_set(err, r->o.spool_dir ? r->o.spool_dir : "the temporary folder", 0, 0,
                      "cannot write the kept waveforms: %s", strerror(errno));
    free(at);
    free(buf);
    return rc;
}

/* The merged result's schedule: its path, counts and the events' ids. */
static sio_schedule *stub_schedule(const char *path, merge *m)
{
    sio_schedule *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->path = strdup(path);
    s->n = m->k.ops;
    s->n_chips = m->k.chips;
    s->n_deps = m->k.deps[0] + m->k.deps[1] + m->k.deps[2];
    s->id_pool = m->pool;
    s->id_off = m->id_off;
    m->pool = NULL;
    m->id_off = NULL;
    s->op = malloc((m->n_ids + 1) * sizeof *s->op);
    s->line = malloc((m->n_ids + 1) * sizeof *s->line);
    if (!s->op || !s->line) {
        sio_schedule_free(s);
        return NULL;
    }
    for (size_t i = 0; i < m->n_ids; i++) {
        s->op[i] = m->at[2 * i];
        s->line[i] = m->at[2 * i + 1];
    }
    s->col_id = s->col_unit = s->col_op = s->col_start = s->col_cycles = -1;
    s->col_chip = s->col_activity = s->col_deps = -1;
    if (!s->path || (!s->id_pool && !(s->id_pool = calloc(1, 1)))) {
        sio_schedule_free(s);
        return NULL;
    }
    return s;
}

int pda_result_merge(const sio_chip *c, const char *schedule_path, const pda_run_opts *o,
                     const struct pda_power *power, double power_sum_w_ns, void *const *packs,
                     const size_t *lens, size_t n,
                     pda_rails_tile_fn rails_tile, void *rails_arg, pda_units_chunk_fn units_chunk,
                     void *units_arg, pda_result **out, sio_error *err)
{
    *out = NULL;
    err->text[0] = 0;
    pack_head h0;
    if (!n || lens[0] < sizeof h0) goto bad;
    memcpy(&h0, packs[0], sizeof h0);
    if (h0.magic != PACK_MAGIC || !h0.n_chips_file) goto bad;
    merge m = {0};
    pda_result *r = calloc(1, sizeof *r);
    if (!r) goto oom;
    r->c = c;
    r->o = *o;
    r->nch = (size_t)h0.n_chips_file;
    r->nr = c->n_rails;
    r->nbins = (size_t)h0.nbins;
    r->tail_bins = (size_t)h0.tail_bins;
    r->mk_cyc = h0.mk_cyc;
    r->tb = (size_t)h0.tb;
    r->power = *power;
    r->skip = 1;
    int rc = PDA_ENOMEM;
    size_t nq = r->nch * r->nr;
    m.k.chips = r->nch;
    m.k.busy = calloc(c->n_classes + 1, sizeof *m.k.busy);
    m.k.ops_of = calloc(c->n_classes + 1, sizeof *m.k.ops_of);
    m.k.used = calloc(c->n_units + 1, 1);
    m.st = calloc(nq + 1, sizeof *m.st);
    m.seen = calloc(r->nch + 1, 1);
    m.part = calloc(r->nch + 1, sizeof *m.part);
    m.local = calloc(r->nch + 1, sizeof *m.local);
    m.part_nch = calloc(n + 1, sizeof *m.part_nch);
    r->mr = calloc(nq + 1, sizeof *r->mr);
    if (!m.k.busy || !m.k.ops_of || !m.k.used || !m.st || !m.seen || !m.part || !m.local || !m.part_nch || !r->mr ||
        events_create(c, r->nch, o->bin_ns, o->events_cap, NULL, NULL, &r->ev) ||
        margin_spectrum_create(r->nch, r->nr, o->bin_ns, &r->sp))
        goto end;
    /* the report as the shares made theirs, and the breakdowns' places */
    if (o->report) {
        double *idle = malloc((r->nr + 1) * sizeof *idle);
        if (!idle) goto end;
        walk_rail_idle(c, idle);
        int rep_bad = pda_report_open(r, idle);
        free(idle);
        if (rep_bad) goto end;
        char **bd_names;
        size_t *bd_grp, bd_ng;
        double bd_dt;
        size_t bd_nt = pda_bd_frames(r, &bd_dt);
        if (pda_bd_groups(c, &bd_names, &bd_grp, &bd_ng)) goto end;
        for (size_t g = 0; g < bd_ng; g++) free(bd_names[g]);
        free(bd_names);
        free(bd_grp);
        m.bd_per = (c->n_classes + bd_ng) * bd_nt;
        if (!(r->bd_chip = calloc(r->nch * m.bd_per + 1, sizeof *r->bd_chip))) goto end;
    }
    if (o->power_cap_w > 0 && !(r->chip_peak_window_w = calloc(r->nch + 1, sizeof(double)))) goto end;
    if (!(r->chip_idle_w = calloc(r->nch + 1, sizeof *r->chip_idle_w))) goto end;
    for (size_t p = 0; p < n; p++) {
        FILE *f = fmemopen(packs[p], lens[p], "rb");
        if (!f) { rc = PDA_ENOMEM; goto end; }
        m.n_part = p;
        rc = read_pack(r, &m, f, err);
        fclose(f);
        if (rc) goto end;
    }
    for (size_t g = 0; g < r->nch; g++)
        if (!m.seen[g]) {
            sio_error_set(err, NULL, 0, 0, "pda_result_merge: no share has chip %zu", g);
            rc = PDA_EINPUT;
            goto end;
        }
    if ((o->keep_rails && !rails_tile) || (o->unit_maps && !units_chunk)) {
        sio_error_set(err, NULL, 0, 0, "pda_result_merge: %s",
                      o->keep_rails && !rails_tile ? "keep_rails needs rails_tile" : "unit_maps needs units_chunk");
        rc = PDA_EINPUT;
        goto end;
    }
    if (o->keep_rails && (rc = merge_rails(r, &m, n, rails_tile, rails_arg, err))) goto end;
    if (o->unit_maps && (rc = merge_units(r, &m, units_chunk, units_arg, err))) goto end;
    rc = PDA_ENOMEM;
    size_t kept;
    keep_most_severe(&m, o->events_cap, &kept);
    if (events_import(r->ev, m.st, m.ev, kept)) goto end;
    if (!(r->s = r->own_s = stub_schedule(schedule_path, &m))) goto end;
    if (pda_thermal_unpack_end(r)) { rc = PDA_EINPUT; sio_error_set(err, NULL, 0, 0, "pda_result_merge: the "
                                     "shares' thermal runs do not fit together"); goto end; }
    /* the energy up to the makespan: the whole timeline's, less every
    ** chip's idle power past it (in chip order, as pda_run adds them) */
    double idle_w = 0.0, mk_ns = (double)r->mk_cyc / c->clock_ghz, tail_ns = (double)r->nbins * o->bin_ns - mk_ns;
    for (size_t g = 0; g < r->nch; g++) idle_w += r->chip_idle_w[g];
    r->power_sum_w_ns = power_sum_w_ns;
    r->power.energy_j = (power_sum_w_ns - (tail_ns > 0 ? idle_w * tail_ns : 0.0)) * 1e-9;
    r->power.avg_w = mk_ns > 0 ? r->power.energy_j / (mk_ns * 1e-9) : 0.0;
    /* the summary, as pda_run makes it */
    int bad = 0;
    r->summary = json_object();
    jset(r->summary, "chip", json_string(c->name), &bad);
    jset(r->summary, "schedule", pda_schedule_json_of(c, &m.k, r->mk_cyc), &bad);
    jset(r->summary, "power", pda_power_json(r), &bad);
    jset(r->summary, "rails", pda_rails_json(r), &bad);
    jset(r->summary, "events_kept", json_integer((json_int_t)kept), &bad);
    if (r->th) jset(r->summary, "thermal", pda_thermal_json(r), &bad);
    if (bad || !r->summary ||
        !(r->summary_text = jdump(r->summary, JSON_INDENT(2) | JSON_REAL_PRECISION(10))))
        goto end;
    rc = PDA_OK;
end:   /* rc, with err set unless it is out of memory */
    if (rc == PDA_ENOMEM) sio_error_set(err, NULL, 0, 0, "out of memory");
    if (rc) {
        pda_result_free(r);
        r = NULL;
    }
    pda_sched_counts_free(&m.k);
    free(m.st);
    free(m.ev);
    free(m.pool);
    free(m.id_off);
    free(m.at);
    free(m.seen);
    free(m.part);
    free(m.local);
    free(m.part_nch);
    *out = r;
    return rc;
bad:
    sio_error_set(err, NULL, 0, 0, "pda_result_merge: not a share's figures");
    return PDA_EINPUT;
oom:
    sio_error_set(err, NULL, 0, 0, "out of memory");
    return PDA_ENOMEM;
}
