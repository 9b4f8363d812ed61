/* pda_fftw.h -- FFTW's planner, made thread-safe once per process.
**
** FFTW executes plans from any thread, but makes and destroys them from one
** thread at a time, unless fftw_make_planner_thread_safe (libfftw3_threads)
** has put a lock around its planner. Every module of the library that makes
** a plan calls pda_fftw_thread_safe first, so that analyses, sweeps and
** re-timings may run at once on the caller's own threads. */
#ifndef PDA_FFTW_H
#define PDA_FFTW_H

/* Puts FFTW's planner under its lock, once (later calls return at once). */
void pda_fftw_thread_safe(void);

#endif
