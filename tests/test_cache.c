/* test_cache.c -- the PDN models and thermal plans a sweep's runs share
** (analyzer/pipeline_cache.h):
** - a model asked for twice at one bin is the same object, and the same
**   taps as one made afresh; another rail, another bin or any changed number
**   of the ladder gives another model;
** - a thermal plan is lent to one run at a time: asked for twice before it
**   is handed back, the second is another plan; handed back, it is lent
**   again;
** - whole runs (the stacked sample: two rails, leakage, the thermal run)
**   through one cache give the summary, byte for byte, of runs without it:
**   again and again, after a change of the die's decap or of the cooling
**   (each key must see it), and from two threads at once. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pda.h"
#include "pipeline_int.h"

static void load(sio_chip **c, sio_schedule **s)
{
    sio_error err;
    if (sio_chip_load("samples/stack/chip.json", c, &err)) fail_msg("%s", err.text);
    if (s && sio_schedule_load(*c, "samples/stack/decode.csv", s, &err)) fail_msg("%s", err.text);
}

/* The die stage of rail r (the last one). */
static sio_stage *die_stage(sio_chip *c, size_t r) { return &c->rails[r].stages[c->rails[r].n_stages - 1]; }

static void test_pdn_models(void **state)
{
    (void)state;
    sio_chip *c;
    load(&c, NULL);
    pda_cache *pc;
    assert_int_equal(pda_cache_create(&pc), PDA_OK);
    sio_error err;
    pdn_model *a, *b, *other_rail, *other_bin, *fresh;
    assert_int_equal(pda_cache_pdn(pc, c, 0, 1.0, &a, &err), PDA_OK);
    assert_int_equal(pda_cache_pdn(pc, c, 0, 1.0, &b, &err), PDA_OK);
    assert_ptr_equal(a, b);   /* shared while both hold it */
    assert_int_equal(pda_cache_pdn(pc, c, 1, 1.0, &other_rail, &err), PDA_OK);
    assert_int_equal(pda_cache_pdn(pc, c, 0, 2.0, &other_bin, &err), PDA_OK);
    assert_ptr_not_equal(a, other_rail);
    assert_ptr_not_equal(a, other_bin);
    /* the same taps as a model made without the cache */
    assert_int_equal(pdn_model_for_rail(c, 0, 1.0, &fresh, &err), PDN_OK);
    assert_int_equal(pdn_model_kernel_len(a), pdn_model_kernel_len(fresh));
    assert_memory_equal(pdn_model_kernel(a), pdn_model_kernel(fresh), pdn_model_kernel_len(a) * sizeof(double));
    pdn_model_destroy(fresh);
    pda_cache_pdn_done(pc, b);
    pda_cache_pdn_done(pc, other_rail);
    pda_cache_pdn_done(pc, other_bin);
    /* every number of a stage, the regulator's: a new model */
    sio_stage *st = die_stage(c, 0);
    double *field[] = {&st->r_ohm, &st->l_h, &st->c_f, &st->esr_ohm, &st->esl_h, &c->rails[0].vrm.loadline_ohm,
                       &c->rails[0].vrm.bandwidth_hz};
    for (size_t k = 0; k < sizeof field / sizeof field[0]; k++) {
        double keep = *field[k];
        *field[k] = keep > 0 ? keep * 1.5 : 1e-6;
        pdn_model *m;
        int rc = pda_cache_pdn(pc, c, 0, 1.0, &m, &err);
        *field[k] = keep;
        if (rc) continue;   /* a value the ladder refuses (a regulator it makes unstable): not cached either */
        assert_ptr_not_equal(m, a);
        pda_cache_pdn_done(pc, m);
    }
    /* handed back, then asked for again: the kept one */
    pda_cache_pdn_done(pc, a);
    assert_int_equal(pda_cache_pdn(pc, c, 0, 1.0, &b, &err), PDA_OK);
    assert_ptr_equal(a, b);
    pda_cache_pdn_done(pc, b);
    /* no cache: made, and destroyed by _done */
    assert_int_equal(pda_cache_pdn(NULL, c, 0, 1.0, &b, &err), PDA_OK);
    pda_cache_pdn_done(NULL, b);
    pda_cache_destroy(pc);
    sio_chip_free(c);
}

static void test_plans_lent(void **state)
{
    (void)state;
    thermal_layer layers[2] = {{5e-4, 150, 1.6e6, 0}, {2e-3, 400, 3.4e6, -1}};
    thermal_stack st = {.width_m = 0.02, .height_m = 0.02, .layers = layers, .n_layers = 2, .h_top_w_m2k = 2e4,
                        .h_bottom_w_m2k = 0, .ambient_c = 40, .n_dies = 1};
    pda_cache *pc;
    assert_int_equal(pda_cache_create(&pc), PDA_OK);
    thermal_plan *p, *q, *r;
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 1e-5, THERMAL_PLAN_ESTIMATE, &p), THERMAL_OK);
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 1e-5, THERMAL_PLAN_ESTIMATE, &q), THERMAL_OK);
    assert_ptr_not_equal(p, q);   /* p is lent out: q is another */
    pda_cache_plan_done(pc, p);
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 1e-5, THERMAL_PLAN_ESTIMATE, &r), THERMAL_OK);
    assert_ptr_equal(r, p);
    pda_cache_plan_done(pc, r);
    /* the cooling, the grid, the frame: other plans */
    st.h_top_w_m2k = 1e4;
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 1e-5, THERMAL_PLAN_ESTIMATE, &r), THERMAL_OK);
    assert_ptr_not_equal(r, p);
    pda_cache_plan_done(pc, r);
    st.h_top_w_m2k = 2e4;
    assert_int_equal(pda_cache_plan(pc, &st, 8, 16, 1e-5, THERMAL_PLAN_ESTIMATE, &r), THERMAL_OK);
    assert_ptr_not_equal(r, p);
    pda_cache_plan_done(pc, r);
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 0.0, THERMAL_PLAN_ESTIMATE, &r), THERMAL_OK);
    assert_ptr_not_equal(r, p);
    pda_cache_plan_done(pc, r);
    /* a stack the planner refuses: its status, nothing kept */
    st.h_top_w_m2k = 0;
    assert_int_equal(pda_cache_plan(pc, &st, 8, 8, 1e-5, THERMAL_PLAN_ESTIMATE, &r), THERMAL_ESTACK);
    pda_cache_plan_done(pc, q);
    pda_cache_destroy(pc);
}

/* ---- whole runs ---------------------------------------------------------- */

/* The run's summary text, NULL when it failed (*err set). */
static char *run_summary(const sio_chip *c, const sio_schedule *s, pda_cache *pc, sio_error *err)
{
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.report = 0;
    o.grid[0] = o.grid[1] = 16;
    pda_result *r;
    if (pda_run_walk(c, s, &o, 1, pc, &r, err)) return NULL;
    char *t = strdup(pda_result_summary_json(r));
    pda_result_free(r);
    return t;
}

static char *summary(const sio_chip *c, const sio_schedule *s, pda_cache *pc)
{
    sio_error err;
    char *t = run_summary(c, s, pc, &err);
    if (!t) fail_msg("%s", err.text);
    return t;
}

static void same_summary(const sio_chip *c, const sio_schedule *s, pda_cache *pc, const char *what)
{
    char *want = summary(c, s, NULL), *got = summary(c, s, pc);
    if (strcmp(want, got)) fail_msg("%s: the run through the cache differs from the one without", what);
    free(want);
    free(got);
}

typedef struct job {
    const sio_chip *c;
    const sio_schedule *s;
    pda_cache *pc;
    char *out;
} job;

static void *run_job(void *arg)   /* on a thread: no cmocka calls */
{
    job *j = arg;
    sio_error err;
    j->out = run_summary(j->c, j->s, j->pc, &err);
    return NULL;
}

static void test_runs_through_cache(void **state)
{
    (void)state;
    sio_chip *c;
    sio_schedule *s;
    load(&c, &s);
    assert_true(c->thermal.present);
    pda_cache *pc;
    assert_int_equal(pda_cache_create(&pc), PDA_OK);
    same_summary(c, s, pc, "first run");
    same_summary(c, s, pc, "second run (every object from the cache)");
    sio_stage *die = die_stage(c, 0);
    double cf = die->c_f;
    die->c_f = cf * 4;
    same_summary(c, s, pc, "the die's decap x4");
    die->c_f = cf;
    double h = c->thermal.h_top_w_m2k;
    c->thermal.h_top_w_m2k = h / 2;
    same_summary(c, s, pc, "half the cooling");
    c->thermal.h_top_w_m2k = h;
    same_summary(c, s, pc, "back as written");
    /* two runs at once on one cache */
    char *want = summary(c, s, NULL);
    job j[2] = {{c, s, pc, NULL}, {c, s, pc, NULL}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_job, &j[0]), 0);
    run_job(&j[1]);
    pthread_join(th, NULL);
    for (int k = 0; k < 2; k++) {
        assert_non_null(j[k].out);
        assert_string_equal(j[k].out, want);
        free(j[k].out);
    }
    free(want);
    pda_cache_destroy(pc);
    sio_schedule_free(s);
    sio_chip_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdn_models),
        cmocka_unit_test(test_plans_lent),
        cmocka_unit_test(test_runs_through_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
