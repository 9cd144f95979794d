using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using UserService.Infrastructure;

namespace UserService.Users.Store;

/// <summary>
/// Open once the store holds <see cref="StoreLayout"/>: until then every store call answers 503, and the
/// readiness check says not ready, so that nothing reads or writes a layout half moved.
/// </summary>
public sealed class StoreLayoutGate : IHealthCheck
{
    private readonly TaskCompletionSource opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsOpen => opened.Task.IsCompleted;

    public void Open() => opened.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => opened.Task.WaitAsync(cancellationToken);

    Task<HealthCheckResult> IHealthCheck.CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
        Task.FromResult(IsOpen ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The store's layout is not known to be current yet, or is being migrated."));
}

/// <summary>Checks <see cref="StoreMigrationOptions"/>' validation attributes, generated at build time rather than by reflection.</summary>
[OptionsValidator]
public sealed partial class StoreMigrationOptionsValidator : IValidateOptions<StoreMigrationOptions>;

/// <summary>How a store written by an earlier version is moved to the current layout.</summary>
public sealed class StoreMigrationOptions
{
    public const string SectionName = "Store:Migration";

    /// <summary>Users moved per step.</summary>
    [System.ComponentModel.DataAnnotations.Range(10, 10_000)]
    public int BatchSize { get; set; } = 250;

    /// <summary>The pause after each step.</summary>
    [TimeSpanRange("00:00:00", "00:00:10")]
    public TimeSpan Pause { get; set; } = TimeSpan.Zero;

    /// <summary>How long the migrating replica's lease lasts without being renewed.</summary>
    [TimeSpanRange("00:00:01", "00:10:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Brings the store to <see cref="StoreLayout"/> when the service starts. A new store is marked at once. A
/// store in <see cref="LegacyLayout"/> is moved by one replica under a lease, a batch at a time: each user
/// moves with its claims in one script that removes the old document last, so that a migration cut short
/// anywhere continues where it stopped when any replica starts again, and never moves a user twice. The
/// id counter and the idempotency records keep their keys and need no move. Until the store is marked, the service
/// serves nothing from it (<see cref="StoreLayoutGate"/>).
/// </summary>
internal sealed class StoreMigration(
    IConnectionMultiplexer redis, StoreLayoutGate gate, UserStore store, IOptions<StoreMigrationOptions> options, TimeProvider time, ILogger<StoreMigration> logger)
    : LeasedUpkeep(redis, StoreLayout.MigrationLease, options.Value.Lease, time, logger)
{
    /// <summary>How long start waits to learn that the store needs no migration, before it leaves that to the background.</summary>
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(5);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The usual case, a store already in the layout or a new one, opens before the first request.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(StartBound);
        try
        {
            await OpenIfCurrentAsync(Redis.GetDatabase()).WaitAsync(bounded.Token);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The store is away: the background run finds out once it answers.
        }

        await base.StartAsync(cancellationToken);
    }

    // A store that was away at start is looked at again the moment it is back, not at the next retry.
    protected override bool LooksAgainOnReconnect => !gate.IsOpen;

    protected override async Task<string?> DueAsync(IDatabase database, CancellationToken stoppingToken) =>
        await OpenIfCurrentAsync(database) ? null : StoreLayout.CurrentLayout;

    protected override async Task DoAsync(IDatabase database, string due, CancellationToken stoppingToken)
    {
        await MigrateAsync(database, stoppingToken);
        await database.StringSetAsync(StoreLayout.Layout, due);
        gate.Open();
    }

    /// <summary>Opens the gate if the store holds the current layout, marking a store with no users as holding it.</summary>
    private async Task<bool> OpenIfCurrentAsync(IDatabase database)
    {
        var layout = (string?)await database.StringGetAsync(StoreLayout.Layout);
        // One key at a time: on a cluster the old keys lie in different slots.
        if (layout is null && !(await Task.WhenAll(LegacyLayout.Keys.Select(key => database.KeyExistsAsync(key)))).Any(exists => exists))
        {
            await database.StringSetAsync(StoreLayout.Layout, StoreLayout.CurrentLayout, when: When.NotExists);
            layout = (string?)await database.StringGetAsync(StoreLayout.Layout);
        }

        if (layout is not null && layout != StoreLayout.CurrentLayout)
        {
            throw new InvalidOperationException($"The store holds users in layout '{layout}', which this version does not know.");
        }

        if (layout is null)
        {
            return false;
        }

        gate.Open();
        return true;
    }

    private async Task MigrateAsync(IDatabase database, CancellationToken stoppingToken)
    {
        var resumed = await database.KeyExistsAsync(StoreLayout.Migration);
        logger.MigrationStarted(StoreLayout.CurrentLayout, resumed ? "continues" : "begins");
        await database.HashIncrementAsync(StoreLayout.Migration, "runs");

        // Each move removes the old document, so a full scan that moved nothing means none is left.
        while (await database.HashLengthAsync(LegacyLayout.Data) > 0)
        {
            long cursor = 0;
            do
            {
                stoppingToken.ThrowIfCancellationRequested();
                var page = (RedisResult[])(await database.ExecuteAsync("HSCAN", LegacyLayout.Data, cursor, "COUNT", options.Value.BatchSize))!;
                cursor = (long)page[0];
                var entries = (RedisValue[])page[1]!;
                var (moved, quarantined) = await store.MoveLegacyUsersAsync(entries);
                await database.HashIncrementAsync(StoreLayout.Migration, "moved", moved);
                await database.HashIncrementAsync(StoreLayout.Migration, "quarantined", quarantined);
                await KeepLeaseAsync(database);
                await Task.Delay(options.Value.Pause, Time, stoppingToken);
            }
            while (cursor != 0);
        }

        await CountAsync(database);
        foreach (var entry in await database.HashGetAllAsync(LegacyLayout.Quarantine))
        {
            await database.HashSetAsync(StoreLayout.Quarantine(StoreLayout.BucketOf((long)entry.Name)), entry.Name, entry.Value);
        }

        // The old indexes hold nothing a moved user needs; the repair's record is of the old layout.
        await Task.WhenAll(LegacyLayout.Keys.Append(StoreLayout.Repair).Select(key => database.KeyDeleteAsync(key)));
        await database.StringSetAsync(StoreLayout.Generation, StoreLayout.NewGeneration());

        var counts = await database.HashGetAsync(StoreLayout.Migration, ["moved", "quarantined"]);
        logger.MigrationDone(StoreLayout.CurrentLayout, (long)counts[0], (long)counts[1]);
    }

    /// <summary>
    /// Replaces the counts kept as the batches went, which miss a batch whose replica stopped between its move
    /// and its count, with the buckets' own: nothing else writes them until the migration is done. Once only,
    /// before the old quarantine joins the buckets' (a migration that stops after it counts on the next run).
    /// </summary>
    private static async Task CountAsync(IDatabase database)
    {
        if (await database.HashExistsAsync(StoreLayout.Migration, "counted"))
        {
            return;
        }

        var buckets = Enumerable.Range(0, StoreLayout.Buckets).ToList();
        var moved = await Task.WhenAll(buckets.Select(bucket => database.HashLengthAsync(StoreLayout.Data(bucket))));
        var quarantined = await Task.WhenAll(buckets.Select(bucket => database.HashLengthAsync(StoreLayout.Quarantine(bucket))));
        await database.HashSetAsync(StoreLayout.Migration, [new("moved", moved.Sum()), new("quarantined", quarantined.Sum()), new("counted", 1)]);
    }
}
