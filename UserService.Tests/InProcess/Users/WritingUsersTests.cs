using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Users;

/// <summary>Creates, replaces and deletes as each engine applies them: uniqueness, versions and freed names.</summary>
public abstract class WritingUsersTests(UserServiceFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Fact]
    public async Task CreateAnswersCreatedWithLocationETagAndServerSetFields()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var newUser = TestUsers.Unique("Grace Hopper");

        var (response, created) = await Api.CreateAsync(newUser);

        Assert.Equal(new Uri(Api.BaseAddress!, $"/api/users/{created.Id}"), response.Headers.Location);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.True(created.Id > 0);
        Assert.Equal((newUser.Username, newUser.Email, newUser.DisplayName), (created.Username, created.Email, created.DisplayName));
        Assert.InRange(created.CreatedAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(TimeSpan.Zero, created.CreatedAt.Offset);
        Assert.Equal(created.CreatedAt, created.UpdatedAt);
    }

    [Fact]
    public async Task IdsIncreaseFromOneCreateToTheNext()
    {
        var (_, first) = await Api.CreateAsync(TestUsers.Unique());
        var (_, second) = await Api.CreateAsync(TestUsers.Unique());

        Assert.True(second.Id > first.Id);
    }

    [Fact]
    public async Task UsernameTakenAnswersConflictAndCreatesNothing()
    {
        // Usernames are lowercase by rule, so their case cannot differ; an email's can (below).
        var (_, existing) = await Api.CreateAsync(TestUsers.Unique());
        var email = $"{Guid.NewGuid():N}@example.com";

        using var response = await Api.PostAsJsonAsync("/api/users", new NewUser(existing.Username, email), Cancellation);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("Username taken", problem.Title);
        Assert.Equal("[]", await Api.GetStringAsync($"/api/users?email={email}", Cancellation));
    }

    [Fact]
    public async Task EmailTakenInAnyCaseAnswersConflict()
    {
        var (_, existing) = await Api.CreateAsync(TestUsers.Unique());

        using var response = await Api.PostAsJsonAsync("/api/users",
            new NewUser(TestUsers.Unique().Username, existing.Email.ToUpperInvariant()), Cancellation);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("Email taken", problem.Title);
    }

    [Fact]
    public async Task ReplaceChangesTheFieldsAndTheETag()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var replacement = TestUsers.Unique("New Name");

        using var response = await Api.ReplaceUserAsync(created.Id, replacement, etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = await response.Content.ReadFromJsonAsync<UserDto>(Cancellation);
        Assert.Equal((created.Id, replacement.Username, replacement.Email, replacement.DisplayName),
            (updated!.Id, updated.Username, updated.Email, updated.DisplayName));
        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.True(updated.UpdatedAt >= created.UpdatedAt);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        Assert.Equal(updated, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithAStaleETagAnswersPreconditionFailedWithTheCurrentETagAndChangesNothing()
    {
        var (created, etag) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, TestUsers.Unique(), "\"41\"");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(etag, response.Headers.ETag?.ToString());
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithoutIfMatchIsApplied()
    {
        var (created, _) = await Api.CreateWithETagAsync();
        var replacement = TestUsers.Unique();

        using var response = await Api.ReplaceUserAsync(created.Id, replacement);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation);
        Assert.Equal((replacement.Username, replacement.Email), (stored!.Username, stored.Email));
    }

    [Fact]
    public async Task ReplaceWithATakenUsernameAnswersConflictAndChangesNothing()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var (other, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, new NewUser(other.Username, created.Email), etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithATakenEmailAnswersConflictAndChangesNothing()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var (other, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, new NewUser(created.Username, other.Email, "Renamed"), etag);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("Email taken", problem.Title);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task RenameFreesTheOldUsernameAndEmail()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var renamed = await Api.WriteRetryingAsync(created.Id, etag, TestUsers.Unique());

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email), LeftoverClaims(renamed));

        AssertApplied(renamed, HttpStatusCode.OK, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created.Username, reused.Username);
    }

    [Fact]
    public async Task ReplaceOfAnUnknownIdAnswersNotFound()
    {
        using var response = await Api.ReplaceUserAsync(987654321, TestUsers.Unique());

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteAnswersNoContentAndTheUserIsGone()
    {
        var (created, _) = await Api.CreateWithETagAsync();

        using var response = await Api.DeleteUserAsync(created.Id);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        using var afterwards = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);
        await ProblemAssert.IsProblemAsync(afterwards, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteFreesTheUsernameAndEmailForReuse()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var deleted = await Api.WriteRetryingAsync(created.Id, etag);

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email), LeftoverClaims(deleted));

        AssertApplied(deleted, HttpStatusCode.NoContent, HttpStatusCode.NotFound);
        Assert.NotEqual(created.Id, reused.Id);
    }

    [Fact]
    public async Task DeleteOfAnUnknownIdAnswersNotFound()
    {
        using var response = await Api.DeleteUserAsync(987654321);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteWithAStaleETagAnswersPreconditionFailedAndKeepsTheUser()
    {
        var (created, _) = await Api.CreateWithETagAsync();

        using var response = await Api.DeleteUserAsync(created.Id, "\"7\"");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task CreateSentAgainWithItsIdempotencyKeyGetsTheFirstAnswerAndCreatesNothing()
    {
        var user = TestUsers.Unique();
        var key = Guid.NewGuid().ToString();

        using var first = await Api.PostOnceAsync(user, key);
        using var again = await Api.PostOnceAsync(user, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(Cancellation), await again.Content.ReadAsStringAsync(Cancellation));
        Assert.Single((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={user.Username}", Cancellation))!);
    }

    [Fact]
    public async Task RefusedCreateSentAgainWithItsIdempotencyKeyIsRefusedAgainEvenOnceTheNameIsFree()
    {
        var (existing, etag) = await Api.CreateWithETagAsync();
        var key = Guid.NewGuid().ToString();
        var taken = new NewUser(existing.Username, TestUsers.Unique().Email);
        using var first = await Api.PostOnceAsync(taken, key);
        AssertApplied(await Api.WriteRetryingAsync(existing.Id, etag), HttpStatusCode.NoContent, HttpStatusCode.NotFound);

        using var again = await Api.PostOnceAsync(taken, key);

        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict);
        Assert.Empty((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={existing.Username}", Cancellation))!);
    }

    [Fact]
    public async Task IdempotencyKeySentAgainWithAnotherUserIsRefusedAndCreatesNothing()
    {
        var key = Guid.NewGuid().ToString();
        using var first = await Api.PostOnceAsync(TestUsers.Unique(), key);
        var other = TestUsers.Unique();

        using var reused = await Api.PostOnceAsync(other, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var problem = await ProblemAssert.IsProblemAsync(reused, HttpStatusCode.UnprocessableContent);
        Assert.Equal("Idempotency key reused", problem.Title);
        Assert.Empty((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={other.Username}", Cancellation))!);
    }

    [Fact]
    public async Task CallersWithTheSameIdempotencyKeyCreateEachTheirOwnUser()
    {
        var key = Guid.NewGuid().ToString();
        using var second = factory.CreateClient().Authorize(TestTokens.Create(subject: $"other-{key}"));

        using var mine = await Api.PostOnceAsync(TestUsers.Unique(), key);
        using var theirs = await second.PostOnceAsync(TestUsers.Unique(), key);

        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.NotEqual(mine.Headers.Location, theirs.Headers.Location);
    }

    /// <summary>
    /// Asserts that a write retried through its 503s was applied: it answered <paramref name="applied"/>, or,
    /// after an attempt whose answer was lost, the retry found it had landed (<paramref name="landedBefore"/>).
    /// </summary>
    private static void AssertApplied(RetriedWrite write, HttpStatusCode applied, HttpStatusCode landedBefore) =>
        Assert.Contains(write.Status, (HttpStatusCode[])(write.AnswerLost ? [applied, landedBefore] : [applied]));

    /// <summary>
    /// How long the values a write gave up may still be claimed: not at all, since a write gives them up before it
    /// answers, unless its answer was lost; then until a create takes them over after the claim grace.
    /// </summary>
    private static TimeSpan LeftoverClaims(RetriedWrite write) => write.AnswerLost ? StoreLayout.ClaimGrace * 2 : TimeSpan.Zero;
}

public sealed class WritingUsersOnGarnetTests(GarnetUserService factory) : WritingUsersTests(factory), IClassFixture<GarnetUserService>;

public sealed class WritingUsersOnRedisServerTests(RedisServerUserService factory) : WritingUsersTests(factory), IClassFixture<RedisServerUserService>;
