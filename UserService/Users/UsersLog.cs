namespace UserService.Users;

/// <summary>The service's log messages, with stable event ids and the user id as a structured field.</summary>
internal static partial class UsersLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Created user {UserId}")]
    public static partial void UserCreated(this ILogger logger, long userId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Replaced user {UserId}, now at version {Version}")]
    public static partial void UserUpdated(this ILogger logger, long userId, long version);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Deleted user {UserId}")]
    public static partial void UserDeleted(this ILogger logger, long userId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Refused a write to user {UserId}: {Outcome}")]
    public static partial void WriteRefused(this ILogger logger, long? userId, WriteOutcome outcome);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Seeded the empty store with {Count} users")]
    public static partial void Seeded(this ILogger logger, int count);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Repaired {Count} store index entries that a crash of the store left behind")]
    public static partial void Repaired(this ILogger logger, int count);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Store repair {Action} for store run {StoreRun}")]
    public static partial void RepairStarted(this ILogger logger, string action, string storeRun);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Store repair done for store run {StoreRun}: {Scanned} entries examined")]
    public static partial void RepairDone(this ILogger logger, string storeRun, long scanned);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Moved {Count} stored user documents that cannot be read to {Quarantine}")]
    public static partial void Quarantined(this ILogger logger, int count, string quarantine);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "A cached answer was not kept: the store did not take it in time")]
    public static partial void CachedAnswerNotKept(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "The stored document of user {UserId} cannot be read; the user is treated as absent")]
    public static partial void UnreadableDocument(this ILogger logger, long userId, Exception exception);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Warning, Message = "A write's document was refused: its claims were stamped more than {Deadline} before or after the clock of its user's store node. The write claims again; if this repeats, the store was stalled or its nodes' clocks are that far apart")]
    public static partial void DocumentLate(this ILogger logger, TimeSpan deadline);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "A write could not give back claims it no longer needs; another write may take them over in {Grace}, and the repair removes them")]
    public static partial void ClaimsNotReleased(this ILogger logger, TimeSpan grace, Exception exception);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Information, Message = "Store migration to layout {Layout} {Action}")]
    public static partial void MigrationStarted(this ILogger logger, string layout, string action);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Store migration to layout {Layout} done: {Moved} users moved, {Quarantined} quarantined")]
    public static partial void MigrationDone(this ILogger logger, string layout, long moved, long quarantined);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Warning, Message = "The store's circuit breaker opened after {Failures} of {Calls} store calls failed: calls fail at once for {BreakDuration}")]
    public static partial void StoreBreakerOpened(this ILogger logger, int failures, int calls, TimeSpan breakDuration);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Information, Message = "The store's circuit breaker closed: a trial call reached the store")]
    public static partial void StoreBreakerClosed(this ILogger logger);
}
