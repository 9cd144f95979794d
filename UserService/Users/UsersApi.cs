using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
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
            .ProducesProblem(StatusCodes.Status404NotFound);

        writes.MapPost("users", CreateUser)
            .WithName(nameof(CreateUser))
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.Location, "The new user's URL.")
            .ProducesHeader(StatusCodes.Status201Created, HeaderNames.ETag, ETagDescription)
            .WithSummary("Create a user.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        writes.MapPut("users/{id:long}", UpdateUser)
            .WithName(nameof(UpdateUser))
            .ProducesHeader(StatusCodes.Status200OK, HeaderNames.ETag, ETagDescription)
            .WithSummary("Replace a user's username, email and display name.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        writes.MapDelete("users/{id:long}", DeleteUser)
            .WithName(nameof(DeleteUser))
            .WithSummary("Delete a user; its username and email become free.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

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
        [StringLength(UserRules.MaxUsernameLength, ErrorMessage = "username must be at most 32 characters long."),
            RegularExpression(UserRules.AsciiPattern, ErrorMessage = "username is ASCII: no user has any other.")] string? username = null,
        [StringLength(UserRules.MaxEmailLength, ErrorMessage = "email must be at most 254 characters long."),
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

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(long id, UserStore store, HttpResponse response)
    {
        if (await store.FindAsync(id) is not { } user)
        {
            return UserNotFound(id);
        }

        return TypedResults.Ok(Answer(user, response));
    }

    /// <param name="idempotencyKey">
    /// Makes a retry safe: the first outcome of a create with this key is kept for 24 hours, and the same
    /// request sent again with it gets that outcome back. At most 255 printable ASCII characters, unique per
    /// request, for example a UUID.
    /// </param>
    public static async Task<Results<CreatedAtRoute<UserResponse>, ProblemHttpResult>> CreateUser(
        UserRequest request,
        [FromHeader(Name = IdempotencyKeyHeader),
            StringLength(255, MinimumLength = 1, ErrorMessage = "Idempotency-Key must be 1 to 255 characters long."),
            RegularExpression("^[\\x21-\\x7E]+$", ErrorMessage = "Idempotency-Key must be printable ASCII without spaces, such as a UUID.")]
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
            WriteOutcome.Done => TypedResults.CreatedAtRoute(
                Answer(result.Replayed ? result.User! : writes.Created(result.User!), response), nameof(GetUser), new { id = result.User!.Id }),
            _ => writes.Refused(id: null, result.Outcome),
        };
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
        return result.Outcome switch
        {
            WriteOutcome.Done => TypedResults.Ok(Answer(writes.Updated(result.User!), response)),
            _ => writes.Refused(id, result.Outcome),
        };
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
        return result.Outcome switch
        {
            WriteOutcome.Done => writes.Deleted(id),
            _ => writes.Refused(id, result.Outcome),
        };
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
    internal static ProblemHttpResult UserNotFound(long id) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            title: UserNotFoundTitle,
            detail: string.Create(CultureInfo.InvariantCulture, $"No user has the id {id}."),
            extensions: new Dictionary<string, object?> { ["error"] = UserNotFoundTitle });

    private const string UserNotFoundTitle = "User not found";
}
