# Makefile for recgen: PGXS build plus the project's own entry points.
#
#   make demo    install what is missing, build, start the private cluster,
#                load the sample data and print how to connect
#   make test    the whole test suite (what .ci/run calls)
#   make stop    stop the private cluster (and the local LLM server)
#   make -s dsn  libpq connection string of the private cluster (DB=bank for
#                the banking scenario)
#
# The targets above work before pg_config exists: they install the Debian
# packages first and then re-enter make, which includes PGXS.

EXTENSION   = recgen
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\([^']*\)'/\1/p" recgen.control)
MODULE_big  = recgen

# One object per subsystem (see README "Source layout").
OBJS = \
	src/recgen.o \
	src/guc.o \
	src/sentiment.o \
	src/sentiment_lexicon.o \
	src/sentiment_text.o \
	src/sentiment_but.o \
	src/http.o \
	src/http_endpoints.o \
	src/llm.o \
	src/call_log.o \
	src/llm_limits.o \
	src/caller.o \
	src/llm_guc.o \
	src/engine_guc.o \
	src/model_refresh.o \
	src/model_build.o \
	src/model_events.o \
	src/model_cooc.o \
	src/model_content.o \
	src/model_popularity.o \
	src/model_customers.o \
	src/topk.o \
	src/neighbor_acc.o \
	src/neighbor_sink.o \
	src/spi_util.o \
	src/recommend.o \
	src/recommend_load.o \
	src/recommend_score.o \
	src/recommend_items.o \
	src/recommend_rank.o \
	src/recommend_customers.o \
	src/recommend_pool.o \
	src/model_cache.o \
	src/product_cache.o \
	src/category_index.o \
	src/profile_cache.o \
	src/catalog_names.o \
	src/catalog_generation.o \
	src/shmem.o \
	src/rules.o \
	src/video.o \
	src/webhook_sign.o \
	src/campaign_stats.o \
	src/job_http.o \
	src/worker_guc.o \
	src/worker_shmem.o \
	src/worker_launcher.o \
	src/worker_scheduler.o \
	src/worker_main.o \
	src/worker_common.o \
	src/worker_hooks.o \
	src/worker_status.o \
	src/jobs_sql.o \
	src/job_book.o \
	src/job_exec.o \
	src/job_values.o \
	src/job_actions.o \
	src/job_process.o

# Extension scripts (sql/README.md). Released versions' scripts are frozen
# files in sql/; the current version's install script and the upgrade from
# the last released version are built from sql/incremental and
# sql/idempotent by tools/build_sql.sh.
UPGRADE_FROM = 0.1.0
DATA_built  = sql/recgen--$(EXTVERSION).sql sql/recgen--$(UPGRADE_FROM)--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard sql/recgen--*.sql))
# VADER lexicon and emoji descriptions with their MIT notice (docs/sentiment.md)
DATA       += data/vader/recgen_vader_lexicon.txt \
	data/vader/recgen_vader_emoji.txt \
	data/vader/recgen_vader_LICENSE.txt

# pg_regress suites (sql/<name>.sql, expected/<name>.out), in order.
REGRESS      = init schema guc
REGRESS_OPTS = --dbname=recgen_regress --load-extension=recgen

PG_CONFIG  ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

CURL_CONFIG ?= curl-config
PG_CPPFLAGS = -DRECGEN_VERSION='"$(EXTVERSION)"' -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare \
	$(shell $(CURL_CONFIG) --cflags 2>/dev/null)
SHLIB_LINK  = $(shell $(CURL_CONFIG) --libs 2>/dev/null) -lcjson
# Set WERROR=1 (as .ci/run does) to turn warnings into errors.
ifeq ($(WERROR),1)
PG_CPPFLAGS += -Werror
endif
# Set ASAN=1 for an AddressSanitizer build (used by the test suite).
ifeq ($(ASAN),1)
PG_CPPFLAGS += -fsanitize=address -fno-omit-frame-pointer -O1
SHLIB_LINK  += -fsanitize=address
endif

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out

# recgen-render, the video helper program (render/): a program of its own
# because it links espeak-ng (GPL-3.0-or-later), which recgen.so never does
# (README "Licence"). Installed in the server's pkglibdir, where recgen's
# workers run helper programs from (docs/jobs.md, "process").
RENDER      = render/recgen-render
RENDER_OBJS = render/main.o render/report.o render/speech.o render/cues.o render/cards.o render/compose.o render/run.o
RENDER_CFLAGS = -O2 -g -D_GNU_SOURCE -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
ifeq ($(WERROR),1)
RENDER_CFLAGS += -Werror
endif
EXTRA_CLEAN += $(RENDER) $(RENDER_OBJS)

# The parts the built scripts are made of.
SQL_PARTS = $(wildcard sql/incremental/*/*.sql) $(wildcard sql/idempotent/*.sql)

PROJECT_TARGETS = demo test stop start dsn psql deps format private-install regress-list

ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "pg_config not found: run 'make demo' or 'make deps' first" >&2; exit 1
endif

all: $(RENDER)

$(RENDER): $(RENDER_OBJS)
	$(CC) $(RENDER_CFLAGS) -o $@ $(RENDER_OBJS) -lespeak-ng -lcjson -lcrypto -lm

render/%.o: render/%.c render/render.h
	$(CC) $(RENDER_CFLAGS) -c -o $@ $<

install: install-render
uninstall: uninstall-render
.PHONY: install-render uninstall-render
# an earlier build installed it in bindir, which the workers search first:
# a copy left there would shadow this one
install-render: $(RENDER)
	$(MKDIR_P) '$(DESTDIR)$(pkglibdir)'
	$(INSTALL_PROGRAM) $(RENDER) '$(DESTDIR)$(pkglibdir)/recgen-render'
	rm -f '$(DESTDIR)$(bindir)/recgen-render'
uninstall-render:
	rm -f '$(DESTDIR)$(pkglibdir)/recgen-render'

# Every object is rebuilt when any header changes (PGXS has no automatic
# dependencies here; a stale object against a changed struct crashes).
$(OBJS): $(wildcard src/*.h)
# recgen.version() is compiled in from recgen.control
src/recgen.o: recgen.control

sql/recgen--$(EXTVERSION).sql: $(SQL_PARTS) tools/build_sql.sh recgen.control
	tools/build_sql.sh install $(EXTVERSION) > $@

sql/recgen--$(UPGRADE_FROM)--$(EXTVERSION).sql: $(SQL_PARTS) tools/build_sql.sh recgen.control
	tools/build_sql.sh upgrade $(UPGRADE_FROM) $(EXTVERSION) > $@

.PHONY: $(PROJECT_TARGETS)

# Debian packages (only what is missing) and, where needed, the Python venv.
deps:
	@tools/deps.sh

# Build and install into the private copy of PostgreSQL under .pgdata/.
private-install: deps
	@tools/cluster.sh prepare
	@$(MAKE) -s --no-print-directory all
	@$(MAKE) -s --no-print-directory install DESTDIR="$(CURDIR)/.pgdata/pg" >/dev/null

start: private-install
	@tools/cluster.sh start

demo: start
	@tools/demo.sh

test: private-install
	@test/run.sh

stop:
	@tools/cluster.sh stop

dsn:
	@tools/cluster.sh dsn $(DB)

psql:
	@tools/cluster.sh psql $(DB)

format:
	clang-format -i --style=file src/*.c src/*.h

# test/run.sh reads the pg_regress list from here
regress-list:
	@echo $(REGRESS)
