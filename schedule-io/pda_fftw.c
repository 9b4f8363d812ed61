/* pda_fftw.c -- FFTW's planner made thread-safe once (pda_fftw.h). */
#include "pda_fftw.h"

#include <fftw3.h>
#include <pthread.h>

static void make_safe(void) { fftw_make_planner_thread_safe(); }

void pda_fftw_thread_safe(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_safe);
}
