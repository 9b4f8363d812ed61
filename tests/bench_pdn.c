/* bench_pdn.c -- droop of a 10^7-bin (1 ns) waveform through the example
** example ladder, by each method (the state recursion, what analyzer run
** uses, and FFTW overlap-save of the kernel), measured in the same minute:
** model creation, then the droop in one piece and in 65536-bin tiles, and
** how far the two methods' droops differ. Prints figures; exits 0. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdn.h"
#include "benchkit.h"

int main(void)
{
    sio_stage st[3] = {
        {"board", 1.5e-4, 1e-9, 5e-3, 2e-4, 0.0},
        {"package", 5e-5, 2e-11, 1e-4, 1.5e-4, 0.0},
        {"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 0.0},
    };
    sio_rail rail = {.name = "core", .vdd_v = 0.8, .stages = st, .n_stages = 3};
    size_t n = 10000000;
    double *i = malloc(n * sizeof *i), *v[2] = {malloc(n * sizeof(double)), malloc(n * sizeof(double))};
    if (!i || !v[0] || !v[1]) return 1;
    memset(v[0], 0, n * sizeof(double));   /* fault the pages in before timing */
    memset(v[1], 0, n * sizeof(double));
    uint32_t x = 1;
    for (size_t k = 0; k < n;) {
        x = x * 1664525u + 1013904223u;
        size_t len = 1 + (x >> 10) % 200;
        double lvl = 62.0 + (double)((x >> 4) % 300);
        for (size_t j = 0; j < len && k < n; j++, k++) i[k] = lvl;
    }
    const int methods[2] = {PDN_STATE, PDN_FFT};
    const char *names[2] = {"state", "fft"};
    for (int q = 0; q < 2; q++) {
        sio_error err = {0};
        pdn_model *m = NULL;
        double t0 = bench_now();
        if (pdn_model_create_with(&rail, 1.0, methods[q], &m, &err) != PDN_OK) {
            fprintf(stderr, "bench_pdn: %s\n", err.text);
            return 1;
        }
        double t_model = bench_now() - t0;
        t0 = bench_now();
        pdn_droop(m, 62.0, i, n, v[q]);
        double t_one = bench_now() - t0;
        double worst = 0.0;
        for (size_t k = 0; k < n; k++) if (v[q][k] > worst) worst = v[q][k];
        pdn_stream *s = NULL;
        pdn_stream_create(m, 62.0, &s);
        t0 = bench_now();
        for (size_t k = 0; k < n; k += 65536)
            pdn_stream_push(s, i + k, n - k < 65536 ? n - k : 65536, v[q] + k);
        double t_tiles = bench_now() - t0;
        pdn_stream_destroy(s);
        printf("pdn %-5s: kernel %zu taps (%.1f us), FFT %zu, block %zu bins, model %.3f s\n", names[q],
               pdn_model_kernel_len(m), (double)pdn_model_kernel_len(m) * 1e-3, pdn_model_fft_len(m),
               pdn_model_block_len(m), t_model);
        printf("pdn %-5s: droop of %zu bins: %.3f s in one piece (%.1f ns/bin), %.3f s in 65536-bin tiles "
               "(%.1f ns/bin); worst droop %.2f mV\n", names[q], n, t_one, t_one * 1e9 / (double)n, t_tiles,
               t_tiles * 1e9 / (double)n, worst * 1e3);
        pdn_model_destroy(m);
    }
    double d = 0.0;
    for (size_t k = 0; k < n; k++) d = fmax(d, fabs(v[0][k] - v[1][k]));
    printf("pdn: state vs fft, largest difference %.3g mV\n", d * 1e3);
    free(i);
    free(v[0]);
    free(v[1]);
    return 0;
}
