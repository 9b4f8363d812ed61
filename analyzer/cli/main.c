/* main.c -- the `analyzer` command: parses the command line from one table of
** options, then hands over to one file per subcommand (cmd_*.c). The only
** place in pda that calls exit. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "walk.h"
#include "sio_int.h"

enum { C_CHECK = 1, C_RUN = 2, C_RETIME = 4, C_EXPORT = 8, C_ALL = 15, C_IMPORT = 16, C_SWEEP = 32 };

static const struct opt {
    const char *name;
    int cmds;
    const char *arg;       /* NULL: a flag */
    const char *help;
} OPTS[] = {
    {"--json", C_ALL, NULL, "print the summary as JSON on stdout"},
    {"--quiet", C_ALL | C_SWEEP, NULL, "print nothing but errors"},
    {"-o", C_RUN | C_RETIME | C_EXPORT | C_IMPORT | C_SWEEP, "PATH", "output folder (run, export hotspot, sweep) or file (- for stdout)"},
    {"--bin-ns", C_ALL, "NS", "bin width of the current maps, default 1 (0.001 .. 1e6)"},
    {"--window-ns", C_RUN | C_RETIME, "NS", "window of the peak-window power (run: 100; retime cap: 1)"},
    {"--safety-mv", C_RUN, "MV", "added to the worst droop for the needed guardband, default 5"},
    {"--grid", C_ALL, "NX,NY", "thermal grid, default the chip's"},
    {"--frame-ns", C_RUN | C_EXPORT, "NS", "thermal frame, default the chip's (10000)"},
    {"--no-thermal", C_ALL, NULL, "skip the thermal analysis"},
    {"--periodic", C_RUN, NULL, "thermal: the periodic steady state of the schedule repeated back to back"},
    {"--repeat", C_RUN, "N", "thermal: N passes of the schedule from the usual start, the last reported"},
    {"--waveforms", C_RUN, NULL, "also write rails.csv"},
    {"--unit-maps", C_RUN | C_EXPORT, NULL, "also write units.npy and units.csv (export vcd: a signal per unit)"},
    {"--strict", C_RUN | C_SWEEP, NULL, "exit 1 when a limit is broken (sweep: or a point failed)"},
    {"--jobs", C_SWEEP, "N", "sweep: runs at once per process, default the online CPUs"},
    {"--tile-bins", C_RUN, "N", "bins per time tile (memory bound), default the PDN block"},
    {"--power-cap-w", C_RUN | C_RETIME, "W", "power budget per chip (run: checked over --window-ns, drawn in the report)"},
    {"--system-power-cap-w", C_RETIME, "W", "retime: power budget of the sum over the chips"},
    {"--didt-a-per-ns", C_RETIME, "A/NS", "dI/dt budget per rail"},
    {"--guardband-mv", C_RETIME, "MV", "droop budget per rail"},
    {"--format", C_EXPORT | C_IMPORT, "vcd|perfetto|hotspot", "export format (import: hotspot)"},
    {"--class", C_IMPORT, "C", "import: class of every unit, default from each name"},
    {"--die", C_IMPORT, "D", "import: die id of every unit, default 0"},
    {"--rail", C_IMPORT, "R", "import: rail of every unit, default core"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const struct cmd { const char *name; int bit; int (*fn)(const cmd_opts *); const char *what; } CMDS[] = {
    {"check", C_CHECK, cmd_check, "CHIP SCHEDULE             validate; print a one-screen summary"},
    {"run", C_RUN, cmd_run, "CHIP SCHEDULE [-o DIR]    maps, droop, events, margin, thermal, report"},
    {"retime", C_RETIME, cmd_retime, "CHIP SCHEDULE -o OUT.csv BUDGET"},
    {"export", C_EXPORT, cmd_export, "CHIP SCHEDULE --format vcd|perfetto|hotspot -o PATH"},
    {"import", C_IMPORT, cmd_import, "--format hotspot FILE.flp [-o UNITS.json]  units of a chip"},
    {"sweep", C_SWEEP, cmd_sweep, "SWEEP.json -o DIR          a design sweep (all cores; across ranks under mpirun)"},
};
#define N_CMDS (sizeof CMDS / sizeof CMDS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage:\n");
    for (size_t i = 0; i < N_CMDS; i++) fprintf(f, "  analyzer %-7s %s\n", CMDS[i].name, CMDS[i].what);
    fprintf(f, "options:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s%s%s", OPTS[i].name, OPTS[i].arg ? " " : "", OPTS[i].arg ? OPTS[i].arg : "");
        fprintf(f, "  %-26s %s\n", lhs, OPTS[i].help);
    }
    fprintf(f, "exit: 0 ok, 1 a limit broken (--strict), 2 bad input or usage, 3 budget cannot be met, 4 I/O error\n");
}

/* Under mpirun every rank parses the same command line: rank 0 alone says
** what is wrong with it and exits 2, which mpirun returns. The other ranks
** exit 0: a rank that exits non-zero makes mpirun abort the job, which could
** kill rank 0 before its message is out (OTHER_RANK_BAD). */
static int other_rank(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    return r && strcmp(r, "0") != 0;
}

#define OTHER_RANK_BAD EXIT_OK

static int bad(const char *fmt, const char *a, const char *b)
{
    if (other_rank()) return OTHER_RANK_BAD;
    fprintf(stderr, "analyzer: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (see analyzer --help)\n");
    return EXIT_INPUT;
}

static int num(const char *opt, const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x)) return bad("%s needs a number, not '%s'", opt, v);
    if (x < lo) {
        char want[64];
        snprintf(want, sizeof want, "%s needs a number >= %g, not", opt, lo);
        return bad("%s '%s'", want, v);
    }
    *out = x;
    return 0;
}

/* A budget: a number above 0, one message when it is not. */
static int positive(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x) || x <= 0) return bad("%s needs a number > 0, not '%s'", opt, v);
    *out = x;
    return 0;
}

static int parse(int argc, char **argv, int bit, cmd_opts *o)
{
    const char *pos[2];
    int npos = 0, need = bit == C_IMPORT || bit == C_SWEEP ? 1 : 2;   /* import and sweep take one file */
    unsigned char seen[N_OPTS] = {0};   /* an option given twice is refused, not overridden */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;   /* done: exit 0 */
        }
        if (a[0] != '-' || !a[1]) {
            if (npos == need) return bad("unexpected argument '%s'%s", a, "");
            pos[npos++] = a;
            continue;
        }
        size_t k = 0;
        while (k < N_OPTS && strcmp(OPTS[k].name, a) != 0) k++;
        if (k == N_OPTS) {
            const char *hint = sio_closest(a, OPTS, N_OPTS, sizeof OPTS[0], offsetof(struct opt, name));
            char dym[96] = "";
            if (hint) snprintf(dym, sizeof dym, " (did you mean '%s'?)", hint);
            return bad("unknown option '%s'%s", a, dym);
        }
        if (seen[k]++) return bad("option '%s' is given twice%s", a, "");
        if (!(OPTS[k].cmds & bit)) return bad("option '%s' does not apply to '%s'", a, argv[1]);
        const char *v = NULL;
        if (OPTS[k].arg) {
            if (i + 1 >= argc) return bad("option '%s' needs a value (%s)", a, OPTS[k].arg);
            v = argv[++i];
        }
        double x;
        if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--strict")) o->strict = 1;
        else if (!strcmp(a, "--no-thermal")) o->no_thermal = 1;
        else if (!strcmp(a, "--periodic")) o->periodic = 1;
        else if (!strcmp(a, "--waveforms")) o->waveforms = 1;
        else if (!strcmp(a, "--unit-maps")) o->unit_maps = 1;
        else if (!strcmp(a, "-o")) {
            if (!*v) return bad("-o needs a path, not an empty one%s%s", "", "");
            if (!strcmp(v, "-") && (bit & (C_RUN | C_SWEEP)))
                return bad("-o - (stdout) takes one file, and '%s' writes a folder of them%s", argv[1], "");
            o->out = v;
        }
        else if (!strcmp(a, "--format")) o->format = v;
        else if (!strcmp(a, "--class") || !strcmp(a, "--rail")) {
            /* a name the chip description takes */
            if (!*v || sio_name_bad(v, strlen(v)) < strlen(v) || !sio_utf8_valid(v, strlen(v)))
                return bad("%s needs a name: UTF-8, not empty, no comma, double quote or control character, not "
                           "'%s'", a, v);
            if (a[2] == 'c') o->imp_class = v;
            else o->imp_rail = v;
        } else if (!strcmp(a, "--die")) {
            if (num(a, v, -1e300, &x)) return EXIT_INPUT;
            if (x != floor(x) || x < 0 || x > 2147483647.0)
                return bad("--die needs a die id, a whole number >= 0, not '%s'%s", v, "");
            o->imp_die = (int)x;
        }
        else if (!strcmp(a, "--bin-ns")) {
            if (num(a, v, 0, &x)) return EXIT_INPUT;
            if (x < WALK_BIN_NS_MIN || x > WALK_BIN_NS_MAX) return bad("--bin-ns must be in [0.001, 1e6] ns, not '%s'%s", v, "");
            o->bin_ns = x;
        } else if (!strcmp(a, "--window-ns")) {
            if (num(a, v, 0, &x)) return EXIT_INPUT;
            if (x <= 0 || x > WALK_WINDOW_NS_MAX) return bad("--window-ns must be in (0, 1e15] ns, not '%s'%s", v, "");
            o->window_ns = x;
        } else if (!strcmp(a, "--safety-mv")) {
            if (num(a, v, 0, &o->safety_mv)) return EXIT_INPUT;
        } else if (!strcmp(a, "--frame-ns")) {
            if (num(a, v, 1, &x)) return EXIT_INPUT;
            if (x != floor(x) || x > 1e12)
                return bad("--frame-ns must be a whole number of ns up to 1e12, not '%s'%s", v, "");
            o->frame_ns = (int64_t)x;
        } else if (!strcmp(a, "--repeat")) {
            if (num(a, v, 1, &x)) return EXIT_INPUT;
            if (x != floor(x) || x > 1e6) return bad("--repeat must be a whole number from 1 to 1e6, not '%s'%s", v, "");
            o->repeat = (size_t)x;
        } else if (!strcmp(a, "--jobs")) {
            if (num(a, v, 1, &x)) return EXIT_INPUT;
            if (x != floor(x) || x > 4096) return bad("--jobs must be a whole number from 1 to 4096, not '%s'%s", v, "");
            o->jobs = (size_t)x;
        } else if (!strcmp(a, "--tile-bins")) {
            if (num(a, v, 1, &x)) return EXIT_INPUT;
            if (x != floor(x) || x > (double)(1u << 30))
                return bad("--tile-bins must be a whole number from 1 to 2^30, not '%s'%s", v, "");
            o->tile_bins = (size_t)x;
        } else if (!strcmp(a, "--grid")) {
            unsigned long nx, ny;
            char tail;
            if (sscanf(v, "%lu,%lu%c", &nx, &ny, &tail) != 2 || nx < 2 || ny < 2 || nx > 4096 || ny > 4096)
                return bad("--grid needs NX,NY with 2 <= NX, NY <= 4096, not '%s'%s", v, "");
            o->grid[0] = nx;
            o->grid[1] = ny;
        } else if (!strcmp(a, "--power-cap-w")) {
            if (positive(a, v, &o->power_cap_w)) return EXIT_INPUT;
        } else if (!strcmp(a, "--system-power-cap-w")) {
            if (positive(a, v, &o->system_power_cap_w)) return EXIT_INPUT;
        } else if (!strcmp(a, "--didt-a-per-ns")) {
            if (positive(a, v, &o->didt_a_per_ns)) return EXIT_INPUT;
        } else if (!strcmp(a, "--guardband-mv")) {
            if (positive(a, v, &o->guardband_mv)) return EXIT_INPUT;
        }
    }
    if (o->periodic && o->repeat) return bad("--periodic and --repeat exclude each other%s%s", "", "");
    if (npos < need) return bad("'%s' needs %s", argv[1], need == 2 ? "CHIP and SCHEDULE" : bit == C_SWEEP ? "SWEEP.json" : "FILE");
    o->chip_path = pos[0];
    o->sched_path = need == 2 ? pos[1] : NULL;
    return 0;
}

/* Ends the process on SIGINT, SIGTERM, SIGHUP or SIGPIPE after removing the
** temporary files and staging folders of unfinished outputs: the signals
** are blocked in every thread (threads started later inherit the mask) and
** this thread waits for them, so the clean-up runs in a plain thread, not
** in a signal handler. Then the signal is raised again, unblocked and with
** its default action, so the process ends as killed by it. */
static sigset_t ending;

static void *on_signal(void *arg)
{
    (void)arg;
    int sig;
    if (sigwait(&ending, &sig) != 0) return NULL;
    sio_cleanup_run();
    signal(sig, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &ending, NULL);
    raise(sig);
    _exit(128 + sig);   /* not reached: the default action ends the process */
}

static void catch_signals(void)
{
    signal(SIGXFSZ, SIG_IGN);   /* a file past the size limit is a write error (EFBIG), not a kill */
    sigemptyset(&ending);
    sigaddset(&ending, SIGINT);
    sigaddset(&ending, SIGTERM);
    sigaddset(&ending, SIGHUP);
    sigaddset(&ending, SIGPIPE);
    pthread_t t;
    if (pthread_sigmask(SIG_BLOCK, &ending, NULL) == 0 && pthread_create(&t, NULL, on_signal, NULL) == 0)
        pthread_detach(t);
}

/* A descriptor 0-2 the caller closed gets /dev/null, read-only: no file the
** command opens can then take stdout's number (the text would land in it),
** and a write to a closed stdout still fails (EBADF), reported at exit. */
static void hold_std_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int n = open("/dev/null", O_RDONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

/* The command's text lost on stdout (a full disk, a closed stdout, a pipe
** whose reader has gone: SIGPIPE is caught, so the write fails with EPIPE)
** is an I/O error like any other: exit 4 when the command succeeded (one
** that failed has given its own message and code). */
static int stdout_done(int rc)
{
    int e = fflush(stdout) != 0 ? errno : 0;
    if (rc || (!e && !ferror(stdout))) return rc;   /* a failed command has said why */
    fprintf(stderr, "analyzer: cannot write to stdout: %s\n", e ? strerror(e) : "write error");
    return EXIT_IO;
}

int main(int argc, char **argv)
{
    hold_std_fds();
    catch_signals();
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return stdout_done(argc < 2 ? EXIT_INPUT : EXIT_OK);
    }
    for (size_t c = 0; c < N_CMDS; c++) {
        if (strcmp(argv[1], CMDS[c].name) != 0) continue;
        cmd_opts o = {.bin_ns = 1.0, .safety_mv = 5.0};
        int rc = parse(argc, argv, CMDS[c].bit, &o);
        if (rc < 0) return stdout_done(EXIT_OK);   /* --help */
        if (rc) return other_rank() ? OTHER_RANK_BAD : rc;
        return stdout_done(CMDS[c].fn(&o));
    }
    if (other_rank()) return OTHER_RANK_BAD;
    const char *hint = sio_closest(argv[1], CMDS, N_CMDS, sizeof CMDS[0], offsetof(struct cmd, name));
    fprintf(stderr, "analyzer: unknown command '%s'", argv[1]);
    if (hint) fprintf(stderr, " (did you mean '%s'?)", hint);
    fprintf(stderr, "; the commands are check, run, retime, export, import, sweep\n");
    return EXIT_INPUT;
}
