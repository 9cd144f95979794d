using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>Reads as each engine answers them: by id, by page and by lookup.</summary>
public abstract class ReadingUsersTests(UserServiceFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Fact]
    public async Task UserIsReturnedWithItsETag()
    {
        var (created, _) = await CreateAsync(TestUsers.Unique("Ada"));

        using var response = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(created, await response.Content.ReadFromJsonAsync<UserDto>(Cancellation));
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.False(response.Headers.ETag!.IsWeak);
    }

    [Fact]
    public async Task UnknownIdAnswersNotFoundProblem()
    {
        using var response = await Api.GetAsync("/api/users/987654321", Cancellation);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("User not found", problem.Title);
        Assert.Contains("987654321", problem.Detail);
    }

    [Fact]
    public async Task PageHoldsTheUsersAfterTheCursorInIdOrder()
    {
        var first = await CreateAsync(TestUsers.Unique());
        var second = await CreateAsync(TestUsers.Unique());
        var third = await CreateAsync(TestUsers.Unique());

        var page = await Api.GetFromJsonAsync<UserDto[]>($"/api/users?after={first.User.Id}&limit=2", Cancellation);

        Assert.Equal([second.User, third.User], page!);
    }

    [Fact]
    public async Task LinkHeaderPointsToTheNextPageWhileMoreRemain()
    {
        var first = await CreateAsync(TestUsers.Unique());
        var second = await CreateAsync(TestUsers.Unique());

        using var full = await Api.GetAsync($"/api/users?after={first.User.Id - 1}&limit=1", Cancellation);

        Assert.Equal(
            $"</api/users?after={first.User.Id}&limit=1>; rel=\"next\"",
            Assert.Single(full.Headers.GetValues("Link")));

        using var last = await Api.GetAsync($"/api/users?after={second.User.Id}&limit=1", Cancellation);
        Assert.Empty((await last.Content.ReadFromJsonAsync<UserDto[]>(Cancellation))!);
        Assert.False(last.Headers.Contains("Link"));
    }

    [Fact]
    public async Task ListWithoutParametersAnswersAnArrayOfUsersAsTheOriginalServiceDid()
    {
        var (created, _) = await CreateAsync(TestUsers.Unique());

        var users = await Api.GetFromJsonAsync<UserDto[]>("/api/users", Cancellation);

        Assert.Contains(created, users!);
    }

    [Fact]
    public async Task UsernameFilterFindsTheUserWhateverTheCase()
    {
        var (created, _) = await CreateAsync(TestUsers.Unique());

        var found = await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={created.Username.ToUpperInvariant()}", Cancellation);

        Assert.Equal([created], found!);
    }

    [Fact]
    public async Task EmailFilterFindsTheUserWhateverTheCase()
    {
        var (created, _) = await CreateAsync(TestUsers.Unique());

        var found = await Api.GetFromJsonAsync<UserDto[]>($"/api/users?email={Uri.EscapeDataString(created.Email.ToUpperInvariant())}", Cancellation);

        Assert.Equal([created], found!);
    }

    [Fact]
    public async Task FiltersThatMatchNobodyAnswerAnEmptyArray()
    {
        var (created, _) = await CreateAsync(TestUsers.Unique());

        var unknown = await Api.GetFromJsonAsync<UserDto[]>("/api/users?username=nobody-by-this-name", Cancellation);
        var mismatched = await Api.GetFromJsonAsync<UserDto[]>(
            $"/api/users?username={created.Username}&email=someone-else@example.com", Cancellation);

        Assert.Empty(unknown!);
        Assert.Empty(mismatched!);
    }

    private async Task<(UserDto User, HttpResponseMessage Response)> CreateAsync(NewUser user)
    {
        var (response, created) = await Api.CreateAsync(user);
        return (created, response);
    }
}

public sealed class ReadingUsersOnGarnetTests(GarnetUserService factory) : ReadingUsersTests(factory), IClassFixture<GarnetUserService>;

public sealed class ReadingUsersOnRedisServerTests(RedisServerUserService factory) : ReadingUsersTests(factory), IClassFixture<RedisServerUserService>;
