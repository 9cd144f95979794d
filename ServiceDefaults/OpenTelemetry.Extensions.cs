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

        // In the container, where a test can ask it which requests would be traced.
        builder.Services.AddSingleton<Sampler>(new ParentBasedSampler(new RequestsStartTracesSampler(TraceRatio(builder))));
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // The same instruments, served for Prometheus to scrape from the management port.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .SetSampler(services => services.GetRequiredService<Sampler>())
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

    /// <summary>The setting, named as OpenTelemetry names it, for the share of requests that are traced.</summary>
    public const string TraceRatioSetting = "OTEL_TRACES_SAMPLER_ARG";

    /// <summary>
    /// Every request in Development, where the dashboard is for looking at each one; elsewhere the share
    /// <see cref="TraceRatioSetting"/> gives, all of them unless it says otherwise.
    /// </summary>
    private static double TraceRatio(IHostApplicationBuilder builder)
    {
        var setting = builder.Configuration[TraceRatioSetting];
        if (builder.Environment.IsDevelopment() || string.IsNullOrWhiteSpace(setting))
        {
            return 1;
        }

        return double.TryParse(setting, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
            ? ratio
            : throw new InvalidOperationException($"{TraceRatioSetting} is the share of requests to trace, from 0 to 1, not '{setting}'.");
    }

    /// <summary>
    /// Only a request that reaches the service starts a trace, and a request is traced by the share of trace
    /// ids the ratio gives; what runs on its behalf joins its trace or stays out with it. Work nobody asked for
    /// (health checks' PINGs, background scans, cache eviction) would otherwise fill the dashboard with root
    /// spans of its own, burying the requests. Deciding by trace id keeps whole traces across services.
    /// </summary>
    private sealed class RequestsStartTracesSampler(double ratio) : Sampler
    {
        private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

        private readonly TraceIdRatioBasedSampler requests = new(ratio);

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            samplingParameters.Kind is ActivityKind.Server or ActivityKind.Consumer ? requests.ShouldSample(samplingParameters) : Dropped;
    }
}
