# syntax=docker/dockerfile:1
# bosun's container image: a static binary on distroless, running as a non-root user.
#
# Not built by this repository's tests or CI: the environment they run in has no image registry
# to pull the base images from. Build it where one is reachable:
#
#   docker build -t bosun:dev \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse HEAD) .
#
# and load it into the cluster (kind load docker-image bosun:dev, or push it to a registry and
# change the image in examples/deploy/base/deployment.yaml).

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
    -ldflags "-s -w -X github.com/bosun-dev/bosun/internal/cli.version=${VERSION} -X github.com/bosun-dev/bosun/internal/cli.commit=${COMMIT}" \
    -o /out/bosun .

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/bosun /bosun
# distroless' nonroot user; the Deployment also sets runAsNonRoot.
USER 65532:65532
ENTRYPOINT ["/bosun"]
