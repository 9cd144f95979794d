using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using AppHost;
using AppHost.Cache;

namespace Bench;

/// <summary>
/// One engine's run: a fresh store, the service and the baseline on it, the seed, a warm-up, then every
/// scenario against the service and, where it has one, the baseline.
/// </summary>
internal sealed class EngineRun(string engine, Options options, Tokens tokens, string logDirectory)
{
    private readonly string token = tokens.Create();

    public async Task<EngineResult> RunAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory($"userservice-bench-{engine}-").FullName;
        try
        {
            await using var store = await StartStoreAsync(dataDirectory);
            await using var service = await StartServiceAsync(store.Port);
            await using var baseline = await StartBaselineAsync(store.Port);
            var serviceUri = new Uri($"http://127.0.0.1:{service.Port}/");
            var baselineUri = new Uri($"http://127.0.0.1:{baseline.Port}/");

            Console.WriteLine($"[{engine}] seeding {options.Users:N0} users");
            await SeedAsync(serviceUri);

            Console.WriteLine($"[{engine}] warming up for {options.Warmup.TotalSeconds} s a scenario");
            foreach (var scenario in new[] { Scenario.GetById, Scenario.ListPage })
            {
                await LoadAsync(scenario, serviceUri, options.Warmup);
                await LoadAsync(scenario, baselineUri, options.Warmup);
            }

            service.Process.Refresh();
            var rssAfterWarmup = service.Process.WorkingSet64;
            var measurements = new List<Measurement>();
            foreach (var scenario in options.Scenarios)
            {
                var (result, usage) = await Usage.MeasureAsync(service.Process, () => LoadAsync(scenario, serviceUri, options.Duration));
                var baselineResult = scenario.HasBaseline ? await LoadAsync(scenario, baselineUri, options.Duration) : null;
                measurements.Add(new Measurement(engine, scenario, result, usage, baselineResult));
                Console.WriteLine(
                    $"[{engine}] {scenario.Name}: {result.RequestsPerSecond:N0} req/s, p99 {result.P99Milliseconds:N1} ms, {result.Errors} errors"
                    + (baselineResult is null ? "" : $"; baseline {baselineResult.RequestsPerSecond:N0} req/s"));
            }

            service.Process.Refresh();
            return new EngineResult(
                engine, measurements, rssAfterWarmup, service.Process.WorkingSet64, options.Users + measurements.Sum(m => m.Service.Requests));
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private Task<LoadResult> LoadAsync(Scenario scenario, Uri target, TimeSpan duration) =>
        Wrk.RunAsync(scenario.Script, target, duration, options.Connections, token, options.Users);

    /// <summary>The store with the persistence the AppHost gives it, so that writes cost what they cost there.</summary>
    private async Task<Server> StartStoreAsync(string dataDirectory)
    {
        var port = Server.FreePorts(1)[0];
        var listen = EngineFlags.Listen(port.ToString(CultureInfo.InvariantCulture));
        var store = engine switch
        {
            "garnet" => Server.Start("garnet", port, "dotnet",
                [Build.GarnetServer, .. listen, .. EngineFlags.GarnetScripts, .. EngineFlags.GarnetDurability(dataDirectory)], [], logDirectory),
            "redis-server" => Server.Start("redis-server", port, "redis-server",
                [.. listen, .. EngineFlags.RedisServerDurability(dataDirectory), "--save", ""], [], logDirectory),
            _ => throw new ArgumentException($"Unknown engine '{engine}': garnet or redis-server."),
        };
        await store.WaitUntilReadyAsync(() => PingAsync(port));
        return store;
    }

    /// <summary>The service as it runs in production, with the rate limiter raised out of the load's way.</summary>
    private async Task<Server> StartServiceAsync(int storePort)
    {
        var ports = Server.FreePorts(2);
        var (port, managementPort) = (ports[0], ports[1]);
        var service = Server.Start("userservice", port, "dotnet", [Build.Output("UserService")],
        [
            new("ASPNETCORE_ENVIRONMENT", "Production"),
            new("ASPNETCORE_URLS", $"http://127.0.0.1:{port};http://127.0.0.1:{managementPort}"),
            new("Management__Port", managementPort.ToString(CultureInfo.InvariantCulture)),
            new($"ConnectionStrings__{ResourceNames.Cache}", $"127.0.0.1:{storePort}"),
            new("RateLimiting__PermitLimit", "1000000000"),
            .. tokens.ServiceSettings(),
            .. options.ServiceSettings,
        ], logDirectory, Path.GetDirectoryName(Build.Output("UserService")));
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}/") };
        await service.WaitUntilReadyAsync(async () => (await management.GetAsync(UserServiceContract.HealthPath)).StatusCode == HttpStatusCode.OK);
        return service;
    }

    private async Task<Server> StartBaselineAsync(int storePort)
    {
        var port = Server.FreePorts(1)[0];
        var baseline = Server.Start("baseline", port, "dotnet", [Build.Output(Path.Combine("bench", "Baseline"))],
        [
            new("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"),
            new($"ConnectionStrings__{ResourceNames.Cache}", $"127.0.0.1:{storePort}"),
        ], logDirectory, Path.GetDirectoryName(Build.Output(Path.Combine("bench", "Baseline"))));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await baseline.WaitUntilReadyAsync(async () => (await client.GetAsync("/api/users/1")).StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound);
        return baseline;
    }

    /// <summary>Creates users 1 to <see cref="Options.Users"/> through the API, sixteen at a time.</summary>
    private async Task SeedAsync(Uri service)
    {
        using var client = new HttpClient { BaseAddress = service };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await Parallel.ForAsync(1, options.Users + 1, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellation) =>
        {
            using var response = await client.PostAsJsonAsync("/api/users", new { username = $"seed{i}", email = $"seed{i}@example.com" }, cancellation);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Seeding user {i} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
            }
        });
    }

    private static async Task<bool> PingAsync(int port)
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
