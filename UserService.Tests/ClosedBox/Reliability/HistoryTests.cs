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
        var verdict = await HistoryRun.RunAsync(host.CreateApiClient, faults, Quiet, cancellationToken: Cancellation);

        TestContext.Current.SendDiagnosticMessage(verdict.ToString());
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report)
        {
            await File.AppendAllTextAsync(report, $"{verdict.TableRow(host.Engine)}\n<!-- {verdict} -->\n", Cancellation);
        }

        Assert.True(verdict.Faults.Values.Sum() >= 6, verdict.ToString());
        Assert.True(verdict.AcknowledgedWrites >= 100, verdict.ToString());
        Assert.True(verdict.Holds, verdict.ToString());
        await StoreInvariants.AssertConsistentAsync(await host.CacheConnectionStringAsync());
    }
}
