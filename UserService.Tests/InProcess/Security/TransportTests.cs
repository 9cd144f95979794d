using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

public sealed class TransportTests(GarnetStoreServer store)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HttpsAnswersCarryHstsOutsideDevelopment()
    {
        await using var factory = new GarnetUserService(store);
        await factory.InitializeAsync();

        using var api = HttpsClient(factory);
        using var response = await api.GetAsync("/api/users?limit=1", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("max-age=31536000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task DevelopmentSendsNoHsts()
    {
        await using var factory = new DevelopmentUserService(store);
        await factory.InitializeAsync();

        using var api = HttpsClient(factory);
        using var response = await api.GetAsync("/api/users?limit=1", Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Uri.UriSchemeHttps, response.RequestMessage?.RequestUri?.Scheme);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task ForwardedForFromAnUntrustedPeerDoesNotEscapeTheRateLimit()
    {
        await using var factory = new RateLimitedUserService(store);
        await factory.InitializeAsync();
        using var anonymous = factory.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitedUserService.Limit; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users");
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            using var response = await anonymous.SendAsync(request, Cancellation);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    private static HttpClient HttpsClient(UserServiceFactory factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://users.example.com") }).Authorize();
}
