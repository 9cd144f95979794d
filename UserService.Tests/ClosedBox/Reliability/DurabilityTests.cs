using System.Diagnostics;
using AppHost;
using Aspire.Hosting.ApplicationModel;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Reliability;

/// <summary>
/// Every write the service acknowledged survives a kill -9 of the store process. Runs alone, after the
/// parallel tests: a store that comes back is what is under test, not how it copes with a loaded machine.
/// </summary>
[Collection(Name)]
public sealed class DurabilityTests
{
    public const string Name = "Store crashes";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Engines.Local), MemberType = typeof(Engines))]
    public async Task AcknowledgedCreatesSurviveAKillOfTheStoreProcess(string engine)
    {
        Engines.RequireInstalled(engine);
        await using var host = await RunningAppHost.StartAsync(engine, cancellationToken: Cancellation);
        using var api = host.CreateApiClient();
        var load = WriteLoad.Start(8, host.CreateApiClient);

        // Kill the store in the middle of the writes, by its process id, as a crash would.
        await load.AcknowledgedAtLeastAsync(200, Timeout);
        var pid = await host.PidAsync(ResourceNames.Cache);
        Process.GetProcessById(pid).Kill();
        await host.App.ResourceNotifications.WaitForResourceAsync(ResourceNames.Cache, KnownResourceStates.TerminalStates, Cancellation).WaitAsync(Timeout, Cancellation);
        await load.StopAsync();

        await host.ExecuteCommandAsync(ResourceNames.Cache, KnownResourceCommands.StartCommand);
        try
        {
            await host.App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Cache, Cancellation).WaitAsync(Timeout, Cancellation);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var cacheLines = host.Logs.Lines.Where(line => line.StartsWith("[cache", StringComparison.Ordinal)).TakeLast(40);
            throw new InvalidOperationException("The store did not come back after the kill:\n" + string.Join("\n", cacheLines), exception);
        }

        var connectionString = await host.CacheConnectionStringAsync();
        var lost = await load.MissingAsync(api);

        Assert.True(load.Acknowledged.Count >= 200, $"Only {load.Acknowledged.Count} writes were acknowledged before the kill.");
        Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged users were lost: {string.Join(", ", lost.Take(20))}");

        // Redis replays a script's effects as one transaction; Garnet replays them one by one, so a write in
        // flight at the kill can come back in part. The service repairs that once it reconnects.
        var violations = await Eventually.MatchAsync(
            _ => StoreInvariants.ViolationsAsync(connectionString), found => found.Count == 0, TimeSpan.FromSeconds(10));
        Assert.Empty(violations);
    }
}

[CollectionDefinition(DurabilityTests.Name, DisableParallelization = true)]
public sealed class StoreCrashesCollection;
