using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using AppHost;
using Aspire.Hosting.Testing;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.Topology;

/// <summary>
/// The whole topology through the AppHost: the user service talks to the cache that the engine runs,
/// its management endpoints are apart from its API, and the cache admits only its password.
/// </summary>
public abstract class TopologyTests(AppHostFixture fixture)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UserCreatedThroughTheApiIsReadBackByIdAndInTheList()
    {
        using var api = fixture.Host.CreateApiClient();
        var newUser = TestUsers.Unique();

        var (response, created) = await api.CreateAsync(newUser);

        Assert.Equal(newUser.Username, created.Username);
        Assert.Equal(newUser.Email, created.Email);
        Assert.Equal($"/api/users/{created.Id}", response.Headers.Location?.AbsolutePath);

        var byId = await api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation);
        Assert.Equal(created, byId);

        var page = await api.GetFromJsonAsync<UserDto[]>($"/api/users?after={created.Id - 1}&limit=1", Cancellation);
        Assert.Equal([created], page!);
    }

    [Fact]
    public async Task UnknownUserIdAnswersNotFoundWithProblemDetails()
    {
        using var api = fixture.Host.CreateApiClient();

        using var response = await api.GetAsync($"/api/users/{long.MaxValue}", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDto>(Cancellation);
        Assert.Equal(404, problem?.Status);
        Assert.Equal("User not found", problem?.Title);
    }

    [Theory]
    [InlineData("{\"username\":\"broken\",")]
    [InlineData("[]")]
    [InlineData("{\"username\":\"mallory\",\"email\":\"mallory@example.com\",\"id\":1}")]
    public async Task BodyThatIsNotACreateRequestAnswersBadRequestWithProblemDetails(string body)
    {
        using var api = fixture.Host.CreateApiClient();

        using var response = await api.PostAsync(
            "/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(400, (await response.Content.ReadFromJsonAsync<ProblemDto>(Cancellation))?.Status);
    }

    [Fact]
    public async Task BodyOver16KiBAnswersContentTooLarge()
    {
        using var api = fixture.Host.CreateApiClient();
        var user = TestUsers.Unique();
        var body = $$"""{"username":"{{user.Username}}","email":"{{user.Email}}","displayName":"{{new string('x', 17 * 1024)}}"}""";

        using var response = await api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty((await api.GetFromJsonAsync<UserDto[]>($"/api/users?username={user.Username}", Cancellation))!);
    }

    [Fact]
    public async Task InvalidFieldsAnswerAValidationProblemNamingEachField()
    {
        using var api = fixture.Host.CreateApiClient();

        using var response = await api.PostAsJsonAsync("/api/users", new NewUser("X", "not-an-address"), Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDto>(Cancellation);
        Assert.Equal(["email", "username"], problem!.Errors.Keys.Order());
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    [InlineData("/metrics")]
    public async Task ManagementEndpointAnswersOnTheManagementPortAndNotOnThePublicOne(string path)
    {
        using var management = fixture.Host.CreateManagementClient();
        using var api = fixture.Host.CreateApiClient();

        using var onManagement = await management.GetAsync(path, Cancellation);
        using var onPublic = await api.GetAsync(path, Cancellation);

        Assert.Equal(HttpStatusCode.OK, onManagement.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
    }

    [Fact]
    public async Task DashboardCommandCreatesATokenThatTheApiAccepts()
    {
        var userService = fixture.Host.Resource(ResourceNames.UserService);

        var result = await fixture.Host.App.ResourceCommands.ExecuteCommandAsync(userService, DevelopmentTokens.CommandName, Cancellation);

        Assert.True(result.Success, result.Message);
        using var api = fixture.Host.App.CreateHttpClient(ResourceNames.UserService, "http").Authorize(result.Data!.Value);
        using var response = await api.GetAsync("/api/users?limit=1", Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ApiIsNotServedOnTheManagementPort()
    {
        using var management = fixture.Host.CreateManagementClient();

        using var response = await management.GetAsync("/api/users", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task MetricsEndpointServesTheServiceMetricsInPrometheusFormat()
    {
        var replica = (await fixture.Host.ReplicasAsync(expected: 2))[0];
        using var api = replica.CreateApiClient();
        using var management = replica.CreateManagementClient();
        (await api.GetAsync("/api/users?limit=1", Cancellation)).Dispose();

        // The exporter caches a scrape briefly, so the request may show up in a later one.
        var metrics = await Eventually.MatchAsync(
            cancellation => management.GetStringAsync("/metrics", cancellation),
            text => text.Contains("http_route=\"/api/users\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));

        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", metrics);
        Assert.Contains("http_route=\"/api/users\"", metrics);
    }

    [Fact]
    public async Task CacheRefusesACommandFromAClientWithoutThePassword()
    {
        var options = ConfigurationOptions.Parse(await fixture.Host.CacheConnectionStringAsync());
        var endpoint = (DnsEndPoint)options.EndPoints.Single();

        // Raw RESP, because a client library without the password would not get as far as sending a command.
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port, Cancellation);
        await using var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), Cancellation);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, Cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Cancellation);

        Assert.StartsWith("-NOAUTH", Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task StorePasswordAppearsInNoLogLine()
    {
        using var api = fixture.Host.CreateApiClient();
        await api.CreateAsync(TestUsers.Unique());
        (await api.GetAsync("/api/users/1", Cancellation)).Dispose();

        var lines = fixture.Host.Logs.Lines;

        Assert.Contains(lines, line => line.Contains("Ready to accept connections", StringComparison.Ordinal));
        var leaks = lines
            .Where(line => line.Contains(fixture.Host.Password, StringComparison.Ordinal))
            .Select(line => line.Replace(fixture.Host.Password, "<password>", StringComparison.Ordinal))
            .ToList();
        Assert.True(leaks.Count == 0, "The store password was logged:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public async Task CacheAnswersAClientWithThePassword()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(await fixture.Host.CacheConnectionStringAsync());

        var key = $"tests:{Guid.NewGuid():N}";
        await redis.GetDatabase().StringSetAsync(key, "value", TimeSpan.FromMinutes(1));

        Assert.Equal("value", await redis.GetDatabase().StringGetAsync(key));
    }
}

[Collection(GarnetAppHostCollection.Name)]
public sealed class GarnetTopologyTests(GarnetAppHost fixture) : TopologyTests(fixture);

[Collection(RedisServerAppHostCollection.Name)]
public sealed class RedisServerTopologyTests(RedisServerAppHost fixture) : TopologyTests(fixture);
