// tests/outside/prog.cpp -- the library from C++, as a compiler written in
// C++ links it (tests/e2e_library.sh builds it through pkg-config): every
// public header included at once, one run, the files of `analyzer run -o
// DIR --waveforms` written.
//
//   prog_cpp CHIP SCHEDULE DIR
#include <cstdio>
#include <memory>

#include <pda/budget.h>
#include <pda/current.h>
#include <pda/events.h>
#include <pda/margin.h>
#include <pda/pda.h>
#include <pda/pda_status.h>
#include <pda/pdn.h>
#include <pda/sio.h>
#include <pda/sweep.h>
#include <pda/thermal.h>
#include <pda/thermal_hotspot.h>
#include <pda/thermal_png.h>
#include <pda/thermal_run.h>
#include <pda/walk.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: prog_cpp CHIP SCHEDULE DIR\n");
        return 2;
    }
    sio_error err;
    sio_chip *c = nullptr;
    sio_schedule *s = nullptr;
    if (sio_chip_load(argv[1], &c, &err) || sio_schedule_load(c, argv[2], &s, &err)) {
        std::fprintf(stderr, "prog_cpp: %s\n", err.text);
        return 1;
    }
    std::unique_ptr<sio_chip, void (*)(sio_chip *)> chip(c, sio_chip_free);
    std::unique_ptr<sio_schedule, void (*)(sio_schedule *)> sched(s, sio_schedule_free);
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.keep_rails = 1;
    pda_result *r = nullptr;
    int rc = pda_run(c, s, &o, &r, &err);
    if (rc == PDA_OK) rc = pda_result_write(r, argv[3], &err);
    pda_result_free(r);
    if (rc != PDA_OK) {
        std::fprintf(stderr, "prog_cpp: %s: %s\n", pda_strerror(rc), err.text);
        return 1;
    }
    std::printf("ran from C++\n");
    return 0;
}
