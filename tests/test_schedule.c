/* test_schedule.c -- the schedule reader, validator and writer (sio.h).
** Builds a small chip in memory (no chip file), writes schedules to temp
** files and checks what is read, where errors point, and that the writer
** gives back every byte it was given except the starts it was told to
** change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sio.h"
#include "sio_int.h"

static char *classes[] = {"A", "B"};
static sio_unit units[] = {
    {.name = "U0", .cls = 0}, {.name = "U1", .cls = 0}, {.name = "V0", .cls = 1},
};
static sio_op ops[] = {
    {.name = "run", .cls = 0, .current_a = 2.0}, {.name = "go", .cls = 1, .current_a = 1.0},
    {.name = "run", .cls = 1, .current_a = 3.0},
};
static sio_chip chip = {
    .name = "mini", .clock_ghz = 1.0, .units = units, .n_units = 3, .ops = ops, .n_ops = 3,
    .classes = classes, .n_classes = 2,
};

static char dir[] = "/tmp/pda_test_schedule_XXXXXX";

static char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* Loads text; expects failure with the message `want` after "path:". */
static void expect_error(const char *text, const char *want)
{
    char *p = write_file("bad.csv", text);
    sio_schedule *s = (sio_schedule *)1;
    sio_error err;
    int rc = sio_schedule_load(&chip, p, &s, &err);
    assert_int_equal(rc, SIO_EINPUT);
    assert_null(s);
    const char *msg = err.text + strlen(p) + 1;
    if (strcmp(msg, want) != 0) fail_msg("got  '%s'\nwant '%s'", msg, want);
}

static sio_schedule *load_ok(const char *text)
{
    char *p = write_file("ok.csv", text);
    sio_schedule *s = NULL;
    sio_error err;
    int rc = sio_schedule_load(&chip, p, &s, &err);
    if (rc) fail_msg("%s", err.text);
    return s;
}

static void test_basic(void **st)
{
    (void)st;
    sio_schedule *s = load_ok("op,id,cycles,unit,start,deps,note,activity\n"
                              "run,a,10,U0,0,,hello,0.5\n"
                              "go,b,5,V0,3,a+3,\"x, y\",\n"
                              "run,c,4,U0,10,a;b,,1\n"
                              "run,d,2,U1,7,b=4,,0\n");
    assert_int_equal(s->n, 4);
    assert_int_equal(s->n_chips, 1);
    assert_string_equal(sio_schedule_id(s, 2), "c");
    assert_int_equal(s->unit[1], 2);
    assert_int_equal(s->op[1], 1);   /* go of class B */
    assert_int_equal(s->op[3], 0);   /* run of class A, not of class B */
    assert_true(s->activity[0] == 0.5 && s->activity[1] == 1.0 && s->activity[3] == 0.0);
    assert_int_equal(s->n_deps, 4);
    assert_int_equal(s->dep_off[2] - s->dep_off[1], 1);
    assert_int_equal(s->dep_kind[s->dep_off[1]], SIO_DEP_START);
    assert_int_equal(s->dep_lag[s->dep_off[1]], 3);
    assert_int_equal(s->dep_kind[s->dep_off[3]], SIO_DEP_EXACT);
    assert_int_equal(s->dep_src[s->dep_off[3]], 1);
    assert_int_equal(s->dep_src[s->dep_off[2] + 1], 1);
    assert_int_equal(sio_schedule_makespan_cyc(s), 14);
    assert_int_equal(s->n_cols, 8);
    assert_string_equal(s->cols[6], "note");
    assert_int_equal(s->col_start, 4);
    assert_int_equal(s->line[3], 5);
    sio_schedule_free(s);
}

static void test_header_only_and_multichip(void **st)
{
    (void)st;
    sio_schedule *s = load_ok("id,unit,op,start,cycles\n");
    assert_int_equal(s->n, 0);
    assert_int_equal(sio_schedule_makespan_cyc(s), 0);
    sio_schedule_free(s);
    /* the same ids on two chips; deps stay on their chip; CRLF; no final newline */
    s = load_ok("id,unit,op,start,cycles,chip,deps\r\n"
                "a,U0,run,0,4,0,\r\n"
                "a,U0,run,0,4,3,\r\n"
                "b,U0,run,4,1,3,a\r\n"
                "b,U0,run,9,1,0,a");
    assert_int_equal(s->n, 4);
    assert_int_equal(s->n_chips, 4);
    assert_int_equal(s->dep_src[s->dep_off[2]], 1);
    assert_int_equal(s->dep_src[s->dep_off[3]], 0);
    sio_schedule_free(s);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error("", "1:1: empty file: a schedule needs a header (id,unit,op,start,cycles)");
    expect_error("id,unit,op,start\n", "1:1: missing required column 'cycles' (the header needs id, unit, op, start, cycles)");
    expect_error("id,unit,op,start,cycles,start\n", "1:25: duplicate column 'start' (also column 4)");
    expect_error("id,unit,op,start,cycles\na,U9,run,0,1\n", "2:3: unknown unit 'U9' (not in chip 'mini')");
    /* a repeated id wins over a later error of any kind, syntax included */
    expect_error("id,unit,op,start,cycles\na,U0,run,0,1\na,U1,run,0,1\nb,U0,run,\"5\"x,1\n",
                 "3:1: duplicate id 'a' on chip 0 (first on line 2)");
    expect_error("id,unit,op,start,cycles\na,U0,run,0,1\na,U1,run,0,1\n\"c,U0,run,0,1\n",
                 "3:1: duplicate id 'a' on chip 0 (first on line 2)");
    /* a line of spaces makes no record, and the lines after it keep their numbers */
    expect_error("id,unit,op,start,cycles\na,U0,run,0,1\n   \nb,U0,run,1,1\nb,U1,run,0,1\n",
                 "5:1: duplicate id 'b' on chip 0 (first on line 4)");
    expect_error("id,unit,op,start,cycles\na,U0,go,0,1\n", "2:6: unknown op 'go' for unit 'U0' of class A");
    expect_error("id,unit,op,start,cycles\na,U0,run,-1,1\n",
                 "2:10: 'start' must be a whole number of cycles >= 0, not '-1'");
    expect_error("id,unit,op,start,cycles\na,U0,run,1.5,1\n",
                 "2:10: 'start' must be a whole number of cycles >= 0, not '1.5'");
    expect_error("id,unit,op,start,cycles\na,U0,run,0,0\n", "2:12: 'cycles' must be >= 1, not 0");
    expect_error("id,unit,op,start,cycles,activity\na,U0,run,0,1,nan\n",
                 "2:14: 'activity' must be a number from 0 to 1, not 'nan'");
    expect_error("id,unit,op,start,cycles,activity\na,U0,run,0,1,1e999\n",
                 "2:14: 'activity' must be a number from 0 to 1, not '1e999'");
    expect_error("id,unit,op,start,cycles,activity\na,U0,run,0,1,1.01\n",
                 "2:14: 'activity' must be a number from 0 to 1, not '1.01'");
    {   /* an activity too small for a normal double is its value (denormal or 0), not an error */
        sio_schedule *t = load_ok("id,unit,op,start,cycles,activity\na,U0,run,0,1,1e-320\nb,U0,run,2,1,1e-400\n");
        assert_true(t->activity[0] > 0 && t->activity[0] < 2e-320 && t->activity[1] == 0.0);
        sio_schedule_free(t);
    }
    expect_error("id,unit,op,start,cycles\na,U0,run,0,1\na,U1,run,0,1\n",
                 "3:1: duplicate id 'a' on chip 0 (first on line 2)");
    /* deps on the rows just above are found as the field is read (no chip
    ** column): one on the row itself still is a cycle, and one on a repeated
    ** id still gives the repeat */
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,1,\nb,U1,run,5,1,a;b\n",
                 "3:16: dependency cycle: 'b' depends on itself");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,1,\na,U1,run,5,1,a\n",
                 "3:1: duplicate id 'a' on chip 0 (first on line 2)");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,1,\nb,U1,run,5,1,a;zz\n",
                 "3:16: dep on unknown id 'zz' (no such id on chip 0)");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,1,b+0\nb,U1,run,0,1,a+0\n",
                 "2:14: dependency cycle: 'a' <- 'b' <- 'a'");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U1,run,3,1,a\n",
                 "3:10: start 3 breaks dep on 'a', which ends at 4");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U1,run,3,1,a=2\n",
                 "3:10: start 3 breaks dep 'a=2' (needs exactly 2)");
    expect_error("id,unit,op,start,cycles\na,U0,run,0,4\nb,U0,run,3,1\n",
                 "3:10: unit 'U0' on chip 0 is busy with 'a' until 4; 'b' starts at 3");
    /* out of file order: found by the sorting path */
    expect_error("id,unit,op,start,cycles\na,U0,run,10,4\nb,U0,run,0,1\nc,U0,run,12,1\n",
                 "4:10: unit 'U0' on chip 0 runs 'a' (cycles 10-14) and 'c' (cycles 12-13) at once");
    expect_error("id,unit,op,start,cycles\na,U0,run,0,4,9\n", "2:14: row has more fields than the header's 5");
    expect_error("id,unit,op,start,cycles\na,U0,run,0\n", "2:11: row has 4 fields, the header 5");
    /* the last record, one field and no line end: read by csv_fini */
    expect_error("id,unit,op,start,cycles\na,U0,run,0,1\n\nzzz", "4:4: row has 1 fields, the header 5");
    expect_error("id,unit,op,start,cycles\na,U0,r\"un,0,1\n",
                 "2:7: malformed quoted field (a quote inside a field must be doubled)");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U1,run,9,1,a=-2\n",
                 "3:16: dep lag '-2' is not a whole number >= 0");
    expect_error("id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U1,run,9,1,a;;\n",
                 "3:16: empty dep in 'deps' (ids are separated by ';')");
    expect_error("id,unit,op,start,cycles\n,U0,run,0,4\n", "2:1: empty 'id'");
    expect_error("id,unit,op,start,cycles\na,U0,run,99999999999999999999,4\n",
                 "2:10: 'start' 99999999999999999999 is too large");
    expect_error("id,unit,op,start,cycles,chip\na,U0,run,0,4,x\n",
                 "2:14: 'chip' must be a whole number from 0 to 65535, not 'x'");
}

/* The deps and the units checked one after the other and at once: the same
** answer, a broken dep first wherever it is. */
static void test_verify_two(void **st)
{
    (void)st;
    sio_schedule *s = load_ok("id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U0,run,4,2,\nc,U1,run,0,9,\n"
                              "d,U1,run,9,1,c\ne,V0,go,2,3,a+2\n");
    /* 0: valid; 1: U0 busy (b at 3); 2: that and d before c ends; 3: e breaks a+2 only */
    const int64_t starts[4][5] = {{0, 4, 0, 9, 2}, {0, 3, 0, 9, 2}, {0, 3, 0, 8, 2}, {0, 4, 0, 9, 1}};
    const char *want[4] = {NULL, "unit 'U0' on chip 0 is busy", "start 8 breaks dep on 'c'", "start 1 breaks dep 'a+2'"};
    sio_load_opts o;
    sio_load_opts_default(&o);
    for (int two = 0; two < 2; two++) {
        o.verify_two_min = two ? 0 : SIZE_MAX;
        for (int k = 0; k < 4; k++) {
            sio_error err;
            int rc = sio_schedule_verify_opts(&chip, s, starts[k], &o, &err);
            assert_int_equal(rc, want[k] ? SIO_EINPUT : SIO_OK);
            if (want[k] && !strstr(err.text, want[k])) fail_msg("two %d case %d: '%s'", two, k, err.text);
        }
    }
    sio_schedule_free(s);
}

/* Unit order taken from starts, not file order: a valid out-of-order file. */
static void test_unordered_valid(void **st)
{
    (void)st;
    sio_schedule *s = load_ok("id,unit,op,start,cycles\nc,U0,run,20,5\na,U0,run,0,4\nb,U0,run,4,16\n");
    assert_int_equal(s->n, 3);
    int64_t t[3] = {20, 0, 3};
    sio_error err;
    assert_int_equal(sio_schedule_verify(&chip, s, t, &err), SIO_EINPUT);
    t[2] = 4;
    assert_int_equal(sio_schedule_verify(&chip, s, t, &err), SIO_OK);
    sio_schedule_free(s);
}

/* A schedule the writer must give back as it came: a BOM, a quoted
** header name, spaces around a start, a quoted line end and quotes, a blank
** line, CR LF, a quoted start and no final line end; and the same with the
** starts RT_STARTS. */
static const char RT_TEXT[] = "\xEF\xBB\xBFid,\"unit\",op,start,cycles,deps,note\r\n"
                              "a,U0,run, 0 ,4,,\"multi\nline, with \"\"quotes\"\"\"\r\n"
                              "\r\n"
                              "b,U1,run,\"4\",1,a,plain\r\n"
                              "c,V0,go,2,3,a+2,\"q\"";
static const int64_t RT_STARTS[3] = {1, 40, 2};
static const char RT_MOVED[] = "\xEF\xBB\xBFid,\"unit\",op,start,cycles,deps,note\r\n"
                               "a,U0,run,1,4,,\"multi\nline, with \"\"quotes\"\"\"\r\n"
                               "\r\n"
                               "b,U1,run,40,1,a,plain\r\n"
                               "c,V0,go,2,3,a+2,\"q\"";

/* s, read from RT_TEXT, written to out: with its own starts byte for byte
** RT_TEXT, with RT_STARTS only those fields changed. */
static void check_roundtrip(const sio_schedule *s, const char *out)
{
    assert_int_equal(s->n, 3);
    assert_int_equal(s->start_cyc[1], 4);
    assert_int_equal(s->line[1], 5);
    sio_error err;
    assert_int_equal(sio_schedule_write(s, s->start_cyc, out, &err), SIO_OK);
    size_t n;
    char *got = slurp(out, &n);
    assert_int_equal(n, strlen(RT_TEXT));
    assert_memory_equal(got, RT_TEXT, n);
    free(got);
    assert_int_equal(sio_schedule_write(s, RT_STARTS, out, &err), SIO_OK);
    got = slurp(out, NULL);
    assert_string_equal(got, RT_MOVED);
    free(got);
}

static void test_writer_roundtrip(void **st)
{
    (void)st;
    sio_schedule *s = load_ok(RT_TEXT);
    char out[600];
    snprintf(out, sizeof out, "%s/out.csv", dir);
    check_roundtrip(s, out);
    /* never over its own input */
    sio_error err;
    assert_int_equal(sio_schedule_write(s, RT_STARTS, s->path, &err), SIO_EINPUT);
    sio_schedule_free(s);
}

/* Error texts quote input escaped: control bytes (C0, DEL, C1), invalid
** UTF-8 and the Unicode line separators and bidi controls; valid UTF-8
** and backslashes stay, so escaping an escaped text changes nothing. The
** path is escaped too. A text cut to fit ends in "..." and never inside an
** escape or a character. */
static void test_error_escaped(void **st)
{
    (void)st;
    sio_error e;
    sio_error_set(&e, "p\nq.csv", 3, 4, "id '%s' and '%s'", "a\nb\rc\td\x1b[2J\x7f\xc2\x9b",
                  "\xff\xc3(\xe2\x80\xae\xe2\x80\xa8 ok \xc2\xb5\xe2\x82\xac \\n \xed\xa0\x80 \xf0\x9f\x99\x82");
    assert_string_equal(e.text, "p\\nq.csv:3:4: id 'a\\nb\\rc\\td\\x1b[2J\\x7f\\xc2\\x9b' and "
                                "'\\xff\\xc3(\\u202e\\u2028 ok \xc2\xb5\xe2\x82\xac \\n \\xed\\xa0\\x80 \xf0\x9f\x99\x82'");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 4);
    sio_error again;
    sio_error_set(&again, NULL, 0, 0, "%s", e.text);
    assert_string_equal(again.text, e.text);
    /* cut: 300 ESC bytes escape to 1200 */
    char raw[301];
    memset(raw, 0x1b, 300);
    raw[300] = 0;
    sio_error_set(&e, "f", 1, 1, "x '%s'", raw);
    size_t n = strlen(e.text);
    assert_true(n < sizeof e.text);
    assert_string_equal(e.text + n - 3, "...");
    assert_memory_equal(e.text + n - 7, "\\x1b", 4);   /* whole escapes before it */
    for (size_t i = 0; i < n; i++) assert_true((unsigned char)e.text[i] >= 0x20 && (unsigned char)e.text[i] < 0x7f);
}

/* Positions past 2^31 and 2^32 lines, through the internal hook that reads
** a buffer as if that many blank lines came first (a real stream of 2^31
** blank lines takes ~45 s to read). Errors met while reading have their
** exact line and column (64-bit counters); each instruction's line is kept
** in 32 bits, so an error found later at an instruction on line 2^32 - 1
** or beyond says so rather than give a wrong line. */
static void far_error(uint64_t before, const char *text, const char *want, int64_t line, int64_t col)
{
    sio_schedule *s = NULL;
    sio_error e;
    assert_int_equal(sio_schedule_from_buffer_at(&chip, "far", text, strlen(text), NULL, before, &s, &e), SIO_EINPUT);
    if (strcmp(e.text, want) != 0) fail_msg("got '%s', want '%s'", e.text, want);
    assert_true(e.line == line && e.col == col);
}

static void test_far_lines(void **st)
{
    (void)st;
    const uint64_t two31 = (uint64_t)1 << 31, two32 = (uint64_t)1 << 32;
    const char *bad = "id,unit,op,start,cycles\na,U0,run,x,1\n";
    far_error(two31 + 10, bad, "far:2147483660:10: 'start' must be a whole number of cycles >= 0, not 'x'",
              2147483660, 10);
    far_error(two32 + 5, bad, "far:4294967303:10: 'start' must be a whole number of cycles >= 0, not 'x'",
              4294967303, 10);
    /* found at the end of the load: the duplicate's line is past what 32 bits keep */
    far_error(two32 + 100, "id,unit,op,start,cycles\na,U0,run,0,1\na,U1,run,0,1\n",
              "far: line 4294967295 or later: duplicate id 'a' on chip 0 (first on line 4294967295 or later)", 0, 0);
    /* rows on lines 2^32 - 2 (kept), 2^32 - 1 and 2^32 (not) */
    const char *ok = "id,unit,op,start,cycles,deps\na,U0,run,5,4,c\nb,U0,run,9,1,\nc,U1,run,0,1,\n";
    sio_schedule *s = NULL;
    sio_error e;
    assert_int_equal(sio_schedule_from_buffer_at(&chip, "far", ok, strlen(ok), NULL, two32 - 4, &s, &e), SIO_OK);
    assert_int_equal(s->line[0], UINT32_MAX - 1);
    assert_int_equal(s->line[1], UINT32_MAX);
    assert_int_equal(s->line[2], UINT32_MAX);
    int64_t busy[3] = {5, 8, 0}, dep[3] = {0, 9, 0};
    assert_int_equal(sio_schedule_verify(&chip, s, busy, &e), SIO_EINPUT);
    assert_string_equal(e.text, "far: line 4294967295 or later: unit 'U0' on chip 0 is busy with 'a' until 9; 'b' starts at 8");
    assert_true(e.line == 0 && e.col == 0);
    assert_int_equal(sio_schedule_verify(&chip, s, dep, &e), SIO_EINPUT);
    assert_string_equal(e.text, "far:4294967294: start 0 breaks dep on 'c', which ends at 1");   /* no column: the hook */
    assert_true(e.line == 4294967294 && e.col == 0);
    sio_schedule_free(s);
}

/* A file that changes after it was read is never read back as if it had
** not: the writer refuses it (nothing written) and a verify error says it
** has no column, whether the file was rewritten to another size, rewritten
** to the same size (its modification time moves), or replaced by another
** file under its name. */
static void test_changed_file(void **st)
{
    (void)st;
    const char *text = "id,unit,op,start,cycles,deps\na,U0,run,0,4,\nb,U1,run,4,1,a\n";
    char out[600];
    snprintf(out, sizeof out, "%s/changed_out.csv", dir);
    for (int how = 0; how < 3; how++) {
        char *p = write_file("changed.csv", text);
        sio_schedule *s = NULL;
        sio_error err;
        assert_int_equal(sio_schedule_load(&chip, p, &s, &err), SIO_OK);
        if (how == 0) {
            write_file("changed.csv", "id,unit,op,start,cycles,deps\na,U0,run,0,4,\n");
        } else if (how == 1) {
            write_file("changed.csv", "id,unit,op,start,cycles,deps\nb,U0,run,0,4,\na,U1,run,4,1,b\n");
            struct timespec t[2] = {{0, UTIME_OMIT}, {0, 0}};
            clock_gettime(CLOCK_REALTIME, &t[1]);
            t[1].tv_sec += 2;   /* past any timestamp granularity */
            assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
        } else {
            char tmp[600];
            snprintf(tmp, sizeof tmp, "%s/changed.tmp", dir);
            FILE *f = fopen(tmp, "wb");
            fputs(text, f);
            fclose(f);
            assert_int_equal(rename(tmp, p), 0);   /* the same bytes, another file */
        }
        unlink(out);
        int64_t moved[2] = {0, 9};
        assert_int_equal(sio_schedule_write(s, moved, out, &err), SIO_EINPUT);
        if (!strstr(err.text, "changed since it was read") || strncmp(err.text, p, strlen(p)) != 0)
            fail_msg("how %d: '%s'", how, err.text);
        assert_int_equal(access(out, F_OK), -1);   /* nothing written */
        int64_t bad[2] = {0, 3};
        assert_int_equal(sio_schedule_verify(&chip, s, bad, &err), SIO_EINPUT);
        char want[800];
        snprintf(want, sizeof want, "%s:3: start 3 breaks dep on 'a', which ends at 4 (no column: the file changed since it was read)", p);
        assert_string_equal(err.text, want);
        sio_schedule_free(s);
    }
}

/* A file far larger than the 1 MiB read buffer: lines straddle buffers, and
** an error deep in the file still gets its line. */
static void test_streaming(void **st)
{
    (void)st;
    char path[600];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    FILE *f = fopen(path, "wb");
    fputs("id,unit,op,start,cycles,deps,pad\n", f);
    const size_t n = 60000;
    for (size_t i = 0; i < n; i++) {
        if (i == 0) fprintf(f, "i0,U0,run,0,3,,padpadpad\n");
        else fprintf(f, "i%zu,U0,run,%zu,3,i%zu,padpadpad\n", i, 3 * i, i - 1);
    }
    fclose(f);
    sio_schedule *s = NULL;
    sio_error err;
    assert_int_equal(sio_schedule_load(&chip, path, &s, &err), SIO_OK);
    assert_int_equal(s->n, n);
    assert_int_equal(s->line[n - 1], n + 1);
    assert_int_equal(sio_schedule_makespan_cyc(s), 3 * (int64_t)n);
    for (size_t i = 1; i < n; i += 997) assert_int_equal(s->dep_src[s->dep_off[i]], i - 1);
    sio_schedule_free(s);
    f = fopen(path, "ab");
    fputs("bad,U0,run,0,1,i5,x\n", f);
    fclose(f);
    assert_int_equal(sio_schedule_load(&chip, path, &s, &err), SIO_EINPUT);
    char want[64];
    snprintf(want, sizeof want, ":%zu:", n + 2);
    assert_non_null(strstr(err.text, want));
}

/* ---- split loads: two halves at once give what one pass gives -------- */

typedef struct sb { char *p; size_t n, cap; } sb;

static void sb_printf(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)m + 1 > b->cap) {
        b->cap = (b->n + (size_t)m + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)m + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)m;
}

enum split_case {
    SC_PLAIN, SC_CRLF, SC_BLANK_FIRST, SC_QUOTED_NL_MIDDLE, SC_FORWARD_DEP, SC_CYCLE, SC_DUP_ACROSS,
    SC_UNKNOWN_DEP, SC_BAD_UNIT_AFTER_DUP, SC_BAD_FIRST, SC_SELF_DEP, SC_N
};

/* A schedule of n rows on U0, U1 and V0 (two chips), in time order, with
** deps of all three kinds, quoted extra fields and one case-specific twist
** at row `at` (about 1/4 or 3/4 of the way down). */
static char *split_text(enum split_case c, size_t n)
{
    sb b = {0};
    const char *nl = c == SC_CRLF ? "\r\n" : "\n";
    sb_printf(&b, "id,unit,op,start,cycles,chip,activity,deps,note%s", nl);
    size_t q1 = n / 4 - (n / 4) % 6 + 3, q3 = 3 * n / 4 - (3 * n / 4) % 6 + 3;   /* U0 on chip 1 */
    if (c == SC_FORWARD_DEP) sb_printf(&b, "early,U0,run,1,1,1,,late,\"first\"%s", nl);
    for (size_t i = 0; i < n; i++) {
        const char *unit = i % 3 == 0 ? "U0" : i % 3 == 1 ? "U1" : "V0";
        const char *op = i % 3 == 2 ? "go" : "run";
        unsigned chip_ = (unsigned)(i / 3) % 2;
        size_t start = 10 * (i / 6) + 10;
        char deps[64] = "";
        if (i >= 6 && i % 4 == 0) snprintf(deps, sizeof deps, "r%zu", i - 6);
        else if (i >= 12 && i % 4 == 1) snprintf(deps, sizeof deps, "r%zu+2;r%zu", i - 6, i - 12);
        else if (i >= 6 && i % 4 == 2) snprintf(deps, sizeof deps, "r%zu=10", i - 6);
        const char *id_fmt = "r%zu";
        char id[32];
        snprintf(id, sizeof id, id_fmt, i);
        if (c == SC_DUP_ACROSS && i == 3 * n / 4) snprintf(id, sizeof id, "r%zu", n / 4 - (n / 4) % 6 + (i % 6));
        if (c == SC_BAD_UNIT_AFTER_DUP && i == n / 4) snprintf(id, sizeof id, "r%zu", i - 6);
        if (c == SC_BAD_UNIT_AFTER_DUP && i == 3 * n / 4) unit = "NOPE";
        if (c == SC_BAD_FIRST && i == n / 4) op = "nope";
        if (c == SC_UNKNOWN_DEP && i == 3 * n / 4) snprintf(deps, sizeof deps, "ghost");
        if (c == SC_SELF_DEP && i == 3 * n / 4) snprintf(deps, sizeof deps, "r%zu", i);
        if (c == SC_CYCLE && i == q1) snprintf(deps, sizeof deps, "r%zu+0", q3);
        if (c == SC_CYCLE && i == q3) snprintf(deps, sizeof deps, "r%zu+0", q1);
        if (c == SC_FORWARD_DEP && i == q1) snprintf(deps, sizeof deps, "late+0");
        const char *note = i % 7 == 0 ? "\"a, \"\"quoted\"\" note\"" : "plain";
        if (c == SC_QUOTED_NL_MIDDLE && i == n / 2) note = "\"two\nlines\"";
        sb_printf(&b, "%s,%s,%s,%zu,%d,%u,%s,%s,%s%s", id, unit, op, start, i % 3 == 2 ? 4 : 9, chip_,
                  i % 5 ? "0.5" : "", deps, note, nl);
        if (c == SC_BLANK_FIRST && i == n / 3) sb_printf(&b, "%s", nl);
    }
    if (c == SC_FORWARD_DEP) sb_printf(&b, "late,V0,run,0,1,1,,,\"last\"%s", nl);
    return b.p;
}

/* Loads path with the knobs of base (NULL: the defaults) but the split
** threshold min_bytes: 0 splits every file, SIZE_MAX none. */
static int load_opts(const char *path, const sio_load_opts *base, size_t min_bytes, sio_schedule **s,
                     sio_error *err)
{
    sio_load_opts o;
    if (base) o = *base;
    else sio_load_opts_default(&o);
    o.split_min_bytes = min_bytes;
    return sio_schedule_load_opts(&chip, path, &o, s, err);
}

static int load_with(const char *path, size_t min_bytes, sio_schedule **s, sio_error *err)
{
    return load_opts(path, NULL, min_bytes, s, err);
}

static void assert_same_schedule(const sio_schedule *a, const sio_schedule *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->n_chips, b->n_chips);
    assert_int_equal(a->n_deps, b->n_deps);
    assert_memory_equal(a->unit, b->unit, a->n * sizeof *a->unit);
    assert_memory_equal(a->op, b->op, a->n * sizeof *a->op);
    assert_memory_equal(a->chip, b->chip, a->n * sizeof *a->chip);
    assert_memory_equal(a->start_cyc, b->start_cyc, a->n * sizeof *a->start_cyc);
    assert_memory_equal(a->cycles, b->cycles, a->n * sizeof *a->cycles);
    assert_memory_equal(a->activity, b->activity, a->n * sizeof *a->activity);
    assert_memory_equal(a->line, b->line, a->n * sizeof *a->line);
    assert_memory_equal(a->dep_off, b->dep_off, (a->n + 1) * sizeof *a->dep_off);
    assert_memory_equal(a->dep_src, b->dep_src, a->n_deps * sizeof *a->dep_src);
    assert_memory_equal(a->dep_kind, b->dep_kind, a->n_deps * sizeof *a->dep_kind);
    assert_memory_equal(a->dep_lag, b->dep_lag, a->n_deps * sizeof *a->dep_lag);
    for (size_t i = 0; i < a->n; i++) assert_string_equal(sio_schedule_id(a, i), sio_schedule_id(b, i));
}

static void test_split_loads(void **st)
{
    (void)st;
    /* split: whether the halves must meet (1) or the split must be given up */
    static const int split[SC_N] = {
        [SC_PLAIN] = 1, [SC_CRLF] = 1, [SC_FORWARD_DEP] = 1, [SC_BLANK_FIRST] = 0, [SC_QUOTED_NL_MIDDLE] = -1,
    };
    static const int ok[SC_N] = {
        [SC_PLAIN] = 1, [SC_CRLF] = 1, [SC_BLANK_FIRST] = 1, [SC_QUOTED_NL_MIDDLE] = 1, [SC_FORWARD_DEP] = 1,
    };
    for (size_t n = 600; n <= 6000; n += 2700) {
        for (int c = 0; c < SC_N; c++) {
            char *text = split_text((enum split_case)c, n);
            char *p = write_file("split.csv", text);
            sio_schedule *a = NULL, *b = NULL;
            sio_error ea, eb;
            int ra = load_with(p, SIZE_MAX, &a, &ea);
            int rb = load_with(p, 0, &b, &eb);
            if (ra != rb) fail_msg("case %d n %zu: rc %d whole, %d split (%s | %s)", c, n, ra, rb,
                                   ra ? ea.text : "", rb ? eb.text : "");
            if (ra != (ok[c] ? SIO_OK : SIO_EINPUT)) fail_msg("case %d n %zu: rc %d (%s)", c, n, ra, ra ? ea.text : "");
            if (ra == SIO_OK) {
                assert_int_equal(a->split, 0);
                if (split[c] >= 0 && b->split != split[c]) fail_msg("case %d n %zu: split %d", c, n, b->split);
                assert_same_schedule(a, b);
            } else {
                assert_string_equal(ea.text, eb.text);
                assert_int_equal(ea.line, eb.line);
                assert_int_equal(ea.col, eb.col);
            }
            sio_schedule_free(a);
            sio_schedule_free(b);
            free(text);
        }
    }
    /* the first half ends inside a quoted field that a bare CR left open: the
    ** split must be given up, and the error is the one-pass error */
    {
        char *text = split_text(SC_PLAIN, 600);
        size_t len = strlen(text), mid = len / 2;
        char *nl = strchr(text + mid, '\n');
        assert_non_null(nl);
        size_t at = (size_t)(nl - text);
        char *t2 = malloc(len + 3);
        memcpy(t2, text, at);
        memcpy(t2 + at, "\r\"", 2);
        memcpy(t2 + at + 2, text + at, len - at + 1);
        char *p = write_file("split.csv", t2);
        sio_schedule *a = NULL, *b = NULL;
        sio_error ea, eb;
        assert_int_equal(load_with(p, SIZE_MAX, &a, &ea), SIO_EINPUT);
        assert_int_equal(load_with(p, 0, &b, &eb), SIO_EINPUT);
        assert_string_equal(ea.text, eb.text);
        free(t2);
        free(text);
    }
    /* the errors are the ones a reader of the file expects */
    char *text = split_text(SC_DUP_ACROSS, 6000);
    char *p = write_file("split.csv", text);
    sio_schedule *s = NULL;
    sio_error err;
    assert_int_equal(load_with(p, 0, &s, &err), SIO_EINPUT);
    assert_non_null(strstr(err.text, ":4502:1: duplicate id 'r1500' on chip 0 (first on line 1502)"));
    free(text);
    text = split_text(SC_BAD_UNIT_AFTER_DUP, 6000);
    p = write_file("split.csv", text);
    assert_int_equal(load_with(p, 0, &s, &err), SIO_EINPUT);
    assert_non_null(strstr(err.text, ":1502:1: duplicate id 'r1494'"));
    free(text);
    text = split_text(SC_CYCLE, 6000);
    p = write_file("split.csv", text);
    assert_int_equal(load_with(p, 0, &s, &err), SIO_EINPUT);
    assert_non_null(strstr(err.text, "dependency cycle"));
    free(text);
}

/* The reach of the 32-bit offsets (max_id_bytes, max_deps of sio_load_opts),
** lowered: a schedule right at a limit loads, whole and split, the same
** (the split's second half of ids moved down to fit); one byte or dep
** fewer and both give the one error, at the record that passes it. A
** limit raised past 32 bits is the default. */
static void test_offset_limits(void **st)
{
    (void)st;
    char *text = split_text(SC_PLAIN, 6000);
    char *p = write_file("limits.csv", text);
    sio_schedule *a = NULL, *b = NULL;
    sio_error ea, eb;
    assert_int_equal(load_with(p, SIZE_MAX, &a, &ea), SIO_OK);
    size_t id_bytes = 0, last_dep_row = 0;
    for (size_t i = 0; i < a->n; i++) id_bytes += strlen(sio_schedule_id(a, i)) + 1;
    for (size_t i = 0; i < a->n; i++)
        if (a->dep_off[i + 1] > a->dep_off[i]) last_dep_row = i;
    for (int limit = 0; limit < 2; limit++) {
        sio_load_opts o;
        sio_load_opts_default(&o);
        size_t *knob = limit ? &o.max_deps : &o.max_id_bytes;
        *knob = limit ? a->n_deps : id_bytes;
        sio_schedule *w = NULL;
        int rs = load_opts(p, &o, 0, &b, &eb), rw = load_opts(p, &o, SIZE_MAX, &w, &ea);
        assert_int_equal(rs, SIO_OK);
        assert_int_equal(rw, SIO_OK);
        assert_int_equal(b->split, 1);
        assert_same_schedule(a, b);
        assert_same_schedule(a, w);
        sio_schedule_free(b);
        sio_schedule_free(w);
        *knob = (limit ? a->n_deps : id_bytes) - 1;
        int ra = load_opts(p, &o, SIZE_MAX, &b, &ea), rb = load_opts(p, &o, 0, &b, &eb);
        assert_int_equal(ra, SIO_EINPUT);
        assert_int_equal(rb, SIO_EINPUT);
        assert_string_equal(ea.text, eb.text);
        assert_non_null(strstr(ea.text, limit ? "deps in one schedule" : "bytes of ids in one schedule"));
        /* the last id is on the last line, in column 1; the last dep on
        ** its row's line */
        assert_int_equal(ea.line, (int)a->line[limit ? last_dep_row : a->n - 1]);
        if (!limit) assert_int_equal(ea.col, 1);
        /* past what 32 bits reach, a limit counts as the default */
        *knob = SIZE_MAX;
        rs = load_opts(p, &o, 0, &b, &eb);
        assert_int_equal(rs, SIO_OK);
        assert_same_schedule(a, b);
        sio_schedule_free(b);
    }
    sio_schedule_free(a);
    free(text);
}

/* The size limits of sio_load_opts, lowered: each an error at the field
** that passes it (a field that never ends: at its start, as soon as it is
** longer), the same from a file read whole or in halves and from a
** buffer; the builder's rows too. Defaults: 64 KiB, 1 MiB, 1 MiB, 4096;
** 0 means the default. */
static void limits_case(const sio_load_opts *o, const char *text, const char *want)
{
    char *p = write_file("size.csv", text);
    for (int how = 0; how < 3; how++) {
        sio_schedule *s = NULL;
        sio_error err;
        int rc = how < 2 ? load_opts(p, o, how ? 0 : SIZE_MAX, &s, &err)
                         : sio_schedule_from_buffer(&chip, "mem", text, strlen(text), o, &s, &err);
        if (rc != SIO_EINPUT) fail_msg("how %d: rc %d, want the error '%s'", how, rc, want);
        assert_null(s);
        const char *msg = strchr(err.text, ':') + 1;
        if (strcmp(msg, want) != 0) fail_msg("how %d: got '%s', want '%s'", how, msg, want);
    }
}

static void test_size_limits(void **st)
{
    (void)st;
    sio_load_opts o;
    sio_load_opts_default(&o);
    assert_int_equal(o.max_field_bytes, 65536);
    assert_int_equal(o.max_record_bytes, 1 << 20);
    assert_int_equal(o.max_header_bytes, 1 << 20);
    assert_int_equal(o.max_header_cols, 4096);
    o.max_field_bytes = 8;
    o.max_record_bytes = 24;
    o.max_header_bytes = 35;   /* the header below is 24 + 9 + 4 bytes */
    o.max_header_cols = 7;
    const char *head = "id,unit,op,start,cycles,note\n";
    char t[256];
    snprintf(t, sizeof t, "%sa,U0,run,0,1,12345678\nb,U0,run,1,1,123456789\n", head);
    limits_case(&o, t, "3:14: field longer than 8 bytes");
    snprintf(t, sizeof t, "%sabcdefg,U0,run,0,1,1234567\n", head);   /* 8+3+4+2+2+8 bytes */
    limits_case(&o, t, "2:20: record longer than 24 bytes");
    limits_case(&o, "id,unit,op,start,cycles,a,b,c\n", "1:29: header has more than 7 columns");
    limits_case(&o, "id,unit,op,start,cycles,abcdefgh,xyz\n", "1:34: header longer than 35 bytes");
    /* a field that never ends: not an unterminated quote at the end, a field
    ** too long where it starts */
    snprintf(t, sizeof t, "%s\"aaaa\naaaaaaaaaaa", head);
    limits_case(&o, t, "2:2: field longer than 8 bytes");
    /* the builder's rows (the header is its own) */
    sio_builder *b = NULL;
    sio_error err;
    assert_int_equal(sio_builder_new(&chip, "built", &o, &b, &err), SIO_OK);
    sio_row r = {"123456789", "U0", "run", 0, 1, 1.0, NULL, 0};
    assert_int_equal(sio_builder_add(b, &r, &err), SIO_EINPUT);
    assert_string_equal(err.text, "built:2:1: field longer than 8 bytes");
    sio_builder_free(b);
    /* 0 is the default */
    o.max_field_bytes = o.max_record_bytes = o.max_header_bytes = o.max_header_cols = 0;
    snprintf(t, sizeof t, "%sabcdefghijklmnopq,U0,run,0,1,123456789\n", head);
    char *p = write_file("size.csv", t);
    sio_schedule *s = NULL;
    assert_int_equal(load_opts(p, &o, SIZE_MAX, &s, &err), SIO_OK);
    sio_schedule_free(s);
}

/* text with every id "rN" made "N": ids that rise down the file, which
** skip the hashed id check (ids_rising in sio_schedule.c) */
static char *numeric_ids(const char *text)
{
    char *o = malloc(strlen(text) + 1), *q = o;
    assert_non_null(o);
    for (const char *c = text; *c; c++)
        if (!(*c == 'r' && c[1] >= '0' && c[1] <= '9')) *q++ = *c;
    *q = 0;
    return o;
}

/* Rising numeric ids: the same schedule and the same errors as any other
** ids, whole and split; forward deps resolved, and the cases where a dep
** looks like a number but names no id. */
static void test_rising_ids(void **st)
{
    (void)st;
    static const enum split_case cases[] = {SC_PLAIN, SC_CRLF, SC_CYCLE, SC_DUP_ACROSS, SC_UNKNOWN_DEP,
                                            SC_SELF_DEP, SC_BAD_UNIT_AFTER_DUP};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *named = split_text(cases[k], 6000), *text = numeric_ids(named);
        char *p = write_file("rising.csv", text);
        sio_schedule *a = NULL, *b = NULL, *r = NULL;
        sio_error ea, eb, er;
        int ra = load_with(p, SIZE_MAX, &a, &ea), rb = load_with(p, 0, &b, &eb);
        char *pn = write_file("named.csv", named);
        int rr = load_with(pn, SIZE_MAX, &r, &er);
        if (ra != rb || ra != rr) fail_msg("case %d: rc %d whole, %d split, %d with names", cases[k], ra, rb, rr);
        if (ra == SIO_OK) {
            assert_same_schedule(a, b);
            assert_int_equal(a->n_deps, r->n_deps);
            assert_memory_equal(a->dep_src, r->dep_src, a->n_deps * sizeof *a->dep_src);
            assert_memory_equal(a->dep_off, r->dep_off, (a->n + 1) * sizeof *a->dep_off);
        } else {
            assert_string_equal(ea.text, eb.text);
            assert_int_equal(ea.line, er.line);   /* the same line as with names (the columns move) */
        }
        sio_schedule_free(a);
        sio_schedule_free(b);
        sio_schedule_free(r);
        free(text);
        free(named);
    }
    /* a dep on a row further down, found by bisection */
    sio_schedule *s = load_ok("id,unit,op,start,cycles,deps\n1,U0,run,5,1,3\n2,U1,run,0,1,\n3,U1,run,1,2,\n");
    assert_int_equal(s->n_deps, 1);
    assert_int_equal(s->dep_src[0], 2);
    sio_schedule_free(s);
    expect_error("id,unit,op,start,cycles,deps\n1,U0,run,5,1,03\n2,U1,run,0,1,\n3,U1,run,1,2,\n",
                 "2:14: dep on unknown id '03' (no such id on chip 0)");
    expect_error("id,unit,op,start,cycles,deps\n1,U0,run,5,1,7\n2,U1,run,0,1,\n3,U1,run,1,2,\n",
                 "2:14: dep on unknown id '7' (no such id on chip 0)");
    expect_error("id,unit,op,start,cycles,deps,chip\n1,U0,run,5,1,3,0\n2,U1,run,0,1,,0\n3,U1,run,1,2,,1\n",
                 "2:14: dep on unknown id '3' (no such id on chip 0)");
    expect_error("id,unit,op,start,cycles,deps\n1,U0,run,0,1,2+0\n2,U1,run,0,1,1+0\n",
                 "2:14: dependency cycle: '1' <- '2' <- '1'");
    expect_error("id,unit,op,start,cycles\n1,U0,run,0,1\n2,U1,run,0,1\n2,V0,go,0,1\n",
                 "4:1: duplicate id '2' on chip 0 (first on line 3)");
}

/* Ids that rise in each half of a split load but not over the file (the
** second half's are the smaller): the loader keeps no id hashes while the
** ids rise, and makes them for both halves at the merge. A repeat of an id
** of the first half, last in the second, must still be found, as a whole
** read finds it. Every line has the same length, so the halves meet where
** the ids jump down. */
static void test_rising_halves(void **st)
{
    (void)st;
    const size_t n = 4000;
    for (int dup = 0; dup < 2; dup++) {
        sb b = {0};
        sb_printf(&b, "id,unit,op,start,cycles,d\n");   /* as long as a row */
        for (size_t i = 0; i < n; i++) {
            size_t id = i < n / 2 ? 50000 + i : 10000 + (i - n / 2);
            if (dup && i == n - 1) id = 50000 + 7;
            sb_printf(&b, "%zu,U0,run,%05zu,1,\n", id, 2 * i);
        }
        char *p = write_file("halves.csv", b.p);
        sio_schedule *a = NULL, *c = NULL;
        sio_error ea, ec;
        /* split first: a whole read before it would leave its hashes in
        ** the memory the split read gets back */
        int rc = load_with(p, 0, &c, &ec), ra = load_with(p, SIZE_MAX, &a, &ea);
        assert_int_equal(ra, dup ? SIO_EINPUT : SIO_OK);
        assert_int_equal(rc, ra);
        if (dup) {
            assert_string_equal(ea.text, ec.text);
            char want[96];
            snprintf(want, sizeof want, ":%zu:1: duplicate id '50007' on chip 0 (first on line 9)", n + 1);
            assert_non_null(strstr(ec.text, want));
        } else {
            assert_int_equal(c->split, 1);
            assert_same_schedule(a, c);
        }
        sio_schedule_free(a);
        sio_schedule_free(c);
        free(b.p);
    }
}

/* A file of some 5.3 MB, past five of the loader's 1 MiB buffers: the
** second buffer holds a quoted field, the third blank lines and lines of
** spaces, the fifth ends in the leading spaces of a row. The rows that
** straddle the other edges have the edge inside their id. Every row's line
** must be its line in the file, whole and split, and an error in a
** straddling row must point at it. bad_row: the row whose unit is made
** unknown, or SIZE_MAX; straddle gets the straddling rows, *lines each
** row's line. */
#define LONG_EDGES 5
static char *long_text(size_t bad_row, size_t straddle[LONG_EDGES], uint32_t **lines, size_t *n_rows)
{
    sb b = {0};
    sb_printf(&b, "id,unit,op,start,cycles,note\n");
    uint32_t line = 1;
    size_t n = 0, cap = 1 << 18, next = 0;
    const size_t MiB = (size_t)1 << 20;
    uint32_t *ln = malloc(cap * sizeof *ln);
    assert_non_null(ln);
    while (b.n < 5 * MiB + 300000) {
        size_t edge = (next + 1) * MiB;
        char id[64];
        if (next < LONG_EDGES && b.n + 40 > edge) {   /* this row crosses the edge: inside its id */
            size_t len = edge - b.n + 2;
            assert_true(len < sizeof id - 12);
            memset(id, next == 4 ? ' ' : 'x', len);   /* the last: spaces before the id */
            snprintf(id + len - 1, sizeof id - len + 1, "%s%zu", next == 4 ? "r" : "", n);
            straddle[next++] = n;
        } else {
            snprintf(id, sizeof id, "r%zu", n);
        }
        const char *note = b.n > MiB + MiB / 2 && b.n < MiB + MiB / 2 + 200 ? "\"a, quoted\"" : "plain";
        assert_true(n < cap);
        ln[n] = ++line;
        sb_printf(&b, "%s,%s,run,%zu,1,%s\n", id, n == bad_row ? "NOPE" : n % 2 ? "U1" : "U0", n / 2, note);
        n++;
        int blanks = b.n > 2 * MiB + 100 && b.n < 3 * MiB - 100;
        if (blanks && n % 997 == 0) { sb_printf(&b, "\n"); line++; }
        if (blanks && n % 1999 == 0) { sb_printf(&b, "   \t \n"); line++; }
    }
    *lines = ln;
    *n_rows = n;
    return b.p;
}

/* The bytes of the first field of line `line` of text. */
static size_t first_field_len(const char *text, uint32_t line)
{
    const char *q = text;
    for (uint32_t l = 1; l < line; l++) q = strchr(q, '\n') + 1;
    return strcspn(q, ",");
}

static void test_long_file_lines(void **st)
{
    (void)st;
    size_t straddle[LONG_EDGES], n;
    uint32_t *ln;
    char *text = long_text(SIZE_MAX, straddle, &ln, &n);
    char *p = write_file("long.csv", text);
    for (int split = 0; split < 2; split++) {
        sio_schedule *s = NULL;
        sio_error err;
        if (load_with(p, split ? 0 : SIZE_MAX, &s, &err)) fail_msg("%s", err.text);
        assert_int_equal(s->n, n);
        for (size_t r = 0; r < n; r++)
            if (s->line[r] != ln[r]) fail_msg("split %d: row %zu on line %u, read as %u", split, r, ln[r], s->line[r]);
        sio_schedule_free(s);
    }
    free(text);
    for (int k = 0; k < LONG_EDGES; k++) {
        size_t row = straddle[k], m;
        uint32_t *ln2;
        size_t st2[LONG_EDGES];
        text = long_text(row, st2, &ln2, &m);
        p = write_file("long.csv", text);
        char want[96];
        snprintf(want, sizeof want, ":%u:%zu: unknown unit 'NOPE'", ln2[row], first_field_len(text, ln2[row]) + 2);
        for (int split = 0; split < 2; split++) {
            sio_schedule *s = NULL;
            sio_error err;
            assert_int_equal(load_with(p, split ? 0 : SIZE_MAX, &s, &err), SIO_EINPUT);
            if (!strstr(err.text, want)) fail_msg("edge %d split %d: got '%s', want '%s'", k, split, err.text, want);
        }
        free(ln2);
        free(text);
    }
    free(ln);
}

/* CR LF line ends over three of the loader's buffers, with the lines a
** buffer fed whole would count wrong: in the second buffer a lone CR
** ends a record inside a line (two rows on one line), in the third a
** quoted field holds a line end (one row over two lines). Every row's line,
** whole and split, is its line in the file; an error after them points at
** its line. */
static void test_crlf_lines(void **st)
{
    (void)st;
    const size_t MiB = (size_t)1 << 20;
    for (int bad = 0; bad < 2; bad++) {
        sb b = {0};
        sb_printf(&b, "id,unit,op,start,cycles,note\r\n");
        size_t n = 0, cap = 1 << 18, lone = 0, quoted = 0, bad_row = 0;
        uint32_t line = 1, *ln = malloc(cap * sizeof *ln);
        assert_non_null(ln);
        while (b.n < 3 * MiB + 100000) {
            assert_true(n + 2 < cap);
            ln[n] = ++line;
            if (!lone && b.n > MiB + 1000) {   /* two rows, one line */
                sb_printf(&b, "a%zu,U0,run,%zu,1,x\r", n, n);
                ln[++n] = line;
                lone = n;
            } else if (!quoted && b.n > 2 * MiB + 1000) {
                sb_printf(&b, "q%zu,U1,run,%zu,1,\"two\r\nlines\"\r\n", n, n);
                line++;
                quoted = n;
                n++;
                continue;
            }
            const char *unit = bad && !bad_row && b.n > 3 * MiB ? (bad_row = n, "NOPE") : n % 2 ? "U1" : "U0";
            sb_printf(&b, "r%zu,%s,run,%zu,1,x\r\n", n, unit, n);
            n++;
        }
        assert_true(lone && quoted && (!bad || bad_row));
        char *p = write_file("crlf.csv", b.p);
        for (int split = 0; split < 2; split++) {
            sio_schedule *s = NULL;
            sio_error err;
            int rc = load_with(p, split ? 0 : SIZE_MAX, &s, &err);
            if (bad) {
                char want[64];
                snprintf(want, sizeof want, ":%u:%zu: unknown unit 'NOPE'", ln[bad_row],
                         strlen("r,") + (size_t)snprintf(NULL, 0, "%zu", bad_row) + 1);
                assert_int_equal(rc, SIO_EINPUT);
                if (!strstr(err.text, want)) fail_msg("split %d: got '%s', want '%s'", split, err.text, want);
                continue;
            }
            if (rc) fail_msg("%s", err.text);
            assert_int_equal(s->n, n);
            for (size_t r = 0; r < n; r++)
                if (s->line[r] != ln[r]) fail_msg("split %d: row %zu on line %u, read as %u", split, r, ln[r], s->line[r]);
            sio_schedule_free(s);
        }
        free(ln);
        free(b.p);
    }
}

/* Records ended by a bare CR inside a line (lines are counted at LF): the
** record after one starts on that line, also when the one before began on
** an earlier line (a quoted line end) or the new one opens a quote that runs
** to the end of the file. Read whole and in pieces (the split setting), the
** lines must be the same. */
static void test_bare_cr_records(void **st)
{
    (void)st;
    char *p = write_file("cr.csv", "id,unit,op,start,cycles,note\n"
                                   "a,U0,run,0,1,\"two\nlines\"\r"
                                   "b,U0,run,1,1,x\r   \n"
                                   "c,U1,run,2,1,x\n");
    for (int split = 0; split < 2; split++) {
        sio_schedule *s = NULL;
        sio_error err;
        int rc = load_with(p, split ? 0 : SIZE_MAX, &s, &err);
        if (rc) fail_msg("%s", err.text);
        assert_int_equal(s->n, 3);
        assert_int_equal(s->line[0], 2);
        assert_int_equal(s->line[1], 3);
        assert_int_equal(s->line[2], 4);
        sio_schedule_free(s);
    }
    p = write_file("cr.csv", "id,unit,op,start,cycles\r\"x,\n1,U0,run,0,1\n");
    for (int split = 0; split < 2; split++) {
        sio_schedule *s = NULL;
        sio_error err;
        assert_int_equal(load_with(p, split ? 0 : SIZE_MAX, &s, &err), SIO_EINPUT);
        assert_non_null(strstr(err.text, "cr.csv:1:1: unterminated quoted field"));
    }
}

/* ---- schedules from memory: what the file gives ----------------------- */

/* Loads len bytes at text from memory as `name` against c, split as
** load_with. */
static int buf_with(const sio_chip *c, const char *name, const char *text, size_t len, size_t min_bytes,
                    sio_schedule **s, sio_error *err)
{
    sio_load_opts o;
    sio_load_opts_default(&o);
    o.split_min_bytes = min_bytes;
    return sio_schedule_from_buffer(c, name, text, len, &o, s, err);
}

/* Every field of a schedule read from a file (a) and of one read from
** memory (b), which must hold the file's bytes (text, len). */
static void assert_same_read(const sio_schedule *a, const sio_schedule *b, const char *text, size_t len)
{
    assert_same_schedule(a, b);
    assert_int_equal(a->n_cols, b->n_cols);
    for (size_t k = 0; k < a->n_cols; k++) assert_string_equal(a->cols[k], b->cols[k]);
    const int ca[] = {a->col_id, a->col_unit, a->col_op, a->col_start, a->col_cycles, a->col_chip, a->col_activity,
                      a->col_deps};
    const int cb[] = {b->col_id, b->col_unit, b->col_op, b->col_start, b->col_cycles, b->col_chip, b->col_activity,
                      b->col_deps};
    assert_memory_equal(ca, cb, sizeof ca);
    assert_int_equal(a->split, b->split);
    assert_int_equal(a->source, SIO_SOURCE_FILE);
    assert_null(a->text);
    assert_int_equal(b->source, SIO_SOURCE_BUFFER);
    assert_int_equal(b->text_len, len);
    if (len) assert_memory_equal(b->text, text, len);
}

/* The error of a buffer named `name` is the file's (at `path`) with the
** name in place of the path. */
static void assert_same_error(const sio_error *ef, const char *path, const sio_error *eb, const char *name)
{
    size_t n = strlen(path);
    if (strncmp(ef->text, path, n) != 0) fail_msg("'%s' does not start with '%s'", ef->text, path);
    char want[1200];
    snprintf(want, sizeof want, "%s%s", name, ef->text + n);
    assert_string_equal(eb->text, want);
    assert_int_equal(ef->line, eb->line);
    assert_int_equal(ef->col, eb->col);
}

/* Reads the file at path and the same bytes from memory, whole and split
** (min_bytes as load_with), against c: the same schedule or the same
** error. Returns the file's status. */
static int file_vs_buffer(const sio_chip *c, const char *path, size_t min_bytes)
{
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(text);
    sio_load_opts o;
    sio_load_opts_default(&o);
    o.split_min_bytes = min_bytes;
    sio_schedule *a = NULL, *b = NULL;
    sio_error ea, eb;
    int ra = sio_schedule_load_opts(c, path, &o, &a, &ea);
    int rb = buf_with(c, "<buffer>", text, len, min_bytes, &b, &eb);
    if (ra != rb) fail_msg("%s: rc %d from the file, %d from memory (%s | %s)", path, ra, rb, ra ? ea.text : "",
                           rb ? eb.text : "");
    if (ra == SIO_OK) {
        assert_same_read(a, b, text, len);
        assert_string_equal(b->path, "<buffer>");
    } else {
        assert_null(b);
        assert_same_error(&ea, path, &eb, "<buffer>");
    }
    sio_schedule_free(a);
    sio_schedule_free(b);
    free(text);
    return ra;
}

/* The generated schedules of the split tests, good and bad, whole and in
** two halves at once: from memory as from the file. */
static void test_buffer_generated(void **st)
{
    (void)st;
    for (size_t n = 600; n <= 6000; n += 5400) {
        for (int c = 0; c < SC_N; c++) {
            char *text = split_text((enum split_case)c, n);
            char *p = write_file("gen.csv", text);
            int r0 = file_vs_buffer(&chip, p, SIZE_MAX), r1 = file_vs_buffer(&chip, p, 0);
            assert_int_equal(r0, r1);
            free(text);
        }
    }
    /* the bytes are len, not up to a NUL; none at all is an empty file */
    const char nul[] = "id,unit,op,start,cycles\na\0b,U0,run,0,1\n";
    sio_schedule *s = NULL;
    sio_error err;
    assert_int_equal(sio_schedule_from_buffer(&chip, "mem", nul, sizeof nul - 1, NULL, &s, &err), SIO_EINPUT);
    assert_null(s);
    assert_string_equal(err.text, "mem:2:1: NUL byte in a field");
    assert_int_equal(sio_schedule_from_buffer(&chip, NULL, NULL, 0, NULL, &s, &err), SIO_EINPUT);
    assert_string_equal(err.text, "<buffer>:1:1: empty file: a schedule needs a header (id,unit,op,start,cycles)");
    /* a header alone, no line end: an empty schedule that keeps its text */
    assert_int_equal(sio_schedule_from_buffer(&chip, "h", "id,unit,op,start,cycles", 23, NULL, &s, &err), SIO_OK);
    assert_int_equal(s->n, 0);
    assert_int_equal(s->text_len, 23);
    sio_schedule_free(s);
}

/* The chip at path (the tests run from the top of the repository). */
static sio_chip *chip_at(const char *path)
{
    sio_chip *c = NULL;
    sio_error err;
    if (sio_chip_load(path, &c, &err)) fail_msg("%s", err.text);
    return c;
}

/* fn(chip, schedule) for each bundled sample schedule, against its chip. */
static void each_sample(void (*fn)(const sio_chip *, const char *))
{
    static const char *const samples[][2] = {
        {"samples/tsp/chip.json", "samples/tsp/decode.csv"},
        {"samples/tsp/chip.json", "samples/tsp/prefill.csv"},
        {"samples/tsp/chip.json", "samples/tsp/multichip.csv"},
        {"samples/stack/chip.json", "samples/stack/decode.csv"},
        {"samples/stack/chip.json", "samples/stack/prefill.csv"},
    };
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        sio_chip *c = chip_at(samples[k][0]);
        fn(c, samples[k][1]);
        sio_chip_free(c);
    }
}

/* The sample at path, whole and its first 50 lines: from memory as from
** the file, whole and (the whole) in two halves. */
static void sample_from_memory(const sio_chip *c, const char *path)
{
    assert_int_equal(file_vs_buffer(c, path, SIZE_MAX), SIO_OK);
    assert_int_equal(file_vs_buffer(c, path, 0), SIO_OK);
    char *text = slurp(path, NULL), *q = text;
    for (int l = 0; l < 50; l++) q = strchr(q, '\n') + 1;
    *q = 0;
    assert_int_equal(file_vs_buffer(c, write_file("head.csv", text), SIZE_MAX), SIO_OK);
    free(text);
}

static void test_buffer_samples(void **st)
{
    (void)st;
    each_sample(sample_from_memory);
}

/* A share of the chips (sio_load_opts.chip_lo, chip_step): for every step
** and offset, the share holds exactly the whole load's rows of its chips, in
** file order, their chips renumbered and their deps pointing at the same
** rows; every row is in one share of a step. */
static void share_of(const sio_chip *c, const char *path)
{
    sio_schedule *all = NULL, *s = NULL;
    sio_error err;
    if (sio_schedule_load(c, path, &all, &err)) fail_msg("%s", err.text);
    assert_int_equal(all->chip_step, 0);
    assert_int_equal(all->n_chips_file, all->n_chips);
    for (size_t step = 1; step <= 5; step++) {
        size_t covered = 0;
        for (size_t lo = 0; lo < step + 1; lo++) {
            sio_load_opts o;
            sio_load_opts_default(&o);
            o.chip_lo = lo;
            o.chip_step = step;
            o.split_min_bytes = 0;   /* every chip (step 1 from 0) is read in two halves; a share in one */
            if (sio_schedule_load_opts(c, path, &o, &s, &err)) fail_msg("%s", err.text);
            assert_int_equal(s->split, step == 1 && lo == 0);
            assert_int_equal(s->chip_lo, lo);
            assert_int_equal(s->chip_step, step);
            assert_int_equal(s->n_chips_file, all->n_chips);
            assert_int_equal(s->n_chips, all->n_chips > lo ? (all->n_chips - lo + step - 1) / step : 0);
            size_t *row_of = calloc(all->n + 1, sizeof *row_of);   /* the whole load's row -> the share's + 1 */
            assert_non_null(row_of);
            size_t j = 0;
            for (size_t i = 0; i < all->n; i++) {
                if (all->chip[i] < lo || (all->chip[i] - lo) % step) continue;
                assert_true(j < s->n);
                assert_int_equal(s->chip[j], (all->chip[i] - lo) / step);
                assert_int_equal(s->unit[j], all->unit[i]);
                assert_int_equal(s->op[j], all->op[i]);
                assert_int_equal(s->start_cyc[j], all->start_cyc[i]);
                assert_int_equal(s->cycles[j], all->cycles[i]);
                assert_true(s->activity[j] == all->activity[i]);
                assert_int_equal(s->line[j], all->line[i]);
                assert_string_equal(sio_schedule_id(s, j), sio_schedule_id(all, i));
                row_of[i] = ++j;
            }
            assert_int_equal(j, s->n);
            for (size_t i = 0; i < all->n; i++) {
                if (!row_of[i]) continue;
                size_t r = row_of[i] - 1, nd = all->dep_off[i + 1] - all->dep_off[i];
                assert_int_equal(s->dep_off[r + 1] - s->dep_off[r], nd);
                for (size_t d = 0; d < nd; d++) {
                    size_t da = all->dep_off[i] + d, ds = s->dep_off[r] + d;
                    assert_int_equal(row_of[all->dep_src[da]], s->dep_src[ds] + 1);
                    assert_int_equal(s->dep_kind[ds], all->dep_kind[da]);
                    assert_int_equal(s->dep_lag[ds], all->dep_lag[da]);
                }
            }
            if (lo < step) covered += s->n;
            free(row_of);
            sio_schedule_free(s);
        }
        assert_int_equal(covered, all->n);
    }
    sio_schedule_free(all);
}

static void test_shares(void **st)
{
    (void)st;
    each_sample(share_of);
    /* rules between rows hold among a share's rows, and messages name the
    ** file's chip: chip 3's duplicate id is an error of the share that keeps
    ** chip 3 only */
    const char *text = "id,unit,op,start,cycles,chip,deps\n"
                       "a,U0,run,0,4,0,\n"
                       "a,U0,run,0,4,3,\n"
                       "a,U1,run,4,1,3,\n"
                       "b,U0,run,9,1,0,a\n";
    char *p = write_file("share.csv", text);
    sio_load_opts o;
    sio_load_opts_default(&o);
    o.chip_step = 2;
    sio_schedule *s = NULL;
    sio_error err;
    assert_int_equal(sio_schedule_load_opts(&chip, p, &o, &s, &err), SIO_OK);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->n_chips, 2);   /* chips 0 and 2 of 4 */
    assert_int_equal(s->dep_src[s->dep_off[1]], 0);
    sio_schedule_free(s);
    o.chip_lo = 1;
    assert_int_equal(sio_schedule_load_opts(&chip, p, &o, &s, &err), SIO_EINPUT);
    assert_null(s);
    assert_non_null(strstr(err.text, "share.csv:4:1: duplicate id 'a' on chip 3 (first on line 3)"));
    /* a row's own error is every share's */
    text = "id,unit,op,start,cycles,chip\n"
           "a,U0,run,0,4,0\n"
           "a,NOPE,run,0,4,3\n";
    p = write_file("share.csv", text);
    o.chip_lo = 0;
    assert_int_equal(sio_schedule_load_opts(&chip, p, &o, &s, &err), SIO_EINPUT);
    assert_non_null(strstr(err.text, "share.csv:3:3: unknown unit 'NOPE'"));
}

/* Every golden bad schedule (tests/cases/sched_*) from memory: the error of
** the file, and the golden line, with the buffer's name for the file's. */
static void test_buffer_golden(void **st)
{
    (void)st;
    sio_chip *c = chip_at("samples/tsp/chip.json");
    sio_error err;
    DIR *d = opendir("tests/cases");
    assert_non_null(d);
    size_t cases = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, "sched_", 6) != 0) continue;
        char path[600], exp_path[600];
        snprintf(path, sizeof path, "tests/cases/%s/schedule.csv", e->d_name);
        snprintf(exp_path, sizeof exp_path, "tests/cases/%s/expected", e->d_name);
        char *expected = slurp(exp_path, NULL);
        assert_non_null(expected);
        expected[strcspn(expected, "\n")] = 0;
        for (size_t min_bytes = 0; min_bytes < 2; min_bytes++) {
            if (file_vs_buffer(c, path, min_bytes ? SIZE_MAX : 0) == SIO_OK) fail_msg("%s: loads", path);
        }
        size_t len;
        char *text = slurp(path, &len);
        sio_schedule *s = NULL;
        assert_int_not_equal(sio_schedule_from_buffer(c, "<buffer>", text, len, NULL, &s, &err), SIO_OK);
        const char *rest = expected + strlen("schedule.csv");
        char want[1200];
        snprintf(want, sizeof want, "<buffer>%s", rest);
        if (strncmp(expected, "schedule.csv:", 13) != 0 || strcmp(err.text, want) != 0)
            fail_msg("%s:\n  got  '%s'\n  want '%s'", e->d_name, err.text, want);
        free(text);
        free(expected);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 60);
    sio_chip_free(c);
}

/* A schedule from memory is written back from its copy of the text, to any
** path (the name is no file of its own), and its verify errors find their
** columns in that text, not in a file that has the name. */
static void test_buffer_write_verify(void **st)
{
    (void)st;
    char out[600];
    snprintf(out, sizeof out, "%s/mem_out.csv", dir);
    write_file("mem_out.csv", "not the schedule\n");
    sio_schedule *s = NULL;
    sio_error err;
    char *copy = strdup(RT_TEXT);
    assert_int_equal(sio_schedule_from_buffer(&chip, out, copy, strlen(copy), NULL, &s, &err), SIO_OK);
    memset(copy, 'x', strlen(copy));   /* the caller's text may go */
    free(copy);
    assert_string_equal(s->path, out);
    check_roundtrip(s, out);
    /* the file named like the buffer now holds other lines */
    write_file("mem_out.csv", "x\nx\nx\nx\nx\nx\n");
    int64_t bad[3] = {0, 3, 2};
    assert_int_equal(sio_schedule_verify(&chip, s, bad, &err), SIO_EINPUT);
    char want[700];
    snprintf(want, sizeof want, "%s:5:11: start 3 breaks dep on 'a', which ends at 4", out);
    assert_string_equal(err.text, want);
    sio_schedule_free(s);
}

/* ---- the builder --------------------------------------------------------- */

/* Row i of s (read against c) as a builder row; its deps written out in
** deps (cap bytes) as the deps column would have them. */
static sio_row row_of(const sio_chip *c, const sio_schedule *s, size_t i, char *deps, size_t cap)
{
    size_t len = 0;
    deps[0] = 0;
    for (size_t d = s->dep_off[i]; d < s->dep_off[i + 1]; d++) {
        const char *id = sio_schedule_id(s, s->dep_src[d]);
        const char *sep = d > s->dep_off[i] ? ";" : "";
        int m = s->dep_kind[d] == SIO_DEP_END ? snprintf(deps + len, cap - len, "%s%s", sep, id)
                                              : snprintf(deps + len, cap - len, "%s%s%c%" PRId64, sep, id,
                                                         s->dep_kind[d] == SIO_DEP_START ? '+' : '=', s->dep_lag[d]);
        assert_true(m > 0 && (size_t)m < cap - len);
        len += (size_t)m;
    }
    sio_row r = {sio_schedule_id(s, i), c->units[s->unit[i]].name, c->ops[s->op[i]].name, s->start_cyc[i],
                 s->cycles[i], s->activity[i], deps, s->chip[i]};
    return r;
}

/* The rows of a (read against c) fed to a builder with opts o. */
static int build_from(const sio_chip *c, const sio_schedule *a, const sio_load_opts *o, sio_schedule **out,
                      sio_error *err)
{
    sio_builder *b = NULL;
    int rc = sio_builder_new(c, "built", o, &b, err);
    if (rc) return rc;
    char deps[4096];
    for (size_t i = 0; i < a->n; i++) {
        sio_row r = row_of(c, a, i, deps, sizeof deps);
        rc = sio_builder_add(b, &r, err);
        if (rc) {
            sio_builder_free(b);
            return rc;
        }
    }
    return sio_builder_finish(b, out, err);
}

/* A schedule built from the rows of the file at path (every field the
** file's but the lines and the header), verified on one thread and on two;
** written, it reads back as itself. */
static void builder_vs_file(const sio_chip *c, const char *path)
{
    sio_schedule *a = NULL, *b = NULL, *w = NULL;
    sio_error err;
    if (sio_schedule_load(c, path, &a, &err)) fail_msg("%s", err.text);
    sio_load_opts o;
    sio_load_opts_default(&o);
    for (int two = 1; two >= 0; two--) {   /* the one-thread build is kept */
        sio_schedule_free(b);
        o.verify_two_min = two ? 0 : SIZE_MAX;
        if (build_from(c, a, &o, &b, &err)) fail_msg("%s: %s", path, err.text);
        uint32_t *keep = a->line;   /* the built rows are lines 2, 3, ... */
        a->line = b->line;
        assert_same_schedule(a, b);
        a->line = keep;
        for (size_t i = 0; i < b->n; i++) assert_int_equal(b->line[i], i + 2);
        assert_int_equal(b->source, SIO_SOURCE_BUILDER);
        assert_string_equal(b->path, "built");
        assert_int_equal(b->n_cols, 8);
        assert_int_equal(b->col_deps, 6);
    }
    char out[600];
    snprintf(out, sizeof out, "%s/built.csv", dir);
    assert_int_equal(sio_schedule_write(b, b->start_cyc, out, &err), SIO_OK);
    if (sio_schedule_load(c, out, &w, &err)) fail_msg("%s", err.text);
    assert_same_schedule(b, w);
    size_t n;
    char *text = slurp(out, &n);
    assert_int_equal(n, b->text_len);
    assert_memory_equal(text, b->text, n);
    assert_memory_equal(text, "id,unit,op,start,cycles,activity,deps,chip\n", 43);
    free(text);
    sio_schedule_free(a);
    sio_schedule_free(b);
    sio_schedule_free(w);
}

/* Generated schedules (one with blank lines, one with a dep further down)
** and the samples: built row by row, they are the files' schedules. */
static void test_builder_same(void **st)
{
    (void)st;
    static const enum split_case cases[] = {SC_PLAIN, SC_CRLF, SC_BLANK_FIRST, SC_QUOTED_NL_MIDDLE, SC_FORWARD_DEP};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *text = split_text(cases[k], 3000);
        builder_vs_file(&chip, write_file("tobuild.csv", text));
        free(text);
    }
    char *named = split_text(SC_PLAIN, 3000), *text = numeric_ids(named);   /* ids that rise */
    builder_vs_file(&chip, write_file("tobuild.csv", text));
    free(text);
    free(named);
    each_sample(builder_vs_file);
}

/* Rows fed to a builder named "b" until one fails, or finished: the error
** must be `want` exactly, and its message and line those of the CSV file
** of the same rows (header id,unit,op,start,cycles,activity,deps,chip, a
** row a line), whose column counts bytes rather than fields. */
static void expect_built(const sio_row *rows, size_t n, const sio_load_opts *o, const char *want)
{
    sio_builder *b = NULL;
    sio_error eb, ef;
    assert_int_equal(sio_builder_new(&chip, "b", o, &b, &eb), SIO_OK);
    sb csv = {0};
    sb_printf(&csv, "id,unit,op,start,cycles,activity,deps,chip\n");
    int rc = SIO_OK;
    for (size_t i = 0; i < n; i++) {
        const sio_row *r = &rows[i];
        sb_printf(&csv, "%s,%s,%s,%" PRId64 ",%" PRId64 ",%g,%s,%zu\n", r->id ? r->id : "", r->unit, r->op,
                  r->start_cyc, r->cycles, r->activity, r->deps ? r->deps : "", r->chip);
        if (!rc) rc = sio_builder_add(b, r, &eb);
    }
    sio_schedule *s = (sio_schedule *)1;
    int rf = sio_builder_finish(b, &s, &ef);
    if (rf == SIO_OK) fail_msg("built, want '%s'", want);
    assert_null(s);
    assert_int_equal(rf, SIO_EINPUT);
    if (rc) {   /* finish gives the add's error again */
        assert_int_equal(rc, SIO_EINPUT);
        assert_string_equal(ef.text, eb.text);
    }
    if (strcmp(ef.text, want) != 0) fail_msg("got  '%s'\nwant '%s'", ef.text, want);
    int rcf = sio_schedule_from_buffer(&chip, "b", csv.p, csv.n, o, &s, &eb);
    assert_int_equal(rcf, SIO_EINPUT);
    assert_int_equal(eb.line, ef.line);
    const char *mb = strstr(eb.text, ": "), *mf = strstr(ef.text, ": ");
    assert_non_null(mb);
    assert_string_equal(mb, mf);
    free(csv.p);
}

#define ROW(id, unit, op, start, cycles, act, deps, chip_) \
    {(id), (unit), (op), (start), (cycles), (act), (deps), (chip_)}

/* Every kind of error, at the row and field it belongs to. */
static void test_builder_errors(void **st)
{
    (void)st;
    const sio_row ok = ROW("a", "U0", "run", 0, 4, 1, NULL, 0);
    const struct { sio_row bad; const char *want; } one[] = {
        {ROW(NULL, "U0", "run", 0, 4, 1, NULL, 0), "b:3:1: empty 'id'"},
        {ROW("x", "U9", "run", 0, 4, 1, NULL, 0), "b:3:2: unknown unit 'U9' (not in chip 'mini')"},
        {ROW("x", "U1", "go", 4, 4, 1, NULL, 0), "b:3:3: unknown op 'go' for unit 'U1' of class A"},
        {ROW("x", "U1", "run", -1, 4, 1, NULL, 0), "b:3:4: 'start' must be a whole number of cycles >= 0, not '-1'"},
        {ROW("x", "U1", "run", ((int64_t)1 << 52) + 1, 4, 1, NULL, 0), "b:3:4: 'start' 4503599627370497 is beyond 2^52 cycles"},
        {ROW("x", "U1", "run", 0, 0, 1, NULL, 0), "b:3:5: 'cycles' must be >= 1, not 0"},
        {ROW("x", "U1", "run", 0, 4, 1.5, NULL, 0), "b:3:6: 'activity' must be a number from 0 to 1, not '1.5'"},
        {ROW("x", "U1", "run", 0, 4, NAN, NULL, 0), "b:3:6: 'activity' must be a number from 0 to 1, not 'nan'"},
        {ROW("x", "U1", "run", 0, 4, -0.25, NULL, 0), "b:3:6: 'activity' must be a number from 0 to 1, not '-0.25'"},
        {ROW("x", "U1", "run", 4, 4, 1, "a;;a", 0), "b:3:7: empty dep in 'deps' (ids are separated by ';')"},
        {ROW("x", "U1", "run", 4, 4, 1, "a=-1", 0), "b:3:7: dep lag '-1' is not a whole number >= 0"},
        {ROW("x", "U1", "run", 4, 4, 1, "x", 0), "b:3:7: dependency cycle: 'x' depends on itself"},
        {ROW("x", "U1", "run", 4, 4, 1, "zz", 0), "b:3:7: dep on unknown id 'zz' (no such id on chip 0)"},
        {ROW("x", "U1", "run", 4, 4, 1, "a", 1), "b:3:7: dep on unknown id 'a' (no such id on chip 1)"},
        {ROW("x", "U1", "run", 0, 4, 1, NULL, 65536), "b:3:8: 'chip' must be a whole number from 0 to 65535, not '65536'"},
        {ROW("a", "U1", "run", 0, 4, 1, NULL, 0), "b:3:1: duplicate id 'a' on chip 0 (first on line 2)"},
        {ROW("x", "U1", "run", 3, 1, 1, "a", 0), "b:3:4: start 3 breaks dep on 'a', which ends at 4"},
        {ROW("x", "U1", "run", 3, 1, 1, "a=2", 0), "b:3:4: start 3 breaks dep 'a=2' (needs exactly 2)"},
        {ROW("x", "U0", "run", 3, 1, 1, NULL, 0), "b:3:4: unit 'U0' on chip 0 is busy with 'a' until 4; 'x' starts at 3"},
    };
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++) {
        sio_row rows[2] = {ok, one[k].bad};
        expect_built(rows, 2, NULL, one[k].want);
    }
    /* a cycle, named at the first row on it */
    const sio_row cyc[] = {ROW("a", "U0", "run", 0, 1, 1, "b+0", 0), ROW("b", "U1", "run", 0, 1, 1, "a+0", 0)};
    expect_built(cyc, 2, NULL, "b:2:7: dependency cycle: 'a' <- 'b' <- 'a'");
    /* a repeated id above wins over a later row's error, and stops the builder */
    const sio_row dup[] = {ok, ROW("a", "U1", "run", 0, 4, 1, NULL, 0), ROW("c", "NOPE", "run", 0, 1, 1, NULL, 0),
                           ROW("d", "U1", "run", 9, 1, 1, NULL, 0)};
    expect_built(dup, 4, NULL, "b:3:1: duplicate id 'a' on chip 0 (first on line 2)");
    /* the limits of sio_load_opts, at the row that passes them */
    sio_load_opts o;
    sio_load_opts_default(&o);
    o.max_deps = 1;
    const sio_row two_deps[] = {ok, ROW("x", "U1", "run", 4, 1, 1, "a", 0), ROW("y", "U1", "run", 5, 1, 1, "x", 0)};
    expect_built(two_deps, 3, &o, "b:4:7: more than 1 deps in one schedule");
    sio_load_opts_default(&o);
    o.max_id_bytes = 3;   /* "a" and its NUL, "x" and its NUL */
    const sio_row ids[] = {ok, ROW("x", "U1", "run", 4, 1, 1, "a", 0)};
    expect_built(ids, 2, &o, "b:3:1: more than 3 bytes of ids in one schedule");
    /* an empty builder is a valid, empty schedule; a freed one leaks nothing */
    sio_builder *b = NULL;
    sio_schedule *s = NULL;
    sio_error err;
    assert_int_equal(sio_builder_new(&chip, NULL, NULL, &b, &err), SIO_OK);
    assert_int_equal(sio_builder_finish(b, &s, &err), SIO_OK);
    assert_int_equal(s->n, 0);
    assert_string_equal(s->path, "<builder>");
    sio_schedule_free(s);
    assert_int_equal(sio_builder_new(&chip, NULL, NULL, &b, &err), SIO_OK);
    assert_int_equal(sio_builder_add(b, &ok, &err), SIO_OK);
    sio_builder_free(b);
    sio_builder_free(NULL);
}

/* Ids a CSV file must quote, built and written: the file reads back as the
** built schedule, with the starts given; verify errors of the built
** schedule are positioned by field. */
static void test_builder_write_verify(void **st)
{
    (void)st;
    const sio_row rows[] = {
        ROW("a,b", "U0", "run", 0, 4, 0.1, NULL, 0),
        ROW("say \"hi\"", "U1", "run", 4, 2, 1, "a,b", 0),
        ROW(" padded ", "V0", "go", 6, 3, 0.3333333333333333, "say \"hi\"+1", 0),
        ROW("two\nlines", "U0", "run", 4, 1, 0, NULL, 1),
        ROW(" padded ", "U0", "run", 6, 1, 1e-9, "two\nlines+0", 1),
    };
    sio_builder *b = NULL;
    sio_schedule *s = NULL, *w = NULL;
    sio_error err;
    assert_int_equal(sio_builder_new(&chip, "compiler", NULL, &b, &err), SIO_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sio_builder_add(b, &rows[i], &err)) fail_msg("%s", err.text);
    if (sio_builder_finish(b, &s, &err)) fail_msg("%s", err.text);
    assert_int_equal(s->n, 5);
    assert_string_equal(sio_schedule_id(s, 2), " padded ");
    assert_int_equal(s->dep_src[s->dep_off[4]], 3);
    assert_true(s->activity[2] == 0.3333333333333333 && s->activity[4] == 1e-9);
    char out[600];
    snprintf(out, sizeof out, "%s/built_q.csv", dir);
    int64_t t[5] = {0, 4, 6, 40, 50};
    assert_int_equal(sio_schedule_write(s, t, out, &err), SIO_OK);
    if (sio_schedule_load(&chip, out, &w, &err)) fail_msg("%s", err.text);
    assert_memory_equal(w->start_cyc, t, sizeof t);
    memcpy(w->start_cyc, s->start_cyc, sizeof t);
    uint32_t lines[5] = {2, 3, 4, 5, 7};   /* the quoted line end */
    assert_memory_equal(w->line, lines, sizeof lines);
    memcpy(w->line, s->line, sizeof lines);
    assert_same_schedule(s, w);
    sio_schedule_free(w);
    /* positioned by field; the id's line end shown escaped */
    int64_t bad[5] = {0, 4, 6, 5, 5};
    assert_int_equal(sio_schedule_verify(&chip, s, bad, &err), SIO_EINPUT);
    assert_string_equal(err.text, "compiler:6:4: unit 'U0' on chip 1 is busy with 'two\\nlines' until 6; ' padded ' starts at 5");
    sio_schedule_free(s);
}

/* sio_copy_release: the destination gets every byte (several pieces, odd
** offsets and a length that is no whole number of pages), and the
** source's whole pages are given back (they read as zeros). */
static void test_copy_release(void **state)
{
    (void)state;
    size_t n = ((size_t)19 << 20) + 12345;
    unsigned char *src = malloc(n + 3), *dst = malloc(n + 7);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t k = 0; k < n; k++) src[k + 3] = (unsigned char)(k * 2654435761u >> 13);
    sio_copy_release(dst + 7, src + 3, n);
    size_t bad = 0;
    for (size_t k = 0; k < n; k++) bad += dst[k + 7] != (unsigned char)(k * 2654435761u >> 13);
    assert_int_equal(bad, 0);
    size_t zero = 0;
    for (size_t k = n / 2; k < n / 2 + 4096; k++) zero += src[k] == 0;
    assert_int_equal(zero, 4096);   /* a whole page inside: released */
    free(src);
    free(dst);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_header_only_and_multichip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_escaped),
        cmocka_unit_test(test_far_lines),
        cmocka_unit_test(test_unordered_valid),
        cmocka_unit_test(test_verify_two),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_changed_file),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_split_loads),
        cmocka_unit_test(test_offset_limits),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_rising_ids),
        cmocka_unit_test(test_rising_halves),
        cmocka_unit_test(test_long_file_lines),
        cmocka_unit_test(test_crlf_lines),
        cmocka_unit_test(test_bare_cr_records),
        cmocka_unit_test(test_buffer_generated),
        cmocka_unit_test(test_buffer_samples),
        cmocka_unit_test(test_buffer_golden),
        cmocka_unit_test(test_buffer_write_verify),
        cmocka_unit_test(test_builder_same),
        cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_builder_write_verify),
        cmocka_unit_test(test_copy_release),
        cmocka_unit_test(test_shares),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return rc;
}
