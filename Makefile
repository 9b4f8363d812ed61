# pda -- one Makefile, no configure step.
#   make            bin/analyzer, bin/schedgen, lib/libpda.a, lib/libpda.so
#   make run        the main job on the bundled sample
#   make test       every test, also under AddressSanitizer + UBSan
#   make bench      the benchmarks (not timed tests)
#   make install PREFIX=/usr/local   (the command, the library, headers under
#                   include/pda/, pda.pc)
# On a fresh Debian machine `make run` and `make test` install the missing
# packages (tools/deps.sh) when run as root, or print the command to run.

CC      ?= cc
VERSION := 6.1.1
SONAME  := libpda.so.6
PREFIX  ?= /usr/local
PKGS    := libcsv fftw3 jansson libpng glpk
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes \
           -Wmissing-prototypes -Werror
DEFS    := -D_POSIX_C_SOURCE=200809L
INCS    := -Ischedule-io -Ianalyzer -Ianalyzer/cli -Ithermal -Ibudgets -Isweep
OPT     ?= -O2 -g
# libcsv ships no .pc file; the others do.
PC_CFLAGS = $(shell pkg-config --cflags fftw3 jansson libpng 2>/dev/null)
PC_LIBS   = $(shell pkg-config --libs fftw3 jansson libpng 2>/dev/null)
LIBS    = $(PC_LIBS) -lcsv -lfftw3_threads -lfftw3 -ljansson -lpng -lglpk -lm -pthread
# -fPIC: the release objects go into libpda.so as well as libpda.a
PIC     := -fPIC
CFLAGS_ALL = $(WARN) $(DEFS) $(INCS) $(PC_CFLAGS) $(OPT) -pthread
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(wildcard schedule-io/*.c) \
           $(wildcard analyzer/*.c) \
           $(wildcard thermal/*.c) $(wildcard budgets/*.c) $(wildcard sweep/*.c)
# Open MPI, when installed, only in the command (analyzer sweep under
# mpirun; docs/sweeps.md): libpda never links it.
HAVE_MPI  := $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1)
MPI_CFLAGS = $(if $(HAVE_MPI),-DPDA_WITH_MPI $(shell pkg-config --cflags ompi-c))
MPI_LIBS   = $(if $(HAVE_MPI),$(shell pkg-config --libs ompi-c))
CMD_SRC := $(filter-out $(if $(HAVE_MPI),,analyzer/cli/cmd_sweep_mpi.c analyzer/cli/cmd_run_mpi.c analyzer/cli/cmd_mpi.c),$(wildcard analyzer/cli/*.c))
# (not build/gen/: the generated header is a prerequisite of report_page.o only)
HDRS    := $(filter-out build/%,$(wildcard */*.h */*/*.h))
# installed under include/pda/ (users write <pda/pda.h>); every other header is private
PUB_HDRS:= analyzer/pda.h schedule-io/pda_status.h schedule-io/sio.h analyzer/current.h analyzer/pdn.h analyzer/walk.h analyzer/events.h \
           analyzer/margin.h thermal/thermal.h thermal/thermal_run.h thermal/thermal_png.h \
           thermal/thermal_hotspot.h budgets/budget.h sweep/sweep.h
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
BENCHES := $(patsubst tests/%.c,%,$(wildcard tests/bench_*.c))

# build/rel and build/asan hold the two flavours; bin/ and lib/ the release.
R := build/rel
A := build/asan
LIB_OBJ_R := $(patsubst %.c,$(R)/%.o,$(LIB_SRC))
LIB_OBJ_A := $(patsubst %.c,$(A)/%.o,$(LIB_SRC))
CMD_OBJ_R := $(patsubst %.c,$(R)/%.o,$(CMD_SRC))
CMD_OBJ_A := $(patsubst %.c,$(A)/%.o,$(CMD_SRC))
$(CMD_OBJ_R) $(CMD_OBJ_A): CFLAGS_ALL += $(MPI_CFLAGS)

.PHONY: all deps run test test-build test-rel test-asan bench fuzz install clean screenshots
.DELETE_ON_ERROR:
# keep the test objects (no rebuilds, and no "rm" after the closing line)
.SECONDARY:

all: bin/analyzer bin/schedgen lib/libpda.a lib/$(SONAME)

deps:
	@sh tools/deps.sh

$(R)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PIC) -c $< -o $@
$(A)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -O1 -c $< -o $@

# report.html inlines the vendored uPlot and the page's own script and
# style: tools/embed.c turns them into a header of byte arrays.
GEN := build/gen
REPORT_ASSETS := analyzer/vendor/uplot/uPlot.iife.min.js analyzer/vendor/uplot/uPlot.min.css \
                 analyzer/report.js analyzer/report.css
$(GEN)/embed: tools/embed.c
	@mkdir -p $(GEN)
	$(CC) -std=c11 -O1 $< -o $@
$(GEN)/report_assets.h: $(GEN)/embed $(REPORT_ASSETS)
	$(GEN)/embed $@ REPORT_UPLOT_JS analyzer/vendor/uplot/uPlot.iife.min.js \
	  REPORT_UPLOT_CSS analyzer/vendor/uplot/uPlot.min.css REPORT_JS analyzer/report.js REPORT_CSS analyzer/report.css
$(R)/analyzer/report_page.o $(A)/analyzer/report_page.o: $(GEN)/report_assets.h
$(R)/analyzer/report_page.o $(A)/analyzer/report_page.o: CFLAGS_ALL += -I$(GEN)

lib/libpda.a: $(LIB_OBJ_R)
	@mkdir -p lib
	rm -f $@ && ar rcs $@ $^
# the shared library: soname libpda.so.MAJOR, file libpda.so.VERSION (made
# again when VERSION changes: the Makefile is a prerequisite)
lib/$(SONAME): $(LIB_OBJ_R) Makefile
	@mkdir -p lib
	rm -f lib/libpda.so.*.*.*
	$(CC) -shared -Wl,-soname,$(SONAME) $(OPT) $(LIB_OBJ_R) $(LIBS) -o lib/libpda.so.$(VERSION)
	ln -sf libpda.so.$(VERSION) lib/$(SONAME)
	ln -sf $(SONAME) lib/libpda.so
$(A)/libpda.a: $(LIB_OBJ_A)
	rm -f $@ && ar rcs $@ $^

bin/analyzer: $(CMD_OBJ_R) lib/libpda.a
	@mkdir -p bin
	$(CC) $(OPT) $(CMD_OBJ_R) lib/libpda.a $(LIBS) $(MPI_LIBS) -o $@
$(A)/bin/analyzer: $(CMD_OBJ_A) $(A)/libpda.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(CMD_OBJ_A) $(A)/libpda.a $(LIBS) $(MPI_LIBS) -o $@

bin/schedgen: $(R)/samples/schedgen.o lib/libpda.a
	@mkdir -p bin
	$(CC) $(OPT) $< lib/libpda.a $(LIBS) -o $@

$(R)/tests/%: $(R)/tests/%.o lib/libpda.a
	$(CC) $(OPT) $< lib/libpda.a $(LIBS) -lcmocka -o $@
$(A)/tests/%: $(A)/tests/%.o $(A)/libpda.a
	$(CC) $(SAN) $< $(A)/libpda.a $(LIBS) -lcmocka -o $@

# The failing-allocator build of the command (tests/failalloc.c,
# docs/testing.md): the same objects as bin/analyzer, with every allocation
# call of pda's own code routed through a counter that can make the K-th fail.
# Only for tests/e2e_failalloc.sh; bin/analyzer is untouched.
FAILALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=getline \
                  -Wl,--wrap=fftw_malloc,--wrap=open_memstream,--wrap=pthread_create,--wrap=csv_init \
                  -Wl,--wrap=png_create_write_struct,--wrap=sio_schedule_load
$(R)/tests/analyzer_failalloc: $(CMD_OBJ_R) $(R)/tests/failalloc.o lib/libpda.a
	$(CC) $(OPT) $(FAILALLOC_WRAP) $(CMD_OBJ_R) $(R)/tests/failalloc.o lib/libpda.a $(LIBS) $(MPI_LIBS) -o $@
$(A)/tests/analyzer_failalloc: $(CMD_OBJ_A) $(A)/tests/failalloc.o $(A)/libpda.a
	$(CC) $(SAN) $(FAILALLOC_WRAP) $(CMD_OBJ_A) $(A)/tests/failalloc.o $(A)/libpda.a $(LIBS) $(MPI_LIBS) -o $@

run: deps
	@$(MAKE) --no-print-directory all
	sh tools/run-sample.sh

# PNGs of report.html in headless Chromium for docs/report.md
screenshots: all
	sh tools/screenshots.sh

# Unit tests (cmocka), golden bad-input cases and end-to-end scripts, in the
# release build and again under ASan + UBSan. `make test` builds both
# flavours TEST_JOBS at a time, then runs the suites of both in one pool of
# TEST_JOBS workers (tests/run.sh, docs/testing.md); test-rel and test-asan
# run one flavour each.
TEST_JOBS ?= $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
TEST_DEPS_R := all $(R)/tests/analyzer_failalloc $(addprefix $(R)/tests/,$(TESTS))
TEST_DEPS_A := bin/schedgen $(A)/bin/analyzer $(A)/tests/analyzer_failalloc $(addprefix $(A)/tests/,$(TESTS))
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
test: deps
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) test-build
	@$(SAN_ENV) PDA_TEST_JOBS=$(TEST_JOBS) sh tests/run.sh rel $(R) bin/analyzer $(TESTS) \
	  -- asan $(A) $(A)/bin/analyzer $(TESTS)
test-build: $(TEST_DEPS_R) $(TEST_DEPS_A)

test-rel: $(TEST_DEPS_R)
	@PDA_TEST_JOBS=$(TEST_JOBS) sh tests/run.sh rel $(R) bin/analyzer $(TESTS)
test-asan: $(TEST_DEPS_A)
	@$(SAN_ENV) PDA_TEST_JOBS=$(TEST_JOBS) sh tests/run.sh asan $(A) $(A)/bin/analyzer $(TESTS)

bench: all $(addprefix $(R)/tests/,$(BENCHES))
	@sh tests/bench.sh $(R) $(BENCHES)

# libFuzzer on the two readers (needs clang): FUZZ_SECONDS each, seeded with
# the golden cases and the samples; crashes land in build/fuzz/.
FUZZ_SECONDS ?= 60
SIO_SRC := $(wildcard schedule-io/*.c)
fuzz:
	@mkdir -p build/fuzz/corpus_schedule build/fuzz/corpus_chip
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) -Ischedule-io tests/fuzz_schedule.c $(SIO_SRC) \
	  -lcsv -ljansson -lm -pthread -o build/fuzz/fuzz_schedule
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) -Ischedule-io tests/fuzz_chip.c $(SIO_SRC) \
	  -lcsv -ljansson -lm -pthread -o build/fuzz/fuzz_chip
	@for c in tests/cases/sched_*/; do cp $$c/schedule.csv build/fuzz/corpus_schedule/$$(basename $$c).csv; done
	@for c in tests/cases/chip_*/; do cp $$c/chip.json build/fuzz/corpus_chip/$$(basename $$c).json; done
	@head -50 samples/tsp/decode.csv > build/fuzz/corpus_schedule/decode.csv
	build/fuzz/fuzz_schedule -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=build/fuzz/ \
	  build/fuzz/corpus_schedule 2>build/fuzz/schedule.log || { tail -n 30 build/fuzz/schedule.log; exit 1; }
	@tail -n 1 build/fuzz/schedule.log
	build/fuzz/fuzz_chip -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -artifact_prefix=build/fuzz/ \
	  build/fuzz/corpus_chip 2>build/fuzz/chip.log || { tail -n 30 build/fuzz/chip.log; exit 1; }
	@tail -n 1 build/fuzz/chip.log

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/pda \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 bin/analyzer bin/schedgen $(DESTDIR)$(PREFIX)/bin/
	install -m 644 lib/libpda.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 lib/libpda.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libpda.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libpda.so
	install -m 644 $(PUB_HDRS) $(DESTDIR)$(PREFIX)/include/pda/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/pda.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/pda.pc

clean:
	rm -rf build bin lib
