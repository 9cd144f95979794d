using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

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
    public async Task UsernameTakenInAnyCaseAnswersConflict()
    {
        var (_, existing) = await Api.CreateAsync(TestUsers.Unique());

        using var response = await Api.PostAsJsonAsync("/api/users",
            new NewUser(existing.Username, $"{Guid.NewGuid():N}@example.com"), Cancellation);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("Username taken", problem.Title);
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
    public async Task ReplaceWithAStaleETagAnswersPreconditionFailedAndChangesNothing()
    {
        var (created, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, TestUsers.Unique(), "\"41\"");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithoutIfMatchIsApplied()
    {
        var (created, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, TestUsers.Unique());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
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
    public async Task ReplaceWithATakenEmailAnswersConflict()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        var (other, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, new NewUser(created.Username, other.Email), etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task RenameFreesTheOldUsernameAndEmail()
    {
        var (created, etag) = await Api.CreateWithETagAsync();

        (await Api.ReplaceUserAsync(created.Id, TestUsers.Unique(), etag)).Dispose();

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email));
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
        var (created, _) = await Api.CreateWithETagAsync();
        (await Api.DeleteUserAsync(created.Id)).Dispose();

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email));

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
}

public sealed class WritingUsersOnGarnetTests(GarnetUserService factory) : WritingUsersTests(factory), IClassFixture<GarnetUserService>;

public sealed class WritingUsersOnRedisServerTests(RedisServerUserService factory) : WritingUsersTests(factory), IClassFixture<RedisServerUserService>;
