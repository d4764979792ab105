# ferry - build, test, demo, bench, fuzz.
#
#   make              build ferry, libferry.a (build/)
#   make test         install missing Debian packages, build, run every test
#   make test SAN=1   the same under ASan + UBSan + LSan (build-san/)
#   make demo         generate CDP data and run the main job on LMDB
#   make bench        benchmarks against peers (see docs/benchmarks.md)
#   make fuzz         build and briefly run the libFuzzer targets (clang)

SAN ?= 0
ifeq ($(SAN),1)
  B       := build-san
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT     := -O1 -g
else
  B       := build
  SANFLAGS :=
  OPT     := -O2 -g
endif

CC      ?= cc
PKGS    := lmdb lua5.4 libcrypto libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CFLAGS  ?= $(OPT)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) $(SANFLAGS) \
              -Iinclude -Isrc $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -pthread -lm

MODULES ?= src/core src/json src/store src/store/lmdb src/migrate src/snapshot src/search
LIB_SRC := $(wildcard $(addsuffix /*.c,$(MODULES)))
CLI_SRC := $(wildcard src/cli/*.c)
SRV_SRC := $(wildcard src/server/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
SRV_OBJ := $(SRV_SRC:%.c=$(B)/%.o) $(B)/gen/web_assets.o
SRV_PKGS := libmicrohttpd libcurl
SRV_CFLAGS := $(shell pkg-config --cflags $(SRV_PKGS) 2>/dev/null)
SRV_LIBS := $(shell pkg-config --libs $(SRV_PKGS) 2>/dev/null)
WEB_FILES := $(sort $(wildcard src/server/web/*.html src/server/web/*.js src/server/web/*.css))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOLS   := $(B)/cdp-gen

.PHONY: all test demo bench fuzz clean deps check-deps
all: $(B)/libferry.a $(B)/ferry $(B)/ferryd $(TOOLS)

deps:
	@scripts/deps test

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libferry.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/ferry: $(CLI_OBJ) $(B)/libferry.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/src/server/%.o: src/server/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SRV_CFLAGS) -MMD -MP -c $< -o $@

$(B)/ferryd: $(SRV_OBJ) $(B)/libferry.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(SRV_LIBS) $(LDLIBS)

# The web page is embedded in ferryd: tools/embed.c turns the files of
# src/server/web/ into one C array each (no xxd on a bare Debian).
$(B)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

$(B)/gen/web_assets.c: $(B)/embed $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(B)/embed $@ $(WEB_FILES)

$(B)/gen/web_assets.o: $(B)/gen/web_assets.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/cdp-gen: examples/cdp/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lm

$(B)/tests/%: tests/unit/%.c $(B)/libferry.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -o $@ $< $(B)/libferry.a $(LDLIBS) $(TEST_LIBS)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) SAN=$(SAN)
	@B=$(B) tests/run

demo: deps
	@$(MAKE) --no-print-directory all SAN=$(SAN)
	@B=$(B) examples/demo.sh

bench:
	@scripts/deps bench
	@$(MAKE) --no-print-directory all
	@B=build bench/run

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz: deps
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  extra=""; [ $$n = fuzz_bulk ] && extra="src/server/h_bulk.c src/server/reply.c src/server/commitq.c src/server/tenant.c"; \
	  [ $$n = fuzz_mget ] && extra="src/server/h_mget.c src/server/reply.c src/server/tenant.c"; \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
	    $(PKG_CFLAGS) -o build-fuzz/$$n $$f $$extra $(filter-out src/cli/%,$(LIB_SRC)) $(PKG_LIBS) -lm -pthread || exit 1; \
	  mkdir -p build-fuzz/corpus-$$n; \
	  build-fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-20} build-fuzz/corpus-$$n tests/fuzz/seeds-$$n 2>&1 | tail -2 || exit 1; \
	done

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SRV_OBJ:.o=.d)
