# xnet: top-level build (GNU make, nothing else).
#
#   make            build everything into build/
#   make check      install missing Debian packages, build, run every suite
#   make soak       30 minutes of traffic, toggles and guest churn (SOAK_SECONDS), then
#                   3000 random policy changes over 16 vifs (CONVERGE_ROUNDS)
#   make SAN=1 ...  the same with ASan+UBSan, into build-san/
#   make bench      run the benchmarks, figures into bench-results.txt and, as a table and
#                   a plot, into docs/performance.md
#   make bench-scale  one xnetback serving 64 and 256 guests, against veth (tests/bench/scale.sh)
#   make check-xen  Xen under QEMU only (tests/xen/; packages cached in /var/cache/xnet-xen)
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each (clang)
#   make tidy       clang-tidy over every source (.clang-tidy)
#   make cppcheck   cppcheck over the same sources (.cppcheck-suppressions)
#   make install    PREFIX=/usr/local DESTDIR= (see the install section)
#   make deb        the Debian packages, into build/deb/
#   make demo       the guided demonstration
#
# Parallel-safe: every object has its own rule, directories are order-only
# prerequisites, and targets that install packages first run the build as a
# separate make invocation afterwards.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

SAN ?= 0
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60

ifeq ($(origin CXX),default)
CXX := g++
endif
# (-O1 for the sanitizer build: it compiles in less time, and ASan is
# meant to run that way)
CXXFLAGS ?= $(if $(filter 1,$(SAN)),-O1,-O2) -g

ifeq ($(SAN),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B := build
SANFLAGS :=
endif

XNET_CXXFLAGS := -std=c++20 -Wall -Wextra -Werror -pthread $(SANFLAGS)
# One version for the programs and the packages: debian/changelog's.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
XNET_CPPFLAGS := -Icommon -I. -MMD -MP -DXNET_VERSION='"$(VERSION)"'
XNET_LDFLAGS := -pthread $(SANFLAGS)
XNET_LDLIBS := -lfmt -lxenstore -lxenevtchn -lxengnttab -lxenctrl

# --- sources -------------------------------------------------------------
# libxnet: common/'s layers (packet, netif, runtime, device) and the
# platform interfaces with both implementations (platform/xen, platform/sim).
LIB_LAYERS := packet netif runtime device platform platform/xen platform/sim
LIB_SRCS := $(sort $(foreach d,$(LIB_LAYERS),$(wildcard common/$(d)/*.cc)))
SIMLIB_SRCS := $(filter-out sim/main.cc,$(sort $(wildcard sim/*.cc)))
NB_SRCS := $(filter-out netback/main.cc,$(sort $(wildcard netback/*.cc)))
NF_SRCS := $(filter-out netfront/main.cc,$(sort $(wildcard netfront/*.cc)))
CTL_SRCS := $(sort $(wildcard ctl/*.cc))
# The ring fuzz harnesses run in the unit tests too (test_ring_fuzz.cc).
UNIT_SRCS := $(sort $(wildcard tests/unit/*.cc)) tests/fuzz/ring_harness.cc \
	tests/fuzz/ring_programs.cc ctl/args.cc ctl/flat_json.cc
BENCH_SRCS := $(sort $(wildcard tests/bench/*.cc))
HOSTILE_SRCS := $(sort $(wildcard tests/tools/hostile/*.cc))

LIB := $(B)/libxnet.a
SIMLIB := $(B)/libxnetsim.a
SIM := $(B)/xnet-sim
NBLIB := $(B)/libnetback.a
NFLIB := $(B)/libnetfront.a
DAEMONS := $(B)/xnetback $(B)/xnetfront $(B)/xnetctl
UNIT := $(B)/tests/unit/xnet-unit
BENCHES := $(BENCH_SRCS:tests/bench/%.cc=$(B)/tests/bench/%)
HOSTILE := $(B)/tests/tools/xnet-hostile

objs = $(patsubst %.cc,$(B)/%.o,$(1))
ALL_OBJS := $(call objs,$(LIB_SRCS) $(SIMLIB_SRCS) sim/main.cc $(UNIT_SRCS) $(BENCH_SRCS) \
	$(NB_SRCS) $(NF_SRCS) netback/main.cc netfront/main.cc $(CTL_SRCS) $(HOSTILE_SRCS))

# --- build ---------------------------------------------------------------
.PHONY: all tested
all: tested $(BENCHES)
# What the test suites run.
tested: $(LIB) $(SIM) $(DAEMONS) $(UNIT) $(HOSTILE)

$(B)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(XNET_CPPFLAGS) $(CPPFLAGS) $(XNET_CXXFLAGS) $(CXXFLAGS) -c $< -o $@

# The objects that print the version are rebuilt when it changes.
$(B)/.version-$(VERSION):
	@mkdir -p $(@D) && rm -f $(B)/.version-* && touch $@
$(call objs,netback/main.cc netfront/main.cc ctl/args.cc): $(B)/.version-$(VERSION)

# xenctrl.h's headers use GNU extensions (anonymous unions), which strict
# -std=c++20 refuses; only the file that includes it gets GNU C++.
$(B)/common/platform/xen/xen_services.o: XNET_CXXFLAGS += -std=gnu++20

$(LIB): $(call objs,$(LIB_SRCS))
	rm -f $@ && $(AR) rcs $@ $^

$(SIMLIB): $(call objs,$(SIMLIB_SRCS))
	rm -f $@ && $(AR) rcs $@ $^

$(SIM): $(B)/sim/main.o $(SIMLIB) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

$(NBLIB): $(call objs,$(NB_SRCS))
	rm -f $@ && $(AR) rcs $@ $^

$(NFLIB): $(call objs,$(NF_SRCS))
	rm -f $@ && $(AR) rcs $@ $^

$(B)/xnetback: $(B)/netback/main.o $(NBLIB) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

$(B)/xnetfront: $(B)/netfront/main.o $(NFLIB) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

$(B)/xnetctl: $(call objs,$(CTL_SRCS)) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

# A frontend that breaks the protocol on purpose (tests/xen, tests/integration).
$(HOSTILE): $(call objs,$(HOSTILE_SRCS)) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

$(UNIT): $(call objs,$(UNIT_SRCS)) $(NBLIB) $(NFLIB) $(SIMLIB) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

$(B)/tests/bench/%: $(B)/tests/bench/%.o $(NBLIB) $(NFLIB) $(SIMLIB) $(LIB)
	$(CXX) $(XNET_LDFLAGS) $(LDFLAGS) -o $@ $^ $(XNET_LDLIBS) $(LDLIBS)

-include $(ALL_OBJS:.o=.d)

# --- dependencies (Debian packages) --------------------------------------
.PHONY: deps
deps:
	@scripts/install-deps

# --- tests ---------------------------------------------------------------
# `check` prints one line totalling every suite: "N passed, M failed".
# With SAN=1 it runs every suite but xen (ASan under TCG would triple its
# time, and the sim suites run the same code), and labels its total so that
# it is not taken for the verdict.
.PHONY: check check-unit soak format-check format
check: deps
	@$(MAKE) --no-print-directory SAN=$(SAN) $(if $(filter 1,$(SAN)),tested,all)
	@$(if $(filter 1,$(SAN)),,scripts/build-deb $(B)/deb >/dev/null)
	@tests/run-suites --build $(B) $(if $(filter 1,$(SAN)),--label "sanitizer build" local,all)

# The long soak (tests/integration/soak.sh): SOAK_SECONDS of traffic,
# toggles and guest churn, then CONVERGE_ROUNDS random policy changes over
# 16 vifs (sim-converge.sh); `check` runs a 60 s soak and 60 changes.
SOAK_SECONDS ?= 1800
CONVERGE_ROUNDS ?= 3000
soak: deps
	@$(MAKE) --no-print-directory SAN=$(SAN) all
	@XNET_SOAK_SECONDS=$(SOAK_SECONDS) XNET_CONVERGE_ROUNDS=$(CONVERGE_ROUNDS) \
		tests/run-suites --build $(B) soak sim-converge

# Real Xen under QEMU (tests/xen/run): Linux's drivers against ours, xnet
# against itself, captures and a hostile guest: the suite xen of `check`
# alone. Its images carry xnet as the packages install it (make deb).
.PHONY: check-xen
check-xen: deps
	@$(MAKE) --no-print-directory SAN=$(SAN) $(DAEMONS) $(HOSTILE)
	@scripts/build-deb $(B)/deb >/dev/null
	@tests/run-suites --build $(B) xen

# The unit suite alone (CI runs it from the sanitizer build).
check-unit: deps
	@$(MAKE) --no-print-directory SAN=$(SAN) $(UNIT)
	@tests/run-suites --build $(B) --label "$(if $(filter 1,$(SAN)),sanitizer build,unit tests)" unit

# clang-tidy with .clang-tidy over the programs' sources (scripts/tidy).
.PHONY: tidy
tidy: deps
	@scripts/tidy

# cppcheck over the same sources, with .cppcheck-suppressions (scripts/cppcheck).
.PHONY: cppcheck
cppcheck: deps
	@scripts/cppcheck

format-check:
	@scripts/format-check

format:
	@scripts/format-check --fix

# --- benchmarks ----------------------------------------------------------
# `bench` runs every tests/bench/ program and script, scale.sh at 64
# guests among them; `bench-scale` runs scale.sh alone, at 64 and 256.
.PHONY: bench bench-scale
bench-scale: deps
	@$(MAKE) --no-print-directory SAN=0 all
	@tests/bench/scale.sh build 64 256 | tee bench-scale.txt
bench: deps
	@$(MAKE) --no-print-directory SAN=0 all
	@scripts/run-bench build bench-results.txt
	@scripts/bench-report bench-results.txt docs/performance.md

# --- fuzzing (clang's libFuzzer) -----------------------------------------
# Every tests/fuzz/fuzz_*.cc is a target, linked with one instrumented
# build of the library, the sim, both daemons' queues and the ring
# harness (build-fuzz/obj/); make_seeds writes each one's starting corpus
# (build-fuzz/seeds/NAME); findings go to fuzz-corpus/ (ignored).
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.cc))
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.cc=build-fuzz/%)
FUZZ_LIB_SRCS := $(LIB_SRCS) $(SIMLIB_SRCS) $(NB_SRCS) $(NF_SRCS) tests/fuzz/ring_harness.cc
FUZZ_OBJS := $(patsubst %.cc,build-fuzz/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_CXXFLAGS := -std=c++20 -O1 -g -Wall -Wextra -Werror -Icommon -I. -MMD -MP \
	-fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: fuzz fuzzers
fuzzers: $(FUZZERS) build-fuzz/make_seeds

build-fuzz/obj/%.o: %.cc
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/obj/common/platform/xen/xen_services.o: FUZZ_CXXFLAGS += -std=gnu++20

build-fuzz/fuzz_%: build-fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -o $@ $^ $(XNET_LDLIBS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_SRCS:tests/fuzz/%.cc=build-fuzz/obj/tests/fuzz/%.d)

SEED_SRCS := tests/fuzz/make_seeds.cc tests/fuzz/ring_programs.cc tests/unit/frames.cc
build-fuzz/make_seeds: $(SEED_SRCS) tests/fuzz/ring_programs.h tests/unit/frames.h
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O1 -Wall -Wextra -Werror -I. -o $@ $(SEED_SRCS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers
	@rm -rf build-fuzz/seeds && build-fuzz/make_seeds build-fuzz/seeds
	@for f in $(FUZZERS); do \
		name=$$(basename $$f); corpus=fuzz-corpus/$$name; mkdir -p $$corpus; \
		echo "fuzzing $$f for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$corpus \
			build-fuzz/seeds/$${name#fuzz_} \
			|| exit 1; \
	done

# --- demo ----------------------------------------------------------------
# The guided demonstration on xnet-sim (scripts/demo): about a minute.
.PHONY: demo
demo: deps
	@$(MAKE) --no-print-directory SAN=0 all
	@scripts/demo build

# --- install -------------------------------------------------------------
# The daemons and xnetctl, the hotplug scripts into Xen's script directory
# (in xnet/, beside the distribution's own: script=xnet/vif-bridge), the
# xenstore scripts, manual pages, systemd units, the default options
# (kept if present), the library and headers, the docs.
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/xnet
SYSCONFDIR ?= /etc
XEN_SCRIPT_DIR ?= $(SYSCONFDIR)/xen/scripts
UNITDIR ?= $(PREFIX)/lib/systemd/system
HOTPLUG := common.sh vif-bridge vif-route vif-nat vif-private
UNITS := xnetback.service xnetfront@.service
PUBLIC_LAYERS := packet netif runtime device platform

.PHONY: install
install: $(LIB) $(DAEMONS) $(SIM)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(XEN_SCRIPT_DIR)/xnet \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(PREFIX)/lib
	install -m 0755 $(B)/xnetback $(B)/xnetfront $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/xnetctl $(B)/xnet-sim $(DESTDIR)$(BINDIR)/
	install -m 0755 xenstore-scripts/xnet-policy $(DESTDIR)$(SBINDIR)/xnet-policy
	install -m 0755 xenstore-scripts/private-network $(DESTDIR)$(SBINDIR)/xnet-private-network
	install -m 0644 hotplug/common.sh $(DESTDIR)$(XEN_SCRIPT_DIR)/xnet/
	install -m 0755 $(addprefix hotplug/,$(filter-out common.sh,$(HOTPLUG))) \
		$(DESTDIR)$(XEN_SCRIPT_DIR)/xnet/
	install -m 0644 docs/xnetctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/xnetback.8 docs/xnetfront.8 $(DESTDIR)$(MANDIR)/man8/
	for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			dist/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; \
	done
	test -e $(DESTDIR)$(SYSCONFDIR)/default/xnet || \
		install -m 0644 dist/default/xnet $(DESTDIR)$(SYSCONFDIR)/default/xnet
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	# The public headers, by layer (the platform's implementations are not;
	# a user builds with -I$(PREFIX)/include/xnet).
	for d in $(PUBLIC_LAYERS); do \
		install -d $(DESTDIR)$(PREFIX)/include/xnet/$$d && \
		install -m 0644 common/$$d/*.h $(DESTDIR)$(PREFIX)/include/xnet/$$d/; \
	done
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

# --- Debian packages -----------------------------------------------------
# xnet-tools, xnet-backend, xnet-frontend (debian/), into build/deb/.
.PHONY: deb
deb: deps
	@scripts/build-deb $(B)/deb

.PHONY: clean
clean:
	rm -rf build build-san build-fuzz build-deb bench-results.txt debian/tmp debian/.debhelper \
		debian/xnet-tools debian/xnet-backend debian/xnet-frontend debian/files \
		debian/*.substvars debian/*.debhelper.log debian/debhelper-build-stamp
