using System.Text.RegularExpressions;
using History;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// The history checker's short runs: twelve clients that collide on eight usernames and emails, retrying as the
/// docs say, through two service replicas, while the store is killed, frozen and failed over and a replica of
/// the service is killed; then the checker judges every request and answer and the final state (see
/// <see cref="Checker"/>). Runs alone, with the other crashes: faults on a machine busy with other tests
/// would be judged by the machine.
/// </summary>
[Collection(DurabilityTests.Name)]
public sealed class HistoryTests
{
    private const int Replicas = 2;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ClusterKeepsEveryPromiseThroughFailoversStallsAndALaggingReplicaPromoted()
    {
        Engines.RequireInstalled(Engines.Cluster);
        await using var host = await RunningAppHost.StartAsync(Engines.Cluster, replicas: Replicas, cancellationToken: Cancellation);

        await RunAndCheckAsync(host, Nemesis(host).Cluster());
    }

    [Fact]
    public async Task RedisServerKeepsEveryPromiseThroughKillsAndStalls()
    {
        Engines.RequireInstalled(Engines.RedisServer);
        await using var host = await RunningAppHost.StartAsync(Engines.RedisServer, replicas: Replicas, cancellationToken: Cancellation);

        await RunAndCheckAsync(host, Nemesis(host).SingleNode());
    }

    /// <summary>Where each run's table row and verdict are appended, when set: CI prints them.</summary>
    public const string ReportVariable = "USERSERVICE_HISTORY_REPORT";

    private static Nemesis Nemesis(RunningAppHost host) => new(new AppHostStore(host), AppHostStore.Keys, new AppHostServices(host, Replicas));

    private static async Task RunAndCheckAsync(RunningAppHost host, IEnumerable<Fault> faults)
    {
        var historyFile = Path.Combine(Path.GetTempPath(), $"userservice-history-{Guid.NewGuid():N}.txt");
        try
        {
            await RunAndCheckAsync(host, faults, historyFile);
        }
        finally
        {
            File.Delete(historyFile);
        }
    }

    private static async Task RunAndCheckAsync(RunningAppHost host, IEnumerable<Fault> faults, string historyFile)
    {
        var verdict = await HistoryRun.RunAsync(host.CreateApiClient, faults, Quiet, historyFile: historyFile, cancellationToken: Cancellation);

        TestContext.Current.SendDiagnosticMessage(verdict.ToString());
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report)
        {
            await File.AppendAllTextAsync(report, $"{verdict.TableRow(host.Engine)}\n<!-- {verdict} -->\n", Cancellation);
        }

        Assert.True(verdict.Faults.Values.Sum() >= 6, verdict.ToString());
        Assert.True(verdict.AcknowledgedWrites >= 100, verdict.ToString());
        Assert.True(verdict.Holds, verdict + Trail(verdict, historyFile, host.Logs.Lines));
        await StoreInvariants.AssertConsistentAsync(await host.CacheConnectionStringAsync());
    }

    /// <summary>
    /// For a verdict that found a violation: every request and answer that names a user its examples name,
    /// and what the services logged of those users, so that a failure in CI can be read from its log alone.
    /// </summary>
    private static string Trail(Verdict verdict, string historyFile, IEnumerable<string> logs)
    {
        if (verdict.Holds || !File.Exists(historyFile))
        {
            return "";
        }

        var ids = verdict.Violations.Values.SelectMany(violation => violation.Examples)
            .SelectMany(example => Regex.Matches(example, @"user (\d+)").Select(match => match.Groups[1].Value))
            .Distinct().Take(3).ToList();
        var history = File.ReadLines(historyFile)
            .Where(line => ids.Any(id => line.Contains($"id={id} ", StringComparison.Ordinal) || line.Contains($"[{id} ", StringComparison.Ordinal) || line.Contains($"; {id} ", StringComparison.Ordinal)))
            .Take(80);
        var logged = logs.Where(line => ids.Any(id => line.Contains($"user {id}", StringComparison.Ordinal)) || line.Contains("repair", StringComparison.OrdinalIgnoreCase)).Take(40);
        return $"\nThe history of users {string.Join(", ", ids)}:\n{string.Join("\n", history)}\nWhat the services logged of them, and of the repair:\n{string.Join("\n", logged)}";
    }
}
