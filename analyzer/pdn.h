/* pdn.h -- supply droop through a rail's power-delivery network.
**
** A model holds what depends only on the rail and the bin width: the
** discrete kernel h[m] of the impedance seen from the die (ZOH-exact for a
** staircase current, DC sum exact) and the FFTW plans of the overlap-save
** convolution. It is slow to create and cheap to use. A stream runs one
** current waveform through a model in tiles of any length, in memory bounded
** by the kernel and one FFT block (never by the timeline).
**
** Droop at the end of bin n (the instant before bin n+1's current starts):
**     v_n = Z(0)*i_idle + sum_k (i_k - i_idle) * h[n-k]
** where i_k is the average current of bin k and i_idle the current the rail
** has drawn for ever before time 0. Units: _a amperes, _v volts, _ohm,
** _hz hertz, _ns nanoseconds. See docs/pdn.md for the method. */
#ifndef PDA_PDN_H
#define PDA_PDN_H
#include <stddef.h>
#include "pda_status.h"
#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, aligned with sio.h. */
enum {
    PDN_OK = PDA_OK,
    PDN_EINPUT = PDA_EINPUT,  /* the rail cannot be modelled (reason in sio_error) */
    PDN_ENOMEM = PDA_ENOMEM   /* out of memory (or FFTW planning failed) */
};

typedef struct pdn_model pdn_model;    /* opaque: kernel + FFT plans */
typedef struct pdn_stream pdn_stream;  /* opaque: one waveform in flight */

/* Builds the model of rail at bin width bin_ns (> 0): from its ladder
** (rail->stages) when it has one, else from its table (rail->z_*). Returns
** PDN_OK and sets *out, or an error code, fills *err (when not NULL) and
** sets *out = NULL. Refused: negative or non-finite element values, an
** undamped ladder whose response never settles, a table that does not cover
** the frequencies needed (the message gives the range needed and the range
** the table has). Create models from one thread at a time (FFTW planning). */
int pdn_model_create(const sio_rail *rail, double bin_ns, pdn_model **out,
                     sio_error *err);

/* pdn_model_create for rail r of chip c, with an error positioned in the
** chip's file: "chip.json[:line:col]: rail 'NAME' at bins of B ns: why"
** (line:col where the reason has a place there, e.g. the regulator). */
int pdn_model_for_rail(const sio_chip *c, size_t r, double bin_ns, pdn_model **out, sio_error *err);

/* How a model computes the droop. PDN_STATE: a ladder's exact discretized
** state, carried bin by bin (in chunks of 16): the convolution with the
** untruncated kernel, O(states) a bin. PDN_FFT: FFTW overlap-save with the
** kernel h, O(log N) a bin. PDN_AUTO (what pdn_model_create uses): PDN_STATE
** for a ladder when it costs fewer multiply-adds a bin (every ladder of a
** few stages), else PDN_FFT; tables always use PDN_FFT. PDN_STATE on a
** table is refused (PDN_EINPUT); a ladder without states (resistors only)
** or with more than 32 uses PDN_FFT whatever is asked. The two agree to ~1e-7 of Z(0) times the
** current swing (the kernel's truncation). */
enum { PDN_AUTO = 0, PDN_FFT = 1, PDN_STATE = 2 };
int pdn_model_create_with(const sio_rail *rail, double bin_ns, int method,
                          pdn_model **out, sio_error *err);
/* PDN_FFT or PDN_STATE: the method the model uses. */
int pdn_model_method(const pdn_model *m);
void pdn_model_destroy(pdn_model *m);   /* NULL is a no-op */

/* Z(0): the DC resistance seen from the die (the sum of the series r_ohm
** of a ladder; Re Z at the table's lowest frequency). Equals the kernel sum. */
double pdn_model_z0_ohm(const pdn_model *m);
double pdn_model_bin_ns(const pdn_model *m);
/* The kernel h[0 .. len-1] in ohms, owned by the model (both methods; for
** PDN_STATE the droop uses the state, not this truncated copy). */
size_t pdn_model_kernel_len(const pdn_model *m);
const double *pdn_model_kernel(const pdn_model *m);
/* Size of the FFTs (0 for PDN_STATE), and bins produced per full
** overlap-save block (PDN_STATE: the tile length a push handles at full
** speed; any length works). */
size_t pdn_model_fft_len(const pdn_model *m);
size_t pdn_model_block_len(const pdn_model *m);

/* Z(f) seen from the die at f_hz >= 0: the ladder's exact impedance, or the
** table interpolated linearly in f (returns PDN_EINPUT outside the table's
** range). Returns PDN_OK and sets *re_ohm, *im_ohm. */
int pdn_impedance(const sio_rail *rail, double f_hz, double *re_ohm, double *im_ohm);

/* The local maxima of |Z(f)| over [f_lo_hz, f_hi_hz] (0 < f_lo < f_hi),
** lowest frequency first: up to max of them into f_hz[] and z_ohm[] (|Z| at
** the peak), *n set to how many were written. Scans 200 points a decade and
** refines each peak to ~1e-6 relative in f. */
int pdn_resonances(const sio_rail *rail, double f_lo_hz, double f_hi_hz,
                   double *f_hz, double *z_ohm, size_t max, size_t *n);

/* Starts a waveform on model m (borrowed: it must outlive the stream) with
** the rail idle at i_idle_a before time 0. */
int pdn_stream_create(const pdn_model *m, double i_idle_a, pdn_stream **out);
void pdn_stream_destroy(pdn_stream *s);  /* NULL is a no-op */
/* Feeds the next n bin currents i_a[0..n-1] and writes the droop at the end
** of each of those bins to droop_v[0..n-1] (volts; positive = below vdd).
** Tiles may have any length (n = 0 is fine); the result does not depend on
** how the waveform is cut. i_a and droop_v may not overlap. */
int pdn_stream_push(pdn_stream *s, const double *i_a, size_t n, double *droop_v);

/* Long constant stretches. pdn_stream_settled: 1 when pushing i_a for ever
** from now on would give a constant droop, to round-off: for PDN_FFT the
** last K-1 inputs were i_a (the kernel sees nothing else), for PDN_STATE the
** state's share of the droop, ||C|| ||z - z*(i_a)||, is below 2^-40 of
** |Z(0) i_idle| + Z(0) |i_a - i_idle| + ||C|| ||z*|| + that share when
** i_a was first asked about (the state decays toward z*, the states scaled
** so that ||Ad|| <= 1; the recursion itself settles only to ~1e-13 of
** that, its round-off). pdn_stream_skip: once settled,
** pushes n bins of i_a in O(K) (FFT: the ring's last K-1 entries) or O(1)
** (state), writing their droop, the last one computed, to *droop_v; the
** stream then goes on as if every bin had been pushed. PDN_EINPUT when not
** settled. */
int pdn_stream_settled(pdn_stream *s, double i_a);
int pdn_stream_skip(pdn_stream *s, double i_a, size_t n, double *droop_v);

/* Whole waveform at once: same as one stream and one push. */
int pdn_droop(const pdn_model *m, double i_idle_a, const double *i_a, size_t n,
              double *droop_v);

/* Static text for a status code. */
const char *pdn_strerror(int rc);

#ifdef __cplusplus
}
#endif
#endif
