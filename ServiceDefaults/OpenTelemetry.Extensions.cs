using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

public static partial class Extensions
{
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // The same instruments, served for Prometheus to scrape from the management port.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new RequestsStartTracesSampler()))
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    // Probes and scrapes arrive every few seconds and say nothing about the service's work.
                    aspNetCore.Filter = context => !IsManagementPath(context.Request.Path))
                .AddHttpClientInstrumentation());

        // The dashboard (or any collector) announces itself through the standard variable;
        // without it the service exports nothing and still serves /metrics.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Only a request that reaches the service starts a trace; what runs on its behalf joins it. Work nobody
    /// asked for (health checks' PINGs, background scans, cache eviction) would otherwise fill the
    /// dashboard with root spans of its own, burying the requests.
    /// </summary>
    private sealed class RequestsStartTracesSampler : Sampler
    {
        private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
        private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            samplingParameters.Kind is ActivityKind.Server or ActivityKind.Consumer ? Sampled : Dropped;
    }
}
