using Aspire.Hosting.ApplicationModel;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Topology;

/// <summary>
/// Two replicas behind the AppHost's proxy, and one of them stopped while writes run through it: the other
/// keeps answering, and every write either replica acknowledged is in the store.
/// </summary>
public sealed class ReplicaStopTests
{
    private const int Writers = 8;
    private const int WritesAfterTheStop = 100;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoppingOneOfTwoReplicasUnderLoadLosesNoAcknowledgedWriteAndTheOtherKeepsAnswering()
    {
        await using var host = await RunningAppHost.StartAsync(Engines.Garnet, replicas: 2, cancellationToken: Cancellation);
        var stopped = (await host.ReplicasAsync(expected: 2))[0];
        // Eight requests at once hold eight connections, which the proxy spreads over both replicas.
        var load = WriteLoad.Start(Writers, host.CreateApiClient);

        await Eventually.MatchAsync(_ => Task.FromResult(CreatedBy(host, stopped)), created => created > 0, Timeout);
        await host.ExecuteCommandAsync(stopped.Id, KnownResourceCommands.StopCommand);
        await WaitUntilStoppedAsync(host, stopped);
        var acknowledgedAtStop = load.Acknowledged.Count;
        var afterStop = await Eventually.MatchAsync(
            _ => Task.FromResult(load.Acknowledged.Count - acknowledgedAtStop), count => count >= WritesAfterTheStop, Timeout);
        await load.StopAsync();

        Assert.True(afterStop >= WritesAfterTheStop, $"Only {afterStop} writes were acknowledged after the stop.");
        Assert.Empty(load.ServerErrors);
        using var api = host.CreateApiClient();
        var lost = await load.MissingAsync(api);

        Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged users were lost: {string.Join(", ", lost.Take(20))}");
        await StoreInvariants.AssertConsistentAsync(await host.CacheConnectionStringAsync());
        TestContext.Current.SendDiagnosticMessage(
            $"{load.Acknowledged.Count} writes acknowledged, {afterStop} after the stop; callers saw {load.Unanswered.Count} requests go unanswered and {load.Unavailable.Count} answered 503.");
    }

    /// <summary>Users the replica logged as created: proof that the proxy sent it part of the load.</summary>
    private static int CreatedBy(RunningAppHost host, Replica replica) =>
        host.Logs.Lines.Count(line => line.StartsWith($"[{replica.Id}]", StringComparison.Ordinal) && line.Contains("Created user", StringComparison.Ordinal));

    private static async Task WaitUntilStoppedAsync(RunningAppHost host, Replica replica)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        timeout.CancelAfter(Timeout);
        await foreach (var update in host.App.ResourceNotifications.WatchAsync(timeout.Token))
        {
            if (update.ResourceId == replica.Id && KnownResourceStates.TerminalStates.Contains(update.Snapshot.State?.Text))
            {
                return;
            }
        }
    }
}
