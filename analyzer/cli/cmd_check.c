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
#include "jbuild.h"
#include "pipeline_int.h"

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

int cmd_no_mpi(void)
{
    fprintf(stderr, "analyzer: started by mpirun (OMPI_COMM_WORLD_SIZE is set), but this analyzer was built "
                    "without Open MPI: install libopenmpi-dev and rebuild, or run it without mpirun\n");
    return EXIT_IO;
}

size_t cmd_inputs(const cmd_opts *o, const sio_chip *c, const char **in)
{
    size_t n = 0;
    if (o->chip_path) in[n++] = o->chip_path;
    if (o->sched_path) in[n++] = o->sched_path;
    for (size_t r = 0; c && r < c->n_rails; r++)
        if (c->rails[r].impedance_csv) in[n++] = c->rails[r].impedance_csv;
    return n;
}

int cmd_is_input(const cmd_opts *o, const sio_chip *c, const char *path)
{
    if (!strcmp(path, "-")) return 0;   /* stdout, never a file (even one named '-') */
    if ((o->chip_path && sio_same_file(path, o->chip_path)) || (o->sched_path && sio_same_file(path, o->sched_path)))
        return 1;
    for (size_t r = 0; c && r < c->n_rails; r++)
        if (c->rails[r].impedance_csv && sio_same_file(path, c->rails[r].impedance_csv)) return 1;
    return 0;
}

int cmd_print_json(const json_t *v)
{
    char *text = v ? jdump(v, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    if (!text) {
        fprintf(stderr, "analyzer: out of memory\n");
        return EXIT_IO;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return EXIT_OK;
}

static json_int_t ival(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

int cmd_check(const cmd_opts *o)
{
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    json_t *sch = pda_schedule_json(c, s, sio_schedule_makespan_cyc(s));
    if (!sch) {
        sio_schedule_free(s);
        sio_chip_free(c);
        fprintf(stderr, "analyzer: out of memory\n");
        return EXIT_IO;
    }
    int code = EXIT_OK;
    if (o->json) {
        json_t *root = json_object();
        int bad = 0;
        jset(root, "chip", json_string(c->name), &bad);
        jset(root, "schedule", json_incref(sch), &bad);
        code = cmd_print_json(bad ? NULL : root);   /* NULL: says out of memory */
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
            printf("    %-8s %5.3g%%  %" JSON_INTEGER_FORMAT " ops on %" JSON_INTEGER_FORMAT " units\n", c->classes[k],
                   100.0 * json_real_value(json_object_get(e, "busy_share")), ival(e, "ops"), ival(e, "units"));
        }
    }
    json_decref(sch);
    sio_schedule_free(s);
    sio_chip_free(c);
    return code;
}
