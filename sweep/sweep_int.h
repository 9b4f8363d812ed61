/* sweep_int.h -- private to the sweep module: what the writers
** (sweep_write.c) read of a loaded sweep. */
#ifndef PDA_SWEEP_INT_H
#define PDA_SWEEP_INT_H
#include <stddef.h>

#include "sweep.h"

const char *sweep_path(const sweep *sw);
const char *sweep_chip_path(const sweep *sw);
const sio_chip *sweep_chip(const sweep *sw);
int sweep_is_zip(const sweep *sw);
size_t sweep_n_vary(const sweep *sw);
const char *sweep_vary_path(const sweep *sw, size_t k);
size_t sweep_vary_n(const sweep *sw, size_t k);
double sweep_vary_value(const sweep *sw, size_t k, size_t i);
/* vary k's value at point p */
double sweep_point_value(const sweep *sw, size_t k, size_t p);
const pda_run_opts *sweep_run_opts(const sweep *sw);
/* Key k of the budget (0, 1, ...: its name and value, the window as used):
** 1 when the sweep file fixes it, 0 when it is absent or varied (then in
** vary), -1 past the last key. */
int sweep_budget_fixed(const sweep *sw, size_t k, const char **key, double *value);

#endif
