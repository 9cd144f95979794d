using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every service in this system shares: OpenTelemetry, health checks, service discovery,
/// resilient HTTP clients and the management endpoints that orchestrators and Prometheus call.
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

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Liveness only asks whether the process answers; dependencies belong to readiness, so that an
        // outage of the store takes the instance out of rotation without getting it restarted.
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c>, <c>/alive</c> and <c>/metrics</c> on the management port only.
    /// Call it right after building the app, before the middleware that guards the public API.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseManagementPortIsolation();
        app.MapManagementEndpoints();

        return app;
    }
}
