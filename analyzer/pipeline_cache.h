/* pipeline_cache.h -- PDN models and thermal plans kept from one run to the
** next (private to the library: the sweep's runs share one).
**
** A design sweep runs one chip description many times with a few numbers
** changed. Most points leave a rail's ladder or the die stack as they were,
** and building those two (a rail's PDN model: its kernel taps; a thermal
** plan: an eigen-decomposition per mode and FFTW's planning) was about half
** of a small run. The cache keys each by every number its builder reads
** (pdn_model_create: the stages, the impedance table, the regulator, the bin;
** thermal_plan_create_ex: the stack, the grid, the frame, the effort), so a
** hit is the object a new build would give, bit for bit.
**
** A PDN model is read-only once made: several runs share one at once. A
** thermal plan keeps scratch arrays: each is lent to one run at a time, and
** a run that finds every equal plan lent out builds its own. Objects no run
** holds are kept, at most PC_KEEP of each kind, the least recently used
** going first. Thread-safe. Every function takes NULL for "no cache": it
** then builds, and the _done functions destroy. */
#ifndef PDA_PIPELINE_CACHE_H
#define PDA_PIPELINE_CACHE_H
#include <stddef.h>

#include "pdn.h"
#include "sio.h"
#include "thermal.h"

typedef struct pda_cache pda_cache;

/* PDA_OK, or PDA_ENOMEM. */
int pda_cache_create(pda_cache **out);
/* Destroys every object; none may still be lent out. NULL is a no-op. */
void pda_cache_destroy(pda_cache *pc);

/* Rail r's model at bin_ns, as pdn_model_for_rail gives it (its errors
** too); hand it back with pda_cache_pdn_done. */
int pda_cache_pdn(pda_cache *pc, const sio_chip *c, size_t r, double bin_ns, pdn_model **out, sio_error *err);
void pda_cache_pdn_done(pda_cache *pc, pdn_model *m);

/* A plan as thermal_plan_create_ex gives it (its status too), lent to the
** caller alone until pda_cache_plan_done. */
int pda_cache_plan(pda_cache *pc, const thermal_stack *st, size_t nx, size_t ny, double frame_s, int effort,
                   thermal_plan **out);
void pda_cache_plan_done(pda_cache *pc, thermal_plan *p);

#endif
