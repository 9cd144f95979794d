using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace UserService.Infrastructure;

/// <summary>Checks <see cref="RateLimitingOptions"/>' validation attributes, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>;

/// <summary>How many requests one caller may make per window, across every replica.</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests a caller may make within <see cref="Window"/>.</summary>
    [Range(1, int.MaxValue)]
    public int PermitLimit { get; set; } = 100;

    /// <summary>The window the limit applies to.</summary>
    [TimeSpanRange("00:00:00.001", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How finely a replica's own window slides, while it counts on its own because the store is away.</summary>
    [Range(1, 100)]
    public int SegmentsPerWindow { get; set; } = 4;

    /// <summary>
    /// How long a request waits for the store to grant its caller's permits before the replica counts on its
    /// own for a second. A slice takes a millisecond or two to grant; one that takes longer is not worth the
    /// request's time.
    /// </summary>
    [TimeSpanRange("00:00:00.001", "00:00:10")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromMilliseconds(100);
}

public static class CallerRateLimits
{
    /// <summary>
    /// Limits each caller (the token's subject or client id, else the client address) to
    /// <see cref="RateLimitingOptions.PermitLimit"/> requests per window, across every replica: the count is
    /// kept in the store (see <see cref="SharedRateLimiter"/>). A rejected call gets 429, a
    /// <c>Retry-After</c> header and problem details. Probes and scrapes on the management port are not limited.
    /// </summary>
    public static IHostApplicationBuilder AddCallerRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitingOptions>, RateLimitingOptionsValidator>();

        // The service defaults place the limiter after authentication; this is the limit it applies.
        builder.Services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<RateLimitingOptions>, IOptions<ManagementOptions>, IServiceProvider>((options, limits, management, services) =>
            {
                var managementPort = management.Value.Port;
                var window = limits.Value;
                options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Connection.LocalPort == managementPort
                        ? RateLimitPartition.GetNoLimiter("management")
                        : RateLimitPartition.Get(CallerOf(context), caller => new SharedRateLimiter(
                            caller,
                            window,
                            services.GetRequiredService<IConnectionMultiplexer>(),
                            TimeProvider.System,
                            new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
                            {
                                PermitLimit = window.PermitLimit,
                                Window = window.Window,
                                SegmentsPerWindow = window.SegmentsPerWindow,
                                QueueLimit = 0,
                            }))));

                // The middleware's default is 503, which would tell a client that the service is unwell.
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.OnRejected = async (context, cancellationToken) =>
                {
                    var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window.Window;
                    var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                    context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

                    var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                    await problems.WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context.HttpContext,
                        ProblemDetails =
                        {
                            Status = StatusCodes.Status429TooManyRequests,
                            Title = "Too many requests",
                            Detail = $"This caller may make {window.PermitLimit} requests per {window.Window.TotalSeconds:0.###} s. Retry after {seconds} s.",
                        },
                    });
                };
            });

        return builder;
    }

    /// <summary>Who is calling: the token's subject or client id when there is a valid one, else the address.</summary>
    private static string CallerOf(HttpContext context) =>
        Callers.IdOf(context.User) is { } caller
            ? $"caller:{caller}"
            : $"address:{context.Connection.RemoteIpAddress ?? IPAddress.None}";
}
