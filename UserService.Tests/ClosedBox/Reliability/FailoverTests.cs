using System.Diagnostics;
using AppHost;
using Aspire.Hosting.ApplicationModel;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// A primary of the cluster engine killed with SIGKILL under eight writers: the cluster promotes its
/// replica, writes answer 503 for a few seconds and then succeed again, and every write the service
/// acknowledged, each confirmed by a replica before it was, is still there. The killed node comes back as a
/// supervisor would bring it back, and rejoins as the new primary's replica. Runs alone, with the other crashes.
/// </summary>
[Collection(DurabilityTests.Name)]
public sealed class FailoverTests
{
    private const int Writers = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>The longest writes may answer 503 after the kill.</summary>
    private static readonly TimeSpan Unavailability = TimeSpan.FromSeconds(10);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KillingAPrimaryUnderLoadLosesNoAcknowledgedWriteAndWritesResumeWithinTenSeconds()
    {
        Engines.RequireInstalled(Engines.Cluster);
        await using var host = await RunningAppHost.StartAsync(Engines.Cluster, cancellationToken: Cancellation);
        var connectionString = await host.CacheConnectionStringAsync();
        using var api = host.CreateApiClient();
        var load = WriteLoad.Start(Writers, host.CreateApiClient);
        await load.AcknowledgedAtLeastAsync(200, Timeout);

        // The primary of the id counter: every create goes through it, so every writer meets the failover.
        var node = await NodeServingAsync(host, connectionString, StoreLayout.NextId);
        var killedAt = DateTimeOffset.UtcNow;
        var acknowledgedAtKill = load.Acknowledged.Count;
        Process.GetProcessById(await host.PidAsync(node)).Kill();
        await host.App.ResourceNotifications.WaitForResourceAsync(node, KnownResourceStates.TerminalStates, Cancellation).WaitAsync(Timeout, Cancellation);
        await host.ExecuteCommandAsync(node, KnownResourceCommands.StartCommand);

        await load.AcknowledgedAtLeastAsync(acknowledgedAtKill + 200, Timeout);
        await load.StopAsync();

        var lastUnavailable = load.Unavailable.Where(at => at > killedAt).DefaultIfEmpty(killedAt).Max();
        var lost = await load.MissingAsync(api);
        Assert.True(load.ServerErrors.IsEmpty, $"{load.ServerErrors.Count} answers were 5xx other than 503:\n{Unhandled(host)}");
        Assert.True(lastUnavailable - killedAt <= Unavailability, $"Writes answered 503 until {(lastUnavailable - killedAt).TotalSeconds:0.0} s after the kill.");
        Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged users were lost: {string.Join(", ", lost.Take(20))}");
        await StoreInvariants.AssertConsistentAsync(connectionString);
        TestContext.Current.SendDiagnosticMessage(
            $"{load.Acknowledged.Count} writes acknowledged, {load.Unavailable.Count(at => at > killedAt)} answered 503 after the kill, the last {(lastUnavailable - killedAt).TotalSeconds:0.0} s after it.");
    }

    /// <summary>What the service logged of the exceptions it did not handle.</summary>
    private static string Unhandled(RunningAppHost host)
    {
        var lines = host.Logs.Lines.Where(line => line.StartsWith("[userservice", StringComparison.Ordinal)).ToList();
        var first = lines.FindIndex(line => line.Contains("nhandled", StringComparison.Ordinal));
        return first < 0 ? "(nothing logged)" : string.Join("\n", lines.Skip(first).Take(12));
    }

    /// <summary>The name of the node resource that is the primary for <paramref name="key"/> now.</summary>
    private static async Task<string> NodeServingAsync(RunningAppHost host, string connectionString, RedisKey key)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var port = ((System.Net.IPEndPoint)redis.GetServer(key).EndPoint).Port;
        var node = host.Resource(ResourceNames.Cache) is AppHost.Cache.RedisClusterResource cluster
            ? cluster.Nodes.Single(node => node.PrimaryEndpoint.Port == port)
            : throw new InvalidOperationException("The cache is not a cluster.");
        return node.Name;
    }
}
