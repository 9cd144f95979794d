using System.Net.Http.Json;
using System.Text.RegularExpressions;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Operations;

/// <summary>
/// The rules against the live service: the service on a redis-server of its own, reads and writes flowing,
/// and a real Prometheus scraping it and evaluating <c>deploy/prometheus/userservice.rules.yml</c> as written,
/// its windows and waits divided by sixty (<see cref="PrometheusServer.TestSized"/>).
/// </summary>
public sealed partial class LiveAlertingTests
{
    private static readonly TimeSpan Scraped = TimeSpan.FromSeconds(60);

    private static readonly string[] StoreDownAlerts = ["UserServiceStoreBreakerOpen", "UserServiceInstanceNotReady", "UserServiceAvailabilityBudgetBurning"];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryDashboardPanelsQueryReturnsSeriesFromTheLiveService()
    {
        await using var live = await LiveService.StartAsync();

        // Some series (a histogram's buckets after its first requests, the GC's heap after its first
        // collection) arrive a scrape or two after the first.
        foreach (var (panel, query) in DashboardTests.Queries(rateInterval: "5s"))
        {
            var series = await Eventually.MatchAsync(cancellation => live.Prometheus.QueryAsync(query, cancellation), found => found.Count > 0, Scraped);
            Assert.True(series.Count > 0, $"The panel {panel} shows nothing: {query}");
        }
    }

    [Fact]
    public async Task EveryRuleEvaluatesAndEverySeriesItReadsComesFromTheLiveService()
    {
        await using var live = await LiveService.StartAsync();

        var rules = await live.Prometheus.RulesAsync(Cancellation);

        Assert.All(rules, rule => Assert.True(rule.Health == "ok", $"{rule.Name}: {rule.Health} {rule.Error}"));
        foreach (var (name, _, _, _) in rules.Where(rule => rule.Name.Contains(':', StringComparison.Ordinal)))
        {
            Assert.NotEmpty(await live.Prometheus.QueryAsync(name, Cancellation));
        }

        // Every selector, without the status it asks for: a healthy service answers no 5xx and no 429.
        var selectors = rules.SelectMany(rule => Selector().Matches(rule.Query).Select(match => StatusMatcher().Replace(match.Value, "").Replace(",}", "}", StringComparison.Ordinal)))
            .Distinct()
            .ToList();
        Assert.Contains(selectors, selector => selector.StartsWith("health_ready{", StringComparison.Ordinal));
        foreach (var selector in selectors)
        {
            Assert.True((await live.Prometheus.QueryAsync(selector, Cancellation)).Count > 0, $"The live service exports no series for {selector}.");
        }
    }

    [Fact]
    public async Task StoreOutageFiresTheStoreAndAvailabilityAlertsAndStartingItAgainClearsThem()
    {
        await using var live = await LiveService.StartAsync();
        var quiet = await Eventually.MatchAsync(live.Prometheus.AlertsAsync, alerts => alerts.Count == 0, Scraped);
        Assert.Empty(quiet);

        await live.Store.KillAsync();
        var down = await Eventually.MatchAsync(
            live.Prometheus.AlertsAsync,
            alerts => StoreDownAlerts.All(alert => alerts.GetValueOrDefault(alert) == "firing"),
            Scraped);

        Assert.All(StoreDownAlerts, alert => Assert.Equal("firing", down.GetValueOrDefault(alert)));

        await live.Store.RestartAsync();
        var back = await Eventually.MatchAsync(
            live.Prometheus.AlertsAsync,
            alerts => !StoreDownAlerts.Any(alerts.ContainsKey),
            TimeSpan.FromSeconds(120));

        Assert.All(StoreDownAlerts, alert => Assert.False(back.ContainsKey(alert), $"{alert} is still {back.GetValueOrDefault(alert)}."));
    }

    /// <summary>
    /// The service on a store of its own with reads and writes flowing, scraped by Prometheus, once the rules
    /// have series for both route classes.
    /// </summary>
    private sealed class LiveService : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private Task traffic = Task.CompletedTask;

        private LiveService(DurableRedisServer store, ServiceProcess service, PrometheusServer prometheus) =>
            (Store, Service, Prometheus) = (store, service, prometheus);

        public DurableRedisServer Store { get; }

        public ServiceProcess Service { get; }

        public PrometheusServer Prometheus { get; }

        public static async Task<LiveService> StartAsync()
        {
            Engines.RequireInstalled(Engines.RedisServer);
            Engines.RequireProgram("prometheus", "prometheus");
            var store = await DurableRedisServer.StartAsync();
            var service = await ServiceProcess.StartAsync(store.ConnectionString);
            var live = new LiveService(store, service, await PrometheusServer.StartAsync(service.Management));
            live.traffic = live.SendAsync(live.stop.Token);
            var classes = await Eventually.MatchAsync(
                async cancellation => await live.Prometheus.QueryAsync("userservice:api_requests:rate5m", cancellation),
                series => series.Count == 2,
                Scraped);
            Assert.Equal(["read", "write"], classes.Select(series => series.Labels["class"]).Order());
            return live;
        }

        /// <summary>Five reads of one user and a create, over and over, each answer whatever it is.</summary>
        private async Task SendAsync(CancellationToken cancellation)
        {
            using var api = Service.CreateApiClient();
            var (_, user) = await api.CreateAsync(TestUsers.Unique());
            while (!cancellation.IsCancellationRequested)
            {
                try
                {
                    for (var read = 0; read < 5; read++)
                    {
                        (await api.GetAsync($"/api/users/{user.Id}", cancellation)).Dispose();
                    }

                    (await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), cancellation)).Dispose();
                    await Task.Delay(TimeSpan.FromMilliseconds(20), cancellation);
                }
                catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
                {
                    // The answer does not matter, only that requests keep coming.
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await traffic;
            await Prometheus.DisposeAsync();
            await Service.DisposeAsync();
            await Store.DisposeAsync();
            stop.Dispose();
        }
    }

    // A metric's selector: its name and label matchers.
    [GeneratedRegex(@"\b[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"http_response_status_code=~?""[^""]*"",?")]
    private static partial Regex StatusMatcher();
}
