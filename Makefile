# Makefile for vsim (PGXS).
#
# Every subsystem lives in its own directory under src/ and contributes its C
# files and one SQL fragment (src/<subsystem>/<subsystem>.sql).  The install
# script is concatenated from those fragments, vector first, so a new
# subsystem needs no change here; then come the filter-column operator
# classes of each index method, from one template (below).

EXTENSION = vsim
EXTVERSION = 0.3.0

SUBSYSTEMS = vector $(sort $(filter-out vector,$(notdir $(wildcard src/*))))
SQL_FRAGMENTS = $(foreach s,$(SUBSYSTEMS),$(wildcard src/$(s)/$(s).sql))

MODULE_big = vsim
OBJS = src/vsim.o $(patsubst %.c,%.o,$(sort $(wildcard src/*/*.c)))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# Earlier versions' install scripts, frozen, and the upgrade scripts from each
# to the next (ALTER EXTENSION vsim UPDATE).
DATA = $(wildcard upgrade/$(EXTENSION)--*.sql)

# pg_regress: every file in sql/ is a test, run in name order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

# Kernels pick their instruction set at run time (see src/vector/distance.c);
# the build itself targets the baseline ISA only.
PG_CPPFLAGS = -I$(srcdir)/src -std=gnu99 -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = $(VSIM_SHLIB_LINK)

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out build

# No LLVM bitcode: JIT inlining of the kernels buys nothing and doubles the
# build time.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies here: rebuild every object when any
# subsystem header changes (layouts are shared across files).
$(OBJS): $(wildcard src/*.h src/*/*.h)

# The filter-column operator classes are the same for every vector index
# method: one template, made for each (@AM@ replaced by the method's name).
FILTER_OPS_TEMPLATE = src/index/filter_ops.sql.in
FILTER_OPS_AMS = hnsw ivfflat

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS) $(FILTER_OPS_TEMPLATE)
	cat $(SQL_FRAGMENTS) > $@
	for am in $(FILTER_OPS_AMS); do sed "s/@AM@/$$am/g" $(FILTER_OPS_TEMPLATE) >> $@; done

# Per-subsystem make fragments (extra link flags and the like).
-include $(wildcard src/*/module.mk)

.PHONY: demo test
demo:
	./scripts/demo.sh
test:
	./scripts/test.sh

print-regress:
	@echo $(REGRESS)
