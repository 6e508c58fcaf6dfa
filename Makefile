# overcommitd - plain Makefile (make, make check, make install DESTDIR=... PREFIX=...)
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/overcommitd
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
VERSION    := 0.1.0

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := libnl-3.0 libnl-genl-3.0 libcap json-c libsystemd libbpf libseccomp libcgroup
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS))
# iniparser 4.1 ships no pkg-config file (DESIGN §8)
INI_CFLAGS := -I/usr/include/iniparser
INI_LIBS   := -liniparser

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 \
        -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-qual \
        -Wwrite-strings -Wvla -Wundef -Wnull-dereference -Wimplicit-fallthrough
OPT  ?= -O2 -g
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DOVERCOMMITD_VERSION='"$(VERSION)"' \
             $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(INI_CFLAGS) -Isrc -I$(BUILD)/bpf
ALL_LDFLAGS = $(LDFLAGS)
LIBS := $(INI_LIBS) $(PKG_LIBS) -lm

# cmocka's assert_non_null() is not seen as noreturn: GCC then flags every
# later use of the pointer; the library itself keeps the warning.
TEST_CFLAGS := -Wno-null-dereference -Wno-stringop-overread

BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=address,undefined
else
ALL_CFLAGS += -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_LDFLAGS += -pie -Wl,-z,relro,-z,now
endif

LIB_SRC   := $(sort $(wildcard src/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
AGENT_SRC := $(sort $(wildcard agent/*.c))
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

.PHONY: all check funclen fuzz vm-check vm-systemd-check install uninstall clean deps cppcheck bench deb rpm pkg-check
all: $(BUILD)/overcommitd

# The commit-refusal capture: a CO-RE BPF object, built against
# the few kernel fields bpf/refusal.bpf.c declares itself (no vmlinux.h, no
# dependency on the build host's kernel), embedded as a libbpf skeleton.
BPF_CLANG ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BPF_ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)
$(BUILD)/bpf/refusal.bpf.o: bpf/refusal.bpf.c bpf/refusal_abi.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(BPF_ARCH_INC) -Ibpf -Wall -Werror -c -o $@ $<
$(BUILD)/bpf/refusal.skel.h: $(BUILD)/bpf/refusal.bpf.o
	$(BPFTOOL) gen skeleton $< name refusal_bpf > $@.tmp && mv $@.tmp $@
$(BUILD)/src/refusal_bpf.o: $(BUILD)/bpf/refusal.skel.h

$(BUILD)/liboc.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/overcommitd: $(AGENT_OBJ) $(BUILD)/liboc.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(AGENT_OBJ) $(BUILD)/liboc.a $(LIBS)

# Header dependencies: the compiler writes $(DEPDIR)/<source>.d (-MMD) with a
# phony target per header (-MP, so a removed header breaks nothing).  Each
# output also depends on its .d file: one that is missing (a build directory
# from before this rule) makes the output rebuild once.
DEPDIR := $(BUILD)/deps
DEPFLAGS = -MMD -MP -MF $(DEPDIR)/$(SRCNAME).d
DEPFILES := $(patsubst %.c,$(DEPDIR)/%.d,$(LIB_SRC) $(AGENT_SRC) $(TEST_SRC) $(HELPER_SRC))
$(DEPFILES):

$(BUILD)/%.o: SRCNAME = $*
$(BUILD)/%.o: %.c $(DEPDIR)/%.d
	@mkdir -p $(dir $@) $(dir $(DEPDIR)/$*)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/tests/%: SRCNAME = tests/unit/$*
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liboc.a $(DEPDIR)/tests/unit/%.d
	@mkdir -p $(dir $@) $(DEPDIR)/tests/unit
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/liboc.a $(LIBS) -lcmocka

# small programs the CLI and VM tests run (forkers, allocators); no library
# but libseccomp for one
$(BUILD)/tests/helpers/%: SRCNAME = tests/helpers/$*
$(BUILD)/tests/helpers/%: tests/helpers/%.c $(DEPDIR)/tests/helpers/%.d
	@mkdir -p $(dir $@) $(DEPDIR)/tests/helpers
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(HELPER_LIBS)
# the fault injector's seccomp filter (tests/helpers/sysfault.c)
$(BUILD)/tests/helpers/sysfault: HELPER_LIBS = -lseccomp

include $(wildcard $(DEPFILES))

# make check: every unit test, then the real binary against fixture trees.
check: $(BUILD)/overcommitd $(TEST_BIN) $(HELPER_BIN)
	@BUILD=$(BUILD) sh tests/run-tests.sh $(TEST_BIN)

# libFuzzer targets (clang), each run for FUZZ_SECONDS
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
# the library is compiled once (coverage-instrumented) for every target
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DOVERCOMMITD_VERSION='"$(VERSION)"' -g -O1 -Isrc -I$(BUILD)/bpf $(INI_CFLAGS) $(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:src/%.c=build-fuzz/obj/%.o)
$(FUZZ_OBJ): build-fuzz/obj/%.o: src/%.c $(wildcard src/*.h) $(BUILD)/bpf/refusal.skel.h
	@mkdir -p build-fuzz/obj
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(FUZZ_BIN): build-fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJ) $(LIBS)
# one run per target, so that `make -j2 fuzz` fuzzes two at a time
FUZZ_RUN := $(FUZZ_BIN:build-fuzz/%=fuzz-run-%)
.PHONY: $(FUZZ_RUN)
fuzz: $(FUZZ_RUN)
$(FUZZ_RUN): fuzz-run-%: build-fuzz/%
	@mkdir -p build-fuzz/corpus-$*
	@echo "fuzz: $* for $(FUZZ_SECONDS)s"
	@build-fuzz/$* -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build-fuzz/corpus-$* tests/fuzz/seeds/$* 2>build-fuzz/$*.log \
	  || { tail -n 40 build-fuzz/$*.log; exit 1; }
	@echo "fuzz: $* $$(grep -E '^(#[0-9]+ *DONE|Done)' build-fuzz/$*.log | tail -n 1)"

vm-check: $(BUILD)/overcommitd $(HELPER_BIN)
	BUILD=$(BUILD) sh tests/vm/run.sh

# a Debian 12 guest with systemd as PID 1: the .deb installed and run for real
vm-systemd-check:
	BUILD=$(BUILD) sh tests/vm/systemd/run.sh

# benchmarks (BENCHMARKS.md): not part of CI; about 14 minutes here
bench: $(BUILD)/overcommitd $(BUILD)/liboc.a $(HELPER_BIN)
	BUILD=$(BUILD) sh bench/run.sh

# function lengths: exits 1 when one in src/ has 70 lines or more
funclen:
	@sh tests/funclen.sh

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --std=c11 -D_GNU_SOURCE -Isrc src agent tests/helpers

deps:
	sh packaging/install-build-deps.sh

install: $(BUILD)/overcommitd
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/overcommitd/policies.d \
	  $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/overcommitd $(DESTDIR)$(SBINDIR)/overcommitd
	# never overwrite a policy the operator already has
	for f in policies/*.ini; do \
	  t=$(DESTDIR)$(SYSCONFDIR)/overcommitd/policies.d/$$(basename $$f); \
	  [ -e "$$t" ] || install -m 0644 $$f "$$t"; \
	done
	install -m 0644 policies/examples/*.ini $(DESTDIR)$(DOCDIR)/examples/
	# the unit is installed, never enabled here (the packages do that)
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR)
	install -m 0644 packaging/man/overcommitd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/man/overcommitd.policy.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/systemd/overcommitd.service $(DESTDIR)$(UNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/overcommitd
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man8/overcommitd.8 $(DESTDIR)$(MANDIR)/man5/overcommitd.policy.5 \
	  $(DESTDIR)$(UNITDIR)/overcommitd.service

# packages, built in a copy under $(BUILD)/pkg (packaging/build-*.sh)
deb:
	BUILD=$(BUILD) sh packaging/build-deb.sh
rpm:
	BUILD=$(BUILD) sh packaging/build-rpm.sh
pkg-check:
	@BUILD=$(BUILD) sh tests/packaging/run.sh

clean:
	rm -rf build build-san build-fuzz
