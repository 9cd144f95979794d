using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// The repair scans the store once per store run, whatever the number of replicas and reconnects: a replica
/// that finds the run repaired scans nothing, replicas that start together repair once between them, and a
/// repair cut short continues where it stopped, and a replica says while it knows the repair is still to be
/// done (the metric an alert reads). Each replica is the service in process, on a database of
/// the test's own.
/// </summary>
public sealed class RepairOncePerStoreRunTests(GarnetStoreServer store)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ReplicaStartingOnARepairedUnchangedStoreScansNothing()
    {
        await using var factory = await DatabaseAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        await StoreSeed.SeedAsync(redis.GetDatabase(), users: 50);
        await using var first = Replica(factory);
        _ = first.Services;
        var repaired = await RecordAsync(redis, record => record.Phase == nameof(RepairPhase.Done));

        await using var second = Replica(factory);
        _ = second.Services;
        var checkedAgain = await RecordAsync(redis, record => record.Skipped >= 1);

        Assert.Equal(1, repaired.Scans);
        Assert.Equal(1, checkedAgain.Scans);
        Assert.Equal(repaired.Scanned, checkedAgain.Scanned);
    }

    [Fact]
    public async Task ReplicasStartingTogetherAfterAStoreRestartRepairItOnceBetweenThem()
    {
        await using var factory = await DatabaseAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        var database = redis.GetDatabase();
        await StoreSeed.SeedAsync(database, users: 200);
        // What the store holds after a restart: the record of a repair done in the run before this one.
        await database.HashSetAsync(StoreLayout.Repair, [new("run", "the-run-before"), new("phase", nameof(RepairPhase.Done)), new("cursor", 0), new("scans", 4)]);

        var replicas = Enumerable.Range(0, 3).Select(_ => Replica(factory, batch: 20, pause: TimeSpan.FromMilliseconds(5), lease: TimeSpan.FromSeconds(1))).ToList();
        await Task.WhenAll(replicas.Select(replica => Task.Run(() => replica.Services)));
        var settled = await RecordAsync(redis, record => record.Phase == nameof(RepairPhase.Done) && record.Run != "the-run-before" && record.Skipped >= 2);
        await Task.WhenAll(replicas.Select(replica => replica.DisposeAsync().AsTask()));

        Assert.Equal(5, settled.Scans);
    }

    [Fact]
    public async Task RepairCutShortContinuesFromItsCursorOnTheNextReplica()
    {
        const int Users = 400;
        await using var factory = await DatabaseAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        await StoreSeed.SeedAsync(redis.GetDatabase(), Users);
        var first = Replica(factory, batch: 10, pause: TimeSpan.FromMilliseconds(20), lease: TimeSpan.FromSeconds(1));
        _ = first.Services;
        var cutShort = await RecordAsync(redis, record => record.Phase is nameof(RepairPhase.Documents) or nameof(RepairPhase.Order));
        await first.DisposeAsync();

        await using var second = Replica(factory, batch: 10, pause: TimeSpan.Zero, lease: TimeSpan.FromSeconds(1));
        _ = second.Services;
        var done = await RecordAsync(redis, record => record.Phase == nameof(RepairPhase.Done));

        Assert.Equal(1, cutShort.Scans);
        Assert.Equal(1, done.Scans);
        // Four passes over the users, once each, give or take the entries a scan may return twice.
        Assert.InRange(done.Scanned, 4 * Users, 4 * Users * 5 / 4);
        await StoreInvariants.AssertConsistentAsync(factory.StoreConnectionString, repaired: true);
    }

    [Fact]
    public async Task RepairPendingMetricReadsOneWhileTheRepairRunsAndZeroOnceItIsDone()
    {
        await using var factory = await DatabaseAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(factory.StoreConnectionString);
        await StoreSeed.SeedAsync(redis.GetDatabase(), users: 400);
        await using var replica = Replica(factory, batch: 10, pause: TimeSpan.FromMilliseconds(20));
        var services = replica.Services;

        await RecordAsync(redis, record => record.Phase is nameof(RepairPhase.Documents) or nameof(RepairPhase.Order));
        var whileRunning = RepairPending(services);
        await RecordAsync(redis, record => record.Phase == nameof(RepairPhase.Done));
        var once = await Eventually.MatchAsync(_ => Task.FromResult(RepairPending(services)), pending => pending == 0, Bound);

        Assert.Equal(1, whileRunning);
        Assert.Equal(0, once);
    }

    /// <summary>What this replica's <c>userservice.store.repair.pending</c> reads now (meters of other services in the process left out).</summary>
    private static int RepairPending(IServiceProvider services)
    {
        var meters = services.GetRequiredService<IMeterFactory>();
        int? value = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, listening) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "userservice.store.repair.pending")
            {
                listening.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, _, _) => value = measurement);
        listener.Start();
        listener.RecordObservableInstruments();
        return value ?? throw new InvalidOperationException("The replica has no userservice.store.repair.pending gauge.");
    }

    private async Task<GarnetUserService> DatabaseAsync()
    {
        var factory = new GarnetUserService(store);
        await factory.InitializeAsync();
        return factory;
    }

    private static WebApplicationFactory<UserStore> Replica(GarnetUserService factory, int? batch = null, TimeSpan? pause = null, TimeSpan? lease = null) =>
        factory.WithWebHostBuilder(builder =>
        {
            if (batch is { } size)
            {
                builder.UseSetting("Store:Repair:BatchSize", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (pause is { } wait)
            {
                builder.UseSetting("Store:Repair:Pause", wait.ToString());
            }

            if (lease is { } held)
            {
                builder.UseSetting("Store:Repair:Lease", held.ToString());
            }
        });

    private static Task<RepairRecord> RecordAsync(ConnectionMultiplexer redis, Func<RepairRecord, bool> condition) =>
        Eventually.MatchAsync(async _ => RepairRecord.From(await redis.GetDatabase().HashGetAllAsync(StoreLayout.Repair)), condition, Bound);

    private sealed record RepairRecord(string? Run, string? Phase, long Scans, long Scanned, long Skipped)
    {
        public static RepairRecord From(HashEntry[] entries)
        {
            var fields = entries.ToDictionary(entry => (string)entry.Name!, entry => entry.Value);
            return new(
                fields.GetValueOrDefault("run"),
                fields.GetValueOrDefault("phase"),
                (long)fields.GetValueOrDefault("scans", 0),
                (long)fields.GetValueOrDefault("scanned", 0),
                (long)fields.GetValueOrDefault("skipped", 0));
        }
    }
}
