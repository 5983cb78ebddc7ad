package logs

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelzap"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// OTLPConfig ships the entries to an OTLP/HTTP logs endpoint.
type OTLPConfig struct {
	// Endpoint is the collector's URL, http or https; a URL without a path
	// gets the standard /v1/logs.
	Endpoint string
	// Node is the node's ID, sent as the resource's service.instance.id.
	Node string
	// Interval is how often batches are sent (default 5 s).
	Interval time.Duration
}

// OTLP is a running OTLP exporter.
type OTLP struct {
	*Exporter
	provider *sdklog.LoggerProvider
}

// NewOTLP starts an exporter: entries are batched in memory and sent every
// Interval (or when a batch is full) as protobuf over HTTP, by the
// OpenTelemetry SDK, through its zap bridge. Nothing is sent until
// SetExporter is given it.
func NewOTLP(ctx context.Context, cfg OTLPConfig) (*OTLP, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp endpoint %q: want an http or https URL", cfg.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/logs"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "strata"),
		attribute.String("service.instance.id", cfg.Node),
	)
	provider := sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithExportInterval(cfg.Interval))),
	)
	core := otelzap.NewCore("github.com/stratavideo/strata", otelzap.WithLoggerProvider(provider))
	return &OTLP{Exporter: NewExporter(core), provider: provider}, nil
}

// Shutdown sends what is waiting and stops the exporter.
func (o *OTLP) Shutdown(ctx context.Context) error {
	ClearExporter(o.Exporter)
	if err := o.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("otlp shutdown: %w", err)
	}
	return nil
}
