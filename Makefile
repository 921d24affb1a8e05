# SPDX-License-Identifier: GPL-2.0
#
# Thin names for the scripts in scripts/.  The module itself is the standard
# out-of-tree Kbuild flow: make -C $(KDIR) M=$(CURDIR).
#
#   make            build seqsplice.ko against KDIR (default: the cached kernel)
#   make demo       build, boot a guest, splice from trace, show stats
#   make consumer   the test consumers of the exported API (tests/consumer)
#                   against every kernel, into build/consumer/{release,debug,batched}
#   make check      everything: deps, kernels, clippy + rustfmt, host tests, install
#                   and dkms tests, the guest suites on the release and the debug
#                   kernel, a short plan on the batched one (upstream/'s series);
#                   ends with a table of the guest steps and their times
#   make soak       what is too long for make check (Documentation/testing.rst):
#                   the release plan on the debug kernel, then a long fuzzer run
#   make bench      benchmark report into bench/results/
#   make bench NATIVE=1   the same sweep on the running kernel, as root
#                   (scripts/native-bench.sh): bench/results/<date>-hardware.*
#   make modules_install | install    seqsplice.ko into
#                   $(INSTALL_MOD_PATH)/lib/modules/<KDIR's release>/extra, then depmod
#   make uninstall  remove it again, then depmod
#
# KDIR=/path/to/your/rust-enabled/kernel/build to use your own kernel; it must
# have been built with the same LLVM/RUSTC settings (scripts/env.sh).
# NATIVE=1: KDIR defaults to the running kernel's /lib/modules/$(uname -r)/build,
# built with the toolchain that kernel names (scripts/native-bench.sh
# --build-only), and no cached kernel, QEMU or package is needed.

# rustup's cargo (host tests, tools) and cargo-installed bindgen.
export PATH := $(HOME)/.cargo/bin:$(PATH)

FLAVOUR ?= release
export FLAVOUR
ifeq ($(NATIVE),1)
KDIR ?= /lib/modules/$(shell uname -r)/build
export KDIR
endif
KDIR ?= $(shell scripts/kernel.sh --dir)
DEBUG_KDIR = $(shell FLAVOUR=debug scripts/kernel.sh --dir)
BATCHED_KDIR = $(shell FLAVOUR=batched scripts/kernel.sh --dir)
RUSTC ?= /usr/bin/rustc
KVARS = LLVM=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
	CLIPPY_DRIVER=/usr/bin/clippy-driver BINDGEN=$(HOME)/.cargo/bin/bindgen
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KVARS)

PHONY_DEBUG = debug-kernel debug-module batched-kernel batched-module
.PHONY: $(PHONY_DEBUG) all modules deps kernel clippy fmt fmt-check clean rust-analyzer tools \
	host-test runner-test layers-test install-test dkms-test selftests demo check bench soak soak-fuzz \
	modules_install install uninstall consumer

ifeq ($(NATIVE),1)
all modules:
	scripts/native-bench.sh --build-only
else
all modules: kernel
	$(KMAKE) modules
endif

# The kernel's own M= modules_install (it signs and compresses the module
# as that kernel is configured to, and strips it with INSTALL_MOD_STRIP=1),
# into extra/ rather than its default updates/; INSTALL_MOD_PATH (or
# DESTDIR) stages it under another root.
# depmod runs again here because the kernel's skips itself where the build
# tree has no System.map, as distributions' headers packages do not.
INSTALL_MOD_PATH ?= $(DESTDIR)
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release)
MOD_DIR = $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/extra
DEPMOD = PATH="$$PATH:/sbin:/usr/sbin" depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)

modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		modules_install
	$(DEPMOD)

install: modules_install

uninstall:
	rm -f $(foreach s,ko ko.gz ko.xz ko.zst,$(MOD_DIR)/seqsplice.$(s))
	if [ -d $(MOD_DIR) ]; then rmdir --ignore-fail-on-non-empty $(MOD_DIR); fi
	if [ -d $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE) ]; then $(DEPMOD); fi

deps:
	scripts/deps.sh

# The debug flavour (KASAN, lockdep, kmemleak, fault injection; see
# scripts/kconfig/debug.config) builds the same sources in build/debug so
# both flavours' objects and generated bindings coexist.
debug-kernel: deps
	FLAVOUR=debug scripts/kernel.sh

# The module's sources copied into build/<flavour> and built there against
# that flavour's kernel.
define flavour_module # flavour, KDIR
	mkdir -p build/$(1)
	rsync -r --checksum --delete --exclude bindings_generated.rs --exclude '*.o' \
		--exclude '.*.cmd' --exclude '*.ko' --exclude '*.mod*' --exclude '*.symvers' \
		Kbuild src include build/$(1)/
	$(MAKE) -C $(2) M=$(CURDIR)/build/$(1) $(KVARS) modules
endef

debug-module: debug-kernel
	$(call flavour_module,debug,$(DEBUG_KDIR))

# The batched flavour: the release configuration on the 6.12 source with
# the seq_file series of upstream/ applied (a source copy and a kernel
# cached apart, keyed by the series' diffs: scripts/env.sh), the module in
# build/batched; make check boots it with a short plan (batched in
# scripts/guest/check.sh).
batched-kernel: deps
	FLAVOUR=batched scripts/kernel.sh

batched-module: batched-kernel
	$(call flavour_module,batched,$(BATCHED_KDIR))

kernel: deps
	scripts/kernel.sh

# The test consumers of the exported API (tests/consumer, include/seqsplice.h)
# for each flavour, against that flavour's kernel and seqsplice.ko (its
# Module.symvers), from a copy of the sources (as debug-module does, so the
# flavours' objects coexist): build/consumer/<flavour>/seqsplice_consumer.ko
# and seqsplice_bench.ko (make bench's C seq_file, tests/consumer), and
# seqsplice_noimport.ko in noimport/ below it, alone, with modpost's -N: it
# lacks MODULE_IMPORT_NS(SEQSPLICE), which modpost otherwise refuses
# ("uses symbol ... but does not import it"). 6.12's Makefile.modpost passes
# -N only for CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS (or nsdeps'
# KBUILD_NSDEPS; KBUILD_MODPOST_WARN's -w covers undefined symbols, not
# namespaces), per modpost run, hence the run of its own. The guest carries
# both in /consumer (scripts/guest.sh); the kernel's loader must refuse the
# second. tests/consumer/modinfo.sh checks what modpost recorded.
CONSUMER_KMAKE = $(KVARS) SEQSPLICE_INCLUDE=$(CURDIR)/include
define consumer_build # flavour, KDIR, seqsplice's Module.symvers
	mkdir -p build/consumer/$(1)/noimport
	rsync --checksum tests/consumer/Kbuild tests/consumer/seqsplice_consumer.c \
		tests/consumer/seqsplice_bench.c build/consumer/$(1)/
	rsync --checksum tests/consumer/Kbuild tests/consumer/seqsplice_noimport.c \
		build/consumer/$(1)/noimport/
	$(MAKE) -C $(2) M=$(CURDIR)/build/consumer/$(1) $(CONSUMER_KMAKE) \
		KBUILD_EXTRA_SYMBOLS=$(3) modules
	$(MAKE) -C $(2) M=$(CURDIR)/build/consumer/$(1)/noimport $(CONSUMER_KMAKE) \
		KBUILD_EXTRA_SYMBOLS=$(3) SSC_MODULE=noimport \
		CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y modules
	tests/consumer/modinfo.sh build/consumer/$(1)
endef

consumer: modules debug-module batched-module
	$(call consumer_build,release,$(KDIR),$(CURDIR)/Module.symvers)
	$(call consumer_build,debug,$(DEBUG_KDIR),$(CURDIR)/build/debug/Module.symvers)
	$(call consumer_build,batched,$(BATCHED_KDIR),$(CURDIR)/build/batched/Module.symvers)

# Warnings are errors here (-Dwarnings), with the kernel's clippy lints.
clippy: kernel
	$(KMAKE) CLIPPY=1 KRUSTFLAGS=-Dwarnings modules

# The module's Rust sources (the generated bindings are not formatted).
RUST_SRCS = $(filter-out src/ffi/bindings_generated.rs,$(wildcard src/*.rs src/*/*.rs src/*/*/*.rs))

fmt:
	/usr/bin/rustfmt --edition 2021 --config-path $(KDIR)/source/.rustfmt.toml $(RUST_SRCS)
fmt-check:
	/usr/bin/rustfmt --check --edition 2021 $(RUST_SRCS)
	cd tests/host && cargo fmt --check
	cd tools/ssfuzz && cargo fmt --check
	cd tools/spbench && cargo fmt --check
	cd tools/model && cargo fmt --check
	cd tools/evcheck && cargo fmt --check

rust-analyzer: kernel
	KDIR=$(KDIR) scripts/rust-analyzer.sh

host-test:
	cd tests/host && cargo test --quiet
	cd tools/ssfuzz && cargo test --quiet
	cd tools/model && cargo test --quiet
	cd tools/evcheck && cargo test --quiet

# Userspace tools for the guest, static so the initramfs needs no libraries.
TOOL_CARGO = RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --quiet \
	--target x86_64-unknown-linux-gnu --manifest-path
tools:
	mkdir -p build/tools
	$(TOOL_CARGO) tools/ssfuzz/Cargo.toml
	cp tools/ssfuzz/target/x86_64-unknown-linux-gnu/release/ssfuzz build/tools/
	$(TOOL_CARGO) tools/spbench/Cargo.toml
	cp tools/spbench/target/x86_64-unknown-linux-gnu/release/spbench build/tools/
	$(TOOL_CARGO) tools/evcheck/Cargo.toml
	cp tools/evcheck/target/x86_64-unknown-linux-gnu/release/evcheck build/tools/

# Every guest test binary (tests/selftests/Makefile), copied to /tests.
selftests: kernel
	$(MAKE) -C tests/selftests KSRC=$(KDIR)/source O=$(CURDIR)/build/selftests

demo: deps modules
	scripts/guest.sh demo

runner-test:
	tests/runner/run.sh

# Imports point down the layers, unsafe only in src/ffi and src/kernel_ext
# (scripts/check-layers.sh), and the checker's own failure detection.
layers-test:
	scripts/check-layers.sh
	tests/layers/run.sh

# make modules_install / uninstall staged in a temporary INSTALL_MOD_PATH.
install-test: modules
	tests/install/run.sh

# dkms.conf, through the real dkms, staged in a temporary tree against the
# cached kernel; and its BUILD_EXCLUSIVE refusals.
dkms-test: modules
	tests/dkms/run.sh

# The guests: the release and the debug kernel's check boots side by side,
# each step shown as it ends, the native report made on the host from the
# release log (the guest has no python3), the table of every step's time.
check: deps clippy fmt-check host-test runner-test layers-test install-test dkms-test selftests tools \
		debug-module batched-module consumer
	scripts/check-guests.sh

ifeq ($(NATIVE),1)
# The running kernel, as root; builds what it needs itself.
bench:
	scripts/native-bench.sh
else
bench: deps modules tools
	scripts/bench.sh
endif

# make soak: the long runs kept out of make check (Documentation/testing.rst).
# First the release kernel's plan on the debug kernel (every suite in every
# map mode, the fuzzer at full volume, under KASAN, lockdep and KFENCE),
# then a long fuzzer run on the release kernel: make soak-fuzz OPS=2000000
# [SEED=n] alone (a seed replays a failure).
OPS ?= 2000000
soak: deps tools selftests debug-module consumer
	FLAVOUR=debug TIMEOUT=$${TIMEOUT:-5400} APPEND="seqsplice.plan=full" scripts/guest.sh check
	$(MAKE) soak-fuzz
soak-fuzz: deps modules tools
	TIMEOUT=$${TIMEOUT:-7200} APPEND="seqsplice.ops=$(OPS) $(if $(SEED),seqsplice.seed=$(SEED))" \
		scripts/guest.sh fuzz

clean:
	$(KMAKE) clean
	rm -rf build rust-project.json
