# SPDX-License-Identifier: MIT
# ntad: plain GNU make. `make help` lists the targets.
#
# Layout of the build tree (one per variant, so sanitizer objects never mix):
#   $(B)/libnta.a, $(B)/libnta.so*    the allocator (lib/nta)
#   $(B)/libntad.a, $(B)/libntad.so*  the engine library (lib/ntad, include/ntad.h)
#   $(B)/bpf/NAME.bpf.o, NAME.skel.h  BPF objects and their skeletons (bpf/NAME.bpf.c)
#   $(B)/libntadapp.a                 the daemon's objects but main.o, linked into tests
#   $(B)/ntad                         the daemon (apps/ntad)
#   $(B)/examples/X                   one program per examples/X.c, on the public API only
#   $(B)/tests/{unit,tools,bench}/X   one program per tests/{unit,tools,bench}/X.c
#   $(B)/fuzz/X                       libFuzzer targets (clang), tests/fuzz/X.c

SANITIZE ?=
TSAN ?=
DEBUG ?=
V ?=
PREFIX ?= /usr/local
DESTDIR ?=

# B may be set on the command line (make B=build-x) for a separate tree.
ifeq ($(TSAN),1)
B ?= build-tsan
SANFLAGS := -fsanitize=thread
DEBUG := 1
else ifeq ($(SANITIZE),1)
B ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
DEBUG := 1
else
B ?= build
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wpointer-arith -Wformat=2 -Wundef -Wvla -Wcast-qual
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -fno-omit-frame-pointer $(SANFLAGS) -Iinclude -I$(B) -D_GNU_SOURCE
ifeq ($(DEBUG),1)
CFLAGS += -DNTA_DEBUG=1
endif
LDFLAGS += $(SANFLAGS)
BPF_LIBS := $(shell pkg-config --libs libbpf libxdp 2>/dev/null || echo -lxdp -lbpf -lelf -lz)
LDLIBS += $(BPF_LIBS) -lpthread -lm
# libpcap: the daemon's capture mode (filter expressions, the file writer), not the libraries.
PCAP_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)

BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Iinclude \
	-I/usr/include/$(shell uname -m)-linux-gnu -D__TARGET_ARCH_x86

# Library versions: the soname carries the major, the file the whole version.
NTAD_VERSION := 0.2.0
NTA_VERSION := 0.2.0
major = $(firstword $(subst ., ,$(1)))

NTA_SRCS := $(wildcard lib/nta/*.c)
NTA_OBJS := $(NTA_SRCS:%.c=$(B)/%.o)
LIB_SRCS := $(wildcard lib/ntad/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.skel.h)
APP_SRCS := $(wildcard apps/ntad/*.c apps/ntad/modes/*.c)
APP_OBJS := $(APP_SRCS:%.c=$(B)/%.o)
APP_CORE_OBJS := $(filter-out $(B)/apps/ntad/main.o,$(APP_OBJS))
EXAMPLE_BINS := $(patsubst %.c,$(B)/%,$(wildcard examples/*.c))
UNIT_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/unit/*.c))
TOOL_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/tools/*.c))
BENCH_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/bench/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
HDRS := $(wildcard include/*.h lib/nta/*.h lib/ntad/*.h apps/ntad/*.h apps/ntad/modes/*.h tests/unit/*.h)
LIBS_A := $(B)/libntad.a $(B)/libnta.a

DEPS_STAMP := $(B)/.deps-installed
FUZZ_SECONDS ?= 20

.PHONY: all help deps lib bpf tests fuzz-build check check-unit check-net check-fuzz \
	fuzz bench bench-nta demo soak install clean

all: lib bpf $(B)/ntad examples tests

help:
	@echo 'make [V=1] [SANITIZE=1|TSAN=1] [DEBUG=1] TARGET'
	@echo '  all         libnta, libntad (.a and .so), BPF objects, ntad, examples, test programs (default)'
	@echo '  check       every test: unit, network (root), short fuzzing'
	@echo '  check-unit  unit tests, no root needed'
	@echo '  check-net   network tests over veth pairs in namespaces (root)'
	@echo '  check-fuzz  each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS))'
	@echo '  fuzz        each fuzz target for 10 minutes'
	@echo '  bench       packet benchmarks over veth (root; BENCH_ARGS=--gen xdp-trafficgen); bench-nta: allocator only'
	@echo '  demo        ntad on a veth pair it creates and removes (root)'
	@echo '  soak        l2fwd until 10^8 frames forwarded or 10 min, all accounted (root; SOAK_ARGS=--duration 60)'
	@echo '  install     PREFIX=$(PREFIX) DESTDIR=$(DESTDIR): libraries, headers, pkg-config, ntad, man pages, systemd unit'
	@echo '  clean'

# Install missing build dependencies once per build tree (scripts/install-deps.sh
# is idempotent and does nothing when every package is present).
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh --build $(B)
	$(Q)mkdir -p $(@D) && touch $@

lib: $(B)/libnta.a $(B)/libnta.so $(B)/libntad.a $(B)/libntad.so
bpf: $(BPF_OBJS) $(BPF_SKELS)
examples: $(EXAMPLE_BINS)
tests: $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

$(B)/lib/nta/%.o: lib/nta/%.c $(HDRS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib/nta -fPIC -c $< -o $@

$(B)/lib/ntad/%.o: lib/ntad/%.c $(HDRS) $(BPF_SKELS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib/ntad -fPIC -c $< -o $@

$(B)/apps/%.o: apps/%.c $(HDRS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iapps/ntad -c $< -o $@

$(B)/libnta.a: $(NTA_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/libntad.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Shared libraries: real file libX.so.MAJOR.MINOR.PATCH, soname libX.so.MAJOR,
# and the libX.so link the linker looks for.
$(B)/libnta.so: $(NTA_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libnta.so.$(call major,$(NTA_VERSION)) \
		-o $@.$(NTA_VERSION) $^ -lpthread
	$(Q)ln -sf libnta.so.$(NTA_VERSION) $@.$(call major,$(NTA_VERSION)) && ln -sf libnta.so.$(NTA_VERSION) $@

# lib/ntad/libntad.map exports the public API (include/ntad.h, ntad_pkt.h) only.
$(B)/libntad.so: $(LIB_OBJS) $(B)/libnta.so lib/ntad/libntad.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libntad.so.$(call major,$(NTAD_VERSION)) \
		-Wl,--version-script=lib/ntad/libntad.map -o $@.$(NTAD_VERSION) $(LIB_OBJS) -L$(B) -lnta $(LDLIBS)
	$(Q)ln -sf libntad.so.$(NTAD_VERSION) $@.$(call major,$(NTAD_VERSION)) && ln -sf libntad.so.$(NTAD_VERSION) $@

$(B)/libntadapp.a: $(APP_CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.h) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# The daemon and the examples link the static libraries: what they use of
# libntad is what a user links.
$(B)/ntad: $(B)/apps/ntad/main.o $(B)/libntadapp.a $(LIBS_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(LDLIBS)

$(B)/examples/%: examples/%.c include/ntad.h include/ntad_bpf.h $(LIBS_A)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS_A) $(LDLIBS)

$(B)/tests/%: tests/%.c $(HDRS) $(B)/libntadapp.a $(LIBS_A)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iapps/ntad -Ilib/ntad $(LDFLAGS) -o $@ $< $(B)/libntadapp.a $(LIBS_A) $(PCAP_LIBS) $(LDLIBS)

# Allocator-only programs (tests/*/*nta*.c) link nothing of the engine.
$(B)/tests/unit/test_nta%: tests/unit/test_nta%.c $(HDRS) $(B)/libnta.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib/nta $(LDFLAGS) -o $@ $< $(B)/libnta.a -lpthread -lm

# The BPF program test needs only its skeleton and libbpf/libxdp.
$(B)/tests/unit/test_bpf%: tests/unit/test_bpf%.c $(HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(B)/tests/bench/bench_%: tests/bench/bench_%.c $(HDRS) $(B)/libnta.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ilib/nta $(LDFLAGS) -o $@ $< $(B)/libnta.a -lpthread -lm

# bench_nta gets its mimalloc row when mimalloc.h is installed (Debian:
# libmimalloc-dev, from scripts/install-deps.sh), looked for in the recipe so that
# a first build on a clean machine sees what the deps step just installed. The
# library is dlopen'ed by bench_nta, not linked: Debian's libmimalloc.so also
# defines malloc and free, and linked in would replace glibc's everywhere.
HAVE_MIMALLOC = $$($(CC) -E -include mimalloc.h -x c /dev/null >/dev/null 2>&1 && echo -DNTA_BENCH_MIMALLOC)
$(B)/tests/bench/bench_nta: tests/bench/bench_nta.c $(HDRS) $(B)/libnta.a | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(HAVE_MIMALLOC) -Ilib/nta $(LDFLAGS) -o $@ $< $(B)/libnta.a -lpthread -lm

# libFuzzer needs clang and coverage on the code under test, so fuzz targets
# compile the sources themselves instead of linking the libraries.
FUZZ_CFLAGS := -O1 -g -std=gnu11 $(WARN) -fsanitize=fuzzer,address,undefined \
	-Iinclude -Ilib/nta -Ilib/ntad -Iapps/ntad -I$(B) -D_GNU_SOURCE -DNTA_DEBUG=1
APP_CORE_SRCS := $(filter-out apps/ntad/main.c,$(APP_SRCS))
$(B)/fuzz/%: tests/fuzz/%.c $(NTA_SRCS) $(LIB_SRCS) $(APP_CORE_SRCS) $(HDRS) $(BPF_SKELS) | $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(NTA_SRCS) $(LIB_SRCS) $(APP_CORE_SRCS) $(PCAP_LIBS) $(LDLIBS)

$(B)/fuzz/fuzz_nta%: tests/fuzz/fuzz_nta%.c $(NTA_SRCS) $(HDRS) | $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(NTA_SRCS)
fuzz-build: $(FUZZ_BINS)

# The one test runner: its last line is "N passed, N failed, N skipped".
check: all fuzz-build
	$(Q)tests/run.sh --build $(B) --unit --net --fuzz $(FUZZ_SECONDS)

check-unit: all
	$(Q)tests/run.sh --build $(B) --unit

check-net: all
	$(Q)tests/run.sh --build $(B) --net

check-fuzz: fuzz-build
	$(Q)tests/run.sh --build $(B) --fuzz $(FUZZ_SECONDS)

fuzz: fuzz-build
	$(Q)tests/run.sh --build $(B) --fuzz 600

bench-nta: all
	$(Q)$(B)/tests/bench/bench_nta

# xdp-bench for its cases: the installed one if it passes the probe, else one
# built from Debian's sources into $(B)/xdp-tools/bin (quiet when built; without
# either bench.sh skips those cases).
BENCH_ARGS ?=
bench: all
	$(Q)scripts/xdp-bench-probe.sh >/dev/null 2>&1 || scripts/build-xdp-tools.sh --build $(B) || \
		echo 'bench: no working xdp-bench; its cases are skipped'
	$(Q)scripts/bench.sh --build $(B) $(BENCH_ARGS)

demo: all
	$(Q)scripts/demo.sh --build $(B)

SOAK_ARGS ?=
soak: all
	$(Q)scripts/soak.sh --build $(B) $(SOAK_ARGS)

# Installed layout: headers, both libraries (static, and shared with a
# versioned soname), their pkg-config files, the daemon, its man page and
# systemd unit, and the library's man page. An example then builds against
# it with `cc ex.c $(pkg-config --cflags --libs libntad)` (tests/unit/test_install.sh).
SBINDIR = $(PREFIX)/sbin
LIBDIR = $(PREFIX)/lib
INCDIR = $(PREFIX)/include
MANDIR = $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
subst = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/ntad $(DESTDIR)$(SBINDIR)/ntad
	install -m 0644 include/nta.h include/nta_mt.h include/ntad.h include/ntad_bpf.h \
		include/ntad_pkt.h $(DESTDIR)$(INCDIR)/
	install -m 0644 $(B)/libnta.a $(B)/libntad.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(B)/libnta.so.$(NTA_VERSION) $(B)/libntad.so.$(NTAD_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libnta.so.$(NTA_VERSION) $(DESTDIR)$(LIBDIR)/libnta.so.$(call major,$(NTA_VERSION))
	ln -sf libnta.so.$(call major,$(NTA_VERSION)) $(DESTDIR)$(LIBDIR)/libnta.so
	ln -sf libntad.so.$(NTAD_VERSION) $(DESTDIR)$(LIBDIR)/libntad.so.$(call major,$(NTAD_VERSION))
	ln -sf libntad.so.$(call major,$(NTAD_VERSION)) $(DESTDIR)$(LIBDIR)/libntad.so
	$(subst) -e 's|@VERSION@|$(NTAD_VERSION)|g' lib/ntad/libntad.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libntad.pc
	$(subst) -e 's|@VERSION@|$(NTA_VERSION)|g' lib/nta/libnta.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libnta.pc
	install -m 0644 docs/ntad.8 $(DESTDIR)$(MANDIR)/man8/ntad.8
	install -m 0644 docs/libntad.3 $(DESTDIR)$(MANDIR)/man3/libntad.3
	$(subst) apps/ntad/ntad@.service.in > $(DESTDIR)$(UNITDIR)/ntad@.service

clean:
	rm -rf build build-san build-tsan $(B)
