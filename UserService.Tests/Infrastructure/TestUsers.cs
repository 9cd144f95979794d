using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace UserService.Tests.Infrastructure;

/// <summary>The API's user as a client sees it.</summary>
public sealed record UserDto(long Id, string Username, string Email, string? DisplayName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record NewUser(string Username, string Email, string? DisplayName = null);

public static class TestUsers
{
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(30);

    /// <summary>A user no other test can have created.</summary>
    public static NewUser Unique(string? displayName = null)
    {
        var username = $"u-{Guid.NewGuid():N}"[..20];
        return new NewUser(username, $"{username}@example.com", displayName);
    }

    /// <summary>
    /// Creates the user as a well-behaved client does: with an Idempotency-Key, and a <c>503</c> retried with
    /// the same key after its <c>Retry-After</c>, for at most <see cref="RetryFor"/>. On a loaded machine the
    /// store's log can stall past the time a command may take; what the tests that create users through here
    /// check is something else. For <paramref name="conflictsFor"/>, a <c>409</c> is retried too, with a new key:
    /// values that a write whose answer was lost may still hold (see <see cref="RetriedWrite"/>).
    /// </summary>
    public static async Task<(HttpResponseMessage Response, UserDto User)> CreateAsync(this HttpClient api, NewUser user, TimeSpan conflictsFor = default)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var start = DateTimeOffset.UtcNow;
        var key = Guid.NewGuid().ToString();
        var response = await api.PostOnceAsync(user, key);
        while ((response.StatusCode == HttpStatusCode.ServiceUnavailable && Elapsed() < RetryFor + conflictsFor)
            || (response.StatusCode == HttpStatusCode.Conflict && Elapsed() < conflictsFor))
        {
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                // The key keeps the refusal as its outcome: the next attempt is a new request.
                key = Guid.NewGuid().ToString();
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellation);
            response.Dispose();
            response = await api.PostOnceAsync(user, key);
        }

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<UserDto>(cancellation);
        return (response, created!);

        TimeSpan Elapsed() => DateTimeOffset.UtcNow - start;
    }

    /// <summary>Sends one create with <paramref name="idempotencyKey"/>, as it is.</summary>
    public static async Task<HttpResponseMessage> PostOnceAsync(this HttpClient api, NewUser user, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/users") { Content = JsonContent.Create(user) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await api.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Creates a new unique user, or <paramref name="user"/>, and returns it with the ETag it was created at.</summary>
    public static async Task<(UserDto User, string ETag)> CreateWithETagAsync(this HttpClient api, NewUser? user = null)
    {
        var (response, created) = await api.CreateAsync(user ?? Unique());
        using (response)
        {
            return (created, response.Headers.ETag!.ToString());
        }
    }

    /// <summary>
    /// Replaces the user's fields, with <paramref name="ifMatch"/> sent as it is (a stale or malformed value
    /// too) when there is one.
    /// </summary>
    public static Task<HttpResponseMessage> ReplaceUserAsync(this HttpClient api, long id, NewUser replacement, string? ifMatch = null) =>
        api.SendWithIfMatchAsync(HttpMethod.Put, id, ifMatch, JsonContent.Create(replacement));

    /// <summary>
    /// Replaces the user's fields with <paramref name="replacement"/>, or deletes the user where there is none, at
    /// <paramref name="ifMatch"/>, as a well-behaved client does: a <c>503</c> retried with the same If-Match
    /// after its <c>Retry-After</c>, for at most <see cref="RetryFor"/>. The If-Match makes the retry safe: an
    /// attempt that landed without its answer leaves the next one a <c>412</c>, or a <c>404</c> for a delete.
    /// </summary>
    public static async Task<RetriedWrite> WriteRetryingAsync(this HttpClient api, long id, string ifMatch, NewUser? replacement = null)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var deadline = DateTimeOffset.UtcNow + RetryFor;
        var answerLost = false;
        while (true)
        {
            using var response = replacement is null ? await api.DeleteUserAsync(id, ifMatch) : await api.ReplaceUserAsync(id, replacement, ifMatch);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTimeOffset.UtcNow >= deadline)
            {
                return new(response.StatusCode, answerLost);
            }

            var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(cancellation);
            answerLost |= (string?)problem?["outcome"] == "unknown";
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellation);
        }
    }

    /// <summary>Deletes the user, with <paramref name="ifMatch"/> sent as it is when there is one.</summary>
    public static Task<HttpResponseMessage> DeleteUserAsync(this HttpClient api, long id, string? ifMatch = null) =>
        api.SendWithIfMatchAsync(HttpMethod.Delete, id, ifMatch, content: null);

    private static async Task<HttpResponseMessage> SendWithIfMatchAsync(this HttpClient api, HttpMethod method, long id, string? ifMatch, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, $"/api/users/{id}") { Content = content };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await api.SendAsync(request, TestContext.Current.CancellationToken);
    }
}

/// <summary>
/// How a write retried through its 503s ended: its last status, and whether an attempt before may have landed
/// unanswered (<see cref="AnswerLost"/>). Such a write never gave up the values its user no longer holds: they
/// stay claimed until a later write takes them over, once they are older than the store's claim grace.
/// </summary>
public sealed record RetriedWrite(HttpStatusCode Status, bool AnswerLost);

/// <summary>The RFC 9457 fields the tests read.</summary>
public sealed record ProblemDto(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail);

public sealed record ValidationProblemDto(
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("errors")] Dictionary<string, string[]> Errors);
