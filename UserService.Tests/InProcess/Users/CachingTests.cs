using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>
/// Pages and lookups are served from the shared output cache, reads by id straight from the store, and no
/// read after a write sees the old data.
/// </summary>
public abstract class CachingTests(UserServiceFactory factory)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Theory]
    [InlineData("page")]
    [InlineData("username")]
    [InlineData("email")]
    public async Task RepeatedListOrLookupIsServedFromTheCache(string read)
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());
        var path = PathOf(read, created);

        using var first = await Api.GetAsync(path, Cancellation);
        using var second = await Api.GetAsync(path, Cancellation);

        Assert.False(first.Headers.Age.HasValue);
        Assert.True(second.Headers.Age.HasValue, "The second read should come from the output cache.");
        Assert.Equal(await first.Content.ReadAsStringAsync(Cancellation), await second.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task ReadByIdIsAnsweredByTheStoreEveryTime()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());

        using var first = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);
        using var second = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);

        Assert.False(second.Headers.Age.HasValue, "A read by id is one store round trip; a cache could only add one.");
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
    }

    [Fact]
    public async Task ReadsByDifferentCallersShareTheCache()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());

        using var first = await GetAsAsync("reader-one", $"/api/users?username={created.Username}");
        using var second = await GetAsAsync("reader-two", $"/api/users?username={created.Username}");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(second.Headers.Age.HasValue, "A bearer token must not turn the cache off.");
    }

    [Fact]
    public async Task CachedAnswerIsNotServedToACallerWithoutAToken()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());
        await WarmAsync($"/api/users?username={created.Username}");

        using var anonymousClient = factory.CreateClient();
        using var anonymous = await anonymousClient.GetAsync($"/api/users?username={created.Username}", Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    /// <summary>The output cache's entries in the store (the Redis output cache names them <c>__MSOCV_</c>...).</summary>
    private static async Task<List<RedisKey>> CachedAnswersAsync(ConnectionMultiplexer redis) =>
        await redis.GetServers().Single().KeysAsync(pattern: "__MSOCV_*").ToListAsync();

    private static string PathOf(string read, UserDto user) => read switch
    {
        "page" => $"/api/users?after={user.Id - 1}&limit=1",
        "username" => $"/api/users?username={user.Username}",
        _ => $"/api/users?email={user.Email}",
    };

    [Fact]
    public async Task ReadAfterAReplaceSeesTheNewData()
    {
        var (created, etag) = await Api.CreateWithETagAsync();
        await WarmAsync($"/api/users?username={created.Username}", $"/api/users?after={created.Id - 1}&limit=1");

        (await Api.ReplaceUserAsync(created.Id, TestUsers.Unique("Replaced"), etag)).EnsureSuccessStatusCode();

        var byId = await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation);
        var byOldName = await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={created.Username}", Cancellation);
        var page = await Api.GetFromJsonAsync<UserDto[]>($"/api/users?after={created.Id - 1}&limit=1", Cancellation);
        Assert.Equal("Replaced", byId!.DisplayName);
        Assert.Empty(byOldName!);
        Assert.Equal("Replaced", Assert.Single(page!).DisplayName);
    }

    [Fact]
    public async Task ReadAfterADeleteSeesTheUserGone()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());
        await WarmAsync($"/api/users?after={created.Id - 1}&limit=1");

        (await Api.DeleteAsync($"/api/users/{created.Id}", Cancellation)).EnsureSuccessStatusCode();

        using var byId = await Api.GetAsync($"/api/users/{created.Id}", Cancellation);
        Assert.Equal(HttpStatusCode.NotFound, byId.StatusCode);
        Assert.DoesNotContain(created.Id, (await Api.GetFromJsonAsync<UserDto[]>($"/api/users?after={created.Id - 1}&limit=1", Cancellation))!.Select(u => u.Id));
    }

    [Fact]
    public async Task ReadAfterACreateSeesTheNewUser()
    {
        var (_, existing) = await Api.CreateAsync(TestUsers.Unique());
        var newcomer = TestUsers.Unique();
        await WarmAsync($"/api/users?after={existing.Id}", $"/api/users?username={newcomer.Username}");

        var (_, created) = await Api.CreateAsync(newcomer);

        Assert.Contains(created, (await Api.GetFromJsonAsync<UserDto[]>($"/api/users?after={existing.Id}", Cancellation))!);
        Assert.Equal([created], (await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={newcomer.Username}", Cancellation))!);
    }

    [Fact]
    public async Task WriteFreesTheCachedAnswersItMadeUnreachable()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());
        await WarmAsync($"/api/users?username={created.Username}");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        Assert.NotEmpty(await CachedAnswersAsync(redis));

        await Api.CreateAsync(TestUsers.Unique());

        var left = await Eventually.MatchAsync(_ => CachedAnswersAsync(redis), answers => answers.Count == 0, TimeSpan.FromSeconds(10));
        Assert.Empty(left);
    }

    [Fact]
    public async Task ReadsThatDifferOnlyInHostJunkOrSpellingAddNoCachedAnswers()
    {
        var (_, created) = await Api.CreateAsync(TestUsers.Unique());
        var page = $"/api/users?after={created.Id - 1}&limit=2";
        await WarmAsync(page);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var before = (await CachedAnswersAsync(redis)).Count;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 1_000; i++)
        {
            var spelling = (i % 4) switch
            {
                0 => page,
                1 => $"/api/users?limit=0002&after={created.Id - 1}",
                2 => $"/API/Users?AFTER={created.Id - 1}&Limit=2",
                _ => $"{page}&junk{i}={i}",
            };
            using var request = new HttpRequestMessage(HttpMethod.Get, spelling);
            request.Headers.Host = $"host-{i}.example";
            using var response = await Api.SendAsync(request, Cancellation);
            statuses.Add(response.StatusCode);
        }

        var after = (await CachedAnswersAsync(redis)).Count;
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(after <= before, $"The reads added {after - before} cached answers to the {before} there were.");
    }

    [Fact]
    public async Task RefusedReadIsNotCached()
    {
        using var first = await Api.GetAsync("/api/users?limit=0", Cancellation);
        using var again = await Api.GetAsync("/api/users?limit=0", Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.False(again.Headers.Age.HasValue, "Only successful reads belong in the cache.");
    }

    /// <summary>Reads each path twice, so that the answer is in the cache before the write.</summary>
    private async Task WarmAsync(params string[] paths)
    {
        foreach (var path in paths)
        {
            (await Api.GetAsync(path, Cancellation)).Dispose();
            using var cached = await Api.GetAsync(path, Cancellation);
            Assert.True(cached.Headers.Age.HasValue, $"{path} should be cached before the write.");
        }
    }

    private async Task<HttpResponseMessage> GetAsAsync(string subject, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create(subject: subject));
        return await Api.SendAsync(request, Cancellation);
    }
}

public sealed class CachingOnGarnetTests(GarnetUserService factory) : CachingTests(factory), IClassFixture<GarnetUserService>;

public sealed class CachingOnRedisServerTests(RedisServerUserService factory) : CachingTests(factory), IClassFixture<RedisServerUserService>;
