using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using UserService.Infrastructure;
using UserService.OpenApi;
using UserService.Users.Caching;
using UserService.Users.Store;

namespace UserService.Users;

public static class UsersApi
{
    public const string Tag = "Users";
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private const string ETagDescription = "The user's version, to send in If-Match with a replace or a delete.";
    private const string CurrentETagDescription = "The user's version now, when the If-Match was a version of this service's: read the user, and retry with it.";
    private const string IdDescription = "The user's id, as the service issued it.";
    private const string IfMatchDescription =
        "Apply only to this version of the user: an ETag this service sent. The write then answers 412 if the user changed since, " +
        "which makes it safe to retry. Without it, or with *, any version.";

    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        // The group is /api, not /api/users: a group's own path would get a trailing slash on the list
        // route ("/api/users/") in traces and in the metrics' http_route label.
        var api = app.MapGroup("/api").WithTags(Tag);
        var reads = api.MapGroup("").RequireAuthorization(UsersScopes.Read);
        var writes = api.MapGroup("").RequireAuthorization(UsersScopes.Write);

        reads.MapGet("users", ListUsers)
            .CacheOutput(UsersCachePolicy.Name)
            .WithName(nameof(ListUsers))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.Link, "The next page, as <url>; rel=\"next\", when there is one.", always: false)
            .WithSummary("List users in id order, a page at a time, or find one by username or email.")
            .WithDescription("Follow the Link header's next page until none comes. With username or email, answers the one user that has it " +
                "(case does not matter) or none; with both, the user must have both.")
            .RefuseUnreadableQueryNumbers()
            .ProducesValidationProblem();

        // Not output-cached: the store answers with one hash read, the same cost as a cache lookup, and the
        // cache's freshness check would add a round trip (a quarter fewer reads a second, see bench/).
        reads.MapGet("users/{id:long}", GetUser)
            .WithName(nameof(GetUser))
            // Nothing here to validate (the route has parsed the id), and the validation filter would put the
            // busiest endpoint on the slower, filtered invocation path (see bench/README.md).
            .DisableValidation()
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.ETag, ETagDescription)
            .WithSummary("Get a user by id.")
            .WithDescription("Answers the user with its ETag, to send in If-Match with a later replace or delete.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        writes.MapPost("users", CreateUser)
            .WithName(nameof(CreateUser))
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.Location, "The new user's URL.")
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.ETag, ETagDescription)
            .WithSummary("Create a user.")
            .WithDescription("The service assigns the id and the timestamps. An Idempotency-Key makes a retry safe; a 503 says in outcome whether the create was applied.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        writes.MapPut("users/{id:long}", UpdateUser)
            .WithName(nameof(UpdateUser))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.ETag, ETagDescription)
            .WithSummary("Replace a user's username, email and display name.")
            .WithDescription("All three fields are replaced: a displayName left out becomes null. With If-Match, applies only to that version of the user.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesHeader(StatusCodes.Status412PreconditionFailed, HeaderNames.ETag, CurrentETagDescription, always: false)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        writes.MapDelete("users/{id:long}", DeleteUser)
            .WithName(nameof(DeleteUser))
            .WithSummary("Delete a user; its username and email become free.")
            .WithDescription("With If-Match, deletes only that version of the user. Its username and email are free for another user once this answers.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesHeader(StatusCodes.Status412PreconditionFailed, HeaderNames.ETag, CurrentETagDescription, always: false)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        // An id that is no 64-bit integer names no user: the same 404 as an unknown id, not routing's bare one.
        // The replace accepts what the real one does, so that a body of another type still answers 415.
        const string NoUser = $"users/{{id:{NoInt64Constraint.Name}}}";
        reads.MapGet(NoUser, NoUserHasThisId).ExcludeFromDescription();
        writes.MapPut(NoUser, NoUserHasThisId).Accepts<UserRequest>("application/json").ExcludeFromDescription();
        writes.MapDelete(NoUser, NoUserHasThisId).ExcludeFromDescription();

        return api;
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
        [TextLength(UserRules.MaxUsernameLength, MinimumLength = 1, ErrorMessage = "username must be 1 to 32 characters long."),
            RegularExpression(UserRules.AsciiPattern, ErrorMessage = "username is ASCII: no user has any other.")] string? username = null,
        [TextLength(UserRules.MaxEmailLength, MinimumLength = 1, ErrorMessage = "email must be 1 to 254 characters long."),
            RegularExpression(UserRules.AsciiPattern, ErrorMessage = "email is ASCII: no user has any other.")] string? email = null)
    {
        if (username is not null || email is not null)
        {
            var found = username is not null ? await store.FindByUsernameAsync(username) : await store.FindByEmailAsync(email!);
            var matches = found is not null
                && (email is null || string.Equals(found.Email, email, StringComparison.OrdinalIgnoreCase));
            return TypedResults.Ok(matches ? [UserResponse.From(found!)] : Array.Empty<UserResponse>());
        }

        var page = await store.ListAsync(after, limit);
        if (page.ContinueAfter is { } last)
        {
            var next = string.Create(CultureInfo.InvariantCulture, $"/api/users?after={last}&limit={limit}");
            response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return TypedResults.Ok(page.Users.Select(UserResponse.From).ToArray());
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser([Description(IdDescription)] long id, UserStore store, HttpResponse response)
    {
        if (await store.FindAsync(id) is not { } user)
        {
            return UserNotFound(id);
        }

        return TypedResults.Ok(Answer(user, response));
    }

    public static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateUser(
        UserRequest request,
        [FromHeader(Name = IdempotencyKeyHeader),
            Description("Makes a retry safe: the first outcome of a create with this key is kept for 24 hours, and the same request sent " +
                "again with it gets that outcome back, also when the user was changed or deleted since. At most 255 printable ASCII " +
                "characters, new for each request, such as a UUID."),
            TextLength(255, MinimumLength = 1, ErrorMessage = "Idempotency-Key must be 1 to 255 characters long."),
            RegularExpression(UserRules.AsciiPattern, ErrorMessage = "Idempotency-Key must be printable ASCII without spaces, such as a UUID.")]
        string? idempotencyKey,
        ClaimsPrincipal caller,
        UserStore store,
        UsersWrites writes,
        HttpResponse response)
    {
        var idempotency = idempotencyKey is null ? null : new IdempotencyKey(Callers.IdOf(caller) ?? "", idempotencyKey);
        var result = await store.CreateAsync(request.ToFields(), idempotency);
        return result.Outcome switch
        {
            // A replay answers as the first attempt did; that attempt already counted, logged and evicted.
            // The new user's absolute URL, as link generation would build it, without its reflection over route values.
            WriteOutcome.Done => TypedResults.Created(
                UriHelper.BuildAbsolute(response.HttpContext.Request.Scheme, response.HttpContext.Request.Host, response.HttpContext.Request.PathBase,
                    string.Create(CultureInfo.InvariantCulture, $"/api/users/{result.User!.Id}")),
                Answer(result.Replayed ? result.User! : writes.Created(result.User!), response)),
            _ => writes.Refused(id: null, result.Outcome),
        };
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUser(
        [Description(IdDescription)] long id,
        UserRequest request,
        [FromHeader(Name = "If-Match"), Description(IfMatchDescription)] string? ifMatch,
        UserStore store,
        UsersWrites writes,
        HttpResponse response)
    {
        if (!TryParseIfMatch(ifMatch, out var expectedVersion))
        {
            return writes.Refused(id, WriteOutcome.VersionMismatch);
        }

        var result = await store.UpdateAsync(id, request.ToFields(), expectedVersion);
        return result.Outcome switch
        {
            WriteOutcome.Done => TypedResults.Ok(Answer(writes.Updated(result.User!), response)),
            _ => Refused(id, result, writes, response),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        [Description(IdDescription)] long id,
        [FromHeader(Name = "If-Match"), Description(IfMatchDescription)] string? ifMatch,
        UserStore store,
        UsersWrites writes,
        HttpResponse response)
    {
        if (!TryParseIfMatch(ifMatch, out var expectedVersion))
        {
            return writes.Refused(id, WriteOutcome.VersionMismatch);
        }

        var result = await store.DeleteAsync(id, expectedVersion);
        return result.Outcome switch
        {
            WriteOutcome.Done => writes.Deleted(id),
            _ => Refused(id, result, writes, response),
        };
    }

    /// <summary>A refused replace or delete; a 412 carries the version the user is at now (RFC 9110, 15.5.13).</summary>
    private static ProblemHttpResult Refused(long id, WriteResult result, UsersWrites writes, HttpResponse response)
    {
        if (result is { Outcome: WriteOutcome.VersionMismatch, User: { } current })
        {
            response.Headers.ETag = current.ETag;
        }

        return writes.Refused(id, result.Outcome);
    }

    /// <summary>The user as a client receives it, with its version in the ETag header.</summary>
    private static UserResponse Answer(User user, HttpResponse response)
    {
        response.Headers.ETag = user.ETag;
        return UserResponse.From(user);
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
    internal static ProblemHttpResult UserNotFound(long id) => UserNotFound(string.Create(CultureInfo.InvariantCulture, $"No user has the id {id}."));

    private static ProblemHttpResult NoUserHasThisId() => UserNotFound("No user has this id: ids are 64-bit integers.");

    private static ProblemHttpResult UserNotFound(string detail) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: UserNotFoundTitle,
            detail: detail,
            extensions: new Dictionary<string, object?> { ["error"] = UserNotFoundTitle });

    private const string UserNotFoundTitle = "User not found";
}
