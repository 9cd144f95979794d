using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>Checks <see cref="StoreRepairOptions"/>' validation attributes, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class StoreRepairOptionsValidator : IValidateOptions<StoreRepairOptions>;

/// <summary>How the repair after a store restart runs.</summary>
public sealed class StoreRepairOptions
{
    public const string SectionName = "Store:Repair";

    /// <summary>Repair once when this replica starts even if the record says this store run was repaired.</summary>
    public bool Force { get; set; }

    /// <summary>Entries examined per step, and so the most the repair holds at once.</summary>
    [Range(10, 10_000)]
    public int BatchSize { get; set; } = UserStore.DefaultRepairBatch;

    /// <summary>The pause after each step, which leaves the store to the requests.</summary>
    [TimeSpanRange("00:00:00", "00:00:10")]
    public TimeSpan Pause { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long the repairing replica's lease lasts without being renewed.</summary>
    [TimeSpanRange("00:00:01", "00:10:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Repairs the store once per store run. Half-written state comes only from a store that crashed and replayed
/// part of a script on its way back up, and a store that comes back up is a new run with a new run id. So
/// at start and whenever its connection comes back, each replica compares the store's run id with the
/// repair record: the same run, repaired, means nothing to do. Otherwise one replica takes the lease and
/// repairs, a batch at a time, keeping its position in the record so that a replica that takes over
/// continues rather than starts again; the others look again once the lease could have lapsed. Readers
/// already ignore what a repair removes, so the service serves throughout, and if it fails.
/// </summary>
internal sealed class StoreRepair(
    IConnectionMultiplexer redis, UserStore store, StoreLayoutGate gate, IOptions<StoreRepairOptions> options, UsersTelemetry telemetry, TimeProvider time, ILogger<StoreRepair> logger)
    : LeasedUpkeep(redis, StoreLayout.RepairLease, options.Value.Lease, time, logger)
{
    private bool forced = options.Value.Force;

    /// <summary>The store run, unless the record says it was repaired (or this replica was told to repair anyway).</summary>
    protected override async Task<string?> DueAsync(IDatabase database, CancellationToken stoppingToken)
    {
        // A store still being migrated is repaired once it holds the layout the repair knows.
        await gate.WaitAsync(stoppingToken);
        var run = await StoreRunAsync();
        var due = !await NothingToDoAsync(database, run);
        telemetry.RepairPending(due);
        return due ? run : null;
    }

    protected override async Task DoAsync(IDatabase database, string due, CancellationToken stoppingToken)
    {
        await RepairAsync(database, due, forced ? null : await PositionAsync(database, due), stoppingToken);
        forced = false;
        telemetry.RepairPending(false);
    }

    /// <summary>Whether the record says this store run was repaired (unless this replica was told to repair anyway); counts the check.</summary>
    private async Task<bool> NothingToDoAsync(IDatabase database, string run)
    {
        if (forced || (await PositionAsync(database, run))?.Phase != RepairPhase.Done)
        {
            return false;
        }

        await database.HashIncrementAsync(StoreLayout.Repair, "skipped");
        return true;
    }

    /// <summary>Where the record says a repair of <paramref name="run"/> got to; none for a record of another run.</summary>
    private static async Task<RepairPosition?> PositionAsync(IDatabase database, string run)
    {
        var record = await database.HashGetAsync(StoreLayout.Repair, ["run", "phase", "part", "cursor"]);
        return record[0] == run && Enum.TryParse<RepairPhase>(record[1], out var phase)
            ? new RepairPosition(phase, (int)record[2], (long)record[3])
            : null;
    }

    /// <summary>Repairs from where a cut-short repair of this run stopped (<paramref name="resume"/>), or from the start.</summary>
    private async Task RepairAsync(IDatabase database, string run, RepairPosition? resume, CancellationToken stoppingToken)
    {
        var from = resume ?? RepairPosition.Start;
        if (resume is null)
        {
            await database.HashSetAsync(StoreLayout.Repair, [new("run", run), new("phase", from.Phase.ToString()), new("part", 0), new("cursor", 0)]);
            await database.HashIncrementAsync(StoreLayout.Repair, "scans");
        }

        logger.RepairStarted(resume is null ? "begins" : $"continues in its {from.Phase} pass", run);
        long scanned = 0;
        var result = await store.RepairAsync(from, options.Value.BatchSize, async (position, entries, cancellationToken) =>
        {
            scanned += entries;
            await database.HashSetAsync(StoreLayout.Repair, [new("phase", position.Phase.ToString()), new("part", position.Part), new("cursor", position.Cursor)]);
            await database.HashIncrementAsync(StoreLayout.Repair, "scanned", entries);
            await KeepLeaseAsync(database);
            await Task.Delay(options.Value.Pause, Time, cancellationToken);
        }, stoppingToken);

        logger.RepairDone(run, scanned);
        if (result.Changed > 0)
        {
            logger.Repaired(result.Changed);
        }

        if (result.Quarantined > 0)
        {
            logger.Quarantined(result.Quarantined, "users:{bucket}:quarantine");
        }
    }

    /// <summary>
    /// The store process's run id, new each time it starts. A store that does not tell it gets a run of this
    /// replica's own: each replica then repairs once when it starts, as before there was a record.
    /// </summary>
    private async Task<string> StoreRunAsync()
    {
        // A cluster's run is its primaries' runs together: any of them coming back, or a replica promoted in
        // its place, is a new run, since a crash may have cut a script short on that node alone.
        var primaries = Redis.GetServers().Where(server => server.ServerType == ServerType.Cluster && server.IsConnected && !server.IsReplica)
            .OrderBy(server => server.EndPoint.ToString(), StringComparer.Ordinal).ToList();
        var runs = primaries.Count == 0
            ? [await StoreLayout.StoreRunAsync(Redis.GetDatabase())]
            : await Task.WhenAll(primaries.Select(StoreLayout.StoreRunAsync));
        return runs.Any(string.IsNullOrEmpty) ? $"unknown:{Lease.Owner}" : string.Join(',', runs);
    }
}
