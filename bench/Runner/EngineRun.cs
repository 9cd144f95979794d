using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using AppHost;
using UserService.Tests.Infrastructure;

namespace Bench;

/// <summary>
/// One engine's run: a fresh store and the seed, then for each core count a fresh service and baseline,
/// their warm-up curves, a warm-up, and every scenario against the service and, where it has one, the
/// baseline.
/// </summary>
internal sealed class EngineRun(string engine, Options options, Tokens tokens, string logDirectory)
{
    private readonly string token = tokens.Create();

    public async Task<EngineResult> RunAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory($"userservice-bench-{engine}-").FullName;
        try
        {
            var storeCores = options.Cores.Max() is { } most ? CoreLayout.For(most, Environment.ProcessorCount).Store : null;
            await using var store = await Store.StartAsync(engine, dataDirectory, storeCores, logDirectory);
            await using (var seeding = await StartServiceAsync(store, layout: null, "userservice-seeding"))
            {
                Console.WriteLine($"[{engine}] seeding {options.Users:N0} users");
                await SeedAsync(new Uri($"http://127.0.0.1:{seeding.Port}/"), token, options.Users);
            }

            var runs = new List<CoreRun>();
            foreach (var cores in options.Cores)
            {
                runs.Add(await RunOnCoresAsync(store, cores is { } count ? CoreLayout.For(count, Environment.ProcessorCount) : null));
            }

            return new EngineResult(engine, runs);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private async Task<CoreRun> RunOnCoresAsync(Store store, CoreLayout? layout)
    {
        var label = layout is null ? $"[{engine}]" : $"[{engine}, {layout.ServerCores} cores]";
        var (service, serviceWarmup) = await StartUnderLoadAsync(() => StartServiceAsync(store, layout, $"userservice{Suffix(layout)}"), layout);
        await using var _ = service;
        var (baseline, baselineWarmup) = await StartUnderLoadAsync(() => StartBaselineAsync(store, layout, $"baseline{Suffix(layout)}"), layout);
        await using var __ = baseline;
        var serviceUri = new Uri($"http://127.0.0.1:{service.Port}/");
        var baselineUri = new Uri($"http://127.0.0.1:{baseline.Port}/");
        Console.WriteLine($"{label} warm-up curves: service {Curve(serviceWarmup)}; baseline {Curve(baselineWarmup)}");

        Console.WriteLine($"{label} warming up for {options.Warmup.TotalSeconds} s a scenario");
        foreach (var scenario in new[] { Scenario.GetById, Scenario.ListPage })
        {
            await LoadAsync(scenario, serviceUri, options.Warmup, layout);
            await LoadAsync(scenario, baselineUri, options.Warmup, layout);
        }

        service.Process.Refresh();
        var rssAfterWarmup = service.Process.WorkingSet64;
        var measurements = new List<Measurement>();
        foreach (var scenario in options.Scenarios)
        {
            var (result, usage) = await Usage.MeasureAsync(service.Process, () => LoadAsync(scenario, serviceUri, options.Duration, layout));
            var (baselineResult, baselineUsage) = scenario.HasBaseline
                ? await Usage.MeasureAsync(baseline.Process, () => LoadAsync(scenario, baselineUri, options.Duration, layout))
                : default;
            var measurement = new Measurement(scenario, result, usage, baselineResult, scenario.HasBaseline ? baselineUsage : null);
            measurements.Add(measurement);
            Console.WriteLine(
                $"{label} {scenario.Name}: {result.RequestsPerSecond:N0} req/s, p99 {result.P99Milliseconds:N1} ms, {measurement.ServiceCpuPerRequest:N1} µs CPU a request, {result.Errors} errors"
                + (baselineResult is null ? "" : $"; baseline {baselineResult.RequestsPerSecond:N0} req/s, {measurement.BaselineCpuPerRequest:N1} µs"));
        }

        service.Process.Refresh();
        return new CoreRun(
            layout?.ServerCores, measurements, serviceWarmup, baselineWarmup, rssAfterWarmup, service.Process.WorkingSet64, measurements.Sum(m => m.Service.Requests));
    }

    /// <summary>
    /// Starts a server and puts it under get-by-id load the moment it answers, one second of wrk at a time,
    /// for <see cref="Options.WarmupCurve"/>: how fast a new replica serves what a busy one does.
    /// </summary>
    private async Task<(Server Server, WarmupCurve Curve)> StartUnderLoadAsync(Func<Task<Server>> start, CoreLayout? layout)
    {
        var started = DateTime.UtcNow;
        var server = await start();
        var ready = DateTime.UtcNow - started;
        var target = new Uri($"http://127.0.0.1:{server.Port}/");
        var rates = new List<double>();
        for (var second = 0; second < options.WarmupCurve.TotalSeconds; second++)
        {
            rates.Add((await LoadAsync(Scenario.GetById, target, TimeSpan.FromSeconds(1), layout)).RequestsPerSecond);
        }

        return (server, new WarmupCurve(ready, rates));
    }

    /// <summary>Each server's log file is named after its run.</summary>
    private string Suffix(CoreLayout? layout) => $"-{engine}" + (layout is null ? "" : $"-{layout.ServerCores}cores");

    private static string Curve(WarmupCurve curve) =>
        $"ready in {curve.StartToReady.TotalSeconds:0.0} s, then {string.Join(" ", curve.RequestsPerSecond.Select(rate => $"{rate / 1000:0.#}k"))} req/s";

    private Task<LoadResult> LoadAsync(Scenario scenario, Uri target, TimeSpan duration, CoreLayout? layout) =>
        Wrk.RunAsync(scenario.Script, target, duration, options.Connections, token, options.Users, layout);

    private Task<Server> StartServiceAsync(Store store, CoreLayout? layout, string name) =>
        StartServiceAsync(store, layout, name, tokens, options, logDirectory);

    /// <summary>The service as it runs in production, with the rate limiter raised out of the load's way.</summary>
    internal static Task<Server> StartServiceAsync(Store store, CoreLayout? layout, string name, Tokens tokens, Options options, string logDirectory) =>
        StartServiceAsync(store, layout, name, tokens, options, logDirectory, Build.Output("UserService"), FreePort.Next(2));

    /// <summary>
    /// A build of the service on its public and management <paramref name="ports"/>: <paramref name="assembly"/>
    /// run by <c>dotnet</c>, or a Native AOT executable run as it is.
    /// </summary>
    internal static async Task<Server> StartServiceAsync(
        Store store, CoreLayout? layout, string name, Tokens tokens, Options options, string logDirectory, string assembly, int[] ports)
    {
        var (port, managementPort) = (ports[0], ports[1]);
        var (fileName, arguments) = Build.Command(assembly);
        var service = Server.Start(name, port, fileName, arguments,
        [
            new("ASPNETCORE_ENVIRONMENT", "Production"),
            new("ASPNETCORE_URLS", $"http://127.0.0.1:{port};http://127.0.0.1:{managementPort}"),
            new("Management__Port", managementPort.ToString(CultureInfo.InvariantCulture)),
            new($"ConnectionStrings__{ResourceNames.Cache}", store.ConnectionString),
            new("RateLimiting__PermitLimit", "1000000000"),
            .. store.ServiceSettings,
            .. tokens.ServiceSettings(),
            .. options.ServiceSettings,
        ], logDirectory, Path.GetDirectoryName(assembly), layout?.Server);
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/") };
        await service.WaitUntilReadyAsync(async () => (await management.GetAsync(UserServiceContract.HealthPath)).StatusCode == HttpStatusCode.OK);
        return service;
    }

    private Task<Server> StartBaselineAsync(Store store, CoreLayout? layout, string name) =>
        StartBaselineAsync(store, layout, name, logDirectory, Build.Output(Path.Combine("bench", "Baseline")));

    /// <summary>A build of the baseline: <paramref name="build"/> run by <c>dotnet</c>, or a Native AOT executable run as it is.</summary>
    internal static async Task<Server> StartBaselineAsync(Store store, CoreLayout? layout, string name, string logDirectory, string build)
    {
        var port = FreePort.Next(1)[0];
        var (fileName, arguments) = Build.Command(build);
        var baseline = Server.Start(name, port, fileName, arguments,
        [
            new("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"),
            new($"ConnectionStrings__{ResourceNames.Cache}", store.ConnectionString),
        ], logDirectory, Path.GetDirectoryName(build), layout?.Server);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await baseline.WaitUntilReadyAsync(async () => (await client.GetAsync("/api/users/1")).StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound);
        return baseline;
    }

    /// <summary>Creates users 1 to <paramref name="users"/> through the API, sixteen at a time.</summary>
    internal static async Task SeedAsync(Uri service, string token, int users)
    {
        using var client = new HttpClient { BaseAddress = service };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await Parallel.ForAsync(1, users + 1, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellation) =>
        {
            using var response = await client.PostAsJsonAsync("/api/users", new { username = $"seed{i}", email = $"seed{i}@example.com" }, cancellation);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Seeding user {i} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
            }
        });
    }

    /// <summary>Whether a store answers PING on <paramref name="port"/>.</summary>
    internal static async Task<bool> PingAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
    }
}
