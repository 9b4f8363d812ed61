/* tests/outside/threads.c -- a program outside the project, built against
** an installed pda through pkg-config alone (tests/e2e_library.sh), that
** runs analyses on threads of its own, as a compiler spreading its work
** would: nothing but the library's calls, no FFTW set-up of its own.
**
**   threads CHIP SCHEDULE NTHREADS ROUNDS
**
** NTHREADS threads each run the whole analysis (thermal run included, so
** every kind of FFTW plan is made: the PDN's, the spectrum's, the thermal
** solver's) ROUNDS times on one shared, read-only chip and schedule; then
** the main thread runs it once more. Every summary must equal that last
** one, byte for byte. Then the threads read the kept waveforms of one
** shared result at once (pda_result_rail, every chip and rail, 20 x ROUNDS
** times): every read must equal the main thread's. Exit 0 when all do. */
#define _POSIX_C_SOURCE 200809L   /* strdup */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pda/pda.h>

static const sio_chip *chip;
static const sio_schedule *sched;
static int rounds;

typedef struct job { char **out; int failed; } job;

/* The second phase: one result, its rails read from several threads. */
static const pda_result *shared_res;
static double *ref_rails;   /* [chip][rail][2][bin]: current, then droop */

static void *read_rails(void *arg)
{
    int *bad = arg;
    size_t nb = pda_result_n_bins(shared_res), nch = pda_result_n_chips(shared_res), nr = chip->n_rails;
    double *cur = malloc((nb + 1) * sizeof *cur), *dr = malloc((nb + 1) * sizeof *dr);
    for (int k = 0; cur && dr && k < 20 * rounds; k++)
        for (size_t q = 0; q < nch * nr; q++) {
            sio_error err;
            if (pda_result_rail(shared_res, q / nr, q % nr, cur, dr, &err) ||
                memcmp(cur, ref_rails + 2 * q * nb, nb * sizeof *cur) ||
                memcmp(dr, ref_rails + (2 * q + 1) * nb, nb * sizeof *dr))
                (*bad)++;
        }
    if (!cur || !dr) (*bad)++;
    free(cur);
    free(dr);
    return NULL;
}

static void *work(void *arg)
{
    job *j = arg;
    for (int k = 0; k < rounds; k++) {
        pda_run_opts o;
        pda_run_opts_default(&o);
        pda_result *r;
        sio_error err;
        if (pda_run(chip, sched, &o, &r, &err)) {
            fprintf(stderr, "threads: run: %s\n", err.text);
            j->failed = 1;
            return NULL;
        }
        j->out[k] = strdup(pda_result_summary_json(r));
        pda_result_free(r);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: threads CHIP SCHEDULE NTHREADS ROUNDS\n");
        return 2;
    }
    int nt = atoi(argv[3]);
    rounds = atoi(argv[4]);
    if (nt < 1 || nt > 64 || rounds < 1) return 2;
    sio_chip *c;
    sio_schedule *s;
    sio_error err;
    if (sio_chip_load(argv[1], &c, &err) || sio_schedule_load(c, argv[2], &s, &err)) {
        fprintf(stderr, "threads: %s\n", err.text);
        return 1;
    }
    chip = c;
    sched = s;
    pthread_t th[64];
    job jobs[64];
    for (int i = 0; i < nt; i++) {
        jobs[i].out = calloc((size_t)rounds, sizeof(char *));
        jobs[i].failed = 0;
        if (!jobs[i].out || pthread_create(&th[i], NULL, work, &jobs[i])) return 1;
    }
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    job ref = {calloc(1, sizeof(char *)), 0};
    int saved = rounds;
    rounds = 1;
    work(&ref);
    rounds = saved;
    int bad = ref.failed || !ref.out[0];
    for (int i = 0; i < nt; i++)
        for (int k = 0; k < rounds; k++) {
            if (jobs[i].failed || !jobs[i].out[k] || (ref.out[0] && strcmp(jobs[i].out[k], ref.out[0]))) bad++;
            free(jobs[i].out[k]);
        }
    printf("threads: %d threads x %d runs, %d differ from the run on the main thread", nt, rounds, bad);
    /* one result's waveforms, read at once */
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.keep_rails = 1;
    o.thermal = 0;
    pda_result *r;
    if (pda_run(c, s, &o, &r, &err)) {
        fprintf(stderr, "threads: run: %s\n", err.text);
        return 1;
    }
    size_t nb = pda_result_n_bins(r), nq = pda_result_n_chips(r) * c->n_rails;
    ref_rails = malloc((2 * nq * nb + 1) * sizeof *ref_rails);
    for (size_t q = 0; ref_rails && q < nq; q++)
        if (pda_result_rail(r, q / c->n_rails, q % c->n_rails, ref_rails + 2 * q * nb, ref_rails + (2 * q + 1) * nb,
                            &err))
            return 1;
    shared_res = r;
    int rbad[64] = {0}, reads_bad = !ref_rails;
    for (int i = 0; i < nt; i++)
        if (pthread_create(&th[i], NULL, read_rails, &rbad[i])) return 1;
    for (int i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        reads_bad += rbad[i];
    }
    printf("; %d of %d rail reads from one result differ\n", reads_bad, nt * 20 * rounds * (int)nq);
    bad += reads_bad;
    free(ref_rails);
    pda_result_free(r);
    for (int i = 0; i < nt; i++) free(jobs[i].out);
    free(ref.out[0]);
    free(ref.out);
    sio_schedule_free(s);
    sio_chip_free(c);
    return bad != 0;
}
