/* cmd_check.c -- `analyzer check CHIP SCHEDULE`: loads and validates both
** inputs and prints a one-screen summary (or, with --json, the `schedule.*`
** keys of the contract and a few more). Also the loading helpers every
** subcommand shares. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"

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

int cmd_check(const cmd_opts *o)
{
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    int64_t mk = sio_schedule_makespan_cyc(s);
    double mk_ns = (double)mk * sio_chip_period_ns(c);
    /* per class: busy cycles, units of the class; units used */
    size_t nu = c->n_units, ncl = c->n_classes;
    double *busy = calloc(ncl, sizeof *busy);
    size_t *units_of = calloc(ncl, sizeof *units_of);
    unsigned char *used = calloc(nu ? nu : 1, 1);
    size_t *ops_of = calloc(ncl, sizeof *ops_of);
    if (!busy || !units_of || !used || !ops_of) {
        free(busy); free(units_of); free(used); free(ops_of);
        sio_schedule_free(s);
        sio_chip_free(c);
        fprintf(stderr, "analyzer: out of memory\n");
        return EXIT_IO;
    }
    for (size_t u = 0; u < nu; u++) units_of[c->units[u].cls]++;
    for (size_t i = 0; i < s->n; i++) {
        size_t cl = c->units[s->unit[i]].cls;
        busy[cl] += (double)s->cycles[i];
        ops_of[cl]++;
        used[s->unit[i]] = 1;
    }
    size_t n_used = 0;
    for (size_t u = 0; u < nu; u++) n_used += used[u];
    size_t deps[3] = {0, 0, 0};
    for (size_t d = 0; d < s->n_deps; d++) deps[s->dep_kind[d]]++;
    double denom_chip = (double)mk * (double)s->n_chips;
    if (o->json) {
        json_t *root = json_object(), *sch = json_object(), *cls = json_object(), *dj = json_object();
        json_object_set_new(sch, "ops", json_integer((json_int_t)s->n));
        json_object_set_new(sch, "chips", json_integer((json_int_t)s->n_chips));
        json_object_set_new(sch, "units", json_integer((json_int_t)n_used));
        json_object_set_new(sch, "makespan_cycles", json_integer((json_int_t)mk));
        json_object_set_new(sch, "makespan_ns", json_real(mk_ns));
        for (size_t k = 0; k < ncl; k++) {
            json_t *e = json_object();
            json_object_set_new(e, "units", json_integer((json_int_t)units_of[k]));
            json_object_set_new(e, "ops", json_integer((json_int_t)ops_of[k]));
            json_object_set_new(e, "busy_share",
                                json_real(denom_chip > 0 ? busy[k] / (denom_chip * (double)units_of[k]) : 0.0));
            json_object_set_new(cls, c->classes[k], e);
        }
        json_object_set_new(sch, "classes", cls);
        json_object_set_new(dj, "end", json_integer((json_int_t)deps[SIO_DEP_END]));
        json_object_set_new(dj, "start", json_integer((json_int_t)deps[SIO_DEP_START]));
        json_object_set_new(dj, "exact", json_integer((json_int_t)deps[SIO_DEP_EXACT]));
        json_object_set_new(sch, "deps", dj);
        json_object_set_new(root, "chip", json_string(c->name));
        json_object_set_new(root, "schedule", sch);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
        json_decref(root);
    } else if (!o->quiet) {
        printf("%s: valid schedule for chip '%s'\n", o->sched_path, c->name);
        printf("  ops %zu on %zu chip%s, %zu of %zu units used\n", s->n, s->n_chips, s->n_chips == 1 ? "" : "s",
               n_used, nu);
        printf("  makespan %" PRId64 " cycles = %.1f ns at %.3g GHz\n", mk, mk_ns, c->clock_ghz);
        printf("  deps: %zu end, %zu start+N, %zu exact=N\n", deps[0], deps[1], deps[2]);
        printf("  busy share per class (busy unit-cycles / (units x makespan x chips)):\n");
        for (size_t k = 0; k < ncl; k++)
            printf("    %-8s %5.1f%%  %zu ops on %zu units\n", c->classes[k],
                   denom_chip > 0 ? 100.0 * busy[k] / (denom_chip * (double)units_of[k]) : 0.0, ops_of[k],
                   units_of[k]);
    }
    free(busy); free(units_of); free(used); free(ops_of);
    sio_schedule_free(s);
    sio_chip_free(c);
    return EXIT_OK;
}
