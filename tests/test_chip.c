/* test_chip.c -- the chip-description loader (sio_chip_load) through sio.h.
**
** Loads the format's example chip and checks it against the text (values,
** defaults, references, lookups); checks defaults on a minimal chip, class
** order, impedance tables; then properties over many inputs made from the
** example: every truncation is refused with a position, a number made
** negative is either accepted or refused on its own line, an unknown key
** put into any object is refused on its own line. Files are written into a
** fresh temporary folder. Every load is made twice, from the file and from
** memory (sio_chip_from_buffer), with the same outcome. The golden bad
** inputs are in tests/cases/chip_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sio.h"

static const char design_chip[] =
    "{\n"
    "  \"format\": \"pda-chip/1\",\n"
    "  \"name\": \"tsp-like\",\n"
    "  \"clock_ghz\": 0.9,\n"
    "  \"outline_mm\": [25.0, 29.0],\n"
    "  \"dies\": [{\"id\": 0, \"name\": \"logic\"}, {\"id\": 1, \"name\": \"sram\"}],\n"
    "  \"rails\": [{\n"
    "    \"name\": \"core\", \"vdd_v\": 0.80, \"guardband_mv\": 70, \"didt_limit_a_per_ns\": 8,\n"
    "    \"pdn\": {\"stages\": [\n"
    "      {\"name\": \"board\",   \"r_ohm\": 1.5e-4, \"l_h\": 1e-9,  \"c_f\": 5e-3,   \"esr_ohm\": 2e-4},\n"
    "      {\"name\": \"package\", \"r_ohm\": 5e-5,   \"l_h\": 2e-11, \"c_f\": 1e-4,   \"esr_ohm\": 1.5e-4},\n"
    "      {\"name\": \"die\",     \"r_ohm\": 1e-4,   \"l_h\": 1e-12, \"c_f\": 2.5e-6, \"esr_ohm\": 1e-4}]}\n"
    "  }],\n"
    "  \"units\": [{\"name\": \"MXM.W0\", \"class\": \"MXM\", \"die\": 0, \"rail\": \"core\",\n"
    "             \"rect_mm\": [0.0, 3.0, 2.0, 24.15], \"idle_a\": 2.0}],\n"
    "  \"ops\": [{\"op\": \"matmul\", \"class\": \"MXM\", \"current_a\": 40.0, \"ramp_cycles\": 20}],\n"
    "  \"thermal\": {\n"
    "    \"ambient_c\": 40, \"grid\": [64, 64], \"h_top_w_m2k\": 2e4, \"h_bottom_w_m2k\": 0,\n"
    "    \"hotspot_c\": 95, \"limit_c\": 105,\n"
    "    \"layers\": [\n"
    "      {\"name\": \"logic\", \"die\": 0, \"thickness_m\": 2e-6, \"k_w_mk\": 120, \"cv_j_m3k\": 1.75e6},\n"
    "      {\"name\": \"logic-bulk\", \"thickness_m\": 4.8e-5, \"k_w_mk\": 120, \"cv_j_m3k\": 1.75e6},\n"
    "      {\"name\": \"bond\", \"thickness_m\": 2e-6, \"k_w_mk\": 3, \"cv_j_m3k\": 2e6},\n"
    "      {\"name\": \"sram\", \"die\": 1, \"thickness_m\": 2e-6, \"k_w_mk\": 120, \"cv_j_m3k\": 1.75e6},\n"
    "      {\"name\": \"sram-bulk\", \"thickness_m\": 2.98e-4, \"k_w_mk\": 120, \"cv_j_m3k\": 1.75e6},\n"
    "      {\"name\": \"tim\", \"thickness_m\": 3e-5, \"k_w_mk\": 5, \"cv_j_m3k\": 2e6},\n"
    "      {\"name\": \"lid\", \"thickness_m\": 1.5e-3, \"k_w_mk\": 390, \"cv_j_m3k\": 3.45e6}]\n"
    "  }\n"
    "}\n";

/* A chip with nothing optional given. */
static const char minimal_chip[] =
    "{\"format\": \"pda-chip/1\", \"name\": \"min\", \"clock_ghz\": 1,\n"
    " \"outline_mm\": [10, 10], \"dies\": [{\"id\": 3, \"name\": \"d\"}],\n"
    " \"rails\": [{\"name\": \"r\", \"vdd_v\": 1,\n"
    "   \"pdn\": {\"stages\": [{\"name\": \"s\", \"r_ohm\": 0, \"l_h\": 0, \"c_f\": 1e-6}]}}],\n"
    " \"units\": [{\"name\": \"u\", \"class\": \"C\", \"die\": 3, \"rail\": \"r\",\n"
    "            \"rect_mm\": [0, 0, 10, 10]}],\n"
    " \"ops\": [{\"op\": \"o\", \"class\": \"C\", \"current_a\": 1}]}\n";

typedef struct fixture {
    char dir[64];
    char chip_path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/pda_test_chip_XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->chip_path, sizeof f->chip_path, "%s/chip.json", f->dir);
    *state = f;
    return 0;
}

static void remove_in(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    remove(p);
}

static int teardown(void **state)
{
    fixture *f = *state;
    char sub[128];
    remove_in(f->dir, "chip.json");
    remove_in(f->dir, "z.csv");
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    remove_in(sub, "chip.json");
    remove_in(sub, "z.csv");
    rmdir(sub);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Writes text as the fixture's chip.json and loads it; reading the same
** bytes from memory under the file's name (sio_chip_from_buffer) must give
** the same status, message and chip. */
static int load_text(const fixture *f, const char *text, size_t len, sio_chip **chip,
                     sio_error *err)
{
    sio_chip *b = NULL;
    sio_error eb;
    write_file(f->chip_path, text, len);
    int rc = sio_chip_load(f->chip_path, chip, err);
    assert_int_equal(sio_chip_from_buffer(f->chip_path, text, len, &b, &eb), rc);
    if (rc) {
        assert_null(b);
        assert_string_equal(eb.text, err->text);
        return rc;
    }
    assert_string_equal(b->path, (*chip)->path);
    assert_string_equal(b->name, (*chip)->name);
    assert_int_equal(b->n_units, (*chip)->n_units);
    assert_int_equal(b->n_rails, (*chip)->n_rails);
    for (size_t r = 0; r < b->n_rails; r++) {
        assert_int_equal(b->rails[r].n_stages, (*chip)->rails[r].n_stages);
        for (size_t k = 0; k < b->rails[r].n_stages; k++)
            assert_memory_equal(&b->rails[r].stages[k].r_ohm, &(*chip)->rails[r].stages[k].r_ohm, 5 * sizeof(double));
        assert_int_equal(b->rails[r].n_z, (*chip)->rails[r].n_z);
    }
    assert_int_equal(b->thermal.n_layers, (*chip)->thermal.n_layers);
    sio_chip_free(b);
    return rc;
}

/* text with the first occurrence of old replaced by new (caller frees). */
static char *replaced(const char *text, const char *old, const char *new_s)
{
    const char *at = strstr(text, old);
    size_t a, n;
    char *s;
    assert_non_null(at);
    a = (size_t)(at - text);
    n = strlen(text) - strlen(old) + strlen(new_s);
    s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, text, a);
    strcpy(s + a, new_s);
    strcat(s, at + strlen(old));
    return s;
}

static int line_at(const char *text, size_t pos)
{
    int line = 1;
    size_t i;
    for (i = 0; i < pos; i++)
        line += text[i] == '\n';
    return line;
}

static void test_design_example(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    const sio_rail *r;
    double r_sum = 0;
    size_t i, k, idx = 99;
    int rc = load_text(f, design_chip, strlen(design_chip), &c, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_non_null(c);
    assert_string_equal(c->name, "tsp-like");
    assert_string_equal(c->path, f->chip_path);
    assert_true(fabs(sio_chip_period_ns(c) * 0.9 - 1.0) < 1e-15);
    assert_true(c->outline_mm[0] == 25.0 && c->outline_mm[1] == 29.0);
    assert_int_equal(c->n_dies, 2);
    assert_int_equal(c->dies[1].id, 1);
    assert_string_equal(c->dies[1].name, "sram");

    assert_int_equal(c->n_rails, 1);
    r = &c->rails[0];
    assert_string_equal(r->name, "core");
    assert_true(r->vdd_v == 0.80 && r->guardband_mv == 70 && r->didt_limit_a_per_ns == 8);
    assert_true(r->didt_window_ns == 5);   /* default */
    assert_int_equal(r->n_stages, 3);
    assert_null(r->impedance_csv);
    assert_int_equal(r->n_z, 0);
    assert_string_equal(r->stages[0].name, "board");
    assert_string_equal(r->stages[2].name, "die");
    for (k = 0; k < r->n_stages; k++) {
        r_sum += r->stages[k].r_ohm;
        assert_true(r->stages[k].esl_h == 0);   /* default */
        assert_true(r->stages[k].c_f > 0);
    }
    /* Z(0) of this ladder is 0.3 mOhm, the sum of series R */
    assert_true(fabs(r_sum - 3e-4) < 1e-15);
    assert_true(r->stages[1].l_h == 2e-11 && r->stages[1].esr_ohm == 1.5e-4);

    assert_int_equal(c->n_units, 1);
    assert_string_equal(c->units[0].name, "MXM.W0");
    assert_int_equal(c->units[0].die, 0);
    assert_int_equal(c->units[0].rail, 0);
    assert_true(c->units[0].rect_mm[3] == 24.15 && c->units[0].idle_a == 2.0);
    assert_int_equal(c->n_classes, 1);
    assert_string_equal(c->classes[c->units[0].cls], "MXM");
    assert_int_equal(c->n_ops, 1);
    assert_true(c->ops[0].current_a == 40.0);
    assert_int_equal(c->ops[0].ramp_cycles, 20);
    assert_int_equal(c->ops[0].cls, c->units[0].cls);

    assert_true(c->thermal.present);
    assert_int_equal(c->thermal.n_layers, 7);
    assert_int_equal(c->thermal.grid[0], 64);
    assert_int_equal(c->thermal.grid[1], 64);
    assert_int_equal(c->thermal.frame_ns, 10000);   /* default */
    assert_true(c->thermal.h_top_w_m2k == 2e4 && c->thermal.h_bottom_w_m2k == 0);
    assert_string_equal(c->thermal.layers[0].name, "logic");
    assert_string_equal(c->thermal.layers[6].name, "lid");
    /* every die is carried by exactly one layer */
    for (i = 0; i < c->n_dies; i++) {
        size_t carriers = 0;
        for (k = 0; k < c->thermal.n_layers; k++)
            carriers += c->thermal.layers[k].has_die && c->thermal.layers[k].die == i;
        assert_int_equal(carriers, 1);
    }
    assert_true(c->thermal.layers[3].has_die && c->thermal.layers[3].die == 1);
    assert_false(c->thermal.layers[4].has_die);

    /* look-ups take a length, not a NUL */
    assert_int_equal(sio_chip_find_unit(c, "MXM.W0,rest", 6, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(sio_chip_find_unit(c, "MXM.W", 5, &idx), -1);
    assert_int_equal(sio_chip_find_class(c, "MXMX", 3, &idx), 0);
    assert_int_equal(sio_chip_find_class(c, "VXM", 3, &idx), -1);
    assert_int_equal(sio_chip_find_op(c, 0, "matmul", 6, &idx), 0);
    assert_int_equal(idx, 0);
    assert_int_equal(sio_chip_find_op(c, 0, "matmu", 5, &idx), -1);
    assert_int_equal(sio_chip_find_op(c, 1, "matmul", 6, &idx), -1);
    sio_chip_free(c);
}

static void test_defaults(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    char *t;
    int rc = load_text(f, minimal_chip, strlen(minimal_chip), &c, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_true(c->rails[0].guardband_mv == 70);
    assert_true(c->rails[0].didt_limit_a_per_ns == 8);
    assert_true(c->rails[0].didt_window_ns == 5);
    assert_true(c->rails[0].stages[0].esr_ohm == 0 && c->rails[0].stages[0].esl_h == 0);
    assert_true(c->units[0].idle_a == 0);
    assert_int_equal(c->ops[0].ramp_cycles, 0);
    assert_int_equal(c->units[0].die, 0);   /* index of die id 3 */
    assert_false(c->thermal.present);
    assert_int_equal(c->thermal.n_layers, 0);
    sio_chip_free(c);

    t = replaced(minimal_chip, "\"ops\"",
                 "\"thermal\": {\"h_top_w_m2k\": 1e4, \"layers\": [{\"name\": \"l\", \"die\": 3,"
                 " \"thickness_m\": 1e-4, \"k_w_mk\": 100, \"cv_j_m3k\": 1e6}]},\n \"ops\"");
    rc = load_text(f, t, strlen(t), &c, &err);
    free(t);
    if (rc)
        fail_msg("%s", err.text);
    assert_true(c->thermal.present);
    assert_true(c->thermal.ambient_c == 40 && c->thermal.h_bottom_w_m2k == 0);
    assert_true(c->thermal.hotspot_c == 95 && c->thermal.limit_c == 105);
    assert_int_equal(c->thermal.grid[0], 64);
    assert_int_equal(c->thermal.grid[1], 64);
    assert_int_equal(c->thermal.frame_ns, 10000);
    assert_true(c->thermal.layers[0].has_die && c->thermal.layers[0].die == 0);
    sio_chip_free(c);
}

static void test_classes_first_seen(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    const char *want[] = {"B", "A", "C"};
    const size_t cls_of[] = {0, 1, 0, 2};
    size_t i;
    int rc;
    char *t = replaced(minimal_chip,
                       "[{\"name\": \"u\", \"class\": \"C\", \"die\": 3, \"rail\": \"r\",\n"
                       "            \"rect_mm\": [0, 0, 10, 10]}]",
                       "[{\"name\": \"u0\", \"class\": \"B\", \"die\": 3, \"rail\": \"r\", \"rect_mm\": [0, 0, 1, 1]},"
                       " {\"name\": \"u1\", \"class\": \"A\", \"die\": 3, \"rail\": \"r\", \"rect_mm\": [1, 0, 1, 1]},"
                       " {\"name\": \"u2\", \"class\": \"B\", \"die\": 3, \"rail\": \"r\", \"rect_mm\": [2, 0, 1, 1]},"
                       " {\"name\": \"u3\", \"class\": \"C\", \"die\": 3, \"rail\": \"r\", \"rect_mm\": [9, 9, 1, 1]}]");
    rc = load_text(f, t, strlen(t), &c, &err);
    free(t);
    if (rc)
        fail_msg("%s", err.text);
    assert_int_equal(c->n_classes, 3);
    for (i = 0; i < 3; i++)
        assert_string_equal(c->classes[i], want[i]);
    for (i = 0; i < 4; i++)
        assert_int_equal(c->units[i].cls, cls_of[i]);
    assert_int_equal(c->ops[0].cls, 2);
    sio_chip_free(c);
}

static void test_impedance_csv(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    char sub[128], chip[160], zpath[160];
    const char *z = "f_hz,re_ohm,im_ohm\r\n0,3e-4,0\r\n\r\n1e6, 3.1e-4 ,2e-5\r\n1e8,1.2e-3,-4e-4";
    char *t = replaced(minimal_chip,
                       "\"pdn\": {\"stages\": [{\"name\": \"s\", \"r_ohm\": 0, \"l_h\": 0, \"c_f\": 1e-6}]}",
                       "\"impedance_csv\": \"z.csv\"");
    int rc;
    snprintf(sub, sizeof sub, "%s/sub", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(chip, sizeof chip, "%s/chip.json", sub);
    snprintf(zpath, sizeof zpath, "%s/z.csv", sub);
    write_file(chip, t, strlen(t));
    write_file(zpath, z, strlen(z));
    rc = sio_chip_load(chip, &c, &err);
    if (rc)
        fail_msg("%s", err.text);
    assert_string_equal(c->rails[0].impedance_csv, zpath);
    assert_null(c->rails[0].stages);
    assert_int_equal(c->rails[0].n_z, 3);
    assert_true(c->rails[0].z_f_hz[0] == 0 && c->rails[0].z_f_hz[2] == 1e8);
    assert_true(c->rails[0].z_re_ohm[1] == 3.1e-4 && c->rails[0].z_im_ohm[2] == -4e-4);
    sio_chip_free(c);

    /* inside "pdn" as well; no header; an error names the csv file and line */
    free(t);
    t = replaced(minimal_chip, "\"stages\": [{\"name\": \"s\", \"r_ohm\": 0, \"l_h\": 0, \"c_f\": 1e-6}]",
                 "\"impedance_csv\": \"z.csv\"");
    write_file(chip, t, strlen(t));
    write_file(zpath, "0,1,0\n10,1,0\n5,1,0\n", 18);
    free(t);
    assert_int_equal(sio_chip_load(chip, &c, &err), SIO_EINPUT);
    assert_null(c);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 1);
    assert_non_null(strstr(err.text, "z.csv:3:1: f_hz"));
    write_file(zpath, "0,1,0\n10,1,0\n", 13);
    assert_int_equal(sio_chip_load(chip, &c, &err), SIO_OK);
    assert_int_equal(c->rails[0].n_z, 2);
    sio_chip_free(c);
}

typedef struct bad_case {
    const char *old, *new_s;
    int line, col;
    const char *msg;   /* expected after "path:line:col: " */
} bad_case;

static void test_errors(void **state)
{
    const fixture *f = *state;
    static const bad_case cases[] = {
        {"\"clock_ghz\"", "\"clok_ghz\"", 4, 3,
         "unknown key 'clok_ghz' (did you mean 'clock_ghz'?)"},
        {"\"k_w_mk\": 3,", "\"k_w_mk\": 3, \"kw_mk\": 3,", 23, 58,
         "thermal.layers[2]: unknown key 'kw_mk' (did you mean 'k_w_mk'?)"},
        {"\"c_f\": 5e-3", "\"c_f\": -5e-3", 10, 65, "rails[0].pdn.stages[0].c_f: must be > 0, got -0.005"},
        {"\"rail\": \"core\"", "\"rail\": \"Core\"", 14, 66,
         "units[0].rail: unknown rail 'Core' (did you mean 'core'?)"},
        {"[0.0, 3.0, 2.0, 24.15]", "[24.0, 3.0, 2.0, 24.15]", 15, 25,
         "units[0].rect_mm: unit 'MXM.W0' spans x = 24..26 mm, outside the outline (0..25 mm)"},
        {", \"die\": 0, \"rail\"", ", \"rail\"", 14, 13, "units[0]: missing required key 'die'"},
        {"\"ramp_cycles\": 20}", "\"ramp_cycles\": 20,}", 16, 81,
         "invalid JSON: string or '}' expected near '}'"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sio_chip *c = (sio_chip *)1;
        sio_error err;
        char want[512];
        char *t = replaced(design_chip, cases[i].old, cases[i].new_s);
        int rc = load_text(f, t, strlen(t), &c, &err);
        free(t);
        assert_int_equal(rc, SIO_EINPUT);
        assert_null(c);
        snprintf(want, sizeof want, "%s:%d:%d: %s", f->chip_path, cases[i].line, cases[i].col,
                 cases[i].msg);
        assert_string_equal(err.text, want);
        assert_int_equal(err.line, cases[i].line);
        assert_int_equal(err.col, cases[i].col);
    }
}

/* A chip from memory: errors name the caller's name ("<buffer>" for none),
** and a relative impedance table is read from that name's folder. */
static void test_from_buffer_names(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    assert_int_equal(sio_chip_from_buffer(NULL, "{\"format\": 1}", 13, &c, &err), SIO_EINPUT);
    assert_null(c);
    assert_int_equal(strncmp(err.text, "<buffer>:1:12: ", 15), 0);
    char z[256], name[256], *t = replaced(minimal_chip, "\"pdn\": {\"stages\": [{\"name\": \"s\", \"r_ohm\": 0, \"l_h\": 0, \"c_f\": 1e-6}]}",
                                          "\"impedance_csv\": \"z.csv\"");
    snprintf(z, sizeof z, "%s/z.csv", f->dir);
    write_file(z, "0,1,0\n10,1,0\n", 13);
    snprintf(name, sizeof name, "%s/chip.json", f->dir);
    assert_int_equal(sio_chip_from_buffer(name, t, strlen(t), &c, &err), SIO_OK);
    assert_string_equal(c->rails[0].impedance_csv, z);
    assert_int_equal(c->rails[0].n_z, 2);
    sio_chip_free(c);
    free(t);
}

/* sio_chip_locate: a value's place in the chip file as the file is now (a
** position counted here from the text); none for a path not in the
** description, a malformed path, a file that no longer parses or is gone. */
static void test_locate(void **state)
{
    const fixture *f = *state;
    sio_chip *c = NULL;
    sio_error err;
    int line, col, want_line = 1, want_col = 1;
    assert_int_equal(load_text(f, minimal_chip, strlen(minimal_chip), &c, &err), SIO_OK);
    for (const char *p = minimal_chip; p < strstr(minimal_chip, "[0, 0, 10, 10]"); p++) {
        want_col = *p == '\n' ? 1 : want_col + 1;
        want_line += *p == '\n';
    }
    assert_int_equal(sio_chip_locate(c, "units[0].rect_mm", &line, &col), 0);
    assert_int_equal(line, want_line);
    assert_int_equal(col, want_col);
    assert_int_equal(sio_chip_locate(c, "rails[0].pdn.stages[0].c_f", &line, &col), 0);
    assert_int_equal(line, 4);
    const char *bad[] = {"units[1].rect_mm", "units[x].name", "units[0]..name", "units[0", "", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        line = col = 7;
        assert_int_equal(sio_chip_locate(c, bad[i], &line, &col), -1);
        assert_int_equal(line, 0);
        assert_int_equal(col, 0);
    }
    /* the same file turned into a FIFO: no position, and no wait for a writer */
    remove(f->chip_path);
    assert_int_equal(mkfifo(f->chip_path, 0600), 0);
    assert_int_equal(sio_chip_locate(c, "units[0].rect_mm", &line, &col), -1);
    remove(f->chip_path);
    write_file(f->chip_path, "{\"units\": [", 11);
    assert_int_equal(sio_chip_locate(c, "units[0].rect_mm", &line, &col), -1);
    remove(f->chip_path);
    assert_int_equal(sio_chip_locate(c, "units[0].rect_mm", &line, &col), -1);
    sio_chip_free(c);
}

static void test_missing_file(void **state)
{
    const fixture *f = *state;
    sio_chip *c = (sio_chip *)1;
    sio_error err;
    char path[160];
    snprintf(path, sizeof path, "%s/none.json", f->dir);
    assert_int_equal(sio_chip_load(path, &c, &err), SIO_EIO);
    assert_null(c);
    assert_non_null(strstr(err.text, path));
    sio_chip_free(NULL);
}

/* Every proper prefix of a valid file is refused, with a position. */
static void test_truncations(void **state)
{
    const fixture *f = *state;
    size_t n = strlen(design_chip) - 1, len;   /* the last '\n' is optional */
    for (len = 0; len < n; len++) {
        sio_chip *c = (sio_chip *)1;
        sio_error err;
        int rc = load_text(f, design_chip, len, &c, &err);
        assert_int_equal(rc, SIO_EINPUT);
        assert_null(c);
        assert_true(err.line >= 1 && err.col >= 1);
        assert_int_equal(strncmp(err.text, f->chip_path, strlen(f->chip_path)), 0);
    }
}

/* Each number made negative is either fine or refused on its own line. */
static void test_negated_numbers(void **state)
{
    const fixture *f = *state;
    const char *t = design_chip;
    size_t i, n = strlen(t), tried = 0, refused = 0;
    char *buf = malloc(n + 2);
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
        sio_chip *c = NULL;
        sio_error err;
        int rc;
        if (i == 0 || !(t[i] >= '0' && t[i] <= '9') || strchr("0123456789.-+eE_\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", t[i - 1]))
            continue;   /* not the start of a number token */
        memcpy(buf, t, i);
        buf[i] = '-';
        memcpy(buf + i + 1, t + i, n - i + 1);
        rc = load_text(f, buf, n + 1, &c, &err);
        tried++;
        if (rc == SIO_OK) {
            sio_chip_free(c);
            continue;
        }
        refused++;
        assert_int_equal(rc, SIO_EINPUT);
        if (err.line != line_at(t, i))
            fail_msg("negating the number at line %d gave: %s", line_at(t, i), err.text);
    }
    free(buf);
    print_message("negated %zu numbers, %zu refused\n", tried, refused);
    assert_true(tried >= 55);
    assert_true(refused > 40);   /* most physical values must be positive */
}

/* A stray key in any object is refused at that key, with its name. */
static void test_unknown_key_everywhere(void **state)
{
    const fixture *f = *state;
    const char *t = design_chip;
    size_t i, n = strlen(t), objects = 0;
    const char stray[] = "\"zzz_stray\": 1, ";
    char *buf = malloc(n + sizeof stray);
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
        sio_chip *c = NULL;
        sio_error err;
        if (t[i] != '{')
            continue;
        memcpy(buf, t, i + 1);
        memcpy(buf + i + 1, stray, sizeof stray - 1);
        memcpy(buf + i + sizeof stray, t + i + 1, n - i);
        assert_int_equal(load_text(f, buf, n + sizeof stray - 1, &c, &err), SIO_EINPUT);
        assert_null(c);
        if (!strstr(err.text, "unknown key 'zzz_stray'") || err.line != line_at(t, i))
            fail_msg("stray key after byte %zu (line %d): %s", i, line_at(t, i), err.text);
        objects++;
    }
    free(buf);
    assert_int_equal(objects, 18);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_design_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classes_first_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_impedance_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_buffer_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negated_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
