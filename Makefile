# rotor's build, test and lint entry points (the README and .ci/run use them).

GO          ?= go
STATICCHECK ?= staticcheck
BIN         ?= bin/rotor
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS     := -X github.com/rotorhq/rotor/internal/cli.version=$(VERSION)

.PHONY: build test lint bench demo clean

## build: the rotor binary in bin/, with its version stamped in (lambda.norpc
## leaves out aws-lambda-go's RPC mode, which only the retired go1.x runtime
## used, and its package initialisation)
build:
	$(GO) build -tags lambda.norpc -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rotor

## test: every test, including the CLI scripts and the secret-leak check
test:
	$(GO) test ./...

## lint: gofmt, go vet and staticcheck must all be clean
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

## bench: the benchmarks, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: create a secret and rotate it on a throwaway embedded store
demo: build
	ROTOR=$(BIN) scripts/demo.sh

clean:
	rm -rf bin

# ---- AWS Lambda packaging (internal/lambda, deploy/) --------------------------
# Maintained with internal/lambda; see deploy/README.md.

LAMBDA_DIST  ?= dist
LAMBDA_ARCHS ?= arm64,amd64
LAMBDA_IMAGE ?= rotor-lambda:$(VERSION)

.PHONY: lambda-zip lambda-image lambda-clean

## lambda-zip: dist/rotor-lambda-{arm64,amd64}.zip, each a stripped static bootstrap for provided.al2023
lambda-zip:
	$(GO) run ./scripts/lambdazip -out $(LAMBDA_DIST) -arch $(LAMBDA_ARCHS) -ldflags "$(LDFLAGS)"

## lambda-image: the container-image function (needs Docker; not run by the tests)
lambda-image:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t $(LAMBDA_IMAGE) .

lambda-clean:
	rm -rf $(LAMBDA_DIST)
# ---- end of AWS Lambda packaging ---------------------------------------------

# ---- Container image (scripts/image, deploy/) ---------------------------------

IMAGE_ARCHS ?= amd64,arm64
IMAGE_TAG   ?= $(VERSION)
IMAGE_PUSH  ?=
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: image

## image: dist/image (OCI layout) and dist/rotor-image.tar, linux/amd64 and linux/arm64, without Docker; IMAGE_PUSH=REF also pushes
image:
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./scripts/image -o $(LAMBDA_DIST)/image -tar $(LAMBDA_DIST)/rotor-image.tar \
	  -arch $(IMAGE_ARCHS) -tag $(IMAGE_TAG) -version $(VERSION) -ldflags "$(LDFLAGS)" $(if $(IMAGE_PUSH),-push $(IMAGE_PUSH))
