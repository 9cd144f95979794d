using StackExchange.Redis;

namespace UserService.Infrastructure;

/// <summary>
/// The store could not be asked, or did not answer in time. <see cref="MayHaveApplied"/> is false only when
/// the command certainly never reached the store: the breaker was open, or no connection was up to send it.
/// </summary>
public sealed class StoreUnavailableException(bool mayHaveApplied, TimeSpan? retryAfter, Exception? cause = null)
    : Exception("The user store is unavailable.", cause)
{
    /// <summary>The member of a write's 503 that says whether it was applied: <c>not-applied</c> or <c>unknown</c>.</summary>
    public const string OutcomeMember = "outcome";

    public bool MayHaveApplied { get; } = mayHaveApplied;

    /// <summary>When the breaker closes again, where it is open.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>
    /// A refusal that says the store cannot serve the key right now rather than that the command is wrong: a
    /// cluster that lost a primary and has not promoted its replica yet, a slot on its way to another node, a
    /// node still loading its data, a replica that lost its primary, a former primary that came back as a
    /// replica before the client learned so.
    /// </summary>
    public static bool IsTransientRefusal(RedisServerException exception) =>
        TransientRefusals.Any(refusal => exception.Message.StartsWith(refusal, StringComparison.Ordinal));

    private static readonly string[] TransientRefusals = ["CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "READONLY"];

    /// <summary>The outage that <paramref name="exception"/> reports, or null when it is not about the store.</summary>
    public static StoreUnavailableException? From(Exception exception) => exception switch
    {
        RedisConnectionException { CommandStatus: CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog } => new(false, null, exception),
        RedisTimeoutException { Commandstatus: CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog } => new(false, null, exception),
        // The store answered, and refused: it did nothing.
        RedisServerException refusal when IsTransientRefusal(refusal) => new(false, null, exception),
        // The client began a command on a connection that a failover had just closed: nothing was sent.
        InvalidOperationException { Source: "System.IO.Pipelines" } => new(false, null, exception),
        // Sent, or cut off while it was on its way: the store may have applied it. A connection reset that
        // reaches the caller as it is (the client lets one through while a failover closes the socket) too.
        RedisConnectionException or RedisTimeoutException or TimeoutException or OperationCanceledException or IOException => new(true, null, exception),
        AggregateException aggregate => aggregate.InnerExceptions.Select(From).FirstOrDefault(found => found is not null),
        _ => null,
    };
}
