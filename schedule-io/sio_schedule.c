/* sio_schedule.c -- streaming CSV schedule reader, validator and writer.
**
** The file is read in fixed 1 MiB buffers and handed to libcsv one line at a
** time, so the line of every record is known without reading the file whole.
** Columns are found by name in the header; each field is parsed as it comes
** (in libcsv's field callback) into flat arrays, one entry per instruction in
** file order. Ids are interned into one pool; deps are parsed into (name,
** kind, lag) and resolved at once when they name one of the recent rows
** (the usual case), else once the whole file is in. Then every id is checked
** to be unique per chip (check_ids, a bucketed pass that stays in cache),
** the deps for cycles, and the schedule against its own rules. Ids that are
** whole numbers rising down the file, as compilers number instructions, are
** unique without that pass (ids_rising).
**
** A schedule in memory (sio_schedule_from_buffer) takes the same path: its
** text, copied into the schedule, is handed to the same reader in the same
** 1 MiB pieces as a file's (read_piece), so the rules, the lines and the
** messages are the file's.
**
** A big file is read in two halves at once on two threads (load_split); the
** result and any error are those of the one-thread read, to which it falls
** back whenever the halves do not meet cleanly.
**
** Positions: libcsv reports fields, not byte offsets. The line of a record is
** tracked as it is read; the column of a field is found only on the error
** path, by reading that record again (from the file, or from the copy of a
** buffer's text) and feeding it to libcsv byte by byte (field_span). The
** writer uses the same spans to replace the `start` field of a record and
** copies every other byte as it came in. Lines are counted in 64 bits, so
** errors met while reading are exact however long the file; each
** instruction keeps its line in 32 bits, from 2^32 - 1 on as "that line or
** later" (row_line), and errors found later there say so.
**
** Reading again: what is not a regular file (a pipe, a FIFO, a character
** device) cannot be, so its bytes are kept as they are read (kept) and
** become the schedule's text. A regular file is identified when it is
** opened (file_id: device, inode, size, modification time); while it is
** being read its own descriptor serves the error path, and every later
** read opens it again only if it still matches (reread_open).
**
** Sizes: ~50 bytes per instruction plus its id and ~13 a dep (32-bit
** offsets: fewer than 2^32 - 1 instructions and deps, 2^32 - 1 bytes of
** ids); 10^7 instructions fit in under a gigabyte. */
#define _DEFAULT_SOURCE 1   /* pread(), madvise() */
#include "sio.h"
#include "sio_int.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define MAX_CHIPS 65536u
#define MAX_FIELD ((size_t)16 << 20)   /* the highest max_field_bytes */
#define RECORD_READ_MAX ((size_t)64 << 20)   /* of a record read again for an error's column */

void sio_load_opts_default(sio_load_opts *o)
{
    memset(o, 0, sizeof *o);   /* chip_lo, chip_step: every chip */
    o->split_min_bytes = (size_t)48 << 20;
    o->max_id_bytes = UINT32_MAX;
    o->max_deps = UINT32_MAX - 1;
    o->verify_two_min = (size_t)1 << 20;
    o->max_field_bytes = (size_t)64 << 10;
    o->max_record_bytes = (size_t)1 << 20;
    o->max_header_bytes = (size_t)1 << 20;
    o->max_header_cols = 4096;
}

/* opts, or the defaults when it is NULL. */
static sio_load_opts opts_or_default(const sio_load_opts *opts)
{
    sio_load_opts o;
    if (opts) o = *opts;
    else sio_load_opts_default(&o);
    return o;
}

/* libcsv's buffer grows through this. The loader stops a field at its
** limit (at most MAX_FIELD) within a piece of CHUNK bytes of it
** (open_field_check); this is only the backstop: past that libcsv's
** realloc fails, and the parse stops with CSV_ENOMEM. */
static void *field_realloc(void *p, size_t n)
{
    return n > MAX_FIELD + 2 * (size_t)CHUNK ? NULL : realloc(p, n);
}

/* opts with the size limits made usable: 0 is the default, a field at
** most MAX_FIELD. */
static sio_load_opts limits_set(sio_load_opts o)
{
    sio_load_opts d;
    sio_load_opts_default(&d);
    if (!o.max_field_bytes) o.max_field_bytes = d.max_field_bytes;
    if (o.max_field_bytes > MAX_FIELD) o.max_field_bytes = MAX_FIELD;
    if (!o.max_record_bytes) o.max_record_bytes = d.max_record_bytes;
    if (!o.max_header_bytes) o.max_header_bytes = d.max_header_bytes;
    if (!o.max_header_cols) o.max_header_cols = d.max_header_cols;
    return o;
}

enum col_kind { K_EXTRA, K_ID, K_UNIT, K_OP, K_START, K_CYCLES, K_CHIP, K_ACTIVITY, K_DEPS };

static const struct { const char *name; enum col_kind kind; int required; } COLS[] = {
    {"id", K_ID, 1},         {"unit", K_UNIT, 1},  {"op", K_OP, 1},
    {"start", K_START, 1},   {"cycles", K_CYCLES, 1}, {"chip", K_CHIP, 0},
    {"activity", K_ACTIVITY, 0}, {"deps", K_DEPS, 0},
};
#define N_COLS (sizeof COLS / sizeof COLS[0])


/* ---- a string -> index hash (open addressing) ------------------------ */

/* A slot holds the entry's index + 1 (0 = empty) in its low 32 bits and 32
** bits of its hash in the high ones, so probes and growth rarely touch the
** names themselves. */
typedef uint64_t hslot;
static uint32_t slot_idx1(hslot v) { return (uint32_t)v; }
static uint32_t slot_h32(hslot v) { return (uint32_t)(v >> 32); }

typedef struct strhash {
    hslot *slot;
    size_t cap;       /* power of two */
    size_t n;
} strhash;

/* A string's hash, eight bytes at a time (names and ids are short: a
** multiply per word, not per byte as in FNV), then mixed. */
static uint64_t str_hash(const char *s, size_t n, uint64_t salt)
{
    uint64_t h = (1469598103934665603ull ^ (salt * 0x9e3779b97f4a7c15ull)) + n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    /* the last 0..7 bytes in at most three loads of 4, 2 and 1 (byte k at
    ** bits 8k on a little-endian machine, as one by one; one by one was a
    ** twentieth of the load's instructions) */
    uint64_t w = 0;
    const char *p = s + i;
    unsigned sh = 0;
    if (n - i >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        w = v;
        p += 4;
        sh = 32;
    }
    if ((n - i) & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        w |= (uint64_t)v << sh;
        p += 2;
        sh += 16;
    }
    if ((n - i) & 1) w |= (uint64_t)(unsigned char)*p << sh;
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

typedef int (*key_eq)(const void *ctx, uint32_t k, const char *s, size_t n, uint64_t salt);

static size_t home(uint64_t hv, size_t cap) { return (size_t)(hv >> 7) & (cap - 1); }

/* Doubles the capacity (the chip's units and ops: small tables). */
static int strhash_grow(strhash *h)
{
    size_t cap = h->cap ? h->cap * 2 : 1024;
    hslot *sl = calloc(cap, sizeof *sl);
    if (!sl) return -1;
    for (size_t i = 0; i < h->cap; i++) {
        if (!slot_idx1(h->slot[i])) continue;
        /* the home slot depends on bits the 32 stored ones do not all hold:
        ** keep the low 32 bits of the hash (hv >> 7 uses bits 7..38) */
        size_t j = home((uint64_t)slot_h32(h->slot[i]) << 7, cap);
        while (slot_idx1(sl[j])) j = (j + 1) & (cap - 1);
        sl[j] = h->slot[i];
    }
    free(h->slot);
    h->slot = sl;
    h->cap = cap;
    return 0;
}


static uint32_t h32_of(uint64_t hv) { return (uint32_t)(hv >> 7); }

/* Finds s (hash hv); returns its index, or -1 and sets *where to the empty
** slot where it would go. The table must have a free slot. */
static int64_t strhash_find(const strhash *h, const void *ctx, key_eq eq, const char *s, size_t n,
                            uint64_t salt, uint64_t hv, size_t *where)
{
    uint32_t f = h32_of(hv);
    size_t j = home((uint64_t)f << 7, h->cap);
    hslot v;
    while (slot_idx1(v = h->slot[j])) {
        if (slot_h32(v) == f && eq(ctx, slot_idx1(v) - 1, s, n, salt)) return (int64_t)slot_idx1(v) - 1;
        j = (j + 1) & (h->cap - 1);
    }
    *where = j;
    return -1;
}

static hslot slot_of(uint32_t idx, uint64_t hv) { return (hslot)(idx + 1u) | (hslot)h32_of(hv) << 32; }

static void strhash_put(strhash *h, size_t where, uint32_t idx, uint64_t hv)
{
    h->slot[where] = slot_of(idx, hv);
    h->n++;
}


/* ---- where the text comes from ----------------------------------------- */

/* What identifies a regular file's content: device and inode, size and
** modification time (ns). A rewrite of the same size within the file
** system's timestamp granularity keeps it; anything else changes it. */
typedef struct file_id { uint64_t dev, ino; int64_t size, mtime_ns; } file_id;

static file_id file_id_of(const struct stat *sb)
{
    file_id f = {(uint64_t)sb->st_dev, (uint64_t)sb->st_ino, (int64_t)sb->st_size,
                 (int64_t)sb->st_mtim.tv_sec * 1000000000 + (int64_t)sb->st_mtim.tv_nsec};
    return f;
}

static int same_id(file_id a, file_id b)
{
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns;
}

/* 1 when the open fd is still the file `id` describes. */
static int fd_is(int fd, file_id id)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 && same_id(file_id_of(&sb), id);
}

/* Bytes kept as they come: those read so far from a stream (a pipe, a
** FIFO, a character device), which cannot be read again, or a builder's
** rows as CSV. backed: pages backed as the buffer grows (sio_big), else
** only those written count. */
typedef struct kept { char *text; size_t len, cap; int backed; } kept;

/* A schedule's text: a file (read through fd), or a buffer in memory (the
** schedule's own copy of what the caller gave); or rows handed over one by
** one (sio_builder), whose errors are positioned by field. */
typedef struct src {
    const char *name;       /* the file's path, or the buffer's or builder's name: for messages */
    char *text;             /* the text in memory: a buffer's, a stream's once read, or a built
                            ** schedule's CSV (for the writer); NULL for a file, while a stream is
                            ** read and while rows are added */
    size_t len;             /* bytes of the text (of a file: when seekable) */
    int fd;
    int seekable;           /* a regular file or a buffer: read at any offset */
    int by_field;           /* a builder's: an error's column is its field's (1-based) */
    kept *keep;             /* a stream's: every piece read is appended here */
    int has_id;             /* a regular file's: id is what it was when opened */
    file_id id;
    uint64_t line0;         /* lines before the text (0; tests: sio_schedule_from_buffer_at) */
} src;

/* Appends n bytes to k; -1 when out of memory. */
static int keep_add(kept *k, const char *b, size_t n)
{
    if (k->len + n > k->cap) {
        size_t c = k->cap ? k->cap : 65536;
        while (c < k->len + n) c *= 2;
        char *t = k->backed ? sio_big(k->text, c) : sio_reserve(k->text, c);
        if (!t) return -1;
        k->text = t;
        k->cap = c;
    }
    memcpy(k->text + k->len, b, n);
    k->len += n;
    return 0;
}

/* Reads the next piece of the text into buf: from `pos` with pread when the
** file can seek, else with read (a stream's pieces kept as they come); from
** a buffer, a copy. Returns the bytes read, 0 at the end, -1 with errno set
** (ENOMEM: a stream's text could not be kept). */
static ssize_t read_piece(const src *in, char *buf, size_t want, off_t pos)
{
    if (in->text) {
        size_t at = (uintmax_t)pos < in->len ? (size_t)pos : in->len;
        size_t n = in->len - at < want ? in->len - at : want;
        memcpy(buf, in->text + at, n);
        return (ssize_t)n;
    }
    ssize_t got;
    do got = in->seekable ? pread(in->fd, buf, want, pos) : read(in->fd, buf, want);
    while (got < 0 && errno == EINTR);
    if (got > 0 && in->keep && keep_add(in->keep, buf, (size_t)got)) {
        errno = ENOMEM;
        return -1;
    }
    return got;
}

/* The text read again from its start, for an error's column and for the
** writer: from memory (a buffer's, a builder's, a stream's bytes read so
** far), through the loader's own descriptor while a file is being read, or
** else the file opened again, only if it is still the file that was read. */
typedef struct reread {
    const char *mem;        /* the text in memory, or NULL: fd */
    size_t len;
    int fd, own;            /* own: opened here, closed by reread_close */
    file_id id;             /* of the file opened here */
} reread;

/* 0, or -1: errno set, and *changed set when the file is no longer the
** one that was read (then nothing is open). */
static int reread_open(const src *in, reread *r, int *changed)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    *changed = 0;
    if (in->text || in->keep) {
        r->mem = in->text ? in->text : in->keep->text;
        r->len = in->text ? in->len : in->keep->len;
        return 0;
    }
    if (in->fd >= 0 && in->seekable) {
        r->fd = in->fd;
        r->len = in->len;
        return 0;
    }
    int fd = open(in->name, O_RDONLY);
    if (fd < 0) return -1;
    if (!in->has_id || !fd_is(fd, in->id)) {
        close(fd);
        *changed = 1;
        errno = ESTALE;
        return -1;
    }
    r->fd = fd;
    r->own = 1;
    r->len = (size_t)in->id.size;
    r->id = in->id;
    return 0;
}

/* Up to want bytes from pos; 0 at the end, -1 on a read error. */
static ssize_t reread_at(const reread *r, char *buf, size_t want, uint64_t pos)
{
    if (r->mem) {
        size_t at = pos < r->len ? (size_t)pos : r->len;
        size_t n = r->len - at < want ? r->len - at : want;
        memcpy(buf, r->mem + at, n);
        return (ssize_t)n;
    }
    ssize_t got;
    do got = pread(r->fd, buf, want, (off_t)pos);
    while (got < 0 && errno == EINTR);
    return got;
}

static void reread_close(reread *r)
{
    if (r->own) close(r->fd);
    r->own = 0;
}

/* The source of a loaded schedule, for the error path and the writer. */
static src src_of(const sio_schedule *s)
{
    file_id id = {s->file_dev, s->file_ino, s->file_size, s->file_mtime_ns};
    src in = {s->path, s->text, s->text_len, -1, 1, s->source == SIO_SOURCE_BUILDER, NULL,
              s->source == SIO_SOURCE_FILE, id, 0};
    return in;
}

/* ---- the loader's state ---------------------------------------------- */

/* The file's index of local chip c (a share renumbers its chips). */
static size_t file_chip(const sio_schedule *s, size_t c)
{
    return s->chip_step ? s->chip_lo + c * s->chip_step : c;
}

typedef struct dep_raw {   /* a dep as read, before its id is resolved */
    size_t name_off;       /* into ld.dep_names */
    uint32_t name_len;
    uint32_t col_off;      /* byte offset of the item inside the deps field */
    size_t d;              /* its index in the dep arrays */
    size_t row;            /* the instruction that has it */
} dep_raw;

#define RECENT (1u << 16)  /* ids remembered by hash for deps on recent rows */

typedef struct ld {
    const sio_chip *chip;
    sio_load_opts opt;
    sio_schedule *s;
    const src *in;
    sio_error *err;
    int rc;
    int in_header;
    size_t field;           /* index of the next field in the record */
    size_t rec_bytes;       /* the record's fields so far, each with one for its separator */
    size_t cap;             /* capacity of the per-instruction arrays */
    size_t pool_len, pool_cap;
    size_t deps_cap;
    enum col_kind *kind;    /* per header column */
    size_t n_kind;
    /* positions */
    uint64_t line;          /* line being fed (64 bits: no limit on lines) */
    uint64_t rec_line;      /* first line of the record being read */
    int rec_open;
    /* the record being read */
    char op_name[256];
    size_t op_len;
    int has_unit, op_too_long;
    size_t op_field;
    /* deps: n_dr of them so far; those of the current record are raw in
    ** rec_dr until its end, then resolved, or moved to `later` when their id
    ** comes further down the file */
    size_t n_dr, dr_cap;
    dep_raw *rec_dr;
    size_t n_rec_dr, rec_dr_cap;
    dep_raw *later;
    size_t n_later, later_cap;
    char *dep_names;
    size_t dn_len, dn_cap;
    uint32_t *recent;       /* RECENT slots: index + 1 of a recent id, by hash */
    uint32_t *hv;           /* per row: the high half of the hash of its id and chip (check_ids);
                            ** written only once the ids stop rising (hv_fill) */
    size_t row0;            /* the first row this loader reads (a split load's second half: split_row) */
    size_t id_len;          /* of the record being read */
    int ids_checked;        /* check_ids has run over the whole file */
    /* ids that are whole numbers rising down the file (as compilers number
    ** instructions) are unique without a hash: check_ids is skipped then
    ** (ids_rising) */
    int id_rising;          /* every id so far, and id_last the latest */
    int id_any;
    int64_t id_first, id_last;
    int nul_seen;           /* a NUL byte was in a buffer read so far: fields get checked */
    /* look-ups */
    strhash unit_h, op_h;
    int down;               /* a dep names a row further down the file */
    /* feeding lines */
    int at_line_start;
    size_t line_col0;       /* bytes of the current line fed before this piece */
    int plain;              /* whole lines fed at once, a record each: rec_line counts them */
    /* split loads (load_split): this loader reads one half of the file; the
    ** rows below split_row belong to half[0], the others to half[1] (each
    ** half has its own id pool and deps). In a half any error, and any
    ** growth of memory the other half reads, gives up the split: rc is then
    ** SPLIT_ABANDONED and err is left alone. */
    int par;
    int lazy;               /* grow_rows reserves the rows without backing them */
    sio_schedule *half[2];
    size_t split_row;
} ld;

#define SPLIT_ABANDONED (-100)

/* The limits of the 32-bit offsets, as set (tests lower them) but never
** past what the offsets can reach. */
static size_t max_id_bytes(const ld *L) { return L->opt.max_id_bytes < UINT32_MAX ? L->opt.max_id_bytes : UINT32_MAX; }
static size_t max_deps(const ld *L) { return L->opt.max_deps < UINT32_MAX - 1 ? L->opt.max_deps : UINT32_MAX - 1; }

/* ---- positions --------------------------------------------------------- */

typedef struct span_ctx { size_t nf; int ended; } span_ctx;

static void span_cb1(void *f, size_t n, void *data)
{
    (void)f; (void)n;
    ((span_ctx *)data)->nf++;
}
static void span_cb2(int ch, void *data)
{
    (void)ch;
    ((span_ctx *)data)->ended = 1;
}

/* Byte offsets [start, end) of field k of one record's text (which may span
** lines). Unquoted records split on commas; quoted ones are fed to libcsv a
** byte at a time so libcsv, not this file, decides where fields end. Returns
** 0, or -1 when the record has fewer than k+1 fields. */
static int field_span(const char *rec, size_t len, size_t k, size_t *start, size_t *end)
{
    while (len > 0 && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) len--;
    if (!memchr(rec, '"', len)) {
        size_t f = 0, b = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i == len || rec[i] == ',') {
                if (f == k) { *start = b; *end = i; return 0; }
                f++;
                b = i + 1;
            }
        }
        return -1;
    }
    span_ctx c = {0, 0};
    struct csv_parser p;
    if (csv_init(&p, 0) != 0) return -1;
    size_t b = 0;
    for (size_t i = 0; i < len; i++) {
        size_t before = c.nf;
        csv_parse(&p, rec + i, 1, span_cb1, span_cb2, &c);
        if (c.nf > before) {           /* the byte at i ended field `before` */
            if (before == k) { *start = b; *end = i; csv_free(&p); return 0; }
            b = i + 1;
        }
    }
    csv_free(&p);
    if (c.nf == k) { *start = b; *end = len; return 0; }
    return -1;
}

/* Reads the record that starts on `line` of the text (it may run over
** several lines: up to the line libcsv ends it on) into a malloc'd,
** NUL-terminated buffer. NULL when it cannot be read, or is longer than
** RECORD_READ_MAX; *changed is then set when the file is no longer the one
** that was read. */
static char *read_record(const src *in, uint64_t line, size_t *len, int *changed)
{
    reread r;
    if (reread_open(in, &r, changed)) return NULL;
    char *buf = malloc(CHUNK), *rec = NULL;
    size_t n = 0, cap = 0;
    uint64_t ln = in->line0 + 1, pos = 0;
    span_ctx c = {0, 0};
    struct csv_parser p;
    int ok = buf && csv_init(&p, 0) == 0, have_p = ok;
    ssize_t got;
    while (ok && !c.ended && (got = reread_at(&r, buf, CHUNK, pos)) > 0) {
        size_t i = 0, g = (size_t)got;
        pos += g;
        while (i < g && ln < line) {   /* on to the record's first line */
            const char *nl = memchr(buf + i, '\n', g - i);
            i = nl ? (size_t)(nl - buf) + 1 : g;
            if (nl) ln++;
        }
        while (i < g && !c.ended) {    /* its lines, until one ends it */
            const char *nl = memchr(buf + i, '\n', g - i);
            size_t end = nl ? (size_t)(nl - buf) + 1 : g;
            if (n + (end - i) > RECORD_READ_MAX) { ok = 0; break; }   /* no column, rather than all memory */
            if (n + (end - i) + 1 > cap) {
                size_t nc = cap ? cap : 4096;
                while (nc < n + (end - i) + 1) nc *= 2;
                char *q = realloc(rec, nc);
                if (!q) { ok = 0; break; }
                rec = q;
                cap = nc;
            }
            memcpy(rec + n, buf + i, end - i);
            n += end - i;
            rec[n] = 0;
            csv_parse(&p, buf + i, end - i, span_cb1, span_cb2, &c);
            i = end;
        }
    }
    if (have_p) csv_free(&p);
    free(buf);
    reread_close(&r);
    if (!ok || !rec) { free(rec); return NULL; }
    *len = n;
    return rec;
}

/* Line and column of byte `off` inside field k of the record on `line`; of
** a builder's row, the line and the field's column. Column 0 when the
** record cannot be read again, and *changed (when not NULL) set when that
** is because the file changed since it was read. */
static void locate(const src *in, uint64_t line, size_t k, size_t off, int64_t *out_line,
                   int64_t *out_col, int *changed)
{
    *out_line = (int64_t)line;
    *out_col = 0;
    if (changed) *changed = 0;
    if (in->by_field) {
        *out_col = (int64_t)k + 1;
        return;
    }
    size_t len = 0, a, b;
    int ch = 0;
    char *rec = read_record(in, line, &len, &ch);
    if (changed) *changed = ch;
    if (!rec) return;
    if (field_span(rec, len, k, &a, &b) == 0) {
        size_t at = a + off;
        if (a < b && rec[a] == '"') at++;         /* inside the quotes */
        if (at > b && b > a) at = b;
        int64_t l = (int64_t)line, col = 1;
        for (size_t i = 0; i < at && i < len; i++) {
            if (rec[i] == '\n') { l++; col = 1; } else col++;
        }
        *out_line = l;
        *out_col = col;
    }
    free(rec);
}

/* The line an instruction's record starts on, as kept (32 bits), or 0 when
** it is on line 2^32 - 1 or later: kept as UINT32_MAX, the exact line lost. */
static uint64_t row_line(const sio_schedule *s, size_t i)
{
    return s->line[i] == UINT32_MAX ? 0 : s->line[i];
}

/* "line N" for the line kept for an instruction, or, where 32 bits could
** not keep it, the truth: "line 4294967295 or later". */
static const char *line_words(uint32_t line, char *buf, size_t cap)
{
    snprintf(buf, cap, "line %" PRIu32 "%s", line, line == UINT32_MAX ? " or later" : "");
    return buf;
}

/* The message of an error at an instruction whose line was not kept: no
** position, and it says so. */
static void set_far(sio_error *err, const char *name, const char *msg)
{
    sio_error_set(err, name, 0, 0, "line %" PRIu32 " or later: %s", UINT32_MAX, msg);
}

/* Records the first error: message at field k (byte off inside it) of the
** record that starts on `line` (0: an instruction's line not kept). */
static int check_ids(ld *L, size_t rows, int resolve);

static void failv(ld *L, uint64_t line, size_t k, size_t off, const char *fmt, va_list ap)
{
    if (L->par) {   /* the whole-file load will say it, in file order */
        if (!L->rc) L->rc = SPLIT_ABANDONED;
        return;
    }
    if (!L->ids_checked) {   /* a duplicate id above wins: first error in file order */
        L->ids_checked = 1;
        if (!L->id_rising && check_ids(L, L->s->n, 0)) return;   /* rising ids are distinct */
    }
    if (L->rc) return;
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    L->rc = SIO_EINPUT;
    if (!line) {
        set_far(L->err, L->in->name, msg);
        return;
    }
    int64_t l, c;
    locate(L->in, line, k, off, &l, &c, NULL);
    sio_error_set(L->err, L->in->name, l, c, "%s", msg);
}

static void fail(ld *L, uint64_t line, size_t k, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void fail(ld *L, uint64_t line, size_t k, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(L, line, k, off, fmt, ap);
    va_end(ap);
}

static void oom(ld *L)
{
    if (L->rc) return;
    if (L->par) { L->rc = SPLIT_ABANDONED; return; }
    sio_error_set(L->err, L->in->name, 0, 0, "out of memory");
    L->rc = SIO_ENOMEM;
}

/* ---- numbers ------------------------------------------------------------ */

/* A whole number of decimal digits only; -1 when malformed, -2 on overflow.
** Up to 18 digits cannot overflow (10^18 < 2^63): those skip the test, which
** was an eighth of the field callbacks' time. */
static int parse_u63(const char *s, size_t n, int64_t *out)
{
    if (n == 0) return -1;
    int64_t v = 0;
    if (n <= 18) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') return -1;
            v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10) return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "D", "D.D", ".D" or "D." with at most 15 digits: the value as strtod gives
** it (digits and 10^k are exact doubles, so one division is correctly
** rounded). Returns 0 for anything else, which then goes to strtod. */
static int plain_decimal(const char *s, size_t n, double *out)
{
    static const double P10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    int64_t m = 0;
    int digits = 0, frac = -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && frac < 0) { frac = 0; continue; }
        if (s[i] < '0' || s[i] > '9' || ++digits > 15) return 0;
        m = m * 10 + (s[i] - '0');
        if (frac >= 0) frac++;
    }
    if (!digits) return 0;
    *out = (double)m / P10[frac > 0 ? frac : 0];
    return 1;
}

/* ---- growth -------------------------------------------------------------- */

/* Grows a per-instruction array: backed at once (sio_big), or only reserved
** when each half of a split load backs its own part (L->lazy). */
#define GROW(L, arr, cap_new) do {                                          \
        void *p_ = L->lazy ? sio_reserve((arr), (cap_new) * sizeof *(arr))      \
                           : sio_big((arr), (cap_new) * sizeof *(arr));         \
        if (!p_) { oom(L); return -1; }                                     \
        (arr) = p_;                                                         \
    } while (0)

static int grow_rows(ld *L, size_t want)
{
    sio_schedule *s = L->s;
    if (L->par) { oom(L); return -1; }   /* the rows are shared by both halves */
    size_t cap = L->cap ? L->cap * 2 : 4096;
    if (cap < want) cap = want;
    GROW(L, s->unit, cap); GROW(L, s->op, cap); GROW(L, s->chip, cap);
    GROW(L, s->start_cyc, cap); GROW(L, s->cycles, cap); GROW(L, s->activity, cap);
    GROW(L, s->line, cap); GROW(L, s->id_off, cap);
    GROW(L, s->dep_off, cap + 1);
    /* hv is only reserved: while the ids rise it is never written */
    uint32_t *hv = sio_reserve(L->hv, cap * sizeof *L->hv);
    if (!hv) { oom(L); return -1; }
    L->hv = hv;
    L->cap = cap;
    return 0;
}

static int pool_add(ld *L, char **pool, size_t *len, size_t *cap, const char *t, size_t n)
{
    if (*len + n + 1 > *cap) {
        if (L->par && pool == &L->s->id_pool) { oom(L); return -1; }   /* one pool, two halves: cannot move */
        size_t c = *cap ? *cap : 65536;
        while (*len + n + 1 > c) c *= 2;
        char *p = sio_big(*pool, c);
        if (!p) { oom(L); return -1; }
        *pool = p;
        *cap = c;
    }
    memcpy(*pool + *len, t, n);
    (*pool)[*len + n] = 0;
    *len += n + 1;
    return 0;
}

/* ---- hashes over the chip and the ids ---------------------------------- */

/* 1 when the NUL-terminated t is the n bytes at s (which hold no NUL): a
** plain loop, as the names are short and a call to strncmp costs more. */
static int name_is(const char *t, const char *s, size_t n)
{
    size_t q = 0;
    while (q < n && t[q] == s[q]) q++;
    return q == n && t[q] == 0;
}

static int unit_eq(const void *ctx, uint32_t k, const char *s, size_t n, uint64_t salt)
{
    (void)salt;
    const char *u = ((const sio_chip *)ctx)->units[k].name;
    return name_is(u, s, n);
}
static int op_eq(const void *ctx, uint32_t k, const char *s, size_t n, uint64_t salt)
{
    const sio_op *o = &((const sio_chip *)ctx)->ops[k];
    return o->cls == salt && name_is(o->name, s, n);
}
static int id_eq(const void *ctx, uint32_t k, const char *s, size_t n, uint64_t salt)
{
    const ld *L = ctx;
    const sio_schedule *S = L->half[k >= L->split_row];
    const char *t = S->id_pool + S->id_off[k];
    return S->chip[k] == salt && name_is(t, s, n);
}

static int build_chip_hashes(ld *L)
{
    const sio_chip *c = L->chip;
    size_t w = 0;
    for (size_t i = 0; i < c->n_units; i++) {
        if ((L->unit_h.n + 1) * 2 > L->unit_h.cap && strhash_grow(&L->unit_h)) return -1;
        const char *nm = c->units[i].name;
        uint64_t hv = str_hash(nm, strlen(nm), 0);
        if (strhash_find(&L->unit_h, c, unit_eq, nm, strlen(nm), 0, hv, &w) < 0) strhash_put(&L->unit_h, w, (uint32_t)i, hv);
    }
    for (size_t i = 0; i < c->n_ops; i++) {
        if ((L->op_h.n + 1) * 2 > L->op_h.cap && strhash_grow(&L->op_h)) return -1;
        const char *nm = c->ops[i].name;
        uint64_t hv = str_hash(nm, strlen(nm), c->ops[i].cls);
        if (strhash_find(&L->op_h, c, op_eq, nm, strlen(nm), c->ops[i].cls, hv, &w) < 0)
            strhash_put(&L->op_h, w, (uint32_t)i, hv);
    }
    return 0;
}

/* The instruction with id t (n bytes) on chip among the recent ones, or -1:
** deps mostly name rows just above them. The others are found by check_ids
** once the whole file is in. */
static int64_t find_recent(const ld *L, const char *t, size_t n, uint32_t chip)
{
    uint64_t hv = str_hash(t, n, chip);
    uint32_t r = L->recent[(hv >> 40) & (RECENT - 1)];
    return r && id_eq(L, r - 1, t, n, chip) ? (int64_t)r - 1 : -1;
}

/* The hashes check_ids buckets by (hv) of rows [r0, r1) of S: rows read
** while the ids rose have none, as a rising id cannot repeat. */
static void hv_fill(uint32_t *hv, const sio_schedule *S, size_t r0, size_t r1)
{
    for (size_t r = r0; r < r1; r++) {
        const char *id = S->id_pool + S->id_off[r];
        hv[r] = (uint32_t)(str_hash(id, strlen(id), S->chip[r]) >> 32);
    }
}

/* ---- the header ------------------------------------------------------ */

static void header_field(ld *L, const char *t, size_t n, size_t k)
{
    sio_schedule *s = L->s;
    char **cols = realloc(s->cols, (k + 1) * sizeof *cols);
    enum col_kind *kind = realloc(L->kind, (k + 1) * sizeof *kind);
    if (cols) s->cols = cols;
    if (kind) L->kind = kind;
    if (!cols || !kind || !(s->cols[k] = malloc(n + 1))) { oom(L); return; }
    memcpy(s->cols[k], t, n);
    s->cols[k][n] = 0;
    s->n_cols = k + 1;
    L->n_kind = k + 1;
    L->kind[k] = K_EXTRA;
    for (size_t c = 0; c < N_COLS; c++) {
        if (strcmp(COLS[c].name, s->cols[k]) != 0) continue;
        for (size_t j = 0; j < k; j++) {
            if (L->kind[j] == COLS[c].kind) {
                fail(L, L->rec_line, k, 0, "duplicate column '%s' (also column %zu)", COLS[c].name, j + 1);
                return;
            }
        }
        L->kind[k] = COLS[c].kind;
    }
}

static int *col_slot(sio_schedule *s, enum col_kind k)
{
    switch (k) {
    case K_ID: return &s->col_id;
    case K_UNIT: return &s->col_unit;
    case K_OP: return &s->col_op;
    case K_START: return &s->col_start;
    case K_CYCLES: return &s->col_cycles;
    case K_CHIP: return &s->col_chip;
    case K_ACTIVITY: return &s->col_activity;
    case K_DEPS: return &s->col_deps;
    case K_EXTRA: break;
    }
    return NULL;
}

static void header_end(ld *L)
{
    sio_schedule *s = L->s;
    for (size_t k = 0; k < L->n_kind; k++) {
        int *slot = col_slot(s, L->kind[k]);
        if (slot) *slot = (int)k;
    }
    for (size_t c = 0; c < N_COLS; c++) {
        if (COLS[c].required && *col_slot(s, COLS[c].kind) < 0) {
            fail(L, L->rec_line, 0, 0, "missing required column '%s' (the header needs id, unit, op, start, cycles)",
                 COLS[c].name);
            return;
        }
    }
    L->in_header = 0;
}

/* ---- deps ---------------------------------------------------------------- */

/* Doubles the dep arrays, or makes room for `want` deps. */
static int grow_deps(ld *L, size_t want)
{
    size_t c = L->dr_cap ? L->dr_cap * 2 : 4096;
    if (c < want) c = want;
    void *(*get)(void *, size_t) = L->lazy ? sio_reserve : sio_big;
    uint8_t *pk = get(L->s->dep_kind, c);
    if (pk) L->s->dep_kind = pk;
    int64_t *pl = get(L->s->dep_lag, c * sizeof *pl);
    if (pl) L->s->dep_lag = pl;
    uint32_t *ps = get(L->s->dep_src, c * sizeof *ps);
    if (ps) L->s->dep_src = ps;
    if (!pk || !pl || !ps) { oom(L); return -1; }
    L->dr_cap = c;
    return 0;
}

static void parse_deps(ld *L, const char *t, size_t n, size_t k)
{
    size_t i = 0;
    while (i <= n && !L->rc) {
        size_t e = i;
        while (e < n && t[e] != ';') e++;
        size_t a = i, b = e;
        while (a < b && (t[a] == ' ' || t[a] == '\t')) a++;
        while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t')) b--;
        if (a == b) {
            if (e < n || i > 0) {
                fail(L, L->rec_line, k, a, "empty dep in 'deps' (ids are separated by ';')");
                return;
            }
            break;                     /* an empty field: no deps */
        }
        /* ID, ID+N or ID=N: the suffix after the last '+' or '=' */
        size_t m = b;
        while (m > a && t[m - 1] != '+' && t[m - 1] != '=') m--;
        uint8_t kind = SIO_DEP_END;
        int64_t lag = 0;
        size_t name_end = b;
        if (m > a) {
            int64_t v;
            int r = parse_u63(t + m, b - m, &v);
            if (r == 0 && v > ((int64_t)1 << 52)) {
                fail(L, L->rec_line, k, m, "dep lag %" PRId64 " is beyond 2^52 cycles", v);
                return;
            }
            if (r == 0) {
                kind = t[m - 1] == '+' ? SIO_DEP_START : SIO_DEP_EXACT;
                lag = v;
                name_end = m - 1;
            } else if (r == -2 || (b > m && t[m] == '-') || t[m - 1] == '=') {
                char q[64];
                fail(L, L->rec_line, k, m, r == -2 ? "dep lag %s is beyond 2^52 cycles"
                                                   : "dep lag '%s' is not a whole number >= 0",
                     sio_quote(t + m, b - m, q, sizeof q));
                return;
            }
        }
        if (name_end == a) {
            fail(L, L->rec_line, k, a, "dep has no id before '%c'", t[a]);
            return;
        }
        if (L->n_dr >= max_deps(L)) {
            fail(L, L->rec_line, k, a, "more than %zu deps in one schedule", max_deps(L));
            return;
        }
        if (L->n_dr == L->dr_cap && grow_deps(L, 0)) return;
        L->s->dep_kind[L->n_dr] = kind;
        L->s->dep_lag[L->n_dr] = lag;
        /* without a chip column every id is on chip 0: a dep on a row just
        ** above is found now, its name never copied (this row is not among
        ** the recent ones yet: a dep on itself waits for data_end) */
        if (L->s->col_chip < 0) {
            int64_t j = find_recent(L, t + a, name_end - a, 0);
            if (j >= 0) {
                L->s->dep_src[L->n_dr++] = (uint32_t)j;
                i = e + 1;
                continue;
            }
        }
        if (L->n_rec_dr == L->rec_dr_cap) {
            size_t c = L->rec_dr_cap ? L->rec_dr_cap * 2 : 64;
            dep_raw *p = realloc(L->rec_dr, c * sizeof *p);
            if (!p) { oom(L); return; }
            L->rec_dr = p;
            L->rec_dr_cap = c;
        }
        dep_raw *d = &L->rec_dr[L->n_rec_dr++];
        d->name_off = L->dn_len;
        d->name_len = (uint32_t)(name_end - a);
        d->col_off = (uint32_t)a;
        d->d = L->n_dr;
        d->row = L->s->n;
        if (pool_add(L, &L->dep_names, &L->dn_len, &L->dn_cap, t + a, name_end - a)) return;
        L->n_dr++;
        i = e + 1;
    }
}

/* ---- records ------------------------------------------------------------- */

static const char *const COL_NAME[] = {
    [K_EXTRA] = "", [K_ID] = "id", [K_UNIT] = "unit", [K_OP] = "op", [K_START] = "start",
    [K_CYCLES] = "cycles", [K_CHIP] = "chip", [K_ACTIVITY] = "activity", [K_DEPS] = "deps",
};

static void data_field(ld *L, const char *t, size_t n, size_t k)
{
    sio_schedule *s = L->s;
    size_t r = s->n;
    if (k == 0) {
        if (r == L->cap && grow_rows(L, 0)) return;
        s->chip[r] = 0;
        s->activity[r] = 1.0;
        s->line[r] = L->rec_line < UINT32_MAX ? (uint32_t)L->rec_line : UINT32_MAX;   /* row_line */
        s->dep_off[r] = (uint32_t)L->n_dr;   /* at most max_deps(L) (parse_deps) */
        L->n_rec_dr = 0;
        L->has_unit = 0;
        L->op_len = 0;
        L->op_too_long = 0;
    }
    if (k >= L->n_kind) {
        fail(L, L->rec_line, k, 0, "row has more fields than the header's %zu", L->n_kind);
        return;
    }
    enum col_kind kind = L->kind[k];
    if (kind == K_EXTRA) return;
    if (n == 0 && kind != K_ACTIVITY && kind != K_DEPS && kind != K_CHIP) {
        fail(L, L->rec_line, k, 0, "empty '%s'", COL_NAME[kind]);
        return;
    }
    char q[80];
    int64_t v;
    int rc;
    size_t w = 0;
    switch (kind) {
    case K_ID:
        if (L->pool_len + n + 1 > max_id_bytes(L)) {
            fail(L, L->rec_line, k, 0, "more than %zu bytes of ids in one schedule", max_id_bytes(L));
            return;
        }
        s->id_off[r] = (uint32_t)L->pool_len;
        L->id_len = n;
        pool_add(L, &s->id_pool, &L->pool_len, &L->pool_cap, t, n);
        if (L->id_rising) {
            int64_t id;
            if (parse_u63(t, n, &id) == 0 && (!L->id_any || id > L->id_last)) {
                if (!L->id_any) L->id_first = id;
                L->id_last = id;
                L->id_any = 1;
            } else {
                L->id_rising = 0;
                hv_fill(L->hv, s, L->row0, r);   /* the rows above, read while they rose */
                sio_populate(L->hv + r, (L->cap - r) * sizeof *L->hv);
            }
        }
        break;
    case K_UNIT: {
        int64_t u = strhash_find(&L->unit_h, L->chip, unit_eq, t, n, 0, str_hash(t, n, 0), &w);
        if (u < 0) {
            fail(L, L->rec_line, k, 0, "unknown unit '%s' (not in chip '%s')", sio_quote(t, n, q, sizeof q),
                 L->chip->name);
            return;
        }
        s->unit[r] = (uint32_t)u;
        L->has_unit = 1;
        break;
    }
    case K_OP:
        if (n >= sizeof L->op_name) { L->op_too_long = 1; n = sizeof L->op_name - 1; }
        memcpy(L->op_name, t, n);
        L->op_len = n;
        L->op_field = k;
        break;
    case K_START:
    case K_CYCLES:
        rc = parse_u63(t, n, &v);
        if (rc == -2) {
            fail(L, L->rec_line, k, 0, "'%s' %s is too large", COL_NAME[kind], sio_quote(t, n, q, sizeof q));
        } else if (rc < 0) {
            fail(L, L->rec_line, k, 0, "'%s' must be a whole number of cycles %s, not '%s'", COL_NAME[kind],
                 kind == K_START ? ">= 0" : ">= 1", sio_quote(t, n, q, sizeof q));
        } else if (kind == K_CYCLES && v < 1) {
            fail(L, L->rec_line, k, 0, "'cycles' must be >= 1, not %" PRId64, v);
        } else if (v > ((int64_t)1 << 52)) {
            fail(L, L->rec_line, k, 0, "'%s' %" PRId64 " is beyond 2^52 cycles", COL_NAME[kind], v);
        } else if (kind == K_START) {
            s->start_cyc[r] = v;
        } else {
            s->cycles[r] = v;
        }
        break;
    case K_CHIP:
        if (n == 0) break;
        rc = parse_u63(t, n, &v);
        if (rc < 0 || v >= (int64_t)MAX_CHIPS) {
            fail(L, L->rec_line, k, 0, "'chip' must be a whole number from 0 to %u, not '%s'", MAX_CHIPS - 1,
                 sio_quote(t, n, q, sizeof q));
            return;
        }
        s->chip[r] = (uint16_t)v;
        if ((size_t)v + 1 > s->n_chips) s->n_chips = (size_t)v + 1;
        break;
    case K_ACTIVITY: {
        if (n == 0) break;
        double a;
        if (plain_decimal(t, n, &a)) {   /* most values: "0.71", "1" */
            if (a > 1.0) {
                fail(L, L->rec_line, k, 0, "'activity' must be a number from 0 to 1, not '%s'",
                     sio_quote(t, n, q, sizeof q));
                return;
            }
            s->activity[r] = a;
            break;
        }
        char *end;
        errno = 0;
        a = strtod(t, &end);
        if (end != t + n || n == 0 || !isfinite(a) || (errno == ERANGE && fabs(a) >= 1.0) || a < 0.0 || a > 1.0 ||
            t[0] == ' ') {
            fail(L, L->rec_line, k, 0, "'activity' must be a number from 0 to 1, not '%s'",
                 sio_quote(t, n, q, sizeof q));
            return;
        }
        s->activity[r] = a;
        break;
    }
    case K_DEPS:
        parse_deps(L, t, n, k);
        break;
    case K_EXTRA:
        break;
    }
}

static void data_end(ld *L)
{
    sio_schedule *s = L->s;
    size_t r = s->n;
    if (L->field < L->n_kind) {
        fail(L, L->rec_line, L->field - 1, (size_t)1 << 30, "row has %zu fields, the header %zu", L->field,
             L->n_kind);
        return;
    }
    /* the op, now that the unit (and so its class) is known */
    size_t cls = L->chip->units[s->unit[r]].cls;
    size_t w = 0;
    int64_t o = L->op_too_long ? -1
                               : strhash_find(&L->op_h, L->chip, op_eq, L->op_name, L->op_len, cls,
                                              str_hash(L->op_name, L->op_len, cls), &w);
    if (o < 0) {
        char q[80];
        fail(L, L->rec_line, L->op_field, 0, "unknown op '%s' for unit '%s' of class %s",
             sio_quote(L->op_name, L->op_len, q, sizeof q), L->chip->units[s->unit[r]].name,
             L->chip->classes[cls]);
        return;
    }
    s->op[r] = (uint32_t)o;
    /* a share of the chips (sio_load_opts.chip_step): another chip's row,
    ** read and checked on its own, is let go (its id, its deps); a kept
    ** one's chip is renumbered within the share */
    if (L->opt.chip_step) {
        size_t g = s->chip[r], lo = L->opt.chip_lo, step = L->opt.chip_step;
        if (g < lo || (g - lo) % step) {
            L->pool_len = s->id_off[r];
            L->n_dr = s->dep_off[r];
            if (L->n_rec_dr) L->dn_len = L->rec_dr[0].name_off;
            L->n_rec_dr = 0;
            return;
        }
        s->chip[r] = (uint16_t)((g - lo) / step);
    }
    /* the id: unique per chip, which check_ids sees to at the end */
    const char *id = s->id_pool + s->id_off[r];
    uint64_t hv = str_hash(id, L->id_len, s->chip[r]);
    if (!L->id_rising) L->hv[r] = (uint32_t)(hv >> 32);
    L->recent[(hv >> 40) & (RECENT - 1)] = (uint32_t)r + 1;
    s->n = r + 1;
    if (s->n >= UINT32_MAX - 1) {
        fail(L, L->rec_line, 0, 0, "more than 2^32 - 2 instructions in one schedule");
        return;
    }
    /* its deps: most name rows above it; the others wait for the end */
    size_t keep_from = L->dn_len;
    int pending = 0;
    for (size_t q = 0; q < L->n_rec_dr; q++) {
        dep_raw *d = &L->rec_dr[q];
        if (q == 0) keep_from = d->name_off;
        int64_t j = find_recent(L, L->dep_names + d->name_off, d->name_len, s->chip[r]);
        if (j == (int64_t)r) {
            fail(L, L->rec_line, (size_t)s->col_deps, d->col_off, "dependency cycle: '%s' depends on itself", id);
            return;
        }
        if (j >= 0) {
            s->dep_src[d->d] = (uint32_t)j;
            continue;
        }
        if (L->n_later == L->later_cap) {
            size_t c = L->later_cap ? 2 * L->later_cap : 1024;
            dep_raw *p = realloc(L->later, c * sizeof *p);
            if (!p) { oom(L); return; }
            L->later = p;
            L->later_cap = c;
        }
        L->later[L->n_later++] = *d;
        pending = 1;
    }
    if (!pending) L->dn_len = keep_from;   /* every name resolved: reuse the pool */
    L->n_rec_dr = 0;
}

/* The next field of the record being read: n bytes at t. */
static void take_field(ld *L, const char *t, size_t n)
{
    if (L->rc) return;
    size_t k = L->field++;
    L->rec_bytes += n + 1;
    if (n > L->opt.max_field_bytes) {
        fail(L, L->rec_line, k, 0, "field longer than %zu bytes", L->opt.max_field_bytes);
        return;
    }
    if (L->in_header ? k >= L->opt.max_header_cols || L->rec_bytes > L->opt.max_header_bytes
                     : L->rec_bytes > L->opt.max_record_bytes) {
        if (!L->in_header) fail(L, L->rec_line, k, 0, "record longer than %zu bytes", L->opt.max_record_bytes);
        else if (k >= L->opt.max_header_cols) fail(L, L->rec_line, k, 0, "header has more than %zu columns", L->opt.max_header_cols);
        else fail(L, L->rec_line, k, 0, "header longer than %zu bytes", L->opt.max_header_bytes);
        return;
    }
    if (L->nul_seen && n && memchr(t, 0, n)) {
        fail(L, L->rec_line, k, 0, "NUL byte in a field");
        return;
    }
    if (L->in_header) header_field(L, t, n, k);
    else data_field(L, t, n, k);
}

static void cb_field(void *f, size_t n, void *data)
{
    take_field(data, f ? f : "", n);
}

static void cb_record(int c, void *data)
{
    (void)c;
    ld *L = data;
    if (!L->rc) {
        if (L->in_header) header_end(L);
        else data_end(L);
    }
    L->field = 0;
    L->rec_bytes = 0;
    L->rec_open = 0;
    /* the next record: on the next line when whole lines are fed (one
    ** record each); else on this one, if it starts before the piece ends
    ** (after a bare CR), which feed sees to */
    L->rec_line = L->plain ? L->rec_line + 1 : L->line;
}

/* ---- after the file: deps, cycles, the schedule's own rules ---------- */

/* ---- ids: unique per chip; the deps not found as the rows were read ---
** One pass at the end rather than a hash kept as the file is read: at 10^7
** ids every insert into a whole-file hash is a cache and TLB miss. The rows
** are bucketed by the top bits of their id's hash (a counting sort, which
** keeps file order inside each bucket), and each bucket gets a small hash
** that stays in cache. */

typedef struct idcheck {
    uint32_t *row;         /* rows, bucket by bucket, in file order (their hashes in L->hv) */
    size_t *off;           /* nb + 1 bucket starts */
    uint32_t *dep;         /* later deps, bucket by bucket */
    size_t *doff;
    int64_t *found;        /* per later dep: its row, or -1 */
    uint64_t *slot;        /* one bucket's table: hash << 32 | row + 1 */
} idcheck;

/* Buckets by the top bits of a row's 32-bit hash; tables inside a bucket by its low bits. */
static size_t bucket_of(uint32_t h, size_t bits) { return bits ? (size_t)(h >> (32 - bits)) : 0; }

/* A hash's first slot in a bucket's table of m slots: mixed, because the
** top bits, the bucket's, are the same for every row in it. */
static size_t first_slot(uint32_t h, size_t m) { return (size_t)((uint64_t)h * 0x9E3779B97F4A7C15ull >> 32) & (m - 1); }

typedef struct bucket_job {
    const ld *L;
    idcheck *c;
    const uint32_t *dhv;
    size_t b0, b1;         /* buckets [b0, b1) */
    uint64_t *slot;        /* a table of cap slots */
    size_t cap;
    size_t dup, dup_first; /* out: the earliest later copy of an id, and its first */
} bucket_job;

/* Each bucket: its ids into a small hash (duplicates noted), then its later
** deps looked up in it. */
static void *check_buckets(void *arg)
{
    bucket_job *jb = arg;
    const ld *L = jb->L;
    const sio_schedule *s = L->s;
    idcheck *c = jb->c;
    for (size_t b = jb->b0; b < jb->b1; b++) {
        size_t m = jb->cap;
        while (m / 2 >= 2 * (c->off[b + 1] - c->off[b]) && m > 16) m /= 2;
        uint64_t *slot = jb->slot;
        memset(slot, 0, m * sizeof *slot);
        for (size_t e = c->off[b]; e < c->off[b + 1]; e++) {
            uint32_t r = c->row[e], f = L->hv[r];
            size_t j = first_slot(f, m);
            for (; slot[j]; j = (j + 1) & (m - 1)) {
                size_t r0 = (uint32_t)slot[j] - 1u;
                if ((uint32_t)(slot[j] >> 32) == f && s->chip[r0] == s->chip[r] &&
                    strcmp(s->id_pool + s->id_off[r0], s->id_pool + s->id_off[r]) == 0)
                    break;
            }
            if (slot[j]) {   /* rows come in file order: r is the later one */
                if (r < jb->dup) { jb->dup = r; jb->dup_first = (uint32_t)slot[j] - 1u; }
                continue;
            }
            slot[j] = (uint64_t)f << 32 | (r + 1u);
        }
        for (size_t e = c->doff[b]; e < c->doff[b + 1]; e++) {
            uint32_t q = c->dep[e];
            const dep_raw *d = &L->later[q];
            const char *nm = L->dep_names + d->name_off;
            uint32_t f = jb->dhv[q];
            for (size_t j = first_slot(f, m); slot[j]; j = (j + 1) & (m - 1)) {
                size_t r0 = (uint32_t)slot[j] - 1u;
                const char *t = s->id_pool + s->id_off[r0];
                if ((uint32_t)(slot[j] >> 32) == f && s->chip[r0] == s->chip[d->row] &&
                    name_is(t, nm, d->name_len)) {
                    c->found[q] = (int64_t)r0;
                    break;
                }
            }
        }
    }
    return NULL;
}

/* Checks the ids of rows [0, rows) for duplicates and, when resolve is set,
** finds the later deps (all rows must be in). Reports the duplicate found
** first in file order, else the first unknown dep; returns -1 then. */
static int check_ids(ld *L, size_t rows, int resolve)
{
    sio_schedule *s = L->s;
    size_t nl = resolve ? L->n_later : 0;
    size_t bits = 0;
    while (bits < 16 && (rows >> bits) > 8192) bits++;
    size_t nb = (size_t)1 << bits;
    idcheck c;
    memset(&c, 0, sizeof c);
    c.row = sio_big(NULL, (rows ? rows : 1) * sizeof *c.row);
    c.off = calloc(nb + 1, sizeof *c.off);
    c.dep = malloc((nl ? nl : 1) * sizeof *c.dep);
    c.doff = calloc(nb + 1, sizeof *c.doff);
    c.found = malloc((nl ? nl : 1) * sizeof *c.found);
    uint32_t *dhv = malloc((nl ? nl : 1) * sizeof *dhv);
    size_t most = 0;
    int rc = 0;
    if (!c.row || !c.off || !c.dep || !c.doff || !c.found || !dhv) { oom(L); rc = -1; goto done; }
    for (size_t r = 0; r < rows; r++) c.off[bucket_of(L->hv[r], bits) + 1]++;
    for (size_t q = 0; q < nl; q++) {
        const dep_raw *d = &L->later[q];
        dhv[q] = (uint32_t)(str_hash(L->dep_names + d->name_off, d->name_len, s->chip[d->row]) >> 32);
        c.doff[bucket_of(dhv[q], bits) + 1]++;
        c.found[q] = -1;
    }
    for (size_t b = 0; b < nb; b++) {
        if (c.off[b + 1] > most) most = c.off[b + 1];
        c.off[b + 1] += c.off[b];
        c.doff[b + 1] += c.doff[b];
    }
    for (size_t r = 0; r < rows; r++) {
        c.row[c.off[bucket_of(L->hv[r], bits)]++] = (uint32_t)r;
    }
    for (size_t q = 0; q < nl; q++) c.dep[c.doff[bucket_of(dhv[q], bits)]++] = (uint32_t)q;
    for (size_t b = nb; b > 0; b--) { c.off[b] = c.off[b - 1]; c.doff[b] = c.doff[b - 1]; }
    c.off[0] = c.doff[0] = 0;
    size_t cap = 16;
    while (cap < 2 * most) cap *= 2;
    c.slot = malloc(cap * sizeof *c.slot);
    if (!c.slot) { oom(L); rc = -1; goto done; }
    /* the buckets in two halves at once when there are many */
    bucket_job jobs[2] = {{L, &c, dhv, 0, nb, c.slot, cap, SIZE_MAX, 0}, {L, &c, dhv, nb, nb, NULL, cap, SIZE_MAX, 0}};
    int two = nb >= 2 && rows >= 4096 && (jobs[1].slot = malloc(cap * sizeof *c.slot)) != NULL;
    if (two) jobs[0].b1 = jobs[1].b0 = nb / 2;
    sio_both(two, check_buckets, &jobs[0], check_buckets, &jobs[1]);
    free(jobs[1].slot);
    size_t dup = jobs[0].dup, dup_first = jobs[0].dup_first;
    if (jobs[1].dup < dup) { dup = jobs[1].dup; dup_first = jobs[1].dup_first; }
    if (dup != SIZE_MAX) {
        char first[48];
        fail(L, row_line(s, dup), (size_t)s->col_id, 0, "duplicate id '%s' on chip %zu (first on %s)",
             s->id_pool + s->id_off[dup], file_chip(s, s->chip[dup]), line_words(s->line[dup_first], first, sizeof first));
        rc = -1;
        goto done;
    }
    for (size_t q = 0; q < nl; q++) {
        const dep_raw *d = &L->later[q];
        size_t i = d->row;
        if (c.found[q] < 0) {
            fail(L, row_line(s, i), (size_t)s->col_deps, d->col_off, "dep on unknown id '%.*s' (no such id on chip %zu)",
                 (int)d->name_len, L->dep_names + d->name_off, file_chip(s, s->chip[i]));
            rc = -1;
            goto done;
        }
        s->dep_src[d->d] = (uint32_t)c.found[q];
        if ((size_t)c.found[q] > i) L->down = 1;
    }
done:
    free(c.row); free(c.off); free(c.dep); free(c.doff); free(c.found); free(c.slot); free(dhv);
    return rc;
}

/* The whole check of check_ids when the ids rise (id_rising): unique, since
** distinct numbers are distinct strings; the later deps found by bisection
** over the rows' numbers. 1 when done, 0 when a dep is not found that way
** (check_ids then names it, as it would have). */
static int ids_rising(ld *L)
{
    sio_schedule *s = L->s;
    int64_t *found = malloc((L->n_later ? L->n_later : 1) * sizeof *found);
    if (!found) return 0;
    size_t q = 0;
    for (; q < L->n_later; q++) {   /* stops at the first dep not found */
        const dep_raw *d = &L->later[q];
        const char *nm = L->dep_names + d->name_off;
        int64_t want, v;
        if (parse_u63(nm, d->name_len, &want) != 0) break;
        size_t lo = 0, hi = s->n;   /* the first row whose id is >= want */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const char *t = s->id_pool + s->id_off[mid];
            if (parse_u63(t, strlen(t), &v) != 0) { lo = hi = s->n; break; }
            if (v < want) lo = mid + 1;
            else hi = mid;
        }
        if (lo == s->n || s->chip[lo] != s->chip[d->row] || !name_is(s->id_pool + s->id_off[lo], nm, d->name_len))
            break;
        found[q] = (int64_t)lo;
    }
    int ok = q == L->n_later;
    for (q = 0; ok && q < L->n_later; q++) {
        const dep_raw *d = &L->later[q];
        s->dep_src[d->d] = (uint32_t)found[q];
        if ((size_t)found[q] > d->row) L->down = 1;
    }
    free(found);
    return ok;
}

/* Kahn's algorithm over the dep graph; on a cycle, walks it to name it. */
static int check_cycles(ld *L)
{
    sio_schedule *s = L->s;
    /* A cycle needs an edge to a row further down the file: with none the
    ** graph is acyclic and the walk (random access over every dep) is
    ** skipped. Such edges are mostly the `later` deps. */
    if (s->n_deps == 0 || !L->down) return 0;
    size_t n = s->n;
    uint32_t *indeg = calloc(n, sizeof *indeg);
    size_t *out_off = calloc(n + 1, sizeof *out_off);
    uint32_t *out = malloc(s->n_deps * sizeof *out);
    uint32_t *queue = malloc(n * sizeof *queue);
    int rc = 0;
    if (!indeg || !out_off || !out || !queue) { oom(L); rc = -1; goto done; }
    for (size_t d = 0; d < s->n_deps; d++) out_off[s->dep_src[d] + 1]++;
    for (size_t i = 0; i < n; i++) out_off[i + 1] += out_off[i];
    for (size_t i = 0; i < n; i++) {
        indeg[i] = (uint32_t)(s->dep_off[i + 1] - s->dep_off[i]);
        for (size_t d = s->dep_off[i]; d < s->dep_off[i + 1]; d++) out[out_off[s->dep_src[d]]++] = (uint32_t)i;
    }
    for (size_t i = n; i > 0; i--) out_off[i] = out_off[i - 1];
    out_off[0] = 0;
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < n; i++) if (!indeg[i]) queue[qt++] = (uint32_t)i;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        for (size_t e = out_off[v]; e < out_off[v + 1]; e++) if (--indeg[out[e]] == 0) queue[qt++] = out[e];
    }
    if (qt < n) {
        /* every node left has a dep that is left: walk back until one repeats */
        size_t v = 0;
        while (!indeg[v]) v++;
        uint32_t *seen = calloc(n, sizeof *seen);
        if (!seen) { oom(L); rc = -1; goto done; }
        uint32_t step = 1;
        while (!seen[v]) {
            seen[v] = step++;
            for (size_t d = s->dep_off[v]; d < s->dep_off[v + 1]; d++) {
                if (indeg[s->dep_src[d]]) { v = s->dep_src[d]; break; }
            }
        }
        /* v is on the cycle: name it, following the deps around once */
        char path[512];
        size_t len = 0;
        size_t u = v;
        do {
            int m = snprintf(path + len, sizeof path - len, "%s'%s'", len ? " <- " : "", sio_schedule_id(s, u));
            if (m > 0) len += (size_t)m;
            if (len >= sizeof path - 1) { len = sizeof path - 1; break; }
            for (size_t d = s->dep_off[u]; d < s->dep_off[u + 1]; d++) {
                if (indeg[s->dep_src[d]]) { u = s->dep_src[d]; break; }
            }
        } while (u != v);
        if (len < sizeof path - 16) snprintf(path + len, sizeof path - len, " <- '%s'", sio_schedule_id(s, v));
        free(seen);
        fail(L, row_line(s, v), (size_t)s->col_deps, 0, "dependency cycle: %s", path);
        rc = -1;
    }
done:
    free(indeg); free(out_off); free(out); free(queue);
    return rc;
}

typedef struct unit_last { int64_t start, end; uint32_t idx; } unit_last;

typedef struct by_start { int64_t start; uint32_t idx; } by_start;

static int cmp_by_start(const void *a, const void *b)
{
    const by_start *x = a, *y = b;
    if (x->start != y->start) return (x->start > y->start) - (x->start < y->start);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Positions an error at instruction i's column `col` for the public verify. */
static int verify_fail(const sio_schedule *s, sio_error *err, size_t i, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int verify_fail(const sio_schedule *s, sio_error *err, size_t i, int col, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!row_line(s, i)) {
        set_far(err, s->path, msg);
        return SIO_EINPUT;
    }
    int64_t l, c;
    int changed;
    src in = src_of(s);
    locate(&in, row_line(s, i), col < 0 ? 0 : (size_t)col, 0, &l, &c, &changed);
    sio_error_set(err, s->path, l, c, "%s%s", msg, changed ? " (no column: the file changed since it was read)" : "");
    return SIO_EINPUT;
}

/* Deps of all three kinds: the first broken one in file order. */
static int verify_deps(const sio_schedule *s, const int64_t *st, sio_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t d = s->dep_off[i]; d < s->dep_off[i + 1]; d++) {
            size_t j = s->dep_src[d];
            int64_t lag = s->dep_lag[d];
            switch (s->dep_kind[d]) {
            case SIO_DEP_END:
                if (st[i] < st[j] + s->cycles[j])
                    return verify_fail(s, err, i, s->col_start,
                                       "start %" PRId64 " breaks dep on '%s', which ends at %" PRId64, st[i],
                                       sio_schedule_id(s, j), st[j] + s->cycles[j]);
                break;
            case SIO_DEP_START:
                if (st[i] < st[j] + lag)
                    return verify_fail(s, err, i, s->col_start,
                                       "start %" PRId64 " breaks dep '%s+%" PRId64 "' (needs >= %" PRId64 ")", st[i],
                                       sio_schedule_id(s, j), lag, st[j] + lag);
                break;
            default:
                if (st[i] != st[j] + lag)
                    return verify_fail(s, err, i, s->col_start,
                                       "start %" PRId64 " breaks dep '%s=%" PRId64 "' (needs exactly %" PRId64 ")",
                                       st[i], sio_schedule_id(s, j), lag, st[j] + lag);
            }
        }
    }
    return SIO_OK;
}

/* One op at a time per unit: one pass when each unit's ops come in start
** order in the file (the usual case), else bucket by unit and sort. */
static int verify_units(const sio_chip *chip, const sio_schedule *s, const int64_t *st, sio_error *err)
{
    size_t nu = chip->n_units, slots = s->n_chips * nu;
    unit_last *last = malloc((slots ? slots : 1) * sizeof *last);
    if (!last) { sio_error_set(err, s->path, 0, 0, "out of memory"); return SIO_ENOMEM; }
    for (size_t k = 0; k < slots; k++) last[k].start = -1;
    int sorted = 1;
    for (size_t i = 0; i < s->n && sorted; i++) {
        unit_last *u = &last[(size_t)s->chip[i] * nu + s->unit[i]];
        if (u->start >= 0 && st[i] < u->start) { sorted = 0; break; }
        if (u->start >= 0 && st[i] < u->end) {
            int rc = verify_fail(s, err, i, s->col_start,
                                 "unit '%s' on chip %zu is busy with '%s' until %" PRId64 "; '%s' starts at %" PRId64,
                                 chip->units[s->unit[i]].name, file_chip(s, s->chip[i]), sio_schedule_id(s, u->idx), u->end,
                                 sio_schedule_id(s, i), st[i]);
            free(last);
            return rc;
        }
        u->start = st[i];
        u->end = st[i] + s->cycles[i];
        u->idx = (uint32_t)i;
    }
    if (sorted) { free(last); return SIO_OK; }
    free(last);
    size_t *off = calloc(slots + 1, sizeof *off);
    by_start *idx = malloc((s->n ? s->n : 1) * sizeof *idx);
    if (!off || !idx) { free(off); free(idx); sio_error_set(err, s->path, 0, 0, "out of memory"); return SIO_ENOMEM; }
    for (size_t i = 0; i < s->n; i++) off[(size_t)s->chip[i] * nu + s->unit[i] + 1]++;
    for (size_t k = 0; k < slots; k++) off[k + 1] += off[k];
    for (size_t i = 0; i < s->n; i++) {
        by_start *e = &idx[off[(size_t)s->chip[i] * nu + s->unit[i]]++];
        e->start = st[i];
        e->idx = (uint32_t)i;
    }
    for (size_t k = slots; k > 0; k--) off[k] = off[k - 1];
    off[0] = 0;
    int rc = SIO_OK;
    for (size_t k = 0; k < slots && rc == SIO_OK; k++) {
        by_start *b = idx + off[k];
        size_t m = off[k + 1] - off[k];
        qsort(b, m, sizeof *b, cmp_by_start);
        for (size_t a = 1; a < m; a++) {
            size_t p = b[a - 1].idx, i = b[a].idx;
            if (st[i] < st[p] + s->cycles[p]) {
                size_t later = i > p ? i : p, other = later == i ? p : i;   /* rows are in file order */
                rc = verify_fail(s, err, later, s->col_start,
                                 "unit '%s' on chip %zu runs '%s' (cycles %" PRId64 "-%" PRId64 ") and '%s' (cycles %"
                                 PRId64 "-%" PRId64 ") at once",
                                 chip->units[s->unit[i]].name, file_chip(s, s->chip[i]), sio_schedule_id(s, other), st[other],
                                 st[other] + s->cycles[other], sio_schedule_id(s, later), st[later],
                                 st[later] + s->cycles[later]);
                break;
            }
        }
    }
    free(off);
    free(idx);
    return rc;
}

typedef struct verify_job {
    const sio_chip *chip;
    const sio_schedule *s;
    const int64_t *st;
    sio_error err;
    int rc;
} verify_job;

static void *deps_job_run(void *arg)
{
    verify_job *j = arg;
    j->rc = verify_deps(j->s, j->st, &j->err);
    return NULL;
}

static void *units_job_run(void *arg)
{
    verify_job *j = arg;
    j->rc = verify_units(j->chip, j->s, j->st, &j->err);
    return NULL;
}

/* A broken dep wins over a busy unit, wherever each is; a big schedule has
** its two checks made at once. */
int sio_schedule_verify_opts(const sio_chip *chip, const sio_schedule *s, const int64_t *st,
                             const sio_load_opts *opts, sio_error *err)
{
    if (s->n < opts_or_default(opts).verify_two_min) {
        int rc = verify_deps(s, st, err);
        return rc ? rc : verify_units(chip, s, st, err);
    }
    verify_job d = {chip, s, st, {0}, SIO_OK}, u = d;
    sio_both(1, units_job_run, &u, deps_job_run, &d);
    const verify_job *w = d.rc ? &d : &u;
    if (w->rc) *err = w->err;
    return w->rc;
}

int sio_schedule_verify(const sio_chip *chip, const sio_schedule *s, const int64_t *st, sio_error *err)
{
    return sio_schedule_verify_opts(chip, s, st, NULL, err);
}

/* ---- the public entry points ------------------------------------------ */

/* A line libcsv makes no record of: line ends, and spaces or tabs alone. */
static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) if (p[i] != '\n' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t') return 0;
    return 1;
}

/* An error outside any one field (positioned by the caller). */
static void fail_at(ld *L, int rc, int64_t line, int64_t col, const char *msg)
{
    if (L->rc) return;
    if (L->par) { L->rc = SPLIT_ABANDONED; return; }
    if (rc == SIO_EINPUT && !L->ids_checked) {   /* a duplicate id above wins, as in failv */
        L->ids_checked = 1;
        if (!L->id_rising && check_ids(L, L->s->n, 0)) return;   /* rising ids are distinct */
    }
    sio_error_set(L->err, L->in->name, line, col, "%s", msg);
    L->rc = rc;
}

typedef unsigned char u8x16 __attribute__((vector_size(16)));

/* The field libcsv holds open (p->entry_pos bytes so far, not handed over
** yet) when it is already past a limit: the error, at the field's start,
** now rather than when it ends, which it may never do (a stream without
** line ends, a quote left open). Called after each piece fed to libcsv, so
** its buffer never holds more than a piece past the limit. */
static void open_field_check(ld *L, const struct csv_parser *p)
{
    size_t open = p->entry_pos;
    if (L->rc || !open) return;
    size_t rec_max = L->in_header ? L->opt.max_header_bytes : L->opt.max_record_bytes;
    if (open > L->opt.max_field_bytes)
        fail(L, L->rec_line, L->field, 0, "field longer than %zu bytes", L->opt.max_field_bytes);
    else if (L->rec_bytes + open > rec_max)
        fail(L, L->rec_line, L->field, 0, "%s longer than %zu bytes", L->in_header ? "header" : "record", rec_max);
}

/* libcsv stopped short of a piece: its buffer could not grow, past the
** backstop of field_realloc (a field too long) or out of memory. */
static void field_stopped(ld *L, const struct csv_parser *p)
{
    if (p->entry_size + (size_t)CHUNK >= MAX_FIELD) fail(L, L->rec_line, L->field, 0, "field longer than %zu bytes", L->opt.max_field_bytes);
    else oom(L);
}

/* 1 when each line of b[0, n) is one record: b ends a line, and no line is
** blank or starts with a space or tab, none has a quote, and every CR ends
** a line (CR LF). Sixteen bytes at a time, each beside the one after it. */
static int plain_lines(const char *b, size_t n)
{
    if (n == 0 || b[n - 1] != '\n' || b[0] == '\n' || b[0] == '\r' || b[0] == ' ' || b[0] == '\t') return 0;
    u8x16 bad = {0};
    size_t k = 0;
    for (; k + 17 <= n; k += 16) {
        u8x16 v, w;
        memcpy(&v, b + k, 16);
        memcpy(&w, b + k + 1, 16);
        bad |= (u8x16)(v == '"');
        bad |= (u8x16)(v == '\n') & (u8x16)((w == '\n') | (w == '\r') | (w == ' ') | (w == '\t'));
        bad |= (u8x16)(v == '\r') & (u8x16)(w != '\n');
    }
    for (int j = 0; j < 16; j++)
        if (bad[j]) return 0;
    for (; k < n; k++) {
        char c = b[k], d = k + 1 < n ? b[k + 1] : 'x';   /* the last byte is the '\n' */
        if (c == '"' || (c == '\r' && d != '\n')) return 0;
        if (c == '\n' && (d == '\n' || d == '\r' || d == ' ' || d == '\t')) return 0;
    }
    return 1;
}

/* Feeds bytes [from, to) of the text to libcsv in CHUNK buffers, a line at a
** time, so the line of every record is known; or, where each line of the
** buffer is one record (plain_lines), all its whole lines in one call, the
** records counting the lines (L->plain). */
static void feed(ld *L, struct csv_parser *p, off_t from, off_t to, char *buf)
{
    off_t pos = from;
    while (!L->rc && pos < to) {
        size_t want = (uintmax_t)(to - pos) < CHUNK ? (size_t)(to - pos) : CHUNK;
        ssize_t got_ = read_piece(L->in, buf, want, pos);
        if (got_ < 0 && errno == ENOMEM) {   /* a stream's text could not be kept */
            oom(L);
            return;
        }
        if (got_ < 0) {
            char m[256];
            snprintf(m, sizeof m, "read error: %s", strerror(errno));
            fail_at(L, SIO_EIO, 0, 0, m);
            return;
        }
        if (got_ == 0) break;
        size_t got = (size_t)got_, i = 0;
        if (pos == 0 && got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) i = 3;  /* UTF-8 BOM */
        pos += got_;
        if (!L->nul_seen && memchr(buf, 0, got)) L->nul_seen = 1;
        size_t last = got;   /* after the buffer's last '\n' (lines are short: back from the end) */
        while (last > i && buf[last - 1] != '\n') last--;
        int tried = 0;
        while (i < got && !L->rc) {
            /* once the line a buffer starts inside is read, its whole lines at
            ** once, when each is one record */
            if (!tried && L->at_line_start && !L->rec_open && p->pstate == 0) {
                tried = 1;
                size_t whole = last > i ? last - i : 0;
                if (whole && plain_lines(buf + i, whole)) {
                    L->plain = 1;
                    L->rec_line = L->line + 1;
                    size_t used = csv_parse(p, buf + i, whole, cb_field, cb_record, L);
                    L->plain = 0;
                    L->line = L->rec_line - 1;   /* a line per record */
                    if (used < whole && !L->rc) field_stopped(L, p);
                    i += whole;
                    continue;
                }
            }
            const char *nl = memchr(buf + i, '\n', got - i);
            size_t end = nl ? (size_t)(nl - buf) + 1 : got;
            if (L->at_line_start) {
                L->line++;
                L->line_col0 = 0;
            }
            if (!L->rec_open && !is_blank(buf + i, end - i)) {
                L->rec_open = 1;
                L->rec_line = L->line;
            }
            size_t used = csv_parse(p, buf + i, end - i, cb_field, cb_record, L);
            /* a record that began on this line after one ended at a bare CR
            ** (libcsv is inside it: pstate 0 is its ROW_NOT_BEGUN) */
            if (!L->rec_open && p->pstate != 0) L->rec_open = 1;
            if (used < end - i && !L->rc) {
                if (csv_error(p) == CSV_EPARSE) {
                    fail_at(L, SIO_EINPUT, (int64_t)L->line, (int64_t)(L->line_col0 + used + 1),
                            "malformed quoted field (a quote inside a field must be doubled)");
                } else {
                    field_stopped(L, p);
                }
            }
            open_field_check(L, p);
            L->line_col0 += end - i;
            L->at_line_start = nl != NULL;
            i = end;
        }
    }
}

/* Sizes the arrays and the deps for `rows` rows, and the id
** pool for `pool_rows` of them, at the density of the rows read so far, so
** nothing is copied as it grows. */
static void presize(ld *L, double rows, double pool_rows)
{
    sio_schedule *s = L->s;
    if (s->n <= 16 || rows >= 4e9) return;
    if ((size_t)rows > L->cap && grow_rows(L, (size_t)rows)) return;
    if (L->n_dr) {
        double d = (double)L->n_dr / (double)s->n * rows * 1.05;
        if (d > (double)L->dr_cap && d < 4e9 && grow_deps(L, (size_t)d)) return;
    }
    double pl = (double)L->pool_len / (double)s->n * pool_rows * 1.05;
    if (pl > (double)L->pool_cap && pl < 1e11) {
        char *pool = sio_big(s->id_pool, (size_t)pl);
        if (!pool) { oom(L); return; }
        s->id_pool = pool;
        L->pool_cap = (size_t)pl;
    }
}

/* The rows of the `size`-byte file, from the lines of its first `head` bytes. */
static double rows_in(const ld *L, uintmax_t size, uintmax_t head)
{
    uint64_t nl = (L->at_line_start ? L->line : L->line - 1) - L->in->line0;
    return nl <= 16 || head >= size ? 0 : (double)size / (double)head * (double)nl * 1.02 + 1024;
}

/* ---- split loads ---------------------------------------------------------
** A big file is read in two halves at once, one per thread: the second half
** starts at the first line end after the middle. Its rows go into the same
** arrays from row `split_row` on, where split_row is the number of line ends
** in the first half (after the rows already read): one record per line, so
** the halves meet exactly unless the first half has blank lines or a quoted
** field with a line end in it. Each half has its own id pool, deps and
** recent-id cache; neither reads the other's rows until the merge, and the
** ids are checked after it (check_ids). The first half must end on a record boundary with
** exactly split_row rows; anything else (those cases, an error anywhere, an
** estimate too small) abandons the split and the file is read again whole,
** by one thread, which also gives errors in file order. */

typedef struct half_job {
    ld *L;
    struct csv_parser *p;
    off_t from, to;
    char *buf;
    size_t deps;         /* deps expected by the end of the half */
} half_job;

/* Backs the pages of rows [r0, r1) of every row array: each half its own,
** at once, rather than the first thread all of them before the halves
** start. */
#define POP(a, i0, i1) sio_populate((char *)(a) + (i0) * sizeof *(a), ((i1) - (i0)) * sizeof *(a))
static void populate_rows(const ld *L, size_t r0, size_t r1)
{
    const sio_schedule *s = L->s;
    if (r1 <= r0) return;
    POP(s->unit, r0, r1); POP(s->op, r0, r1); POP(s->chip, r0, r1); POP(s->start_cyc, r0, r1);
    POP(s->cycles, r0, r1); POP(s->activity, r0, r1); POP(s->line, r0, r1); POP(s->id_off, r0, r1);
    POP(s->dep_off, r0, r1);
}

/* Likewise deps [d0, d1). */
static void populate_deps(const ld *L, size_t d0, size_t d1)
{
    const sio_schedule *s = L->s;
    if (d1 > L->dr_cap) d1 = L->dr_cap;
    if (d1 <= d0) return;
    POP(s->dep_kind, d0, d1); POP(s->dep_lag, d0, d1); POP(s->dep_src, d0, d1);
}
#undef POP

static void *first_half(void *arg)
{
    half_job *j = arg;
    populate_rows(j->L, j->L->s->n, j->L->cap);
    populate_deps(j->L, j->L->n_dr, j->deps);
    feed(j->L, j->p, j->from, j->to, j->buf);
    return NULL;
}

/* The '\n' bytes of b[0, n): sixteen at a time in GNU vectors (SSE2 on
** x86-64), twice as fast as memchr from one line end to the next. */

static size_t newlines(const char *b, size_t n)
{
    size_t nl = 0, k = 0;
    while (k + 16 <= n) {
        u8x16 count = {0};   /* per lane, at most 255 steps */
        for (size_t steps = 0; steps < 255 && k + 16 <= n; steps++, k += 16) {
            u8x16 c;
            memcpy(&c, b + k, 16);
            count -= (u8x16)(c == '\n');
        }
        for (int j = 0; j < 16; j++) nl += count[j];
    }
    for (; k < n; k++) nl += b[k] == '\n';
    return nl;
}

/* The line ends in [from, to) of the text; -1 on a read error. */
static intmax_t count_lines(const src *in, off_t from, off_t to, char *buf)
{
    intmax_t n = 0;
    for (off_t pos = from; pos < to;) {
        size_t want = (uintmax_t)(to - pos) < CHUNK ? (size_t)(to - pos) : CHUNK;
        ssize_t got = read_piece(in, buf, want, pos);
        if (got <= 0) return -1;
        n += (intmax_t)newlines(buf, (size_t)got);
        pos += got;
    }
    return n;
}

typedef struct count_job { const src *in; off_t from, to; char *buf; intmax_t n; } count_job;

static void *count_job_run(void *arg)
{
    count_job *j = arg;
    j->n = count_lines(j->in, j->from, j->to, j->buf);
    return NULL;
}

/* count_lines, the second half of the range on a thread of its own (it is
** the one step of a split load that one thread does while the other
** waits). */
static intmax_t count_lines_two(const src *in, off_t from, off_t to, char *buf)
{
    off_t mid = from + (to - from) / 2;
    count_job a = {in, from, mid, buf, -1}, b = {in, mid, to, malloc(CHUNK), -1};
    if (!b.buf) return count_lines(in, from, to, buf);
    sio_both(1, count_job_run, &a, count_job_run, &b);
    free(b.buf);
    return a.n < 0 || b.n < 0 ? -1 : a.n + b.n;
}

/* Offset just past the first line end at or after `at`, or -1. */
static off_t line_after(const src *in, off_t at, off_t size, char *buf)
{
    for (off_t pos = at; pos < size;) {
        size_t want = (uintmax_t)(size - pos) < CHUNK ? (size_t)(size - pos) : CHUNK;
        ssize_t got = read_piece(in, buf, want, pos);
        if (got <= 0) return -1;
        const char *nl = memchr(buf, '\n', (size_t)got);
        if (nl) return pos + (nl - buf) + 1;
        pos += got;
    }
    return -1;
}


/* The merge of a split load's second half, in two parts of about equal
** bytes: part 0 copies the deps' lags, part 1 their kinds and sources and
** shifts the second half's dep and id offsets. */
typedef struct merge_job {
    sio_schedule *s;
    const sio_schedule *s2;
    size_t nd1, nd2;      /* deps of the first half, of the second */
    size_t rows1;
    size_t id_base;       /* where the second half's ids start in the pool */
    int part;
} merge_job;

static void *merge_part(void *arg)
{
    merge_job *j = arg;
    sio_schedule *s = j->s;
    const sio_schedule *s2 = j->s2;
    if (j->part == 0) {
        if (j->nd2) sio_copy_release(s->dep_lag + j->nd1, s2->dep_lag, j->nd2 * sizeof *s->dep_lag);
        return NULL;
    }
    if (j->nd2) {
        sio_copy_release(s->dep_kind + j->nd1, s2->dep_kind, j->nd2 * sizeof *s->dep_kind);
        sio_copy_release(s->dep_src + j->nd1, s2->dep_src, j->nd2 * sizeof *s->dep_src);
    }
    for (size_t r = j->rows1; r < s2->n; r++) {
        s->dep_off[r] = (uint32_t)(s->dep_off[r] + j->nd1);   /* both fit: load_split checked */
        s->id_off[r] = (uint32_t)(s->id_off[r] + j->id_base);
    }
    return NULL;
}

static void free_half(ld *L2, sio_schedule *s2)
{
    free(s2->dep_kind); free(s2->dep_lag); free(s2->dep_src);   /* its id pool is part of the first's */
    free(s2);
    free(L2->rec_dr); free(L2->later); free(L2->recent); free(L2->dep_names);
}

/* Reads the rest of the text (from `head` on) in two halves at once into L,
** which has read the head. 0 when done (L holds the whole text), 1 when the
** text is not worth splitting (L untouched: read on), SPLIT_ABANDONED when
** L must be thrown away and the text read again whole. */
static int load_split(ld *L, struct csv_parser *p, off_t head, off_t size, char *buf)
{
    sio_schedule *s = L->s;
    off_t split = line_after(L->in, size / 2, size, buf);
    if (split <= head || split >= size || L->in_header || s->n <= 16) return 1;
    intmax_t nl1 = count_lines_two(L->in, head, split, buf);
    if (nl1 < 0) return 1;
    /* rows of the first half at most; the line where the second starts */
    size_t rows1 = s->n + (size_t)nl1 - (!L->at_line_start && !L->rec_open ? 1u : 0u);
    uint64_t lines1 = (L->at_line_start ? L->line : L->line - 1u) + (uint64_t)nl1;
    double exp2 = (double)(size - split) / (double)head * (double)s->n, est2 = exp2 * 1.1 + 1024;
    double rows = (double)rows1 + est2;
    if (rows >= 4e9) return 1;
    /* the rows and the deps for the whole file (the second
    ** half's deps are copied in after it); the id pools are reserved below */
    L->lazy = 1;                 /* each half backs its own pages (populate_rows) */
    presize(L, rows, 0);
    if (L->rc) return SPLIT_ABANDONED;
    /* one id pool in two parts, one per half, each at most the bytes of
    ** its half; the second stays where it is written (its id_off shifted
    ** at the merge): its pages are never copied, the gap never touched
    ** (unless the offsets past the gap would not fit in 32 bits) */
    size_t pool1 = L->pool_len + (size_t)(split - head) + 64, pool2 = (size_t)(size - split) + 64;
    char *pq = sio_reserve(s->id_pool, pool1 + pool2);
    if (!pq) { oom(L); return SPLIT_ABANDONED; }
    s->id_pool = pq;
    /* the second half */
    sio_schedule *s2 = malloc(sizeof *s2);
    ld *L2 = calloc(1, sizeof *L2);
    char *buf2 = malloc(CHUNK);
    struct csv_parser p2;
    int have_p2 = 0, rc = SPLIT_ABANDONED;
    if (!s2 || !L2 || !buf2) { free(s2); free(L2); free(buf2); oom(L); return SPLIT_ABANDONED; }
    *s2 = *s;
    s2->n = rows1;
    s2->n_chips = 1;
    s2->dep_kind = NULL; s2->dep_lag = NULL; s2->dep_src = NULL;
    s2->id_pool = s->id_pool + pool1;   /* not the second's to free or grow */
    L2->lazy = 1;
    L2->chip = L->chip;
    L2->opt = L->opt;
    L2->s = s2;
    L2->in = L->in;
    L2->err = L->err;
    L2->cap = L->cap;
    L2->pool_cap = pool2;
    L->pool_cap = pool1;
    L2->kind = L->kind;
    L2->n_kind = L->n_kind;
    L2->line = lines1;
    L2->at_line_start = 1;
    L2->id_rising = L->id_rising;
    L2->row0 = rows1;
    L2->recent = calloc(RECENT, sizeof *L2->recent);
    L2->unit_h = L->unit_h;
    L2->op_h = L->op_h;
    L2->hv = L->hv;
    L2->par = L->par = 1;
    L2->half[0] = L->half[0] = s;
    L2->half[1] = L->half[1] = s2;
    L2->split_row = L->split_row = rows1;
    size_t cap = L->cap;
    L->cap = rows1;              /* the first half may not write past its rows */
    if (L->n_dr) {
        double d2 = (double)L->n_dr / (double)s->n * est2 * 1.05;
        if (grow_deps(L2, (size_t)d2)) goto out;
    }
    L->lazy = L2->lazy = 0;
    if (!L2->recent || csv_init(&p2, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) goto out;
    have_p2 = 1;
    csv_set_blk_size(&p2, 256);
    csv_set_realloc_func(&p2, field_realloc);
    /* each half backs the pages it expects to fill (the margins fault in if used) */
    double dens = (double)L->n_dr / (double)s->n;
    half_job j1 = {L, p, head, split, buf, (size_t)(dens * (double)rows1)};
    pthread_t t;
    if (pthread_create(&t, NULL, first_half, &j1) != 0) goto out;
    populate_rows(L2, rows1, rows1 + (size_t)exp2 < L2->cap ? rows1 + (size_t)exp2 : L2->cap);
    populate_deps(L2, 0, (size_t)(dens * exp2));
    feed(L2, &p2, split, size, buf2);
    if (!L2->rc && csv_fini(&p2, cb_field, cb_record, L2) != 0) L2->rc = SPLIT_ABANDONED;
    pthread_join(t, NULL);
    /* the first half must end where a record ends: no record open by our
    ** count, and libcsv between rows (pstate 0 is its ROW_NOT_BEGUN), not in
    ** a quoted field a bare CR left open */
    if (L->rc || L2->rc || L->rec_open || p->pstate != 0 || p->quoted || s->n != rows1) goto out;
    /* one schedule: the second half's deps and ids after the first's (an
    ** allocation failing here still gives up the split: one thread may fit) */
    L->cap = cap;
    size_t nd1 = L->n_dr;
    if (nd1 + L2->n_dr > max_deps(L)) goto out;   /* one thread reads it again, to the record past the limit */
    /* the second half's ids stay where they were written, unless their
    ** offsets (32 bits) would not fit: then they move down to just after
    ** the first half's (a file of over 4 GiB) */
    size_t base = pool1;
    if (pool1 + L2->pool_len > max_id_bytes(L)) {
        base = L->pool_len;
        if (base + L2->pool_len > max_id_bytes(L)) goto out;   /* one thread reads it again, to the id past the limit */
        memmove(s->id_pool + base, s->id_pool + pool1, L2->pool_len);
    }
    if (nd1 + L2->n_dr > L->dr_cap && grow_deps(L, nd1 + L2->n_dr)) goto out;
    /* the second half's deps after the first's (its pages go back as they
    ** are copied) and its rows' offsets shifted, on two threads: the copy
    ** backs fresh pages, and the other thread would wait */
    merge_job ma = {s, s2, nd1, L2->n_dr, rows1, base, 0}, mb = ma;
    mb.part = 1;
    sio_both(1, merge_part, &ma, merge_part, &mb);
    /* the second half's unresolved deps, their names after the first's */
    size_t dn1 = L->dn_len;
    if (L2->dn_len && pool_add(L, &L->dep_names, &L->dn_len, &L->dn_cap, L2->dep_names, L2->dn_len)) goto out;
    if (L->n_later + L2->n_later > L->later_cap) {
        dep_raw *q = realloc(L->later, (L->n_later + L2->n_later) * sizeof *q);
        if (!q) { oom(L); goto out; }
        L->later = q;
        L->later_cap = L->n_later + L2->n_later;
    }
    for (size_t q = 0; q < L2->n_later; q++) {
        dep_raw d = L2->later[q];
        d.d += nd1;
        d.name_off += dn1;
        L->later[L->n_later++] = d;
    }
    L->n_dr = nd1 + L2->n_dr;
    L->pool_len = base + L2->pool_len;
    L->pool_cap = pool1 + pool2;
    L->line = L2->line;
    L->rec_line = L2->rec_line;
    L->down |= L2->down;
    int rose1 = L->id_rising, rose2 = L2->id_rising;
    L->id_rising = rose1 && rose2 && (!L->id_any || !L2->id_any || L2->id_first > L->id_last);
    if (L2->id_any) {
        if (!L->id_any) L->id_first = L2->id_first;
        L->id_last = L2->id_last;
        L->id_any = 1;
    }
    s->n = s2->n;
    if (!L->id_rising) {   /* the hashes of a half whose ids rose, now that the whole file's do not */
        if (rose1) { sio_populate(L->hv, rows1 * sizeof *L->hv); hv_fill(L->hv, s, 0, rows1); }
        if (rose2) { sio_populate(L->hv + rows1, (s->n - rows1) * sizeof *L->hv); hv_fill(L->hv, s, rows1, s->n); }
    }
    if (s2->n_chips > s->n_chips) s->n_chips = s2->n_chips;
    s->split = 1;
    L->par = 0;
    rc = 0;
out:
    L->par = L->lazy = 0;
    L->cap = cap;
    L->half[1] = s;
    L->split_row = SIZE_MAX;
    if (rc && !L->rc) L->rc = SPLIT_ABANDONED;
    if (rc) rc = SPLIT_ABANDONED;
    if (have_p2) csv_free(&p2);
    free_half(L2, s2);
    free(L2);
    free(buf2);
    return rc;
}

/* Sets L up to read the schedule `in` holds against chip: an empty
** schedule named after it, the chip's hashes, room for the first rows.
** Returns L->rc; ld_end frees what it got either way. The schedule points
** at a buffer's text (in->text) while it is read, and at a stream's once it
** is read (load), so that the errors of its last check find their columns. */
static int ld_start(ld *L, const sio_chip *chip, const src *in, const sio_load_opts *opts, sio_error *err)
{
    memset(L, 0, sizeof *L);
    L->chip = chip;
    L->opt = limits_set(opts_or_default(opts));
    L->in = in;
    L->err = err;
    L->in_header = 1;
    L->at_line_start = 1;
    L->split_row = SIZE_MAX;
    L->id_rising = 1;
    L->line = in->line0;
    sio_schedule *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(in->name))) {
        free(s);
        sio_error_set(err, in->name, 0, 0, "out of memory");
        return L->rc = SIO_ENOMEM;
    }
    s->source = in->text ? SIO_SOURCE_BUFFER : in->by_field ? SIO_SOURCE_BUILDER
              : in->keep ? SIO_SOURCE_STREAM : SIO_SOURCE_FILE;
    s->text = in->text;
    s->text_len = in->text ? in->len : 0;
    if (in->has_id) {
        s->file_dev = in->id.dev;
        s->file_ino = in->id.ino;
        s->file_size = in->id.size;
        s->file_mtime_ns = in->id.mtime_ns;
    }
    L->s = s;
    L->half[0] = L->half[1] = s;
    s->n_chips = 1;
    s->chip_lo = L->opt.chip_step ? L->opt.chip_lo : 0;   /* a share's chips, for messages */
    s->chip_step = L->opt.chip_step;
    s->col_id = s->col_unit = s->col_op = s->col_start = s->col_cycles = -1;
    s->col_chip = s->col_activity = s->col_deps = -1;
    L->recent = calloc(RECENT, sizeof *L->recent);
    if (!L->recent || build_chip_hashes(L) || grow_rows(L, 0)) oom(L);
    return L->rc;
}

/* The checks once every row is in: ids unique per chip and the deps
** resolved, no dependency cycle, the schedule against its own rules. */
static void ld_check(ld *L)
{
    sio_schedule *s = L->s;
    if (L->rc) return;
    s->dep_off[s->n] = (uint32_t)L->n_dr;
    s->n_deps = L->n_dr;
    L->ids_checked = 1;
    if (L->id_rising && !ids_rising(L)) {   /* a dep not found among the rising ids: check_ids names it */
        sio_populate(L->hv, s->n * sizeof *L->hv);
        hv_fill(L->hv, s, 0, s->n);
        L->id_rising = 0;
    }
    if (!L->id_rising) check_ids(L, s->n, 1);
    if (!L->rc) check_cycles(L);
    if (!L->rc) {
        int rc = sio_schedule_verify_opts(L->chip, s, s->start_cyc, &L->opt, L->err);
        if (rc) L->rc = rc;
    }
}

/* Frees what L holds; the schedule goes to *out when L has no error and
** out is not NULL, else it is freed too (but not a buffer's or a stream's
** text: the caller's). Returns L->rc. */
static int ld_end(ld *L, sio_schedule **out)
{
    free(L->kind);
    free(L->rec_dr);
    free(L->later);
    free(L->recent);
    free(L->dep_names);
    free(L->unit_h.slot);
    free(L->op_h.slot);
    free(L->hv);
    if (L->rc || !out) {
        if (L->s) L->s->text = NULL;
        sio_schedule_free(L->s);
        return L->rc;
    }
    *out = L->s;
    return SIO_OK;
}

/* Loads the schedule `in` holds; may_split lets a big one be read in two
** halves at once. */
static int load(const sio_chip *chip, const src *in, const sio_load_opts *opts, sio_schedule **out,
                sio_error *err, int may_split)
{
    *out = NULL;
    ld L;
    char *buf = malloc(CHUNK);
    struct csv_parser p;
    int have_p = 0;
    if (ld_start(&L, chip, in, opts, err)) goto out;
    if (!buf || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
        oom(&L);
        goto out;
    }
    have_p = 1;
    csv_set_blk_size(&p, 256);
    csv_set_realloc_func(&p, field_realloc);
    /* the head, from which everything is sized; then the rest, in two
    ** halves at once when the file is big */
    int seekable = in->seekable;
    off_t size = seekable ? (off_t)in->len : 0;
    /* a share that keeps every chip (step 1 from 0) may split: it drops no row */
    int share = L.opt.chip_step > 1 || (L.opt.chip_step && L.opt.chip_lo);
    int split = may_split && seekable && (uintmax_t)size >= L.opt.split_min_bytes && size >= 64 && !share;
    off_t head = !seekable ? 0 : split && size / 4 < (off_t)CHUNK ? size / 4 : size < (off_t)CHUNK ? size : (off_t)CHUNK;
    if (seekable) feed(&L, &p, 0, head, buf);
    int rest = 1;
    if (!L.rc && split) {
        int r = load_split(&L, &p, head, size, buf);
        if (r == SPLIT_ABANDONED) goto out;
        rest = r;
    }
    if (!L.rc && rest && seekable) {
        double rows = rows_in(&L, (uintmax_t)size, (uintmax_t)head);
        /* a share keeps about its part of the chips' rows, not the file's
        ** (more grow as they come) */
        if (share) rows = rows / (double)L.opt.chip_step * 1.1;
        presize(&L, rows, rows);
    }
    if (!L.rc && rest) feed(&L, &p, head, seekable ? size : (off_t)INTMAX_MAX, buf);
    if (!L.rc && csv_fini(&p, cb_field, cb_record, &L) != 0 && !L.rc)
        fail_at(&L, SIO_EINPUT, (int64_t)L.rec_line, 1, "unterminated quoted field (the record starts here)");
    if (!L.rc && L.in_header) {
        sio_error_set(err, in->name, 1, 1, "empty file: a schedule needs a header (id,unit,op,start,cycles)");
        L.rc = SIO_EINPUT;
    }
    /* a file rewritten while it was read may have given a mix of two */
    if (!L.rc && in->has_id && !fd_is(in->fd, in->id))
        fail_at(&L, SIO_EINPUT, 0, 0, "changed while it was read");
    /* a stream's text, kept as it was read, is the schedule's from now on
    ** (the caller frees it if the load fails: ld_end leaves it alone) */
    if (!L.rc && in->keep) {
        L.s->text = in->keep->text;
        L.s->text_len = in->keep->len;
    }
    ld_check(&L);
    /* n_chips has counted the file's chips; a share has those of its own */
    if (L.s) L.s->n_chips_file = L.s->n_chips;
    if (!L.rc && L.opt.chip_step) {
        size_t all = L.s->n_chips, lo = L.opt.chip_lo, step = L.opt.chip_step;
        L.s->n_chips = all > lo ? (all - lo + step - 1) / step : 0;
    }
out:
    if (have_p) csv_free(&p);
    free(buf);
    return ld_end(&L, out);
}

/* load, and again in one pass when a split read was given up. */
static int load_whole(const sio_chip *chip, const src *in, const sio_load_opts *opts, sio_schedule **out,
                      sio_error *err)
{
    int rc = load(chip, in, opts, out, err, 1);
    if (rc == SPLIT_ABANDONED) rc = load(chip, in, opts, out, err, 0);
    return rc;
}

int sio_schedule_load_opts(const sio_chip *chip, const char *path, const sio_load_opts *opts,
                           sio_schedule **out, sio_error *err)
{
    sio_error scratch;
    if (!err) err = &scratch;
    *out = NULL;
    src in = {path, NULL, 0, open(path, O_RDONLY), 0, 0, NULL, 0, {0, 0, 0, 0}, 0};
    if (in.fd < 0) {
        sio_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return SIO_EIO;
    }
    struct stat sb;
    if (fstat(in.fd, &sb) != 0) {
        sio_error_set(err, path, 0, 0, "cannot read: %s", strerror(errno));
        close(in.fd);
        return SIO_EIO;
    }
    /* a regular file is read at any offset and may be read again (if it is
    ** still the same file); anything else is read once, and kept */
    kept keep = {NULL, 0, 0, 0};   /* not backed: a piped schedule costs its size, not twice it */
    in.seekable = in.has_id = S_ISREG(sb.st_mode);
    if (in.seekable) {
        in.len = (size_t)sb.st_size;
        in.id = file_id_of(&sb);
    } else {
        in.keep = &keep;
    }
    int rc = load_whole(chip, &in, opts, out, err);
    close(in.fd);
    if (rc) {
        free(keep.text);
    } else if (keep.text) {
        char *t = realloc(keep.text, keep.len);   /* no room to grow any more */
        if (t) (*out)->text = t;
    }
    return rc;
}

int sio_schedule_from_buffer_at(const sio_chip *chip, const char *name, const char *text, size_t len,
                                const sio_load_opts *opts, uint64_t lines_before, sio_schedule **out,
                                sio_error *err)
{
    sio_error scratch;
    if (!err) err = &scratch;
    *out = NULL;
    if (!name) name = "<buffer>";
    src in = {name, malloc(len ? len : 1), len, -1, 1, 0, NULL, 0, {0, 0, 0, 0}, lines_before};
    if (!in.text) {
        sio_error_set(err, name, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    if (len) memcpy(in.text, text, len);
    int rc = load_whole(chip, &in, opts, out, err);
    if (rc) free(in.text);   /* else the schedule's */
    return rc;
}

int sio_schedule_from_buffer(const sio_chip *chip, const char *name, const char *text, size_t len,
                             const sio_load_opts *opts, sio_schedule **out, sio_error *err)
{
    return sio_schedule_from_buffer_at(chip, name, text, len, opts, 0, out, err);
}

int sio_schedule_load(const sio_chip *chip, const char *path, sio_schedule **out, sio_error *err)
{
    return sio_schedule_load_opts(chip, path, NULL, out, err);
}

/* ---- the builder ---------------------------------------------------------
** A builder is the reader with rows in place of CSV text: the header
** BUILT_COLS, then each row's fields as text (numbers printed), go through
** take_field and cb_record as libcsv's fields do, so every per-record rule
** and message is the reader's, and sio_builder_finish runs ld_check as a
** load does. Its source has no text, so errors are positioned by field
** (src.by_field), a row a line from line 2. Each accepted row is also kept
** as a CSV record (put_record), which becomes the schedule's text: what
** sio_schedule_write copies. */

static const char *const BUILT_COLS[] = {"id", "unit", "op", "start", "cycles", "activity", "deps", "chip"};
#define N_BUILT (sizeof BUILT_COLS / sizeof BUILT_COLS[0])

struct sio_builder {
    src in;
    ld L;
    sio_error err;        /* the first error */
    kept text;            /* the header and the rows so far, as CSV (backed) */
};

/* The shortest %g text that strtod reads back as v. */
static void real_text(double v, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* Appends a record of N_BUILT fields to the builder's text, each quoted
** when a reader would not give it back as it is: it holds a comma, a quote
** or a line end, or starts or ends with a space or tab. */
static int put_record(sio_builder *b, const char *const f[N_BUILT])
{
    int bad = 0;
    for (size_t k = 0; k < N_BUILT; k++) {
        const char *t = f[k];
        size_t n = strlen(t);
        int q = n && (t[0] == ' ' || t[0] == '\t' || t[n - 1] == ' ' || t[n - 1] == '\t');
        for (size_t i = 0; i < n && !q; i++) q = t[i] == ',' || t[i] == '"' || t[i] == '\n' || t[i] == '\r';
        if (q) {   /* each quote doubled: the text up to and with it, and one more */
            bad |= keep_add(&b->text, "\"", 1);
            for (const char *e; (e = strchr(t, '"')) != NULL; t = e + 1) {
                bad |= keep_add(&b->text, t, (size_t)(e - t) + 1);
                bad |= keep_add(&b->text, "\"", 1);
            }
            bad |= keep_add(&b->text, t, strlen(t));
            bad |= keep_add(&b->text, "\"", 1);
        } else {
            bad |= keep_add(&b->text, t, n);
        }
        bad |= keep_add(&b->text, k + 1 < N_BUILT ? "," : "\n", 1);
    }
    return bad;
}

/* The builder's status: its first error, if any, copied to err. */
static int builder_status(const sio_builder *b, sio_error *err)
{
    if (b->L.rc && err) *err = b->err;
    return b->L.rc;
}

/* Feeds one record of N_BUILT fields (the header while L->in_header) to
** the reader, and keeps it in the text when it is accepted. */
static void builder_record(sio_builder *b, const char *const f[N_BUILT])
{
    ld *L = &b->L;
    for (size_t k = 0; k < N_BUILT; k++) take_field(L, f[k], strlen(f[k]));
    cb_record(0, L);
    if (!L->rc && put_record(b, f)) oom(L);
}

int sio_builder_new(const sio_chip *chip, const char *name, const sio_load_opts *opts, sio_builder **out,
                    sio_error *err)
{
    *out = NULL;
    if (!name) name = "<builder>";
    sio_builder *b = calloc(1, sizeof *b);
    if (!b) {
        sio_error_set(err, name, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    src in = {name, NULL, 0, -1, 0, 1, NULL, 0, {0, 0, 0, 0}, 0};
    b->in = in;
    b->text.backed = 1;
    ld *L = &b->L;
    if (!ld_start(L, chip, &b->in, opts, &b->err)) {
        b->in.name = L->s->path;   /* the schedule's copy: the caller's name may go */
        L->opt.max_header_bytes = L->opt.max_header_cols = SIZE_MAX;   /* its own header, not input */
        L->plain = 1;              /* a record a line: rec_line counts the rows */
        L->rec_line = 1;
        builder_record(b, BUILT_COLS);
    }
    if (L->rc) {
        int rc = builder_status(b, err);
        sio_builder_free(b);
        return rc;
    }
    *out = b;
    return SIO_OK;
}

int sio_builder_add(sio_builder *b, const sio_row *row, sio_error *err)
{
    if (!b->L.rc) {
        char num[4][32];
        snprintf(num[0], sizeof num[0], "%" PRId64, row->start_cyc);
        snprintf(num[1], sizeof num[1], "%" PRId64, row->cycles);
        real_text(row->activity, num[2], sizeof num[2]);
        snprintf(num[3], sizeof num[3], "%zu", row->chip);
        const char *const f[N_BUILT] = {row->id ? row->id : "", row->unit ? row->unit : "", row->op ? row->op : "",
                                        num[0], num[1], num[2], row->deps ? row->deps : "", num[3]};
        builder_record(b, f);
    }
    return builder_status(b, err);
}

int sio_builder_finish(sio_builder *b, sio_schedule **out, sio_error *err)
{
    *out = NULL;
    ld_check(&b->L);
    int rc = builder_status(b, err);
    if (ld_end(&b->L, out) == SIO_OK) {
        char *t = realloc(b->text.text, b->text.len);   /* no room to grow any more */
        (*out)->text = t ? t : b->text.text;
        (*out)->text_len = b->text.len;
        b->text.text = NULL;
    }
    free(b->text.text);
    free(b);
    return rc;
}

void sio_builder_free(sio_builder *b)
{
    if (!b) return;
    ld_end(&b->L, NULL);
    free(b->text.text);
    free(b);
}

void sio_schedule_free(sio_schedule *s)
{
    if (!s) return;
    free(s->path);
    free(s->unit); free(s->op); free(s->chip);
    free(s->start_cyc); free(s->cycles); free(s->activity); free(s->line);
    free(s->dep_off); free(s->dep_src); free(s->dep_kind); free(s->dep_lag);
    free(s->id_pool); free(s->id_off);
    free(s->text);
    for (size_t k = 0; k < s->n_cols; k++) free(s->cols[k]);
    free(s->cols);
    free(s);
}

const char *sio_schedule_id(const sio_schedule *s, size_t i) { return s->id_pool + s->id_off[i]; }

int64_t sio_schedule_makespan_cyc(const sio_schedule *s)
{
    int64_t m = 0;
    for (size_t i = 0; i < s->n; i++) if (s->start_cyc[i] + s->cycles[i] > m) m = s->start_cyc[i] + s->cycles[i];
    return m;
}

/* ---- the writer ------------------------------------------------------- */

typedef struct wr {
    FILE *out;
    const sio_schedule *s;
    const int64_t *st;
    char *rec;            /* the record's bytes so far */
    size_t len, cap;
    size_t row;           /* -1 for the header */
    int header_done;
    int failed;           /* out of memory */
} wr;

static void wr_cb1(void *f, size_t n, void *data) { (void)f; (void)n; (void)data; }

static void wr_cb2(int c, void *data)
{
    (void)c;
    wr *w = data;
    if (!w->header_done) {
        w->header_done = 1;
    } else {
        size_t r = w->row++;
        size_t a, b;
        if (r < w->s->n && w->st[r] != w->s->start_cyc[r] &&
            field_span(w->rec, w->len, (size_t)w->s->col_start, &a, &b) == 0) {
            fwrite(w->rec, 1, a, w->out);
            fprintf(w->out, "%" PRId64, w->st[r]);
            fwrite(w->rec + b, 1, w->len - b, w->out);
            w->len = 0;
            return;
        }
    }
    fwrite(w->rec, 1, w->len, w->out);
    w->len = 0;
}

/* The writer's error for a file that is no longer the one read. */
static int changed_since(sio_error *err, const char *path, const char *out_path)
{
    sio_error_set(err, path, 0, 0, "changed since it was read: %s not written", out_path);
    return SIO_EINPUT;
}

int sio_schedule_write(const sio_schedule *s, const int64_t *start_cyc, const char *out_path, sio_error *err)
{
    src from = src_of(s);
    if (s->source == SIO_SOURCE_FILE && sio_same_file(out_path, s->path)) {
        sio_error_set(err, out_path, 0, 0, "refusing to overwrite the input schedule");
        return SIO_EINPUT;
    }
    reread in;
    int changed;
    if (reread_open(&from, &in, &changed)) {
        if (changed) return changed_since(err, s->path, out_path);
        sio_error_set(err, s->path, 0, 0, "cannot reopen to write it back: %s", strerror(errno));
        return SIO_EIO;
    }
    sio_out *o;
    int rc = sio_out_open(out_path, &o, err);
    if (rc) { reread_close(&in); return rc; }
    wr w;
    memset(&w, 0, sizeof w);
    w.out = sio_out_file(o);
    w.s = s;
    w.st = start_cyc;
    struct csv_parser p;
    char *buf = malloc(CHUNK);
    if (!buf || csv_init(&p, CSV_APPEND_NULL) != 0) {
        free(buf);
        reread_close(&in);
        sio_out_abort(o);
        sio_error_set(err, out_path, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    ssize_t got_;
    uint64_t pos = 0;
    int in_rec = 0, read_bad = 0;
    while (!w.failed && (got_ = reread_at(&in, buf, CHUNK, pos)) != 0) {
        if (got_ < 0) { read_bad = 1; break; }
        size_t got = (size_t)got_, i = 0;
        pos += got;
        while (i < got) {
            const char *nl = memchr(buf + i, '\n', got - i);
            size_t end = nl ? (size_t)(nl - buf) + 1 : got;
            if (!in_rec && w.len == 0 && is_blank(buf + i, end - i)) {
                fwrite(buf + i, 1, end - i, w.out);     /* a blank line between records */
                i = end;
                continue;
            }
            in_rec = 1;
            if (w.len + (end - i) > w.cap) {
                size_t c = w.cap ? w.cap : 4096;
                while (c < w.len + (end - i)) c *= 2;
                char *r = realloc(w.rec, c);
                if (!r) { w.failed = 1; break; }
                w.rec = r;
                w.cap = c;
            }
            memcpy(w.rec + w.len, buf + i, end - i);
            w.len += end - i;
            /* libcsv stops short only when out of memory (not strict) */
            if (nl) {
                if (csv_parse(&p, w.rec + w.len - (end - i), end - i, wr_cb1, wr_cb2, &w) != end - i) w.failed = 1;
                if (w.len == 0) in_rec = 0;
            } else if (csv_parse(&p, buf + i, end - i, wr_cb1, wr_cb2, &w) != end - i) {
                w.failed = 1;
            }
            i = end;
        }
    }
    /* a last record with no newline */
    if (!w.failed && !read_bad) {
        size_t keep = w.len;
        csv_fini(&p, wr_cb1, wr_cb2, &w);
        if (w.len == keep && keep) fwrite(w.rec, 1, w.len, w.out);
    }
    csv_free(&p);
    free(buf);
    free(w.rec);
    /* a file rewritten while it was copied, or to other records with the
    ** same size and time: not the schedule that was read */
    int moved = (in.own && !fd_is(in.fd, in.id)) || (!w.failed && !read_bad && w.row != s->n);
    reread_close(&in);
    if (moved) {
        sio_out_abort(o);
        return changed_since(err, s->path, out_path);
    }
    if (read_bad || w.failed) {
        sio_out_abort(o);
        if (w.failed) sio_error_set(err, out_path, 0, 0, "out of memory");
        else sio_error_set(err, out_path, 0, 0, "could not copy %s", s->path);
        return w.failed ? SIO_ENOMEM : SIO_EIO;
    }
    return sio_out_commit(o, err);
}
