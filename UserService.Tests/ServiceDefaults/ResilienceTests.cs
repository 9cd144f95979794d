using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace UserService.Tests.ServiceDefaults;

/// <summary>
/// Every HttpClient of a service gets the standard resilience pipeline from the service defaults, and that
/// pipeline never repeats a request that may have changed something.
/// </summary>
public sealed class ResilienceTests
{
    private const string ClientName = "downstream";

    [Fact]
    public async Task FailingGetIsRetriedUpToTheConfiguredAttempts()
    {
        var (client, server, options) = CreateClientAgainstAFailingServer();

        using var response = await client.GetAsync("http://downstream.test/items", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(options.Retry.MaxRetryAttempts + 1, server.Requests);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task FailingUnsafeRequestIsSentOnce(string method)
    {
        var (client, server, _) = CreateClientAgainstAFailingServer();

        using var request = new HttpRequestMessage(new HttpMethod(method), "http://downstream.test/items");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    private static (HttpClient Client, FailingServer Server, HttpStandardResilienceOptions Options) CreateClientAgainstAFailingServer()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults();
        // Requests and retries are counted here, not read from a console log.
        builder.Logging.ClearProviders();
        // Attempts are what is under test, not the back-off between them.
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(options => options.Retry.Delay = TimeSpan.Zero);

        var server = new FailingServer();
        builder.Services.AddHttpClient(ClientName).ConfigurePrimaryHttpMessageHandler(() => server);

        var services = builder.Build().Services;
        var options = services.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get($"{ClientName}-standard");
        return (services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName), server, options);
    }

    /// <summary>Answers every request with 503 and counts them.</summary>
    private sealed class FailingServer : HttpMessageHandler
    {
        private int requests;

        public int Requests => requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref requests);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        }
    }
}
