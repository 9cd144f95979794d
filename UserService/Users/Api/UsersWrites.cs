using Microsoft.AspNetCore.Http.HttpResults;
using UserService.Users.Caching;

namespace UserService.Users.Api;

/// <summary>What follows a write, whichever endpoint made it: metrics, logs, cache eviction, refusals.</summary>
public sealed class UsersWrites(CachedReadsEviction eviction, UsersTelemetry telemetry, ILogger<UsersWrites> logger)
{
    public User Created(User user)
    {
        telemetry.UserCreated();
        logger.UserCreated(user.Id);
        eviction.Request();
        return user;
    }

    public User Updated(User user)
    {
        telemetry.UserUpdated();
        logger.UserUpdated(user.Id, user.Version);
        eviction.Request();
        return user;
    }

    public NoContent Deleted(long id)
    {
        telemetry.UserDeleted();
        logger.UserDeleted(id);
        eviction.Request();
        return TypedResults.NoContent();
    }

    public ProblemHttpResult Refused(long? id, WriteOutcome outcome)
    {
        logger.WriteRefused(id, outcome);
        return outcome switch
        {
            WriteOutcome.NotFound => UsersApi.UserNotFound(id ?? 0),
            WriteOutcome.UsernameTaken => Problem(StatusCodes.Status409Conflict, "Username taken", "Another user has this username."),
            WriteOutcome.EmailTaken => Problem(StatusCodes.Status409Conflict, "Email taken", "Another user has this email."),
            WriteOutcome.VersionMismatch => Problem(StatusCodes.Status412PreconditionFailed, "User changed",
                "The user is no longer at the version in If-Match. Read it again and retry with the new ETag."),
            WriteOutcome.TooMuchContention => Problem(StatusCodes.Status409Conflict, "Too many concurrent writes",
                "The user kept changing while this write was applied. Retry."),
            WriteOutcome.IdempotencyKeyReused => Problem(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                "This Idempotency-Key was first sent with another request. Send a new key with a new request."),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a refusal."),
        };
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
