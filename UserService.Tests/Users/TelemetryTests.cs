using System.Collections;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.Users;

public sealed class TelemetryTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ReadingAUserYieldsAServerSpanWithAStoreSpanAndARedisSpanBeneathIt()
    {
        var exported = new ExportedActivities();
        using var traced = factory.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(exported))));
        using var api = traced.CreateClient().Authorize();
        var (_, created) = await api.CreateAsync(TestUsers.Unique());

        (await api.GetAsync($"/api/users/{created.Id}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        var chain = await Eventually.MatchAsync(
            _ => Task.FromResult(FindChain(exported.Snapshot(), $"/api/users/{created.Id}")),
            found => found is not null,
            ExportTimeout);
        Assert.NotNull(chain);
        Assert.Equal(ActivityKind.Server, chain.Value.Server.Kind);
        Assert.Equal("store find", chain.Value.Store.DisplayName);
        Assert.Equal(ActivityKind.Client, chain.Value.Redis.Kind);
    }

    /// <summary>The server span of the request to <paramref name="path"/>, its store span and a Redis span under that.</summary>
    private static (Activity Server, Activity Store, Activity Redis)? FindChain(IReadOnlyList<Activity> activities, string path)
    {
        var server = activities.FirstOrDefault(a => a.Kind == ActivityKind.Server && (string?)a.GetTagItem("url.path") == path);
        var store = activities.FirstOrDefault(a => server is not null && a.ParentSpanId == server.SpanId && a.Source.Name == "UserService");
        var redis = activities.FirstOrDefault(a => store is not null && a.ParentSpanId == store.SpanId && a.Source.Name.Contains("Redis", StringComparison.Ordinal));
        return server is null || store is null || redis is null ? null : (server, store, redis);
    }

    /// <summary>The exporter adds from its own thread while the test reads.</summary>
    private sealed class ExportedActivities : ICollection<Activity>
    {
        private readonly List<Activity> activities = [];

        public int Count { get { lock (activities) { return activities.Count; } } }

        public bool IsReadOnly => false;

        public IReadOnlyList<Activity> Snapshot() { lock (activities) { return [.. activities]; } }

        public void Add(Activity item) { lock (activities) { activities.Add(item); } }

        public void Clear() { lock (activities) { activities.Clear(); } }

        public bool Contains(Activity item) { lock (activities) { return activities.Contains(item); } }

        public void CopyTo(Activity[] array, int arrayIndex) { lock (activities) { activities.CopyTo(array, arrayIndex); } }

        public bool Remove(Activity item) { lock (activities) { return activities.Remove(item); } }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
