/* pda_status.h -- the status codes every module of the library returns.
**
** One number means one thing everywhere: each module's own names
** (SIO_EIO, THERMAL_ESTACK, BUDGET_ENOTMET, ...) are these values, so a
** code can travel up from any module unchanged, and pda_strerror names any
** of them. 0 is success; the first five are shared by every module, the
** rest belong to the module that returns them. */
#ifndef PDA_STATUS_H
#define PDA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum pda_status {
    PDA_OK = 0,
    PDA_EINPUT = 1,        /* malformed input, a broken rule, or a bad argument (the reason in sio_error) */
    PDA_EIO = 2,           /* a file could not be opened, read or written */
    PDA_ENOMEM = 3,        /* out of memory */
    PDA_EINTERNAL = 4,     /* a check inside the library failed (a bug) */
    PDA_EINFEASIBLE = 5,   /* budgets: proven impossible (the proof in sio_error) */
    PDA_ENOTMET = 6,       /* budgets: not met by the search, no proof that it cannot be */
    PDA_ESTACK = 7,        /* thermal: a non-physical stack */
    PDA_EFFTW = 8,         /* thermal, PDN: FFTW could not make a plan */
    PDA_ERANGE = 9,        /* thermal: a rectangle empty or outside the outline */
    PDA_ESTEADY = 10       /* thermal: a plan made without a frame (steady state only) */
};

/* Static text for any status code. */
const char *pda_strerror(int rc);

#ifdef __cplusplus
}
#endif
#endif
