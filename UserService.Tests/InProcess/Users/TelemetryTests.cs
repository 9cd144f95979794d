using System.Diagnostics;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

public sealed class TelemetryTests(GarnetUserService factory, DevelopmentUserService development)
    : IClassFixture<GarnetUserService>, IClassFixture<DevelopmentUserService>
{
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ReadingAUserYieldsAServerSpanWithAStoreClientSpanBeneathIt()
    {
        var (traced, exported, read) = await ReadAUserTracedAsync(redisCommandTracing: false);
        using var _ = traced;

        var chain = await Eventually.MatchAsync(_ => Task.FromResult(FindChain(exported.Snapshot(), read.Trace)), found => found.Store is not null, ExportTimeout);

        Assert.Equal(ActivityKind.Server, chain.Server?.Kind);
        Assert.Equal("store find", chain.Store?.DisplayName);
        Assert.Equal(ActivityKind.Client, chain.Store?.Kind);
        Assert.Equal("redis", chain.Store?.GetTagItem("db.system.name"));
        Assert.Null(chain.Redis);
    }

    [Fact]
    public async Task WithRedisCommandTracingOnAsInDevelopmentTheCommandSpanNestsUnderTheStoreSpan()
    {
        var (traced, exported, read) = await ReadAUserTracedAsync(redisCommandTracing: true);
        await StopToHandOverCommandSpansAsync(traced);

        var chain = await Eventually.MatchAsync(_ => Task.FromResult(FindChain(exported.Snapshot(), read.Trace)), found => found.Redis is not null, ExportTimeout);

        Assert.Equal("store find", chain.Store?.DisplayName);
        Assert.Equal(ActivityKind.Client, chain.Redis?.Kind);
    }

    [Fact]
    public async Task OnlyRequestsStartTracesWhileStoreWorkOutsideARequestIsNotTraced()
    {
        var (traced, exported, read) = await ReadAUserTracedAsync(redisCommandTracing: true);
        using var _ = traced;
        // A PING outside any request, as health checks send, and the repair that ran at start.
        await traced.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase().PingAsync();
        using (var api = traced.CreateClient().Authorize())
        {
            await GetTracedAsync(api, read.Path);
        }

        await StopToHandOverCommandSpansAsync(traced);
        var chains = await Eventually.MatchAsync(
            _ => Task.FromResult(exported.Snapshot()),
            all => all.Count(a => a.Source.Name.Contains("Redis", StringComparison.Ordinal) && a.ParentSpanId != default) >= 2,
            ExportTimeout);

        var roots = chains.Where(activity => activity.ParentSpanId == default).ToList();
        Assert.NotEmpty(roots);
        Assert.All(roots, root => Assert.Equal(ActivityKind.Server, root.Kind));
    }

    /// <summary>
    /// Asked of the service's sampler itself: spans of other tests' services in this process would reach any
    /// exporter here, sampled by their own samplers.
    /// </summary>
    [Theory]
    [InlineData(false, null, false, 1.0)]
    [InlineData(false, "0.25", false, 0.25)]
    [InlineData(false, "0", false, 0.0)]
    [InlineData(false, "0", true, 1.0)]
    [InlineData(true, "0", false, 1.0)]
    public void RequestsAreTracedByTheRatioOutsideDevelopmentAndAlwaysWithinATracedCallersTrace(
        bool inDevelopment, string? ratio, bool callerTraced, double expectedShare)
    {
        using var service = (inDevelopment ? (UserServiceFactory)development : factory).WithWebHostBuilder(builder => builder
            .UseSetting("OTEL_TRACES_SAMPLER_ARG", ratio));
        var sampler = service.Services.GetRequiredService<Sampler>();
        const int Requests = 2000;

        var traced = Enumerable.Range(0, Requests).Count(_ =>
        {
            var trace = ActivityTraceId.CreateRandom();
            var caller = callerTraced ? new ActivityContext(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true) : default;
            return sampler.ShouldSample(new SamplingParameters(caller, trace, "GET /api/users/{id}", ActivityKind.Server)).Decision
                == SamplingDecision.RecordAndSample;
        });

        // A share of random trace ids: within 5 standard deviations of the expected count.
        Assert.InRange(traced, Requests * expectedShare - 100, Requests * expectedShare + 100);
    }

    [Fact]
    public async Task ListRouteHasNoTrailingSlash()
    {
        var exported = new ExportedActivities();
        using var traced = factory.WithWebHostBuilder(builder => builder
            .ConfigureServices(services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(exported))));
        using var api = traced.CreateClient().Authorize();

        var trace = await GetTracedAsync(api, "/api/users?limit=1");

        var server = await Eventually.MatchAsync(
            _ => Task.FromResult(exported.Snapshot().FirstOrDefault(a => a.Kind == ActivityKind.Server && a.TraceId == trace)),
            found => found is not null,
            ExportTimeout);
        Assert.Equal("/api/users", server?.GetTagItem("http.route"));
    }

    [Fact]
    public void RedisCommandTracingIsOffOutsideDevelopmentAndOnInIt()
    {
        const string Key = "Aspire:StackExchange:Redis:DisableTracing";

        Assert.Equal("True", factory.Services.GetRequiredService<IConfiguration>()[Key], ignoreCase: true);
        Assert.Equal("False", development.Services.GetRequiredService<IConfiguration>()[Key], ignoreCase: true);
    }

    /// <summary>
    /// The Redis client hands its command spans over every 10 s, and when the service stops: stopping it
    /// spares the test the wait.
    /// </summary>
    private static async Task StopToHandOverCommandSpansAsync(WebApplicationFactory<UserService.Users.Store.UserStore> traced) =>
        await traced.DisposeAsync();

    /// <summary>Reads a new user through a service that exports its spans to memory.</summary>
    private async Task<(WebApplicationFactory<UserService.Users.Store.UserStore> Service, ExportedActivities Exported, (string Path, ActivityTraceId Trace) Read)> ReadAUserTracedAsync(bool redisCommandTracing)
    {
        var exported = new ExportedActivities();
        var traced = factory.WithWebHostBuilder(builder => builder
            .UseSetting("Aspire:StackExchange:Redis:DisableTracing", (!redisCommandTracing).ToString())
            .ConfigureServices(services => services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(exported))));
        using var api = traced.CreateClient().Authorize();
        var (_, created) = await api.CreateAsync(TestUsers.Unique());
        var path = $"/api/users/{created.Id}";

        return (traced, exported, (path, await GetTracedAsync(api, path)));
    }

    /// <summary>
    /// Reads <paramref name="path"/> in a trace of the test's own: the other tests' services run in this
    /// process too, their spans reach every exporter here, and their users have the same ids.
    /// </summary>
    private static async Task<ActivityTraceId> GetTracedAsync(HttpClient api, string path)
    {
        var trace = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        (await api.SendAsync(request, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        return trace;
    }

    /// <summary>The server span of the request in <paramref name="trace"/>, its store span, and a Redis span under that.</summary>
    private static (Activity? Server, Activity? Store, Activity? Redis) FindChain(IReadOnlyList<Activity> activities, ActivityTraceId trace)
    {
        var server = activities.FirstOrDefault(a => a.Kind == ActivityKind.Server && a.TraceId == trace);
        var store = activities.FirstOrDefault(a => server is not null && a.ParentSpanId == server.SpanId && a.Source.Name == "UserService");
        var redis = activities.FirstOrDefault(a => store is not null && a.ParentSpanId == store.SpanId && a.Source.Name.Contains("Redis", StringComparison.Ordinal));
        return (server, store, redis);
    }
}
