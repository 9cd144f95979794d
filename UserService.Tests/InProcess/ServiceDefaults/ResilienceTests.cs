using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using Polly.Testing;

namespace UserService.Tests.InProcess.ServiceDefaults;

/// <summary>
/// Every HttpClient of a service gets the standard resilience pipeline from the service defaults, composed
/// as that pipeline should be, and it never repeats a request that may have changed something.
/// </summary>
public sealed class ResilienceTests
{
    private const string ClientName = "downstream";

    // Added to every client through ConfigureHttpClientDefaults, the handler has no client name to put
    // before its own: every client's pipeline and options go by this one name.
    private const string PipelineName = "-standard";

    [Fact]
    public async Task FailingGetIsRetriedUpToTheConfiguredAttempts()
    {
        var (client, server, options, _) = CreateClientAgainstAFailingServer();

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
        var (client, server, _, _) = CreateClientAgainstAFailingServer();

        using var request = new HttpRequestMessage(new HttpMethod(method), "http://downstream.test/items");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void StandardPipelineLimitsBoundsRetriesBreaksAndBoundsEachAttemptInThatOrder()
    {
        var (_, _, options, services) = CreateClientAgainstAFailingServer();

        var strategies = StandardPipeline(services).GetPipelineDescriptor().Strategies.Select(strategy => strategy.Options).ToList();

        Assert.Collection(
            strategies,
            limiter => Assert.IsType<HttpRateLimiterStrategyOptions>(limiter),
            total => Assert.Equal(options.TotalRequestTimeout.Timeout, Assert.IsType<HttpTimeoutStrategyOptions>(total).Timeout),
            retry => Assert.Equal(options.Retry.MaxRetryAttempts, Assert.IsType<HttpRetryStrategyOptions>(retry).MaxRetryAttempts),
            breaker => Assert.Equal(options.CircuitBreaker.FailureRatio, Assert.IsType<HttpCircuitBreakerStrategyOptions>(breaker).FailureRatio),
            attempt => Assert.Equal(options.AttemptTimeout.Timeout, Assert.IsType<HttpTimeoutStrategyOptions>(attempt).Timeout));
        Assert.True(options.TotalRequestTimeout.Timeout > options.AttemptTimeout.Timeout);
    }

    /// <summary>
    /// The standard handler's pipeline, from the registry the resilience package keeps it in. The registry's
    /// key type is internal to that package, hence the reflection.
    /// </summary>
    private static ResiliencePipeline<HttpResponseMessage> StandardPipeline(IServiceProvider services)
    {
        var keyType = typeof(HttpStandardResilienceOptions).Assembly.GetTypes().Single(type => type.Name == "HttpKey");
        var providerType = typeof(ResiliencePipelineProvider<>).MakeGenericType(keyType);
        var getPipeline = providerType.GetMethods()
            .Single(method => method.Name == nameof(ResiliencePipelineProvider<string>.GetPipeline) && method.IsGenericMethod && method.GetParameters().Length == 1)
            .MakeGenericMethod(typeof(HttpResponseMessage));
        var key = Activator.CreateInstance(keyType, PipelineName, string.Empty);
        return (ResiliencePipeline<HttpResponseMessage>)getPipeline.Invoke(services.GetRequiredService(providerType), [key])!;
    }

    private static (HttpClient Client, FailingServer Server, HttpStandardResilienceOptions Options, IServiceProvider Services) CreateClientAgainstAFailingServer()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddServiceDefaults();
        // Requests and retries are counted here, not read from a console log.
        builder.Logging.ClearProviders();
        // Attempts are what is under test, not the back-off between them.
        builder.Services.ConfigureAll<HttpStandardResilienceOptions>(options => options.Retry.Delay = TimeSpan.Zero);

        var server = new FailingServer();
        builder.Services.AddHttpClient(ClientName).ConfigurePrimaryHttpMessageHandler(() => server);

        var services = builder.Build().Services;
        var options = services.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get(PipelineName);
        return (services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName), server, options, services);
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
