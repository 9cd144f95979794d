using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.Users;

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
    public async Task InvalidFieldsAnswerAValidationProblemNamingEachOne()
    {
        using var response = await Api.PostAsJsonAsync("/api/users",
            new { username = "No Spaces", email = "not-an-address", displayName = new string('x', 101) }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "username", "email", "displayName");
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("Alice")]
    [InlineData("al ice")]
    [InlineData("al\u0000ice")]
    [InlineData("")]
    public async Task UsernameOutsideTheRulesIsRefused(string username)
    {
        using var response = await Api.PostAsJsonAsync("/api/users", new { username, email = $"{Guid.NewGuid():N}@example.com" }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "username");
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("two@@example.com")]
    [InlineData("Name <name@example.com>")]
    [InlineData("name@localhost")]
    [InlineData("spa ce@example.com")]
    public async Task EmailThatIsNotASingleAddressIsRefused(string email)
    {
        using var response = await Api.PostAsJsonAsync("/api/users", new { username = TestUsers.Unique().Username, email }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "email");
    }

    [Fact]
    public async Task EmailLongerThan254CharactersIsRefused()
    {
        var email = new string('a', 64) + "@" + new string('b', 186) + ".com";

        using var response = await Api.PostAsJsonAsync("/api/users", new { username = TestUsers.Unique().Username, email }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "email");
    }

    [Theory]
    [InlineData("id", "1")]
    [InlineData("createdAt", "\"2020-01-01T00:00:00Z\"")]
    [InlineData("isAdmin", "true")]
    public async Task PropertyAClientMayNotSetIsRefused(string property, string json)
    {
        var user = TestUsers.Unique();
        var body = $$"""{"username":"{{user.Username}}","email":"{{user.Email}}","{{property}}":{{json}}}""";

        using var response = await Api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Empty((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={user.Username}", Cancellation))!);
    }

    [Theory]
    [InlineData("{\"username\":")]
    [InlineData("[]")]
    [InlineData("{\"username\":1,\"email\":true}")]
    public async Task BodyThatIsNotAUserAnswersBadRequestProblem(string body)
    {
        using var response = await Api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
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
        var (created, etag) = await CreateAsync();
        var replacement = TestUsers.Unique("New Name");

        using var response = await PutAsync(created.Id, replacement, etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var updated = await response.Content.ReadFromJsonAsync<UserDto>(Cancellation);
        Assert.Equal((created.Id, replacement.Username, replacement.Email, replacement.DisplayName),
            (updated!.Id, updated.Username, updated.Email, updated.DisplayName));
        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.True(updated.UpdatedAt >= created.UpdatedAt);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        Assert.Equal(updated, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Theory]
    [InlineData("\"41\"")]
    [InlineData("W/\"1\"")]
    [InlineData("garbage")]
    public async Task ReplaceWithAStaleOrForeignETagAnswersPreconditionFailedAndChangesNothing(string ifMatch)
    {
        var (created, _) = await CreateAsync();

        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{created.Id}")
        {
            Content = JsonContent.Create(TestUsers.Unique()),
        };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await Api.SendAsync(request, Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithoutIfMatchIsApplied()
    {
        var (created, _) = await CreateAsync();

        using var response = await PutAsync(created.Id, TestUsers.Unique(), etag: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ReplaceWithATakenUsernameAnswersConflictAndChangesNothing()
    {
        var (created, etag) = await CreateAsync();
        var (other, _) = await CreateAsync();

        using var response = await PutAsync(created.Id, new NewUser(other.Username, created.Email), etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    [Fact]
    public async Task ReplaceWithATakenEmailAnswersConflict()
    {
        var (created, etag) = await CreateAsync();
        var (other, _) = await CreateAsync();

        using var response = await PutAsync(created.Id, new NewUser(created.Username, other.Email), etag);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task RenameFreesTheOldUsernameAndEmail()
    {
        var (created, etag) = await CreateAsync();

        (await PutAsync(created.Id, TestUsers.Unique(), etag)).Dispose();

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email));
        Assert.Equal(created.Username, reused.Username);
    }

    [Fact]
    public async Task ReplaceOfAnUnknownIdAnswersNotFound()
    {
        using var response = await PutAsync(987654321, TestUsers.Unique(), etag: null);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ReplaceWithInvalidFieldsAnswersAValidationProblem()
    {
        var (created, etag) = await CreateAsync();

        using var response = await PutAsync(created.Id, new NewUser("x", "y"), etag);

        await ProblemAssert.IsValidationProblemAsync(response, "username", "email");
    }

    [Fact]
    public async Task DeleteAnswersNoContentAndTheUserIsGone()
    {
        var (created, _) = await CreateAsync();

        using var response = await Api.DeleteAsync($"/api/users/{created.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        using var afterwards = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);
        await ProblemAssert.IsProblemAsync(afterwards, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteFreesTheUsernameAndEmailForReuse()
    {
        var (created, _) = await CreateAsync();
        (await Api.DeleteAsync($"/api/users/{created.Id}", Cancellation)).Dispose();

        var (_, reused) = await Api.CreateAsync(new NewUser(created.Username, created.Email));

        Assert.NotEqual(created.Id, reused.Id);
    }

    [Fact]
    public async Task DeleteOfAnUnknownIdAnswersNotFound()
    {
        using var response = await Api.DeleteAsync("/api/users/987654321", Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteWithAStaleETagAnswersPreconditionFailedAndKeepsTheUser()
    {
        var (created, _) = await CreateAsync();

        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/users/{created.Id}");
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"7\""));
        using var response = await Api.SendAsync(request, Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    private async Task<(UserDto User, EntityTagHeaderValue ETag)> CreateAsync()
    {
        var (response, created) = await Api.CreateAsync(TestUsers.Unique());
        return (created, response.Headers.ETag!);
    }

    private async Task<HttpResponseMessage> PutAsync(long id, NewUser replacement, EntityTagHeaderValue? etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{id}") { Content = JsonContent.Create(replacement) };
        if (etag is not null)
        {
            request.Headers.IfMatch.Add(etag);
        }

        return await Api.SendAsync(request, Cancellation);
    }
}

public sealed class WritingUsersOnGarnetTests(GarnetUserService factory) : WritingUsersTests(factory), IClassFixture<GarnetUserService>;

public sealed class WritingUsersOnRedisServerTests(RedisServerUserService factory) : WritingUsersTests(factory), IClassFixture<RedisServerUserService>;
