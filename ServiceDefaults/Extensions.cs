using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every service in this system shares: OpenTelemetry, health checks, service discovery, resilient
/// HTTP clients, the management endpoints that orchestrators and Prometheus call, transport security,
/// authentication and problem details, and the order of the middleware that applies them.
/// </summary>
public static partial class Extensions
{
    /// <summary>The tag a health check carries when it belongs in the liveness probe.</summary>
    public const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddManagementEndpoint();
        builder.AddDefaultTransportSecurity();
        builder.AddDefaultAuthentication();
        builder.AddDefaultProblemDetails();

        // Outside Development the console carries one JSON object per line, for log shippers.
        if (!builder.Environment.IsDevelopment())
        {
            builder.Logging.AddJsonConsole(console => console.IncludeScopes = true);
        }

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddServiceDefaultsResilience();
            http.AddServiceDiscovery();
        });

        // UseServiceDefaults places the rate limiter and the output cache; each service adds its own limits
        // and cache policies to them.
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOutputCache();

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Liveness only asks whether the process answers; dependencies belong to readiness, so that an
        // outage of one takes the instance out of rotation without getting it restarted.
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        // Readiness exported as a metric too, for alerts on an instance out of rotation. The first run waits
        // the publisher's default 5 s: at once, it would find the store's layout not yet known and log that
        // as an error on every start.
        builder.Services.AddSingleton<IHealthCheckPublisher, ReadinessMetric>();
        builder.Services.Configure<HealthCheckPublisherOptions>(options => options.Period = ReadinessMetric.Period);

        return builder;
    }

    /// <summary>The middleware every service runs, in the one order that keeps each of its promises.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        // First, so that the deadline counts from the moment the request enters.
        app.UseRequestDeadline(app.Services.GetRequiredService<TimeProvider>());

        // Before anything else, so that everything after it sees the client's real address and scheme.
        app.UseDefaultTransportSecurity();
        app.UseShutdownSafeRequestBodies();

        // Before anything that guards the public API: probes and scrapes carry no token, and a public port
        // never reaches them.
        app.UseManagementPortIsolation();
        app.MapManagementEndpoints();

        // Every error from here on is answered with problem details.
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseAuthentication();
        // After authentication, so that a caller with a token is limited by who it is rather than where it is;
        // before authorization, so that a flood of refused calls is limited too.
        app.UseRateLimiter();
        app.UseAuthorization();
        // After authorization, so that only callers allowed to read ever reach a cached answer.
        app.UseOutputCache();

        return app;
    }
}
