using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace UserService.Users;

/// <summary>
/// The service's own spans and instruments. Both go by the application's name, which the service
/// defaults subscribe to, so they reach the dashboard and the Prometheus endpoint with no further setup.
/// </summary>
public sealed class UsersTelemetry : IDisposable
{
    public const string Name = "UserService";

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private readonly ActivitySource activitySource = new(Name);
    private readonly Counter<long> created;
    private readonly Counter<long> updated;
    private readonly Counter<long> deleted;
    private readonly Counter<long> unreadable;
    private readonly Counter<long> unreplicated;
    private readonly Counter<long> breakerOpened;
    private readonly Counter<long> cacheLookups;
    private readonly Histogram<double> storeDuration;
    private int repairPending;

    public UsersTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        created = meter.CreateCounter<long>("userservice.users.created", "{user}", "Users created.");
        updated = meter.CreateCounter<long>("userservice.users.updated", "{user}", "Users replaced.");
        deleted = meter.CreateCounter<long>("userservice.users.deleted", "{user}", "Users deleted.");
        unreadable = meter.CreateCounter<long>(
            "userservice.store.unreadable_documents", "{document}", "Stored user documents that could not be read, each time one was met.");
        unreplicated = meter.CreateCounter<long>(
            "userservice.store.unreplicated_writes", "{write}", "Writes that fewer store replicas confirmed than acknowledging them needs: each answered 503.");
        breakerOpened = meter.CreateCounter<long>(
            "userservice.store.breaker.openings", "{opening}", "Times the store's circuit breaker opened: calls to the store failed at once until it closed.");
        cacheLookups = meter.CreateCounter<long>(
            "userservice.cache.lookups", "{lookup}", "Lookups of cached answers in the output cache, by result: hit or miss.");
        storeDuration = meter.CreateHistogram<double>(
            "userservice.store.operation.duration", "s", "Duration of user store operations, Redis round trips included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        meter.CreateObservableGauge(
            "userservice.store.repair.pending", () => Volatile.Read(ref repairPending), "{repair}",
            "1 while this replica knows the store's current run is not yet repaired, 0 once it found it repaired.");

        // Exported at 0 from the start: a series that appears with its first event at 1 is one that
        // increase() and rate() cannot see rise, so an alert on the first unreadable document would not fire.
        foreach (var counter in new[] { created, updated, deleted, unreadable, unreplicated, breakerOpened })
        {
            counter.Add(0);
        }

        cacheLookups.Add(0, Hit);
        cacheLookups.Add(0, Miss);
    }

    public void UserCreated() => created.Add(1);

    public void UserUpdated() => updated.Add(1);

    public void UserDeleted() => deleted.Add(1);

    public void UnreadableDocument() => unreadable.Add(1);

    public void ReplicationTimedOut() => unreplicated.Add(1);

    public void StoreBreakerOpened() => breakerOpened.Add(1);

    public void CacheLookup(bool hit) => cacheLookups.Add(1, hit ? Hit : Miss);

    /// <summary>Whether the repair this replica last looked for is still to be done.</summary>
    public void RepairPending(bool pending) => Volatile.Write(ref repairPending, pending ? 1 : 0);

    /// <summary>
    /// A client span named after the store operation, under the request's span, where the Redis client's
    /// own command spans nest when they are on. Disposing it records the operation's duration.
    /// </summary>
    public StoreOperation StartStoreOperation(string operation)
    {
        var activity = activitySource.StartActivity($"store {operation}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", operation);
        }

        return new(activity, storeDuration, operation);
    }

    public void Dispose() => activitySource.Dispose();

    public readonly struct StoreOperation(Activity? activity, Histogram<double> duration, string operation) : IDisposable
    {
        private readonly long started = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
            activity?.Dispose();
        }
    }
}
