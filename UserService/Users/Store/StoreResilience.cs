using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// What the service does while its store is out of reach. Each store call is bounded by
/// <see cref="CommandTimeout"/> and fails at once when no connection is up (fail-fast backlog); a circuit
/// breaker then stops calling for a moment. Every request answers 503 with Retry-After, within 2 s, instead
/// of hanging or failing with 500, and a write's 503 says whether it may have been applied.
/// </summary>
public static class StoreResilience
{
    /// <summary>How long a store call may take before it counts as failed: under the 2 s a caller waits at most.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// How often the Redis client looks for calls that outlived <see cref="CommandTimeout"/>: its default, a
    /// second, let a call run to 2.5 s. With this, a call fails by 1.75 s, with no timer of its own per call.
    /// </summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a connection to the store goes without a command before the Redis client sends it a PING. The
    /// client takes a connection that read nothing for four command timeouts (6 s) for dead the moment one call
    /// on it times out, and closes it with every call in flight: with its default of 60 s, one slow call after
    /// a quiet minute failed the calls behind it and opened the breaker. Whole seconds, as the client counts.
    /// </summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(2);

    /// <summary>How long the breaker stays open: also what Retry-After tells a caller.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

    public static IHostApplicationBuilder AddStoreResilience(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StoreBreaker>();
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
        options.HeartbeatInterval = HeartbeatInterval;
        options.KeepAlive = (int)KeepAlive.TotalSeconds;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        options.SocketManager = SocketManager.ThreadPool;
    }

    private sealed class StoreUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not StoreUnavailableException unavailable)
            {
                return false;
            }

            var write = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((unavailable.RetryAfter ?? BreakDuration).TotalSeconds))
                .ToString(CultureInfo.InvariantCulture);
            var problem = new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Store unavailable",
                    Detail = !write ? "The user store cannot be reached right now. Retry after the time in Retry-After."
                        : unavailable.MayHaveApplied ? "The user store did not answer in time: this write may or may not have been applied. Retry it with the same Idempotency-Key or If-Match, which makes the retry safe."
                        : "The user store cannot be reached right now, and this write was not applied. Retry after the time in Retry-After.",
                },
            };

            // What a client retrying a write needs to know: whether the first attempt may have landed.
            if (write)
            {
                problem.ProblemDetails.Extensions[StoreUnavailableException.OutcomeMember] = unavailable.MayHaveApplied ? "unknown" : "not-applied";
            }

            return await problems.TryWriteAsync(problem);
        }
    }
}
