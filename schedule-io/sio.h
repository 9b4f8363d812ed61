/* sio.h -- the data model of pda: chip descriptions and compiled schedules.
**
** A chip (`pda-chip/1` JSON, read with jansson) is a transparent, read-only
** struct: dies, rails with their power-delivery network, units with their
** place on the die, per-op currents and the thermal stack. A schedule (CSV,
** streamed through libcsv in fixed-size buffers from a file or from memory,
** or built row by row through the same checks) sits in flat arrays, one
** entry per instruction in file order, so 10^7 instructions cost ~50 bytes
** each (and ~13 a dep). Every loader stops at the first error and describes
** it in an sio_error as "file:line:col: message" (for a buffer or a builder,
** the name the caller gave in place of the file).
**
** Units are in the names: _cyc cycles, _ns nanoseconds, _a amperes, _v volts,
** _mv millivolts, _ohm, _h henries, _f farads, _m metres, _mm millimetres,
** _c degrees Celsius. Indices are size_t, except inside the schedule's flat
** arrays where 32-bit indices keep the footprint small. */
#ifndef PDA_SIO_H
#define PDA_SIO_H
#include <stddef.h>
#include <stdint.h>

#include "pda_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success. */
enum {
    SIO_OK = PDA_OK,
    SIO_EINPUT = PDA_EINPUT, /* the input is malformed or breaks a rule */
    SIO_EIO = PDA_EIO,       /* a file could not be opened, read or written */
    SIO_ENOMEM = PDA_ENOMEM  /* out of memory */
};

/* The first error met. text is ready to print: "file:line:col: message"
** (line and col 1-based; ":line:col" left out where it has no meaning), one
** line whatever the input: what it quotes is escaped (sio_error_set). */
typedef struct sio_error {
    int64_t line;   /* 64 bits: a stream may run past 2^31 lines */
    int64_t col;
    char text[1024];
} sio_error;

/* ---- chip description ------------------------------------------------ */

typedef struct sio_die {
    int id;     /* as given in the JSON */
    char *name;
} sio_die;

/* One stage of a rail's ladder, regulator to die: series r + l from node
** k-1 to node k, shunt from node k to ground of c in series with esr, esl. */
typedef struct sio_stage {
    char *name;
    double r_ohm, l_h, c_f, esr_ohm, esl_h;
} sio_stage;

/* A regulator at node 0 of a ladder (`pdn.vrm`): node 0 is vdd_v + u(t),
** du/dt = 2 pi bandwidth_hz (vdd_v - loadline_ohm i_src - v_sense), with
** i_src the current leaving the regulator and v_sense the voltage of the
** node after stage sense_node (0: node 0 itself). */
typedef struct sio_vrm {
    int present;                  /* 0: node 0 is an ideal source at vdd_v */
    char *sense;                  /* the sensed stage's name, or NULL: node 0 */
    size_t sense_node;            /* 0, or k: the node after stage k (1-based) */
    double bandwidth_hz;          /* default 4e4 */
    double loadline_ohm;          /* default 0 */
    int64_t line, col;            /* where `vrm` sits in the chip file (for errors about the loop) */
} sio_vrm;

typedef struct sio_rail {
    char *name;
    double vdd_v;
    double guardband_mv;          /* default 70 */
    double didt_limit_a_per_ns;   /* default 8 */
    double didt_window_ns;        /* w of the dI/dt test, default 5 */
    sio_stage *stages;            /* n_stages, or NULL when a table is used */
    size_t n_stages;
    /* A tabulated Z(f) seen from the die, when `impedance_csv` is given:
    ** n_z rows sorted by strictly increasing f_hz (>= 0). */
    char *impedance_csv;          /* path as resolved (relative to the chip file) */
    double *z_f_hz, *z_re_ohm, *z_im_ohm;
    size_t n_z;
    sio_vrm vrm;                  /* ladders only */
} sio_rail;

typedef struct sio_unit {
    char *name;
    size_t cls;         /* index into sio_chip.classes */
    size_t die;         /* index into sio_chip.dies */
    size_t rail;        /* index into sio_chip.rails */
    double rect_mm[4];  /* x, y, width, height; (x, y) lower-left */
    double idle_a;      /* drawn from 0 to the makespan, default 0 */
    /* Leakage: leak_a * exp(leak_beta_per_k * (T - thermal.leakage.t_ref_c))
    ** at the unit's mean temperature T (docs/thermal.md). */
    double leak_a;          /* A at t_ref_c, default 0 (no leakage) */
    double leak_beta_per_k; /* 1/K: the unit's own, or thermal.leakage.beta_per_k (filled in) */
} sio_unit;

typedef struct sio_op {
    char *name;
    size_t cls;           /* index into sio_chip.classes */
    double current_a;     /* at activity 1 while it runs */
    int64_t ramp_cycles;  /* default 0 */
} sio_op;

typedef struct sio_layer {
    char *name;
    int has_die;          /* 1 when the layer carries a die's power */
    size_t die;           /* index into sio_chip.dies when has_die */
    double thickness_m, k_w_mk, cv_j_m3k;
} sio_layer;

/* thermal.leakage: the reference of the units' leakage law. */
typedef struct sio_leakage {
    int present;          /* 1 when given (required when a unit has leak_a > 0) */
    double t_ref_c;       /* the temperature at which a unit draws leak_a */
    double beta_per_k;    /* 1/K, the default of units[].leak_beta_per_k */
} sio_leakage;

typedef struct sio_thermal {
    int present;          /* 0 when the chip has no "thermal" object */
    double ambient_c;     /* default 40 */
    size_t grid[2];       /* nx, ny; default 64 x 64 */
    double h_top_w_m2k;   /* > 0 */
    double h_bottom_w_m2k;/* >= 0, default 0 (insulated) */
    double hotspot_c;     /* default 95 */
    double limit_c;       /* default 105 */
    int64_t frame_ns;     /* default 10000 */
    sio_layer *layers;    /* bottom (board side) first */
    size_t n_layers;
    sio_leakage leakage;  /* present = 0 when absent */
} sio_thermal;

typedef struct sio_chip {
    char *path;           /* the file it was read from */
    char *name;
    double clock_ghz;
    double outline_mm[2]; /* width (x), height (y) */
    sio_die *dies;    size_t n_dies;
    sio_rail *rails;  size_t n_rails;
    sio_unit *units;  size_t n_units;
    sio_op *ops;      size_t n_ops;
    char **classes;   size_t n_classes;  /* unit classes, first-seen order */
    sio_thermal thermal;
} sio_chip;

/* Size limits of the chip reader, far above any real chip (10^4 units make
** about 2 MB and 2 * 10^5 values): a chip file of at most
** SIO_CHIP_MAX_BYTES, holding at most SIO_CHIP_MAX_VALUES JSON values and
** keys (what jansson builds is the larger cost, up to ~200 bytes each),
** and impedance tables of at most SIO_CHIP_MAX_BYTES in lines of at most
** SIO_TABLE_MAX_LINE bytes. Each is an error with its position. */
#define SIO_CHIP_MAX_BYTES ((size_t)64 << 20)
#define SIO_CHIP_MAX_VALUES ((size_t)1 << 21)
#define SIO_TABLE_MAX_LINE ((size_t)1 << 20)
/* A chip with a thermal stack has at most this many dies (the thermal run's
** and the HotSpot export's limit); without one, any number. */
#define SIO_THERMAL_MAX_DIES 64

/* Reads a `pda-chip/1` description. Returns SIO_OK and sets *out, or an error
** code, fills *err and sets *out = NULL. Unknown keys, wrong types, missing
** required keys, non-physical values, units outside the outline, duplicate
** names, dangling references are all refused with file:line:col. The file
** is parsed as it is read, so a stream that is not JSON (/dev/zero) fails
** at its first bytes; it may be a pipe. */
int sio_chip_load(const char *path, sio_chip **out, sio_error *err);
/* Reads a `pda-chip/1` description from the len bytes at text, as
** sio_chip_load reads a file holding them: the same rules, limits and
** messages. name is what the caller calls the text (NULL: "<buffer>"): it
** starts each error ("name:line:col: ...") and becomes the chip's path, so
** a relative `impedance_csv` is read from name's folder, as for a file
** called name. The text is the caller's; nothing of it is kept. */
int sio_chip_from_buffer(const char *name, const char *text, size_t len, sio_chip **out, sio_error *err);
void sio_chip_free(sio_chip *c);   /* NULL is a no-op */
/* Where a value of the description sits, for an error found after the load
** (an exporter's refusal of a name): where is a path of keys and numeric
** indices, "units[3].name" or "thermal.layers[0].name" (no names in [],
** no key holding '.' or '['). Reads the file at c->path again, as it is
** now, when it is a regular file that still parses as JSON; sets *line and
** *col (1-based) and returns 0, else sets them to 0 and returns -1 (a pipe,
** a path not there, a path not in the text). For a chip from
** sio_chip_from_buffer, c->path is the name given, so a file of that name
** would be read: call it for chips loaded from files. */
int sio_chip_locate(const sio_chip *c, const char *where, int *line, int *col);

/* Clock period in ns (1 / clock_ghz). */
double sio_chip_period_ns(const sio_chip *c);
/* Linear look-ups by name (len bytes, not NUL-terminated); return 0 and set
** *idx when found, -1 otherwise. Fine for the error path and tools; the
** schedule loader hashes. */
int sio_chip_find_unit(const sio_chip *c, const char *name, size_t len, size_t *idx);
int sio_chip_find_class(const sio_chip *c, const char *name, size_t len, size_t *idx);
int sio_chip_find_op(const sio_chip *c, size_t cls, const char *name, size_t len, size_t *idx);

/* ---- schedule -------------------------------------------------------- */

enum sio_dep_kind {
    SIO_DEP_END = 0,    /* `ID`:   start >= start(ID) + cycles(ID) */
    SIO_DEP_START = 1,  /* `ID+N`: start >= start(ID) + N */
    SIO_DEP_EXACT = 2   /* `ID=N`: start == start(ID) + N */
};

/* Where a schedule came from (sio_schedule.source). */
enum sio_source {
    SIO_SOURCE_FILE = 0,    /* sio_schedule_load: path is the file */
    SIO_SOURCE_BUFFER = 1,  /* sio_schedule_from_buffer: path is the name given, text a copy */
    SIO_SOURCE_BUILDER = 2, /* sio_builder_finish: path is the name given, text its rows as CSV */
    SIO_SOURCE_STREAM = 3   /* sio_schedule_load of what is not a regular file (a pipe, a FIFO, a
                            ** character device): path is as given, text every byte read */
};

/* A schedule: n instructions in file order. All arrays have n entries
** except dep_off (n + 1) and the dep_* arrays (n_deps). Deps of instruction
** i are dep_off[i] .. dep_off[i+1]-1; dep_src is the index of the
** instruction depended upon (same chip). Read-only to callers. Indices and
** offsets are as narrow as the limits allow (the arrays are most of the
** memory of a big run): fewer than 2^32 - 1 instructions and deps, 2^32 - 1
** bytes of ids, chips 0 .. 65535. A file may have any number of lines
** (errors met while reading give their exact line), but each instruction's
** line is kept in 32 bits. */
typedef struct sio_schedule {
    char *path;              /* the file, or the name the caller gave (enum sio_source) */
    size_t n;
    size_t n_chips;          /* max chip index + 1 (1 when the column is absent) */
    uint32_t *unit;          /* index into chip->units */
    uint32_t *op;            /* index into chip->ops */
    uint16_t *chip;          /* chip index */
    int64_t *start_cyc;
    int64_t *cycles;
    double *activity;        /* 0..1 */
    uint32_t *line;          /* line of the record in the file (1-based; built: row + 2); lines
                             ** from 2^32 - 1 on are all kept as UINT32_MAX ("that line or later") */
    uint32_t *dep_off;
    uint32_t *dep_src;
    uint8_t *dep_kind;       /* enum sio_dep_kind */
    int64_t *dep_lag;        /* N (0 for SIO_DEP_END) */
    size_t n_deps;
    /* interned ids: id of i is id_pool + id_off[i], NUL-terminated */
    char *id_pool;
    uint32_t *id_off;
    /* header as read: n_cols column names; col_* give the column of each
    ** known field, or -1 when absent. */
    char **cols;
    size_t n_cols;
    int col_id, col_unit, col_op, col_start, col_cycles, col_chip, col_activity, col_deps;
    int split;               /* 1 when it was read in two halves at once */
    int source;              /* enum sio_source */
    /* the text the schedule holds (text_len bytes, not NUL-terminated),
    ** which sio_schedule_write copies from and where the errors of
    ** sio_schedule_verify find their columns: a copy of a buffer's text as
    ** given, the bytes read from a stream, or a built schedule's rows as
    ** CSV; NULL for a regular file, which is read again instead */
    char *text;
    size_t text_len;
    /* SIO_SOURCE_FILE: what identified the file's content when it was
    ** opened to be read: its device and inode, size and modification time
    ** (ns). A later read of the file (sio_schedule_write, the column of a
    ** sio_schedule_verify error) first checks that it still matches. */
    uint64_t file_dev, file_ino;
    int64_t file_size, file_mtime_ns;
    /* A share of a multi-chip file (sio_load_opts.chip_step > 0): only the
    ** rows of chips chip_lo, chip_lo + chip_step, ... are kept, renumbered
    ** 0, 1, ...: local chip k is chip chip_lo + k * chip_step of the file,
    ** and n_chips counts those below n_chips_file, the file's own count (its
    ** largest chip index + 1, over every row, kept or not). chip_step 0: the
    ** whole file (chip_lo 0, n_chips_file = n_chips). */
    size_t chip_lo, chip_step, n_chips_file;
} sio_schedule;

/* The loader's tuning knobs, passed to each call that takes them (NULL
** there means the defaults; sio_load_opts_default fills them in). */
typedef struct sio_load_opts {
    /* A regular file or a buffer of at least split_min_bytes (default 48
    ** MiB) is read in two halves at once on two threads; the result, and
    ** any error, are exactly those of reading it whole. 0 splits every one
    ** of 64 bytes and up (tests do), SIZE_MAX none. */
    size_t split_min_bytes;
    /* The reach of the 32-bit offsets: at most max_id_bytes bytes of ids
    ** (each with its NUL; default 2^32 - 1) and max_deps deps (default
    ** 2^32 - 2); past either the load fails at the record that passes it.
    ** Tests lower them; a value above the default counts as the default. */
    size_t max_id_bytes, max_deps;
    /* From verify_two_min instructions on (default 2^20) the deps and the
    ** units are checked at once on two threads, with the same result (the
    ** last step of a load, and sio_schedule_verify_opts). 0 always, SIZE_MAX
    ** never. */
    size_t verify_two_min;
    /* Size limits, far above any real schedule, so that no input can make
    ** the loader hold more than its own size: a field of at most
    ** max_field_bytes (default 64 KiB; above 16 MiB counts as 16 MiB), a
    ** record of at most max_record_bytes (1 MiB: its fields' bytes, each
    ** with one for the separator after it), a header of at most
    ** max_header_cols columns (4096) and max_header_bytes bytes (1 MiB,
    ** counted as a record's). Past one the load fails with the position of
    ** the field that passes it (of a field still open, its start, as soon
    ** as it is too long). 0 means the default. */
    size_t max_field_bytes, max_record_bytes, max_header_bytes, max_header_cols;
    /* A share of the chips (0: every chip, the default): every row is read
    ** and checked on its own (fields, unit, op), but only the rows of chips
    ** chip_lo + k * chip_step (k = 0, 1, ...) are kept, renumbered k; the
    ** rules between rows (ids, deps, cycles, one op per unit) are checked
    ** among those kept, all of one chip anyway. Memory is that of the share.
    ** A share is read in one pass (never in two halves), unless it keeps
    ** every chip (chip_lo 0, chip_step 1). */
    size_t chip_lo, chip_step;
} sio_load_opts;
void sio_load_opts_default(sio_load_opts *o);

/* Streams a schedule from path against chip. Validates every rule of the
** format (see docs/formats.md); an empty file is an error, a header alone a
** valid empty schedule. Returns SIO_OK and sets *out, or an error code,
** fills *err and sets *out = NULL. opts NULL means the defaults. A path
** that is not a regular file (a pipe, a FIFO, /dev/stdin on one, a
** character device) is read once and its bytes kept (s->text,
** SIO_SOURCE_STREAM); a regular file that changes while it is read is
** refused (SIO_EINPUT, "changed while it was read"). */
int sio_schedule_load_opts(const sio_chip *chip, const char *path, const sio_load_opts *opts,
                           sio_schedule **out, sio_error *err);
/* sio_schedule_load_opts with the default knobs. */
int sio_schedule_load(const sio_chip *chip, const char *path, sio_schedule **out,
                      sio_error *err);
/* Reads a schedule from the len bytes at text, as sio_schedule_load_opts
** reads a file holding them: the same rules, checks and messages, and a big
** text (split_min_bytes) is read in two halves at once too. Errors read
** "name:line:col: message"; name is what the caller calls the text (NULL:
** "<buffer>") and becomes the schedule's path. The schedule keeps its own
** copy of the text (s->text, len more bytes), so the caller's may go once
** this returns; the copy is what sio_schedule_write copies from. */
int sio_schedule_from_buffer(const sio_chip *chip, const char *name, const char *text, size_t len,
                             const sio_load_opts *opts, sio_schedule **out, sio_error *err);
void sio_schedule_free(sio_schedule *s);   /* NULL is a no-op */

/* One instruction for a builder: the fields of a CSV record, under the same
** rules (docs/formats.md). Strings are NUL-terminated and taken as they are
** (no spaces trimmed, no quotes undone); NULL is an empty field. */
typedef struct sio_row {
    const char *id;       /* any non-empty text, unique per chip */
    const char *unit;     /* a units[].name of the chip */
    const char *op;       /* an ops[].op of the unit's class */
    int64_t start_cyc;    /* 0 .. 2^52 */
    int64_t cycles;       /* 1 .. 2^52 */
    double activity;      /* 0 .. 1 (a CSV's empty field means 1: give 1) */
    const char *deps;     /* as the deps column: `ID`, `ID+N`, `ID=N`, ';'-separated */
    size_t chip;          /* 0 .. 65535 */
} sio_row;

/* A schedule built row by row in memory (a compiler's output, say), with
** every check of the CSV reader: each row goes through the per-record
** checks of a CSV record as it is added, and sio_builder_finish runs the
** checks a load runs once the whole file is in (ids unique per chip, deps
** resolved and without a cycle, the deps and the units against the
** starts). Errors read "name:line:col: message" as if the rows were the
** records of a CSV file called name with the header
** id,unit,op,start,cycles,activity,deps,chip: the k-th row added (from 0)
** is line k + 2, and col is the field's column in that header (1 id, 2
** unit, 3 op, 4 start, 5 cycles, 6 activity, 7 deps, 8 chip), for an error
** inside deps too. An error may name an earlier row (a repeated id wins, as
** in a file). The first error stops the builder: every later add, and
** finish, give it again.
**
** The schedule keeps its rows as the text of that CSV file (s->text, about
** a CSV file's bytes more memory): sio_schedule_write writes it, with the
** starts given. Its lines are the rows' unless a field holds a line end
** (quoted, it spans lines in the text). */
typedef struct sio_builder sio_builder;
/* name (NULL: "<builder>") becomes the schedule's path; opts NULL means the
** defaults (split_min_bytes has no use here). chip must outlive the
** builder. */
int sio_builder_new(const sio_chip *chip, const char *name, const sio_load_opts *opts,
                    sio_builder **out, sio_error *err);
int sio_builder_add(sio_builder *b, const sio_row *row, sio_error *err);
/* Runs the checks of the whole schedule and frees b. Returns SIO_OK and
** sets *out, or an error code, fills *err and sets *out = NULL. */
int sio_builder_finish(sio_builder *b, sio_schedule **out, sio_error *err);
void sio_builder_free(sio_builder *b);   /* gives up without a schedule; NULL is a no-op */

/* The id of instruction i. */
const char *sio_schedule_id(const sio_schedule *s, size_t i);
/* Makespan in cycles: max over i of start + cycles (0 when empty). */
int64_t sio_schedule_makespan_cyc(const sio_schedule *s);

/* Checks deps (all three kinds) and one-op-at-a-time per unit for the
** given starts (start_cyc may be s->start_cyc or a re-timed
** copy). Returns SIO_OK, or SIO_EINPUT with the first broken rule in *err
** (positioned at the offending record): a broken dep before a busy unit.
** Big schedules are checked on two threads (opts->verify_two_min), with
** the same result; opts NULL means the defaults. */
int sio_schedule_verify_opts(const sio_chip *chip, const sio_schedule *s, const int64_t *start_cyc,
                             const sio_load_opts *opts, sio_error *err);
/* sio_schedule_verify_opts with the default knobs. */
int sio_schedule_verify(const sio_chip *chip, const sio_schedule *s,
                        const int64_t *start_cyc, sio_error *err);

/* Writes the schedule back to out_path byte for byte as it was read (from
** its file, or from its text: a buffer's copy, a stream's bytes, a built
** schedule's CSV), except that each record's `start` field is replaced by
** start_cyc[i] where it differs. Written whole or not at all (temporary
** file, then rename); refuses to overwrite the schedule's own file, and
** refuses a file that changed since it was read (SIO_EINPUT: "FILE:
** changed since it was read", nothing written). */
int sio_schedule_write(const sio_schedule *s, const int64_t *start_cyc,
                       const char *out_path, sio_error *err);

/* Static text for a status code (pda_strerror). */
const char *sio_strerror(int rc);

/* ---- helpers shared by the writers of every module ------------------- */

/* The closest of n names (stride bytes apart, each a char * at offset off)
** to s, or NULL when none is close enough to be a likely typo of s: for
** "did you mean" hints. */
const char *sio_closest(const char *s, const void *base, size_t n, size_t stride, size_t off);

/* Sets err->text to "path:line:col: message" (line/col left out when 0),
** the path and the message escaped: \n, \r, \t, other control bytes, C1
** controls and invalid UTF-8 as \xNN, line separators and bidi controls as
** \uXXXX; valid UTF-8 and backslashes as they are (escaping twice changes
** nothing). Cut to fit at a whole escape, ending in "...". */
void sio_error_set(sio_error *err, const char *path, int64_t line, int64_t col,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* 1 when both paths name the same existing file (device and inode). */
int sio_same_file(const char *a, const char *b);

/* An output file written whole or not at all: data goes to a temporary file
** beside path; sio_out_commit renames it into place, sio_out_abort removes
** it. path "-" is stdout: the data waits in a temporary file in $TMPDIR and
** sio_out_commit copies it there. */
typedef struct sio_out sio_out;
int sio_out_open(const char *path, sio_out **out, sio_error *err);
void *sio_out_file(sio_out *o);          /* the FILE * to write to */
int sio_out_commit(sio_out *o, sio_error *err);   /* frees o */
void sio_out_abort(sio_out *o);                   /* frees o; NULL ok */

#ifdef __cplusplus
}
#endif
#endif
