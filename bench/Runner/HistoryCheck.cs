using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using History;
using UserService.Users.Store;
using UserService.Tests.Infrastructure;

namespace Bench;

/// <summary>
/// The history checker's long run (<c>--history &lt;seconds&gt;</c>): for each engine, the store with the
/// AppHost's persistence and two replicas of the service's Release build, the workload through both while
/// the faults come round again and again for the duration, and the checker's verdict. Every request and
/// answer goes to <c>bench/.out/history-{engine}.txt</c>.
/// </summary>
internal sealed class HistoryCheck(Options options, Tokens tokens, string logDirectory)
{
    /// <summary>The engines whose promises the checker judges: the single node whose crashes the docs promise most for, and the cluster.</summary>
    public static readonly string[] Engines = ["redis-server", "cluster"];

    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    private static readonly StoreKeys Keys = new(
        StoreLayout.NextId.ToString(),
        StoreLayout.Generation.ToString(),
        [.. Enumerable.Range(0, StoreLayout.Buckets).Select(bucket => StoreLayout.Data(bucket).ToString())]);

    public async Task<Verdict> RunAsync(string engine, TimeSpan duration)
    {
        var data = Directory.CreateTempSubdirectory($"userservice-history-{engine}-");
        try
        {
            await using var store = await Store.StartAsync(engine, data.FullName, cores: null, logDirectory);
            await using var replicas = await Replicas.StartAsync(store, engine, tokens, options, logDirectory);
            var token = tokens.Create();
            var clients = 0;
            HttpClient Client()
            {
                var port = replicas.Ports[Interlocked.Increment(ref clients) % replicas.Ports.Count];
                var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return client;
            }

            var nemesis = new Nemesis(store, Keys, replicas);
            var faults = engine == "cluster" ? nemesis.Cluster() : nemesis.SingleNode();
            Console.WriteLine($"[{engine}] history check for {duration.TotalSeconds:0} s: {faults.Count()} faults a round, again and again");
            var verdict = await HistoryRun.RunAsync(Client, Rounds(faults, duration), Quiet, historyFile: Path.Combine(logDirectory, $"history-{engine}.txt"));
            Console.WriteLine($"[{engine}] {verdict}");
            return verdict;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    /// <summary>The faults, round after round, until <paramref name="duration"/> has passed.</summary>
    private static IEnumerable<Fault> Rounds(IEnumerable<Fault> faults, TimeSpan duration)
    {
        var until = DateTime.UtcNow + duration;
        while (true)
        {
            foreach (var fault in faults)
            {
                if (DateTime.UtcNow >= until)
                {
                    yield break;
                }

                yield return fault;
            }
        }
    }

    public static string Markdown(IReadOnlyList<(string Engine, Verdict Verdict)> verdicts, TimeSpan duration)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Report.HistoryHeading}: the history checker, {duration.TotalMinutes:0.#} min an engine");
        text.AppendLine();
        text.AppendLine("Twelve clients on eight usernames and emails, through two service replicas, retrying as the docs say, while the store is killed, frozen and failed over and a service replica is killed; the checker judges every request and answer (`bench/History`, see docs/reliability.md).");
        text.AppendLine();
        text.AppendLine(Verdict.TableHeader);
        foreach (var (engine, verdict) in verdicts)
        {
            text.AppendLine(verdict.TableRow(engine));
        }

        return text.ToString();
    }

    /// <summary>
    /// The service's two replicas, each on ports of its own that it keeps when it is killed and started again,
    /// so that the clients bound to it find it there once it is back.
    /// </summary>
    private sealed class Replicas : IServiceHost, IAsyncDisposable
    {
        private readonly Server[] servers;
        private readonly int[][] ports;
        private readonly Func<string, int[], Task<Server>> start;
        private readonly string engine;
        private int kills;

        private Replicas(Server[] servers, int[][] ports, Func<string, int[], Task<Server>> start, string engine) =>
            (this.servers, this.ports, this.start, this.engine) = (servers, ports, start, engine);

        public IReadOnlyList<int> Ports => [.. ports.Select(pair => pair[0])];

        public static async Task<Replicas> StartAsync(Store store, string engine, Tokens tokens, Options options, string logDirectory)
        {
            Task<Server> Start(string name, int[] ports) =>
                EngineRun.StartServiceAsync(store, layout: null, name, tokens, options, logDirectory, Build.Output("UserService"), ports);

            int[][] ports = [FreePort.Next(2), FreePort.Next(2)];
            var servers = await Task.WhenAll(ports.Select((pair, replica) => Start(Name(engine, replica), pair)));
            return new Replicas(servers, ports, Start, engine);
        }

        public async Task KillReplicaAsync(CancellationToken cancellationToken)
        {
            var kill = kills++;
            var replica = kill % servers.Length;
            servers[replica].Process.Kill();
            await servers[replica].DisposeAsync();
            servers[replica] = await start($"{Name(engine, replica)}-after-kill-{kill + 1}", ports[replica]);
        }

        /// <summary>Each replica's log file is named after it.</summary>
        private static string Name(string engine, int replica) => $"history-{engine}-service-{replica + 1}";

        public async ValueTask DisposeAsync()
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }
}
