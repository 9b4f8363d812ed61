/* cmd_check.c -- `analyzer check CHIP SCHEDULE`: loads and validates both
** inputs and prints a one-screen summary (or, with --json, the `schedule.*`
** keys of the contract and a few more). Also the loading helpers every
** subcommand shares. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"

double cmd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_exit_for(int rc)
{
    switch (rc) {
    case SIO_OK: return EXIT_OK;
    case SIO_EINPUT: return EXIT_INPUT;
    default: return EXIT_IO;
    }
}

int cmd_load(const cmd_opts *o, sio_chip **chip, sio_schedule **sched)
{
    sio_error err;
    *chip = NULL;
    *sched = NULL;
    int rc = sio_chip_load(o->chip_path, chip, &err);
    if (rc == SIO_OK) {
        rc = sio_schedule_load(*chip, o->sched_path, sched, &err);
        if (rc) {
            sio_chip_free(*chip);
            *chip = NULL;
        }
    }
    if (rc) fprintf(stderr, "%s\n", err.text);
    return cmd_exit_for(rc);
}

int cmd_is_input(const cmd_opts *o, const sio_chip *c, const char *path)
{
    if ((o->chip_path && sio_same_file(path, o->chip_path)) || (o->sched_path && sio_same_file(path, o->sched_path)))
        return 1;
    for (size_t r = 0; c && r < c->n_rails; r++)
        if (c->rails[r].impedance_csv && sio_same_file(path, c->rails[r].impedance_csv)) return 1;
    return 0;
}

int cmd_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t k = 1; k <= n; k++) {
        if (buf[k] != '/' && buf[k] != 0) continue;
        char c = buf[k];
        buf[k] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[k] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

json_t *cmd_schedule_json(const sio_chip *c, const sio_schedule *s, int64_t mk)
{
    size_t nu = c->n_units, ncl = c->n_classes;
    double *busy = calloc(ncl ? ncl : 1, sizeof *busy);
    size_t *units_of = calloc(ncl ? ncl : 1, sizeof *units_of), *ops_of = calloc(ncl ? ncl : 1, sizeof *ops_of);
    unsigned char *used = calloc(nu ? nu : 1, 1);
    json_t *sch = NULL;
    if (!busy || !units_of || !used || !ops_of) goto out;
    for (size_t u = 0; u < nu; u++) units_of[c->units[u].cls]++;
    for (size_t i = 0; i < s->n; i++) {
        size_t cl = c->units[s->unit[i]].cls;
        busy[cl] += (double)s->cycles[i];
        ops_of[cl]++;
        used[s->unit[i]] = 1;
    }
    size_t n_used = 0, deps[3] = {0, 0, 0};
    for (size_t u = 0; u < nu; u++) n_used += used[u];
    for (size_t d = 0; d < s->n_deps; d++) deps[s->dep_kind[d]]++;
    double denom = (double)mk * (double)s->n_chips;
    json_t *cls = json_object(), *dj = json_object();
    sch = json_object();
    json_object_set_new(sch, "ops", json_integer((json_int_t)s->n));
    json_object_set_new(sch, "chips", json_integer((json_int_t)s->n_chips));
    json_object_set_new(sch, "units", json_integer((json_int_t)n_used));
    json_object_set_new(sch, "makespan_cycles", json_integer((json_int_t)mk));
    json_object_set_new(sch, "makespan_ns", json_real((double)mk * sio_chip_period_ns(c)));
    for (size_t k = 0; k < ncl; k++) {
        json_t *e = json_object();
        json_object_set_new(e, "units", json_integer((json_int_t)units_of[k]));
        json_object_set_new(e, "ops", json_integer((json_int_t)ops_of[k]));
        json_object_set_new(e, "busy_share",
                            json_real(denom > 0 && units_of[k] ? busy[k] / (denom * (double)units_of[k]) : 0.0));
        json_object_set_new(cls, c->classes[k], e);
    }
    json_object_set_new(sch, "classes", cls);
    json_object_set_new(dj, "end", json_integer((json_int_t)deps[SIO_DEP_END]));
    json_object_set_new(dj, "start", json_integer((json_int_t)deps[SIO_DEP_START]));
    json_object_set_new(dj, "exact", json_integer((json_int_t)deps[SIO_DEP_EXACT]));
    json_object_set_new(sch, "deps", dj);
out:
    free(busy); free(units_of); free(used); free(ops_of);
    return sch;
}

static json_int_t ival(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

int cmd_check(const cmd_opts *o)
{
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    json_t *sch = cmd_schedule_json(c, s, sio_schedule_makespan_cyc(s));
    if (!sch) {
        sio_schedule_free(s);
        sio_chip_free(c);
        fprintf(stderr, "analyzer: out of memory\n");
        return EXIT_IO;
    }
    if (o->json) {
        json_t *root = json_object();
        json_object_set_new(root, "chip", json_string(c->name));
        json_object_set(root, "schedule", sch);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
        json_decref(root);
    } else if (!o->quiet) {
        json_t *dj = json_object_get(sch, "deps"), *cls = json_object_get(sch, "classes");
        printf("%s: valid schedule for chip '%s'\n", o->sched_path, c->name);
        printf("  ops %zu on %zu chip%s, %" JSON_INTEGER_FORMAT " of %zu units used\n", s->n, s->n_chips,
               s->n_chips == 1 ? "" : "s", ival(sch, "units"), c->n_units);
        printf("  makespan %" JSON_INTEGER_FORMAT " cycles = %.1f ns at %.3g GHz\n", ival(sch, "makespan_cycles"),
               json_real_value(json_object_get(sch, "makespan_ns")), c->clock_ghz);
        printf("  deps: %" JSON_INTEGER_FORMAT " end, %" JSON_INTEGER_FORMAT " start+N, %" JSON_INTEGER_FORMAT
               " exact=N\n", ival(dj, "end"), ival(dj, "start"), ival(dj, "exact"));
        printf("  busy share per class (busy unit-cycles / (units x makespan x chips)):\n");
        for (size_t k = 0; k < c->n_classes; k++) {
            json_t *e = json_object_get(cls, c->classes[k]);
            printf("    %-8s %5.1f%%  %" JSON_INTEGER_FORMAT " ops on %" JSON_INTEGER_FORMAT " units\n", c->classes[k],
                   100.0 * json_real_value(json_object_get(e, "busy_share")), ival(e, "ops"), ival(e, "units"));
        }
    }
    json_decref(sch);
    sio_schedule_free(s);
    sio_chip_free(c);
    return EXIT_OK;
}
