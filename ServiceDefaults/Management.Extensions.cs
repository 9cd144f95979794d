using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Where the management endpoints (health, liveness, metrics) listen.</summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>
    /// The port that serves the management endpoints and nothing else. The service must also listen on it
    /// (the AppHost adds it to the service's URLs; in a container it is one of <c>HTTP_PORTS</c>).
    /// </summary>
    [Range(1, 65535)]
    public int Port { get; set; }
}

/// <summary>Checks <see cref="ManagementOptions"/>' data annotations, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class ManagementOptionsValidator : IValidateOptions<ManagementOptions>;

public static partial class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";

    private static bool IsManagementPath(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath)
        || path.StartsWithSegments(AlivenessEndpointPath)
        || path.StartsWithSegments(MetricsEndpointPath);

    private static void AddManagementEndpoint<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ManagementOptions>()
            .BindConfiguration(ManagementOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ManagementOptions>, ManagementOptionsValidator>();
    }

    private static void MapManagementEndpoints(this WebApplication app)
    {
        // Probes and scrapers carry no token; what keeps these endpoints private is the port they live on.
        var management = app.MapGroup("")
            .WithMetadata(ManagementEndpointMarker.Instance)
            .ExcludeFromDescription()
            .AllowAnonymous();

        // Readiness: every registered check, the service's dependencies included.
        management.MapHealthChecks(HealthEndpointPath);

        // Liveness: only the checks that say the process itself is stuck.
        management.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag)
        });

        management.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
    }

    /// <summary>
    /// Answers 404 to a management endpoint reached through a public port, and to anything else reached
    /// through the management port. The check is on the socket's local port, not the Host header, which a
    /// caller controls and which a proxy in front of several replicas rewrites.
    /// </summary>
    private static void UseManagementPortIsolation(this WebApplication app)
    {
        var managementPort = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value.Port;

        app.Use((context, next) =>
        {
            var isManagementEndpoint = context.GetEndpoint()?.Metadata.GetMetadata<ManagementEndpointMarker>() is not null;
            var onManagementPort = context.Connection.LocalPort == managementPort;

            if (isManagementEndpoint != onManagementPort)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Status = StatusCodes.Status404NotFound, Title = "Not Found" },
                }).AsTask();
            }

            return next(context);
        });
    }

    private sealed class ManagementEndpointMarker
    {
        public static readonly ManagementEndpointMarker Instance = new();
    }
}
