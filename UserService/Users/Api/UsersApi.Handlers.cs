using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using UserService.Infrastructure;
using UserService.Users.Store;

namespace UserService.Users.Api;

/// <summary>What each of the users' endpoints does: read or write through the store, and answer as the contract says.</summary>
public static partial class UsersApi
{
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

    public static Task<Results<Ok<UserResponse>, ProblemHttpResult>> UpdateUser(
        [Description(IdDescription)] long id,
        UserRequest request,
        [FromHeader(Name = "If-Match"), Description(IfMatchDescription)] string? ifMatch,
        UserStore store,
        UsersWrites writes,
        HttpResponse response) =>
        WriteVersionAsync(id, ifMatch, writes, response,
            expectedVersion => store.UpdateAsync(id, request.ToFields(), expectedVersion),
            result => TypedResults.Ok(Answer(writes.Updated(result.User!), response)));

    public static Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        [Description(IdDescription)] long id,
        [FromHeader(Name = "If-Match"), Description(IfMatchDescription)] string? ifMatch,
        UserStore store,
        UsersWrites writes,
        HttpResponse response) =>
        WriteVersionAsync(id, ifMatch, writes, response,
            expectedVersion => store.DeleteAsync(id, expectedVersion),
            _ => writes.Deleted(id));

    /// <summary>
    /// A replace or a delete: the version <paramref name="ifMatch"/> names, the write applied to that version
    /// only (or to any, without one), and its answer, <paramref name="done"/> or a refusal.
    /// </summary>
    private static async Task<Results<TDone, ProblemHttpResult>> WriteVersionAsync<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] TDone>(
        long id, string? ifMatch, UsersWrites writes, HttpResponse response, Func<long?, Task<WriteResult>> write, Func<WriteResult, TDone> done)
        where TDone : IResult
    {
        if (!TryParseIfMatch(ifMatch, out var expectedVersion))
        {
            return writes.Refused(id, WriteOutcome.VersionMismatch);
        }

        var result = await write(expectedVersion);
        return result.Outcome == WriteOutcome.Done ? done(result) : Refused(id, result, writes, response);
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
