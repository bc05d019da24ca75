# Sessionguard. `make test` is everything CI checks; `make run` starts it.
GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
export GOFLAGS ?= -buildvcs=false
export LANG := en_US.UTF-8
DATA_DIR ?= $(HOME)/.local/share/sessionguard

.PHONY: test check deps lint fmt-check vet staticcheck mobile-vet web-vet unit bench fuzz run sessiond

## test: install what is missing, then lint and run every test with -race
test: deps lint unit smoke idle webtest portability

## check: the fast inner loop: gofmt, vet, staticcheck and every test once,
## without -race, the phone builds, packaging or the real window (a few
## minutes on a warm build cache). make test is what CI runs.
check: deps fmt-check vet staticcheck
	scripts/with-keyring.sh $(GO) test -count=1 ./...

deps:
	@scripts/deps.sh base keyring fyne window postgres

lint: fmt-check vet staticcheck mobile-vet web-vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	staticcheck ./...

## mobile-vet: the packages phones share (no Fyne, so no NDK or Xcode needed)
## must keep compiling for Android and iOS, including platform's
## android||ios secret store
MOBILE_PKGS := ./api ./client ./app ./platform ./server/...
mobile-vet:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) vet $(MOBILE_PKGS)
	GOOS=ios GOARCH=arm64 CGO_ENABLED=1 $(GO) vet $(MOBILE_PKGS)

## web-vet: the web build (GOOS=js) compiles and passes staticcheck; its
## tests can't run here (they need the server, which has no js port), so
## -tests=false, and U1000 is off: helpers of other systems' files are
## unused in a browser
WEB_PKGS := . ./browser ./ui ./app ./client ./api ./platform ./launch
web-vet:
	GOOS=js GOARCH=wasm $(GO) build -o /dev/null .
	GOOS=js GOARCH=wasm staticcheck -tests=false -checks inherit,-U1000 $(WEB_PKGS)

## unit: every test, inside a private D-Bus session with an unlocked
## gnome-keyring so the keyring tests use a real Secret Service, and with
## throwaway PostgreSQL servers (server/store/postgres/pgtest) that must
## start: the PostgreSQL tests fail rather than skip
unit:
	SESSIONGUARD_REQUIRE_POSTGRES=1 scripts/with-keyring.sh $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestStreamStack$$' ./server   # stack sizes: measured without -race

## crash: the real sessiond killed with SIGKILL under concurrent load, four
## rounds on SQLite and on a throwaway PostgreSQL, checking that nothing it
## acknowledged is lost or undone (cmd/sgcrash; SEED=N replays a run)
.PHONY: crash
crash:
	@scripts/deps.sh base postgres
	$(GO) run ./cmd/sgcrash $(if $(SEED),--seed $(SEED))

## load: the figures of docs/PERFORMANCE.md: cmd/sgload seeds SQLite and a
## throwaway PostgreSQL, runs the real sessiond on loopback and measures
## GET /v1/me, large list pages, revoke -> session.revoked with 1,000 and
## 10,000 open streams, memory, sign-in cost, GET /v1/me under a flood of bad
## sign-ins, and write cost at synchronous=FULL and NORMAL (about 9 minutes;
## the report goes to build/load/, LOAD_ARGS adds sgload flags)
.PHONY: load
load:
	@scripts/deps.sh base postgres
	@mkdir -p build/load
	$(GO) run ./cmd/sgload --db sqlite,postgres --out build/load/report.md --json build/load/results.json $(LOAD_ARGS)
	@cat build/load/report.md

## fuzz: run each request-decoder fuzz target for a short while
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeLogin -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeRemembered -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeSmallBodies -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzSessionCursor -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzSecondFactorCode -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeClosure -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzEndedCursor -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeRules -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDecodeApprovals -fuzztime $(FUZZTIME)
	$(GO) test ./api/auditchain -run '^$$' -fuzz FuzzReadExport -fuzztime $(FUZZTIME)
	$(GO) test ./api/dpop -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./server -run '^$$' -fuzz FuzzDPoPHeaders -fuzztime $(FUZZTIME)

## bench: the figures quoted in README.md
bench:
	$(GO) test ./server/... -run '^$$' -bench . -benchmem

## run: open the app (with its own embedded server); RUN_ARGS="--demo" adds the demo account
run:
	@scripts/deps.sh fyne
	$(GO) run . $(RUN_ARGS)

## sessiond: run the standalone server with open sign-up
sessiond:
	$(GO) run ./cmd/sessiond serve --open-registration --db $(DATA_DIR)/sessiond.db

.PHONY: smoke screenshots idle

## smoke: the real app in a real window under Xvfb, at phone size (440x760)
## and desktop size (1280x800): sign in, home, Login activity, a device,
## Security activity, Settings, quit, with screenshots of each and checks in
## build/smoke; see scripts/smoke.sh
smoke:
	@scripts/deps.sh fyne window keyring
	scripts/smoke.sh build/smoke

## idle: the real app under Xvfb, signed in and left alone on home and on
## Login activity: its CPU (% of one core) and wake-ups per second, against
## a bare Fyne window's (Fyne's own event loop); fails when the app idles
## at 0.5 % of a core or more above that floor (issue 19). make test
## samples 15 s each (SIDLE_SECONDS); scripts/idle.sh alone, 30 s. Figures
## in build/idle/idle.txt
SIDLE_SECONDS ?= 15
idle:
	@scripts/deps.sh fyne window keyring
	SIDLE_SECONDS=$(SIDLE_SECONDS) scripts/idle.sh build/idle

## screenshots: the same run, keeping its screenshots for README.md
screenshots:
	@scripts/deps.sh fyne window keyring
	scripts/smoke.sh docs/screenshots

.PHONY: web webtest

## web: the app built for browsers (GOOS=js GOARCH=wasm), packed by
## cmd/sgweb into web/dist: content-hashed names, a .gz and a .br copy of
## each file, manifest.json. sessiond embeds web/dist when it is built, so
## `go build ./cmd/sessiond` after this serves the app at /
## (`sessiond serve --web-dir web/dist` serves a fresh pack without a
## rebuild). Packing takes about 20 s on 2 cores, most of it Brotli.
web:
	@scripts/deps.sh base
	GOOS=js GOARCH=wasm $(GO) build -trimpath -tags release -ldflags='-s -w' -o build/web/sessionguard.wasm .
	$(GO) run ./cmd/sgweb --wasm build/web/sessionguard.wasm --wasm-exec $$($(GO) env GOROOT)/lib/wasm/wasm_exec.js --static web/static --icon Icon.png --out web/dist

## webtest: the web app in headless Chromium, served by the real sessiond
## (webtest/)
webtest: web
	@scripts/deps.sh base browser
	SESSIONGUARD_REQUIRE_BROWSER=1 $(GO) test -count=1 -v ./webtest

include mk/package.mk
