using Microsoft.AspNetCore.Builder;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// One deadline for each request, for everything it waits on: set as the request enters, and read by each
/// call to a dependency made for it, which may take only what is left. A request makes several calls in
/// turn; bounded each on its own, together they could run past the 2 s a caller waits at most. Work outside
/// a request (background work, and what a request starts and leaves running) has no deadline.
/// </summary>
public static class RequestDeadline
{
    /// <summary>What a request's calls may take together: the 2 s a caller waits at most, less the time to answer.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(1750);

    private static readonly AsyncLocal<Deadline?> Current = new();

    /// <summary>The time left to the request being served, or null outside a request.</summary>
    public static TimeSpan? Remaining => Current.Value is { } deadline
        ? deadline.Clock.GetElapsedTime(deadline.Clock.GetTimestamp(), deadline.At)
        : null;

    /// <summary>Starts the deadline of the request being served, by <paramref name="clock"/>: <see cref="Budget"/> from now.</summary>
    public static void Start(TimeProvider clock) =>
        Current.Value = new Deadline(clock, clock.GetTimestamp() + (long)(Budget.TotalSeconds * clock.TimestampFrequency));

    /// <summary>Starts each request's deadline as it enters.</summary>
    internal static void UseRequestDeadline(this WebApplication app, TimeProvider clock) =>
        app.Use((context, next) =>
        {
            Start(clock);
            return next(context);
        });

    /// <summary>Runs <paramref name="work"/> detached from the current request: it has no deadline, and nobody waits for it.</summary>
    public static void RunDetached(Func<Task> work) =>
        _ = Task.Run(() =>
        {
            Current.Value = null;
            return work();
        });

    private sealed record Deadline(TimeProvider Clock, long At);
}
