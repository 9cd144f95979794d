using System.Net;
using System.Net.Http.Json;
using System.Text;
using AppHost;
using Aspire.Hosting.Testing;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// The service as the AppHost runs it, with two replicas behind the proxy: what it answers on its public and
/// its management ports, and the dashboard's token command. None of it depends on the engine, so it runs on
/// the one that needs nothing but the SDK.
/// </summary>
[Collection(GarnetAppHostCollection.Name)]
public sealed class ServiceEndpointTests(GarnetAppHost fixture)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

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
        var result = await fixture.Host.ExecuteCommandAsync(fixture.Host.Resource(ResourceNames.UserService), DevelopmentTokens.CommandName);

        using var api = fixture.Host.App.CreateHttpClient(ResourceNames.UserService, "http").Authorize(result.Data!.Value);
        using var response = await api.GetAsync("/api/users?limit=1", Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ApiIsNotServedOnTheManagementPortWhichAnswersProblemDetails()
    {
        using var management = fixture.Host.CreateManagementClient();

        using var response = await management.GetAsync("/api/users", Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
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
    public async Task ServiceMetricsAppearOnThePrometheusEndpoint()
    {
        var replica = (await fixture.Host.ReplicasAsync(expected: 2))[0];
        using var api = replica.CreateApiClient();
        using var management = replica.CreateManagementClient();
        await api.CreateAsync(TestUsers.Unique());

        // The exporter caches a scrape briefly.
        var metrics = await Eventually.MatchAsync(
            cancellation => management.GetStringAsync("/metrics", cancellation),
            text => text.Contains("userservice_users_created_total", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30));

        Assert.Contains("userservice_users_created_total", metrics);
        Assert.Contains("userservice_store_operation_duration_seconds_bucket", metrics);
    }
}
