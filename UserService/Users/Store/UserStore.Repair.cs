using StackExchange.Redis;

namespace UserService.Users.Store;

/// <summary>What a repair did: index entries it changed, and unreadable documents it moved to the quarantine.</summary>
public readonly record struct RepairResult(int Changed, int Quarantined)
{
    public static RepairResult operator +(RepairResult left, RepairResult right) =>
        new(left.Changed + right.Changed, left.Quarantined + right.Quarantined);
}

/// <summary>The repair's passes, in the order they run.</summary>
public enum RepairPhase
{
    Usernames,
    Emails,
    Documents,
    Order,
    Done,
}

/// <summary>Where a repair is: the pass, and the store's scan cursor within it (0: at its start).</summary>
public readonly record struct RepairPosition(RepairPhase Phase, long Cursor)
{
    public static readonly RepairPosition Start = new(RepairPhase.Usernames, 0);
}

public sealed partial class UserStore
{
    /// <summary>Entries the store is asked for in one step of a scan.</summary>
    public const int DefaultRepairBatch = 250;

    /// <summary>A whole repair at once, without pauses: what the tests of crash damage call.</summary>
    public Task<RepairResult> RepairAsync(CancellationToken cancellationToken) =>
        RepairAsync(RepairPosition.Start, DefaultRepairBatch, static (_, _, _) => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// Brings the indexes back in line with the documents, one batch at a time from <paramref name="from"/>,
    /// holding no more than a batch: first every index entry that points at no user, at an unreadable one or
    /// at one who does not point back is removed; then each document is read, an unreadable one goes to
    /// <see cref="StoreLayout.Quarantine"/>, and a readable one gets the entries it lacks; last, order
    /// entries without a document go. Each change is a conditional script, so writes that race the repair
    /// win, and it is safe while the service serves. After every batch <paramref name="afterBatch"/> is told
    /// where the repair is and how many entries the batch held: there it keeps the position, and pauses.
    /// </summary>
    public async Task<RepairResult> RepairAsync(
        RepairPosition from, int batch, Func<RepairPosition, int, CancellationToken, Task> afterBatch, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var result = new RepairResult();
        for (var position = from; position.Phase != RepairPhase.Done;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (key, scan) = position.Phase switch
            {
                RepairPhase.Usernames => (StoreLayout.ByUsername, "HSCAN"),
                RepairPhase.Emails => (StoreLayout.ByEmail, "HSCAN"),
                RepairPhase.Documents => (StoreLayout.Data, "HSCAN"),
                _ => (StoreLayout.Order, "ZSCAN"),
            };
            var page = (RedisResult[])(await database.ExecuteAsync(scan, key, position.Cursor, "COUNT", batch))!;
            var entries = (RedisValue[])page[1]!;
            result += position.Phase switch
            {
                RepairPhase.Usernames => await RepairClaimsAsync(database, StoreLayout.ByUsername, entries, static user => user.Username),
                RepairPhase.Emails => await RepairClaimsAsync(database, StoreLayout.ByEmail, entries, static user => user.Email),
                RepairPhase.Documents => await RepairDocumentsAsync(database, entries),
                _ => await RepairOrderAsync(database, entries),
            };

            var cursor = (long)page[0];
            position = cursor != 0 ? position with { Cursor = cursor } : new RepairPosition(position.Phase + 1, 0);
            await afterBatch(position, entries.Length / 2, cancellationToken);
        }

        return result;
    }

    /// <summary>Removes the entries among <paramref name="entries"/> (value, id pairs) whose user does not hold the value.</summary>
    private async Task<RepairResult> RepairClaimsAsync(IDatabase database, RedisKey index, RedisValue[] entries, Func<User, string> indexed)
    {
        var ids = Enumerable.Range(0, entries.Length / 2).Select(i => entries[2 * i + 1]).ToArray();
        var documents = ids.Length == 0 ? [] : await database.HashGetAsync(StoreLayout.Data, ids);
        var changed = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            var value = (string)entries[2 * i]!;
            var document = documents[i];
            if (!document.IsNull && TryRead((long)ids[i], document) is { } owner && IndexValue(indexed(owner)) == value)
            {
                continue;
            }

            var expected = document.IsNull ? RedisValue.EmptyString : document;
            changed += await ReconcileAsync(database, StoreLayout.ReconcileClaim, new { data = StoreLayout.Data, index, generation = StoreLayout.Generation, id = ids[i], value, expected, claim = 0 });
        }

        return new RepairResult(changed, 0);
    }

    /// <summary>
    /// Quarantines the unreadable documents among <paramref name="entries"/> (id, document pairs), and gives
    /// each readable one the username, email and order entries it lacks.
    /// </summary>
    private async Task<RepairResult> RepairDocumentsAsync(IDatabase database, RedisValue[] entries)
    {
        var users = new List<(long Id, RedisValue Document, User User)>(entries.Length / 2);
        var quarantined = 0;
        for (var i = 0; i + 1 < entries.Length; i += 2)
        {
            var id = (long)entries[i];
            if (TryRead(id, entries[i + 1]) is { } user)
            {
                users.Add((id, entries[i + 1], user));
                continue;
            }

            quarantined += await ReconcileAsync(database, StoreLayout.QuarantineDocument, new
            {
                data = StoreLayout.Data,
                order = StoreLayout.Order,
                quarantine = StoreLayout.Quarantine,
                generation = StoreLayout.Generation,
                id,
                expected = entries[i + 1],
            });
        }

        if (users.Count == 0)
        {
            return new RepairResult(0, quarantined);
        }

        var usernames = database.HashGetAsync(StoreLayout.ByUsername, [.. users.Select(u => (RedisValue)IndexValue(u.User.Username))]);
        var emails = database.HashGetAsync(StoreLayout.ByEmail, [.. users.Select(u => (RedisValue)IndexValue(u.User.Email))]);
        var listed = database.SortedSetScoresAsync(StoreLayout.Order, [.. users.Select(u => (RedisValue)u.Id)]);
        var (byUsername, byEmail, scores) = (await usernames, await emails, await listed);

        var changed = 0;
        for (var i = 0; i < users.Count; i++)
        {
            var (id, document, user) = users[i];
            // A value another user holds stays theirs: the index passes before this one left only entries
            // whose user holds the value.
            if (byUsername[i].IsNull)
            {
                changed += await ClaimAsync(database, StoreLayout.ByUsername, id, IndexValue(user.Username), document);
            }

            if (byEmail[i].IsNull)
            {
                changed += await ClaimAsync(database, StoreLayout.ByEmail, id, IndexValue(user.Email), document);
            }

            if (scores[i] is null)
            {
                changed += await ReconcileAsync(database, StoreLayout.ReconcileOrder, new { data = StoreLayout.Data, order = StoreLayout.Order, generation = StoreLayout.Generation, id });
            }
        }

        return new RepairResult(changed, quarantined);
    }

    /// <summary>Removes the order entries among <paramref name="entries"/> (id, score pairs) that have no document.</summary>
    private static async Task<RepairResult> RepairOrderAsync(IDatabase database, RedisValue[] entries)
    {
        var ids = Enumerable.Range(0, entries.Length / 2).Select(i => entries[2 * i]).ToArray();
        var exists = await Task.WhenAll(ids.Select(id => database.HashExistsAsync(StoreLayout.Data, id)));
        var changed = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!exists[i])
            {
                changed += await ReconcileAsync(database, StoreLayout.ReconcileOrder, new { data = StoreLayout.Data, order = StoreLayout.Order, generation = StoreLayout.Generation, id = ids[i] });
            }
        }

        return new RepairResult(changed, 0);
    }

    private static Task<int> ClaimAsync(IDatabase database, RedisKey index, long id, string value, RedisValue document) =>
        ReconcileAsync(database, StoreLayout.ReconcileClaim, new { data = StoreLayout.Data, index, generation = StoreLayout.Generation, id, value, expected = document, claim = 1 });

    private static async Task<int> ReconcileAsync(IDatabase database, LuaScript script, object parameters) =>
        (int)await database.ScriptEvaluateAsync(script, parameters);
}
