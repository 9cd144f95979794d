using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>What a repair did: index entries it changed, and unreadable documents it moved to the quarantine.</summary>
public readonly record struct RepairResult(int Changed, int Quarantined);

public sealed partial class UserStore
{
    /// <summary>
    /// Brings the indexes back in line with the documents: removes entries that point at no user or at a
    /// user who does not point back, and adds the ones a user lacks. Scans rather than blocking the store,
    /// and changes each entry with a conditional script, so it is safe while writes go on and on every
    /// replica at once. A document it cannot read goes to <see cref="StoreLayout.Quarantine"/> first, and its
    /// entries, which then point at no user, go with the others.
    /// </summary>
    public async Task<RepairResult> RepairAsync(CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var documents = new Dictionary<long, (RedisValue Json, User User)>();
        var quarantined = 0;
        await foreach (var entry in database.HashScanAsync(StoreLayout.Data).WithCancellation(cancellationToken))
        {
            var id = (long)entry.Name;
            if (TryRead(id, entry.Value) is { } user)
            {
                documents[id] = (entry.Value, user);
                continue;
            }

            quarantined += await ReconcileAsync(database, StoreLayout.QuarantineDocument, new
            {
                data = StoreLayout.Data,
                order = StoreLayout.Order,
                quarantine = StoreLayout.Quarantine,
                generation = StoreLayout.Generation,
                id,
                expected = entry.Value,
            });
        }

        var changed = 0;
        changed += await ReconcileIndexAsync(database, StoreLayout.ByUsername, documents, static user => user.Username, cancellationToken);
        changed += await ReconcileIndexAsync(database, StoreLayout.ByEmail, documents, static user => user.Email, cancellationToken);

        var ordered = new HashSet<long>();
        await foreach (var entry in database.SortedSetScanAsync(StoreLayout.Order).WithCancellation(cancellationToken))
        {
            ordered.Add((long)entry.Element);
        }

        foreach (var id in ordered.Except(documents.Keys).Concat(documents.Keys.Except(ordered)))
        {
            changed += await ReconcileAsync(database, StoreLayout.ReconcileOrder, new { data = StoreLayout.Data, order = StoreLayout.Order, generation = StoreLayout.Generation, id });
        }

        return new RepairResult(changed, quarantined);
    }

    private static async Task<int> ReconcileIndexAsync(
        IDatabase database,
        RedisKey index,
        Dictionary<long, (RedisValue Json, User User)> documents,
        Func<User, string> indexed,
        CancellationToken cancellationToken)
    {
        var changed = 0;
        var claimed = new HashSet<string>();
        await foreach (var entry in database.HashScanAsync(index).WithCancellation(cancellationToken))
        {
            var value = (string)entry.Name!;
            var id = (long)entry.Value;
            if (documents.TryGetValue(id, out var owner) && IndexValue(indexed(owner.User)) == value)
            {
                claimed.Add(value);
                continue;
            }

            var expected = owner.Json.IsNull ? RedisValue.EmptyString : owner.Json;
            changed += await ReconcileAsync(database, StoreLayout.ReconcileClaim, new { data = StoreLayout.Data, index, generation = StoreLayout.Generation, id, value, expected, claim = 0 });
        }

        foreach (var (id, (json, user)) in documents)
        {
            var value = IndexValue(indexed(user));
            if (!claimed.Contains(value))
            {
                changed += await ReconcileAsync(database, StoreLayout.ReconcileClaim, new { data = StoreLayout.Data, index, generation = StoreLayout.Generation, id, value, expected = json, claim = 1 });
            }
        }

        return changed;
    }

    private static async Task<int> ReconcileAsync(IDatabase database, LuaScript script, object parameters) =>
        (int)await database.ScriptEvaluateAsync(script, parameters);
}
