using Microsoft.Net.Http.Headers;
using UserService.OpenApi;
using UserService.Users.Caching;

namespace UserService.Users.Api;

/// <summary>The users' endpoints: their routes, scopes and what the API document says of them (handlers in UsersApi.Handlers.cs).</summary>
public static partial class UsersApi
{
    public const string Tag = "Users";

    /// <summary>The group the users' operations form in the API document.</summary>
    public static readonly ApiTag DocumentTag = new(Tag, "The users of the service: read with users:read, write with users:write.");
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
}
