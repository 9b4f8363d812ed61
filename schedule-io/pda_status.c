/* pda_status.c -- the text of every status code (pda_status.h). */
#include "pda_status.h"

#include <stddef.h>

const char *pda_strerror(int rc)
{
    static const char *const msg[] = {
        [PDA_OK] = "ok",
        [PDA_EINPUT] = "bad input",
        [PDA_EIO] = "input/output error",
        [PDA_ENOMEM] = "out of memory",
        [PDA_EINTERNAL] = "internal error",
        [PDA_EINFEASIBLE] = "the budget cannot be met",
        [PDA_ENOTMET] = "the budget was not met",
        [PDA_ESTACK] = "non-physical thermal stack (thickness, k, cv, outline, h_top > 0, h_bottom >= 0, "
                       "each die in exactly one layer)",
        [PDA_EFFTW] = "FFTW could not make a plan",
        [PDA_ERANGE] = "rectangle empty or outside the outline",
        [PDA_ESTEADY] = "plan made without a frame: steady state only",
    };
    if (rc < 0 || (size_t)rc >= sizeof msg / sizeof msg[0] || !msg[rc]) return "unknown status";
    return msg[rc];
}
