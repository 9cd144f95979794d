using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Polly;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>
/// What the service does while its store is out of reach. Each Redis call is bounded by the client's own
/// timeout and fails at once when no connection is up (fail-fast backlog); a circuit breaker then stops
/// calling for a moment, and every request answers 503 with Retry-After instead of hanging or failing with 500.
/// </summary>
public static class StoreResilience
{
    public const string PipelineName = "user-store";

    /// <summary>How long a command may take before it counts as failed: under the 2 s a caller waits at most.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMilliseconds(1500);

    /// <summary>How long the breaker stays open: also what Retry-After tells a caller.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

    public static IHostApplicationBuilder AddStoreResilience(this IHostApplicationBuilder builder)
    {
        builder.Services.AddResiliencePipeline(PipelineName, pipeline => pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RedisConnectionException>().Handle<RedisTimeoutException>(),
            FailureRatio = 0.5,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(5),
            BreakDuration = BreakDuration,
        }));
        builder.Services.AddExceptionHandler<StoreUnavailableHandler>();

        return builder;
    }

    /// <summary>The Redis client's side of it: short timeouts, no queueing while disconnected, quick reconnects.</summary>
    public static void Configure(ConfigurationOptions options)
    {
        var milliseconds = (int)CommandTimeout.TotalMilliseconds;
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.AsyncTimeout = milliseconds;
        options.SyncTimeout = milliseconds;
        options.ConnectTimeout = milliseconds;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        options.SocketManager = SocketManager.ThreadPool;
    }

    internal static bool IsStoreOutage(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException or BrokenCircuitException
        || (exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsStoreOutage));

    private sealed class StoreUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (!IsStoreOutage(exception))
            {
                return false;
            }

            var retryAfter = exception is BrokenCircuitException { RetryAfter: { } remaining } ? remaining : BreakDuration;
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Store unavailable",
                    Detail = "The user store cannot be reached right now. Retry after the time in Retry-After.",
                },
            });
        }
    }
}
