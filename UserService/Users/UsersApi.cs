using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using UserService.OpenApi;

namespace UserService.Users;

public static class UsersApi
{
    public const string Tag = "Users";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    private const string ETagDescription = "The user's version, to send in If-Match with a replace or a delete.";

    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        // The group is /api, not /api/users: a group's own path would get a trailing slash on the list
        // route ("/api/users/") in traces and in the metrics' http_route label.
        var users = app.MapGroup("/api").WithTags(Tag);

        users.MapGet("users", ListUsers)
            .RequireAuthorization(UsersScopes.Read)
            .CacheOutput(UsersCachePolicy.Name)
            .WithName(nameof(ListUsers))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.Link, "The next page, as <url>; rel=\"next\", when there is one.", always: false)
            .WithSummary("List users in id order, a page at a time, or find one by username or email.")
            .ProducesValidationProblem();

        // Not output-cached: the store answers with one hash read, the same cost as a cache lookup, and the
        // cache's freshness check would add a round trip (a quarter fewer reads a second, see bench/).
        users.MapGet("users/{id:long}", GetUser)
            .RequireAuthorization(UsersScopes.Read)
            .WithName(nameof(GetUser))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.ETag, ETagDescription)
            .WithSummary("Get a user by id.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        users.MapPost("users", CreateUser)
            .RequireAuthorization(UsersScopes.Write)
            .WithName(nameof(CreateUser))
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.Location, "The new user's URL.")
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.ETag, ETagDescription)
            .WithSummary("Create a user.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        users.MapPut("users/{id:long}", UpdateUser)
            .RequireAuthorization(UsersScopes.Write)
            .WithName(nameof(UpdateUser))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.ETag, ETagDescription)
            .WithSummary("Replace a user's username, email and display name.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        users.MapDelete("users/{id:long}", DeleteUser)
            .RequireAuthorization(UsersScopes.Write)
            .WithName(nameof(DeleteUser))
            .WithSummary("Delete a user; its username and email become free.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        return users;
    }

    /// <param name="after">Only users with an id above this one: the cursor of the previous page.</param>
    /// <param name="limit">At most this many users (1 to 1000).</param>
    /// <param name="username">Find the user with this username (case does not matter).</param>
    /// <param name="email">Find the user with this email (case does not matter).</param>
    public static async Task<Ok<UserResponse[]>> ListUsers(
        UserStore store,
        HttpResponse response,
        [Range(0, long.MaxValue, ErrorMessage = "after must be 0 or the id of a user.")] long after = 0,
        [Range(1, MaxPageSize, ErrorMessage = "limit must be from 1 to 1000.")] int limit = DefaultPageSize,
        [StringLength(UserRules.MaxUsernameLength, ErrorMessage = "username must be at most 32 characters long.")] string? username = null,
        [StringLength(UserRules.MaxEmailLength, ErrorMessage = "email must be at most 254 characters long.")] string? email = null)
    {
        if (username is not null || email is not null)
        {
            var found = username is not null ? await store.FindByUsernameAsync(username) : await store.FindByEmailAsync(email!);
            var matches = found is not null
                && (email is null || string.Equals(found.Email, email, StringComparison.OrdinalIgnoreCase));
            return TypedResults.Ok(matches ? [UserResponse.From(found!)] : Array.Empty<UserResponse>());
        }

        var page = await store.ListAsync(after, limit);
        if (page.HasMore)
        {
            var next = string.Create(CultureInfo.InvariantCulture, $"/api/users?after={page.Users[^1].Id}&limit={limit}");
            response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return TypedResults.Ok(page.Users.Select(UserResponse.From).ToArray());
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(long id, UserStore store, HttpResponse response)
    {
        var user = await store.FindAsync(id);
        if (user is null)
        {
            return UserNotFound(id);
        }

        response.Headers.ETag = user.ETag;
        return TypedResults.Ok(UserResponse.From(user));
    }

    public static async Task<Results<CreatedAtRoute<UserResponse>, ProblemHttpResult>> CreateUser(
        UserRequest request, UserStore store, UsersWrites writes, HttpResponse response)
    {
        var result = await store.CreateAsync(request.ToFields());
        if (result.Outcome is not WriteOutcome.Done)
        {
            return writes.Refused(id: null, result.Outcome);
        }

        var user = result.User!;
        writes.Created(user);
        response.Headers.ETag = user.ETag;
        return TypedResults.CreatedAtRoute(UserResponse.From(user), nameof(GetUser), new { id = user.Id });
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUser(
        long id,
        UserRequest request,
        [FromHeader(Name = "If-Match")] string? ifMatch,
        UserStore store,
        UsersWrites writes,
        HttpResponse response)
    {
        if (!TryParseIfMatch(ifMatch, out var expectedVersion))
        {
            return writes.Refused(id, WriteOutcome.VersionMismatch);
        }

        var result = await store.UpdateAsync(id, request.ToFields(), expectedVersion);
        if (result.Outcome is not WriteOutcome.Done)
        {
            return writes.Refused(id, result.Outcome);
        }

        var user = result.User!;
        writes.Updated(user);
        response.Headers.ETag = user.ETag;
        return TypedResults.Ok(UserResponse.From(user));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        long id,
        [FromHeader(Name = "If-Match")] string? ifMatch,
        UserStore store,
        UsersWrites writes)
    {
        if (!TryParseIfMatch(ifMatch, out var expectedVersion))
        {
            return writes.Refused(id, WriteOutcome.VersionMismatch);
        }

        var result = await store.DeleteAsync(id, expectedVersion);
        if (result.Outcome is not WriteOutcome.Done)
        {
            return writes.Refused(id, result.Outcome);
        }

        writes.Deleted(id);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// No header or <c>*</c> expects no particular version. Otherwise the header must be one strong ETag this
    /// service issued: weak tags never match under If-Match (RFC 9110, 13.1.1), nor do unknown ones.
    /// </summary>
    internal static bool TryParseIfMatch(string? ifMatch, out long? expectedVersion)
    {
        expectedVersion = null;
        if (string.IsNullOrWhiteSpace(ifMatch) || ifMatch.Trim() == "*")
        {
            return true;
        }

        if (EntityTagHeaderValue.TryParse(ifMatch.Trim(), out var tag)
            && !tag.IsWeak
            && long.TryParse(tag.Tag.AsSpan().Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            expectedVersion = version;
            return true;
        }

        return false;
    }

    /// <summary>Problem details that also carry the original service's <c>error</c> member, which its clients read.</summary>
    internal static ProblemHttpResult UserNotFound(long id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: UserNotFoundTitle,
            detail: string.Create(CultureInfo.InvariantCulture, $"No user has the id {id}."),
            extensions: new Dictionary<string, object?> { ["error"] = UserNotFoundTitle });

    private const string UserNotFoundTitle = "User not found";
}

/// <summary>What follows a write, whichever endpoint made it: metrics, logs, cache eviction, refusals.</summary>
public sealed class UsersWrites(CachedReadsEviction eviction, UsersTelemetry telemetry, ILogger<UsersWrites> logger)
{
    public void Created(User user)
    {
        telemetry.UserCreated();
        logger.UserCreated(user.Id);
        eviction.Request();
    }

    public void Updated(User user)
    {
        telemetry.UserUpdated();
        logger.UserUpdated(user.Id, user.Version);
        eviction.Request();
    }

    public void Deleted(long id)
    {
        telemetry.UserDeleted();
        logger.UserDeleted(id);
        eviction.Request();
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
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a refusal."),
        };
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
