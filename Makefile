# SPDX-License-Identifier: MIT
# ntad: plain GNU make. `make help` lists the targets.
#
# Layout of the build tree (one per variant, so sanitizer objects never mix):
#   $(B)/libnta.a, $(B)/libnta.so     the allocator (lib/nta)
#   $(B)/bpf/NAME.bpf.o, NAME.skel.h  BPF objects and their skeletons (bpf/NAME.bpf.c)
#   $(B)/libntad.a                    daemon objects but main.o, linked into tests too
#   $(B)/ntad                         the daemon
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
CFLAGS += -std=gnu11 $(WARN) -fno-omit-frame-pointer $(SANFLAGS) \
	-Iinclude -Ilib/nta -Iuser -I$(B) -D_GNU_SOURCE
ifeq ($(DEBUG),1)
CFLAGS += -DNTA_DEBUG=1
endif
LDFLAGS += $(SANFLAGS)
BPF_LIBS := $(shell pkg-config --libs libbpf libxdp 2>/dev/null || echo -lxdp -lbpf -lelf -lz)
LDLIBS += $(BPF_LIBS) -lpthread -lm

BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Iinclude \
	-I/usr/include/$(shell uname -m)-linux-gnu -D__TARGET_ARCH_x86

NTA_SRCS := $(wildcard lib/nta/*.c)
NTA_OBJS := $(NTA_SRCS:%.c=$(B)/%.o)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.skel.h)
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(USER_SRCS:%.c=$(B)/%.o)
CORE_OBJS := $(filter-out $(B)/user/main.o,$(USER_OBJS))
UNIT_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/unit/*.c))
TOOL_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/tools/*.c))
BENCH_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/bench/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
HDRS := $(wildcard include/*.h lib/nta/*.h user/*.h tests/unit/*.h)

DEPS_STAMP := $(B)/.deps-installed
FUZZ_SECONDS ?= 20

.PHONY: all help deps lib bpf tests fuzz-build check check-unit check-net check-fuzz \
	fuzz bench bench-nta demo soak install clean

all: lib bpf $(B)/ntad tests

help:
	@echo 'make [V=1] [SANITIZE=1|TSAN=1] [DEBUG=1] TARGET'
	@echo '  all         libnta.a/.so, BPF objects, ntad, test programs (default)'
	@echo '  check       every test: unit, network (root), short fuzzing'
	@echo '  check-unit  unit tests, no root needed'
	@echo '  check-net   network tests over veth pairs in namespaces (root)'
	@echo '  check-fuzz  each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS))'
	@echo '  fuzz        each fuzz target for 10 minutes'
	@echo '  bench       packet benchmarks over veth (root; BENCH_ARGS=--gen xdp-trafficgen); bench-nta: allocator only'
	@echo '  demo        ntad on a veth pair it creates and removes (root)'
	@echo '  soak        l2fwd until 10^8 frames forwarded or 10 min, all accounted (root; SOAK_ARGS=--duration 60)'
	@echo '  install     PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)'
	@echo '  clean'

# Install missing build dependencies once per build tree (scripts/install-deps.sh
# is idempotent and does nothing when every package is present).
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh --build $(B)
	$(Q)mkdir -p $(@D) && touch $@

lib: $(B)/libnta.a $(B)/libnta.so
bpf: $(BPF_OBJS) $(BPF_SKELS)
tests: $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

$(B)/lib/%.o: lib/%.c $(HDRS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(B)/user/%.o: user/%.c $(HDRS) $(BPF_SKELS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(B)/libnta.a: $(NTA_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/libnta.so: $(NTA_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libnta.so -o $@ $^

$(B)/libntad.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(B)/ntad: $(B)/user/main.o $(B)/libntad.a $(B)/libnta.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/%.c $(HDRS) $(B)/libntad.a $(B)/libnta.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libntad.a $(B)/libnta.a $(LDLIBS)

# Allocator-only programs (tests/*/*nta*.c) link nothing of the daemon.
$(B)/tests/unit/test_nta%: tests/unit/test_nta%.c $(HDRS) $(B)/libnta.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libnta.a -lpthread -lm

# Traffic tools and packet tests need only the packet code (and libbpf).
$(B)/tests/tools/%: tests/tools/%.c $(HDRS) $(B)/user/pkt.o $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/user/pkt.o $(LDLIBS)

$(B)/tests/unit/test_pkt%: tests/unit/test_pkt%.c $(HDRS) $(B)/user/pkt.o
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/user/pkt.o $(LDLIBS)

# The BPF program test needs only its skeleton and libbpf/libxdp.
$(B)/tests/unit/test_bpf%: tests/unit/test_bpf%.c $(HDRS) $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(B)/tests/bench/bench_nta%: tests/bench/bench_nta%.c $(HDRS) $(B)/libnta.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libnta.a -lpthread -lm

# libFuzzer needs clang and coverage on the code under test, so fuzz targets
# compile the library sources themselves instead of linking libnta.a.
FUZZ_CFLAGS := -O1 -g -std=gnu11 $(WARN) -fsanitize=fuzzer,address,undefined \
	-Iinclude -Ilib/nta -Iuser -I$(B) -D_GNU_SOURCE -DNTA_DEBUG=1
CORE_SRCS := $(filter-out user/main.c,$(USER_SRCS))
$(B)/fuzz/%: tests/fuzz/%.c $(NTA_SRCS) $(CORE_SRCS) $(HDRS) $(BPF_SKELS) | $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(NTA_SRCS) $(CORE_SRCS) $(LDLIBS)

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

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(B)/ntad $(DESTDIR)$(PREFIX)/sbin/ntad
	install -m 0644 $(B)/libnta.a $(DESTDIR)$(PREFIX)/lib/libnta.a
	install -m 0755 $(B)/libnta.so $(DESTDIR)$(PREFIX)/lib/libnta.so
	install -m 0644 include/nta.h $(DESTDIR)$(PREFIX)/include/nta.h
	install -m 0644 docs/ntad.8 $(DESTDIR)$(PREFIX)/share/man/man8/ntad.8

clean:
	rm -rf build build-san build-tsan $(B)
